#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# meru scan and count on a one-column key: exact output of every option
# (--from/--to inclusive, --prefix, --reverse, --limit, --columns) and
# format (jsonl, csv, table), and string keys given as plain words.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/harness.bash"
M="$MERU"; T="$tmp/t"

expect 0 "create" "$M" create "$T" --schema "id int64 not null, name string, score double" --primary-key id
grep -q "created table 't'" <<<"$out" && ok || bad "create message: $out"
expect 0 "put 3 rows" "$M" put "$T" '{"id":2,"name":"b, with comma","score":null}' \
  '{"id":1,"name":"a","score":1.5}' '{"id":3,"name":"say \"hi\"","score":-2.25}'
same "put message" "3 rows written"

all='{"id":1,"name":"a","score":1.5}
{"id":2,"name":"b, with comma","score":null}
{"id":3,"name":"say \"hi\"","score":-2.25}'
expect 0 "scan" "$M" scan "$T"; same "scan all" "$all"
expect 0 "scan jsonl" "$M" scan "$T" --format jsonl; same "scan --format jsonl" "$all"
expect 0 "scan reverse" "$M" scan "$T" --reverse
same "scan --reverse" "$(tac <<<"$all")"
expect 0 "scan limit" "$M" scan "$T" --limit 2; same "scan --limit 2" "$(head -2 <<<"$all")"
expect 0 "scan from" "$M" scan "$T" --from 2; same "scan --from 2" "$(tail -2 <<<"$all")"
expect 0 "scan to (inclusive)" "$M" scan "$T" --to 2; same "scan --to 2" "$(head -2 <<<"$all")"
expect 0 "scan from to" "$M" scan "$T" --from 2 --to 2; same "scan --from 2 --to 2" "$(sed -n 2p <<<"$all")"
expect 0 "scan prefix" "$M" scan "$T" --prefix 3; same "scan --prefix 3" "$(sed -n 3p <<<"$all")"
expect 0 "scan empty range" "$M" scan "$T" --from 3 --to 1; same "scan empty range" ""
expect 0 "scan empty range csv" "$M" scan "$T" --from 3 --to 1 --format csv; same "empty range csv: header only" "id,name,score"
expect 0 "scan empty range table" "$M" scan "$T" --from 3 --to 1 --format table --columns id
same "empty range table" 'id
--
(0 rows)'
expect 0 "scan reverse limit from" "$M" scan "$T" --reverse --limit 1 --to 2
same "scan --reverse --limit 1 --to 2" "$(sed -n 2p <<<"$all")"
expect 0 "scan columns" "$M" scan "$T" --columns score,name --limit 2
same "scan --columns score,name" '{"score":1.5,"name":"a"}
{"score":null,"name":"b, with comma"}'
expect 0 "scan csv" "$M" scan "$T" --format csv
same "scan --format csv" 'id,name,score
1,a,1.5
2,"b, with comma",
3,"say ""hi""",-2.25'
expect 0 "scan csv columns" "$M" scan "$T" --format csv --columns id
same "scan csv --columns id" 'id
1
2
3'
expect 0 "scan table" "$M" scan "$T" --format table
same "scan --format table" 'id | name          | score
---+---------------+------
 1 | a             |   1.5
 2 | b, with comma |  NULL
 3 | say "hi"      | -2.25
(3 rows)'
expect 0 "get table" "$M" get "$T" 2 --format csv
same "get --format csv" 'id,name,score
2,"b, with comma",'

expect 0 "count" "$M" count "$T"; same "count" "3"
expect 0 "count from" "$M" count "$T" --from 2; same "count --from 2" "2"

# String keys as plain words or JSON strings.
S="$tmp/s"
expect 0 "create string-keyed" "$M" create "$S" --schema "name string not null, n int32" --primary-key name --name people
grep -q "'people'" <<<"$out" && ok || bad "--name: $out"
expect 0 "put strings" "$M" put "$S" '{"name":"alice","n":1}' '{"name":"bob smith","n":2}' '{"name":"null","n":3}'
expect 0 "get plain word" "$M" get "$S" alice; same "get alice" '{"name":"alice","n":1}'
expect 0 "get JSON string" "$M" get "$S" '"bob smith"'; same "get \"bob smith\"" '{"name":"bob smith","n":2}'
expect 0 "get word with space" "$M" get "$S" "bob smith"; same "get bob smith" '{"name":"bob smith","n":2}'
expect 0 "get the string null" "$M" get "$S" null; same "get null" '{"name":"null","n":3}'
expect 0 "scan string prefix range" "$M" scan "$S" --from b --columns name --format csv
same "string range" 'name
bob smith
null'

# A value after a null in the same column (the printers reuse per-column
# state from row to row).
N="$tmp/n"
"$M" create "$N" --schema "id int64 not null, s string, d decimal(6,2), day date" --primary-key id >/dev/null
"$M" put "$N" '{"id":1}' '{"id":2,"s":"x","d":"1.5","day":"2026-02-03"}' '{"id":3}' >/dev/null
expect 0 "csv after nulls" "$M" scan "$N" --format csv
same "csv value after null" 'id,s,d,day
1,,,
2,x,1.50,2026-02-03
3,,,'
expect 0 "table after nulls" "$M" scan "$N" --format table --columns s,d,day
same "table value after null" 's    | d    | day
-----+------+-----------
NULL | NULL | NULL
x    | 1.50 | 2026-02-03
NULL | NULL | NULL
(3 rows)'

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
