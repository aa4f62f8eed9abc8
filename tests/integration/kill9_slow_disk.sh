#!/bin/sh
# A kill -9 while the disk is slow to sync (every fdatasync takes 1 s, as
# when other programs keep the disk busy; the writes themselves stay fast)
# loses no more than the flush interval plus one read batch (0.1 s), plus a
# little slack for scheduling: the recorder's flushes do not wait for the
# syncs.  8 channels at 1 kHz, binary, --flush 0.5; values exact.
. "$(dirname "$0")/../lib.sh"

SLOW="$BIN/tests/slowsync.so"
[ -f "$SLOW" ] || fail "$SLOW not built"
bound=0.75 # 0.5 s flush + 0.1 s read batch + 0.15 s slack
i=0
while [ $i -lt 4 ]; do
    i=$((i + 1))
    start_sim s$i --protocol binary --cups 8 --rate 1000 --duration 600 --seed $i
    LD_PRELOAD="$SLOW" SLOWSYNC_MS=1000 ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0" \
        "$BIN/cuplab-acquire" -q -o "$T/s$i.h5" --flush 0.5 -P binary "$PTY" </dev/null &
    acq=$!
    delay=$(awk -v s=$i 'BEGIN { srand(s * 31); printf "%.2f", 3 + rand() * 2 }')
    sleep "$delay"
    kill -9 $acq
    wait $acq 2>/dev/null
    kill "$SIM_PID" 2>/dev/null; wait_sim
    h5check values "$T/s$i.h5" "$T/s$i.log.csv" --min-fraction 0 || fail "trial $i: values"
    loss=$(h5check loss "$T/s$i.h5" "$T/s$i.log.csv") || fail "trial $i: unreadable"
    echo "trial $i: killed after ${delay}s, ${loss}s of data lost"
    awk -v l="$loss" -v b=$bound 'BEGIN { exit !(l <= b) }' ||
        fail "trial $i: the kill lost ${loss}s of data (more than ${bound}s): flushes waited for the disk"
done
