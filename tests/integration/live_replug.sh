#!/bin/sh
# The live view across an unplug: headless Chromium watches the page while
# the simulated device goes away for 3 s and comes back on another pty; the
# page shows it disconnected, then connected with one reconnect, and the
# cups' values move again; the session records the outage.  The page's
# screenshot is kept in $BUILD/test-artifacts/.
. "$(dirname "$0")/../lib.sh"

command -v chromium >/dev/null 2>&1 || skip "chromium not installed"
"$PY" -c 'import websocket' 2>/dev/null || skip "python3-websocket not installed"

start_sim rp --cups 3 --rate 50 --duration 600 --seed 5 --sensor-seed 100 --start 1 \
    --link "$T/dev" --disconnect 12:3
"$BIN/cuplab-acquire" -q -o "$T/r.h5" --live 0 -d 40 \
    --profile "$TOP/datasets/calibration/profiles/SIMS-100-01.json" "$T/dev" </dev/null \
    2>"$T/err" &
ACQ=$!
url=$(first_line "$T/err" | sed -n 's/^cuplab-acquire: live view at //p')
[ -n "$url" ] || { kill "$ACQ"; fail "no live view address: $(cat "$T/err")"; }
mkdir -p "$BIN/test-artifacts"
"$PY" "$TOP/tests/live_replug.py" "$url" "$BIN/test-artifacts/live_replug.png" C1 C2 C3
rc=$?
kill -INT "$ACQ"
wait "$ACQ" || fail "cuplab-acquire exited with $?: $(cat "$T/err")"
kill "$SIM_PID" 2>/dev/null; wait_sim
[ $rc -eq 0 ] || exit $rc
h5check counter "$T/r.h5" 0 reconnects eq 1 || fail "reconnect count"
h5check events "$T/r.h5" reconnect 1 || fail "no reconnect event"
echo "live view page: through an unplug and replug"
