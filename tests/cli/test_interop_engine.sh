#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The table's data files are plain Parquet that independent readers agree
# on: after writes, overwrites and deletes, DuckDB, parquet-wasm (arrow-rs)
# and hyparquet each read every SST of the table, and the live view they
# imply (newest _merutable_seq per key, deletes dropped) equals what
# `meru scan` returns — first from row-tuned L0 files holding every
# version, then from column-tuned files after `meru compact` (which must
# leave exactly one put row per live key).
set -euo pipefail

SRC=${MERU_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MERU=${MERU:-${MERU_BINARY_DIR:-$SRC/build/release}/meru}
IOP=$SRC/tests/interop
fail() { echo "interop engine: FAIL: $*" >&2; exit 1; }
command -v node >/dev/null || fail "node is not on PATH (bash scripts/install-deps.sh test)"
[ -f "$IOP/node_modules/@duckdb/node-api/package.json" ] || fail "run npm ci in tests/interop"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/meru-interop-engine.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
T=$TMP/table

"$MERU" create "$T" --schema "id int64 not null, name string, score double, day date, amount decimal(10,2), flag boolean" --primary-key id >/dev/null
node -e '
for (let i = 0; i < 3000; i++) {
  const d = new Date(Date.UTC(2026, 0, 1) + (i % 365) * 86400000).toISOString().slice(0, 10);
  console.log(JSON.stringify({id: i * 7 - 5000, name: "n" + i, score: i / 4, day: d,
                              amount: (i * 1.25).toFixed(2), flag: i % 2 === 0}));
}' > "$TMP/rows.jsonl"
"$MERU" put "$T" - < "$TMP/rows.jsonl" >/dev/null
"$MERU" flush "$T" >/dev/null
# Overwrite every 5th row, delete every 7th (some overwritten ones too).
node -e '
for (let i = 0; i < 3000; i += 5) console.log(JSON.stringify({id: i * 7 - 5000, name: "over" + i}));' |
  "$MERU" put "$T" - >/dev/null
node -e 'for (let i = 0; i < 3000; i += 7) console.log(JSON.stringify([i * 7 - 5000]));' |
  "$MERU" delete "$T" - >/dev/null
"$MERU" flush "$T" >/dev/null

check() { # $1: stage name
  "$MERU" scan "$T" --format jsonl > "$TMP/scan.jsonl"
  node "$IOP/live_rows.mjs" --meru "$TMP/scan.jsonl" > "$TMP/want.txt"
  [ "$(wc -l < "$TMP/want.txt")" -eq 3000 ] && fail "$1: deletes missing from the scan"
  for reader in duckdb parquet-wasm hyparquet; do
    rm -rf "$TMP/out"; mkdir -p "$TMP/out"
    node "$IOP/read_parquet.mjs" "$reader" --out-dir "$TMP/out" "$T"/data/L*/*.parquet ||
      fail "$1: $reader could not read the files: $(cat "$TMP"/out/*.err 2>/dev/null | head -3)"
    node "$IOP/live_rows.mjs" "$TMP"/out/*.jsonl > "$TMP/got.txt"
    diff -q "$TMP/want.txt" "$TMP/got.txt" >/dev/null ||
      { diff "$TMP/want.txt" "$TMP/got.txt" | head -5; fail "$1: $reader's live view differs from meru scan"; }
  done
}

check "L0 files"
"$MERU" compact "$T" >/dev/null
[ -z "$(ls "$T"/data/L0/ 2>/dev/null)" ] || fail "L0 not empty after compact"
check "after compact"
# Compacted files hold exactly one put row per live key.
rows=0
for f in "$T"/data/L*/*.parquet; do
  c=$(node "$IOP/read_parquet.mjs" duckdb "$f" | grep -c '"_merutable_op":1' || true)
  d=$(node "$IOP/read_parquet.mjs" duckdb "$f" | grep -c '"_merutable_op":0' || true)
  [ "$d" -eq 0 ] || fail "a delete row survived meru compact in $f"
  rows=$((rows + c))
done
[ "$rows" -eq "$(wc -l < "$TMP/want.txt")" ] || fail "compacted files hold $rows rows, want $(wc -l < "$TMP/want.txt")"
echo "1 passed, 0 failed"
