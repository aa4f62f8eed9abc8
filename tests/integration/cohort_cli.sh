#!/bin/sh
# cuplab-analyze --group-by at its edges: inputs as files, folders and glob
# patterns; a group of one session, a session without the grouping field,
# calibrated and uncalibrated cups mixed, cups in raw counts only; usage
# errors (unknown field, metric, table, target unit, target CSV without
# units); an unreadable file among good ones; the progress bar on a
# terminal only; CSV of one table; figures in PNG and SVG.
. "$(dirname "$0")/../lib.sh"

A="$BIN/cuplab-analyze"
mkdir -p "$T/s/sub"
sim() { # file practitioner seed [more options]
    f=$1 p=$2 s=$3
    shift 3
    "$BIN/cuplab-sim" -q -o "$f" --seed "$s" --sensor-seed 7 --rate 20 --technique pump \
        --sites a:M,b:L --vacuum 300:20 --strokes 2 --hold 90:5 --practitioner "$p" "$@" ||
        fail "cuplab-sim $f"
}
"$BIN/cuplab-sim" -q --sensor-seed 7 --cups 2 --calibration-points "$T/pts" || fail "points"
for sn in SIMS-7-01 SIMS-7-02; do
    "$BIN/cuplab-calibrate" sensor -q --serial $sn --ref-u 0.1mmHg -o "$T/$sn.json" \
        "$T/pts/$sn.csv" >/dev/null || fail "calibrate $sn"
done
PROF="--profile $T/SIMS-7-01.json --profile $T/SIMS-7-02.json"
# shellcheck disable=SC2086
{
    sim "$T/s/x1.h5" X 1 $PROF
    sim "$T/s/x2.h5" X 2 $PROF
    sim "$T/s/sub/x3.h5" X 3 $PROF
    sim "$T/s/y1.h5" Y 4 $PROF
    sim "$T/s/y2.h5" Y 5 $PROF
    sim "$T/s/z1.h5" Z 6 $PROF
    sim "$T/s/none.h5" "" 7 $PROF
    sim "$T/s/nominal.h5" Y 8
}

# A folder (searched below), one session of Z, one without a practitioner,
# one with the nominal transfer.
"$A" --group-by practitioner -f json "$T/s" >"$T/a.json" 2>"$T/a.err" || fail "folder run"
grep -q "note: 1 session without a practitioner (cups left out): $T/s/none.h5" "$T/a.err" ||
    fail "no note about the missing practitioner: $(cat "$T/a.err")"
grep -q "note: group Z (1) left out of the tests of peak_vacuum, time_to_peak_s, " "$T/a.err" ||
    fail "no note about the group of one: $(cat "$T/a.err")"
grep -q "note: 2 of 14 cups are uncalibrated (nominal sensor transfer" "$T/a.err" ||
    fail "no note about mixed calibration: $(cat "$T/a.err")"
"$PY" - "$T/a.json" <<'PY' || fail "folder results"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["session_count"] == 8, d["session_count"]
files = sorted({r["file"].rsplit("/", 1)[1] for r in d["sessions"]["rows"]})
assert files == ["nominal.h5", "x1.h5", "x2.h5", "x3.h5", "y1.h5", "y2.h5", "z1.h5"], files
t = [r for r in d["tests"]["rows"] if r["metric"] == "peak_vacuum"][0]
assert t["groups"] == 2 and "Z (1)" in t["note"], t
assert any("uncalibrated" in n for n in d["notes"])
PY
# Quiet: notes are not printed.
"$A" -q --group-by practitioner "$T/s" >/dev/null 2>"$T/q.err" || fail "quiet run"
[ -s "$T/q.err" ] && fail "-q printed: $(cat "$T/q.err")"

# A glob pattern (quoted: the program expands it) and a plain list agree.
"$A" -q --group-by practitioner -f csv "$T/s/x*.h5" "$T/s/y*.h5" >"$T/g.csv" || fail "glob run"
"$A" -q --group-by practitioner -f csv "$T"/s/x*.h5 "$T"/s/y*.h5 >"$T/l.csv" || fail "list run"
cmp -s "$T/g.csv" "$T/l.csv" || fail "glob and list differ"
head -n 1 "$T/g.csv" | grep -q "^practitioner,metric,unit,sessions,cups,n,mean,sd,cv,median" ||
    fail "CSV header: $(head -n 1 "$T/g.csv")"
"$A" -q --group-by practitioner -f csv "$T/s/q*.h5" >/dev/null 2>"$T/e" && fail "empty glob accepted"
grep -q "q\*.h5: no file matches" "$T/e" || fail "empty glob message: $(cat "$T/e")"

# Cups in raw counts only: a file whose announcement lost its ADC bits and
# that carries no profile.
cp "$T/s/nominal.h5" "$T/raw.h5"
"$PY" - "$T/raw.h5" <<'PY' || fail "cannot edit the announcement"
import h5py, sys
with h5py.File(sys.argv[1], "r+") as f:
    a = f["devices/dev0"].attrs["announcement"]
    a = a.decode() if isinstance(a, bytes) else a
    f["devices/dev0"].attrs["announcement"] = "\n".join(
        l for l in a.split("\n") if not l.startswith("adc_bits"))
