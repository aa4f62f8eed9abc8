#!/bin/sh
# A kill at any moment of `cuplab-analyze --write` or `--recover` never costs
# the recording: the process is killed just before each of its file-changing
# system calls in turn (write, pwrite64, copy_file_range, ftruncate, fsync,
# rename, ...), and every time the session file must open, keep every object
# and attribute of the recording unchanged, and carry either no /analysis or a
# complete one.  Also: a crashed recording reads as "interrupted" with a hint
# to recover it, `--write` refuses it before doing any work, and a second
# `--recover` says there is nothing to recover.
. "$(dirname "$0")/../lib.sh"
command -v strace >/dev/null 2>&1 || skip "strace not installed"
strace -o /dev/null true 2>/dev/null || skip "strace cannot trace here"

# LeakSanitizer cannot run under ptrace: in a sanitizer build, leaks are
# checked by the other tests, not by the traced runs here.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
export ASAN_OPTIONS

CALLS=write,pwrite64,pwritev,pwritev2,copy_file_range,ftruncate,fallocate,truncate,fsync,fdatasync,rename,renameat,renameat2,link,linkat,unlink,unlinkat

# kill_each NAME CMD...: run CMD (on $T/NAME.h5, a fresh copy of
# $T/NAME.orig each time) once traced to count its calls, then once per call,
# killed just before it; trial k leaves $T/NAME.k.h5.  Prints the trial count.
kill_each() {
    name=$1; shift
    cp "$T/$name.orig" "$T/$name.h5"
    strace -f -o "$T/$name.trace" -e trace=$CALLS "$@" >/dev/null 2>&1 ||
        fail "$name: untraced run failed"
    k=0
    for call in $(echo $CALLS | tr , ' '); do
        n=$(grep -cE "^[0-9]+ +$call\(" "$T/$name.trace")
        i=0
        while [ $i -lt "$n" ]; do
            i=$((i + 1)); k=$((k + 1))
            cp "$T/$name.orig" "$T/$name.h5"
            strace -f -o /dev/null -e trace=$CALLS -e inject=$call:signal=KILL:when=$i \
                "$@" >/dev/null 2>&1
            rc=$?
            [ $rc -eq 137 ] || fail "$name: not killed before $call #$i (exit $rc)"
            mv "$T/$name.h5" "$T/$name.$k.h5"
            rm -f "$T/.$name.h5.cuplab-tmp"
        done
    done
    echo $k
}

# --- --write on a complete 900 s, 8-cup session with markers.
"$BIN/cuplab-sim" -o "$T/w.orig" --cups 8 --rate 20 --duration 900 --seed 3 --markers \
    2>"$T/sim.err" || fail "cuplab-sim: $(cat "$T/sim.err")"
ANALYZE="$BIN/cuplab-analyze -q --nominal-sensor --write $T/w.h5"
cp "$T/w.orig" "$T/w.full.h5"
$BIN/cuplab-analyze -q --nominal-sensor --write "$T/w.full.h5" >/dev/null || fail "--write failed"
trials=$(kill_each w $ANALYZE) || exit 1
[ "$trials" -ge 20 ] || fail "--write made only $trials file-changing calls"
k=0
while [ $k -lt "$trials" ]; do
    k=$((k + 1))
    "$BIN/cuplab-analyze" -q --nominal-sensor -f csv "$T/w.$k.h5" >/dev/null 2>"$T/w.$k.err" ||
        fail "--write killed at call $k: the session does not open: $(cat "$T/w.$k.err")"
done
"$PY" - "$T" "$trials" <<'PY' || fail "a killed --write left incomplete results"
import json, sys
import h5py
d, n = sys.argv[1], int(sys.argv[2])
want = sorted(h5py.File(f"{d}/w.full.h5", "r")["analysis/cups"].keys())
new = 0
for k in range(1, n + 1):
    with h5py.File(f"{d}/w.{k}.h5", "r") as f:
        status = f.attrs["status"]
        status = status.decode() if isinstance(status, bytes) else status
        assert status == "complete", (k, status)
        if "analysis" in f:
            new += 1
            assert sorted(f["analysis/cups"].keys()) == want, k
            json.loads(f["analysis/results"][()])
