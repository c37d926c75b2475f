#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The meru tool's command line as a whole: getopt_long parsing (--x=y,
# short options, grouped flags, options after positionals, negative numbers
# as values), "did you mean" for verbs and options, `meru help VERB`, one
# number format, tables aligned by display width (CJK), describe,
# create --property and --iceberg-format-version, set-property, the
# settling load, exit codes.
set -euo pipefail
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/harness.bash"
M="$MERU"; T="$tmp/t"

expect 0 "create with properties" "$M" create "$T" -s "id int64 not null, name string, score double" \
  -k id --property owner=tests -p write.parquet.compression-codec=snappy
expect 0 "put" "$M" put "$T" '{"id":-5,"name":"ab","score":1e21}' \
  '{"id":1,"name":"日本語","score":100}' '{"id":2,"name":"x","score":0.1}' \
  '{"id":3,"name":"y","score":123456}'

# ---- option syntax ---------------------------------------------------------
expect 0 "--limit=2" "$M" scan "$T" --limit=2
[ "$(wc -l <<<"$out")" -eq 2 ] && ok || bad "--limit=2 printed: $out"
expect 0 "-n 1 -r" "$M" scan "$T" -n 1 -r
same "-n 1 -r" '{"id":3,"name":"y","score":123456}'
expect 0 "grouped -rn1" "$M" scan "$T" -rn1
same "grouped -rn1" '{"id":3,"name":"y","score":123456}'
expect 0 "options before DIR" "$M" scan --columns=id -n 1 "$T"
same "options before DIR" '{"id":-5}'
expect 0 "negative key without --" "$M" get "$T" -5
same "negative key" '{"id":-5,"name":"ab","score":1e+21}'
expect 0 "--from=-5 --to 1" "$M" count "$T" --from=-5 --to 1
same "count range" "2"
expect 0 "--from -5" "$M" count "$T" --from -5
same "count --from -5" "4"
expect 0 "abbreviated --rev" "$M" scan "$T" --rev -n1 --col id
same "abbreviated" '{"id":3}'
expect 2 "--limit=-1" "$M" scan "$T" --limit=-1
expect 2 "--limit without value" "$M" scan "$T" --limit
grep -q "needs a value" <<<"$err" && ok || bad "missing value message: $err"

# ---- did you mean, help -----------------------------------------------------
expect 2 "mistyped verb" "$M" sacn "$T"
grep -q "did you mean 'scan'" <<<"$err" && ok || bad "no suggestion: $err"
[ -z "$out" ] && ok || bad "mistyped verb wrote stdout"
expect 2 "mistyped option" "$M" scan "$T" --lmit 2
grep -q "did you mean '--limit'" <<<"$err" && ok || bad "no option suggestion: $err"
expect 2 "unknown short option" "$M" scan "$T" -z
grep -q "unknown option '-z'" <<<"$err" && ok || bad "short option message: $err"
expect 0 "help scan" "$M" help scan
grep -q -- "-n, --limit N" <<<"$out" && grep -q -- "--from KEY" <<<"$out" && ok || bad "help scan: $out"
h1=$out
expect 0 "scan --help" "$M" scan --help
[ "$out" = "$h1" ] && ok || bad "scan --help differs from help scan"
expect 0 "help create" "$M" help create
grep -q "decimal(P,S)" <<<"$out" && grep -q "write.parquet.compression-codec" <<<"$out" && ok || bad "help create: $out"
expect 0 "help set-property" "$M" help set-property
grep -q "merutable.l0.compression-codec" <<<"$out" && ok || bad "help set-property: $out"
expect 2 "help of a mistyped verb" "$M" help descrbe
grep -q "did you mean 'describe'" <<<"$err" && ok || bad "help suggestion: $err"
expect 0 "help" "$M" help
grep -q "meru describe DIR" <<<"$out" && ok || bad "help lists describe"

# ---- one number format, aligned tables --------------------------------------
expect 0 "scan numbers" "$M" scan "$T" --columns id,score
same "numbers" '{"id":-5,"score":1e+21}
{"id":1,"score":100}
{"id":2,"score":0.1}
{"id":3,"score":123456}'
expect 0 "table" "$M" scan "$T" --format table
same "CJK table" 'id | name   | score
---+--------+-------
-5 | ab     |  1e+21
 1 | 日本語 |    100
 2 | x      |    0.1
 3 | y      | 123456
(4 rows)'

