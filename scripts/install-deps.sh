#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what merutable needs on Debian 12 (run as root, or with sudo on
# PATH). Idempotent: does nothing when every package is already present.
#   scripts/install-deps.sh          build + test dependencies
#   scripts/install-deps.sh --bench  also the benchmark peers
#   scripts/install-deps.sh --npm    also the npm interop readers (tests/interop)
set -euo pipefail

PKGS=(build-essential cmake pkg-config clang libclang-rt-14-dev
      libjansson-dev libzstd-dev libsnappy-dev liblz4-dev zlib1g-dev
      libxxhash-dev libbrotli-dev libroaring-dev libavro-dev libsqlite3-dev
      python3-dev sqlite3)
BENCH_PKGS=(librocksdb-dev libleveldb-dev libsqlite3-dev liblmdb-dev)
want_npm=0
for arg in "$@"; do
  case "$arg" in
    --bench) PKGS+=("${BENCH_PKGS[@]}") ;;
    # python3: node-gyp builds the `roaring` addon from source.
    --npm) want_npm=1; PKGS+=(nodejs npm python3) ;;
    *) echo "install-deps: unknown option $arg" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
# node/npm may come from outside Debian (already on PATH): accept that.
if [ "$want_npm" = 1 ] && command -v node >/dev/null && command -v npm >/dev/null; then
  filtered=()
  for p in "${missing[@]}"; do
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

if [ "$want_npm" = 1 ] && [ -f "$(dirname "$0")/../tests/interop/package-lock.json" ]; then
  cd "$(dirname "$0")/../tests/interop"
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    echo "install-deps: npm ci in tests/interop"
    npm ci --no-audit --no-fund --loglevel=error
    touch node_modules
  fi
fi
