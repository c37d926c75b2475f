# SPDX-License-Identifier: Apache-2.0
# The front door. The real build is CMake; these targets configure, build
# and run it in build/<flavour>. On a fresh Debian 12 machine (as root) the
# dependency step installs what is missing first.
#
#   make demo     Release build + `meru demo` (a real workload on a default table)
#   make test     Debug + ASan/UBSan build, all tests under ctest
#   make python   the Python module into build/python (PYTHONPATH=build/python)
#   make test-release / test-tsan / fuzz / bench / install / format / clean

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE ?= cmake
DEPS_STAMP = build/.deps-ok
PREFIX ?= /usr/local
CTEST_ARGS ?= --output-on-failure

.PHONY: all deps release debug-asan demo test test-asan test-release test-tsan fuzz bench install python format clean

all: release

$(DEPS_STAMP): scripts/install-deps.sh
	@bash scripts/install-deps.sh --npm
	@mkdir -p build && touch $@

deps: $(DEPS_STAMP)

define configure
	$(CMAKE) -S . -B build/$(1) -DCMAKE_BUILD_TYPE=$(2) $(3) >/dev/null
endef

release: deps
	$(call configure,release,Release,)
	$(CMAKE) --build build/release -j $(JOBS)

debug-asan: deps
	$(call configure,asan,Debug,-DMERU_SANITIZE=asan)
	$(CMAKE) --build build/asan -j $(JOBS)

demo: release
	./build/release/meru demo

test: test-asan

test-asan: debug-asan
	cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  MERU_TEST_SCALE=0.25 ctest $(CTEST_ARGS) -j $(JOBS)

test-release: release
	cd build/release && ctest $(CTEST_ARGS) -j $(JOBS)

test-tsan: deps
	$(call configure,tsan,Debug,-DMERU_SANITIZE=tsan -DCMAKE_C_COMPILER=clang)
	$(CMAKE) --build build/tsan -j $(JOBS)
	cd build/tsan && MERU_TEST_SCALE=0.25 ctest $(CTEST_ARGS) -j $(JOBS) -L concurrent

fuzz: deps
	$(call configure,fuzz,Debug,-DMERU_FUZZ=ON -DMERU_SANITIZE=asan -DCMAKE_C_COMPILER=clang -DBUILD_TESTING=OFF)
	$(CMAKE) --build build/fuzz -j $(JOBS)
	bash scripts/run-fuzz.sh build/fuzz $${FUZZ_SECONDS:-20}

bench: deps
	@bash scripts/install-deps.sh --bench
	$(call configure,release,Release,)
	$(CMAKE) --build build/release -j $(JOBS)
	@for b in build/release/bench_*; do [ -x "$$b" ] && "$$b" $(BENCH_ARGS); done

# The prefix is configured (not only passed to --install) because
# merutable.pc records it.
install: deps
	$(call configure,release,Release,-DCMAKE_INSTALL_PREFIX=$(PREFIX))
	$(CMAKE) --build build/release -j $(JOBS)
	$(CMAKE) --install build/release

# The CPython module, built for the python3 on PATH (its sysconfig gives the
# headers and the extension suffix) in the Release tree, then copied to
# build/python so that `PYTHONPATH=build/python python3 -c 'import merutable'`
# works.
python: deps
	$(call configure,release,Release,-DMERU_PYTHON_EXECUTABLE="$$(command -v python3)")
	$(CMAKE) --build build/release -j $(JOBS) --target merutable_python
	rm -rf build/python/merutable && mkdir -p build/python
	cp -R build/release/python/merutable build/python/merutable

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
