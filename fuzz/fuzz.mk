# Fuzzing of the wire decoders with libFuzzer (clang).  The top Makefile's
# `make fuzz` runs this from the repository root:
#   make fuzz                    # 60 s
#   make fuzz FUZZ_SECONDS=600
# The corpus grows in build-fuzz/corpus (seeded from encoded frames and lines
# on first use); a crashing input is saved as build-fuzz/crash-*.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_MAX_LEN ?= 4096
FUZZ_DIR     ?= build-fuzz
PKG_CONFIG   ?= pkg-config

ZLIB_FLAGS   = $(shell $(PKG_CONFIG) --cflags --libs zlib)
FUZZ_CFLAGS  := -std=c11 -g -O1 -Wall -Wextra -Werror -D_DEFAULT_SOURCE -D_GNU_SOURCE -Ilib
FUZZ_SAN     := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_SRC     := fuzz/fuzz_wire.c lib/cl_wire.c lib/cl_error.c
FUZZ_DEPS    := $(FUZZ_SRC) lib/cl_wire.h lib/cl_error.h fuzz/fuzz.mk

.PHONY: fuzz-run
fuzz-run: $(FUZZ_DIR)/fuzz_wire $(FUZZ_DIR)/seeded
	$(FUZZ_DIR)/fuzz_wire -max_total_time=$(FUZZ_SECONDS) -max_len=$(FUZZ_MAX_LEN) \
	    -dict=$(FUZZ_DIR)/wire.dict -artifact_prefix=$(FUZZ_DIR)/ -print_final_stats=1 \
	    $(FUZZ_DIR)/corpus

$(FUZZ_DIR)/fuzz_wire: $(FUZZ_DEPS)
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) $(FUZZ_SRC) $(ZLIB_FLAGS) -lm -o $@

# The same file built as a plain program writes the seeds and the dictionary.
$(FUZZ_DIR)/fuzz_seeds: $(FUZZ_DEPS)
	@mkdir -p $(FUZZ_DIR)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DCL_FUZZ_SEEDS $(FUZZ_SRC) $(ZLIB_FLAGS) -lm -o $@

$(FUZZ_DIR)/seeded: $(FUZZ_DIR)/fuzz_seeds
	@mkdir -p $(FUZZ_DIR)/corpus
	$(FUZZ_DIR)/fuzz_seeds $(FUZZ_DIR)/corpus $(FUZZ_DIR)/wire.dict
	@touch $@
