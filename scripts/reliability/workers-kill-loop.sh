#!/usr/bin/env bash
# `--workers 3` on PostgreSQL under SIGKILL: FIRSTS first starts (fresh data dir and database, default 10) killed at a
# random instant of their first 1.5 s, then KILLS starts (default 20) of one data dir killed at a random instant of
# start-up or of the writes after it, each followed by a start that must come up with the one token (never
# re-created, its root key matching the store's canary) and every acknowledged write. Starts a throwaway PostgreSQL.
# Needs dist/ (npm run build), SoftHSM2 and PostgreSQL (SECRETSLITE_SETUP_FOR=test scripts/setup.sh).
# Usage: scripts/reliability/workers-kill-loop.sh [KILLS] [FIRSTS]
set -euo pipefail
cd "$(dirname "$0")/../.."
exec node scripts/reliability/workers-kill.js "${1:-20}" "${2:-10}"
