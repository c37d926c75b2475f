# SPDX-License-Identifier: Apache-2.0
# The front door. The real build is CMake; these targets configure, build
# and run it in build/<flavour>. On a fresh Debian 12 machine (as root) the
# dependency step installs what is missing first, in tiers
# (scripts/install-deps.sh): demo, release and install need only the build
# tier (no npm, no clang); the test targets add the test tier, bench the
# benchmark peers.
#
#   make demo     Release build + `meru demo` (a real workload on a default table)
#   make test     Debug + ASan/UBSan build, all tests under ctest
#   make python   the Python module into build/python (PYTHONPATH=build/python)
#   make test-release / test-tsan / fuzz / bench / install / format / clean
#
# Warnings are errors here (WERROR=ON, as in CI); `make install WERROR=OFF`
# builds with a compiler that warns where ours does not.

JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE ?= cmake
PREFIX ?= /usr/local
CTEST_ARGS ?= --output-on-failure
WERROR ?= ON

.PHONY: all deps deps-build deps-test deps-bench release debug-asan demo test \
        test-asan test-release test-tsan fuzz bench install python format clean

all: release

build/.deps-build: scripts/install-deps.sh
	@bash scripts/install-deps.sh build
	@mkdir -p build && touch $@

build/.deps-test: scripts/install-deps.sh tests/interop/package-lock.json
	@bash scripts/install-deps.sh test
	@mkdir -p build && touch $@

deps-build: build/.deps-build
deps-test: build/.deps-test
deps: deps-build
deps-bench:
	@bash scripts/install-deps.sh bench

define configure
	$(CMAKE) -S . -B build/$(1) -DCMAKE_BUILD_TYPE=$(2) -DMERUTABLE_WERROR=$(WERROR) $(3) >/dev/null
endef

release: deps-build
	$(call configure,release,Release,)
	$(CMAKE) --build build/release -j $(JOBS)

debug-asan: deps-test
	$(call configure,asan,Debug,-DMERU_SANITIZE=asan)
	$(CMAKE) --build build/asan -j $(JOBS)

demo: release
	./build/release/meru demo

test: test-asan

test-asan: debug-asan
	cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  MERU_TEST_SCALE=0.25 ctest $(CTEST_ARGS) -j $(JOBS)

test-release: deps-test release
	cd build/release && ctest $(CTEST_ARGS) -j $(JOBS)

test-tsan: deps-test
	$(call configure,tsan,Debug,-DMERU_SANITIZE=tsan -DCMAKE_C_COMPILER=clang)
	$(CMAKE) --build build/tsan -j $(JOBS)
	cd build/tsan && MERU_TEST_SCALE=0.25 ctest $(CTEST_ARGS) -j $(JOBS) -L concurrent

fuzz: deps-test
	$(call configure,fuzz,Debug,-DMERUTABLE_BUILD_FUZZ=ON -DMERU_SANITIZE=asan -DCMAKE_C_COMPILER=clang -DMERUTABLE_BUILD_TESTS=OFF)
	$(CMAKE) --build build/fuzz -j $(JOBS)
	bash scripts/run-fuzz.sh build/fuzz $${FUZZ_SECONDS:-20}

bench: deps-build deps-bench
	$(call configure,release,Release,)
	$(CMAKE) --build build/release -j $(JOBS)
	@for b in build/release/bench_*; do [ -x "$$b" ] && "$$b" $(BENCH_ARGS); done

# Its own build directory: the prefix is configured (merutable.pc records
# it), and the development builds keep theirs.
install: deps-build
	$(call configure,install,Release,-DCMAKE_INSTALL_PREFIX=$(PREFIX) -DMERUTABLE_INSTALL=ON -DMERUTABLE_BUILD_TESTS=OFF -DMERUTABLE_BUILD_TOOLS=ON -DMERUTABLE_BUILD_BENCH=OFF -DMERU_PYTHON=OFF)
	$(CMAKE) --build build/install -j $(JOBS)
	$(CMAKE) --install build/install

# The CPython module, built for the python3 on PATH (its sysconfig gives the
# headers and the extension suffix) in the Release tree, then copied to
# build/python so that `PYTHONPATH=build/python python3 -c 'import merutable'`
# works.
python: deps-build
	@bash scripts/install-deps.sh python
	$(call configure,release,Release,-DMERU_PYTHON_EXECUTABLE="$$(command -v python3)")
	$(CMAKE) --build build/release -j $(JOBS) --target merutable_python
	rm -rf build/python/merutable && mkdir -p build/python
	cp -R build/release/python/merutable build/python/merutable

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
