#!/usr/bin/env bash
# SIGKILLs secretslite at random instants of start-up, KILLS times (default 100), and checks every key and secret
# after each kill: first starts on an empty dir, first starts of the token on a dir whose LevelDB exists, then
# starts of a dir holding data. Then the strace sweeps (every write of the token's files, of a first start, of a
# restart). Prints the figures docs/reliability.md quotes. Needs dist/ (npm run build), SoftHSM2 and strace.
# Usage: scripts/reliability/token-kill-loop.sh [KILLS]
set -euo pipefail
cd "$(dirname "$0")/../.."
kills="${1:-100}"
status=0
node scripts/reliability/token-crash.js kill-loop token-kill-loop --kills "$kills" || status=1
node scripts/reliability/token-crash.js token-files double token-creation first-start restart || status=1
exit "$status"
