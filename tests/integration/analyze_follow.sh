#!/bin/sh
# cuplab-analyze --follow on a recording in progress: it waits for the file,
# refreshes while cuplab-acquire records (status "recording"), ends by itself
# once the file has its final status, and never disturbs the recorder (every
# value recorded, status complete).  A follower of a file whose recorder died
# ends by itself; one waiting for a file stops on SIGINT.
. "$(dirname "$0")/../lib.sh"

start_sim live --cups 2 --rate 50 --duration 120 --time-scale 20 --seed 4
"$BIN/cuplab-analyze" --follow --format csv --interval 0.3 "$T/s.h5" >"$T/f.csv" 2>"$T/f.err" &
FOLLOW=$!
"$BIN/cuplab-acquire" -q -o "$T/s.h5" --no-reconnect "$PTY" </dev/null ||
    fail "cuplab-acquire exited with $?"
wait_sim
# The follower sees the final status within a few refreshes.
for _ in $(seq 1 50); do
    kill -0 $FOLLOW 2>/dev/null || break
    sleep 0.1
done
kill -0 $FOLLOW 2>/dev/null && { kill $FOLLOW; fail "--follow did not end with the recording"; }
wait $FOLLOW || fail "--follow exited with $?: $(cat "$T/f.err")"

h5check values "$T/s.h5" "$T/live.log.csv" || fail "recording disturbed"
h5check attr "$T/s.h5" status complete || fail "no final status"
"$PY" - "$T/f.csv" <<'PY' || fail "follow output"
import csv, io, sys
text = open(sys.argv[1]).read().strip()
updates = [list(csv.DictReader(io.StringIO(b))) for b in text.split("\n\n")]
assert len(updates) >= 5, f"{len(updates)} updates"
assert all(len(u) == 2 for u in updates), [len(u) for u in updates]
status = [u[0]["status"] for u in updates]
assert status[-1] == "complete" and status.count("complete") == 1, status
assert "recording" in status, status
samples = [int(u[0]["samples"]) for u in updates]
assert samples == sorted(samples) and samples[0] < samples[-1] == 6000, samples
PY
n=$(grep -c "no sensor profile" "$T/f.err")
[ "$n" -eq 1 ] || fail "the fallback warning $n times"

# A file without a final status whose recorder is gone (nobody holds the
# writer lock): shown as interrupted, with the hint to recover it, and the
# view ends by itself.
cp "$T/s.h5" "$T/stale.h5"
"$PY" -c 'import h5py,sys; f=h5py.File(sys.argv[1],"r+"); f.attrs.modify("status",""); f.close()' \
    "$T/stale.h5" || fail "h5py"
"$BIN/cuplab-analyze" --follow --interval 0.2 -f csv "$T/stale.h5" >"$T/s.csv" 2>"$T/s.err" &
FOLLOW=$!
for _ in $(seq 1 30); do
    kill -0 $FOLLOW 2>/dev/null || break
    sleep 0.1
done
kill -0 $FOLLOW 2>/dev/null && { kill $FOLLOW; fail "--follow kept following a dead recording"; }
wait $FOLLOW || fail "--follow exited with $?: $(cat "$T/s.err")"
grep -q "interrupted.*--recover" "$T/s.err" || fail "no hint to recover: $(cat "$T/s.err")"
"$PY" -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); assert [x["status"] for x in r] == ["interrupted"]*2, r' \
    "$T/s.csv" || fail "status shown: $(cat "$T/s.csv")"

# A follower waiting for a file that does not exist yet stops on SIGINT.
"$BIN/cuplab-analyze" --follow -q --interval 0.2 "$T/never.h5" >"$T/n.txt" 2>&1 &
FOLLOW=$!
sleep 1
kill -0 $FOLLOW 2>/dev/null || fail "--follow did not wait for the file"
kill -INT $FOLLOW
wait $FOLLOW || fail "--follow after SIGINT exited with $?"
exit 0
