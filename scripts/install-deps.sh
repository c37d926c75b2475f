#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what merutable needs on Debian 12 (run as root, or with sudo on
# PATH), in tiers, each including the ones it needs:
#
#   scripts/install-deps.sh [build]  the library and the meru tool: compiler,
#                                    cmake, pkg-config and the -dev packages
#                                    the library links (make demo, make
#                                    install, make release)
#   scripts/install-deps.sh python   build + the CPython headers (make python)
#   scripts/install-deps.sh test     build + python + what the tests use:
#                                    clang and its runtime (fuzzing, TSan),
#                                    jq, the sqlite3 shell, node/npm and the
#                                    npm interop readers (`npm ci` in
#                                    tests/interop)
#   scripts/install-deps.sh bench    build + the benchmark peers (RocksDB,
#                                    LevelDB, LMDB, SQLite)
#   scripts/install-deps.sh all      everything (CI)
#
# Idempotent: installs only what is missing, and contacts the npm registry
# only in the test tier, only when tests/interop/node_modules is missing or
# older than its lock file. (--npm and --bench are the older spellings of
# test and bench.)
set -euo pipefail

BUILD_PKGS=(build-essential cmake pkg-config
            libjansson-dev libzstd-dev libsnappy-dev liblz4-dev zlib1g-dev
            libdeflate-dev
            libxxhash-dev libbrotli-dev libroaring-dev libsqlite3-dev)
PYTHON_PKGS=(python3 python3-dev)
# python3: the Python module's tests, and node-gyp building the npm
# `roaring` addon from source.
TEST_PKGS=(clang libclang-rt-14-dev sqlite3 jq nodejs npm "${PYTHON_PKGS[@]}")
BENCH_PKGS=(librocksdb-dev libleveldb-dev libsqlite3-dev liblmdb-dev)

want_python=0
want_test=0
want_bench=0
for arg in "$@"; do
  case "$arg" in
    build) ;;
    python) want_python=1 ;;
    test|--npm) want_test=1 ;;
    bench|--bench) want_bench=1 ;;
    all) want_test=1; want_bench=1 ;;
    *) echo "install-deps: unknown tier '$arg' (build, python, test, bench, all)" >&2; exit 2 ;;
  esac
done

PKGS=("${BUILD_PKGS[@]}")
[ "$want_python" = 1 ] && PKGS+=("${PYTHON_PKGS[@]}")
[ "$want_test" = 1 ] && PKGS+=("${TEST_PKGS[@]}")
[ "$want_bench" = 1 ] && PKGS+=("${BENCH_PKGS[@]}")

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
# node/npm may come from outside Debian (already on PATH): accept that.
if [ "$want_test" = 1 ] && command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]+"${missing[@]}"}"; do
    case "$p" in nodejs|npm) ;; *) filtered+=("$p") ;; esac
  done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi

if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "install-deps: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "$want_test" = 1 ] && [ -f "$(dirname "$0")/../tests/interop/package-lock.json" ]; then
  cd "$(dirname "$0")/../tests/interop"
  # A link to another checkout's node_modules (a worktree sharing one
  # install) is left alone: npm ci would empty the directory it points to.
  if [ -L node_modules ]; then
    echo "install-deps: tests/interop/node_modules is a link; not running npm ci"
  elif [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    echo "install-deps: npm ci in tests/interop"
    npm ci --no-audit --no-fund --loglevel=error
    touch node_modules
  fi
fi
