#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `cmake --install` gives a usable library: the README's C example compiles
# against the installed header through pkg-config, links (shared and static)
# and prints what the README says; the shared library exports only meru_*;
# the SQLite extension is installed beside it.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cmake --install "$MERU_BINARY_DIR" --prefix "$tmp/prefix" >/dev/null
pc="$tmp/prefix/lib/pkgconfig"
export PKG_CONFIG_PATH="$pc"
sed -n '/^```c$/,/^```$/p' "$MERU_SOURCE_DIR/README.md" | sed '1d;$d' > "$tmp/example.c"
[ -s "$tmp/example.c" ] || { echo "README has no C example"; exit 1; }
san=""
grep -q "MERU_SANITIZE:STRING=asan" "$MERU_BINARY_DIR/CMakeCache.txt" && san="-fsanitize=address,undefined"
grep -q "MERU_SANITIZE:STRING=tsan" "$MERU_BINARY_DIR/CMakeCache.txt" && san="-fsanitize=thread"
flags=$(pkg-config --define-variable=prefix="$tmp/prefix" --cflags merutable)
libs=$(pkg-config --define-variable=prefix="$tmp/prefix" --libs merutable)
static_libs=$(pkg-config --define-variable=prefix="$tmp/prefix" --libs --static merutable)
cc -std=c11 -Wall -Wextra -Werror $san $flags "$tmp/example.c" -o "$tmp/ex-shared" $libs -Wl,-rpath,"$tmp/prefix/lib"
cc -std=c11 -Wall -Wextra -Werror $san $flags "$tmp/example.c" -o "$tmp/ex-static" \
   "$tmp/prefix/lib/libmerutable.a" $(sed 's/-lmerutable//' <<<"$static_libs")
want='{"id":42,"name":"hello","score":1.5}'
[ "$("$tmp/ex-shared" "$tmp/table-shared")" = "$want" ] || { echo "shared example printed something else"; exit 1; }
[ "$("$tmp/ex-static" "$tmp/table-static")" = "$want" ] || { echo "static example printed something else"; exit 1; }
# Run again on the same table: it reopens it and finds the row.
[ "$("$tmp/ex-shared" "$tmp/table-static")" = "$want" ] || { echo "reopened example printed something else"; exit 1; }
leaked=$(nm -D --defined-only "$tmp/prefix/lib/libmerutable.so" | awk '{print $3}' | grep -v '^meru_' || true)
[ -z "$leaked" ] || { echo "non-API symbols exported:"; echo "$leaked" | head; exit 1; }
# The SQLite extension sits beside the library and exports its entry
# points only (the engine inside it stays private).
ext="$tmp/prefix/lib/merutable_sqlite.so"
[ -f "$ext" ] || { echo "merutable_sqlite.so not installed"; exit 1; }
exported=$(nm -D --defined-only "$ext" | awk '{print $3}' | sort | tr '\n' ' ')
[ "$exported" = "sqlite3_merutable_init sqlite3_merutablesqlite_init " ] ||
  { echo "merutable_sqlite.so exports: $exported"; exit 1; }
echo "1 passed, 0 failed"
