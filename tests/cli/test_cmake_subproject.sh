#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# merutable as a CMake subproject (add_subdirectory) of a project that is
# not ours: it configures from another source tree, the parent links
# merutable::merutable and merutable::merutable_static, and nothing leaks
# into the parent: its own code, which warns, builds with its own flags
# (no -Werror of ours), it gets no test of ours (ctest lists none) and no
# tool or benchmark target.
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
sed -n '/^```c$/,/^```$/p' "$MERU_SOURCE_DIR/README.md" | sed '1d;$d' > "$tmp/example.c"
# The parent's own file: an unused variable, a warning under -Wall.
cat > "$tmp/warns.c" <<'EOF'
int parent_helper(void);
int parent_helper(void) { int unused; return 0; }
EOF
cat > "$tmp/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.18)
project(parent C)
add_subdirectory("$MERU_SOURCE_DIR" merutable)
add_library(parent_lib STATIC warns.c)
target_compile_options(parent_lib PRIVATE -Wall)
add_executable(ex_shared example.c)
target_link_libraries(ex_shared PRIVATE merutable::merutable parent_lib)
add_executable(ex_static example.c)
target_link_libraries(ex_static PRIVATE merutable::merutable_static parent_lib)
enable_testing()
EOF
if ! cmake -S "$tmp" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Release >"$tmp/cfg.log" 2>&1; then
  tail -20 "$tmp/cfg.log"; echo "0 passed, 1 failed"; exit 1
fi
if ! cmake --build "$tmp/build" -j 2 >"$tmp/build.log" 2>&1; then
  grep -E "error|Error" "$tmp/build.log" | head -10; echo "0 passed, 1 failed"; exit 1
fi
want='{"id":42,"name":"hello","score":1.5}'
for kind in shared static; do
  got=$("$tmp/build/ex_$kind" "$tmp/table-$kind") || bad "ex_$kind exit $?"
  [ "$got" = "$want" ] || bad "ex_$kind printed [$got], want [$want]"
done
grep -q "warning: unused variable" "$tmp/build.log" || bad "the parent's warning was not shown"
grep -q -- "-Werror" "$tmp/build/CMakeFiles/parent_lib.dir/flags.make" && bad "-Werror leaked into the parent"
ntests=$(cd "$tmp/build" && ctest -N | sed -n 's/^Total Tests: //p')
[ "$ntests" = "0" ] || bad "the parent sees $ntests tests of ours"
targets=$(cmake --build "$tmp/build" --target help)
for t in meru test_row bench_kv; do
  grep -qw "$t" <<<"$targets" && bad "target $t leaked into the parent"
done
echo "$((fails == 0)) passed, $fails failed"
[ $fails -eq 0 ]
