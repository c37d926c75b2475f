#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Smoke runs of the benches whose reports carry their own checks; no timing
# is asserted.
#  - bench_kv --quick (5000 rows, one repetition, to stay short under ASan)
#    runs every engine it was built with (merutable and the peers it found)
#    once on a small table and checks what each engine read back (row
#    counts, values, key order); the program exits non-zero when a check
#    fails. Skipped when bench_kv was not built or was built without any
#    peer.
#  - bench_analytic --quick (20000 rows, one repetition) loads, overwrites,
#    deletes and compacts a table, then has DuckDB aggregate its L1+ files
#    and DuckDB's own export of them, and exits non-zero when DuckDB's
#    answers differ from the program's model. Its DuckDB half is skipped
#    (and so is that check here) without node or tests/interop/node_modules.
#  - bench_sqlite (5000 rows, 100 lookups, one repetition) runs every
#    workload through the SQLite extension, the C API and native SQLite and
#    exits non-zero when their answers differ.
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
tmp=$dir
source "$(dirname "${BASH_SOURCE[0]}")/harness.bash"
notes=""

check_kv() {
  local bin="$MERU_BINARY_DIR/bench_kv" w peers
  if [ ! -x "$bin" ]; then notes+=" bench_kv not built;"; return; fi
  run "$bin" --quick --rows 5000 --reps 1 --dir "$dir/kv"
  if [ "$rc" -ne 0 ]; then bad "bench_kv --quick exit $rc: $err"; echo "$out"; return; fi
  peers=$(grep -cE '^  - (RocksDB|LevelDB|SQLite|LMDB) ' <<<"$out" || true)
  if [ "$peers" -eq 0 ]; then
    notes+=" bench_kv built without any peer (scripts/install-deps.sh bench);"
    return
  fi
  # The report has the table with every workload row and a ratio column.
  for w in "fillseq (batch 1000)" "fillrandom (batch 1, fresh table)" "readrandom zipfian 0.99" \
           "readmissing" "projected scan of column i" "on-disk size after settle" \
           "peak RSS above harness baseline"; do
    if grep -qF "| $w |" <<<"$out"; then ok; else bad "bench_kv report lacks the row '$w'"; fi
  done
  if grep -q "merutable / best peer" <<<"$out"; then ok; else bad "bench_kv: no ratio column"; fi
  # --rss-maps: each phase's peak split by kind of mapping, on stderr; a
  # table was written, so the memtables' huge-page maps show in a write
  # phase. 5000 rows can end between two of the sampler's 10 ms samples,
  # so bench_kv also samples at each phase switch and after each load;
  # fillseq alone is not enough: under ASan its peak can come at close,
  # after the memtable is unmapped (the quarantine keeps the rest).
  run "$bin" --quick --rows 5000 --reps 1 --engines merutable --no-sync --rss-maps --dir "$dir/kvm"
  if [ "$rc" -ne 0 ]; then bad "bench_kv --rss-maps exit $rc: $err"; return; fi
  local maps
  maps=$(grep -c "at the peak of both, MiB: main heap [-+][0-9.]*, thread arenas [-+][0-9.]*, huge-page maps [-+][0-9.]*, other anonymous maps [-+][0-9.]*, data files [-+][0-9.]*, other files [-+][0-9.]*$" <<<"$err" || true)
  if [ "$maps" -ge 8 ]; then ok; else bad "bench_kv --rss-maps: $maps phase splits, want >= 8: $err"; fi
  if grep -qE "(fillseq|fillrandom batch 1000|overwrite) +at the peak of both, MiB: .*huge-page maps \+[1-9]" <<<"$err"; then ok
  else bad "bench_kv --rss-maps: no write phase shows memtable maps: $err"; fi
  run "$bin" --quick --rows 5000 --reps 1 --engines merutable --no-sync --dir "$dir/kvn"
  if grep -q "at the peak of both" <<<"$err"; then
    bad "bench_kv prints the split without --rss-maps"; else ok; fi
  # A usage error is exit 2.
  expect 2 "bench_kv --rows 5" "$bin" --rows 5
  expect 2 "bench_kv --bogus" "$bin" --bogus
  notes+=" bench_kv with $peers peers;"
}

check_analytic() {
  local bin="$MERU_BINARY_DIR/bench_analytic" w
  if [ ! -x "$bin" ]; then notes+=" bench_analytic not built;"; return; fi
  run "$bin" --quick --rows 20000 --reps 1
  if [ "$rc" -ne 0 ]; then bad "bench_analytic --quick exit $rc: $err"; echo "$out"; return; fi
  if grep -q "DuckDB comparison skipped" <<<"$out"; then
    notes+=" bench_analytic without DuckDB ($(grep -o 'skipped: .*' <<<"$out"));"
  else
    for w in "file bytes (MiB)" "GROUP BY region: sum(score), count(*), threads=1 (ms)" \
             "sum(score) (one column), threads=1 (ms)" "score"; do
      if grep -qF "| $w |" <<<"$out"; then ok; else bad "bench_analytic report lacks the row '$w'"; fi
    done
    if grep -q "agree with the model: yes" <<<"$out"; then ok; else bad "bench_analytic: answers differ"; echo "$out"; fi
  fi
  expect 2 "bench_analytic --rows 5" "$bin" --rows 5
  expect 2 "bench_analytic --bogus" "$bin" --bogus
}

check_sqlite() {
  local bin="$MERU_BINARY_DIR/bench_sqlite" w
  if [ ! -x "$bin" ]; then notes+=" bench_sqlite not built;"; return; fi
  run "$bin" --rows 5000 --lookups 100 --reps 1
  if [ "$rc" -ne 0 ]; then bad "bench_sqlite exit $rc: $err"; echo "$out"; return; fi
  for w in "full scan: count, sum(score), sum(length(name))" "point lookups" \
           "range scans" "join of 1,000 keys"; do
    if grep -qF "| $w" <<<"$out"; then ok; else bad "bench_sqlite report lacks the row '$w'"; fi
  done
  expect 2 "bench_sqlite --rows 5" "$bin" --rows 5
  expect 2 "bench_sqlite --bogus" "$bin" --bogus
}

check_kv
check_analytic
check_sqlite
echo "$passes passed, $fails failed;$notes"
[ "$fails" -eq 0 ]
