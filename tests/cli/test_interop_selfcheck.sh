#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Self-check of the interop harness (tests/interop): the three independent
# Parquet readers must print byte-identical canonical rows for every file
# below, and selfcheck.mjs then checks those rows, parquet_meta.mjs and avsc
# against oracles that do not come from the harness (parquet-testing's
# *_expect.csv files, documented contents, hand-checked fixture rows).
# Only when this passes can a C test trust a diff of the readers' outputs
# for a file merutable wrote.
#
# Run by ctest with MERU_SOURCE_DIR and MERU_SHARED_DIR set; by hand:
#   MERU_SHARED_DIR=../shared bash tests/cli/test_interop_selfcheck.sh
# Needs node and `npm ci` in tests/interop (bash scripts/install-deps.sh test).
set -euo pipefail

SRC=${MERU_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
SHARED=${MERU_SHARED_DIR:-$SRC/../shared}
IOP=$SRC/tests/interop
DATA=$SHARED/parquet-testing/data

fail() { echo "interop selfcheck: FAIL: $*" >&2; exit 1; }

command -v node >/dev/null || fail "node is not on PATH: run 'bash scripts/install-deps.sh test'"
for m in @duckdb/node-api parquet-wasm apache-arrow hyparquet hyparquet-compressors avsc; do
  [ -f "$IOP/node_modules/$m/package.json" ] ||
    fail "$IOP/node_modules/$m is missing: run 'bash scripts/install-deps.sh test' (npm ci in tests/interop)"
done
[ -d "$DATA" ] || fail "no parquet-testing data at $DATA (set MERU_SHARED_DIR)"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/meru-interop.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
start=$(date +%s)

# Flat-schema files of parquet-testing; "file -reader" leaves a reader out.
# Left out of the list entirely: nested schemas (the harness is flat-only,
# as merutable is); int96_from_spark.parquet (instants beyond the int64
# nanosecond range: all three readers print different wrong values);
# nation.dict-malformed.parquet and the *corrupt-checksum* files (negative
# tests: no reader here verifies page CRCs, and DuckDB accepts the malformed
# dictionary that the other two reject); overflow_i16_page_cnt.parquet (only
# slow: 40000 one-row pages take DuckDB ~1.5 s).
PT_FILES=(
  alltypes_plain.parquet
  alltypes_plain.snappy.parquet
  alltypes_dictionary.parquet
  alltypes_tiny_pages.parquet
  alltypes_tiny_pages_plain.parquet
  binary.parquet
  binary_truncated_min_max.parquet
  byte_array_decimal.parquet
  byte_stream_split.zstd.parquet
  # DuckDB 1.5: "BYTE_STREAM_SPLIT encoding is only supported for FLOAT or DOUBLE data".
  "byte_stream_split_extended.gzip.parquet -duckdb"
  column_chunk_key_value_metadata.parquet
  concatenated_gzip_members.parquet
  data_index_bloom_encoding_stats.parquet
  data_index_bloom_encoding_with_length.parquet
  datapage_v1-snappy-compressed-checksum.parquet
  datapage_v1-uncompressed-checksum.parquet
  # hyparquet 1.31: "invalid snappy length header" on a v2 page with no values.
  "datapage_v2_empty_datapage.snappy.parquet -hyparquet"
  delta_binary_packed.parquet
  delta_byte_array.parquet
  delta_encoding_optional_column.parquet
  delta_encoding_required_column.parquet
  delta_length_byte_array.parquet
  # arrow-rs: "Expected list element type of I64 but got I16" (its Thrift
  # decoder is stricter than the others about a list in this footer).
  "dict-page-offset-zero.parquet -parquet-wasm"
  fixed_length_byte_array.parquet
  fixed_length_decimal.parquet
  fixed_length_decimal_legacy.parquet
  float16_nonzeros_and_nans.parquet
  float16_zeros_and_nans.parquet
  floating_orders_nan_count.parquet
  # DuckDB has no LZ4 (Hadoop-framed, deprecated) codec, only LZ4_RAW.
  "hadoop_lz4_compressed.parquet -duckdb"
  "hadoop_lz4_compressed_larger.parquet -duckdb"
  "non_hadoop_lz4_compressed.parquet -duckdb"
  int32_decimal.parquet
  int32_with_null_pages.parquet
  int64_decimal.parquet
  lz4_raw_compressed.parquet
  lz4_raw_compressed_larger.parquet
  nan_in_stats.parquet
  page_v2_empty_compressed.parquet
  plain-dict-uncompressed-checksum.parquet
  rle-dict-snappy-checksum.parquet
  rle_boolean_encoding.parquet
  single_nan.parquet
  sort_columns.parquet
  unknown-logical-type.parquet
)

# Typed edge values written by DuckDB and by arrow-rs (make_fixtures.mjs).
mkdir -p "$TMP/fixtures"
node "$IOP/make_fixtures.mjs" "$TMP/fixtures" > "$TMP/fixtures/list.txt" 2> "$TMP/fixtures.err" ||
  { cat "$TMP/fixtures.err" >&2; fail "make_fixtures.mjs failed"; }
ENTRIES=()
for e in "${PT_FILES[@]}"; do ENTRIES+=("$DATA/$e"); done
while read -r p; do
  case "$(basename "$p")" in
    # DuckDB's PARQUET_VERSION v2 writer packs INT32 DELTA_BINARY_PACKED
    # miniblocks with bit width 33 when deltas overflow int32; arrow-rs
    # rejects that ("Invalid delta bit width 33").
    duckdb_types_snappy_v2.parquet) ENTRIES+=("$p -parquet-wasm") ;;
    *) ENTRIES+=("$p") ;;
  esac
