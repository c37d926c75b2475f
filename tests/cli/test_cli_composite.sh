#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Composite primary keys (int64, date, string): KEY as several arguments in
# get/delete, partial keys as comma-separated --from/--to/--prefix (both
# bounds inclusive), JSON-quoted values holding commas, and key order.
set -euo pipefail
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/harness.bash"
M="$MERU"; C="$tmp/c"
# keys(): the key columns of the scan output as "user day tag" lines.
keys() { jq -r '"\(.user) \(.day) \(.tag)"' <<<"$out"; }

expect 0 "create" "$M" create "$C" --schema "user int64 not null, day date not null, tag string not null, v decimal(8,2)" --primary-key user,day,tag
# Inserted out of order on purpose.
expect 0 "put" "$M" put "$C" \
  '{"user":2,"day":"2026-01-02","tag":"b","v":"2.50"}' \
  '{"user":1,"day":"2026-01-03","tag":"a","v":"1.00"}' \
  '{"user":3,"day":"2026-01-01","tag":"x,y","v":"-3.10"}' \
  '{"user":2,"day":"2026-01-01","tag":"z"}' \
  '{"user":2,"day":"2026-01-02","tag":"a","v":"2.25"}' \
  '{"user":10,"day":"2025-12-31","tag":"a","v":"10"}' \
  '{"user":1,"day":"2026-01-01","tag":"a","v":"0.10"}'
expect 0 "scan order" "$M" scan "$C"
out=$(keys); same "typed key order" "$(printf '%s\n' '1 2026-01-01 a' '1 2026-01-03 a' '2 2026-01-01 z' '2 2026-01-02 a' '2 2026-01-02 b' '3 2026-01-01 x,y' '10 2025-12-31 a')"

expect 0 "get full key" "$M" get "$C" 2 2026-01-02 b
same "get 2 2026-01-02 b" '{"user":2,"day":"2026-01-02","tag":"b","v":"2.50"}'
expect 0 "get two composite keys" "$M" get "$C" 2 2026-01-02 b 10 2025-12-31 a --format csv
same "get two keys csv" 'user,day,tag,v
2,2026-01-02,b,2.50
10,2025-12-31,a,10.00'
expect 0 "get tag with comma" "$M" get "$C" 3 2026-01-01 x,y
same "get 3 .. x,y" '{"user":3,"day":"2026-01-01","tag":"x,y","v":"-3.10"}'
expect 2 "get with a partial key is a usage error" "$M" get "$C" 2 2026-01-02
grep -q "3 values per key" <<<"$err" && ok || bad "partial get message: $err"
expect 1 "get bad date" "$M" get "$C" 2 2026-13-02 b
grep -q "day" <<<"$err" && ok || bad "bad date message names the column: $err"

