#!/bin/sh
# The example session of docs/firmware.md, run on the emulated board: every
# line the firmware sends must be the one the page shows.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/board.sh"

doc="$TOP/docs/firmware.md"
awk '/^<!-- example: session/ { on = 1; next } on && /^    / { print substr($0, 5); next }
     on { exit }' "$doc" >"$T/session.txt"
[ -s "$T/session.txt" ] || fail "no example session in $doc"
sed -n 's/^> //p' "$T/session.txt" >"$T/commands.txt"
sed -n 's/^# //p' "$T/session.txt" >"$T/expected.txt"

start_board doc
# shellcheck disable=SC2046
set -f; IFS='
'
board_cmd -k $(cat "$T/commands.txt") >"$T/got.txt" || fail "commands failed"
unset IFS; set +f
diff "$T/expected.txt" "$T/got.txt" || fail "the firmware does not say what $doc shows"


# The sizes the page states are those of the firmware built now.
sizes=$(avr-size -C --mcu=atmega328p "$FW")
flash=$(echo "$sizes" | sed -n 's/^Program: *\([0-9]*\) bytes (\([0-9.]*\)%.*/\1 bytes of flash (\2 %/p')
ram=$(echo "$sizes" | sed -n 's/^Data: *\([0-9]*\) bytes (\([0-9.]*\)%.*/\1 bytes of RAM for data (\2 %/p')
text=$(tr '\n' ' ' <"$doc")
for want in "$flash" "$ram"; do
    case "$text" in *"$want"*) ;; *) fail "$doc does not say '$want'" ;; esac
done
