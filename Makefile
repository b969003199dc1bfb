# Peregrine build. `make` leaves the binary at build/peregrine.
# Targets: all (default), test, asan, bench, clean.  CC=clang works too.

CC      ?= cc
PKGS    := yaml-0.1 libpcre2-8 libmicrohttpd gnutls
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c17 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc $(shell pkg-config --cflags $(PKGS))
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lpthread -lm
BUILD   ?= build

LIB_SRC  := $(sort $(shell find src -name '*.c' ! -path src/app/main.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
TEST_SRC := $(sort $(wildcard tests/unit/*.c))
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/obj/%.o)
DEPS     := $(LIB_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BUILD)/obj/src/app/main.d

all: $(BUILD)/peregrine

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libperegrine.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/peregrine: $(BUILD)/obj/src/app/main.o $(BUILD)/libperegrine.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/unit_tests: $(TEST_OBJ) $(BUILD)/libperegrine.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcjson

# Unit tests, then the data-driven end-to-end cases, the webhook, the rule
# test harness, our ruleset's tests, and follow mode end to end.
test: $(BUILD)/peregrine $(BUILD)/unit_tests
	$(BUILD)/unit_tests
	tests/run_cases.sh $(BUILD)/peregrine
	tests/webhook/run.sh $(BUILD)/peregrine
	tests/ruletest/run.sh $(BUILD)/peregrine
	$(BUILD)/peregrine -r rules --test rules/tests
	tests/follow/run.sh $(BUILD)/peregrine

# Everything the README's test command runs: dependencies, warnings as
# errors under gcc and clang, tests, tests again under ASan+UBSan, and
# the conformance fields suite.
check: deps
	$(MAKE) test
	$(MAKE) BUILD=build/clang CC=clang build/clang/peregrine build/clang/unit_tests
	$(MAKE) asan
	../shared/conformance/run $(BUILD)/peregrine --suite fields

deps:
	scripts/deps.sh

# The main job on the bundled sample: our own rules over samples/audit.jsonl.
demo: deps $(BUILD)/peregrine
	$(BUILD)/peregrine -r rules -e samples/audit.jsonl

# The same unit tests and cases under AddressSanitizer + UndefinedBehaviorSanitizer.
asan:
	ASAN_OPTIONS=detect_leaks=1 $(MAKE) BUILD=build/asan OPT="-O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" test

bench: $(BUILD)/peregrine
	$(MAKE) -C bench

clean:
	rm -rf build

.PHONY: all test check deps demo asan bench clean
-include $(DEPS)
