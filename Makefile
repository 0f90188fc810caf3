# Cairn. `make` builds build/cairn; `make run` starts it; `make test` runs every test;
# `make bench` measures. SANITIZE=1 builds with address and undefined-behaviour
# sanitizers under build/asan.

VERSION := 0.1.0
# The commit a build comes from (cairn version, /api/v1/health): from git, when there is one.
COMMIT := $(shell git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(shell git diff --quiet HEAD -- 2>/dev/null || echo -dirty)
CC ?= cc
PKGS := libmicrohttpd json-c sqlite3 libsodium libcrypto libcurl inih zlib libxcrypt

ifeq ($(FUZZ),1)
# make fuzz: the library and targets built by clang with libFuzzer's coverage
CC := clang
BUILD := build/fuzzer
SANFLAGS := -fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT := -O1
else ifeq ($(SANITIZE),1)
BUILD := build/asan
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
OPT := -O1
else
BUILD := build
SANFLAGS :=
OPT := -O2
endif

PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
WARN := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wformat=2 -Werror
override CFLAGS := -std=c17 -D_GNU_SOURCE $(OPT) -g $(WARN) $(SANFLAGS) \
	-DCAIRN_VERSION='"$(VERSION)"' -MMD -MP $(PKG_CFLAGS) $(CFLAGS)
override LDFLAGS := $(SANFLAGS) $(LDFLAGS)
LIBS = $(PKG_LIBS) -lunistring -lpthread

LIB_SRC := $(sort $(wildcard src/util/*.c src/store/*.c src/core/*.c src/core/*/*.c src/http/*.c src/http/compat/*.c src/http/compat/*/*.c src/cli/*.c src/client/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
# Contract suites, run once per backend (CAIRN_TEST_DB, CAIRN_TEST_BLOBS name it)
CONTRACT_SRC := $(sort $(wildcard tests/store/*.c tests/blob/*.c))
CONTRACT_BIN := $(foreach f,$(CONTRACT_SRC),$(BUILD)/tests/test_$(notdir $(patsubst %/,%,$(dir $(f))))_$(basename $(notdir $(f))))
UNIT_BIN += $(CONTRACT_BIN)
# fuzz/fuzz_NAME.c: each target as a replay of its saved corpus (make test), and with
# libFuzzer (make fuzz)
FUZZ_NAMES := $(sort $(patsubst fuzz/fuzz_%.c,%,$(wildcard fuzz/fuzz_*.c)))
FUZZ_REPLAY := $(FUZZ_NAMES:%=$(BUILD)/fuzz/%-replay)
FUZZ_BIN := $(FUZZ_NAMES:%=$(BUILD)/fuzz/%-fuzzer)
FUZZ_SECONDS ?= 60

.PHONY: FORCE all run test unit api bench fuzz fuzz-build deps deps-test deps-bench deps-fuzz clean check-banned
all: $(BUILD)/cairn

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@echo '  CC   $<'
	@$(CC) $(CFLAGS) -c $< -o $@

# version.o is rebuilt when the commit changes: the stamp is rewritten only then.
$(BUILD)/commit.stamp: FORCE
	@mkdir -p $(@D)
	@echo '$(COMMIT)' | cmp -s - $@ || echo '$(COMMIT)' > $@
$(BUILD)/src/util/version.o: src/util/version.c $(BUILD)/commit.stamp
	@mkdir -p $(@D)
	@echo '  CC   $<'
	@$(CC) $(CFLAGS) -DCAIRN_COMMIT='"$(COMMIT)"' -c $< -o $@
FORCE:

$(BUILD)/libcairn.a: $(LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/cairn: $(BUILD)/src/main.o $(BUILD)/libcairn.a
	@echo '  LINK $@'
	@$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

# test_worker sees every clock_gettime libcairn makes (it shows a stepped wall clock)
TEST_LDFLAGS_test_worker := -Wl,--wrap=clock_gettime
$(BUILD)/tests/test_store_%: tests/store/%.c $(BUILD)/libcairn.a
	@mkdir -p $(@D)
	@echo '  TEST $@'
	@$(CC) $(CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(BUILD)/libcairn.a $(LIBS) $$(pkg-config --libs cmocka)
$(BUILD)/tests/test_blob_%: tests/blob/%.c $(BUILD)/libcairn.a
	@mkdir -p $(@D)
	@echo '  TEST $@'
	@$(CC) $(CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(BUILD)/libcairn.a $(LIBS) $$(pkg-config --libs cmocka)
$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libcairn.a
	@mkdir -p $(@D)
	@echo '  TEST $@'
	@$(CC) $(CFLAGS) -Isrc $(LDFLAGS) $(TEST_LDFLAGS_$*) -o $@ $< $(BUILD)/libcairn.a $(LIBS) $$(pkg-config --libs cmocka)

$(BUILD)/fuzz/%-replay: fuzz/fuzz_%.c fuzz/replay.c fuzz/fuzz.h $(BUILD)/libcairn.a
	@mkdir -p $(@D)
	@echo '  FUZZ $@'
	@$(CC) $(CFLAGS) -Isrc $(LDFLAGS) -o $@ fuzz/fuzz_$*.c fuzz/replay.c $(BUILD)/libcairn.a $(LIBS)

$(BUILD)/fuzz/%-fuzzer: fuzz/fuzz_%.c fuzz/fuzz.h $(BUILD)/libcairn.a
	@mkdir -p $(@D)
	@echo '  FUZZ $@'
	@$(CC) $(CFLAGS) -fsanitize=fuzzer -Isrc $(LDFLAGS) -o $@ fuzz/fuzz_$*.c $(BUILD)/libcairn.a $(LIBS)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libcairn.a
	@mkdir -p $(@D)
	@echo '  BENCH $@'
	@$(CC) $(CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(BUILD)/libcairn.a $(LIBS)

deps:
	@scripts/deps.sh build
deps-test:
	@scripts/deps.sh test
deps-bench:
	@scripts/deps.sh bench
deps-fuzz:
	@scripts/deps.sh fuzz

run: deps
	$(MAKE) all
	mkdir -p data
	exec $(BUILD)/cairn serve --data ./data

# The build itself needs pkg-config's answers, so deps run first in a separate make.
test: deps-test
	$(MAKE) check-banned $(BUILD)/cairn $(UNIT_BIN) $(FUZZ_REPLAY)
	scripts/test.sh $(BUILD)

unit: $(UNIT_BIN) $(FUZZ_REPLAY)
	scripts/test.sh $(BUILD) unit
api: $(BUILD)/cairn
	scripts/test.sh $(BUILD) api

bench: deps-bench
	$(MAKE) all $(BUILD)/bench/raw_push $(BUILD)/bench/raw_sqlite
	bench/run.sh
	bench/sync.sh
	bench/blobs.sh
	bench/files.sh
	bench/messages.sh
	bench/tickit.sh
	bench/sts.sh
	bench/verstak.sh

# Each libFuzzer target for FUZZ_SECONDS (default 60), starting from fuzz/corpus/NAME;
# new inputs go to build/fuzzer/corpus/NAME, crashes to build/fuzzer/crashes/NAME.
fuzz: deps-fuzz
	$(MAKE) FUZZ=1 fuzz-build
	scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_NAMES)
fuzz-build: $(FUZZ_BIN)

# git's banned.h idea, as a check: these invite overflows or unchecked parsing.
check-banned:
	@! grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|strtok)[[:space:]]*\(' \
		$$(find src tests/unit fuzz -name '*.[ch]') || \
		{ echo "banned function used (see docs/STYLE in the Makefile's check-banned)"; exit 1; }
	@! grep -nE '\b(pthread_create|pthread_cond_timedwait)[[:space:]]*\(|CLOCK_REALTIME' \
		$$(find src -name '*.[ch]' ! -name 'worker.[ch]' ! -name clock.c) || \
		{ echo "threads and timed waits belong to src/util/worker.c (monotonic clock)"; exit 1; }
	@! grep -nE '#include "\.\./store/' $$(find src/http src/cli -name '*.[ch]' ! -name h_health.c) || \
		{ echo "http/ and cli/ reach storage only through core (docs/architecture.md)"; exit 1; }
	@! grep -nE '#include <microhttpd.h>' $$(find src -name '*.[ch]' ! -name server.c ! -name request.c ! -name reply.c \
		! -name watchdog.c ! -name multipart.c ! -name server_int.h) || \
		{ echo "libmicrohttpd belongs to the HTTP glue (server.c, request.c, reply.c, watchdog.c, multipart.c)"; exit 1; }

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(BUILD)/src/main.d
