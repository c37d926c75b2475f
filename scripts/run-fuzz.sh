#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every fuzz target in BUILD_DIR for SECONDS each, seeded from its
# committed corpus (fuzz/corpus/<target>/). New inputs go to a scratch copy,
# so the repository's corpus only changes when someone commits it.
set -euo pipefail
build=${1:?build dir}; secs=${2:-20}
root=$(cd "$(dirname "$0")/.." && pwd)
status=0
for bin in "$build"/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  scratch=$(mktemp -d)
  [ -d "$root/fuzz/corpus/$name" ] && cp -r "$root/fuzz/corpus/$name/." "$scratch/"
  echo "fuzz: $name for ${secs}s ($(ls "$scratch" | wc -l) seeds)"
  if ! "$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
       -artifact_prefix="$build/$name-" "$scratch" > "$build/$name.log" 2>&1; then
    echo "fuzz: $name FAILED"; tail -40 "$build/$name.log"; status=1
  fi
  rm -rf "$scratch"
done
exit $status
