#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `meru demo --quick DIR` runs the whole tour with its own checks, leaves a
# table the other verbs can use, replaces its previous table on a rerun,
# refuses to delete a directory that is not a table, and refuses bad
# options.
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fails=0; passes=0
ok() { passes=$((passes+1)); }
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
M="$MERU"

if out=$("$M" demo --quick "$dir/t" 2>"$dir/err"); then ok; else bad "demo failed: $(cat "$dir/err")"; echo "$out"; fi
grep -q "All checks passed" <<<"$out" && ok || bad "no 'All checks passed'"
grep -q "loaded 50000 rows" <<<"$out" && ok || bad "no load line"
grep -q "What to try next" <<<"$out" && grep -q "meru scan $dir/t --prefix 42" <<<"$out" \
  && grep -q "read_parquet('$dir/t/data/" <<<"$out" && ok || bad "what-to-try-next section"
# The suggested commands work on the table left behind: 500 users x 100
# events, user 7 deleted.
[ "$("$M" count "$dir/t")" = "49900" ] && ok || bad "count after demo"
[ "$("$M" count "$dir/t" --prefix 7)" = "0" ] && ok || bad "user 7 not deleted"
[ "$("$M" count "$dir/t" --prefix 42)" = "100" ] && ok || bad "user 42 rows"
get_cmd=$(grep -m1 "^  meru get " <<<"$out" | sed 's/^  meru get //')
# shellcheck disable=SC2086
"$M" get $get_cmd | grep -q '"user_id":42' && ok || bad "suggested get: $get_cmd"
"$M" verify "$dir/t" | grep -q "49900 rows.*OK" && ok || bad "verify after demo"

# A rerun replaces the previous demo table and says so.
out=$("$M" demo --rows 2000 "$dir/t" 2>&1) && ok || bad "rerun failed: $out"
grep -q "Removing the previous demo table" <<<"$out" && ok || bad "rerun did not say it removes the table"
[ "$("$M" count "$dir/t")" = "1900" ] && ok || bad "rerun table count"

# Never deletes a directory that is not a table.
mkdir "$dir/precious"; echo keep > "$dir/precious/file"
set +e
"$M" demo --rows 1000 "$dir/precious" >/dev/null 2>"$dir/err"; rc=$?
[ $rc -eq 1 ] && grep -q "not a merutable table" "$dir/err" && [ -f "$dir/precious/file" ] && ok \
  || bad "demo on a plain directory: rc=$rc $(cat "$dir/err")"
# Usage errors exit 2; unknown verbs too.
"$M" demo --rows 0 2>/dev/null; [ $? -eq 2 ] && ok || bad "--rows 0 should be a usage error"
"$M" demo --rows x 2>/dev/null; [ $? -eq 2 ] && ok || bad "--rows x should be a usage error"
"$M" demo --frob 2>/dev/null; [ $? -eq 2 ] && ok || bad "unknown option should be a usage error"
"$M" no-such-verb 2>/dev/null; [ $? -eq 2 ] && ok || bad "unknown verb should exit 2"
set -e
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
