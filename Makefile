# Top-level build. Every part's folder holds a module.mk that declares its library, programs
# and system libraries with the macros below; this file names no part, so parts grow apart.
#
#   make              build every program into $(BUILD)/
#   make check        install deps, build, build fuzzers, run every test (summary line last)
#   make check-asan   the same tests, built with AddressSanitizer and UBSan
#   make fuzz         libFuzzer targets into build-fuzz/
#   make demo         run the product on a sample setup
#   make bench        benchmarks that print figures
#   make soak SECONDS=N  randomized tests run with fresh seeds for N seconds each

BUILD    ?= build
CC       ?= cc
CFLAGS   ?= -O2 -g
SAN      ?=
WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
CPPFLAGS += -I. -D_GNU_SOURCE
ALL_CFLAGS = -std=gnu11 $(CFLAGS) $(WARN) $(SAN) -MMD -MP $(CPPFLAGS)
LDFLAGS  ?=

LIBS     :=
PROGRAMS :=
SYSLIBS  :=

# $(call library,NAME,SOURCES): objects archived into $(BUILD)/lib/libNAME.a
define library
LIBS += $(1)
$(1)_OBJS := $$(patsubst %.c,$$(BUILD)/obj/%.o,$(2))
$$(BUILD)/lib/lib$(1).a: $$($(1)_OBJS)
	@mkdir -p $$(@D)
	@rm -f $$@
	$$(AR) rcs $$@ $$^
endef

# $(call program,NAME,MAIN_SOURCE): $(BUILD)/NAME, linked against every library
define program
PROGRAMS += $(1)
$(1)_MAIN := $(2)
endef

include common/module.mk db/module.mk
include $(filter-out common/module.mk db/module.mk,$(wildcard */module.mk))

LIBFILES   = $(foreach l,$(LIBS),$(BUILD)/lib/lib$(l).a)
LINKLIBS   = -Wl,--start-group $(LIBFILES) -Wl,--end-group $(sort $(SYSLIBS)) -lpthread
PROGFILES  = $(foreach p,$(PROGRAMS),$(BUILD)/$(p))
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_BINS  = $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS  = $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
TEST_HELPER_SRCS := $(wildcard tests/helpers/*.c)
TEST_HELPERS = $(patsubst tests/helpers/%.c,$(BUILD)/tests/helpers/%,$(TEST_HELPER_SRCS))

.PHONY: all tests deps check check-asan fuzz fuzzers demo bench soak clean $(BENCH_TARGETS) \
	$(SOAK_TARGETS)
.DEFAULT_GOAL := all

all: $(PROGFILES)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(foreach p,$(PROGRAMS),$(eval $(BUILD)/$(p): $(BUILD)/obj/$($(p)_MAIN:.c=.o) $$(LIBFILES) ; \
	$$(CC) $$(ALL_CFLAGS) $$(LDFLAGS) -o $$@ $$< $$(LINKLIBS)))

$(BUILD)/tests/%: tests/unit/%.c $(LIBFILES) tests/lib/tap.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LINKLIBS)

$(BUILD)/tests/helpers/%: tests/helpers/%.c $(LIBFILES)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LINKLIBS)

tests: all $(UNIT_BINS) $(TEST_HELPERS)

# Fuzz targets: clang, libFuzzer, ASan and UBSan, in their own tree.
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined
$(BUILD)/fuzz/%: tests/fuzz/%.c $(LIBFILES)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer $(LDFLAGS) -o $@ $< $(LINKLIBS)

fuzzers: $(FUZZ_BINS)

fuzz:
	$(MAKE) BUILD=build-fuzz CC=clang SAN="$(FUZZ_SAN)" fuzzers

# Debian packages the project needs: the union of every part's deps.txt.
DEPS_PKGS = $(sort $(shell sed 's/\#.*//' $(wildcard */deps.txt)))
deps:
	@missing=""; for p in $(DEPS_PKGS); do \
	  [ "$$(dpkg-query -W -f='$${db:Status-Status}' $$p 2>/dev/null)" = installed ] || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "make deps: missing packages:$$missing (run 'make deps' as root)" >&2; exit 1; fi; \
	  echo "make deps: installing$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; \
	fi

check: deps
	$(MAKE) tests
	$(MAKE) fuzz
	BUILD=$(CURDIR)/$(BUILD) FUZZ_BUILD=$(CURDIR)/build-fuzz perl tests/run

ASAN_SAN := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
check-asan: deps
	$(MAKE) BUILD=build-asan SAN="$(ASAN_SAN)" CFLAGS="-O1 -g" tests
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  BUILD=$(CURDIR)/build-asan SANITIZED=1 perl tests/run

demo: deps all
	BUILD=$(CURDIR)/$(BUILD) bash demo/run.sh

# Each part appends its benchmark targets to BENCH_TARGETS in its module.mk.
bench: $(BENCH_TARGETS)

# Each part appends its soak targets to SOAK_TARGETS; each runs for $(SECONDS) seconds.
SECONDS ?= 3600
soak: $(SOAK_TARGETS)

clean:
	rm -rf build build-asan build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
