#!/bin/sh
# A sensor at the end of its ADC's range in the live view: a device that
# announces an 11-bit ADC sends channel 1 at its full scale (2047 counts)
# for 1 s of every 3 and at 0 for the next 0.5 s, channel 2 mid-range
# throughout.  Every snapshot polled shows C1 saturated exactly when the
# file's last row of C1 at or before the snapshot's time is 0 or 2047 (a
# snapshot within 0.15 s of a change is not judged), C2 never; headless
# Chromium shows C1's warning, and hides it again.
. "$(dirname "$0")/../lib.sh"

"$PY" - "$T/dev" <<'PYEOF' &
import os, sys, termios, time
master, slave = os.openpty()
attrs = termios.tcgetattr(slave)
attrs[3] &= ~termios.ECHO
termios.tcsetattr(slave, termios.TCSANOW, attrs)
os.symlink(os.ttyname(slave), sys.argv[1])
head = "# protocol_version: 2\n# channels: 2\n# rate_hz: 100\n# adc_bits: 11\n" \
       "# time_units: ms\n# timestamp: first\n"
os.write(master, head.encode())
t0 = time.time()
for i in range(2500):
    ms = 10 * i
    phase = ms % 3000
    c1 = 2047 if phase < 1000 else 0 if phase < 1500 else 1500
    os.write(master, b"%d,%d,1200\n" % (ms, c1))
    time.sleep(max(0, t0 + (i + 1) / 100 - time.time()))
PYEOF
DEV=$!
i=0
while [ ! -e "$T/dev" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
"$BIN/cuplab-acquire" -q -o "$T/s.h5" -d 12 --live 0 "$T/dev" </dev/null 2>"$T/err" &
ACQ=$!
url=$(first_line "$T/err" | sed -n 's/^cuplab-acquire: live view at //p')
[ -n "$url" ] || { kill "$ACQ" "$DEV"; fail "no live view address: $(cat "$T/err")"; }
"$PY" - "$url" "$T/snaps.json" <<'PYEOF' &
import json, sys, time, urllib.request
base = sys.argv[1].split("/?")[0]
snaps = []
end = time.time() + 30
while time.time() < end:
    try:
        with urllib.request.urlopen(base + "/snapshot.json?since=999999999", timeout=5) as r:
            s = json.load(r)
    except OSError:
        break
    if s["recording"]:
        snaps.append((s["t"], [c["saturated"] for c in s["cups"]]))
    time.sleep(0.1)
json.dump(snaps, open(sys.argv[2], "w"))
PYEOF
POLL=$!
rc=77
if command -v chromium >/dev/null 2>&1 && "$PY" -c 'import websocket' 2>/dev/null; then
    mkdir -p "$BIN/test-artifacts"
    PYTHONPATH="$TOP/tests" "$PY" - "$url" "$BIN/test-artifacts/live_saturation.png" <<'PYEOF'
import base64, sys
from devtools import browser
with browser() as page:
    page.call("Page.navigate", url=sys.argv[1])
    shown = "!!document.getElementById('warn-C1') && !document.getElementById('warn-C1').hidden"
    page.wait(shown, 20, "C1's saturation warning")
    with open(sys.argv[2], "wb") as f:
        f.write(base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"]))
    page.wait("!(%s)" % shown, 5, "C1's warning gone again")
    if not page.eval("document.getElementById('warn-C2').hidden"):
        sys.exit("C2 shown saturated")
    print("page: C1's saturation warning shown, then hidden again")
PYEOF
    rc=$?
fi
wait "$ACQ" || fail "cuplab-acquire exited with $?: $(cat "$T/err")"
kill "$DEV" 2>/dev/null
wait "$POLL"
[ $rc -eq 0 ] || [ $rc -eq 77 ] || fail "the page"
"$PY" - "$T/snaps.json" "$T/s.h5" <<'PYEOF' || fail "saturation shown against the file"
import json, sys, h5py, numpy as np
snaps, f = json.load(open(sys.argv[1])), h5py.File(sys.argv[2], "r")
d = f["devices/dev0"]
host, c1 = d["host_time"][:], d["samples"][:, 0]
sat = (c1 <= 0) | (c1 >= 2047)
change = host[1:][sat[1:] != sat[:-1]]
judged = yes = 0
for t, s in snaps:
    assert s[1] is False, ("C2 saturated", t)
    i = np.searchsorted(host, t + 1e-6, side="right") - 1
    if i < 0 or np.min(np.abs(change - t), initial=9) < 0.15:
        continue
    judged += 1
    yes += s[0]
    assert s[0] == bool(sat[i]), ("C1 at %.2f s: shown %s, row %d = %g" % (t, s[0], i, c1[i]))
assert judged >= 40 and 10 <= yes <= judged - 10, (judged, yes)
print("%d snapshots judged: C1 saturated in %d, as the file's rows say; C2 never" % (judged, yes))
PYEOF
echo "live view: saturation shown as the readings are"
