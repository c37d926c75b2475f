#!/usr/bin/env bash
# bench_kv --quick (5000 rows, one repetition, to stay short under ASan)
# runs every engine it was built with (merutable and the
# peers it found) once on a small table and checks what each engine read
# back (row counts, values, key order); the program exits non-zero when a
# check fails. A smoke run only: no timing is asserted. Skipped (exit 0)
# when bench_kv was not built or was built without any peer.
set -euo pipefail
bin="$MERU_BINARY_DIR/bench_kv"
if [ ! -x "$bin" ]; then
  echo "SKIP: $bin not built"
  exit 0
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
out=$("$bin" --quick --rows 5000 --reps 1 --dir "$dir/run" 2>"$dir/err") || {
  echo "bench_kv --quick failed"; cat "$dir/err"; echo "$out"; exit 1; }
peers=$(grep -cE '^  - (RocksDB|LevelDB|SQLite|LMDB) ' <<<"$out" || true)
if [ "$peers" -eq 0 ]; then
  echo "SKIP: bench_kv was built without any peer (scripts/install-deps.sh --bench)"
  exit 0
fi
# The report has the table with every workload row and a ratio column.
for w in "fillseq (batch 1000)" "fillrandom (batch 1, fresh table)" "readrandom zipfian 0.99" \
         "readmissing" "projected scan of column i" "on-disk size after settle" \
         "peak RSS above harness baseline"; do
  grep -qF "| $w |" <<<"$out" || { echo "report lacks the row '$w'"; echo "$out"; exit 1; }
done
grep -q "merutable / best peer" <<<"$out" || { echo "no ratio column"; exit 1; }
# A usage error is exit 2.
set +e
"$bin" --rows 5 >/dev/null 2>&1; [ $? -eq 2 ] || { echo "--rows 5 should be a usage error"; exit 1; }
"$bin" --bogus >/dev/null 2>&1; [ $? -eq 2 ] || { echo "unknown option should exit 2"; exit 1; }
echo "1 passed, 0 failed ($peers peers)"
