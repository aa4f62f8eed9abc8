# cuplab build.  `make` builds the core library and the programs; `make check`
# and `make demo` first install missing Debian packages (scripts/install-deps.sh).

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DOCDIR    ?= $(PREFIX)/share/doc/cuplab
DESTDIR   ?=
BUILD     ?= build
CC        ?= cc
PKG_CONFIG ?= pkg-config

PKGS      := libserialport hdf5 gsl jansson zlib plplot matio libmicrohttpd
TEST_PKGS := cmocka

# Evaluated lazily so that a package installed earlier in the same run is seen.
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS   = $(shell $(PKG_CONFIG) --libs $(PKGS))
TEST_LIBS  = $(shell $(PKG_CONFIG) --libs $(TEST_PKGS))

WARN      := -std=c11 -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Werror
OPT       ?= -O2 -g
SAN       ?=
CPPFLAGS  += -D_DEFAULT_SOURCE -D_GNU_SOURCE -DCUPLAB_VERSION='"$(VERSION)"' -Ilib
CFLAGS    += $(WARN) $(OPT) $(SAN) -MMD -MP
LDFLAGS   += $(SAN) -Wl,--as-needed
LDLIBS    += -ledf -lpthread -lutil

LIB_SRC   := $(wildcard lib/*.c)
# ... and the live view's page (lib/page/), embedded as cl_web_page (cl_web.h).
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o) $(BUILD)/gen/cl_web_page.o
LIB       := $(BUILD)/libcuplab.a

PROGRAMS  := acquire:cuplab-acquire analysis:cuplab-analyze calibration:cuplab-calibrate sim:cuplab-sim
PROG_DIRS := $(foreach p,$(PROGRAMS),$(firstword $(subst :, ,$(p))))
BINS      := $(foreach p,$(PROGRAMS),$(BUILD)/$(lastword $(subst :, ,$(p))))

# Unit tests mirror the tree: tests/unit/lib/ tests lib/, tests/unit/P/ the
# engine of program P (and links P's library).
UNIT_SRC  := $(wildcard tests/unit/*/test_*.c)
UNIT_BINS := $(foreach t,$(UNIT_SRC),$(BUILD)/tests/$(basename $(notdir $(t))))
# Libraries the integration tests preload into the programs (fault injection).
TEST_HELPERS := $(patsubst tests/helpers/%.c,$(BUILD)/tests/%.so,$(wildcard tests/helpers/*.c))

.SECONDARY:
.PHONY: all check check-run check-asan demo demo-run deps install uninstall clean bench fuzz fmt datasets
.DEFAULT_GOAL := all

all: $(LIB) $(BINS) $(UNIT_BINS) $(TEST_HELPERS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PKG_CFLAGS) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && $(AR) rcs $@ $^

# A program P: P/main.c, linked with P's own library (every other .c under
# P/, which is also what P's unit tests link) and the core library.  Files of
# P include P's headers by their path under P/ ("engine/cl_acq.h").
prog_lib = $(BUILD)/$(1)/lib$(1).a
define program_rule
$(call prog_lib,$(1)): $(patsubst %.c,$(BUILD)/%.o,$(filter-out $(1)/main.c,$(shell find $(1) -name '*.c')))
	@mkdir -p $$(dir $$@)
	rm -f $$@ && $$(AR) rcs $$@ $$^
$(BUILD)/$(2): $(BUILD)/$(1)/main.o $(call prog_lib,$(1)) $(LIB)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(PKG_LIBS) $$(LDLIBS)
$(BUILD)/$(1)/%.o $(BUILD)/tests/unit/$(1)/%.o: CPPFLAGS += -I$(1)
endef
$(foreach p,$(PROGRAMS),$(eval $(call program_rule,$(firstword $(subst :, ,$(p))),$(lastword $(subst :, ,$(p))))))

WEB_PAGE := $(wildcard lib/page/*)
$(BUILD)/gen/cl_web_page.c: $(WEB_PAGE) scripts/embed-assets.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-assets.sh $@ cl_web_page $(WEB_PAGE)
$(BUILD)/gen/cl_web_page.o: $(BUILD)/gen/cl_web_page.c
	$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

# Every unit test links the shared helpers (tests/unit/unit.h).
define unit_rule # tests/unit/DIR/test_X.c
$(BUILD)/tests/$(basename $(notdir $(1))): $(BUILD)/$(1:.c=.o) $(BUILD)/tests/unit/unit.o \
    $(if $(filter lib,$(word 3,$(subst /, ,$(1)))),,$(call prog_lib,$(word 3,$(subst /, ,$(1))))) $(LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -o $$@ $$^ $$(TEST_LIBS) $$(PKG_LIBS) $$(LDLIBS)
endef
$(foreach t,$(UNIT_SRC),$(eval $(call unit_rule,$(t))))
$(BUILD)/tests/unit/%.o: CPPFLAGS += -Itests/unit

# test_table fails each allocation of a table in turn.
$(BUILD)/tests/test_table: LDFLAGS += -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=strdup

$(BUILD)/tests/%.so: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -fPIC -shared -o $@ $<

deps:
	@sh scripts/install-deps.sh

# The suite: unit tests, integration tests, then the same under ASan+UBSan.
check: deps
	@$(MAKE) --no-print-directory check-run

check-run: all
	@BUILD=$(BUILD) sh tests/run.sh

check-asan: deps
	@LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
	    $(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g" \
	    SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	    check-run

demo: deps
	@$(MAKE) --no-print-directory demo-run

demo-run: all
	@BUILD=$(BUILD) sh scripts/demo.sh

bench: all $(BUILD)/bench/read_floor $(BUILD)/bench/estimands
	@BUILD=$(BUILD) sh bench/run.sh

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(LDLIBS)

fuzz:
	@sh scripts/install-deps.sh fuzz
	@$(MAKE) --no-print-directory -f fuzz/fuzz.mk

# The example cohort (datasets/README.md), regenerated bit for bit.
datasets: all
	@BUILD=$(BUILD) sh datasets/generate.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BINS) $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 docs/man/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -d $(DESTDIR)$(DOCDIR)
	install -m 644 docs/*.md $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(foreach b,$(BINS),$(DESTDIR)$(PREFIX)/bin/$(notdir $(b)))
	rm -f $(foreach m,$(wildcard docs/man/*.1),$(DESTDIR)$(PREFIX)/share/man/man1/$(notdir $(m)))
	rm -f $(foreach d,$(wildcard docs/*.md),$(DESTDIR)$(DOCDIR)/$(notdir $(d)))
	rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true

fmt:
	clang-format -i $(shell find lib $(PROG_DIRS) tests/unit -name '*.[ch]')

clean:
	rm -rf build build-asan build-fuzz

include firmware/firmware.mk

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
