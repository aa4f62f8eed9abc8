#!/bin/sh
# Disk full: a file-size limit (`ulimit -f`) and a small filesystem that
# fills up.  Each time the recording stops cleanly with one clear message and
# exit 1, and the file is finished as an interrupted session: status
# "interrupted", a stop event saying why, counters matching the rows stored,
# every value exactly what was sent; cuplab-analyze reads and --write's it
# (where there is room for the copy --write makes).
. "$(dirname "$0")/../lib.sh"

# record NAME FILE LIMIT: record into FILE (LIMIT: ulimit -f blocks, or "")
# until the recorder stops by itself, then check the file.
record() {
    name=$1 file=$2 limit=$3
    start_sim $name --protocol binary --cups 8 --rate 1000 --duration 600 --seed 6
    (
        [ -z "$limit" ] || ulimit -f "$limit"
        exec "$BIN/cuplab-acquire" -q -o "$file" --flush 0.2 -P binary "$PTY" </dev/null 2>"$T/$name.err"
    ) &
    acq=$!
    i=0
    while kill -0 $acq 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    kill -0 $acq 2>/dev/null && { kill -9 $acq; fail "$name: recorder did not stop when out of room"; }
    wait $acq
    rc=$?
    kill "$SIM_PID" 2>/dev/null; wait_sim
    cat "$T/$name.err"
    [ $rc -eq 1 ] || fail "$name: exit $rc, expected 1"
    grep -qi "disk full\|no space\|size limit\|too large" "$T/$name.err" || fail "$name: message does not say what happened"
    [ "$(grep -c . "$T/$name.err")" -le 2 ] || fail "$name: too many lines"
    h5check attr "$file" status interrupted || fail "$name: status"
    h5check values "$file" "$T/$name.log.csv" --min-fraction 0 || fail "$name: values"
    "$PY" - "$file" <<'PYEOF' || fail "$name: stop event or counters"
import sys, h5py
f = h5py.File(sys.argv[1], "r")
rows = len(f["devices/dev0/samples"])
c = f["devices/dev0/counters"][0]
codes = {v: k for k, v in h5py.check_enum_dtype(f["events"].dtype["kind"]).items()}
stops = [e["text"].decode() for e in f["events"][:] if codes[int(e["kind"])] == "stop"]
print(f"rows {rows}, frames {c['frames']}, stop events {stops}")
assert rows > 1000, "too few rows kept"
assert c["frames"] == rows, "counters must match the rows stored"
assert len(stops) == 1 and stops[0].startswith("write error, "), stops
assert "disk full" in stops[0] or "size limit" in stops[0], stops
PYEOF
    "$BIN/cuplab-analyze" -q -f csv --adc-bits 12 "$file" >"$T/$name.csv" ||
        fail "$name: file unreadable after the write error"
    grep -q ",interrupted," "$T/$name.csv" || fail "$name: analysis does not call it interrupted"
    # --write works on a copy beside the file: on a full disk it is refused
    # in one line and the file stays as it is; with room it is accepted.
    cp "$file" "$T/$name.before"
    if ! "$BIN/cuplab-analyze" -q --adc-bits 12 --write "$file" >/dev/null 2>"$T/$name.werr"; then
        grep -q "not enough free space" "$T/$name.werr" || fail "$name: --write: $(cat "$T/$name.werr")"
        [ "$(wc -l <"$T/$name.werr")" -eq 1 ] || fail "$name: --write: $(cat "$T/$name.werr")"
        cmp -s "$file" "$T/$name.before" || fail "$name: a refused --write changed the file"
        [ -e "$(dirname "$file")/.$(basename "$file").cuplab-tmp" ] && fail "$name: copy left behind"
        cp "$file" "$T/$name.roomy.h5"
        "$BIN/cuplab-analyze" -q --adc-bits 12 --write "$T/$name.roomy.h5" >/dev/null ||
            fail "$name: --write refused it with room to spare"
    fi
}

record limit "$T/d.h5" 2048

# A 1 MiB filesystem (needs root to mount; skipped otherwise).
mkdir "$T/small"
if mount -t tmpfs -o size=1m tmpfs "$T/small" 2>/dev/null; then
    trap 'umount "$T/small"; cleanup' EXIT
    record small "$T/small/d.h5" ""
else
    echo "not root: the small-filesystem case is skipped"
fi
