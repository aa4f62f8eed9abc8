# Helpers for the tests that run the firmware on the emulated board
# (sourced after lib.sh, not run).  Builds the firmware on demand.
command -v avr-gcc >/dev/null 2>&1 || skip "avr-gcc not installed: firmware tests skipped"
[ -x "$BIN/cuplab-board" ] || skip "cuplab-board not built (libsimavr-dev missing)"
make -s -C "$TOP" BUILD="$BUILD" firmware >"$T/firmware.out" 2>&1 ||
    { cat "$T/firmware.out" >&2; fail "make firmware failed"; }
FW="$BIN/firmware/cuplab-uno.elf"

# start_board NAME [board options...]: start cuplab-board in the background
# with the conversion log $T/NAME.log.csv and timing figures
# $T/NAME.stats.json; sets SIM_PID (killed on exit) and PTY.
# (simavr 1.6 does not free its interrupt tables: no leak check for the
# board when the suite runs under the address sanitizer.)
start_board() {
    name=$1; shift
    start_device "$name" board env ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
        "$BIN/cuplab-board" -f "$FW" --log "$T/$name.log.csv" \
        --stats "$T/$name.stats.json" "$@"
}

# wait_board: wait for the board to exit, fail if it failed.
wait_board() {
    wait "$SIM_PID" || { cat "$T/"*.board.err >&2; fail "cuplab-board exited with $?"; }
    SIM_PID=""
}

# board_cmd [-k] COMMAND...: send firmware commands, print its metadata lines.
board_cmd() {
    if [ "${1:-}" = -k ]; then shift; set -- -k "$PTY" "$@"; else set -- "$PTY" "$@"; fi
    "$PY" "$TOP/tests/board_cmd.py" "$@"
}

# start_two_boards "A OPTIONS" "B OPTIONS": boards a and b as start_board
# starts them; sets PTY_A, PID_A, PTY_B, PID_B (both killed on exit).
start_two_boards() {
    b_opts=$2
    # shellcheck disable=SC2086 # one word per option
    start_board a $1
    PTY_A=$PTY PID_A=$SIM_PID
    # shellcheck disable=SC2086
    start_board b $b_opts
    PTY_B=$PTY PID_B=$SIM_PID
    SIM_PID="$PID_A $PID_B"
}
