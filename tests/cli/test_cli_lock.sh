#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# While one meru process writes a table (put - waiting on stdin), a second
# writer is refused with a "locked" message and exit 1, and the read verbs
# (get, scan, count, stats, verify) still work: they open read-only.
set -euo pipefail
tmp=$(mktemp -d)
writer=""
cleanup() { exec 3>&- 2>/dev/null || true; [ -n "$writer" ] && wait "$writer" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
. "$(dirname "${BASH_SOURCE[0]}")/harness.bash"
M="$MERU"; T="$tmp/t"
# locked: 1 if some process holds a lock on $T/LOCK (read from /proc/locks,
# passively: probing with flock(1) could make the writer's own open fail).
locked() { [ -f "$T/LOCK" ] || return 1
  local ino; ino=$(stat -c %i "$T/LOCK")
  grep -Eq ":${ino} " /proc/locks; }

"$M" create "$T" --schema "id int64 not null, v string" --primary-key id >/dev/null
"$M" put "$T" '{"id":1,"v":"a"}' >/dev/null
mkfifo "$tmp/fifo"
"$M" put "$T" - < "$tmp/fifo" > "$tmp/writer.out" 2>&1 &
writer=$!
exec 3>"$tmp/fifo"
# Wait (without a time assertion) until the writer holds the table's lock.
for _ in $(seq 1 600); do locked && break; sleep 0.1; done
locked || bad "the writer never took $T/LOCK"

run "$M" put "$T" '{"id":2,"v":"b"}'
[ $rc -eq 1 ] && grep -q "locked" <<<"$err" && [ -z "$out" ] && ok || bad "second writer: rc=$rc [$out] [$err]"
run "$M" get "$T" 1
[ $rc -eq 0 ] && [ "$out" = '{"id":1,"v":"a"}' ] && ok || bad "get beside a writer: rc=$rc [$out] [$err]"
run "$M" count "$T"
[ $rc -eq 0 ] && [ "$out" = "1" ] && ok || bad "count beside a writer: rc=$rc [$out] [$err]"
run "$M" verify "$T"
[ $rc -eq 0 ] && ok || bad "verify beside a writer: rc=$rc [$out] [$err]"
run "$M" stats "$T"
[ $rc -eq 0 ] && grep -q "read-only" <<<"$out" && ok || bad "stats beside a writer: rc=$rc [$err]"

# The writer takes its rows and finishes normally.
printf '%s\n' '{"id":3,"v":"c"}' >&3
exec 3>&-
wait "$writer" && ok || bad "writer failed: $(cat "$tmp/writer.out")"
writer=""
run "$M" scan "$T" --columns id --format csv
[ "$out" = "$(printf 'id\n1\n3')" ] && ok || bad "after the writer: [$out]"
run "$M" put "$T" '{"id":2,"v":"b"}'
[ $rc -eq 0 ] && ok || bad "writer after the lock is released: rc=$rc [$err]"

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
