# Shared helpers of the meru CLI shell tests (sourced, not a test itself:
# ctest registers only tests/cli/*.sh). The test sets $tmp first.
fails=0; passes=0
ok() { passes=$((passes+1)); }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
# run CMD...: sets $out (stdout), $err (stderr), $rc without stopping.
run() { set +e; out=$("$@" 2>"$tmp/stderr"); rc=$?; set -e; err=$(cat "$tmp/stderr"); }
# expect RC DESC CMD...: runs and checks the exit status.
expect() { local want=$1 desc=$2; shift 2; run "$@"
  if [ "$rc" -eq "$want" ]; then ok; else bad "$desc: exit $rc, want $want; out=[$out] err=[$err]"; fi; }
# same DESC WANT: compares $out with WANT.
same() { if [ "$out" = "$2" ]; then ok; else bad "$1: got [$out] want [$2]"; fi; }
