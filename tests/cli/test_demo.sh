#!/usr/bin/env bash
# `meru demo --quick DIR` runs the workload, verifies key order, writes the
# schema as Iceberg JSON, and refuses bad input with messages.
set -euo pipefail
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
out=$("$MERU" demo --quick "$dir/t")
grep -q "verified for all 50000 keys" <<<"$out" || { echo "no verification line"; echo "$out"; exit 1; }
grep -q '"identifier-field-ids"' "$dir/t/schema.json" || { echo "schema.json lacks identifier-field-ids"; exit 1; }
grep -q "precision 40 is out of range" <<<"$out" || { echo "bad-input section missing"; exit 1; }
# Usage errors exit 2; unknown verbs too.
set +e
"$MERU" demo --rows 0 2>/dev/null; [ $? -eq 2 ] || { echo "--rows 0 should be a usage error"; exit 1; }
"$MERU" no-such-verb 2>/dev/null; [ $? -eq 2 ] || { echo "unknown verb should exit 2"; exit 1; }
echo "1 passed, 0 failed"
