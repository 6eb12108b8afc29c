#!/usr/bin/env bash
# THE main job: sets up, builds the release configuration and runs it.
#
# That is uredis-bench with its default workload (redis-benchmark's: 50 connections, 100,000
# requests per test) against a private redis-server it starts on a free loopback port and stops.
# Extra arguments go to uredis-bench (e.g. `bash scripts/run.sh -q -P 16`).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$uredis_root"

bash scripts/setup.sh release
dir="$(uredis_build_dir release)"
ninja -C "$dir" -j "$uredis_jobs" tools/uredis-bench/uredis-bench

uredis_log "uredis-bench $* (a private redis-server)"
"$dir/tools/uredis-bench/uredis-bench" "$@"
