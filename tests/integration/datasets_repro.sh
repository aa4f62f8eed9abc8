#!/bin/sh
# The example cohort is reproducible: datasets/generate.sh run twice gives
# the same bytes in every file (sha256), HDF5 sessions included, and the
# profiles, calibration points, ground truth and manifest kept in the
# repository are exactly what it generates.
. "$(dirname "$0")/../lib.sh"

for run in a b; do
    BUILD=$BUILD sh "$TOP/datasets/generate.sh" "$T/$run" 2>"$T/$run.err" ||
        fail "generate.sh: $(cat "$T/$run.err")"
    (cd "$T/$run" && find . -type f | LC_ALL=C sort | xargs sha256sum) >"$T/$run.sums"
done
[ "$(grep -c '\.h5$' "$T/a.sums")" -eq 36 ] || fail "expected 36 session files"
[ "$(grep -c 'truth/.*\.json$' "$T/a.sums")" -eq 36 ] || fail "expected 36 truth files"
diff "$T/a.sums" "$T/b.sums" >"$T/diff" || fail "two runs differ: $(cat "$T/diff")"

# What the repository keeps is what the generator makes.
for f in $(cd "$T/a" && find . -type f ! -name '*.h5' | LC_ALL=C sort); do
    [ -f "$TOP/datasets/$f" ] || fail "datasets/$f is not in the repository (run make datasets)"
    cmp -s "$T/a/$f" "$TOP/datasets/$f" || fail "datasets/$f differs from what generate.sh makes"
done

# The sessions are complete, calibrated through the profiles they carry.
"$BIN/cuplab-analyze" -q -f csv "$T/a/cohort/sessions/P2-fire-01.h5" >"$T/r.csv" ||
    fail "cannot analyse a generated session"
"$PY" - "$T/r.csv" <<'PY' || fail "generated session"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 6, len(rows)
for r in rows:
    assert r["status"] == "complete", r["status"]
    assert r["calibration"].startswith("profile SIMS-100-"), r["calibration"]
    assert "uncalibrated" not in r["flags"] and r["volume_ml"] != "", r
PY