expect 0 "prefix user" "$M" scan "$C" --prefix 2; out=$(keys)
same "--prefix 2" "$(printf '%s\n' '2 2026-01-01 z' '2 2026-01-02 a' '2 2026-01-02 b')"
expect 0 "prefix user,day" "$M" scan "$C" --prefix 2,2026-01-02; out=$(keys)
same "--prefix 2,2026-01-02" "$(printf '%s\n' '2 2026-01-02 a' '2 2026-01-02 b')"
expect 0 "partial from/to inclusive" "$M" scan "$C" --from 2 --to 2; out=$(keys)
same "--from 2 --to 2" "$(printf '%s\n' '2 2026-01-01 z' '2 2026-01-02 a' '2 2026-01-02 b')"
expect 0 "cross-user range" "$M" scan "$C" --from 1,2026-01-03 --to 2,2026-01-01; out=$(keys)
same "--from 1,2026-01-03 --to 2,2026-01-01" "$(printf '%s\n' '1 2026-01-03 a' '2 2026-01-01 z')"
expect 0 "full-key bounds" "$M" scan "$C" --from 2,2026-01-02,a --to '3,2026-01-01,"x,y"'; out=$(keys)
same "full-key bounds, quoted comma" "$(printf '%s\n' '2 2026-01-02 a' '2 2026-01-02 b' '3 2026-01-01 x,y')"
expect 0 "prefix and bound" "$M" scan "$C" --prefix 2 --from 2,2026-01-02; out=$(keys)
same "--prefix 2 --from 2,2026-01-02" "$(printf '%s\n' '2 2026-01-02 a' '2 2026-01-02 b')"
expect 0 "reverse prefix limit" "$M" scan "$C" --prefix 2 --reverse --limit 2; out=$(keys)
same "--prefix 2 --reverse --limit 2" "$(printf '%s\n' '2 2026-01-02 b' '2 2026-01-02 a')"
expect 0 "count prefix" "$M" count "$C" --prefix 2; same "count --prefix 2" "3"
expect 0 "count to" "$M" count "$C" --to 2; same "count --to 2" "5"
expect 1 "too many values in --from" "$M" scan "$C" --from 1,2026-01-01,a,b
grep -q "4 values" <<<"$err" && [ -z "$out" ] && ok || bad "too many values: [$out] $err"
expect 1 "bad value in --prefix" "$M" scan "$C" --prefix abc
grep -q "user" <<<"$err" && ok || bad "bad --prefix value: $err"
expect 0 "table format" "$M" scan "$C" --prefix 1 --format table --columns tag,v,user
same "table with decimals right-aligned" 'tag | v    | user
----+------+-----
a   | 0.10 |    1
a   | 1.00 |    1
(2 rows)'

expect 0 "delete composite" "$M" delete "$C" 2 2026-01-02 b 1 2026-01-01 a
same "delete message" "2 keys deleted"
expect 0 "delete stdin arrays" bash -c "printf '%s\n' '[3,\"2026-01-01\",\"x,y\"]' | \"$M\" delete \"$C\" -"
expect 1 "delete stdin wrong arity" bash -c "printf '%s\n' '[3]' | \"$M\" delete \"$C\" -"
grep -q "the key has 3" <<<"$err" && ok || bad "wrong arity message: $err"
expect 2 "delete partial key" "$M" delete "$C" 2 2026-01-02
expect 0 "scan after deletes" "$M" scan "$C"; out=$(keys)
same "after deletes" "$(printf '%s\n' '1 2026-01-03 a' '2 2026-01-01 z' '2 2026-01-02 a' '10 2025-12-31 a')"
expect 0 "verify" "$M" verify "$C"
grep -q "4 rows.*OK" <<<"$out" && ok || bad "verify: $out"

# Timestamps in keys, the demo's shape.
E="$tmp/e"
expect 0 "create ts table" "$M" create "$E" --schema "user_id int64 not null, ts timestamp not null, event string" --primary-key user_id,ts
expect 0 "put ts rows" "$M" put "$E" '{"user_id":5,"ts":"2026-01-01T10:00:00.5","event":"a"}' '{"user_id":5,"ts":"2026-01-01T09:00:00","event":"b"}'
expect 0 "get by timestamp word" "$M" get "$E" 5 2026-01-01T10:00:00.500000
grep -q '"event":"a"' <<<"$out" && ok || bad "get by ts: $out"
expect 0 "scan ts window" "$M" scan "$E" --from 5,2026-01-01T09:30:00 --to 5,2026-01-01T23:00:00 --columns event --format csv
same "ts window" 'event
a'

# Binary (hex, either case) and timestamptz (any offset) key values.
Y="$tmp/y"
expect 0 "create binary/tz table" "$M" create "$Y" --schema "k binary not null, at timestamptz not null, f fixed(2), b boolean" --primary-key k,at
expect 0 "put binary/tz row" "$M" put "$Y" '{"k":"00ff","at":"2026-01-01T00:00:00+02:00","f":"abcd","b":true}'
expect 0 "get by hex and offset" "$M" get "$Y" 00FF 2025-12-31T22:00:00Z --format csv
same "binary/tz row" 'k,at,f,b
00ff,2025-12-31T22:00:00Z,abcd,true'
expect 0 "prefix on a binary key" "$M" count "$Y" --prefix 00ff; same "binary prefix count" "1"

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
