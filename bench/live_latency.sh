#!/bin/sh
# Live view latency: a device of our own (8 channels at 100 Hz, text protocol,
# on a pseudo-terminal) steps its values at known CLOCK_MONOTONIC times while
# cuplab-acquire --live records it; clients of /events (and the page in
# headless Chromium, when it is installed) note when each new value reaches
# them.  Prints the steps, median, p95 and maximum latency and the event
# rate.  Targets: p95 < 500 ms (a sample visible within 0.5 s of its
# arrival), events at 5 Hz or more; exit status 1 when one is missed.
# Baseline, in the same run: a reader of the session file through SWMR, the
# way to follow a recording without the live view (it sees a sample once the
# recorder flushes, every 0.5 s by default); the ratio is what the live view
# gains over it.  bench/live_latency.py says how each time is taken.
#   BENCH_LIVE_S  seconds of steps, one every 0.6..0.8 s (45)
set -u
BUILD=${BUILD:-build}
BIN=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/cuplab-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT

echo "== live view: from a sample's arrival to a client having it"
"$PY" "$HERE/live_latency.py" "$BIN/cuplab-acquire" "$T" "${BENCH_LIVE_S:-45}" 8 100
