#!/bin/sh
# Acquisition benchmarks: sustained ingest through the virtual device (binary
# protocol), CPU per million samples against a Python baseline on the same
# stream, and the delay until a live reader sees a sample.
#   BENCH_SECONDS   length of the sustained and realistic runs (60)
#   BENCH_LADDER_S  length of each step of the rate ladder (10)
set -u
BUILD=${BUILD:-build}
BIN=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
SECONDS_RUN=${BENCH_SECONDS:-60}
LADDER_S=${BENCH_LADDER_S:-10}
T=$(mktemp -d "${TMPDIR:-/tmp}/cuplab-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
HZ=$(getconf CLK_TCK)

calc() { awk "BEGIN { print $1 }"; }

# cpu_ticks PID: user+system ticks of a running process
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# run_acquire CHANNELS RATE SECONDS: record the simulated device at that
# rate; prints "sent recorded lost cpu_s wall_s"
run_acquire() {
    ch=$1 rate=$2 secs=$3
    rm -f "$T/s.h5" "$T/truth.json"
    "$BIN/cuplab-sim" -q --protocol binary --cups "$ch" --rate "$rate" --duration "$secs" \
        --truth "$T/truth.json" >"$T/sim.out" 2>"$T/sim.err" &
    sim=$!
    pty=""
    while [ -z "$pty" ]; do sleep 0.05; pty=$(head -n 1 "$T/sim.out"); done
    start=$(date +%s.%N)
    "$BIN/cuplab-acquire" -q -o "$T/s.h5" --no-reconnect -P binary "$pty" </dev/null &
    acq=$!
    ticks=0
    while kill -0 $acq 2>/dev/null; do
        t=$(cpu_ticks $acq); [ "$t" -gt 0 ] && ticks=$t
        sleep 0.2
    done
    wait $acq
    end=$(date +%s.%N)
    wait $sim
    "$PY" - "$T/s.h5" "$T/truth.json" "$ticks" "$HZ" "$start" "$end" <<'PYEOF'
import sys, json, h5py
f = h5py.File(sys.argv[1], "r")
c = f["devices/dev0/counters"][0]
sent = json.load(open(sys.argv[2]))["frames_sent"]
rows = len(f["devices/dev0/samples"])
lost = sent - rows + int(c["lost_frames"]) + int(c["overruns"])
print(sent, rows, lost, int(sys.argv[3]) / int(sys.argv[4]), float(sys.argv[6]) - float(sys.argv[5]))
PYEOF
}

echo "== sustained ingest, binary protocol, 16 channels"
best=0
for rate in 15625 31250 62500 125000; do
    set -- $(run_acquire 16 $rate "$LADDER_S")
    sps=$((16 * rate))
    printf '  %8d samples/s for %ss: sent %d recorded %d lost %d, %.3f CPU s per 1e6 samples\n' \
        $sps "$LADDER_S" "$1" "$2" "$3" "$(calc "$4 * 1000000 / ($2 * 16)")"
    [ "$3" -eq 0 ] && [ "$1" -eq "$2" ] && best=$rate
done
if [ $best -gt 0 ]; then
    set -- $(run_acquire 16 $best "$SECONDS_RUN")
    printf 'sustained: %d samples/s for %ss, %d frames sent, %d recorded, %d lost; %.3f CPU s per 1e6 samples\n' \
        $((16 * best)) "$SECONDS_RUN" "$1" "$2" "$3" "$(calc "$4 * 1000000 / ($2 * 16)")"
fi

echo "== realistic load: 12 cups x 1 kHz for ${SECONDS_RUN}s"
set -- $(run_acquire 12 1000 "$SECONDS_RUN")
cup_cpu=$(calc "$4 * 100 / $5")
cup_per_m=$(calc "$4 * 1000000 / ($2 * 12)")
printf 'cuplab-acquire: %.2f %% of one core, %.3f CPU s per 1e6 samples, lost %d\n' \
    "$cup_cpu" "$cup_per_m" "$3"

echo "== baseline: Python + pyserial + h5py on the same stream"
base_s=$((SECONDS_RUN / 3)); [ $base_s -lt 10 ] && base_s=10
"$BIN/cuplab-sim" -q --protocol binary --cups 12 --rate 1000 --duration $((base_s + 5)) \
    >"$T/sim.out" 2>/dev/null &
sim=$!
pty=""
while [ -z "$pty" ]; do sleep 0.05; pty=$(head -n 1 "$T/sim.out"); done
"$PY" "$HERE/baseline_acquire.py" "$pty" "$T/base.h5" "$base_s" >"$T/base.out" &
bpid=$!
bticks=0
while kill -0 $bpid 2>/dev/null; do
    t=$(cpu_ticks $bpid); [ "$t" -gt 0 ] && bticks=$t
    sleep 0.2
done
wait $bpid
kill $sim 2>/dev/null; wait $sim 2>/dev/null
samples=$(sed -n 's/.*samples=\([0-9]*\).*/\1/p' "$T/base.out")
base_per_m=$(calc "$bticks / $HZ * 1000000 / $samples")
printf 'baseline: %s, %.3f CPU s per 1e6 samples\n' "$(cat "$T/base.out")" "$base_per_m"
printf 'ratio: cuplab-acquire uses %.1fx less CPU per sample than the baseline\n' \
    "$(calc "$base_per_m / $cup_per_m")"

echo "== live-reader latency (SWMR, default flush interval, 1 kHz)"
"$PY" "$HERE/swmr_latency.py" "$BIN/cuplab-acquire" "$T/lat.h5" 15 1000
