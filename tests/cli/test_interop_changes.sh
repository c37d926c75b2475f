#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The change feed's changelog files are plain Parquet that independent
# readers agree on: after inserts, overwrites and deletes (of present and
# absent keys) and flushes, DuckDB, parquet-wasm (arrow-rs) and hyparquet
# each read every changes/*.parquet file, and the changes they list
# (_seq, _op, the key, the new and the before_ columns) equal what
# `meru changes --format csv` prints.
set -euo pipefail

SRC=${MERU_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MERU=${MERU:-${MERU_BINARY_DIR:-$SRC/build/release}/meru}
IOP=$SRC/tests/interop
fail() { echo "interop changes: FAIL: $*" >&2; exit 1; }
command -v node >/dev/null || fail "node is not on PATH (bash scripts/install-deps.sh test)"
[ -f "$IOP/node_modules/@duckdb/node-api/package.json" ] || fail "run npm ci in tests/interop"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/meru-interop-changes.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
T=$TMP/table

"$MERU" create "$T" --schema "id int64 not null, name string, score double" --primary-key id >/dev/null
node -e 'for (let i = 0; i < 500; i++) console.log(JSON.stringify({id: i, name: "n" + i, score: i / 4}));' |
  "$MERU" put "$T" - >/dev/null
node -e 'for (let i = 0; i < 500; i += 3) console.log(JSON.stringify({id: i, name: "o" + i, score: null}));' |
  "$MERU" put "$T" - >/dev/null
node -e 'for (let i = 0; i < 600; i += 7) console.log(JSON.stringify([i]));' |
  "$MERU" delete "$T" - >/dev/null
ls "$T"/changes/*.parquet >/dev/null || fail "no changelog files"

# The feed as canonical lines: seq op id name score before_name before_score.
"$MERU" changes "$T" --format jsonl |
  node -e '
const rl = require("readline").createInterface({input: process.stdin});
const v = (x) => x === undefined || x === null ? "null" : String(x);
rl.on("line", (l) => { const c = JSON.parse(l); const r = c.row || {}, b = c.before || {};
  console.log([c.seq, c.op, (c.row || c.before).id, v(c.row && r.name), v(c.row && r.score),
               v(c.before && b.name), v(c.before && b.score)].join(" ")); });' > "$TMP/want"
[ "$(wc -l < "$TMP/want")" -gt 600 ] || fail "too few changes: $(wc -l < "$TMP/want")"

for reader in duckdb parquet-wasm hyparquet; do
  for f in "$T"/changes/*.parquet; do
    node "$IOP/read_parquet.mjs" "$reader" "$f" --columns _seq,_op,id,name,score,before_name,before_score
  done | node -e '
const rl = require("readline").createInterface({input: process.stdin});
const v = (x) => x === null ? "null" : String(x);
rl.on("line", (l) => { const c = JSON.parse(l);
  console.log([c._seq, c._op, c.id, v(c.name), v(c.score), v(c.before_name), v(c.before_score)].join(" ")); });' |
    sort -n > "$TMP/got.$reader"
  diff "$TMP/want" "$TMP/got.$reader" > "$TMP/diff" || fail "$reader differs: $(head -5 "$TMP/diff")"
done
echo "interop changes: OK ($(wc -l < "$TMP/want") changes, 3 readers)"
