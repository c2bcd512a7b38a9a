# Thin wrapper over CMake presets. `make` builds both presets (dev = ASan/UBSan,
# release = optimised); `make test` runs every test; `make bench` the benchmarks.
.PHONY: all dev release test unit bench fmt clean

all: dev release

dev:
	@cmake --preset dev >/dev/null
	@cmake --build --preset dev

release:
	@cmake --preset release >/dev/null
	@cmake --build --preset release

test: all
	@scripts/test

unit: dev
	@ctest --test-dir build/dev --output-on-failure

bench: release
	@bench/run

fmt:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
