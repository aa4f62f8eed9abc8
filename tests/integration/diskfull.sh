#!/bin/sh
# Disk full (here: a file-size limit, which makes writes fail the same way):
# the recording stops cleanly with one clear message and exit 1, and the file
# still opens and holds exactly what was sent up to its last flush.
. "$(dirname "$0")/../lib.sh"

start_sim df --protocol binary --cups 8 --rate 1000 --duration 600 --seed 6
(
    ulimit -f 2048 # 1 MiB in 512-byte blocks
    exec "$BIN/cuplab-acquire" -q -o "$T/d.h5" --flush 0.2 -P binary "$PTY" </dev/null 2>"$T/err"
) &
acq=$!
i=0
while kill -0 $acq 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 $acq 2>/dev/null && { kill -9 $acq; fail "recorder did not stop at the size limit"; }
wait $acq
rc=$?
kill "$SIM_PID" 2>/dev/null; wait_sim
cat "$T/err"
[ $rc -eq 1 ] || fail "exit $rc, expected 1"
grep -qi "disk full\|no space\|size limit\|too large" "$T/err" || fail "message does not say what happened"
[ "$(grep -c . "$T/err")" -le 2 ] || fail "too many lines"
"$BIN/cuplab-analyze" -q -f csv --adc-bits 12 "$T/d.h5" >/dev/null ||
    fail "file unreadable after the write error"
h5check values "$T/d.h5" "$T/df.log.csv" --min-fraction 0 || fail "values"
rows=$("$PY" -c "import h5py; print(len(h5py.File('$T/d.h5', 'r')['devices/dev0/samples']))")
echo "rows kept: $rows"
[ "$rows" -gt 1000 ] || fail "only $rows rows kept"
