#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# meru verify [--quick] and meru repair on damaged tables: a damaged newest
# metadata version makes every verb fail naming the file (nothing deleted),
# verify reports it, repair rolls back (keeping the lost commit's rows: its
# file is put back) and logs it, after which everything works; a damaged
# data file: verify names it, repair sets it aside; a sound table: repair
# changes nothing but its log.
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
. "$(dirname "${BASH_SOURCE[0]}")/harness.bash"
M="$MERU"; T="$tmp/t"

expect 0 "create" "$M" create "$T" --schema "id int64 not null, v string" --primary-key id
for i in $(seq 1 40); do echo "{\"id\":$i,\"v\":\"row $i\"}"; done > "$tmp/a.jsonl"
for i in $(seq 41 80); do echo "{\"id\":$i,\"v\":\"row $i\"}"; done > "$tmp/b.jsonl"
expect 0 "put a" "$M" put "$T" - < "$tmp/a.jsonl"
expect 0 "flush a" "$M" flush "$T"
expect 0 "put b" "$M" put "$T" - < "$tmp/b.jsonl"
expect 0 "flush b" "$M" flush "$T"
expect 0 "verify" "$M" verify "$T"
grep -q "80 rows.*row versions.*OK" <<<"$out" && ok || bad "verify: $out"
expect 0 "verify --quick" "$M" verify "$T" --quick
grep -q "80 rows.*OK (quick" <<<"$out" && ok || bad "verify --quick: $out"
expect 0 "repair of a sound table" "$M" repair "$T"
grep -q "repaired" <<<"$out" && ok || bad "repair sound: $out"
grep -q "rolled back\|dropped\|moved" <<<"$out" && bad "repair changed a sound table: $out" || ok

# damage the newest metadata version (one bit)
newest=$(ls "$T/metadata" | grep -E '^v[0-9]+\.metadata\.json$' | sort -V | tail -1)
files_before=$(find "$T/data" -type f | sort)
python3 - "$T/metadata/$newest" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
b[len(b) // 2] ^= 0x20
open(p, 'wb').write(bytes(b))
PY
expect 1 "get on damaged metadata" "$M" get "$T" 5
grep -q "$newest" <<<"$err" && grep -q "nothing was changed" <<<"$err" && ok || bad "get error: $err"
expect 1 "verify on damaged metadata" "$M" verify "$T"
[ "$(find "$T/data" -type f | sort)" = "$files_before" ] && ok || bad "a failed open deleted files"
expect 0 "repair" "$M" repair "$T"
grep -q "rolled back 1 damaged metadata version" <<<"$out" && ok || bad "repair: $out"
[ -f "$T/metadata/$newest.damaged" ] && ok || bad "the damaged version was not set aside"
grep -q "rolling back to metadata version" "$T/repair.log" && ok || bad "repair.log: $(cat "$T/repair.log")"
expect 0 "count after repair" "$M" count "$T"; same "count after repair" "80"
expect 0 "verify after repair" "$M" verify "$T"

# damage a data file's footer
f=$(find "$T/data" -name '*.parquet' | head -1)
python3 - "$f" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
for i in range(len(b) - 60, len(b) - 8):
    b[i] ^= 0xA5
open(p, 'wb').write(bytes(b))
PY
expect 1 "verify names the damaged file" "$M" verify "$T"
grep -q "$(basename "$f")" <<<"$err" && ok || bad "verify error: $err"
expect 0 "repair sets it aside" "$M" repair "$T"
grep -q "dropped 1 unreadable data file" <<<"$out" && ok || bad "repair file: $out"
[ -d "$T/lost" ] && ok || bad "no lost/ directory"
expect 0 "verify after setting it aside" "$M" verify "$T"
[ "$fails" -eq 0 ] && echo "ok: $passes checks" || { echo "$fails failed, $passes passed"; exit 1; }
