#!/bin/sh
# Sensor calibration from a CSV file, end to end: a curved sensor with a
# known hysteresis read in mmHg; the profile, the report in three formats,
# the figure in three formats (valid images), show, apply, and check for
# drift against a second calibration.
. "$(dirname "$0")/../lib.sh"

# Points: kPa = -120 + 0.032 raw + 4e-8 (raw - 2500)^2; descending readings
# sit 0.2 kPa above ascending ones (hysteresis 0.2 kPa); three raw readings
# per point scattered by +-0.3 counts; 11 setpoints 0..-600 mmHg, 2 cycles.
"$PY" - "$T" <<'EOF' || fail "writing the points"
import sys
d = sys.argv[1]
def raw_for(p, c2=4e-8, shift=0.0):
    x = (p + 120) / 0.032
    for _ in range(50):
        f = -120 + 0.032 * x + c2 * (x - 2500) ** 2 + shift - p
        x -= f / (0.032 + 2 * c2 * (x - 2500))
    return x
def write(name, shift):
    with open(d + "/" + name, "w") as f:
        f.write("# calibration of SN-100 against the reference gauge\n")
        f.write("ref_mmHg,raw1,raw2,raw3,direction,temperature_c\n")
        for cycle in range(2):
            for leg, seq in (("up", range(11)), ("down", range(10, -1, -1))):
                for j in seq:
                    mm = -60.0 * j
                    p = mm * 0.133322387415 + (0.1 if leg == "down" else -0.1)
                    x = raw_for(p, shift=shift)
                    f.write("%.1f,%.4f,%.4f,%.4f,%s,21.0\n"
                            % (mm, x - 0.3, x, x + 0.3, leg))
write("points.csv", 0.0)
write("later.csv", 0.05)  # the same sensor a year on: reads 0.05 kPa high
write("drifted.csv", 0.8)  # ... or 0.8 kPa high
EOF

CAL="$BIN/cuplab-calibrate"
"$CAL" sensor --serial SN-100 --model MPXV6115V --ref-u 0.1mmHg --reference "DPI 620" \
    --operator "A. Tech" --temperature 21 --date 2025-03-01 --valid-days 365 \
    --tolerance 3mmHg -u mmHg --figure "$T/res.png" -o "$T/p.json" "$T/points.csv" \
    >"$T/report.txt" 2>"$T/err" || fail "sensor exited with $?: $(cat "$T/err")"
[ -s "$T/err" ] && fail "warnings on a complete procedure: $(cat "$T/err")"
grep -q "^# sensor SN-100 calibration" "$T/report.txt" || fail "report title"
grep -q "verdict *pass" "$T/report.txt" || fail "report verdict"
grep -Eq "hysteresis +1\.[45][0-9]* +mmHg" "$T/report.txt" ||
    fail "report hysteresis (0.2 kPa = 1.5 mmHg): $(grep hysteresis "$T/report.txt")"

"$PY" - "$T/p.json" <<'EOF' || fail "profile content"
import json, sys
p = json.load(open(sys.argv[1]))
assert (p["format"], p["version"], p["kind"]) == ("cuplab-profile", 1, "sensor")
assert p["sensor"] == {"serial": "SN-100", "model": "MPXV6115V", "channel": None}
assert p["date"] == "2025-03-01T00:00:00Z" and p["valid_until"] == "2026-03-01", p["date"]
assert p["operator"] == "A. Tech" and p["reference"]["instrument"] == "DPI 620"
assert abs(p["reference"]["U_kpa"] - 0.1 * 0.133322387415) < 1e-12
assert p["conditions"]["temperature_c"] == 21
t = p["transfer"]
# curvature 4e-8: a line misses 3 mmHg?  No: the lowest degree that passes
assert t["degree"] in (1, 2) and len(t["coefficients"]) == t["degree"] + 1
assert len(t["covariance"]) == t["degree"] + 1
sel = p["degree_selection"]
assert sel[0]["degree"] == 1 and (sel[0]["pass"] or t["degree"] == 2), sel
f = p["figures"]
assert abs(f["hysteresis_kpa"] - 0.2) < 0.02, f
assert f["points"] == 44 and p["procedure"]["setpoints"] == 11 and p["procedure"]["complete"]
assert p["pass"] is True and abs(p["tolerance_kpa"] - 0.399967) < 1e-5
for s in p["setpoints"]:
    assert s["n_up"] == 2 and s["n_down"] == 2
    assert abs(s["hysteresis_kpa"] - 0.2) < 0.02, s
for q in p["points"]:
    assert q["n"] == 3 and abs(q["raw_sd"] - 0.3) < 1e-6, q
    assert abs(q["fit_kpa"] - q["ref_kpa"] - q["residual_kpa"]) < 1e-9
    assert abs(q["residual_kpa"]) + q["U_kpa"] <= p["tolerance_kpa"]
EOF

# The figure is a PNG of the page size; SVG and PDF work too.
"$CAL" sensor -q --serial SN-100 --ref-u 0.01kPa --figure "$T/res.svg" "$T/points.csv" \
    --ref-unit kPa >/dev/null || fail "svg figure"
"$CAL" sensor -q --serial SN-100 --ref-u 0.01kPa --figure "$T/res.pdf" -f json \
    "$T/points.csv" >"$T/report.json" || fail "pdf figure"
