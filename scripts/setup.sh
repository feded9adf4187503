#!/usr/bin/env bash
# Installs what secretslite needs on a fresh Debian 12 / Node 20 machine (SoftHSM2, npm packages) and builds it;
# elsewhere, or without root or sudo, says how to install SoftHSM2 or point secretslite at a PKCS#11 library.
# Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# Where SoftHSM2's PKCS#11 library lives: Debian/Ubuntu (and their multiarch directory), Fedora/RHEL, Homebrew on
# Apple silicon and on Intel macs. src/crypto/softhsm-bootstrap.ts looks in the same places, in the same order.
softhsm_module() {
  local multiarch="" candidate
  multiarch="$(gcc -print-multiarch 2>/dev/null || dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || true)"
  for candidate in /usr/lib/softhsm/libsofthsm2.so ${multiarch:+/usr/lib/$multiarch/softhsm/libsofthsm2.so} \
    /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so /usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so \
    /usr/lib64/pkcs11/libsofthsm2.so /usr/lib64/softhsm/libsofthsm2.so \
    /opt/homebrew/lib/softhsm/libsofthsm2.so /usr/local/lib/softhsm/libsofthsm2.so; do
    if [ -e "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

# softhsm2 for the token (unless SECRETSLITE_PKCS11_MODULE names another PKCS#11 library that exists); for the
# test suite also the clients it drives: awscli (Debian's v2, /usr/bin/aws), python3-boto3 and python3-pytest (for
# /usr/bin/python3: examples/python runs under it), strace, and chromium (the console's browser tests).
# scripts/start.sh passes the server's arguments: a --pkcs11-module among them counts like the variable.
pkcs11_module="${SECRETSLITE_PKCS11_MODULE:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    --pkcs11-module) pkcs11_module="${2:-}"; shift ;;
    --pkcs11-module=*) pkcs11_module="${1#*=}" ;;
  esac
  shift
done
missing=()
if [ -n "$pkcs11_module" ] && [ -e "$pkcs11_module" ]; then
  :
elif ! command -v softhsm2-util >/dev/null 2>&1 || ! softhsm_module >/dev/null; then
  missing+=(softhsm2)
fi
if [ "${SECRETSLITE_SETUP_FOR:-}" = test ]; then
  [ -x /usr/bin/aws ] || missing+=(awscli)
  /usr/bin/python3 -c "import boto3" >/dev/null 2>&1 || missing+=(python3-boto3)
  /usr/bin/python3 -c "import pytest" >/dev/null 2>&1 || missing+=(python3-pytest)
  # docs/ci.md's workflow, which spec/docs/ci.spec.ts runs, waits on the health route with curl.
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  # The token crash tests kill secretslite at chosen writes with strace's syscall injection.
  command -v strace >/dev/null 2>&1 || missing+=(strace)
  # The console's browser tests (spec/console/browser.spec.ts) drive Debian's chromium through playwright-core.
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  # The PostgreSQL store's specs start throwaway clusters with Debian's binaries, which live under
  # /usr/lib/postgresql/<version>/bin (not on PATH). Only the binaries are used: the package's default cluster
  # (port 5432) is never started by the specs.
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
fi

# What to do when this script cannot install them itself: says how, for each system, and exits.
cannot_install() {
  {
    echo "secretslite setup: missing ${missing[*]}, and $1."
    echo "  Install them yourself (or ask an administrator):"
    echo "    Debian/Ubuntu:  sudo apt-get install ${missing[*]}"
    echo "    Fedora/RHEL:    sudo dnf install softhsm        (library: /usr/lib64/pkcs11/libsofthsm2.so)"
    echo "    macOS:          brew install softhsm            (library: \$(brew --prefix)/lib/softhsm/libsofthsm2.so)"
    if [[ " ${missing[*]} " == *" softhsm2 "* ]]; then
      echo "  Or use a PKCS#11 library you already have: npm start -- --pkcs11-module /path/to/libsofthsm2.so"
      echo "  (or SECRETSLITE_PKCS11_MODULE=FILE; a library other than SoftHSM2 also needs --token-label and --pin)."
    fi
  } >&2
  exit 1
}

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else cannot_install "this user is not root and has no sudo"; fi
  fi
  command -v apt-get >/dev/null 2>&1 || cannot_install "this is not a Debian system (no apt-get)"
  echo "secretslite setup: installing Debian's ${missing[*]}" >&2
  $SUDO apt-get update -qq
  if [[ " ${missing[*]} " == *" postgresql "* ]]; then
    # Installing `postgresql` would make and start a default cluster on port 5432; secretslite's specs need only
    # the binaries. postgresql-common first, told not to make one, then the rest.
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql-common >/dev/null
    $SUDO sed -i 's/^#\? *create_main_cluster *=.*/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Install when node_modules is missing or older than the lock file. `npm install` rather than `npm ci`:
# the lock pins every package, but registries that lack some other platform's optional binaries
# (@swc/core-darwin-*, say) leave them out of the lock, and `npm ci` refuses such a lock outright.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "secretslite setup: installing npm packages" >&2
  npm install --no-audit --no-fund --loglevel=error
fi

# Build only when dist/ is missing or older than src/ (scripts/build.js): a start after no change skips tsc.
node scripts/build.js
