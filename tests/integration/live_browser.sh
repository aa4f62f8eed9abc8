#!/bin/sh
# The live view in a real browser: headless Chromium loads the page while a
# simulated session records; every cup's value is there and changes, and a
# click on a marker button and a note from the page land as events in the
# session file, stamped within the recording and listed among its events;
# the target (recorded in the file) is drawn, C1 is shown against its band.
# The screenshot is kept in $BUILD/test-artifacts/.
. "$(dirname "$0")/../lib.sh"

command -v chromium >/dev/null 2>&1 || skip "chromium not installed"
"$PY" -c 'import websocket' 2>/dev/null || skip "python3-websocket not installed"

# C1's sensor has a profile (calibrated, unit switch); C2 and C3 stay raw.
start_sim lb --cups 3 --rate 50 --duration 600 --seed 4 --sensor-seed 100
"$BIN/cuplab-acquire" -q -o "$T/l.h5" --live 0 -d 40 --target 300:10min --target-band 10% \
    --profile "$TOP/datasets/calibration/profiles/SIMS-100-01.json" "$PTY" </dev/null 2>"$T/err" &
ACQ=$!
url=$(first_line "$T/err" | sed -n 's/^cuplab-acquire: live view at //p')
[ -n "$url" ] || { kill "$ACQ"; fail "no live view address: $(cat "$T/err")"; }
mkdir -p "$BIN/test-artifacts"
"$PY" "$TOP/tests/devtools.py" "$url" C2 C3 C1 --calibrated C1 --target "target 300 ± 30 mmHg" \
    --screenshot "$BIN/test-artifacts/live_browser.png"
rc=$?
kill -INT "$ACQ"
wait "$ACQ" || fail "cuplab-acquire exited with $?: $(cat "$T/err")"
kill "$SIM_PID" 2>/dev/null; wait_sim
[ $rc -eq 0 ] || exit $rc
"$PY" - "$T/l.h5" <<'PYEOF' || fail "marker events from the page"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
names = {v: k for k, v in h5py.check_enum_dtype(f["events"].dtype["kind"]).items()}
ev = [(names[int(e["kind"])], int(e["cup"]), e["text"].decode(), float(e["t"]))
      for e in f["events"][:]]
marks = [(k, c, t) for k, c, t, _ in ev if k in ("applied", "note")]
assert marks == [("applied", 1, ""), ("note", -1, "sent from the page")], ev
stop = [e[3] for e in ev if e[0] == "stop"][0]
assert all(0 < e[3] < stop for e in ev if e[0] in ("applied", "note")), ev
a = f.attrs
assert abs(a["target_vacuum_kpa"] - 300 * 0.133322387415) < 1e-9, dict(a)
assert abs(a["target_band_kpa"] - 30 * 0.133322387415) < 1e-9, dict(a)
assert a["target_duration_s"] == 600, dict(a)
PYEOF
echo "live view page: values update, markers recorded"
