#!/usr/bin/env bash
# Installs the Debian 12 packages uredis needs that are missing, then configures build dirs.
#
#   scripts/setup.sh                  packages + every build configuration (gcc clang release)
#   scripts/setup.sh gcc clang        packages + only those configurations
#   scripts/setup.sh --packages-only  packages only
#
# Idempotent: asks dpkg first and calls apt-get (update + install) only when something is
# missing. Non-interactive. Runs as root, or through sudo when there is one.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

packages=(
  # Toolchains: GCC 12 is the default compiler, Clang 14 the second one and the fuzzing one.
  build-essential g++ clang clang-format
  # libFuzzer and the sanitizer runtimes for clang.
  libclang-rt-14-dev
  # Build system. cmake: Debian's mimalloc has no pkg-config file, Meson finds it through CMake.
  meson ninja-build pkg-config cmake
  # The library's dependencies (wolfSSL: TLS; libssl-dev: libcrypto, its records' AES-GCM).
  liburing-dev libmimalloc-dev libwolfssl-dev libssl-dev
  # Tests and benchmarks (hiredis: the benchmark's reference parser).
  libgtest-dev libgmock-dev libbenchmark-dev libhiredis-dev
  # Integration tests and the benchmark start private servers; the system service is unused.
  redis-server redis-tools
  # The TLS tests make their CA and certificates at run time; a TLS connection given no CA
  # trusts the system's store (tools_tls_cli checks that it does not know the test CA).
  openssl ca-certificates
  # The OCSP tests: a TLS terminator that staples, and a fake clock for a stale staple.
  haproxy faketime
  # The peer of the side-by-side figures (redis-py 4.3: scripts/batch_timing.sh).
  python3-redis
)

missing=()
for p in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]})); then
  uredis_log "installing missing packages: ${missing[*]}"
  sudo_cmd=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || uredis_die "not root and no sudo: install ${missing[*]}"
    sudo_cmd=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
else
  uredis_log "all ${#packages[@]} packages present"
fi

configs=("$@")
if ((${#configs[@]} == 0)); then
  configs=(gcc clang release)
elif [[ "${configs[0]}" == --packages-only ]]; then
  exit 0
fi
for c in "${configs[@]}"; do
  uredis_configure "$c"
done
