#!/bin/sh
# An existing file is never replaced without --force, and every program says
# so the same way, before any work: exit 2 (usage error), one line
# "PROG: FILE exists (not replaced without --force)", the file byte for byte
# unchanged.  cuplab-acquire refuses before it opens the port (a port that
# does not exist is not even noticed) and for the --raw capture too;
# cuplab-sim before it simulates; cuplab-calibrate before it fits (no report).
# --force replaces.  cuplab-analyze writes no file it could refuse (figures
# are replaced, --write replaces /analysis), so there it is the unknown-option
# wording that is shared: every program names itself, not its path.
. "$(dirname "$0")/../lib.sh"

printf 'precious recording\n' >"$T/existing.h5"
sum_before=$(cksum <"$T/existing.h5")

# refused PROG FILE COMMAND...: exit 2, the one line, FILE unchanged.
refused() {
    prog=$1 file=$2
    shift 2
    before=$(cksum <"$file")
    "$@" </dev/null >"$T/out" 2>"$T/err"
    rc=$?
    [ $rc -eq 2 ] || fail "$prog: expected exit 2, got $rc: $(cat "$T/err")"
    [ "$(cat "$T/err")" = "$prog: $file exists (not replaced without --force)" ] ||
        fail "$prog: message: $(cat "$T/err")"
    [ -s "$T/out" ] && fail "$prog: work done before the refusal: $(cat "$T/out")"
    [ "$(cksum <"$file")" = "$before" ] || fail "$prog: existing file was modified"
}

refused cuplab-acquire "$T/existing.h5" \
    "$BIN/cuplab-acquire" -o "$T/existing.h5" --no-reconnect /dev/does-not-exist
printf 'capture\n' >"$T/existing.cap"
refused cuplab-acquire "$T/existing.cap" \
    "$BIN/cuplab-acquire" -o "$T/new.h5" --raw "$T/existing.cap" /dev/does-not-exist
[ -e "$T/new.h5" ] && fail "cuplab-acquire created a session before refusing the capture"
refused cuplab-sim "$T/existing.h5" \
    "$BIN/cuplab-sim" --output "$T/existing.h5" --cups 1 --duration 2
printf 'ref_kPa,raw\n0,3750\n-10,3437\n-20,3125\n-30,2812\n' >"$T/pts.csv"
printf '{}\n' >"$T/existing.json"
refused cuplab-calibrate "$T/existing.json" \
    "$BIN/cuplab-calibrate" sensor --serial S --ref-u 0.01kPa -o "$T/existing.json" "$T/pts.csv"

# --force replaces.
start_sim ow2 --cups 2 --rate 50 --duration 5 --time-scale 5
"$BIN/cuplab-acquire" -q -o "$T/existing.h5" --force --no-reconnect "$PTY" </dev/null ||
    fail "--force did not replace the file"
wait_sim
h5check values "$T/existing.h5" "$T/ow2.log.csv" || fail "values after --force"
"$BIN/cuplab-sim" -q --output "$T/existing.h5" --force --cups 1 --duration 2 ||
    fail "cuplab-sim --force did not replace the file"
"$BIN/cuplab-calibrate" sensor -q --serial S --ref-u 0.01kPa -o "$T/existing.json" --force \
    "$T/pts.csv" >/dev/null || fail "cuplab-calibrate --force did not replace the profile"

# Unknown options: "PROG: unknown option", never the path the program was run by.
for p in cuplab-acquire cuplab-analyze cuplab-sim cuplab-calibrate; do
    case $p in cuplab-calibrate) args="sensor --no-such-option" ;; *) args=--no-such-option ;; esac
    "$BIN/$p" $args >/dev/null 2>"$T/err"
    [ $? -eq 2 ] || fail "$p: unknown option should exit 2"
    head -n 1 "$T/err" | grep -q "^$p: unknown option '--no-such-option'" ||
        fail "$p: unknown option message: $(cat "$T/err")"
done
"$BIN/cuplab-analyze" -f >/dev/null 2>"$T/err"
head -n 1 "$T/err" | grep -q "^cuplab-analyze: option '-f' needs a value" ||
    fail "missing value message: $(cat "$T/err")"

# cuplab-analyze on a folder without --group-by points to --group-by.
mkdir "$T/cohort"
"$BIN/cuplab-analyze" "$T/cohort" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "analyze on a folder should exit 1"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "analyze on a folder: not one line: $(cat "$T/err")"
grep -q "cohort: is a directory, not a session file.*--group-by" "$T/err" ||
    fail "analyze on a folder does not suggest --group-by: $(cat "$T/err")"
true
