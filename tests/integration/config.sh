#!/bin/sh
# A config file carries recurring metadata, ports and cups; options on the
# command line override it; an unknown setting is a one-line error.
. "$(dirname "$0")/../lib.sh"

start_sim cf --cups 2 --rate 100 --duration 20 --time-scale 10 --seed 31
cat >"$T/lab.conf" <<CONF
# recurring settings of the lab
practitioner = Dr. Config
technique = fire
site = upper back
no-reconnect
port = $PTY
cup = left=0:0,site=left-scapula,material=glass
cup = right=0:1,site=right-scapula
CONF
"$BIN/cuplab-acquire" -q -c "$T/lab.conf" --technique pump -o "$T/c.h5" </dev/null ||
    fail "cuplab-acquire exited with $?"
wait_sim
h5check attr "$T/c.h5" practitioner "Dr. Config" || fail "practitioner from the config"
h5check attr "$T/c.h5" technique pump || fail "command line should override the config"
h5check attr "$T/c.h5" site "upper back" || fail "site"
h5check values "$T/c.h5" "$T/cf.log.csv" || fail "values"
"$PY" -c "
import h5py
c = h5py.File('$T/c.h5', 'r')['cups'][:]
ids = [x.decode() if isinstance(x, bytes) else x for x in c['cup_id']]
assert ids == ['left', 'right'], ids
" || fail "cups from the config"

printf 'practitioner = X\ncolour = blue\n' >"$T/bad.conf"
"$BIN/cuplab-acquire" -c "$T/bad.conf" -o "$T/x.h5" /dev/null 2>"$T/err"
[ $? -eq 2 ] || fail "unknown setting should exit 2"
grep -q "bad.conf:2: unknown setting 'colour'" "$T/err" || fail "message: $(cat "$T/err")"
true

# Only a regular file of bounded size and line length is read: a directory,
# an endless device, a FIFO, a huge line or a NUL byte is a one-line error
# naming the file (and line), and nothing is recorded.
mkdir "$T/conf.d"
mkfifo "$T/fifo"
head -c 100000 /dev/zero | tr '\0' x | sed 's/^/practitioner = /' >"$T/long.conf"
head -c 16777216 /dev/zero | tr '\0' x | sed 's/^/practitioner = /' >"$T/huge.conf"
printf 'practitioner = A\nsite = upper\0back\n' >"$T/nul.conf"
for c in "$T/conf.d|: is a directory" "/dev/zero|: not a regular file" \
    "$T/fifo|: not a regular file" "$T/long.conf|:1: line longer than 4096 bytes" \
    "$T/huge.conf|: larger than 1048576 bytes" "$T/nul.conf|:2: NUL byte in the line"; do
    f=${c%%|*}
    rm -f "$T/x.h5"
    timeout 20 "$BIN/cuplab-acquire" -c "$f" -o "$T/x.h5" /dev/null 2>"$T/err"
    rc=$?
    [ $rc -eq 2 ] || fail "-c $f: exit $rc, expected 2: $(cat "$T/err")"
    [ "$(grep -vc '^Try ' "$T/err")" -eq 1 ] || fail "-c $f: not one line: $(cat "$T/err")"
    grep -qF "$f${c#*|}" "$T/err" || fail "-c $f: message: $(cat "$T/err")"
    [ ! -e "$T/x.h5" ] || fail "-c $f: a session was recorded"
done
timeout 20 "$BIN/cuplab-calibrate" sensor -c "$T/fifo" 2>"$T/err"
[ $? -eq 2 ] || fail "calibrate -c FIFO: exit $?: $(cat "$T/err")"
grep -qF "$T/fifo: not a regular file" "$T/err" || fail "calibrate -c FIFO: $(cat "$T/err")"
true
