#!/bin/sh
# Analysis benchmark: a 16-cup, 1 kHz session of an hour (57.6 M samples)
# through cuplab-analyze (all cups, CSV): wall time, peak memory, samples/s,
# and the ratios against
#   the floor: reading every cup's channel and the time columns through the
#     session reader, as the analysis reads them (bench/read_floor.c), and
#   a reference implementation of the same metrics in Python with numpy and
#     scipy (bench/reference_analysis.py), whose results are checked
#     against cuplab-analyze's (printed, not a failure).
# Targets: within 2x of the floor, >= 5x faster than the Python reference,
# memory bounded by one cup's channel, not the whole file.
#   BENCH_ANALYSIS_S     session length in seconds (3600)
#   BENCH_ANALYSIS_RUNS  runs of the floor and of the analysis; the fastest
#                        counts (3)
set -u
BUILD=${BUILD:-build}
BIN=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
SECS=${BENCH_ANALYSIS_S:-3600}
RUNS=${BENCH_ANALYSIS_RUNS:-3}
CUPS=16
RATE=1000
T=$(mktemp -d "${TMPDIR:-/tmp}/cuplab-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT

calc() { awk "BEGIN { print $1 }"; }
now() { date +%s.%N; }

if [ ! -x "$BIN/bench/read_floor" ]; then
    echo "analysis: $BIN/bench/read_floor missing (make bench builds it)" >&2
    exit 1
fi

# measure NAME RUNS COMMAND...: run COMMAND RUNS times under /usr/bin/time
# (stdout to $T/NAME.out); sets WALL (s) and RSS (KiB) of the fastest run.
measure() {
    name=$1 runs=$2
    shift 2
    WALL="" RSS=""
    i=0
    while [ $i -lt "$runs" ]; do
        if ! /usr/bin/time -o "$T/$name.time" -f "%e %M" "$@" >"$T/$name.out" 2>"$T/$name.err"; then
            echo "$name failed:" >&2
            cat "$T/$name.err" >&2
            return 1
        fi
        w=$(tail -n 1 "$T/$name.time" | cut -d ' ' -f 1)
        r=$(tail -n 1 "$T/$name.time" | cut -d ' ' -f 2)
        if [ -z "$WALL" ] || [ "$(calc "($w < $WALL)")" = 1 ]; then
            WALL=$w RSS=$r
        fi
        i=$((i + 1))
    done
}

samples=$((CUPS * RATE * SECS))
echo "== analysis: ${SECS} s session, $CUPS cups at $RATE Hz ($samples samples)"

# The session file: written directly by the simulator when it can (same
# layout as cuplab-acquire records), else recorded through a pty as fast as
# cuplab-acquire takes the frames.
start=$(now)
if "$BIN/cuplab-sim" --help 2>/dev/null | grep -q -- '--output'; then
    how="cuplab-sim --output"
    "$BIN/cuplab-sim" -q --cups $CUPS --rate $RATE --duration "$SECS" -o "$T/s.h5" ||
        { echo "cuplab-sim --output failed" >&2; exit 1; }
else
    how="cuplab-sim --time-scale 0 recorded by cuplab-acquire"
    "$BIN/cuplab-sim" -q --protocol binary --cups $CUPS --rate $RATE --duration "$SECS" \
        --time-scale 0 >"$T/sim.out" 2>"$T/sim.err" &
    sim=$!
    pty=""
    while [ -z "$pty" ]; do
        kill -0 $sim 2>/dev/null || { cat "$T/sim.err" >&2; exit 1; }
        sleep 0.05
        pty=$(head -n 1 "$T/sim.out")
    done
    "$BIN/cuplab-acquire" -q -o "$T/s.h5" --no-reconnect -P binary "$pty" </dev/null ||
        { echo "cuplab-acquire failed" >&2; kill $sim 2>/dev/null; exit 1; }
    wait $sim
fi
gen=$(calc "$(now) - $start")
bytes=$(wc -c <"$T/s.h5")
printf 'session file: %.1f MiB, generated in %.1f s (%s)\n' "$(calc "$bytes / 1048576")" "$gen" "$how"

measure floor "$RUNS" "$BIN/bench/read_floor" "$T/s.h5" || exit 1
floor_s=$WALL floor_kb=$RSS
printf 'floor (read_floor: time columns + every cup channel via the session reader): %.2f s, %.1f MiB peak RSS\n' \
    "$floor_s" "$(calc "$floor_kb / 1024")"

measure analysis "$RUNS" "$BIN/cuplab-analyze" "$T/s.h5" --format csv --adc-bits 12 || exit 1
an_s=$WALL an_kb=$RSS
printf 'cuplab-analyze --format csv --adc-bits 12: %.2f s, %.1f MiB peak RSS, %.2f M samples/s\n' \
    "$an_s" "$(calc "$an_kb / 1024")" "$(calc "$samples / $an_s / 1e6")"
ratio=$(calc "$an_s / $floor_s")
printf 'ratio analysis / floor: %.2fx (target <= 2x: %s)\n' "$ratio" \
    "$( [ "$(calc "($ratio <= 2)")" = 1 ] && echo met || echo missed)"
printf 'memory: peak %.1f MiB = %.1f bytes per sample of one cup; the samples of the whole file as doubles are %.1f MiB\n' \
    "$(calc "$an_kb / 1024")" "$(calc "$an_kb * 1024 / ($RATE * $SECS)")" \
    "$(calc "$samples * 8 / 1048576")"

measure python 1 "$PY" "$HERE/reference_analysis.py" --adc-bits 12 "$T/s.h5" || exit 1
py_s=$WALL py_kb=$RSS
printf 'python reference (h5py, numpy, scipy): %.2f s, %.1f MiB peak RSS, %.2f M samples/s\n' \
    "$py_s" "$(calc "$py_kb / 1024")" "$(calc "$samples / $py_s / 1e6")"
speedup=$(calc "$py_s / $an_s")
printf 'ratio python / analysis: %.1fx (target >= 5x: %s)\n' "$speedup" \
    "$( [ "$(calc "($speedup >= 5)")" = 1 ] && echo met || echo missed)"
"$PY" "$HERE/reference_analysis.py" --compare "$T/python.out" "$T/analysis.out"
