#!/bin/sh
# The live view costs the recording nothing: the same simulated session
# recorded without --live and with it, while the server gets hostile
# requests (garbage, huge headers and bodies, path traversal, missing or
# wrong token, wrong methods), stalled connections, unread event streams and
# a stream of snapshot requests.  Both files hold every frame sent, and the
# same rows; each hostile request got its 4xx, the valid marker its event.
# The simulator waits when the port is not read, so a reader held up by the
# server would lose nothing but show as late host times: frames must reach
# the file stamped within 0.5 s of when they were sent.
. "$(dirname "$0")/../lib.sh"

SIM="--protocol binary --cups 4 --rate 500 --duration 60 --time-scale 4 --seed 7"
# shellcheck disable=SC2086
start_sim plain $SIM
"$BIN/cuplab-acquire" -q -o "$T/plain.h5" --no-reconnect -P binary "$PTY" </dev/null ||
    fail "cuplab-acquire exited with $?"
wait_sim

# shellcheck disable=SC2086
start_sim live $SIM
"$BIN/cuplab-acquire" -q -o "$T/live.h5" --no-reconnect -P binary --live 127.0.0.1:0 \
    "$PTY" </dev/null 2>"$T/err" &
ACQ=$!
url=$(first_line "$T/err" | sed -n 's/^cuplab-acquire: live view at //p')
port=$(echo "$url" | sed -n 's|^http://127.0.0.1:\([0-9]*\)/?token=.*|\1|p')
token=${url##*token=}
[ -n "$port" ] || { kill "$ACQ"; fail "no live view address: $(cat "$T/err")"; }
"$PY" "$TOP/tests/live_hammer.py" "$port" "$token" 5 || { kill "$ACQ"; fail "live view answers"; }
wait "$ACQ" || fail "cuplab-acquire --live exited with $?: $(cat "$T/err")"
wait_sim

cmp -s "$T/plain.log.csv" "$T/live.log.csv" || fail "the simulator sent different sessions"
for f in plain live; do
    h5check values "$T/$f.h5" "$T/$f.log.csv" || fail "$f: recorded values differ from those sent"
    for c in overruns seq_gaps lost_frames checksum_errors; do
        h5check counter "$T/$f.h5" 0 $c eq 0 || fail "$f: $c"
    done
done
"$PY" - "$T/plain.h5" "$T/live.h5" <<'PYEOF' || fail "the two recordings differ"
import sys, h5py, numpy as np
a, b = (h5py.File(p, "r") for p in sys.argv[1:])
for k in ("samples", "sequence", "device_time"):
    x, y = a["devices/dev0"][k][:], b["devices/dev0"][k][:]
    assert x.shape == y.shape and np.array_equal(x, y), (k, x.shape, y.shape)
g = b["devices/dev0"]
assert g["device_time"].attrs["units"] in ("us", b"us")
lag = g["host_time"][:] - g["device_time"][:] * 1e-6 / 4  # --time-scale 4
assert lag.max() - lag.min() < 0.5, ("reader held up", lag.max() - lag.min())
names = {v: k for k, v in h5py.check_enum_dtype(b["events"].dtype["kind"]).items()}
ev = [(names[int(e["kind"])], int(e["cup"]), e["text"].decode()) for e in b["events"][:]]
marks = [e for e in ev if e[0] in ("applied", "released", "moved", "repumped", "note")]
assert marks == [("repumped", 1, "from the hammer")], ev
print("rows equal:", a["devices/dev0"]["samples"].shape,
      "lag spread %.3f s" % (lag.max() - lag.min()))
PYEOF
echo "live view under load: recording unchanged"
