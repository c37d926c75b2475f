#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The long soak (not in CI): writers, readers and compaction on one table,
# checked continuously against a model, killed with SIGKILL at random
# moments, reopened and checked after every kill (tests/soak/meru_soak.c).
#
#   scripts/soak.sh [CYCLES] [BUILD]      defaults: 1000 cycles, release
#
# BUILD is a CMake build flavour the Makefile knows (release or asan). The
# table, its side log and the output go under $SOAK_DIR (default a fresh
# temp directory), which is removed on success. Extra arguments for
# meru_soak (--writers, --readers, --max-ms, --seed) go in $SOAK_ARGS.
# Runs at the lowest priority: the machine stays usable.
set -euo pipefail
cd "$(dirname "$0")/.."
cycles=${1:-1000}
flavour=${2:-release}
case "$flavour" in
  release) make release >/dev/null ;;
  asan) make debug-asan >/dev/null ;;
  *) echo "soak.sh: BUILD must be release or asan" >&2; exit 2 ;;
esac
bin="build/$flavour/meru_soak"
[ -x "$bin" ] || { echo "soak.sh: $bin was not built" >&2; exit 1; }
dir=${SOAK_DIR:-$(mktemp -d)}
mkdir -p "$dir"
echo "soak: $cycles cycles with $bin in $dir (commit $(git rev-parse --short HEAD))"
start=$(date +%s)
set +e
# shellcheck disable=SC2086
nice -n 19 "$bin" "$dir/table" --cycles "$cycles" ${SOAK_ARGS:-} 2>&1 |
  tee "$dir/soak.out"
status=${PIPESTATUS[0]}
set -e
echo "soak: exit $status after $(( $(date +%s) - start )) s"
if [ "$status" -eq 0 ] && [ -z "${SOAK_DIR:-}" ]; then
  rm -rf "$dir"
else
  echo "soak: the table and its log are kept in $dir"
fi
exit "$status"
