#!/usr/bin/env bash
# Idempotent set-up of everything `make test` and `make demo` need, from the package registries only:
#   1. .venv with the pinned Python packages (requirements.txt) and this package in editable mode
#   2. node_modules from package-lock.json (ganache 7.9.2, solc-js 0.8.24, OpenZeppelin 5.0.2)
#   3. the pinned Solidity compiler for py-solc-x/brownie (native download, else the solc-js stand-in)
#   4. brownie's network definitions (network-config.yaml)
#   5. slither (static analysis) in .venv-slither
#   6. the reference age CLI (Debian package), used by the interoperability tests
#   7. a Kubo (IPFS) daemon: `ipfs` on PATH if recent enough, else built with Go into .tools/bin
#   8. Chromium (Debian package), the browser the web page's tests drive with Playwright
#   9. the web page's bundle (web/ -> datalicense/webpage, package data) built by Vite from the pinned npm packages
#  10. the contracts compiled (brownie compile) and exported into the package (datalicense/artifacts: ABI and
#      bytecode that `datalicense up` deploys); Kubo and Ganache linked into .venv/bin, where the package
#      looks for them (it never looks in the checkout, so an installed wheel behaves the same)
# Each step is skipped when its inputs have not changed since it last succeeded (stamps in .tools/stamps).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
STAMPS="$ROOT/.tools/stamps"
mkdir -p "$STAMPS" "$ROOT/.tools/bin"

SOLC_VERSION="$(sed -n 's/^ *version: *\([0-9][0-9.]*\) *$/\1/p' brownie-config.yaml | head -n1)"
[[ "$SOLC_VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { printf '[setup] ERROR: no compiler version in brownie-config.yaml\n' >&2; exit 1; }
KUBO_VERSION="v0.43.1"
KUBO_MIN_MINOR=28     # oldest Kubo whose RPC this project is tested against (0.28: /object removed)

say() { printf '[setup] %s\n' "$*"; }
fail() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }
fresh() { # fresh NAME INPUT... : true when the stamp NAME matches the hash of the inputs
  local sum; sum="$(cat "${@:2}" 2>/dev/null | sha256sum | cut -c1-64)"
  [[ -f "$STAMPS/$1" && "$(cat "$STAMPS/$1")" == "$sum" ]]
}
stamp() { cat "${@:2}" 2>/dev/null | sha256sum | cut -c1-64 > "$STAMPS/$1"; }
shquote() { # shquote STRING: STRING as one POSIX sh word in single quotes (any character, newlines included)
  printf "'%s'" "${1//\'/\'\\\'\'}"
}
write_solc_standin() { # write_solc_standin OUT ROOT VERSION: a sh script running ROOT/tools/solc-shim.js
  # Paths are written quoted, so a project folder with spaces, quotes, $ or ` in its name stays one word and
  # is never evaluated; the comment names no path. VERSION is digits and dots (checked by the caller).
  {
    printf '#!/bin/sh\n'
    printf '# solc %s from npm solc-js, standing in for the native binary (written by tools/setup.sh)\n' "$3"
    printf 'exec node %s "$@"\n' "$(shquote "$2/tools/solc-shim.js")"
  } > "$1"
  chmod +x "$1"
}

command -v python3.11 >/dev/null || command -v python3 >/dev/null || fail "Python 3.11 is required"
command -v node >/dev/null || fail "Node.js 20 is required (https://nodejs.org)"

# 1. Python
if ! fresh venv requirements.txt pyproject.toml || [[ ! -x .venv/bin/python ]]; then
  say "creating .venv with pinned Python packages"
  PY="$(command -v python3.11 || command -v python3)"
  [[ -x .venv/bin/python ]] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --disable-pip-version-check -r requirements.txt
  .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e .
  stamp venv requirements.txt pyproject.toml
fi

# 2. Node tools
if ! fresh npm package-lock.json || [[ ! -x node_modules/.bin/ganache ]]; then
  say "installing node tools (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  stamp npm package-lock.json
fi

# 3. Solidity compiler
SOLCX_DIR="${SOLCX_BINARY_PATH:-$HOME/.solcx}"
SOLC_BIN="$SOLCX_DIR/solc-v$SOLC_VERSION"
if ! { [[ -x "$SOLC_BIN" ]] && "$SOLC_BIN" --version 2>/dev/null | grep -q "Version: $SOLC_VERSION+commit"; }; then
  mkdir -p "$SOLCX_DIR"
  say "installing solc $SOLC_VERSION (trying the native download first)"
  if timeout 60 .venv/bin/python -c "import solcx,sys; solcx.install_solc('$SOLC_VERSION', show_progress=False)" >/dev/null 2>&1 \
     && "$SOLC_BIN" --version 2>/dev/null | grep -q "Version: $SOLC_VERSION+commit"; then
    say "native solc $SOLC_VERSION installed"
  else
    node -e "const v=require('solc').version(); if(!v.startsWith('$SOLC_VERSION+')){console.error('npm solc is '+v); process.exit(1)}" \
      || fail "npm solc does not match the pinned compiler $SOLC_VERSION: fix package.json"
    say "native download unavailable: using solc-js $SOLC_VERSION as $SOLC_BIN"
    write_solc_standin "$SOLC_BIN" "$ROOT" "$SOLC_VERSION"
    "$SOLC_BIN" --version | grep -q "Version: $SOLC_VERSION+commit" || fail "solc stand-in does not run"
  fi
fi

# 4. Brownie networks
if ! fresh networks network-config.yaml || ! grep -q "rsk-fork" "$HOME/.brownie/network-config.yaml" 2>/dev/null; then
  say "importing brownie networks from network-config.yaml"
  # `brownie networks import FILE True` is refused by brownie 1.22's compiled CLI (it passes the string
  # "True" to a bool parameter), so call the same function directly.
  .venv/bin/python -c "from brownie._cli.networks import _import; _import('network-config.yaml', True)"
  stamp networks network-config.yaml
fi

# 5. Slither, in its own virtualenv (its dependencies differ from brownie's pins)
if ! fresh slither requirements-slither.txt || [[ ! -x .venv-slither/bin/slither ]]; then
  say "installing slither (static analysis)"
  PY="$(command -v python3.11 || command -v python3)"
  [[ -x .venv-slither/bin/python ]] || "$PY" -m venv .venv-slither
  .venv-slither/bin/python -m pip install -q --disable-pip-version-check -r requirements-slither.txt
  stamp slither requirements-slither.txt
fi

# 6. The reference age CLI (tests check that it decrypts what the project encrypts)
if ! command -v age >/dev/null; then
  say "installing the age CLI (Debian package age)"
  if command -v apt-get >/dev/null && [[ "$(id -u)" == 0 ]]; then
    (apt-get install -y -qq age >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq age >/dev/null 2>&1; }) \
      || fail "could not install the age CLI with apt-get: install it (https://age-encryption.org) and re-run"
  else
    fail "the age CLI is needed by the tests: install it (apt install age, brew install age) and re-run"
  fi