"$PY" - "$T" <<'EOF' || fail "figures"
import json, struct, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
b = open(d + "/res.png", "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n" and b[12:16] == b"IHDR"
assert struct.unpack(">II", b[16:24]) == (1000, 650)
assert b[-8:-4] == b"IEND"
root = ET.parse(d + "/res.svg").getroot()
assert root.tag.endswith("svg"), root.tag
b = open(d + "/res.pdf", "rb").read()
assert b.startswith(b"%PDF-") and b.rstrip().endswith(b"%%EOF")
# and stdout held the report only: JSON
r = json.load(open(d + "/report.json"))
assert set(r) == {"summary", "setpoints", "points"}
EOF

# Recurring settings from a config file; the command line wins, and
# settings of other subcommands (skip) are ignored.
printf '# lab\noperator = B. Lab\nreference = DPI 620\nref-u = 0.1mmHg\nunit = mmHg\nskip = 3\n' \
    >"$T/lab.conf"
"$CAL" sensor -c "$T/lab.conf" -u kPa -q --serial SN-100 -o "$T/conf.json" "$T/points.csv" \
    >/dev/null || fail "sensor with --config exited with $?"
"$PY" - "$T/conf.json" <<'EOF' || fail "settings from the config file"
import json, sys
p = json.load(open(sys.argv[1]))
assert p["operator"] == "B. Lab" and p["reference"]["instrument"] == "DPI 620", p["operator"]
assert abs(p["reference"]["U_kpa"] - 0.0133322387415) < 1e-12, p["reference"]
EOF

# CSV report: the points table.
"$CAL" sensor -q --serial SN-100 --ref-u 0.01kPa -f csv -u mmHg "$T/points.csv" >"$T/points.out" ||
    fail "csv report"
head -n 1 "$T/points.out" | grep -q "^point,direction,ref,raw,raw_sd,n,fit,residual,U,setpoint$" ||
    fail "csv header: $(head -n 1 "$T/points.out")"
[ "$(wc -l <"$T/points.out")" -eq 45 ] || fail "csv rows"
"$CAL" sensor -q --serial SN-100 --ref-u 0.01kPa -f csv --table setpoints "$T/points.csv" |
    head -n 1 | grep -q "^setpoint,ref,n_up,n_down" || fail "csv setpoints table"

# show and apply
"$CAL" show "$T/p.json" -u kPa --table summary >"$T/show.txt" 2>"$T/err"
[ $? -eq 0 ] || fail "show exited with $?"
grep -q "valid until *2026-03-01" "$T/show.txt" || fail "show: $(cat "$T/show.txt")"
grep -q "expired" "$T/err" || fail "show does not warn about the expired profile"
sed 's/"valid_until": "2026-03-01"/"valid_until": "2099-12-31"/' "$T/p.json" >"$T/current.json"
"$CAL" apply -f csv "$T/current.json" 2500 3000 9999 >"$T/apply.csv" || fail "apply"
"$PY" - "$T/current.json" "$T/apply.csv" <<'EOF' || fail "apply values"
import csv, json, sys
p = json.load(open(sys.argv[1]))
c = p["transfer"]["coefficients"]
rows = list(csv.DictReader(open(sys.argv[2])))
assert [r["range"] for r in rows] == ["inside", "inside", "outside"], rows
for r in rows:
    x = float(r["raw"])
    kpa = sum(ci * x ** i for i, ci in enumerate(c))
    assert abs(float(r["pressure"]) - kpa) < 1e-9 * max(1, abs(kpa)), (r, kpa)
    assert float(r["U"]) > 0
EOF

# check: a small drift passes, a large one does not (exit 4)
"$CAL" sensor -q --serial SN-100 --ref-u 0.1mmHg --date 2026-03-01 -o "$T/later.json" \
    "$T/later.csv" --ref-unit kPa >/dev/null || fail "later calibration"
"$CAL" sensor -q --serial SN-100 --ref-u 0.1mmHg --date 2026-03-01 -o "$T/drifted.json" \
    "$T/drifted.csv" >/dev/null || fail "drifted calibration"
"$CAL" check -f csv "$T/p.json" "$T/later.json" >"$T/check.csv" 2>"$T/err" ||
    fail "check of a small drift exited with $?: $(cat "$T/err")"
"$PY" - "$T/check.csv" <<'EOF' || fail "drift values"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 11, rows
for r in rows:
    # the later profile reads 0.05 kPa higher for the same raw: old - new = -0.05
    assert abs(float(r["drift"]) + 0.05) < 0.01, r
    assert r["within"] == "yes" and r["old_range"] == "inside"
EOF
"$CAL" check -u mmHg --at -300,-150 "$T/p.json" "$T/drifted.json" >"$T/check.txt" 2>"$T/err"
[ $? -eq 4 ] || fail "a drift beyond the tolerance should exit 4"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "drift message is not one line: $(cat "$T/err")"
grep -q "drifted beyond the tolerance of 3 mmHg at 2 of 2 pressures" "$T/err" ||
    fail "drift message: $(cat "$T/err")"
grep -Eq "^ +-300 .* no " "$T/check.txt" || fail "check table: $(cat "$T/check.txt")"
# ... and passes with a tolerance that allows it
"$CAL" check -t 1kPa "$T/p.json" "$T/drifted.json" >/dev/null || fail "check with -t 1kPa"
true
