#!/bin/sh
# cuplab-acquire --identify and --configure against the firmware on the
# emulated board: the identity printed is the one the firmware sends,
# settings are changed, saved and read back, survive the reset of the next
# open, and a refused setting saves nothing.  A device without commands
# (the simulator) still shows what it announced.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/board.sh"

start_board id --duration 40 --seed 5
spec="$PTY:1000000:binary"
"$BIN/cuplab-acquire" --identify "$spec" >"$T/id.out" 2>"$T/id.err" ||
    fail "--identify exited with $?: $(cat "$T/id.err")"
for line in "protocol_version: 2" "device: cuplab-uno" "channels: 8" "rate_hz: 100" \
    "adc_bits: 11" "adc_reference: AVCC" "adc_reference_mv: 5000" "protocol: binary" "sensor8:"; do
    grep -qx "$line" "$T/id.out" || fail "--identify: no '$line': $(cat "$T/id.out")"
done
[ "$(grep -c '^sensor[0-9]:' "$T/id.out")" -eq 8 ] || fail "one sensor line per channel"

"$BIN/cuplab-acquire" --configure rate=250,channels=4,serial=rig-9,sensor2=MPX-Q7,model2=MPXV6115V "$spec" \
    >"$T/cfg.out" 2>"$T/cfg.err" || fail "--configure exited with $?: $(cat "$T/cfg.err")"
for line in "device: rig-9" "channels: 4" "rate_hz: 250" "period_us: 4000" "sensor2: MPX-Q7" \
    "sensor2_model: MPXV6115V"; do
    grep -qx "$line" "$T/cfg.out" || fail "--configure: no '$line': $(cat "$T/cfg.out")"
done
grep -q '^sensor5' "$T/cfg.out" && fail "--configure: 4 channels, yet: $(cat "$T/cfg.out")"

# Opening the port again resets the board: the saved settings are what it says.
"$BIN/cuplab-acquire" --identify "$spec" >"$T/id2.out" 2>&1 || fail "second --identify"
for line in "device: rig-9" "channels: 4" "rate_hz: 250" "sensor2: MPX-Q7"; do
    grep -qx "$line" "$T/id2.out" || fail "after a reset: no '$line': $(cat "$T/id2.out")"
done

# A setting the firmware refuses: exit 1 with its reason, nothing saved.
if "$BIN/cuplab-acquire" --configure serial=rig-10,rate=5 "$spec" >"$T/bad.out" 2>"$T/bad.err"; then
    fail "a refused rate was accepted"
fi
grep -q "rate must be 10..2000 Hz" "$T/bad.err" || fail "no reason: $(cat "$T/bad.err")"
[ "$(wc -l <"$T/bad.err")" -eq 1 ] || fail "not one line: $(cat "$T/bad.err")"
"$BIN/cuplab-acquire" --identify "$spec" >"$T/id3.out" 2>&1 || fail "third --identify"
grep -qx "device: rig-9" "$T/id3.out" || fail "a refused configure saved something: $(cat "$T/id3.out")"

# The port may also come first.
"$BIN/cuplab-acquire" --configure "$spec" rate=500,channels=6 >"$T/pf.out" 2>&1 ||
    fail "--configure PORT SETTINGS: $(cat "$T/pf.out")"
grep -qx "rate_hz: 500" "$T/pf.out" && grep -qx "channels: 6" "$T/pf.out" ||
    fail "--configure PORT SETTINGS: $(cat "$T/pf.out")"

# The example of docs/hardware.md, on the emulated board instead of /dev/ttyACM0.
doc=$(grep -m 1 'cuplab-acquire --configure' "$TOP/docs/hardware.md" |
    sed "s|build/cuplab-acquire|$BIN/cuplab-acquire|; s|/dev/ttyACM0|$PTY|")
[ -n "$doc" ] || fail "no --configure example in docs/hardware.md"
sh -c "$doc" >"$T/doc.out" 2>&1 || fail "the example of docs/hardware.md: $(cat "$T/doc.out")"
for line in "channels: 4" "rate_hz: 250" "sensor1: A1234"; do
    grep -qx "$line" "$T/doc.out" || fail "docs/hardware.md example: no '$line'"
done

# Its first calibration: the points, the fit, a recording with the profile
# and its analysis, as the page shows them (a 4 s recording instead of 60).
awk '/^<!-- example: points/ { on = 1; next } on && /^    / { print substr($0, 5); next }
     on { exit }' "$TOP/docs/hardware.md" >"$T/A1234.csv"
[ -s "$T/A1234.csv" ] || fail "no example points in docs/hardware.md"
for prog in calibrate acquire analyze; do
    cmd=$(grep -E -m 1 "^    build/cuplab-$prog .*(-o A1234|calibrated\.h5)" "$TOP/docs/hardware.md")
    [ -n "$cmd" ] || fail "no cuplab-$prog example under 'First calibration'"
    cmd=$(echo "$cmd" | sed "s|build/cuplab-|$BIN/cuplab-|; s|/dev/ttyACM0|$PTY|; s|-d 60|-d 4|")
    (cd "$T" && sh -c "$cmd" </dev/null >"$T/$prog.out" 2>&1) ||
        fail "docs/hardware.md, cuplab-$prog: $(cat "$T/$prog.out")"
done
# C1 (channel 1 announces A1234) through the profile, the others flagged
grep -E "^ *C1 " "$T/analyze.out" | grep -qv "uncalibrated" &&
    grep -E "^ *C2 " "$T/analyze.out" | grep -q "uncalibrated" &&
    grep -q "no sensor profile for cups C2, C3, C4:" "$T/analyze.out" ||
    fail "C1 is not analysed through profile A1234: $(cat "$T/analyze.out")"
kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; SIM_PID=""

# Usage errors before any port is opened.
long=$(printf 'serial=%01100d' 0)
for bad in "speed=9" "rate" "sensor0=X" "" "$long"; do
    "$BIN/cuplab-acquire" --configure "$bad" /dev/null 2>"$T/u.err"
    [ $? -eq 2 ] || fail "--configure '$bad': exit status not 2"
done
"$BIN/cuplab-acquire" --identify 2>/dev/null; [ $? -eq 2 ] || fail "--identify without a port"

# The simulator takes no commands: what it announced is shown, exit 0.
start_sim simid -n 3 -r 50 -d 30 --seed 2
"$BIN/cuplab-acquire" --identify "$PTY" >"$T/sim.out" 2>"$T/sim.err" ||
    fail "--identify of the simulator: $(cat "$T/sim.err")"
for line in "protocol_version: 2" "channels: 3" "sensor3: SIM-2-03"; do
    grep -qx "$line" "$T/sim.out" || fail "simulator: no '$line': $(cat "$T/sim.out")"
done
grep -q "no answer to 'id'" "$T/sim.err" || fail "no note that the device did not answer"
echo "pass: identify and configure"
