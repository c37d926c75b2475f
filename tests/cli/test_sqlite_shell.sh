#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The SQLite extension in Debian's sqlite3 shell, checked against the meru
# tool: full, point, prefix, range and reverse queries give exactly the
# lines `meru scan` / `meru get` print (rows rendered with json_object), on
# an int64 key and a (string, int64) key; EXPLAIN QUERY PLAN names the
# plans; a rolled-back transaction leaves `meru scan` unchanged and a
# committed one changes it; a refused value is an error with the engine's
# message and writes nothing; and a read-only table in one sqlite3 process
# sees another sqlite3 process's commits at its next statement, while a
# third writer (meru put, or sqlite3) is refused as "locked"; the change
# feed (merutable_changes) prints what `meru changes` prints, beside the
# writing process too.
set -euo pipefail
tmp=$(mktemp -d)
pids=()
cleanup() {
  exec 3>&- 4>&- 2>/dev/null || true
  for p in "${pids[@]+"${pids[@]}"}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
. "$(dirname "${BASH_SOURCE[0]}")/harness.bash"
M="$MERU"
# Without ".so": the shell adds it and derives the entry point from the
# file name (sqlite3_merutablesqlite_init).
SO="$MERU_BINARY_DIR/merutable_sqlite"
if ! command -v sqlite3 >/dev/null; then
  echo "sqlite3 shell not installed (scripts/install-deps.sh test)"; exit 1
fi
# A sanitized build's extension needs the sanitizer runtime loaded first
# into the (uninstrumented) shell; leaks are the C tests' business.
cache="$MERU_BINARY_DIR/CMakeCache.txt"
if grep -q "MERU_SANITIZE:STRING=asan" "$cache"; then
  export LD_PRELOAD="$(cc -print-file-name=libasan.so)"
  export ASAN_OPTIONS="detect_leaks=0${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
elif grep -q "MERU_SANITIZE:STRING=tsan" "$cache"; then
  echo "skipped: a ThreadSanitizer extension cannot load into sqlite3"; exit 0
fi

# sq DIR NAME SQL...: runs SQL with the table at DIR declared as NAME.
sq() { local dir=$1 name=$2; shift 2
  sqlite3 -batch -bail :memory: -cmd ".load $SO" \
    -cmd "CREATE VIRTUAL TABLE $name USING merutable('$dir')" "$@"; }

# ---- an int64 key ----------------------------------------------------------
T="$tmp/t"
"$M" create "$T" --schema "id int64 not null, name string, score double, day date, amount decimal(8,2)" --primary-key id >/dev/null
"$M" put "$T" '{"id":4,"name":"d","score":0.125,"day":"2026-01-31","amount":"-3.50"}' \
  '{"id":1,"name":"a","score":1.5,"day":null,"amount":"12.00"}' \
  '{"id":7,"name":"say \"hi\"","score":-2.25,"day":"-0001-12-31","amount":null}' \
  '{"id":2,"name":null,"score":null,"day":"+10000-01-01","amount":"0.01"}' \
  '{"id":5,"name":"e","score":3.75,"day":"1970-01-01","amount":"999999.99"}' >/dev/null
J="json_object('id',id,'name',name,'score',score,'day',day,'amount',amount)"
check() { # check DESC "SQL rest" MERU-ARGS...
  local desc=$1 rest=$2; shift 2
  run sq "$T" t "SELECT $J FROM t $rest"; local got=$out
  run "$M" "$@"; local want=$out
  [ -n "$want" ] || [ "$desc" = "absent" ] || { bad "$desc: meru printed nothing"; return; }
  [ "$got" = "$want" ] && ok || bad "$desc: sqlite [$got] meru [$want]"
}
check "full scan" "" scan "$T"
check "point" "WHERE id = 4" get "$T" 4
check "absent" "WHERE id = 3" scan "$T" --prefix 3
check "range" "WHERE id BETWEEN 2 AND 5" scan "$T" --from 2 --to 5
check "reverse" "ORDER BY id DESC" scan "$T" --reverse
check "reverse range limit" "WHERE id <= 5 ORDER BY id DESC LIMIT 2" scan "$T" --to 5 --reverse --limit 2
check "lower bound" "WHERE id >= 4" scan "$T" --from 4
run sq "$T" t "EXPLAIN QUERY PLAN SELECT * FROM t WHERE id = 4"
grep -q "VIRTUAL TABLE INDEX 1:get(id)" <<<"$out" && ok || bad "point plan: $out"
run sq "$T" t "EXPLAIN QUERY PLAN SELECT name FROM t WHERE id BETWEEN 2 AND 5 ORDER BY id DESC"
grep -q "range(id>=,id<=) order=desc cols=0x3" <<<"$out" && ok || bad "range plan: $out"
run sq "$T" t "EXPLAIN QUERY PLAN SELECT * FROM t ORDER BY id LIMIT 2 OFFSET 1"
grep -q "scan order=asc limit offset" <<<"$out" && ok || bad "limit plan: $out"

# ---- a (string, int64) key -------------------------------------------------
C="$tmp/c"
"$M" create "$C" --schema "user string not null, seq int64 not null, v double" --primary-key user,seq >/dev/null
for u in al bob bobby carl; do
  for s in 5 1 4 2 3; do echo "{\"user\":\"$u\",\"seq\":$s,\"v\":$s.5}"; done
done | "$M" put "$C" - >/dev/null
JC="json_object('user',user,'seq',seq,'v',v)"
checkc() { local desc=$1 rest=$2; shift 2
  run sq "$C" e "SELECT $JC FROM e $rest"; local got=$out
  run "$M" "$@"; local want=$out
  [ -n "$want" ] && [ "$got" = "$want" ] && ok || bad "$desc: sqlite [$got] meru [$want]"
}
checkc "composite full" "" scan "$C"
checkc "composite prefix" "WHERE user = 'bob'" scan "$C" --prefix bob
checkc "composite point" "WHERE user = 'bob' AND seq = 2" get "$C" bob 2
checkc "prefix and range" "WHERE user = 'bob' AND seq BETWEEN 2 AND 4" scan "$C" --from bob,2 --to bob,4
checkc "leading range" "WHERE user BETWEEN 'al' AND 'bob'" scan "$C" --from al --to bob
checkc "reverse prefix" "WHERE user = 'bob' ORDER BY seq DESC" scan "$C" --prefix bob --reverse
checkc "reverse all" "ORDER BY user DESC, seq DESC" scan "$C" --reverse
run sq "$C" e "EXPLAIN QUERY PLAN SELECT * FROM e WHERE user = 'bob' AND seq BETWEEN 2 AND 4"
grep -q "prefix(user) range(seq>=,seq<=)" <<<"$out" && ok || bad "composite plan: $out"
run sq "$C" e "EXPLAIN QUERY PLAN SELECT * FROM e WHERE user = 'bob' AND seq = 2"
grep -q "get(user,seq)" <<<"$out" && ok || bad "composite get plan: $out"

# ---- writes: rollback, commit, refused values -------------------------------
before=$("$M" scan "$T")
run sq "$T" t "BEGIN" "INSERT INTO t(id, name) VALUES (9, 'i')" "UPDATE t SET score = 0.5 WHERE id = 1" \
  "DELETE FROM t WHERE id = 7" "SELECT count(*) FROM t" "ROLLBACK"
[ "$rc" -eq 0 ] && [ "$out" = "5" ] && ok || bad "transaction rows seen inside: rc=$rc [$out] [$err]"
run "$M" scan "$T"
[ "$out" = "$before" ] && ok || bad "rollback changed the table: [$out]"
run sq "$T" t "BEGIN" "INSERT INTO t(id, name) VALUES (9, 'i')" "UPDATE t SET score = 0.5 WHERE id = 1" \
  "DELETE FROM t WHERE id IN (2, 4, 5, 7)" "COMMIT"
[ "$rc" -eq 0 ] && ok || bad "commit: rc=$rc [$err]"
run "$M" scan "$T"
same "after commit" '{"id":1,"name":"a","score":0.5,"day":null,"amount":"12.00"}
{"id":9,"name":"i","score":null,"day":null,"amount":null}'
before=$("$M" scan "$T")
run sq "$T" t "INSERT INTO t(id, day) VALUES (10, '2026-02-30')"
[ "$rc" -ne 0 ] && grep -q "February 2026 has 28 days" <<<"$err" && ok || bad "bad date: rc=$rc [$err]"
run sq "$T" t "INSERT INTO t(id, name) VALUES (11, 'ok'), (1, 'duplicate')"
[ "$rc" -ne 0 ] && grep -q "UNIQUE constraint failed: t.id" <<<"$err" && ok || bad "duplicate: rc=$rc [$err]"
run "$M" scan "$T"
[ "$out" = "$before" ] && ok || bad "a refused statement wrote: [$out]"

# ---- a reader in one process, a writer in another ---------------------------
mkfifo "$tmp/w.in" "$tmp/r.in"
sqlite3 -batch :memory: <"$tmp/w.in" >"$tmp/w.out" 2>&1 & pids+=($!)
exec 3>"$tmp/w.in"
sqlite3 -batch :memory: <"$tmp/r.in" >"$tmp/r.out" 2>&1 & pids+=($!)
exec 4>"$tmp/r.in"
# ask FD FILE TAG SQL: sends SQL then "SELECT 'TAG'", waits for TAG's line
# in FILE (a wait for the answer, not a time limit on it).
ask() { local fd=$1 file=$2 tag=$3; shift 3
  printf '%s\n' "$@" "SELECT '$tag';" >&"$fd"
  for _ in $(seq 1 600); do grep -qx "$tag" "$file" && return 0; sleep 0.05; done
  bad "no answer to $tag: $(cat "$file")"; return 1; }
# answer FILE TAG: the line just before TAG's.
answer() { grep -x -B1 "$2" "$1" | head -1; }
ask 3 "$tmp/w.out" w0 ".load $SO" "CREATE VIRTUAL TABLE w USING merutable('$T');"
ask 4 "$tmp/r.out" r0 ".load $SO" "CREATE VIRTUAL TABLE r USING merutable('$T', 'readonly');" "SELECT count(*) FROM r;"
[ "$(answer "$tmp/r.out" r0)" = "2" ] && ok || bad "reader start: $(cat "$tmp/r.out")"
ask 3 "$tmp/w.out" w1 "INSERT INTO w(id, name) VALUES (20, 'x');"
ask 4 "$tmp/r.out" r1 "SELECT count(*) FROM r;"
[ "$(answer "$tmp/r.out" r1)" = "3" ] && ok || bad "reader after a commit: $(cat "$tmp/r.out")"
ask 3 "$tmp/w.out" w2 "BEGIN; INSERT INTO w(id, name) VALUES (21, 'y'), (22, 'z');"
ask 4 "$tmp/r.out" r2 "SELECT count(*) FROM r;"
[ "$(answer "$tmp/r.out" r2)" = "3" ] && ok || bad "reader saw an open transaction: $(cat "$tmp/r.out")"
# Other writers are refused while the writer process holds the table.
run "$M" put "$T" '{"id":30}'
[ "$rc" -eq 1 ] && grep -q "locked" <<<"$err" && ok || bad "meru put beside the writer: rc=$rc [$err]"
run sq "$T" t2 "SELECT 1"
[ "$rc" -ne 0 ] && grep -q "table is locked by another writer: .*open for writing" <<<"$err" && ok ||
  bad "second sqlite3 writer: rc=$rc [$err]"
ask 3 "$tmp/w.out" w3 "COMMIT;"
# The change feed of a table another process is writing (read-only).
run sqlite3 -batch -bail :memory: -cmd ".load $SO" \
  "SELECT group_concat(row->>'id') FROM (SELECT row FROM merutable_changes('$T') ORDER BY seq DESC LIMIT 3)"
[ "$rc" -eq 0 ] && [ "$out" = "22,21,20" ] && ok || bad "merutable_changes beside the writer: rc=$rc [$out] [$err]"
ask 4 "$tmp/r.out" r3 "SELECT group_concat(id) FROM (SELECT id FROM r ORDER BY id DESC);"
[ "$(answer "$tmp/r.out" r3)" = "22,21,20,9,1" ] && ok || bad "reader after COMMIT: $(cat "$tmp/r.out")"
run "$M" scan "$T" --columns id --format csv
same "meru scan beside the writer" "$(printf 'id\n1\n9\n20\n21\n22')"
exec 3>&- 4>&-
for p in "${pids[@]}"; do wait "$p" || bad "a sqlite3 process failed"; done
pids=()
grep -qi "error" "$tmp/w.out" "$tmp/r.out" && bad "errors in the sessions: $(cat "$tmp/w.out" "$tmp/r.out")" || ok
run "$M" put "$T" '{"id":30}'
[ "$rc" -eq 0 ] && ok || bad "writer after the sessions ended: rc=$rc [$err]"

# ---- the change feed: merutable_changes against meru changes ---------------
feed() { sqlite3 -batch -bail :memory: -cmd ".load $SO" \
  "SELECT json_object('seq',seq,'op',op,'row',json(row),'before',json(before)) FROM merutable_changes('$T'$1"; }
run feed ")"
want=$("$M" changes "$T")
[ "$rc" -eq 0 ] && [ -n "$want" ] && [ "$out" = "$want" ] && ok || bad "merutable_changes vs meru changes: [$out] [$want] [$err]"
grep -q '"op":"delete","row":null,"before":{"id":7,' <<<"$out" && ok || bad "no delete with its pre-image: [$out]"
run feed ", 2) WHERE seq > 5"
want=$("$M" changes "$T" --since 5)
[ "$rc" -eq 0 ] && [ "$out" = "$want" ] && ok || bad "since and seq >: [$out] [$want] [$err]"
run sqlite3 -batch :memory: -cmd ".load $SO" "EXPLAIN QUERY PLAN SELECT * FROM merutable_changes('$T', 2) WHERE seq > 5"
grep -q "changes(path,since,seq>)" <<<"$out" && ok || bad "feed plan: $out"
run sqlite3 -batch :memory: -cmd ".load $SO" "SELECT * FROM merutable_changes('$T', 'x')"
[ "$rc" -ne 0 ] && grep -q "since must be a non-negative integer" <<<"$err" && ok || bad "bad since: rc=$rc [$err]"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