fi

# 7. Kubo
kubo_ok() { # kubo_ok BIN: true when BIN is a Kubo of at least 0.$KUBO_MIN_MINOR
  local v; v="$("$1" version 2>/dev/null | sed -n 's/^ipfs version 0\.\([0-9]*\)\..*/\1/p')"
  [[ -n "$v" && "$v" -ge "$KUBO_MIN_MINOR" ]]
}
if ! kubo_ok .tools/bin/ipfs; then
  if command -v ipfs >/dev/null && kubo_ok "$(command -v ipfs)"; then
    ln -sf "$(command -v ipfs)" .tools/bin/ipfs
    say "using installed Kubo: $(ipfs version)"
  elif command -v go >/dev/null; then
    say "building Kubo $KUBO_VERSION with Go (first time only, a few minutes)"
    (cd tools/kubo && GOFLAGS=-mod=readonly go build -trimpath -o "$ROOT/.tools/bin/ipfs" github.com/ipfs/kubo/cmd/ipfs) \
      || fail "building Kubo failed; install Kubo >= 0.$KUBO_MIN_MINOR (https://docs.ipfs.tech/install/) and put 'ipfs' on PATH"
    kubo_ok .tools/bin/ipfs || fail "the built Kubo does not run"
  else
    fail "no Kubo found: install Kubo >= 0.$KUBO_MIN_MINOR and put 'ipfs' on PATH, or install Go so setup can build it"
  fi
fi
# 8. Chromium for the web page's browser tests (test tools cannot download browsers here; Debian's can)
if ! command -v chromium >/dev/null && [[ ! -x "${DATALICENSE_CHROMIUM:-/usr/bin/chromium}" ]]; then
  say "installing Chromium (Debian package chromium), for the web page's browser tests"
  if command -v apt-get >/dev/null && [[ "$(id -u)" == 0 ]]; then
    (apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; }) \
      || fail "could not install Chromium with apt-get: install it (apt install chromium) or set DATALICENSE_CHROMIUM"
  else
    fail "the browser tests need Chromium: apt install chromium (or set DATALICENSE_CHROMIUM to a Chromium binary) and re-run"
  fi
fi

# 9. The web page's bundle
WEB_INPUTS=(package-lock.json web/index.html web/vite.config.mjs web/src/*)
if ! fresh web "${WEB_INPUTS[@]}" || [[ ! -f datalicense/webpage/index.html ]]; then
  say "building the web page (Vite)"
  tools/web-build.sh
  stamp web "${WEB_INPUTS[@]}"
fi

# 10. The contracts, compiled and exported into the package; the project's tools where the package finds them
mapfile -t SOL_INPUTS < <(find contracts interfaces -type f -name '*.sol' | LC_ALL=C sort)
SOL_INPUTS+=(brownie-config.yaml package-lock.json scripts/export_abi.py)
if ! fresh contracts "${SOL_INPUTS[@]}" || [[ ! -f datalicense/artifacts/DataLicense.json ]]; then
  say "compiling the contracts and exporting them into the package (datalicense/artifacts)"
  .venv/bin/brownie compile >/dev/null || fail "brownie compile failed: run it to see why"
  .venv/bin/python scripts/export_abi.py artifacts >/dev/null
  stamp contracts "${SOL_INPUTS[@]}"
fi
ln -sfn "$ROOT/.tools/bin/ipfs" .venv/bin/ipfs
ln -sfn "$ROOT/node_modules/.bin/ganache" .venv/bin/ganache
say "ready"
