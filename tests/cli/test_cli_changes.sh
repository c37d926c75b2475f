#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# meru changes: the exact JSON lines of inserts, updates and deletes (and
# nothing for a delete of an absent key), from the memtable and from
# changelog files, --since/--limit, csv and table, usage errors (exit 2),
# the expiry error (exit 1, naming the oldest --since), create
# --changes-retention 0 (no history), and --follow picking up commits of
# other processes until SIGINT / SIGTERM (exit 0).
set -euo pipefail
tmp=$(mktemp -d)
follower=""
cleanup() { [ -n "$follower" ] && kill "$follower" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
. "$(dirname "${BASH_SOURCE[0]}")/harness.bash"
M="$MERU"; T="$tmp/t"

expect 0 "create" "$M" create "$T" --schema "id int64 not null, name string, n int32" --primary-key id
expect 0 "put" "$M" put "$T" '{"id":1,"name":"a","n":1}' '{"id":2,"name":"b","n":null}'
expect 0 "update" "$M" put "$T" '{"id":1,"name":"A","n":10}'
expect 0 "delete" "$M" delete "$T" 2
expect 0 "delete absent" "$M" delete "$T" 3
all='{"seq":1,"op":"insert","row":{"id":1,"name":"a","n":1},"before":null}
{"seq":2,"op":"insert","row":{"id":2,"name":"b","n":null},"before":null}
{"seq":3,"op":"update","row":{"id":1,"name":"A","n":10},"before":{"id":1,"name":"a","n":1}}
{"seq":4,"op":"delete","row":null,"before":{"id":2,"name":"b","n":null}}'
expect 0 "changes" "$M" changes "$T"; same "changes from 0" "$all"
expect 0 "changes since" "$M" changes "$T" --since 2; same "--since 2" "$(tail -2 <<<"$all")"
expect 0 "changes limit" "$M" changes "$T" --limit 1 --since 1; same "--limit 1" "$(sed -n 2p <<<"$all")"
expect 0 "changes beyond" "$M" changes "$T" --since 99; same "--since beyond the last" ""
expect 0 "changes csv" "$M" changes "$T" --since 2 --format csv
same "csv" '_seq,_op,id,name,n,before_name,before_n
3,update,1,A,10,a,1
4,delete,2,,,b,'
expect 0 "changes table" "$M" changes "$T" --since 3 --format table
same "table" '_seq | _op    | id | name | n    | before_name | before_n
-----+--------+----+------+------+-------------+---------
   4 | delete |  2 | NULL | NULL | b           |     NULL
(1 row)'
# Each meru put/delete closes the table, which flushes: the history is in
# changelog Parquet files by now.
ls "$T"/changes/*.parquet >/dev/null 2>&1 && ok || bad "no changelog files"
expect 0 "compact" "$M" compact "$T"
expect 0 "changes after compact" "$M" changes "$T"; same "after compaction" "$all"

# Usage errors.
for a in -1 abc 1x ""; do
  expect 2 "--since '$a'" "$M" changes "$T" --since "$a"
  [ -z "$out" ] && ok || bad "--since '$a' printed [$out]"
done
expect 2 "--limit -3" "$M" changes "$T" --limit -3
expect 2 "--format xml" "$M" changes "$T" --format xml
expect 2 "no DIR" "$M" changes
expect 2 "two DIRs" "$M" changes "$T" "$T"
expect 2 "create --changes-retention x" "$M" create "$tmp/x" --schema "id int64 not null" --primary-key id --changes-retention x
expect 1 "no table" "$M" changes "$tmp/none"

# The expiry error: a table with a 1-byte retention keeps only the newest
# changelog file.
T2="$tmp/t2"
expect 0 "create t2" "$M" create "$T2" --schema "id int64 not null" --primary-key id \
  --property merutable.changes.retention-bytes=1
for i in 1 2 3; do expect 0 "put $i" "$M" put "$T2" "{\"id\":$i}"; done
expect 1 "expired" "$M" changes "$T2"
grep -q "oldest since_seq available is 2" <<<"$err" && ok || bad "expiry message: [$err]"
expect 0 "from the floor" "$M" changes "$T2" --since 2
same "from the floor" '{"seq":3,"op":"insert","row":{"id":3},"before":null}'

# Retention 0: the feed is off, nothing is written.
T3="$tmp/t3"
expect 0 "create off" "$M" create "$T3" --schema "id int64 not null" --primary-key id --changes-retention 0
expect 0 "put off" "$M" put "$T3" '{"id":1}'
[ -z "$(ls "$T3"/changes 2>/dev/null)" ] && ok || bad "feed off wrote $(ls "$T3"/changes)"
expect 1 "off: expired" "$M" changes "$T3"

# --follow: prints what other processes commit, stops on a signal.
since=5 # seq 5: the delete of absent id 3, not a change
for sig in INT TERM; do
  F="$tmp/follow.$sig"
  "$M" changes "$T" --since "$since" --follow >"$F" 2>"$tmp/follow.err" &
  follower=$!
  sleep 0.5
  "$M" put "$T" '{"id":7,"name":"g","n":7}' >/dev/null
  "$M" delete "$T" 7 >/dev/null
  for _ in $(seq 100); do [ "$(wc -l <"$F")" -ge 2 ] && break; sleep 0.1; done
  kill -s "$sig" "$follower"
  set +e; wait "$follower"; frc=$?; set -e
  follower=""
  [ "$frc" -eq 0 ] && ok || bad "--follow after SIG$sig: exit $frc ($(cat "$tmp/follow.err"))"
  out=$(cat "$F")
  if [ "$sig" = INT ]; then
    same "--follow output" '{"seq":6,"op":"insert","row":{"id":7,"name":"g","n":7},"before":null}
{"seq":7,"op":"delete","row":null,"before":{"id":7,"name":"g","n":7}}'
  else
    same "--follow output" '{"seq":8,"op":"insert","row":{"id":7,"name":"g","n":7},"before":null}
{"seq":9,"op":"delete","row":null,"before":{"id":7,"name":"g","n":7}}'
  fi
  since=7 # the second round reads from where the first stopped
done
expect 0 "follow --limit" "$M" changes "$T" --since 5 --follow --limit 2
same "--follow --limit stops" "$(printf '%s\n%s' '{"seq":6,"op":"insert","row":{"id":7,"name":"g","n":7},"before":null}' '{"seq":7,"op":"delete","row":null,"before":{"id":7,"name":"g","n":7}}')"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
