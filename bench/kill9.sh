#!/bin/sh
# What a kill -9 costs: record a simulated device (8 channels, 1 kHz, binary,
# --flush 0.5) and kill -9 the recorder at random moments, with the machine
# kept busy; the loss of a trial is the device time sent after the last row
# the file holds.  Prints median, p99 and maximum against the bound (the flush
# interval plus one read batch, 0.1 s).
#   BENCH_KILL9_TRIALS  trials per load (40)
#   BENCH_KILL9_LOADS   loads to run, of: none cpu io (default "cpu io"):
#                       cpu = two busy loops, io = two other programs writing
#                       200 MB files with fsync beside the session file
set -u
BUILD=${BUILD:-build}
BIN=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
TRIALS=${BENCH_KILL9_TRIALS:-40}
LOADS=${BENCH_KILL9_LOADS:-cpu io}
FLUSH=0.5
T=$(mktemp -d "${TMPDIR:-/tmp}/cuplab-bench.XXXXXX")
LOAD_PIDS=""
stop_load() { for p in $LOAD_PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; LOAD_PIDS=""; }
trap 'stop_load; rm -rf "$T"' EXIT

start_load() {
    case $1 in
    cpu) for _ in 1 2; do sh -c 'while :; do :; done' & LOAD_PIDS="$LOAD_PIDS $!"; done ;;
    io) for n in 1 2; do
            sh -c "trap 'kill \$d; exit' TERM
                   while :; do dd if=/dev/zero of='$T/io$n' bs=1M count=200 conv=fsync 2>/dev/null & d=\$!; wait \$d; done" &
            LOAD_PIDS="$LOAD_PIDS $!"
        done ;;
    esac
}

for load in $LOADS; do
    start_load "$load"
    : >"$T/loss"
    i=0
    while [ $i -lt "$TRIALS" ]; do
        i=$((i + 1))
        rm -f "$T/k.h5" "$T/k.csv"
        "$BIN/cuplab-sim" -q --log "$T/k.csv" --protocol binary --cups 8 --rate 1000 \
            --duration 600 --seed $i >"$T/sim.out" 2>/dev/null &
        sim=$!
        pty=""
        while [ -z "$pty" ]; do sleep 0.02; pty=$(head -n 1 "$T/sim.out"); done
        "$BIN/cuplab-acquire" -q -o "$T/k.h5" --flush $FLUSH -P binary "$pty" </dev/null &
        acq=$!
        sleep "$(awk -v s=$i 'BEGIN { srand(s); printf "%.2f", 2 + rand() * 4 }')"
        kill -9 $acq
        kill $sim 2>/dev/null
        wait $acq 2>/dev/null
        wait $sim
        "$PY" "$HERE/../tests/h5check.py" loss "$T/k.h5" "$T/k.csv" >>"$T/loss"
    done
    stop_load
    "$PY" - "$T/loss" "$load" "$FLUSH" <<'PYEOF'
import sys
import numpy as np
x = np.loadtxt(sys.argv[1], ndmin=1)
bound = float(sys.argv[3]) + 0.1
print(f"kill -9 under {sys.argv[2]} load: {len(x)} trials, loss median {np.median(x):.3f} s, "
      f"p99 {np.percentile(x, 99):.3f} s, max {x.max():.3f} s; bound {bound:.1f} s, "
      f"{int((x > bound).sum())} trials over it")
PYEOF
done
