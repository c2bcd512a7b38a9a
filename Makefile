# Thin wrapper over CMake presets. `make` builds both presets (dev = ASan/UBSan,
# release = optimised); `make test` runs every test; `make bench` the benchmarks;
# `make install PREFIX=DIR` builds the release preset and installs it (binary, web
# console, man page) under DIR (default /usr/local; DESTDIR is honoured; BUILD=dev
# installs the dev build instead). `make fuzz` builds the libFuzzer harnesses (preset
# fuzz, clang) and runs each for FUZZ_SECONDS (default 600) on its corpus (scripts/fuzz).
.PHONY: all dev release test unit bench fmt clean install fuzz

PREFIX ?= /usr/local
BUILD ?= release

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

FUZZ_SECONDS ?= 600
fuzz:
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz

bench: release
	@bench/run

install: $(BUILD)
	@cmake --install build/$(BUILD) --prefix "$(PREFIX)"

fmt:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
