# Peregrine build. `make` leaves the binary at build/peregrine.
# Targets: all (default), test, check, asan, valgrind, hostile, fuzz, fuzz-run,
# bench, install, uninstall, clean.  CC=clang works too.

CC      ?= cc
PKGS    := yaml-0.1 libpcre2-8 zlib hiredis
# headers at build time, loaded at run time (dlopen, src/util/dlsyms.h) by
# what needs them, so runs without it do not pay their start-up cost:
# libcurl by the http output, libmicrohttpd and GnuTLS by the webhook and
# the admin server (src/util/mhd_api.c), Vectorscan by the rules' prefilter
# when a rule set is large enough to use it (src/util/hs_api.c)
DLPKGS  := libcurl libmicrohttpd gnutls libhs
OPT     ?= -O2
# Warnings are errors for developers and CI (make check, .ci/run set
# WERROR=-Werror), not for a user's build with another compiler.
WERROR  ?=
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c17 -Wall -Wextra $(WERROR) -D_GNU_SOURCE -Isrc $(shell pkg-config --cflags $(PKGS) $(DLPKGS))
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -ldl -lpthread -lm
BUILD   ?= build
# The external conformance kit; what needs it says "skipped" without it
# (scripts/with-shared.sh, tests/lib/shared.sh) unless PEREGRINE_REQUIRE_SHARED=1.
SHARED  := $(or $(PEREGRINE_SHARED),../shared)

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
# test harness, our ruleset's tests, follow mode and the alert channels end
# to end, and the differential test of rule evaluation (tests/scale).
test: $(BUILD)/peregrine $(BUILD)/unit_tests $(BUILD)/scale/gen_rules $(BUILD)/scale/gen_corpus
	$(BUILD)/unit_tests
	tests/run_cases.sh $(BUILD)/peregrine
	tests/big/run.sh $(BUILD)/peregrine
	tests/webhook/run.sh $(BUILD)/peregrine
	tests/cloud/run.sh $(BUILD)/peregrine
	tests/cloud/gke.sh $(BUILD)/peregrine
	tests/ruletest/run.sh $(BUILD)/peregrine
	$(BUILD)/peregrine -r rules --test rules/tests
	tests/follow/run.sh $(BUILD)/peregrine
	tests/outputs/run.sh $(BUILD)/peregrine
	tests/correlate/run.sh $(BUILD)/peregrine
	tests/redis/run.sh $(BUILD)/peregrine
	tests/scale/run.sh $(BUILD)

# The generators of bench/ that tests/scale/run.sh uses (rule sets, corpus).
$(BUILD)/scale/%: bench/%.c bench/bench_rng.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -o $@ $<

# Everything the README's test command runs: dependencies, warnings as
# errors under gcc and clang, tests, tests again under ASan+UBSan, valgrind,
# the hostile-input scripts, each fuzz target for CHECK_FUZZ_SECONDS, the
# conformance fields suite, and the install and deploy kit checks.
check: export WERROR = -Werror
check: deps
	scripts/check-layers.sh          # no include runs up the layer order (README, Architecture)
	scripts/check-sizes.sh           # files within 800 lines, functions within 120
	$(MAKE) test
	$(MAKE) BUILD=build/clang CC=clang build/clang/peregrine build/clang/unit_tests
	$(MAKE) asan
	$(MAKE) tsan
	$(MAKE) valgrind
	$(MAKE) hostile
	$(MAKE) fuzz-run FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS)
	scripts/with-shared.sh "conformance fields suite" $(SHARED)/conformance/run $(BUILD)/peregrine --suite fields
	tests/install/run.sh             # make install DESTDIR=… and make uninstall
	tests/deploy/run.sh              # deploy/ manifests, default config, unit, Dockerfile

deps:
	scripts/deps.sh

# The main job on the bundled sample: our own rules over samples/audit.jsonl.
demo: deps $(BUILD)/peregrine
	$(BUILD)/peregrine -r rules -e samples/audit.jsonl

# The same unit tests, cases and hostile-input scripts under
# AddressSanitizer + UndefinedBehaviorSanitizer (peak-RSS and time limits
# relaxed for the instrumented binary).
asan:
	ASAN_OPTIONS=detect_leaks=1 SCALE_TEST_RULES=1000 SCALE_TEST_EVENTS=2000 SCALE_TEST_BIG=0 \
	    $(MAKE) BUILD=build/asan OPT="$(ASAN_OPT)" test
	ASAN_OPTIONS=detect_leaks=1 RSS_LIMIT_KB=4000000 HOSTILE_RULES_SECONDS=60 HOSTILE_REGEX_US=5000 \
	    $(MAKE) BUILD=build/asan OPT="$(ASAN_OPT)" hostile
ASAN_OPT := -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

