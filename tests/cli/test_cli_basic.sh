#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# meru create/put/get/delete/flush/compact/stats/verify on a one-column key:
# outputs, exit codes, stdin forms, and data persisting across invocations
# (each command is its own process).
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/harness.bash"
M="$MERU"; T="$tmp/t"

expect 0 "create" "$M" create "$T" --schema "id int64 not null, name string, score double" --primary-key id
grep -q "created table 't'" <<<"$out" && ok || bad "create message: $out"
expect 0 "put 3 rows" "$M" put "$T" '{"id":2,"name":"b, with comma","score":null}' \
  '{"id":1,"name":"a","score":1.5}' '{"id":3,"name":"say \"hi\"","score":-2.25}'
same "put message" "3 rows written"

expect 0 "get 1" "$M" get "$T" 1
same "get 1" '{"id":1,"name":"a","score":1.5}'
expect 0 "get two keys" "$M" get "$T" 3 1
same "get 3 1" '{"id":3,"name":"say \"hi\"","score":-2.25}
{"id":1,"name":"a","score":1.5}'
expect 1 "get absent" "$M" get "$T" 9
[ -z "$out" ] && grep -q "not found" <<<"$err" && ok || bad "get absent output: [$out] [$err]"
expect 1 "get negative absent key is a lookup, not an option" "$M" get "$T" -5
grep -q "not found" <<<"$err" && ok || bad "get -5: $err"
expect 1 "get one present one absent" "$M" get "$T" 1 7
same "partial get prints the found row" '{"id":1,"name":"a","score":1.5}'

# Replace, delete, and stdin forms.
expect 0 "put replace" "$M" put "$T" '{"id":1,"name":"A"}'
expect 0 "get replaced" "$M" get "$T" 1; same "replaced row" '{"id":1,"name":"A","score":null}'
expect 0 "delete" "$M" delete "$T" 2; same "delete message" "1 key deleted"
expect 1 "get deleted" "$M" get "$T" 2
expect 0 "delete absent key is fine" "$M" delete "$T" 42
expect 0 "put stdin" bash -c "printf '%s\n' '{\"id\":10,\"name\":\"x\"}' '' '{\"id\":11,\"name\":\"y\"}' | \"$M\" put \"$T\" -"
same "put - message" "2 rows written"
expect 0 "count after stdin put" "$M" count "$T"; same "count" "4"
expect 0 "delete stdin" bash -c "printf '%s\n' '[10]' '11' | \"$M\" delete \"$T\" -"
same "delete - message" "2 keys deleted"
expect 0 "scan after deletes" "$M" scan "$T" --columns id --format csv
same "ids left" 'id
1
3'

# flush, stats, verify; data survives all of it.
expect 0 "flush" "$M" flush "$T"
grep -q "^flushed" <<<"$out" && ok || bad "flush message: $out"
expect 0 "get after flush" "$M" get "$T" 3
same "get after flush" '{"id":3,"name":"say \"hi\"","score":-2.25}'
expect 0 "put after flush" "$M" put "$T" '{"id":0,"name":"zero"}'
expect 0 "scan across flushed and new" "$M" scan "$T" --columns id --format csv
same "ids after flush" 'id
0
1
3'
expect 0 "stats" "$M" stats "$T"
# Read-only: the files, what the WAL holds, no per-process counters.
grep -q "levels" <<<"$out" && grep -q "not yet in files" <<<"$out" && \
  ! grep -q "puts / deletes" <<<"$out" && ! grep -q "immutable" <<<"$out" && ok || bad "stats table: $out"
expect 0 "stats json" "$M" stats "$T" --json
jq -e '.last_sequence >= 0' <<<"$out" >/dev/null && ok || bad "stats --json is not JSON with last_sequence: $out"
expect 0 "verify" "$M" verify "$T"
grep -q "3 rows.*OK" <<<"$out" && ok || bad "verify: $out"
expect 0 "compact" "$M" compact "$T"
grep -q "^compacted" <<<"$out" && ok || bad "compact message: $out"
expect 0 "scan after compact" "$M" scan "$T" --columns id --format csv
same "ids after compact" 'id
0
1
3'
expect 0 "verify after compact" "$M" verify "$T"

# --help of every verb goes to stdout with exit 0.
for v in create put load get delete scan count flush compact stats verify demo; do
  expect 0 "$v --help" "$M" "$v" --help
  grep -q "usage: meru $v" <<<"$out" && ok || bad "$v --help: $out"
done
expect 0 "meru --help" "$M" --help
grep -q "meru scan DIR" <<<"$out" && ok || bad "meru --help lacks scan"

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