print(f"{n} kills: {new} left the new results, {n - new} the file as it was")
PY
k=0
while [ $k -lt "$trials" ]; do
    k=$((k + 1))
    h5check same "$T/w.$k.h5" "$T/w.orig" || fail "--write killed at call $k: recording changed"
done
echo "--write: killed before each of its $trials file-changing calls, recording intact every time"
# A stale copy left by a kill is replaced by the next --write, and removed.
cp "$T/w.orig" "$T/w.h5"
strace -f -o /dev/null -e inject=pwrite64:signal=KILL:when=40 $ANALYZE >/dev/null 2>&1
[ -f "$T/.w.h5.cuplab-tmp" ] || fail "expected the killed --write to leave its copy"
$ANALYZE >/dev/null || fail "--write after a killed one failed"
[ -f "$T/.w.h5.cuplab-tmp" ] && fail "the stale copy was left behind"
h5check same "$T/w.h5" "$T/w.orig" || fail "recording changed"

# --- a recording whose recorder was killed.
start_sim k --protocol binary --cups 4 --rate 200 --duration 600 --seed 5
"$BIN/cuplab-acquire" -q -o "$T/k.h5" --flush 0.5 -P binary "$PTY" </dev/null &
acq=$!
sleep 2.5
kill -9 $acq
wait $acq 2>/dev/null
kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; SIM_PID=""
cp "$T/k.h5" "$T/k.orig"

"$BIN/cuplab-analyze" --nominal-sensor -f csv "$T/k.h5" >"$T/k.csv" 2>"$T/k.err" ||
    fail "crashed file: $(cat "$T/k.err")"
grep -q "interrupted.*--recover" "$T/k.err" || fail "no hint to recover: $(cat "$T/k.err")"
"$PY" -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); assert {x["status"] for x in r} == {"interrupted"}, r[0]' \
    "$T/k.csv" || fail "status of a crashed recording"
"$BIN/cuplab-analyze" --nominal-sensor --write "$T/k.h5" >"$T/k.out" 2>"$T/k.err"
[ $? -eq 1 ] || fail "--write accepted a crashed recording"
[ -s "$T/k.out" ] && fail "--write analysed before refusing: $(head -n 2 "$T/k.out")"
[ "$(wc -l <"$T/k.err")" -eq 1 ] && grep -q "recover" "$T/k.err" || fail "refusal: $(cat "$T/k.err")"
cmp -s "$T/k.h5" "$T/k.orig" || fail "refused --write changed the file"

trials=$(kill_each k "$BIN/cuplab-analyze" -q --recover "$T/k.h5") || exit 1
[ "$trials" -ge 3 ] || fail "--recover made only $trials file-changing calls"
k=0
while [ $k -lt "$trials" ]; do
    k=$((k + 1))
    f="$T/k.$k.h5"
    "$BIN/cuplab-analyze" -q --nominal-sensor -f csv "$f" >/dev/null 2>"$T/k.$k.err" ||
        fail "--recover killed at call $k: file does not open: $(cat "$T/k.$k.err")"
    h5check same "$f" "$T/k.orig" status ended_utc recovered_utc ||
        fail "--recover killed at call $k: recording changed"
    "$BIN/cuplab-analyze" -q --recover "$f" || fail "--recover after a killed one failed ($k)"
    h5check attr "$f" status interrupted || fail "status after recovery ($k)"
    h5check same "$f" "$T/k.orig" status ended_utc recovered_utc || fail "recovery changed data ($k)"
    h5dump -H "$f" >/dev/null 2>&1 || fail "h5dump cannot open the recovered file ($k)"
done
echo "--recover: killed before each of its $trials file-changing calls, recording intact every time"
"$BIN/cuplab-analyze" --recover "$T/k.1.h5" 2>"$T/again.err" || fail "second --recover failed"
grep -q "nothing to recover" "$T/again.err" || fail "second --recover: $(cat "$T/again.err")"
exit 0