# ThreadSanitizer over the threaded tests: the unit tests (follow source,
# outputs' queues), the end-to-end cases (each on 1 and 3 threads: the
# pipeline), the webhook under load with reloads, follow mode and the alert
# channels.  Any race report fails (halt_on_error).
TSAN_OPT := -O1 -g -fsanitize=thread -fno-omit-frame-pointer
tsan:
	TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" $(MAKE) BUILD=build/tsan OPT="$(TSAN_OPT)" \
	    build/tsan/peregrine build/tsan/unit_tests
	TSAN_OPTIONS="halt_on_error=1" build/tsan/unit_tests
	TSAN_OPTIONS="halt_on_error=1" tests/run_cases.sh build/tsan/peregrine
	TSAN_OPTIONS="halt_on_error=1" tests/follow/run.sh build/tsan/peregrine
	TSAN_OPTIONS="halt_on_error=1" tests/outputs/run.sh build/tsan/peregrine
	TSAN_OPTIONS="halt_on_error=1" tests/webhook/run.sh build/tsan/peregrine

# End-to-end runs under valgrind memcheck (any error or leak fails): our
# rules over the sample log, and upstream's rules with JSON alerts over a
# generated 5000-event log.
VALGRIND := valgrind -q --error-exitcode=1 --leak-check=full --show-leak-kinds=definite,indirect,possible \
	    --errors-for-leak-kinds=definite,indirect,possible
valgrind: $(BUILD)/peregrine
	$(VALGRIND) $(BUILD)/peregrine -r rules -e samples/audit.jsonl > $(BUILD)/valgrind.out
	@mkdir -p $(BUILD)/hostile
	$(CC) -O2 -o $(BUILD)/hostile/gen_corpus bench/gen_corpus.c
	$(BUILD)/hostile/gen_corpus 5000 11 > $(BUILD)/hostile/audit-5000.jsonl 2>/dev/null
	scripts/with-shared.sh "valgrind over upstream's rules" \
	    $(VALGRIND) $(BUILD)/peregrine -r $(SHARED)/conformance/data/rules/k8s_audit_rules-0.18.0.yaml \
	    -o json_output=true -o rule_matching=all -e $(BUILD)/hostile/audit-5000.jsonl \
	    > $(BUILD)/valgrind-json.out

# Hostile input and rule files (tests/hostile/*.sh; data generated into
# $(BUILD)/hostile, never committed).
hostile: $(BUILD)/peregrine
	@for t in tests/hostile/*.sh; do echo "hostile: $$t"; $$t $(BUILD) || exit 1; done

# libFuzzer targets (fuzz/Makefile): build, and run each FUZZ_SECONDS.
CHECK_FUZZ_SECONDS ?= 20
fuzz:
	$(MAKE) -C fuzz all PKGS="$(PKGS)"
fuzz-run:
	$(MAKE) -C fuzz run PKGS="$(PKGS)" FUZZ_SECONDS=$(or $(FUZZ_SECONDS),20)

# The benchmark table (BENCHMARKS.md); `make -C bench rss|callgrind` for the rest.
bench: $(BUILD)/peregrine
	scripts/deps.sh --bench
	$(MAKE) -C bench bench

# Installation: PREFIX (default /usr/local) and DESTDIR (staging) as usual.
# The configuration and rules always go to /etc/peregrine, where the binary
# looks for them; an existing peregrine.yaml is never overwritten.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
CONFDIR := /etc/peregrine
RULES   := $(sort $(wildcard rules/*.yaml))

install: $(BUILD)/peregrine
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CONFDIR)/rules
	install -m 0755 $(BUILD)/peregrine $(DESTDIR)$(BINDIR)/peregrine
	install -m 0644 docs/peregrine.1 $(DESTDIR)$(MANDIR)/man1/peregrine.1
	sed 's|/usr/local/bin/peregrine|$(BINDIR)/peregrine|' deploy/systemd/peregrine.service \
	    > $(DESTDIR)$(UNITDIR)/peregrine.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/peregrine.service
	install -m 0644 $(RULES) $(DESTDIR)$(CONFDIR)/rules/
	test -e $(DESTDIR)$(CONFDIR)/peregrine.yaml || \
	    install -m 0644 deploy/peregrine.yaml $(DESTDIR)$(CONFDIR)/peregrine.yaml

# Removes what install put there; a changed peregrine.yaml and files added
# to the rules directory stay.
uninstall:
	rm -f $(DESTDIR)$(BINDIR)/peregrine $(DESTDIR)$(MANDIR)/man1/peregrine.1 \
	    $(DESTDIR)$(UNITDIR)/peregrine.service $(addprefix $(DESTDIR)$(CONFDIR)/rules/,$(notdir $(RULES)))
	if cmp -s deploy/peregrine.yaml $(DESTDIR)$(CONFDIR)/peregrine.yaml; then \
	    rm -f $(DESTDIR)$(CONFDIR)/peregrine.yaml; fi
	-rmdir $(DESTDIR)$(CONFDIR)/rules $(DESTDIR)$(CONFDIR) 2>/dev/null

clean:
	rm -rf build

.PHONY: all test check deps demo asan tsan valgrind hostile fuzz fuzz-run bench install uninstall clean
-include $(DEPS)