# ---- describe, properties ---------------------------------------------------
expect 0 "describe" "$M" describe "$T"
grep -q "Iceberg v3" <<<"$out" && grep -q "key       (id)" <<<"$out" && ok || bad "describe header: $out"
grep -Eq "^2 +\| name +\| string +\| null +\| +2 \|" <<<"$out" && ok || bad "describe column row: $out"
grep -Eq "owner +tests" <<<"$out" && grep -Eq "write.parquet.compression-codec +snappy" <<<"$out" && ok || bad "describe properties: $out"
expect 0 "describe --json" "$M" describe "$T" --json
[ "$(jq -r '.properties.owner' <<<"$out")" = "tests" ] && ok || bad "describe json owner"
[ "$(jq -r '.schema.fields[2].type' <<<"$out")" = "double" ] && ok || bad "describe json type"
[ "$(jq -r '."iceberg-format-version"' <<<"$out")" = "3" ] && ok || bad "describe json format"
expect 0 "create v2" "$M" create "$tmp/v2" -s "id int64 not null" -k id --iceberg-format-version=2
expect 0 "describe v2" "$M" describe "$tmp/v2" --json
[ "$(jq -r '."iceberg-format-version"' <<<"$out")" = "2" ] && ok || bad "describe json format v2: $out"
expect 2 "create bad format version" "$M" create "$tmp/v4" -s "id int64 not null" -k id --iceberg-format-version 4
grep -q "must be 2 or 3" <<<"$err" && ok || bad "format version message: $err"
[ ! -e "$tmp/v4" ] && ok || bad "a refused create made $tmp/v4"
expect 0 "help create" "$M" help create
grep -q -- "--iceberg-format-version 2|3" <<<"$out" && ok || bad "help create: $out"
expect 0 "help export-iceberg" "$M" help export-iceberg
grep -q "hard-linked" <<<"$out" && ok || bad "help export-iceberg: $out"
expect 2 "export-iceberg missing TARGET" "$M" export-iceberg "$T"
grep -q "missing TARGET" <<<"$err" && ok || bad "export usage: $err"
expect 0 "set-property" "$M" set-property "$T" merutable.l0.compression-codec zstd
grep -q "merutable.l0.compression-codec = zstd" <<<"$out" && ok || bad "set-property output: $out"
expect 0 "describe after set" "$M" describe "$T" --json
[ "$(jq -r '.options."merutable.l0.compression-codec"' <<<"$out")" = "zstd" ] && ok || bad "option not in effect"
expect 1 "set-property bad value" "$M" set-property "$T" write.parquet.compression-codec lzo
grep -q "unknown codec 'lzo'" <<<"$err" && ok || bad "bad value message: $err"
expect 1 "set-property typo" "$M" set-property "$T" write.parquet.compresion-codec zstd
grep -q "did you mean 'write.parquet.compression-codec'" <<<"$err" && ok || bad "key suggestion: $err"
expect 0 "set-property --unset" "$M" set-property "$T" owner --unset
expect 0 "describe after unset" "$M" describe "$T" --json
[ "$(jq -r '.properties.owner' <<<"$out")" = "null" ] && ok || bad "owner still set"
expect 2 "set-property without value" "$M" set-property "$T" owner
expect 2 "create --property without =" "$M" create "$tmp/t2" -s "id int64 not null" -k id -p owner
expect 1 "create with a reserved property" "$M" create "$tmp/t3" -s "id int64 not null" -k id -p format-version=3
[ ! -e "$tmp/t3/metadata" ] && ok || bad "a refused create left metadata"

# ---- load settles; exit codes -----------------------------------------------
L="$tmp/load"
"$M" create "$L" -s "id int64 not null, v string" -k id >/dev/null
for i in $(seq 1 2000); do echo "{\"id\":$i,\"v\":\"value $i\"}"; done > "$tmp/rows.jsonl"
expect 0 "load" "$M" load "$L" "$tmp/rows.jsonl"
grep -q "L0 empty" <<<"$out" && ok || bad "load did not settle: $out"
expect 0 "describe after load" "$M" describe "$L" --json
[ "$(jq '[.levels[] | select(.level == 0) | .files] | add // 0' <<<"$out")" = "0" ] && ok || bad "L0 not empty after load: $out"
for i in $(seq 2001 2100); do echo "{\"id\":$i,\"v\":\"value $i\"}"; done > "$tmp/more.jsonl"
expect 0 "load --no-settle" "$M" load "$L" "$tmp/more.jsonl" --no-settle
expect 0 "describe after --no-settle" "$M" describe "$L" --json
[ "$(jq '[.levels[] | select(.level == 0) | .files] | add // 0' <<<"$out")" -ge 1 ] && ok || bad "--no-settle settled: $out"
expect 1 "get absent" "$M" get "$T" 99
expect 1 "no table" "$M" describe "$tmp/none"
expect 2 "describe extra arg" "$M" describe "$T" x

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
