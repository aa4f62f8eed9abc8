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