PY
"$A" --group-by practitioner "$T/raw.h5" "$T/s/y1.h5" "$T/s/y2.h5" >/dev/null 2>"$T/r.err" ||
    fail "raw-only run: $(cat "$T/r.err")"
grep -q "1 session with cups in raw counts only (no sensor profile and no ADC resolution" \
    "$T/r.err" || fail "no note about raw counts: $(cat "$T/r.err")"
# Nobody has the field: an error naming what the files do record.
"$A" --group-by subject "$T/s/x1.h5" "$T/s/x2.h5" >/dev/null 2>"$T/e"
[ $? -eq 1 ] || fail "grouping by an absent field: exit status"
grep -q "has subject (fields recorded: practitioner, technique, site, material, size, cup)" \
    "$T/e" || fail "absent field message: $(cat "$T/e")"

# Usage errors: exit 2 and a message naming the problem.
usage() { # needle, arguments...
    needle=$1
    shift
    "$A" "$@" >/dev/null 2>"$T/e"
    rc=$?
    [ $rc -eq 2 ] || fail "$*: exit $rc, expected 2"
    grep -q -- "$needle" "$T/e" || fail "$*: message '$(cat "$T/e")' lacks '$needle'"
}
usage "unknown field 'colour' (practitioner, subject" --group-by colour "$T/s"
usage "one or two fields" --group-by practitioner,technique,site "$T/s"
usage "the same field twice" --group-by site,site "$T/s"
usage "unknown metric 'pressure'" --group-by practitioner --metrics peak_vacuum,pressure "$T/s"
usage "--table 'all'" --group-by practitioner --table all "$T/s"
usage "unknown pressure unit 'furlongs'" --group-by practitioner --target 300furlongs:10min "$T/s"
usage "duration 'ten'" --group-by practitioner --target 300mmHg:ten "$T/s"
usage "a vacuum of 300 kPa is beyond the atmosphere's 101.325 kPa (a bare number is in mmHg)" \
    --group-by practitioner --target 300kPa:10min "$T/s"
usage "--target compares sessions: it needs --group-by" --target 300:10min "$T/s/x1.h5"
usage "--metrics compares sessions: it needs --group-by" --metrics peak_vacuum "$T/s/x1.h5"
usage "--jobs 'many'" --group-by practitioner -j many "$T/s"
usage "cannot be combined with --follow" --group-by practitioner --follow "$T/s/x1.h5"
printf 't_min,vacuum\n0,300\n10,300\n' >"$T/plan.csv"
usage "column 'vacuum' has no unit: name it vacuum_mmHg" --group-by practitioner \
    --target "$T/plan.csv" "$T/s"
# A target curve with its unit is fine, and is named in the result.
printf 't_min,vacuum_mmHg\n0,0\n0.1,300\n1.5,300\n' >"$T/plan.csv"
"$A" -q --group-by practitioner --target "$T/plan.csv" "$T/s" >"$T/t.txt" || fail "CSV target"
grep -q "^closest to the target $T/plan.csv: [XY] (RMS" "$T/t.txt" ||
    fail "closest line: $(tail -n 2 "$T/t.txt")"

# An unreadable file among good ones: named, the others compared, exit 1.
printf 'not a session' >"$T/s/bad.h5"
"$A" --group-by practitioner -j 2 "$T/s" >"$T/b.txt" 2>"$T/b.err"
[ $? -eq 1 ] || fail "a bad file: exit status"
grep -q "bad.h5" "$T/b.err" || fail "bad file not named: $(cat "$T/b.err")"
grep -q "^ *X *peak_vacuum" "$T/b.txt" || fail "the good files were not compared"
rm "$T/s/bad.h5"

# Progress: on a terminal (script gives one) a bar on stderr; in a pipe none.
if command -v script >/dev/null 2>&1; then
    script -qec "$A --group-by practitioner -j 2 $T/s >/dev/null" /dev/null >"$T/tty.out" 2>&1 ||
        fail "run under a terminal"
    grep -q "\] 8/8 sessions" "$T/tty.out" || fail "no progress bar on a terminal"
fi
grep -q "/8 sessions" "$T/a.err" && fail "progress bar in a pipe"

# Figures, PNG and SVG.
for ext in png svg; do
    "$A" -q --group-by practitioner --target 300mmHg:90s --plot-dir "$T/fig" --plot-format $ext \
        "$T/s" >/dev/null || fail "figures ($ext)"
    for f in cohort_boxplots cohort_profiles; do
        [ -s "$T/fig/$f.$ext" ] || fail "$f.$ext not written"
    done
done
head -c 8 "$T/fig/cohort_boxplots.png" | od -An -c | grep -q "P   N   G" || fail "not a PNG"
grep -q "<svg" "$T/fig/cohort_profiles.svg" || fail "not an SVG"
