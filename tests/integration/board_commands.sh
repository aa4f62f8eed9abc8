#!/bin/sh
# Host commands of the firmware: a saved rate survives the reset command, an
# unsaved one does not, invalid settings are refused with the rule they
# break, and the recording afterwards runs at the saved rate.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/board.sh"

start_board cmd --duration 8 --seed 2
board_cmd "rate 250" save reset "rate 500" reset id >"$T/a.out" ||
    fail "commands failed: $(cat "$T/a.out")"
# after the last reset the firmware boots again: its identity, then the answer to id
last=$(grep -n '^protocol_version: ' "$T/a.out" | tail -n 1 | cut -d: -f1)
sed -n "${last:-1},\$p" "$T/a.out" >"$T/last.out"
grep -qx "rate_hz: 250" "$T/last.out" || fail "saved rate lost at reset: $(cat "$T/a.out")"
grep -qx "period_us: 4000" "$T/last.out" || fail "period of 250 Hz"
[ "$(grep -c '^ok: reset$' "$T/a.out")" -eq 2 ] || fail "reset not answered"
[ "$(grep -c '^firmware: ' "$T/a.out")" -ge 4 ] || fail "no boot identity after the resets"

for bad in "rate 5:rate must be 10..2000 Hz" "rate 2000:rate x channels must be <= 8000" \
    "channels 9:channels must be 1..8" "protocol morse:protocol must be binary or text" \
    "sensor 9 X:sensor channel must be 1..8" "serial a,b:serial must be printable, without blanks or ','" \
    "frobnicate:unknown command"; do
    cmd=${bad%%:*} want=${bad#*:}
    if board_cmd "$cmd" >"$T/bad.out" 2>&1; then fail "$cmd accepted"; fi
    grep -qF "error: $want" "$T/bad.out" || fail "$cmd: expected '$want': $(cat "$T/bad.out")"
done

"$BIN/cuplab-acquire" -q -o "$T/c.h5" --no-reconnect "$PTY:1000000:binary" </dev/null ||
    fail "cuplab-acquire exited with $?"
wait_board
"$PY" "$TOP/tests/board_check.py" binary "$T/c.h5" "$T/cmd.log.csv" --rate 250 --channels 8 \
    --min-frames 300 || fail "recording at the saved rate"
