#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `meru parquet inspect|cat`: output, options, exit codes (0 ok, 1 failed,
# 2 usage, as every verb), the tool's one number format (integers of every
# width as JSON integers, shortest round-trip doubles), and `cat
# --canonical` agreeing byte for byte with DuckDB's canonical reading of the
# same corpus files.
set -euo pipefail
D="$MERU_SHARED_DIR/parquet-testing/data"
fails=0; passes=0
ok() { passes=$((passes+1)); }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }

out=$("$MERU" parquet inspect "$D/alltypes_plain.parquet")
grep -q "rows: 8" <<<"$out" && grep -q "10 timestamp_col: INT96" <<<"$out" \
  && grep -q "encodings: RLE PLAIN_DICTIONARY PLAIN" <<<"$out" && ok || bad "inspect alltypes_plain"

out=$("$MERU" parquet cat "$D/alltypes_plain.parquet" --columns id,bool_col --limit 3)
want='{"id":4,"bool_col":true}
{"id":5,"bool_col":false}
{"id":6,"bool_col":true}'
[ "$out" = "$want" ] && ok || bad "cat --columns --limit: got $out"
# int64 as integers, doubles shortest (10.1, 0), short options and --x=y.
out=$("$MERU" parquet cat "$D/alltypes_plain.parquet" -c bigint_col,double_col --limit=2)
want='{"bigint_col":0,"double_col":0}
{"bigint_col":10,"double_col":10.1}'
[ "$out" = "$want" ] && ok || bad "cat number format: got $out"
out=$("$MERU" parquet cat "$D/alltypes_plain.parquet" -c bigint_col -n 1 --canonical)
[ "$out" = '{"bigint_col":"0"}' ] && ok || bad "cat --canonical int64: got $out"

set +e
"$MERU" parquet cat /nonexistent.parquet 2>/dev/null; [ $? -eq 1 ] && ok || bad "missing file exit code"
err=$("$MERU" parquet cat "$D/nested_lists.snappy.parquet" 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] && grep -q "nested schemas are not supported" <<<"$err" && ok || bad "nested file: rc=$rc $err"
err=$("$MERU" parquet cat "$D/datapage_v1-corrupt-checksum.parquet" 2>&1 >/dev/null); rc=$?
[ $rc -eq 1 ] && grep -qi "crc" <<<"$err" && ok || bad "corrupt checksum: rc=$rc $err"
"$MERU" parquet cat "$D/alltypes_plain.parquet" --columns nope >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "unknown column not a usage error"
"$MERU" parquet cat "$D/alltypes_plain.parquet" --limit x >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "bad --limit not a usage error"
"$MERU" parquet frobnicate >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "unknown subcommand"
"$MERU" parquet inspect >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "inspect without FILE"
"$MERU" parquet inspect "$D/alltypes_plain.parquet" --limit 2 >/dev/null 2>&1; [ $? -eq 2 ] && ok || bad "inspect --limit accepted"
"$MERU" parquet --help | grep -q -- "--canonical" && ok || bad "parquet --help"
set -e

# Agreement with an independent reader (DuckDB via npm).
I="$MERU_SOURCE_DIR/tests/interop"
if [ ! -d "$I/node_modules" ]; then
  echo "FAIL: $I/node_modules missing: run 'bash scripts/install-deps.sh test'"; exit 1
fi
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
files=(alltypes_plain.parquet alltypes_dictionary.parquet int32_decimal.parquet
       fixed_length_decimal.parquet byte_array_decimal.parquet delta_byte_array.parquet
       delta_length_byte_array.parquet data_index_bloom_encoding_stats.parquet
       rle_boolean_encoding.parquet binary.parquet int64_decimal.parquet)
paths=()
for f in "${files[@]}"; do [ -f "$D/$f" ] && paths+=("$D/$f"); done
node "$I/read_parquet.mjs" duckdb --out-dir "$tmp/duck" "${paths[@]}" >/dev/null
for p in "${paths[@]}"; do
  f=$(basename "$p")
  ref=$(ls "$tmp/duck/$f"* 2>/dev/null | head -1)
  [ -n "$ref" ] || { bad "duckdb produced no output for $f"; continue; }
  "$MERU" parquet cat "$p" --canonical > "$tmp/meru-$f.jsonl"
  if cmp -s "$ref" "$tmp/meru-$f.jsonl"; then ok; else
    bad "meru parquet cat $f differs from DuckDB"; diff "$ref" "$tmp/meru-$f.jsonl" | head -5; fi
done
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
