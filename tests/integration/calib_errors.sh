#!/bin/sh
# cuplab-calibrate at the edges: the command-line contract (--help and
# --version on stdout with exit 0, usage errors exit 2 with one line) and
# every bad input of a calibration: too few points for the degree,
# non-monotonic data, an unknown reference unit, a fit that misses the
# tolerance, an expired profile, a missing file, a missing port.  Each is one
# line naming the file, a non-zero exit, and no profile that claims more
# than the data show.  Outputs are checked before the work; a figure that
# cannot be drawn costs no profile.
. "$(dirname "$0")/../lib.sh"

CAL="$BIN/cuplab-calibrate"

# expect CODE PATTERN COMMAND...: exit status CODE, exactly one line on
# stderr matching PATTERN (grep -E).
expect() {
    code=$1 pattern=$2
    shift 2
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
    [ $rc -eq "$code" ] || fail "$*: exit $rc, expected $code: $(cat "$T/err")"
    [ "$(wc -l <"$T/err")" -eq 1 ] || fail "$*: not one line on stderr: $(cat "$T/err")"
    grep -Eq -e "$pattern" "$T/err" || fail "$*: message '$(cat "$T/err")' lacks '$pattern'"
}

# ---- command line
"$CAL" --help >"$T/out" 2>"$T/err" || fail "--help exit $?"
grep -q "^Usage: cuplab-calibrate sensor" "$T/out" || fail "--help has no usage line"
[ -s "$T/err" ] && fail "--help wrote to stderr"
"$CAL" sensor --help >"$T/out" || fail "sensor --help exit $?"
grep -q "^Exit status:" "$T/out" || fail "--help does not document the exit status"
"$CAL" --version >"$T/out" || fail "--version exit $?"
[ "$(head -n 1 "$T/out")" = "cuplab-calibrate 0.1.0" ] || fail "--version: $(cat "$T/out")"
"$CAL" sensor --version | cmp -s - "$T/out" || fail "sensor --version differs from --version"
expect 2 "missing subcommand" "$CAL"
expect 2 "unknown subcommand 'fit'" "$CAL" fit x.csv
expect 2 "unknown option '--no-such-option'" "$CAL" sensor --no-such-option
expect 2 "option -d needs a value" "$CAL" sensor -d
expect 2 "--degree: expected 1 to 3" "$CAL" sensor --degree 4 --serial S --ref-u 0.1kPa x.csv
expect 2 "unknown unit 'bar'" "$CAL" sensor -u bar --serial S --ref-u 0.1kPa x.csv
expect 2 "unknown reference unit 'atm'" "$CAL" sensor --ref-unit atm --serial S --ref-u 0.1kPa x.csv
expect 2 "--tolerance: unknown pressure unit 'bar'" "$CAL" sensor -t 1bar --serial S --ref-u 1kPa x.csv
expect 2 "--figure: 'r.gif' must end in .png, .svg or .pdf" \
    "$CAL" sensor --figure r.gif --serial S --ref-u 0.1kPa x.csv
expect 2 "--ref-u .* is required" "$CAL" sensor --serial S x.csv
expect 2 "--serial is required" "$CAL" sensor --ref-u 0.1kPa x.csv
expect 2 "either a points file or --live" "$CAL" sensor --live /dev/null --ref-u 0.1kPa x.csv
expect 2 "option --live does not apply to 'cupset'" "$CAL" cupset --live /dev/null c.csv
expect 2 "check: expected two profiles" "$CAL" check a.json
expect 2 "unknown format 'xml'" "$CAL" show -f xml a.json
printf 'colour = red\n' >"$T/bad.conf"
expect 2 "bad.conf:1: unknown setting 'colour'" "$CAL" sensor -c "$T/bad.conf" x.csv
expect 2 "--force-write needs --output" "$CAL" sensor --force-write --serial S --ref-u 1kPa x.csv

# ---- inputs
"$PY" - "$T" <<'EOF' || fail "writing the inputs"
import sys
d = sys.argv[1]
def pts(name, refs, raws, header="ref_kPa,raw", extra=""):
    with open(d + "/" + name, "w") as f:
        f.write(header + "\n")
        for r, x in zip(refs, raws):
            f.write("%s,%s%s\n" % (r, x, extra))
