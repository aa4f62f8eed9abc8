#!/bin/sh
# cuplab-analyze --follow --live: the live view's page for a recording that
# another process makes, read-only.  cuplab-acquire (without --live) records
# a simulated session while cuplab-analyze follows the file with --live;
# headless Chromium loads the page: every cup's value is there and changes,
# and each value shown equals the file's row at the snapshot's time (the
# last row at or before it) within the display's rounding: 0.5 mmHg for the
# calibrated cup, whose profile the follower takes from the file, 0.5 counts
# for the raw ones, and 0.001 more for the snapshot's 7 significant digits.
# The snapshot is no more than 4 s behind the recording (but while the
# device is unplugged: then the file has nothing new).  No marker control
# can be used and a marker posted is refused.  The device is unplugged for
# 2 s: every snapshot polled shows it connected or not as the file's events
# say at the snapshot's time, and some show it gone.  (The view's moments
# are every 0.1 s of host time, and at an event after the newest row.)  Bad
# --live options are usage errors, a port in use exit status 3.  The
# examples of docs/analysis.md serve the same view (port 0 for their 8080):
# on 127.0.0.1 without a token, elsewhere only with it, and end on SIGINT.
# The view lists the file's events (the last 32 up to its time, as they are
# in the file) and draws the target the recorder was given.  The follower
# has the file open read-only only, ends by itself when the
# recording ends, and the recording holds every frame sent, unchanged.  The
# page's screenshot is kept in $BUILD/test-artifacts/.
. "$(dirname "$0")/../lib.sh"

command -v chromium >/dev/null 2>&1 || skip "chromium not installed"
"$PY" -c 'import websocket' 2>/dev/null || skip "python3-websocket not installed"

usage() { # expected message part, arguments...
    want=$1; shift
    "$BIN/cuplab-analyze" "$@" "$T/none.h5" >/dev/null 2>"$T/err"
    rc=$?
    [ $rc -eq 2 ] || fail "$* exited with $rc, not 2"
    grep -q -- "$want" "$T/err" || fail "$*: no '$want' in: $(cat "$T/err")"
}
usage "--live needs --follow" --live 0
usage "invalid --live address" --follow --live host.example:80
usage "invalid --live port" --follow --live 65536
usage "invalid --live-token" --follow --live 0 --live-token short
usage "--live-token needs --live" --follow --live-token abcdefgh12

