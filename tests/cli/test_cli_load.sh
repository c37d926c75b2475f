#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# meru load: CSV (header in any order, quoting, empty = null, "" = empty
# string, typed values) and JSON lines, --batch, stdin, errors with line
# numbers, a larger load checked by count/verify, and a CSV round trip
# (scan --format csv | load) that reproduces the table exactly.
set -euo pipefail
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/harness.bash"
M="$MERU"; T="$tmp/t"
SCHEMA="id int64 not null, name string, price decimal(10,2), ok boolean, at timestamp, day date, n int32, x double"

"$M" create "$T" --schema "$SCHEMA" --primary-key id >/dev/null
printf '%s\r\n' 'name,id,price,ok,at,day,n,x' \
  'plain,1,1.50,true,2026-01-02T03:04:05,2026-01-02,7,0.25' \
  '"with, comma",2,-3,false,,,,' \
  '"multi' 'line ""quoted""",3,0.01,,,,-1,12.5' \
  '"",4,,,,,,' \
  ',5,,,,,,' > "$tmp/a.csv"
expect 0 "load csv" "$M" load "$T" "$tmp/a.csv"
grep -q "loaded 5 rows" <<<"$out" && ok || bad "load message: $out"
expect 0 "scan loaded" "$M" scan "$T"
same "csv values" '{"id":1,"name":"plain","price":"1.50","ok":true,"at":"2026-01-02T03:04:05","day":"2026-01-02","n":7,"x":0.25}
{"id":2,"name":"with, comma","price":"-3.00","ok":false,"at":null,"day":null,"n":null,"x":null}
{"id":3,"name":"multi\r\nline \"quoted\"","price":"0.01","ok":null,"at":null,"day":null,"n":-1,"x":12.5}
{"id":4,"name":"","price":null,"ok":null,"at":null,"day":null,"n":null,"x":null}
{"id":5,"name":null,"price":null,"ok":null,"at":null,"day":null,"n":null,"x":null}'

# Round trip: scan as CSV, load into a fresh table, scan again.
"$M" scan "$T" --format csv > "$tmp/dump.csv"
"$M" create "$tmp/t2" --schema "$SCHEMA" --primary-key id >/dev/null
expect 0 "reload dump" "$M" load "$tmp/t2" "$tmp/dump.csv"
expect 0 "scan reloaded" "$M" scan "$tmp/t2"
[ "$out" = "$("$M" scan "$T")" ] && ok || bad "CSV round trip differs: $out"

# JSON lines, blank lines skipped, small batches, subset of columns.
printf '%s\n' '{"id":10,"name":"j1"}' '' '  {"id":11,"price":"2.5"}' '{"id":12,"ok":true}' > "$tmp/b.jsonl"
expect 0 "load jsonl" "$M" load "$T" "$tmp/b.jsonl" --batch 2
grep -q "loaded 3 rows" <<<"$out" && ok || bad "jsonl load message: $out"
expect 0 "get jsonl row" "$M" get "$T" 11
same "jsonl row" '{"id":11,"name":null,"price":"2.50","ok":null,"at":null,"day":null,"n":null,"x":null}'
expect 0 "load stdin" bash -c "printf '%s\n' 'id,name' '20,s' | \"$M\" load \"$T\" - --format csv"
expect 0 "get stdin row" "$M" get "$T" 20 --format csv --
same "stdin row" 'id,name,price,ok,at,day,n,x
20,s,,,,,,'
expect 2 "stdin needs --format" "$M" load "$T" -
cp "$tmp/b.jsonl" "$tmp/b.data"
expect 0 "--format overrides the name" "$M" load "$T" "$tmp/b.data" --format jsonl

# Errors name the line; earlier batches stay written and are reported.
printf '%s\n' 'id,name' '30,a' '31,b' '32,c' 'x,d' > "$tmp/bad.csv"
expect 1 "bad csv value" "$M" load "$T" "$tmp/bad.csv" --batch 2
grep -q "line 5 of" <<<"$err" && grep -q "column 'id'" <<<"$err" && grep -q "2 rows were written" <<<"$err" \
  && [ -z "$out" ] && ok || bad "bad csv message: [$out] $err"