refs = [0, -10, -20, -30, -40, -50, -60, -50, -40, -30, -20, -10, 0]
good = [(p + 120) / 0.032 + 0.2 * (i % 3 - 1) for i, p in enumerate(refs)]
pts("good.csv", refs, good)
pts("few.csv", [0, -10, -20, -20, -10, 0], [(p + 120) / 0.032 for p in [0, -10, -20, -20, -10, 0]])
pts("few2.csv", [0, -10, 0, -10], [3750, 3437.5, 3750.2, 3437.3])
bad = list(good)
bad[3] = bad[9] = good[1] - 5  # -30 kPa reads like -10 kPa
pts("nonmono.csv", refs, bad)
pts("nounit.csv", refs, good, header="ref,raw")
pts("badunit.csv", refs, good, header="ref,raw,unit", extra=",bar")
# a sensor reading well outside a straight line: misses a 0.1 kPa tolerance
curved = [(p + 120) / 0.032 + 0.02 * (p + 30) ** 2 for p in refs]
pts("curved.csv", refs, curved)
EOF
expect 1 "few.csv: too few points for degree 2: 3 setpoints, need at least 4" \
    "$CAL" sensor --serial S --ref-u 0.01kPa --degree 2 -o "$T/few.json" "$T/few.csv"
[ -e "$T/few.json" ] && fail "profile written for too few points"
expect 1 "few2.csv: too few points: 2 setpoints, need at least 3 for a straight line" \
    "$CAL" sensor --serial S --ref-u 0.01kPa -o "$T/few.json" "$T/few2.csv"
expect 1 "nonmono.csv: non-monotonic data" \
    "$CAL" sensor --serial S --ref-u 0.01kPa -o "$T/nm.json" "$T/nonmono.csv"
[ -e "$T/nm.json" ] && fail "profile written for non-monotonic data"
expect 1 "nounit.csv: the reference unit is unknown" \
    "$CAL" sensor --serial S --ref-u 0.01kPa -o "$T/nu.json" "$T/nounit.csv"
expect 1 "badunit.csv:2: unknown unit 'bar'" \
    "$CAL" sensor --serial S --ref-u 0.01kPa -o "$T/nu.json" "$T/badunit.csv"
[ -e "$T/nu.json" ] && fail "profile written with an unknown unit"
expect 1 "missing.csv: No such file" "$CAL" sensor --serial S --ref-u 0.01kPa "$T/missing.csv"

# ---- tolerance: nothing written, unless --force-write (then "pass": false)
expect 4 "curved.csv: sensor S fails the tolerance of 0.1 kPa.*no profile written" \
    "$CAL" sensor -q --serial S --ref-u 0.01kPa -t 0.1kPa -d 1 -o "$T/c.json" "$T/curved.csv"
[ -e "$T/c.json" ] && fail "a failing profile was written without --force-write"
expect 4 "curved.csv: sensor S fails the tolerance of 0.1 kPa" \
    "$CAL" sensor -q --serial S --ref-u 0.01kPa -t 0.1kPa -d 1 -o "$T/c.json" --force-write \
    "$T/curved.csv"
"$PY" -c "import json,sys; p=json.load(open(sys.argv[1])); assert p['pass'] is False" \
    "$T/c.json" || fail "--force-write profile does not say \"pass\": false"
# ... the automatic degree finds one that passes
"$CAL" sensor -q --serial S --ref-u 0.01kPa -t 0.1kPa -o "$T/auto.json" "$T/curved.csv" \
    >/dev/null || fail "automatic degree on curved data exited with $?"
"$PY" -c "import json,sys; p=json.load(open(sys.argv[1])); \
assert p['pass'] and p['transfer']['degree'] == 2, p['transfer']" "$T/auto.json" ||
    fail "automatic degree"

# ---- an existing profile is not replaced without --force
# (refused before the work, as a usage error: exit 2, no report)
cp "$T/auto.json" "$T/keep.json"
expect 2 "keep.json exists \(not replaced without --force\)$" \
    "$CAL" sensor -q --serial S --ref-u 0.01kPa -o "$T/keep.json" "$T/good.csv"
[ -s "$T/out" ] && fail "the work was done before refusing the existing output"
cmp -s "$T/auto.json" "$T/keep.json" || fail "an existing profile was changed"
printf 'x\n' >"$T/pts-kept.csv"
expect 2 "pts-kept.csv exists \(not replaced without --force\)$" \
    "$CAL" sensor --live /dev/does-not-exist --ref-u 0.01kPa --save-points "$T/pts-kept.csv"
expect 1 "nodir/p.json: cannot create: folder .*nodir does not exist" \
    "$CAL" sensor -q --serial S --ref-u 0.01kPa -o "$T/nodir/p.json" "$T/good.csv"
[ -s "$T/out" ] && fail "the work was done before refusing an output in a missing folder"
"$CAL" sensor -q --serial S --ref-u 0.01kPa -o "$T/keep.json" --force "$T/good.csv" >/dev/null ||
    fail "--force"
cmp -s "$T/auto.json" "$T/keep.json" && fail "--force did not replace the profile"