# live_checks URL: the token rules of a read-only view at URL.
live_checks() {
    "$PY" - "$1" <<'PYEOF'
import json, sys, urllib.request, urllib.error
url = sys.argv[1]
base, token = url.split("/?token=")
port = base.rsplit(":", 1)[1]
local = base.startswith("http://127.")
def ask(path, method="GET", body=None, headers={}):
    req = urllib.request.Request("http://127.0.0.1:%s%s" % (port, path), data=body,
                                 method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
tok = {"X-Cuplab-Token": token}
code, body = ask("/snapshot.json")
if local:
    assert code == 200 and json.loads(body)["read_only"] is True, (code, body)
else:
    assert code == 403 and ask("/")[0] == 403, (code, body)
    assert ask("/snapshot.json?token=wrong-token-0")[0] == 403
    code, body = ask("/snapshot.json?token=" + token)
    assert code == 200 and json.loads(body)["read_only"] is True, (code, body)
code, body = ask("/marker", "POST", b"note from afar", tok)
assert code == 403 and "read-only" in json.loads(body)["error"], (code, body)
assert ask("/live.js", headers=tok)[0] == 200
print("%s: %s view, marker refused: %s" % (url.split("?")[0], "local" if local else "token",
                                         json.loads(body)["error"]))
PYEOF
}

start_sim fl --cups 3 --rate 50 --duration 15 --seed 4 --sensor-seed 100 --link "$T/dev" \
    --disconnect 9:2
start=$("$PY" -c 'import time; print(time.time())')
"$BIN/cuplab-acquire" -q -o "$T/f.h5" --target 250mmHg:1min --target-band 20 \
    --profile "$TOP/datasets/calibration/profiles/SIMS-100-01.json" "$T/dev" </dev/null \
    2>"$T/acq.err" &
ACQ=$!
"$BIN/cuplab-analyze" -q "$T/f.h5" --follow --live 127.0.0.1:0 >"$T/follow.out" \
    2>"$T/follow.err" &
FOL=$!
url=$(first_line "$T/follow.err" | sed -n 's/^cuplab-analyze: live view at //p')
[ -n "$url" ] || { kill "$ACQ" "$FOL"; fail "no live view address: $(cat "$T/follow.err")"; }
port=$(echo "$url" | sed -n 's|^http://127.0.0.1:\([0-9]*\)/?token=[0-9a-f]*$|\1|p')
"$BIN/cuplab-analyze" -q "$T/f.h5" --follow --live "$port" >/dev/null 2>"$T/err"
rc=$?
[ $rc -eq 3 ] && grep -q "cannot listen on 127.0.0.1:$port" "$T/err" ||
    { kill "$ACQ" "$FOL"; fail "a port in use: exit $rc: $(cat "$T/err")"; }

# Every descriptor of the follower on the session file, while it follows.
"$PY" - "$FOL" "$T/f.h5" "$T/fds" <<'PYEOF' &
import os, sys, time
pid, path, out = sys.argv[1], os.path.realpath(sys.argv[2]), sys.argv[3]
modes = {}
end = time.time() + 12
while time.time() < end:
    try:
        fds = os.listdir("/proc/%s/fd" % pid)
    except OSError:
        break
    for fd in fds:
        try:
            if os.path.realpath("/proc/%s/fd/%s" % (pid, fd)) != path:
                continue
            info = open("/proc/%s/fdinfo/%s" % (pid, fd)).read()
        except OSError:
            continue
        mode = int(info.split("flags:")[1].split()[0], 8) & 3
        modes[mode] = modes.get(mode, 0) + 1
    time.sleep(0.01)
open(out, "w").write("%r\n" % modes)
PYEOF
FDS=$!

# The snapshots (their time and the device's state) until the view closes.
"$PY" - "$port" "$T/states" <<'PYEOF' &
import json, sys, time, urllib.request
states, last = [], None
while True:
    try:
        with urllib.request.urlopen("http://127.0.0.1:%s/snapshot.json?since=999999999"
                                    % sys.argv[1], timeout=5) as r:
            snap = json.load(r)
    except OSError:
        break
    if snap["recording"]:
        states.append((snap["t"], snap["devices"][0]["connected"]))
        last = {k: snap[k] for k in ("t", "events", "target")}
    time.sleep(0.2)
json.dump(states, open(sys.argv[2], "w"))
json.dump(last, open(sys.argv[2] + ".last", "w"))
PYEOF
POLL=$!

# The documented examples, while the recording goes on.
awk '/<!-- example: follow-live -->/ { on = 1; next } on && /^```/ { if (++fence == 2) exit; next }
     on' "$TOP/docs/analysis.md" | sed 's/ *#.*//; s/8080/0/; s|session\.h5|"$T/f.h5"|' \
    >"$T/examples.sh"
[ "$(wc -l <"$T/examples.sh")" -eq 2 ] || fail "documented examples not found: $(cat "$T/examples.sh")"
i=0
while read -r cmd; do
    i=$((i + 1))
    T="$T" PATH="$BIN:$PATH" sh -c "exec $cmd" >/dev/null 2>"$T/ex$i.err" &
    EX=$!
    exurl=$(first_line "$T/ex$i.err" | sed -n 's/^cuplab-analyze: live view at //p')
    [ -n "$exurl" ] || { kill "$EX" "$ACQ" "$FOL"; fail "example $cmd: $(cat "$T/ex$i.err")"; }
    live_checks "$exurl" || { kill "$EX" "$ACQ" "$FOL"; fail "example $cmd: token rules"; }
    kill -INT "$EX"
    wait "$EX" || { kill "$ACQ" "$FOL"; fail "example $cmd exited with $? on SIGINT"; }
done <"$T/examples.sh"

live_checks "$url" || { kill "$ACQ" "$FOL"; fail "the follower's token rules"; }
mkdir -p "$BIN/test-artifacts"
"$PY" "$TOP/tests/follow_live.py" "$url" "$T/samples.json" "$BIN/test-artifacts/follow_live.png" \
    C1 C2 C3
rc=$?
[ $rc -eq 0 ] || { kill "$ACQ" "$FOL"; exit $rc; }
wait_sim
sleep 1
kill -INT "$ACQ"
wait "$ACQ" || fail "cuplab-acquire exited with $?: $(cat "$T/acq.err")"
for _ in $(seq 1 100); do
    kill -0 "$FOL" 2>/dev/null || break
    sleep 0.1
done
kill -0 "$FOL" 2>/dev/null && { kill "$FOL"; fail "the follower did not end with the recording"; }
wait "$FOL" || fail "cuplab-analyze --follow --live exited with $?: $(cat "$T/follow.err")"
wait "$FDS" "$POLL"
[ "$(wc -l <"$T/follow.err")" -eq 1 ] || fail "the follower said: $(cat "$T/follow.err")"
grep -q "f.h5: complete" "$T/follow.out" || fail "no final table: $(tail -3 "$T/follow.out")"
grep -qx "{0: [0-9]*}" "$T/fds" || fail "the follower's descriptors on the file: $(cat "$T/fds")"

h5check values "$T/f.h5" "$T/fl.log.csv" || fail "recorded values differ from those sent"
for c in overruns checksum_errors; do
    h5check counter "$T/f.h5" 0 $c eq 0 || fail "$c"
done
h5check counter "$T/f.h5" 0 reconnects eq 1 || fail "reconnects"
"$PY" - "$T/states" "$T/f.h5" <<'PYEOF' || fail "the device's state in the view"
import json, sys, h5py
states, f = json.load(open(sys.argv[1])), h5py.File(sys.argv[2], "r")
names = {v: k for k, v in h5py.check_enum_dtype(f["events"].dtype["kind"]).items()}
ev = [(float(e["t"]), names[int(e["kind"])]) for e in f["events"][:]
      if names[int(e["kind"])] in ("disconnect", "reconnect")]
assert [k for _, k in ev][:2] == ["disconnect", "reconnect"], ev  # then the simulator's end
def connected(t):
    return all(k == "reconnect" for _, k in [e for e in ev if e[0] <= t + 1e-4][-1:])
wrong = [(t, c) for t, c in states if c != connected(t)]
assert not wrong, ("state", wrong, ev)
gone = [t for t, c in states if not c and ev[0][0] - 1e-4 <= t < ev[1][0]]
back = [t for t, c in states if c and t >= ev[1][0]]
assert gone and back, ("never seen unplugged and back", states, ev)
print("%d snapshots show the device as the events say (unplugged from %.1f s to %.1f s: "
      "seen gone in %d, back in %d)" % (len(states), ev[0][0], ev[1][0], len(gone), len(back)))
PYEOF
"$PY" - "$T/states.last" "$T/f.h5" <<'PYEOF' || fail "the view's events and target"
import json, sys, h5py
last, f = json.load(open(sys.argv[1])), h5py.File(sys.argv[2], "r")
names = {v: k for k, v in h5py.check_enum_dtype(f["events"].dtype["kind"]).items()}
ids = [c["cup_id"].decode() if isinstance(c["cup_id"], bytes) else c["cup_id"]
       for c in f["cups"][:]]
text = lambda x: x.decode() if isinstance(x, bytes) else x
# times as the snapshot gives them: 7 significant digits
want = [(float(e["t"]), names[int(e["kind"])],
         ids[int(e["cup"])] if int(e["cup"]) >= 0 else None, text(e["text"]))
        for e in f["events"][:] if float(e["t"]) <= last["t"] + 1e-4][-32:]
got = [(e["t"], e["kind"], e["cup"], e["text"]) for e in last["events"]]
assert len(got) == len(want) and all(abs(g[0] - w[0]) < 1e-4 and g[1:] == w[1:]
                                     for g, w in zip(got, want)), (got, want)
assert any(k == "disconnect" for _, k, _, _ in got), got
mmhg = 0.133322387415
t = last["target"]
assert abs(t["vacuum_kpa"] - 250 * mmhg) < 1e-4 and abs(t["band_kpa"] - 20 * mmhg) < 1e-4 \
    and t["duration_s"] == 60, t
print("the view's last snapshot (%.1f s): %d events as in the file, target %s" %
      (last["t"], len(got), t))
PYEOF
"$PY" - "$T/samples.json" "$T/f.h5" "$start" <<'PYEOF' || fail "the page and the file disagree"
import json, sys, h5py, numpy as np
samples, f, start = json.load(open(sys.argv[1])), h5py.File(sys.argv[2], "r"), float(sys.argv[3])
text = lambda x: x.decode() if isinstance(x, bytes) else x
cups = {text(c["cup_id"]): (int(c["device"]), int(c["channel"]), text(c["sensor_serial"]))
        for c in f["cups"][:]}
stored = [json.loads(text(p)) for p in f["calibration/profiles"][:]]
coef = {p["sensor"]["serial"]: p["transfer"]["coefficients"] for p in stored
        if p.get("kind") == "sensor"}
names = {v: k for k, v in h5py.check_enum_dtype(f["events"].dtype["kind"]).items()}
unplugged = [float(e["t"]) for e in f["events"][:]
             if names[int(e["kind"])] in ("disconnect", "reconnect")][:2]
KPA_PER_MMHG, PERIOD = 0.133322387415, 0.1
worst, lags = {}, []
for s in samples:
    moment = round(s["t"] / PERIOD) * PERIOD  # the view's moments: k times its period,
    if abs(moment - s["t"]) > 1e-6:           # or an event's time after the newest row
        moment = s["t"] + 1e-4
    if not unplugged[0] - 1e-4 <= s["t"] <= unplugged[1]:
        lags.append(s["wall"] - start - s["t"])
    for cup, shown in s["values"].items():
        dev, ch, serial = cups[cup]
        g = f["devices/dev%d" % dev]
        row = np.searchsorted(g["host_time"][:], moment, side="right") - 1
        assert row >= 0, (cup, s)
        raw = g["samples"][row, ch]
        if serial in coef:
            want, unit = -np.polynomial.polynomial.polyval(raw, coef[serial]) / KPA_PER_MMHG, "mmHg"
        else:
            want, unit = raw, "raw counts"
        assert s["units"][cup] == unit, (cup, s["units"][cup], unit)
        diff = abs(float(shown) - want)
        assert diff <= 0.5 + 1e-3, (cup, s["t"], shown, want)  # + the JSON's 7 digits
        worst[cup] = max(worst.get(cup, 0), diff)
assert len({s["t"] for s in samples}) >= 3, "the view did not move on"
assert lags and 0 <= max(lags) < 4 and min(lags) > -0.5, ("behind the recording", lags)
print("%d samples of %s equal the file's rows (largest difference %s, at most 0.5 of the "
      "last digit shown, + 0.001); %d taken while connected behind the recording by %.1f to %.1f s"
      % (len(samples), ", ".join(sorted(worst)),
         ", ".join("%s %.3f" % (c, worst[c]) for c in sorted(worst)), len(lags), min(lags),
         max(lags)))
PYEOF
[ -s "$BIN/test-artifacts/follow_live.png" ] || fail "no screenshot"
echo "follow --live: the page shows the file read-only; recording unchanged"
