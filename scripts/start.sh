#!/usr/bin/env bash
# Sets up (SoftHSM2, npm packages, a build when dist/ is older than src/) and starts secretslite; extra arguments
# go to the CLI. `exec` (here and in package.json's "start"), so that npm's child is node itself and the SIGTERM
# npm passes on when killed (`npm start & … kill $!`) stops the server instead of leaving it running.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh "$@"
exec node bin/secretslite.js "$@"