# ---- expired profile at use; broken and foreign profiles
sed 's/"valid_until": "[0-9-]*"/"valid_until": "2020-06-30"/' "$T/auto.json" >"$T/old.json"
expect 1 "old.json: sensor S: calibration expired \(valid until 2020-06-30\)" \
    "$CAL" apply "$T/old.json" 3000
printf '{"format": "cuplab-profile", "version": 9}' >"$T/v9.json"
expect 1 "v9.json: profile format version 9 is not supported" "$CAL" show "$T/v9.json"
printf 'not json' >"$T/junk.json"
expect 1 "junk.json: not valid JSON" "$CAL" apply "$T/junk.json" 3000
sed 's/"serial": "S"/"serial": "T"/' "$T/auto.json" >"$T/t.json"
expect 1 "are profiles of different sensors \(S, T\)" "$CAL" check "$T/auto.json" "$T/t.json"
printf '{"format": "cuplab-profile", "version": 1, "kind": "cupset", "cupset": {"id": "X"}, "cups": []}' \
    >"$T/set.json"
expect 1 "set.json: a cup-set profile, not a sensor profile" "$CAL" apply "$T/set.json" 1

# ---- cup sets
printf 'cup,vref_ml,p_ref,p_cup,p_final,unit\nC1,50,0,-40,-50,kPa\n' >"$T/cups.csv"
expect 1 "cups.csv:2: cup C1: final pressure .* does not lie strictly between" \
    "$CAL" cupset -o "$T/set2.json" "$T/cups.csv"
[ -e "$T/set2.json" ] && fail "cup set written for an impossible expansion"
printf 'cup,volume_ml,vref_ml,p_ref,p_cup,p_final,unit\nC1,100,50,0,-40,-10,kPa\n' >"$T/both.csv"
expect 1 "both.csv:2: cup C1 has both volume_ml and gas-expansion" "$CAL" cupset "$T/both.csv"
printf 'cup,decay\nC1,leak.h5\n' >"$T/sess.csv"
printf '\211HDF\r\n\032\n' >"$T/leak.h5"
expect 2 "leak.h5: a session decay needs --sensor-profile" "$CAL" cupset "$T/sess.csv"
printf 'cup,decay\nC1,flat.csv\n' >"$T/flat.csv.list"
printf 't,p_kPa\n0,0\n1,0\n2,0\n' >"$T/flat.csv"
expect 1 "flat.csv: cup C1: the trace holds no vacuum" "$CAL" cupset "$T/flat.csv.list"

# ---- figures: --figure-dir is created; a figure that fails costs no profile
"$PY" - "$T" <<'EOF' || fail "writing the decays"
import math, sys
d = sys.argv[1]
with open(d + "/d1.csv", "w") as f:
    f.write("t_s,p_kPa\n")
    for i in range(301):
        f.write("%d,%.6f\n" % (i, -10 - 20 * math.exp(-i / 150.0) + 0.01 * (i % 3 - 1)))
with open(d + "/decays.csv", "w") as f:
    f.write("cup,volume_ml,decay\nC1,85,d1.csv\nC2,90,\n")
with open(d + "/nodecay.csv", "w") as f:
    f.write("cup,volume_ml\nC1,85\nC2,90\n")
EOF
expect 2 "keep.json exists \(not replaced without --force\)$" \
    "$CAL" cupset -o "$T/keep.json" "$T/decays.csv"
[ -s "$T/out" ] && fail "cupset: the work was done before refusing the existing output"
expect 0 "warning: --figure-dir .*newfigs: no decay recording, no figure for 1 cup: C2$" \
    "$CAL" cupset --figure-dir "$T/newfigs" -o "$T/set3.json" "$T/decays.csv"
[ -s "$T/set3.json" ] || fail "no cup-set profile with a new --figure-dir"
[ -s "$T/newfigs/C1-decay.png" ] || fail "--figure-dir was not created and filled"
mkdir -p "$T/figs2/C1-decay.png"
expect 1 "C1-decay.png" "$CAL" cupset -q --figure-dir "$T/figs2" -o "$T/set4.json" "$T/decays.csv"
[ -s "$T/set4.json" ] || fail "a figure that failed dropped the cup-set profile"
mkdir "$T/fig.png"
expect 1 "fig.png: is a directory" \
    "$CAL" sensor -q --serial S --ref-u 0.01kPa --figure "$T/fig.png" -o "$T/f.json" "$T/good.csv"
# ... without decay data: said so, once
expect 0 "warning: --figure-dir .*figs3: no cup of .*nodecay.csv has a decay recording: no figures drawn$" \
    "$CAL" cupset --figure-dir "$T/figs3" "$T/nodecay.csv"

# ---- live: a port that does not exist
expect 3 "/dev/does-not-exist" "$CAL" sensor --live /dev/does-not-exist --ref-u 0.01kPa </dev/null
true
