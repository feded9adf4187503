#!/usr/bin/env bash
# Installs what secretslite needs on a fresh Debian 12 / Node 20 machine (SoftHSM2, npm packages) and builds it.
# Idempotent and quick when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

# softhsm2 for the token; for the test suite also the clients it drives: awscli (Debian's v2,
# /usr/bin/aws), python3-boto3 and python3-pytest (for /usr/bin/python3: examples/python runs under it), and strace.
missing=()
if ! command -v softhsm2-util >/dev/null 2>&1 || [ ! -e /usr/lib/softhsm/libsofthsm2.so ]; then missing+=(softhsm2); fi
if [ "${SECRETSLITE_SETUP_FOR:-}" = test ]; then
  [ -x /usr/bin/aws ] || missing+=(awscli)
  /usr/bin/python3 -c "import boto3" >/dev/null 2>&1 || missing+=(python3-boto3)
  /usr/bin/python3 -c "import pytest" >/dev/null 2>&1 || missing+=(python3-pytest)
  # docs/ci.md's workflow, which spec/docs/ci.spec.ts runs, waits on the health route with curl.
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  # The token crash tests kill secretslite at chosen writes with strace's syscall injection.
  command -v strace >/dev/null 2>&1 || missing+=(strace)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "secretslite setup: installing Debian's ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Install when node_modules is missing or older than the lock file. `npm install` rather than `npm ci`:
# the lock pins every package, but registries that lack some other platform's optional binaries
# (@swc/core-darwin-*, say) leave them out of the lock, and `npm ci` refuses such a lock outright.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "secretslite setup: installing npm packages" >&2
  npm install --no-audit --no-fund --loglevel=error
fi

npm run --silent build
