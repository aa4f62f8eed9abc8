#!/bin/sh
# kill -9 of cuplab-acquire at random moments: every time the file opens,
# holds at least everything up to the last flush (the frames sent until one
# flush interval before the kill), values exact; --recover makes it readable
# for h5dump and marks it interrupted.  (A dataset torn by the kill must be
# reported by name instead.)
. "$(dirname "$0")/../lib.sh"

trials=${KILL9_TRIALS:-5}
i=0
while [ $i -lt $trials ]; do
    i=$((i + 1))
    start_sim k$i --protocol binary --cups 4 --rate 500 --duration 600 --seed $i
    "$BIN/cuplab-acquire" -q -o "$T/k$i.h5" --flush 0.5 -P binary "$PTY" </dev/null &
    acq=$!
    # 1.5 .. 3.4 s: the probe, then several flushes
    delay=$(awk -v s=$i 'BEGIN { srand(s); printf "%.2f", 1.5 + rand() * 1.9 }')
    sleep "$delay"
    kill -9 $acq
    wait $acq 2>/dev/null
    kill "$SIM_PID" 2>/dev/null; wait_sim

    "$BIN/cuplab-analyze" -f csv "$T/k$i.h5" >"$T/k$i.csv" 2>"$T/k$i.err"
    arc=$?
    if grep -q "unreadable" "$T/k$i.err"; then
        # Rarely a kill in the middle of a write tears one dataset: the
        # file opens and names it (see docs/session-format.md).
        echo "trial $i: killed after ${delay}s, a torn dataset was reported: $(head -n 1 "$T/k$i.err")"
        continue
    fi
    [ $arc -eq 0 ] || fail "trial $i: crashed file unreadable: $(cat "$T/k$i.err")"
    h5check values "$T/k$i.h5" "$T/k$i.log.csv" --min-fraction 0 || fail "trial $i: values"
    rows=$("$PY" -c "import h5py; print(len(h5py.File('$T/k$i.h5','r',swmr=True)['devices/dev0/samples']))")
    # frames the device sent up to (kill time - 2 flush intervals), at 500 Hz
    min_rows=$(awk -v d="$delay" 'BEGIN { printf "%d", (d - 1.0 - 0.5) * 500 * 0.8 }')
    [ "$rows" -ge "$min_rows" ] || fail "trial $i: $rows rows after ${delay}s, expected >= $min_rows"
    "$BIN/cuplab-analyze" --recover "$T/k$i.h5" 2>/dev/null || fail "trial $i: recover failed"
    h5dump -H "$T/k$i.h5" >/dev/null 2>&1 || fail "trial $i: h5dump cannot open the recovered file"
    h5check attr "$T/k$i.h5" status interrupted || fail "trial $i: status"
    rows2=$("$PY" -c "import h5py; print(len(h5py.File('$T/k$i.h5','r')['devices/dev0/samples']))")
    [ "$rows2" -eq "$rows" ] || fail "trial $i: recovery changed the row count $rows -> $rows2"
    echo "trial $i: killed after ${delay}s, $rows rows survived"
done