expect 0 "rows of the first batch are there" "$M" count "$T" --from 30 --to 39; same "count 30..39" "2"
printf '%s\n' 'id,nope' '40,a' > "$tmp/h.csv"
expect 1 "unknown column in header" "$M" load "$T" "$tmp/h.csv"
grep -q "nope" <<<"$err" && ok || bad "unknown header column: $err"
printf '%s\n' 'id,name' '41,a,extra' > "$tmp/f.csv"
expect 1 "wrong field count" "$M" load "$T" "$tmp/f.csv"
grep -q "line 2.*3 fields" <<<"$err" && ok || bad "field count: $err"
printf '%s\n' 'id,name' '42,"open' > "$tmp/q.csv"
expect 1 "unterminated quote" "$M" load "$T" "$tmp/q.csv"
grep -q "not closed" <<<"$err" && ok || bad "unterminated quote: $err"
: > "$tmp/empty.csv"
expect 1 "empty csv" "$M" load "$T" "$tmp/empty.csv"
printf '%s\n' '{"id":50}' '{"id":51,"bogus":1}' > "$tmp/bad.jsonl"
expect 1 "bad jsonl line" "$M" load "$T" "$tmp/bad.jsonl"
grep -q "line 2 of" <<<"$err" && grep -q "bogus" <<<"$err" && ok || bad "bad jsonl: $err"

printf '%s\n' '[{"id":52}]' > "$tmp/array.json"
expect 1 "JSON array instead of JSON lines" "$M" load "$T" "$tmp/array.json"
grep -q "not an array" <<<"$err" && ok || bad "JSON array message: $err"
# Spreadsheet habits: a byte order mark, booleans as 1/0/yes/no/TRUE.
printf '\xEF\xBB\xBFid,ok\n60,1\n61,0\n62,yes\n63,FALSE\n' > "$tmp/bom.csv"
expect 0 "csv with BOM and boolean words" "$M" load "$T" "$tmp/bom.csv"
expect 0 "booleans" "$M" scan "$T" --from 60 --to 63 --columns id,ok --format csv
same "boolean words" 'id,ok
60,true
61,false
62,true
63,false'
printf 'id,ok\n64,maybe\n' > "$tmp/bool.csv"
expect 1 "bad boolean" "$M" load "$T" "$tmp/bool.csv"
grep -q "column 'ok'" <<<"$err" && ok || bad "bad boolean message: $err"

# A bigger load, checked end to end.
awk 'BEGIN { print "id,name,x"; for (i = 1; i <= 20000; i++) printf "%d,user %d,%d.5\n", (i * 7919) % 20011, i, i }' > "$tmp/big.csv"
"$M" create "$tmp/big" --schema "id int64 not null, name string, x double" --primary-key id >/dev/null
expect 0 "big load" "$M" load "$tmp/big" "$tmp/big.csv" --batch 500
[ -z "$err" ] && ok || bad "no progress output when stderr is not a terminal: [$err]"
expect 0 "big count" "$M" count "$tmp/big"; same "big count" "20000"
expect 0 "big verify" "$M" verify "$tmp/big"
grep -q "20000 rows.*OK" <<<"$out" && ok || bad "big verify: $out"
expect 0 "big get" "$M" get "$tmp/big" $(( (123 * 7919) % 20011 ))
same "big get" "{\"id\":$(( (123 * 7919) % 20011 )),\"name\":\"user 123\",\"x\":123.5}"
expect 0 "flush big" "$M" flush "$tmp/big"
expect 0 "big verify after flush" "$M" verify "$tmp/big"

# With stderr on a terminal (a pty from script(1)) a progress bar is drawn.
if command -v script >/dev/null 2>&1; then
  "$M" create "$tmp/pty" --schema "id int64 not null, name string, x double" --primary-key id >/dev/null
  script -qec "\"$M\" load \"$tmp/pty\" \"$tmp/big.csv\" >/dev/null" /dev/null > "$tmp/pty.out" || true
  grep -q "100%" "$tmp/pty.out" && grep -q "rows/s" "$tmp/pty.out" && ok || bad "no progress bar on a terminal: $(head -c 300 "$tmp/pty.out")"
  [ "$("$M" count "$tmp/pty")" = "20000" ] && ok || bad "load under a pty"
fi

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
