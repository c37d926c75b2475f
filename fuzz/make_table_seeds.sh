#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Makes the seeds of fuzz_table_dir: small real tables written by the meru
# tool, each packed into the target's archive format (entries of [u8 name
# length][name][u32 LE data length][data], names relative to the table).
#
#   fuzz/make_table_seeds.sh MERU [OUT]     OUT: fuzz/corpus/fuzz_table_dir
#
# Seeds: files (two flushes, background-compacted, then more puts and a
# delete), a live log only (a `meru put` killed with SIGKILL before its
# close flushes), a compacted table with a composite key and a delete.
# Only the newest two metadata versions go in (the open reads the newest).
set -euo pipefail
meru=${1:?path to the meru tool}
out=${2:-$(cd "$(dirname "$0")" && pwd)/corpus/fuzz_table_dir}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

pack() { # DIR SEED
  python3 - "$1" "$2" <<'PY'
import os, struct, sys
root, seed = sys.argv[1], sys.argv[2]
out = bytearray()
meta = sorted((int(f[1:].split(".")[0]), f)
              for f in os.listdir(os.path.join(root, "metadata"))
              if f.startswith("v") and f.endswith(".metadata.json"))
old = {f for _, f in meta[:-2]}
for dp, dn, fn in sorted(os.walk(root)):
    dn.sort()
    for f in sorted(fn):
        if f == "LOCK" or f in old:
            continue
        p = os.path.join(dp, f)
        name = os.path.relpath(p, root).encode()
        data = open(p, "rb").read()
        out += bytes([len(name)]) + name + struct.pack("<I", len(data)) + data
open(seed, "wb").write(bytes(out))
PY
}

rows() { # FIRST LAST
  for i in $(seq "$1" "$2"); do
    echo "{\"id\":$i,\"v\":\"value $i\",\"n\":$((i * 7 % 13))}"
  done
}

t="$tmp/files"
"$meru" create "$t" --schema "id int64 not null, v string, n int32" \
  --primary-key id >/dev/null
rows 1 30 | "$meru" put "$t" - >/dev/null
"$meru" flush "$t" >/dev/null
rows 20 45 | "$meru" put "$t" - >/dev/null
"$meru" flush "$t" >/dev/null
rows 40 50 | "$meru" put "$t" - >/dev/null
"$meru" delete "$t" 3 >/dev/null
pack "$t" "$out/files_and_log"

t="$tmp/log"
"$meru" create "$t" --schema "id int64 not null, v string, n int32" \
  --primary-key id >/dev/null
{ rows 1 12; sleep 30; } | "$meru" load "$t" - --format jsonl --batch 3 >/dev/null &
put=$!
sleep 2
kill -9 "$put"
wait "$put" 2>/dev/null || true
pack "$t" "$out/log_only"

t="$tmp/compacted"
"$meru" create "$t" --schema "a string not null, b int64 not null, x double" \
  --primary-key a,b >/dev/null
for k in 1 2 3; do
  for i in $(seq 1 15); do
    echo "{\"a\":\"k$((i % 4))\",\"b\":$i,\"x\":$k.5}"
  done | "$meru" put "$t" - >/dev/null
  "$meru" flush "$t" >/dev/null
done
echo '["k1", 5]' | "$meru" delete "$t" - >/dev/null
"$meru" compact "$t" >/dev/null
pack "$t" "$out/compacted"
ls -l "$out"
