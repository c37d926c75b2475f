#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A malformed meru command line: exit 2, a message naming the problem and
# the verb's usage on stderr, nothing on stdout, nothing created.
set -euo pipefail
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/harness.bash"
# refuse RC PATTERN DESC CMD...: exit RC, stderr matching PATTERN, no stdout.
refuse() { local want=$1 pat=$2 desc=$3; shift 3; run "$@"
  if [ "$rc" -ne "$want" ]; then bad "$desc: exit $rc, want $want; out=[$out] err=[$err]"
  elif [ -n "$out" ]; then bad "$desc: wrote to stdout: [$out]"
  elif ! grep -qi -- "$pat" <<<"$err"; then bad "$desc: stderr lacks '$pat': [$err]"
  elif ! grep -Eq -- "usage|--help" <<<"$err"; then bad "$desc: no usage shown: [$err]"
  else ok; fi; }
M="$MERU"; T="$tmp/t"

# Usage errors (2).
refuse 2 "usage" "no verb" "$M"
refuse 2 "unknown command" "unknown verb" "$M" frobnicate
for v in create put load get delete scan count flush compact stats verify add-column; do
  refuse 2 "missing DIR" "$v without DIR" "$M" "$v"
  refuse 2 "unknown option '--bogus'" "$v --bogus" "$M" "$v" "$T" --bogus
done
refuse 2 "missing --schema" "create without schema" "$M" create "$T" --primary-key id
refuse 2 "missing --primary-key" "create without key" "$M" create "$T" --schema "id int64 not null"
refuse 2 "needs a value" "create --schema without value" "$M" create "$T" --schema
[ ! -e "$T" ] && ok || bad "a refused create left $T behind"

"$M" create "$T" --schema "id int64 not null, name string not null, score double" --primary-key id >/dev/null
"$M" put "$T" '{"id":1,"name":"a"}' >/dev/null

refuse 2 "missing rows" "put without rows" "$M" put "$T"
refuse 2 "missing KEY" "get without key" "$M" get "$T"
refuse 2 "missing KEY" "delete without key" "$M" delete "$T"
refuse 2 "missing FILE" "load without file" "$M" load "$T"
refuse 2 "non-negative number" "scan --limit x" "$M" scan "$T" --limit x
refuse 2 "non-negative number" "scan --limit -1" "$M" scan "$T" --limit -1
refuse 2 "--format wants" "scan --format xml" "$M" scan "$T" --format xml
refuse 2 "unknown column 'nope'" "scan --columns nope" "$M" scan "$T" --columns nope
refuse 2 "names separated by commas" "scan --columns a,,b" "$M" scan "$T" --columns id,,name
refuse 2 "needs a value" "scan --from without value" "$M" scan "$T" --from
refuse 2 "unexpected argument" "scan extra arg" "$M" scan "$T" extra
refuse 2 "cannot tell the format" "load unknown extension" "$M" load "$T" "$tmp/rows.txt"
refuse 2 "--batch wants" "load --batch 0" "$M" load "$T" "$tmp/x.csv" --batch 0
refuse 2 "unexpected argument" "stats extra arg" "$M" stats "$T" x

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
