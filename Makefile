# Cairn. `make` builds build/cairn; `make run` starts it; `make test` runs every test;
# `make bench` measures. SANITIZE=1 builds with address and undefined-behaviour
# sanitizers under build/asan.

VERSION := 0.1.0
CC ?= cc
PKGS := libmicrohttpd json-c sqlite3 libsodium libcrypto libcurl inih

ifeq ($(SANITIZE),1)
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
LIBS = $(PKG_LIBS) -lpthread

LIB_SRC := $(sort $(wildcard src/util/*.c src/store/*.c src/core/*.c src/http/*.c src/cli/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all run test unit api bench deps deps-test deps-bench clean check-banned
all: $(BUILD)/cairn

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@echo '  CC   $<'
	@$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libcairn.a: $(LIB_OBJ)
	@rm -f $@
	@ar rcs $@ $^

$(BUILD)/cairn: $(BUILD)/src/main.o $(BUILD)/libcairn.a
	@echo '  LINK $@'
	@$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libcairn.a
	@mkdir -p $(@D)
	@echo '  TEST $@'
	@$(CC) $(CFLAGS) -Isrc $(LDFLAGS) -o $@ $< $(BUILD)/libcairn.a $(LIBS) $$(pkg-config --libs cmocka)

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

run: deps
	$(MAKE) all
	mkdir -p data
	exec $(BUILD)/cairn serve --data ./data

# The build itself needs pkg-config's answers, so deps run first in a separate make.
test: deps-test
	$(MAKE) check-banned $(BUILD)/cairn $(UNIT_BIN)
	scripts/test.sh $(BUILD)

unit: $(UNIT_BIN)
	scripts/test.sh $(BUILD) unit
api: $(BUILD)/cairn
	scripts/test.sh $(BUILD) api

bench: deps-bench
	$(MAKE) all $(BUILD)/bench/raw_push
	bench/run.sh
	bench/sync.sh
	bench/blobs.sh

# git's banned.h idea, as a check: these invite overflows or unchecked parsing.
check-banned:
	@! grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|strtok)[[:space:]]*\(' \
		$$(find src tests/unit -name '*.[ch]') || \
		{ echo "banned function used (see docs/STYLE in the Makefile's check-banned)"; exit 1; }

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(BUILD)/src/main.d
