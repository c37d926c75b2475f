#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The Iceberg view at every commit, checked the way a user would: after
# every step of a randomized workload (puts, overwrites, deletes,
# re-inserts, flush, compaction, reopen, add-column; single and composite
# keys; format v3 and v2) an independent Iceberg reader (tests/interop/iceberg_read.mjs:
# avsc + hyparquet + roaring, following metadata -> snapshot -> manifest
# list -> manifests -> data files minus deletes) returns exactly the rows of
# `meru scan`, and `meru verify` agrees (our own readers). Then the export:
# a copy read after the source is deleted. Bounded: a few hundred keys.
# Format v2 tables are also read by icebird (npm, a third-party Iceberg
# reader: v1/v2 with position deletes, no deletion vectors), through
# tests/interop/icebird_read.mjs, and must give the same rows.
set -euo pipefail

SRC=${MERU_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MERU=${MERU:-${MERU_BINARY_DIR:-$SRC/build/release}/meru}
IOP=$SRC/tests/interop
fail() { echo "iceberg view: FAIL: $*" >&2; exit 1; }
command -v node >/dev/null || fail "node is not on PATH (bash scripts/install-deps.sh --npm)"
[ -f "$IOP/node_modules/avsc/package.json" ] && [ -f "$IOP/node_modules/icebird/package.json" ] ||
  fail "run npm ci in tests/interop"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
SEED=${MERU_TEST_SEED:-$RANDOM}
echo "seed $SEED (set MERU_TEST_SEED to replay)"
RANDOM=$SEED
steps=0
icebird_checks=0

check() { # table, step name, format version
  local T=$1
  "$MERU" scan "$T" --format jsonl > "$TMP/scan.jsonl" || fail "$2: scan"
  node "$IOP/iceberg_read.mjs" "$T" --expect "$TMP/scan.jsonl" 2> "$TMP/err.txt" ||
    fail "$2: the Iceberg view differs from meru scan (or the reader failed): $(head -c 3000 "$TMP/err.txt")"
  if [ "${3:-}" = 2 ]; then
    node "$IOP/icebird_read.mjs" "$T" --expect "$TMP/scan.jsonl" 2> "$TMP/err.txt" ||
      fail "$2: icebird's rows differ from meru scan (or it failed): $(head -c 3000 "$TMP/err.txt")"
    icebird_checks=$((icebird_checks + 1))
  fi
  "$MERU" verify "$T" > "$TMP/verify.txt" 2>&1 || fail "$2: verify: $(cat "$TMP/verify.txt")"
  grep -q "Iceberg view: .* OK" "$TMP/verify.txt" || fail "$2: verify did not check the view"
  steps=$((steps + 1))
}

workload() { # table, schema, key, version, rows-json-maker, column to add
  local T=$1 schema=$2 pk=$3 ver=$4 mk=$5 addcol=$6
  "$MERU" create "$T" --schema "$schema" --primary-key "$pk" --iceberg-format-version "$ver" >/dev/null
  for round in 1 2 3 4 5 6 7 8; do
    if [ "$round" = 5 ]; then
      # A new schema: files written before lack the column (an Iceberg
      # reader fills its initial-default, else null), later rows store
      # its write default.
      "$MERU" add-column "$T" "$addcol" >/dev/null || fail "v$ver add-column"
      check "$T" "v$ver after add-column" "$ver"
    fi
    local n=$((RANDOM % 120 + 20)) base=$((RANDOM % 300))
    awk -v n="$n" -v base="$base" -v r="$round" "$mk" | "$MERU" put "$T" - >/dev/null
    case $((RANDOM % 4)) in
      0) "$MERU" flush "$T" >/dev/null ;;
      1) awk -v n=15 -v base=$((RANDOM % 300)) -v r=del "$mk" | "$MERU" delete "$T" - >/dev/null
         "$MERU" flush "$T" >/dev/null ;;
      2) "$MERU" flush "$T" >/dev/null; "$MERU" compact "$T" >/dev/null ;;
      3) : ;; # rows only in the WAL: the view is the last commit's
    esac
    "$MERU" flush "$T" >/dev/null
    check "$T" "v$ver round $round" "$ver"
  done
  "$MERU" compact "$T" >/dev/null
  check "$T" "v$ver final compaction" "$ver"
}

# Row makers (awk: a node start per round would dominate the test's time).
# rows: id int64, name string, score double; r = "del" prints key arrays
SINGLE='BEGIN { for (i = 0; i < n; i++) { id = (base + i * 7) % 400;
  if (r == "del") printf "[%d]\n", id;
  else printf "{\"id\":%d,\"name\":\"r%s-%d\",\"score\":%.17g}\n", id, r, id, id / 4 + r } }'
COMPOSITE='BEGIN { for (i = 0; i < n; i++) { a = (base + i) % 37; b = "k" ((base * 3 + i) % 11);
  if (r == "del") printf "[%d,\"%s\"]\n", a, b;
  else if (i % 5 == 0) printf "{\"a\":%d,\"b\":\"%s\",\"v\":null}\n", a, b;
  else printf "{\"a\":%d,\"b\":\"%s\",\"v\":%d}\n", a, b, r * 1000 + i } }'

workload "$TMP/s3" "id int64 not null, name string, score double" id 3 "$SINGLE" "extra int64 not null default 5"
workload "$TMP/s2" "id int64 not null, name string, score double" id 2 "$SINGLE" "extra string"
workload "$TMP/c3" "a int32 not null, b string not null, v int64" a,b 3 "$COMPOSITE" "w double default 1.5"
for T in s3 s2 c3; do
  m=$(cat "$TMP/$T/metadata/version-hint.text")
  jq -e '.["current-snapshot-id"] as $c | .["current-schema-id"] == 1 and
         ([.snapshots[] | select(.["snapshot-id"] == $c) | .["schema-id"]] == [1])' \
    "$TMP/$T/metadata/v$m.metadata.json" >/dev/null || fail "$T: the current snapshot is not on the added column's schema"
done
grep -q '"format-version": 2' "$TMP"/s2/metadata/v*.metadata.json || fail "v2 table metadata"
if grep -q 'next-row-id\|first-row-id' "$TMP"/s2/metadata/v*.metadata.json; then
  fail "v3 fields in v2 metadata"
fi
ls "$TMP"/s2/data/dv/*-deletes.parquet >/dev/null 2>&1 || ls "$TMP"/s2/data/dv >/dev/null 2>&1 || true

# Export, then the source goes.
"$MERU" scan "$TMP/s3" --format jsonl > "$TMP/final.jsonl"
"$MERU" export-iceberg "$TMP/s3" "$TMP/exp" >/dev/null || fail "export"
"$MERU" export-iceberg "$TMP/s3" "$TMP/exp" >/dev/null 2>&1 && fail "export into a non-empty dir"
rm -rf "$TMP/s3"
node "$IOP/iceberg_read.mjs" --meru "$TMP/final.jsonl" > "$TMP/want.txt"
node "$IOP/iceberg_read.mjs" "$TMP/exp" > "$TMP/got.txt" || fail "reading the export"
cmp -s "$TMP/want.txt" "$TMP/got.txt" || fail "the export differs from the source's scan"
if grep -rq "$TMP/s3" "$TMP"/exp/metadata/*.json; then fail "the export names the source"; fi
[ "$icebird_checks" -ge 10 ] || fail "icebird read only $icebird_checks v2 steps"
echo "iceberg view: $steps steps checked ($icebird_checks also by icebird), export OK"
echo "1 passed, 0 failed"
