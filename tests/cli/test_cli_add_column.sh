#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `meru add-column DIR "name type [not null] [default LITERAL]"`: a new
# schema id each time (printed), older snapshots keep theirs, the rules of
# the table's Iceberg format version (2: nullable without defaults only,
# with the engine's message, exit 1), usage errors exit 2; on a
# format-version 3 table the default is the initial default of the rows
# already there and the write default of later rows that leave the column
# out, through flush, compaction and reopen.
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
# meta EXPR DIR: a Python expression over the newest metadata JSON `m`.
meta() { python3 -c "import json,sys; d=sys.argv[1]; v=open(d+'/metadata/version-hint.text').read().strip(); m=json.load(open(d+'/metadata/v'+v+'.metadata.json')); print($1)" "$2"; }
# meta_v N EXPR DIR: the same over metadata version N.
meta_v() { python3 -c "import json,sys; m=json.load(open(sys.argv[1]+'/metadata/v'+sys.argv[2]+'.metadata.json')); print($2)" "$3" "$1"; }
# The schema-id of the current snapshot of a metadata version (each
# version lists its current snapshot; older ones are older versions).
SNAP="[s.get('schema-id') for s in m['snapshots'] if s['snapshot-id'] == m['current-snapshot-id']]"

"$M" create "$T" --schema "id int64 not null, name string" --primary-key id --iceberg-format-version 2 >/dev/null
"$M" put "$T" '{"id":1,"name":"a"}' '{"id":2,"name":"b"}' >/dev/null
"$M" flush "$T" >/dev/null

# Usage errors (2).
refuse 2 "missing the column" "no column" "$M" add-column "$T"
refuse 2 "one column at a time" "two columns" "$M" add-column "$T" "a int32, b int32"
refuse 2 "unexpected argument" "unquoted column" "$M" add-column "$T" note string
refuse 2 "unknown option" "unknown option" "$M" add-column "$T" "note string" --bogus
run "$M" add-column --help; [ "$rc" -eq 0 ] && grep -q "add-column DIR" <<<"$out" && ok || bad "--help: $rc [$out]"

# The format-version 2 rules, and other refusals (1), change nothing.
[ "$(meta "m['format-version']" "$T")" = 2 ] && ok || bad "the table is not format-version 2"
v_before=$(cat "$T/metadata/version-hint.text")
refuse 1 "format-version 2" "v2: NOT NULL" "$M" add-column "$T" "tier int32 not null default 1"
refuse 1 "format-version 2" "v2: default" "$M" add-column "$T" "tier int32 default 1"
refuse 1 "duplicate column name" "existing name" "$M" add-column "$T" "name string"
refuse 1 "unknown type" "bad type" "$M" add-column "$T" "tier intx"
refuse 1 "no table at" "missing table" "$M" add-column "$tmp/none" "tier int32"
[ "$(meta "m['current-schema-id']" "$T")" = 0 ] && ok || bad "a refused add-column moved the schema"

# A nullable column: schema id 1, existing rows read null, new rows set it.
expect 0 "v2 add-column" "$M" add-column "$T" "note string"
grep -q "schema id 1" <<<"$out" && grep -q "field id 3" <<<"$out" && ok || bad "add-column output: [$out]"
"$M" put "$T" '{"id":3,"name":"c","note":"n3"}' >/dev/null
run "$M" scan "$T"
same "v2 scan" '{"id":1,"name":"a","note":null}
{"id":2,"name":"b","note":null}
{"id":3,"name":"c","note":"n3"}'
[ "$(meta "[s['schema-id'] for s in m['schemas']], m['current-schema-id'], m['last-column-id']" "$T")" = "[0, 1] 1 3" ] && ok || bad "v2 schemas: $(meta "[s['schema-id'] for s in m['schemas']], m['current-schema-id']" "$T")"
[ "$(meta "$SNAP" "$T")" = "[1]" ] && ok || bad "v2 current snapshot schema id: $(meta "$SNAP" "$T")"
[ "$(meta_v "$v_before" "$SNAP" "$T")" = "[0]" ] && ok || bad "v2: the snapshot before add-column lost its schema id: $(meta_v "$v_before" "$SNAP" "$T")"
! grep -q -- '-default"' "$T"/metadata/v*.metadata.json && ok || bad "v3 default keys in v2 metadata"
expect 0 "v2 second add-column" "$M" add-column "$T" "score double"
grep -q "schema id 2" <<<"$out" && ok || bad "second add-column output: [$out]"

# A format-version 3 table (the default).
T3="$tmp/t3"
"$M" create "$T3" --schema "id int64 not null, name string" --primary-key id >/dev/null
"$M" put "$T3" '{"id":1,"name":"a"}' '{"id":2,"name":"b"}' >/dev/null
"$M" flush "$T3" >/dev/null
v3_first=$(cat "$T3/metadata/version-hint.text")
"$M" put "$T3" '{"id":3,"name":"c"}' >/dev/null   # in the WAL, not flushed
refuse 1 "initial default" "v3: NOT NULL without default" "$M" add-column "$T3" "tier int32 not null"
refuse 1 "tier" "v3: default of the wrong type" "$M" add-column "$T3" "tier int32 default \"x\""
expect 0 "v3 add-column" "$M" add-column "$T3" "tier int32 not null default 1"
grep -q "schema id 1" <<<"$out" && ok || bad "v3 add-column output: [$out]"
"$M" put "$T3" '{"id":4,"name":"d"}' '{"id":5,"name":"e","tier":7}' '{"id":1,"name":"a2"}' >/dev/null
want='{"id":1,"name":"a2","tier":1}
{"id":2,"name":"b","tier":1}
{"id":3,"name":"c","tier":1}
{"id":4,"name":"d","tier":1}
{"id":5,"name":"e","tier":7}'
run "$M" scan "$T3"; same "v3 scan" "$want"
"$M" compact "$T3" >/dev/null
run "$M" scan "$T3"; same "v3 scan after compact" "$want"
run "$M" get "$T3" 2; same "v3 get" '{"id":2,"name":"b","tier":1}'
[ "$(meta "m['format-version'], m['current-schema-id'], [s['schema-id'] for s in m['schemas']]" "$T3")" = "3 1 [0, 1]" ] && ok || bad "v3 schemas"
[ "$(meta "[(f.get('initial-default'), f.get('write-default')) for f in m['schemas'][1]['fields']][2]" "$T3")" = "(1, 1)" ] && ok || bad "v3 defaults in metadata"
[ "$(meta_v "$v3_first" "$SNAP" "$T3")" = "[0]" ] && ok || bad "v3: first snapshot lost its schema id"
[ "$(meta "$SNAP" "$T3")" = "[1]" ] && ok || bad "v3: the current snapshot is not on schema 1"
# Our Parquet reader sees the column in the compacted file.
f=$(ls "$T3"/data/L*/*.parquet | head -1)
run "$M" parquet cat "$f" --columns id,tier
[ "$(grep -c '"tier":1' <<<"$out")" -eq 4 ] && grep -q '"tier":7' <<<"$out" && ok || bad "parquet cat of the compacted file: [$out]"

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
