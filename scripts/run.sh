#!/usr/bin/env bash
# THE main job: sets up, builds the release configuration and runs it.
#
# For now that is `uredis-cli --decode` on a sample of replies of every kind (tests/data/
# sample.resp), printed like `redis-cli --no-raw` would. The benchmark tool against a private
# redis-server takes its place once the reactor lands.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$uredis_root"

bash scripts/setup.sh release
dir="$(uredis_build_dir release)"
ninja -C "$dir" -j "$uredis_jobs" tools/uredis-cli/uredis-cli

uredis_log "uredis-cli --decode < tests/data/sample.resp"
"$dir/tools/uredis-cli/uredis-cli" --decode <tests/data/sample.resp
