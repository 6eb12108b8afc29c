# shellcheck shell=bash
# Shared by the scripts in this directory (sourced, never run). Knows where the repository is,
# which build directories exist and how each one is configured, so every script agrees.
#
# Build configurations (directory = "${UREDIS_BUILD_PREFIX:-build}-<name>", at the repo root):
#   gcc      g++,     debugoptimized, -Dwerror=true   (the main test build)
#   clang    clang++, debugoptimized, -Dwerror=true, ASan + UBSan (the second compiler, and
#            every test under the sanitizers); no benchmarks (timing under ASan means nothing,
#            and gcc and release build them)
#   release  g++,     release                         (the main job: tools and benchmarks)
# Set UREDIS_BUILD_PREFIX to keep several sets apart (e.g. UREDIS_BUILD_PREFIX=build-mine).

uredis_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export UREDIS_BUILD_PREFIX="${UREDIS_BUILD_PREFIX:-build}"

# Two cores on CI and on the developers' machines; override with UREDIS_JOBS.
export UREDIS_JOBS="${UREDIS_JOBS:-2}"
# shellcheck disable=SC2034 # used by the scripts that source this file
uredis_jobs="$UREDIS_JOBS"

uredis_log() { printf '==> %s\n' "$*"; }
uredis_die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# The build directory of a configuration name.
uredis_build_dir() { printf '%s/%s-%s\n' "$uredis_root" "$UREDIS_BUILD_PREFIX" "$1"; }

# Configures (or re-checks) one build directory. Idempotent: an existing directory keeps its
# object files; it is only wiped when it was made by another compiler or is unusable.
uredis_configure() {
  local name="$1" dir cxx cc compiler_id rule
  local -a opts
  dir="$(uredis_build_dir "$name")"
  case "$name" in
    gcc) cxx=g++ cc=gcc compiler_id=gcc opts=(-Dbuildtype=debugoptimized -Dwerror=true) ;;
    clang) cxx=clang++ cc=clang compiler_id=clang opts=(-Dbuildtype=debugoptimized -Dwerror=true -Db_sanitize=address,undefined -Dbench=disabled) ;;
    release) cxx=g++ cc=gcc compiler_id=gcc opts=(-Dbuildtype=release) ;;
    *) uredis_die "unknown build configuration '$name' (gcc, clang, release)" ;;
  esac

  if [[ -f "$dir/meson-private/coredata.dat" && -f "$dir/build.ninja" ]]; then
    # Meson cannot change the compiler of a configured directory: start again if it differs.
    # (Meson 1.0's introspection does not name the compiler; the generated rule does.)
    rule="$(grep -A1 '^rule cpp_COMPILER' "$dir/build.ninja" | sed -n 's/^ command = //p')"
    if [[ " ${rule%% \$ARGS*} " == *" $cxx "* ]]; then # the compiler, maybe after ccache
      # Reconfigure only when an option differs: `meson configure` makes ninja regenerate.
      local o same=1
      for o in "${opts[@]}"; do
        o="${o#-D}"
        grep -qxF "${o%%=*} = ${o#*=}" "$dir/meson-private/cmd_line.txt" 2>/dev/null || same=0
      done
      if ((same)) || meson configure "$dir" "${opts[@]}" >/dev/null; then
        uredis_log "build dir $(basename "$dir") ready ($compiler_id ${opts[*]})"
        return 0
      fi
    fi
    uredis_log "build dir $(basename "$dir") is stale: wiping it"
    rm -rf "$dir"
  elif [[ -e "$dir" ]]; then
    rm -rf "$dir"
  fi
  uredis_log "configuring $(basename "$dir") ($compiler_id ${opts[*]})"
  CXX="$cxx" CC="$cc" meson setup "$dir" "$uredis_root" "${opts[@]}"
}
