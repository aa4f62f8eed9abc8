# Fuzzing with libFuzzer (clang): the wire decoders, the session reader,
# the calibration-profile parser, the calibration CSV readers and the
# config-file parser.  The top Makefile's `make fuzz` runs this from the
# repository root: it builds every target, then runs each in turn for
# FUZZ_SECONDS, one at a time (a single process each):
#   make fuzz                                   # 30 s each
#   make fuzz FUZZ_SECONDS=300
#   make fuzz FUZZ_TARGETS="session profile"    # only these
# Each corpus grows in build-fuzz/corpus/TARGET (seeded on first use: wire
# and session from programs built from the target's source, profile and
# points from datasets/calibration, config from fuzz/seeds/config); a
# crashing input is saved as build-fuzz/crash-* (reproduce with
# build-fuzz/fuzz_TARGET FILE).

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 30
FUZZ_DIR     ?= build-fuzz
FUZZ_TARGETS ?= wire session profile points config
PKG_CONFIG   ?= pkg-config

# Largest input per target, and extra libFuzzer flags.  The session reader
# runs in fork mode, going on after a timeout or a crash: HDF5 1.10.8 itself
# loops forever on some damaged global heaps (h5dump and h5py hang on those
# files too) and copies overlapping memory reading others, which the fuzzer
# finds within seconds; each is saved as build-fuzz/timeout-* or crash-*,
# and the run lists them (look at the stack: a frame in lib/ is ours).  HDF5
# also leaks the header it fails to load from a damaged file: no leak check.
FUZZ_MAX_LEN_wire    := 4096
FUZZ_MAX_LEN_session := 65536
FUZZ_MAX_LEN_profile := 16384
FUZZ_MAX_LEN_points  := 8192
FUZZ_MAX_LEN_config  := 8192
FUZZ_FLAGS_wire      := -dict=$(FUZZ_DIR)/wire.dict
FUZZ_FLAGS_session   := -detect_leaks=0 -fork=1 -ignore_timeouts=1 -ignore_crashes=1 \
                        -timeout=5

PKGS         := libserialport hdf5 gsl jansson zlib plplot libmicrohttpd
PKG_CFLAGS   := $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS     := $(shell $(PKG_CONFIG) --libs $(PKGS))
FUZZ_CFLAGS  := -std=c11 -g -O1 -Wall -Wextra -Werror -D_DEFAULT_SOURCE -D_GNU_SOURCE \
                -DCUPLAB_VERSION='"fuzz"' -Ilib -Icalibration -Ifuzz $(PKG_CFLAGS)
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
# The core library and the calibration engine (fuzz_points reads point files).
FUZZ_LIB_OBJ := $(patsubst %.c,$(FUZZ_DIR)/%.o,$(wildcard lib/*.c calibration/engine/*.c))
FUZZ_LIB     := $(FUZZ_DIR)/libcuplab-fuzz.a
FUZZ_COMMON  := fuzz/fuzz_file.c fuzz/fuzz_file.h fuzz/fuzz.mk

.PHONY: fuzz-run
fuzz-run: $(foreach t,$(FUZZ_TARGETS),$(FUZZ_DIR)/fuzz_$(t) $(FUZZ_DIR)/seeded-$(t))
	@for t in $(FUZZ_TARGETS); do \
	    echo "== fuzz_$$t: $(FUZZ_SECONDS) s"; \
	    $(FUZZ_DIR)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=20 \
	        -max_len=$$(case $$t in wire) echo $(FUZZ_MAX_LEN_wire);; \
	            session) echo $(FUZZ_MAX_LEN_session);; profile) echo $(FUZZ_MAX_LEN_profile);; \
	            points) echo $(FUZZ_MAX_LEN_points);; *) echo $(FUZZ_MAX_LEN_config);; esac) \
	        $$(case $$t in wire) echo "$(FUZZ_FLAGS_wire)";; \
	            session) echo "$(FUZZ_FLAGS_session)";; esac) \
	        -artifact_prefix=$(FUZZ_DIR)/ -print_final_stats=1 $(FUZZ_DIR)/corpus/$$t \
	        2>$(FUZZ_DIR)/fuzz_$$t.log || [ $$t = session ] || \
	        { tail -n 40 $(FUZZ_DIR)/fuzz_$$t.log; exit 1; }; \
	    grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|stat::peak_rss_mb)|DONE|timeout' \
	        $(FUZZ_DIR)/fuzz_$$t.log | tail -n 4; \
	done; ls $(FUZZ_DIR) | grep -E '^(crash|timeout|leak|oom)-' || true
	@# scratch files a crashed or timed-out input left behind (fuzz/fuzz_file.h)
	@rm -f /dev/shm/cuplab-fuzz-* $${TMPDIR:-/tmp}/cuplab-fuzz-*

# The library, instrumented for coverage and the sanitizers.
$(FUZZ_DIR)/%.o: %.c lib/*.h fuzz/fuzz.mk
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c $< -o $@

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	$(AR) rcs $@ $^

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_COMMON) $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer $< fuzz/fuzz_file.c $(FUZZ_LIB) \
	    $(PKG_LIBS) -lm -lpthread -lutil -o $@

# wire and session: the target's source built as a plain program writes the seeds.
SEED_SRC_wire    := lib/cl_wire.c lib/cl_error.c
SEED_SRC_session := $(wildcard lib/*.c)
$(FUZZ_DIR)/seeds_%: fuzz/fuzz_%.c $(FUZZ_COMMON) lib/*.h lib/*.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -DCL_FUZZ_SEEDS $< fuzz/fuzz_file.c $(SEED_SRC_$*) $(PKG_LIBS) \
	    -lm -o $@

$(FUZZ_DIR)/seeded-wire: $(FUZZ_DIR)/seeds_wire
	@mkdir -p $(FUZZ_DIR)/corpus/wire
	$(FUZZ_DIR)/seeds_wire $(FUZZ_DIR)/corpus/wire $(FUZZ_DIR)/wire.dict
	@touch $@

$(FUZZ_DIR)/seeded-session: $(FUZZ_DIR)/seeds_session
	@mkdir -p $(FUZZ_DIR)/corpus/session
	$(FUZZ_DIR)/seeds_session $(FUZZ_DIR)/corpus/session
	@touch $@

$(FUZZ_DIR)/seeded-profile: $(wildcard datasets/calibration/profiles/*.json)
	@mkdir -p $(FUZZ_DIR)/corpus/profile
	cp $^ $(FUZZ_DIR)/corpus/profile/
	@touch $@

$(FUZZ_DIR)/seeded-points: $(wildcard datasets/calibration/points/*.csv)
	@mkdir -p $(FUZZ_DIR)/corpus/points
	cp $^ $(FUZZ_DIR)/corpus/points/
	@touch $@

$(FUZZ_DIR)/seeded-config: $(wildcard fuzz/seeds/config/*.conf)
	@mkdir -p $(FUZZ_DIR)/corpus/config
	cp $^ $(FUZZ_DIR)/corpus/config/
	@touch $@
