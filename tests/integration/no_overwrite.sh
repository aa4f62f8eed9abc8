#!/bin/sh
# An existing file is never replaced: cuplab-acquire refuses with exit 3 and
# the file is byte-for-byte unchanged; --force is required to replace it.
. "$(dirname "$0")/../lib.sh"

printf 'precious recording\n' >"$T/existing.h5"
sum_before=$(cksum <"$T/existing.h5")
start_sim ow --cups 2 --rate 50 --duration 5 --time-scale 5
"$BIN/cuplab-acquire" -o "$T/existing.h5" --no-reconnect "$PTY" </dev/null 2>"$T/err"
rc=$?
[ $rc -eq 3 ] || fail "expected exit 3, got $rc"
grep -q "existing.h5" "$T/err" || fail "error does not name the file: $(cat "$T/err")"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "error is not one line: $(cat "$T/err")"
[ "$(cksum <"$T/existing.h5")" = "$sum_before" ] || fail "existing file was modified"
kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; SIM_PID=""

start_sim ow2 --cups 2 --rate 50 --duration 5 --time-scale 5
"$BIN/cuplab-acquire" -q -o "$T/existing.h5" --force --no-reconnect "$PTY" </dev/null ||
    fail "--force did not replace the file"
wait_sim
h5check values "$T/existing.h5" "$T/ow2.log.csv" || fail "values after --force"
