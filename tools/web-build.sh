#!/usr/bin/env bash
# Build the web page (web/ -> datalicense/webpage, package data) with Vite from the pinned npm packages; offline, about two seconds.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -x node_modules/.bin/vite ]] || { printf '[web] ERROR: node_modules has no vite: run `npm ci` (or make setup)\n' >&2; exit 1; }
node_modules/.bin/vite build --config web/vite.config.mjs
test -s datalicense/webpage/index.html || { printf '[web] ERROR: the build wrote no datalicense/webpage/index.html\n' >&2; exit 1; }
