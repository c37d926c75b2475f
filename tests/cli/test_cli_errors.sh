#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Bad input to the meru table verbs (bad schema, bad JSON, wrong type,
# unknown column, missing table): exit 1, a clear message on stderr,
# nothing on stdout, and a rejected write changes nothing.
set -euo pipefail
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/harness.bash"
# refuse RC PATTERN DESC CMD...: exit RC, stderr matching PATTERN, no stdout.
refuse() { local want=$1 pat=$2 desc=$3; shift 3; run "$@"
  if [ "$rc" -ne "$want" ]; then bad "$desc: exit $rc, want $want; out=[$out] err=[$err]"
  elif [ -n "$out" ]; then bad "$desc: wrote to stdout: [$out]"
  elif ! grep -qi -- "$pat" <<<"$err"; then bad "$desc: stderr lacks '$pat': [$err]"
  else ok; fi; }
M="$MERU"; T="$tmp/t"

"$M" create "$T" --schema "id int64 not null, name string not null, score double" --primary-key id >/dev/null
"$M" put "$T" '{"id":1,"name":"a"}' >/dev/null

# Failures (1).
refuse 1 "strnig" "misspelt type" "$M" create "$tmp/b1" --schema "id int64 not null, name strnig" --primary-key id
refuse 1 "bad schema" "key column that does not exist" "$M" create "$tmp/b2" --schema "id int64 not null" --primary-key nope
refuse 1 "precision" "decimal(40,2)" "$M" create "$tmp/b3" --schema "id int64 not null, p decimal(40,2)" --primary-key id
refuse 1 "already holds a table" "create twice" "$M" create "$T" --schema "id int64 not null" --primary-key id
for v in get delete; do refuse 1 "no table at" "$v on a missing table" "$M" "$v" "$tmp/none" 1; done
for v in scan count flush compact stats verify; do refuse 1 "no table at" "$v on a missing table" "$M" "$v" "$tmp/none"; done
refuse 1 "no table at" "put on a missing table" "$M" put "$tmp/none" '{"id":1}'
refuse 1 "row 1" "put bad JSON" "$M" put "$T" '{"id":2,"name":'
refuse 1 "nope" "put unknown column" "$M" put "$T" '{"id":2,"name":"b","nope":1}'
refuse 1 "id" "put wrong type" "$M" put "$T" '{"id":"two","name":"b"}'
refuse 1 "name" "put missing NOT NULL column" "$M" put "$T" '{"id":2}'
refuse 1 "row 2" "put: second row bad" "$M" put "$T" '{"id":2,"name":"b"}' '{"id":3,"name":5}'
grep -q "nothing was written" <<<"$err" && ok || bad "bad batch message: $err"
refuse 1 "column 'id'" "get wrong key type" "$M" get "$T" abc
refuse 1 "column 'id'" "delete wrong key type" "$M" delete "$T" 1.5
refuse 1 "not found" "get absent key as csv: no header either" "$M" get "$T" 9 --format csv
refuse 1 "not found" "get absent key as table: no empty table" "$M" get "$T" 9 --format table
refuse 1 "column 'id'" "scan bad bound as csv: no header" "$M" scan "$T" --from x --format csv
refuse 1 "line 2 of stdin" "put - bad second line" bash -c "printf '%s\n' '{\"id\":7,\"name\":\"g\"}' '{\"id\":8' | \"$M\" put \"$T\" -"
refuse 1 "cannot open" "load missing file" "$M" load "$T" "$tmp/none.csv"

# None of the refused writes changed the table (the stdin put's bad line is
# in the same batch as its good one, so neither was written).
run "$M" scan "$T" --columns id --format csv
[ "$out" = "$(printf 'id\n1')" ] && ok || bad "rejected writes changed the table: [$out]"

# A directory that is not a table.
mkdir -p "$tmp/plain"; echo hi > "$tmp/plain/file"
refuse 1 "" "get on a plain directory" "$M" get "$tmp/plain" 1
[ -f "$tmp/plain/file" ] && ok || bad "plain directory was changed"

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