done < "$TMP/fixtures/list.txt"

READERS=(duckdb parquet-wasm hyparquet)
files_for() {  # files the reader $1 must read
  local e
  for e in "${ENTRIES[@]}"; do
    case " $e " in *" -$1 "*) ;; *) echo "${e%% *}" ;; esac
  done
}

# One process per reader, two at a time at most (the machine has 2 cores).
# A reader's exit status is 0, or 1 when some file failed (its .err says
# which); anything else is a crash.
declare -A pid_of=()
running=()
reap() {
  local r=$1 rc=0
  wait "${pid_of[$r]}" || rc=$?
  echo "$rc" > "$TMP/$r.rc"
}
for r in "${READERS[@]}"; do
  mapfile -t files < <(files_for "$r")
  node "$IOP/read_parquet.mjs" "$r" --out-dir "$TMP/out/$r" "${files[@]}" > "$TMP/$r.log" 2>&1 &
  pid_of[$r]=$!
  running+=("$r")
  if [ ${#running[@]} -ge 2 ]; then reap "${running[0]}"; running=("${running[@]:1}"); fi
done
for r in "${running[@]}"; do reap "$r"; done

passed=0
failed=0
note() { echo "$1"; if [ "${1%% *}" = ok ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi; }

for r in "${READERS[@]}"; do
  rc=$(cat "$TMP/$r.rc")
  if [ "$rc" -gt 1 ]; then note "not ok - $r crashed (exit $rc): $(tail -5 "$TMP/$r.log" | tr '\n' ' ')"; fi
done

for e in "${ENTRIES[@]}"; do
  f=${e%% *}
  b=$(basename "$f")
  readers=()
  for r in "${READERS[@]}"; do
    case " $e " in *" -$r "*) ;; *) readers+=("$r") ;; esac
  done
  bad=""
  for r in "${readers[@]}"; do
    if [ -f "$TMP/out/$r/$b.err" ]; then bad+=" $(cat "$TMP/out/$r/$b.err")"; fi
    [ -f "$TMP/out/$r/$b.jsonl" ] || bad+=" $r wrote no output;"
  done
  if [ -z "$bad" ]; then
    ref=${readers[0]}
    for r in "${readers[@]:1}"; do
      if ! cmp -s "$TMP/out/$ref/$b.jsonl" "$TMP/out/$r/$b.jsonl"; then
        diff "$TMP/out/$ref/$b.jsonl" "$TMP/out/$r/$b.jsonl" > "$TMP/diff.txt" || true
        bad+=" $ref and $r differ: $(head -4 "$TMP/diff.txt" | cut -c1-300 | tr '\n' ' ')"
      fi
    done
  fi
  rows=$(wc -l < "$TMP/out/${readers[0]}/$b.jsonl" 2>/dev/null || echo "?")
  if [ -z "$bad" ]; then
    note "ok - $b: ${readers[*]} agree on $rows rows"
  else
    note "not ok - $b:$bad"
  fi
done

# Column selection and order, and failures on a damaged file, in every reader.
head -c -200 "$DATA/alltypes_plain.parquet" > "$TMP/truncated.parquet"  # cuts into the footer
for r in "${READERS[@]}"; do
  node "$IOP/read_parquet.mjs" "$r" "$DATA/alltypes_plain.parquet" --columns string_col,id > "$TMP/cols.txt" 2>&1 || true
  got=$(head -2 "$TMP/cols.txt" | tr '\n' ' ')
  want='{"string_col":"hex:30","id":4} {"string_col":"hex:31","id":5} '
  if [ "$got" = "$want" ]; then note "ok - $r: --columns selects and orders"; else note "not ok - $r: --columns gave $got"; fi
  if node "$IOP/read_parquet.mjs" "$r" "$TMP/truncated.parquet" > /dev/null 2>&1; then
    note "not ok - $r: a truncated file read without error"
  else
    note "ok - $r: a truncated file is an error"
  fi
done

echo "interop readers: $passed passed, $failed failed"
node "$IOP/selfcheck.mjs" "$DATA" "$TMP/fixtures" "$TMP/out" || failed=$((failed + 1))
echo "interop selfcheck finished in $(( $(date +%s) - start ))s"
[ "$failed" -eq 0 ] || fail "$failed check(s) failed"
