#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# `cmake --install` gives a usable library, linked the three usual ways:
#  - pkg-config: the README's C example compiles against the installed
#    header, links shared and static, and prints what the README says;
#    `pkg-config --static --libs` is complete: the example links with every
#    codec library that has a static archive forced static (snappy is C++,
#    brotli needs libm: Libs.private must say so);
#  - CMake find_package(merutable) against the install prefix: a consumer
#    project links merutable::merutable and merutable::merutable_static;
#  - the shared library exports only meru_* symbols; the SQLite extension
#    is installed beside it and exports its entry points only.
# (add_subdirectory is tests/cli/test_cmake_subproject.sh.)
set -euo pipefail
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
bad() { echo "FAIL: $*"; fails=$((fails+1)); }
cmake --install "$MERU_BINARY_DIR" --prefix "$tmp/prefix" >/dev/null
libdir="$tmp/prefix/lib"
[ -d "$libdir/pkgconfig" ] || libdir=$(dirname "$(find "$tmp/prefix" -name merutable.pc | head -1)")/..
export PKG_CONFIG_PATH="$libdir/pkgconfig"
sed -n '/^```c$/,/^```$/p' "$MERU_SOURCE_DIR/README.md" | sed '1d;$d' > "$tmp/example.c"
[ -s "$tmp/example.c" ] || { echo "README has no C example"; exit 1; }
san=""
grep -q "MERU_SANITIZE:STRING=asan" "$MERU_BINARY_DIR/CMakeCache.txt" && san="-fsanitize=address,undefined"
grep -q "MERU_SANITIZE:STRING=tsan" "$MERU_BINARY_DIR/CMakeCache.txt" && san="-fsanitize=thread"
want='{"id":42,"name":"hello","score":1.5}'
check_run() { # check_run DESC BINARY TABLE
  local got
  got=$("$2" "$3") || { bad "$1: exit $?"; return; }
  [ "$got" = "$want" ] || bad "$1 printed [$got], want [$want]"
}

# ---- pkg-config ------------------------------------------------------------
pcopt=(--define-variable=prefix="$tmp/prefix")
flags=$(pkg-config "${pcopt[@]}" --cflags merutable)
libs=$(pkg-config "${pcopt[@]}" --libs merutable)
static_libs=$(pkg-config "${pcopt[@]}" --libs --static merutable)
cc -std=c11 -Wall -Wextra -Werror $san $flags "$tmp/example.c" -o "$tmp/ex-shared" $libs -Wl,-rpath,"$libdir"
cc -std=c11 -Wall -Wextra -Werror $san $flags "$tmp/example.c" -o "$tmp/ex-static" \
   "$libdir/libmerutable.a" $(sed 's/-lmerutable//' <<<"$static_libs")
check_run "shared example" "$tmp/ex-shared" "$tmp/table-shared"
check_run "static example" "$tmp/ex-static" "$tmp/table-static"
# Run again on the same table: it reopens it and finds the row.
check_run "reopened example" "$tmp/ex-shared" "$tmp/table-static"

# Every dependency that has a static archive linked from it: only what
# Libs.private names gets the C++ runtime (snappy) and libm (brotli) in.
forced=()
for w in $(sed 's/-lmerutable//' <<<"$static_libs"); do
  case "$w" in
    -lpthread|-lm|-lroaring|-lstdc++|-L*|-pthread) forced+=("$w") ;;
    -l*) lib=${w#-l}
         if [ -e "/usr/lib/x86_64-linux-gnu/lib$lib.a" ] || [ -e "/usr/lib/lib$lib.a" ]; then
           forced+=(-Wl,-Bstatic "$w" -Wl,-Bdynamic)
         else forced+=("$w"); fi ;;
    *) forced+=("$w") ;;
  esac
done
if cc -std=c11 $san $flags "$tmp/example.c" -o "$tmp/ex-static-deps" \
     "$libdir/libmerutable.a" "${forced[@]}" 2>"$tmp/link.err"; then
  check_run "example with static codec libraries" "$tmp/ex-static-deps" "$tmp/table-deps"
else
  bad "linking with 'pkg-config --static --libs' and static codec libraries failed: $(head -3 "$tmp/link.err")"
fi
grep -q -- "-lstdc++" <<<"$static_libs" || bad "pkg-config --static lacks -lstdc++ (snappy is C++)"

# ---- CMake: find_package ---------------------------------------------------
mkdir -p "$tmp/consumer"
cp "$tmp/example.c" "$tmp/consumer/"
cat > "$tmp/consumer/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(merutable 0.1 REQUIRED)
foreach(kind shared static)
  add_executable(ex_\${kind} example.c)
  if(kind STREQUAL "shared")
    target_link_libraries(ex_\${kind} PRIVATE merutable::merutable)
  else()
    target_link_libraries(ex_\${kind} PRIVATE merutable::merutable_static)
  endif()
  if(NOT "$san" STREQUAL "")
    target_compile_options(ex_\${kind} PRIVATE $san)
    target_link_options(ex_\${kind} PRIVATE $san)
  endif()
endforeach()
EOF
if cmake -S "$tmp/consumer" -B "$tmp/consumer/build" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
     >"$tmp/cmake.log" 2>&1 && cmake --build "$tmp/consumer/build" >>"$tmp/cmake.log" 2>&1; then
  check_run "find_package shared" "$tmp/consumer/build/ex_shared" "$tmp/table-fp1"
  check_run "find_package static" "$tmp/consumer/build/ex_static" "$tmp/table-fp1"
else
  bad "find_package(merutable) consumer did not build:"; tail -20 "$tmp/cmake.log"
fi
# The version file: 0.1 matches, another minor version does not (0.x).
sed -i 's/find_package(merutable 0.1 REQUIRED)/find_package(merutable 0.2 QUIET)\nif(merutable_FOUND)\n  message(FATAL_ERROR "0.2 accepted")\nendif()\nreturn()/' "$tmp/consumer/CMakeLists.txt"
cmake -S "$tmp/consumer" -B "$tmp/consumer/build2" -DCMAKE_PREFIX_PATH="$tmp/prefix" \
  >"$tmp/cmake2.log" 2>&1 || bad "find_package(merutable 0.2) found 0.1: $(tail -3 "$tmp/cmake2.log")"

leaked=$(nm -D --defined-only "$libdir/libmerutable.so" | awk '{print $3}' | grep -v '^meru_' || true)
[ -z "$leaked" ] || bad "non-API symbols exported: $(head -3 <<<"$leaked")"
[ -f "$tmp/prefix/share/doc/merutable/LICENSE" ] || bad "LICENSE not installed"
# The SQLite extension sits beside the library and exports its entry
# points only (the engine inside it stays private).
ext="$libdir/merutable_sqlite.so"
if [ -f "$ext" ]; then
  exported=$(nm -D --defined-only "$ext" | awk '{print $3}' | sort | tr '\n' ' ')
  [ "$exported" = "sqlite3_merutable_init sqlite3_merutablesqlite_init " ] ||
    bad "merutable_sqlite.so exports: $exported"
else
  bad "merutable_sqlite.so not installed"
fi
echo "$((fails == 0)) passed, $fails failed"
[ $fails -eq 0 ]
