//go:build tools

// Package kubo pins the Kubo (IPFS) daemon the project builds when no `ipfs` is installed.
package kubo

import _ "github.com/ipfs/kubo/cmd/ipfs"
