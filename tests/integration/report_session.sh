#!/bin/sh
# cuplab-analyze FILE --report OUT.pdf: one or two A4 pages, fonts embedded,
# no text overlapping (tests/report_check.py layout); the values on the page
# those of the program's JSON output and of the file (the title block, each
# cup's row at the text table's precision, each device's counters, the
# number of device, gap and overrun events); the cl_output rules before any
# work; a report that cannot be written costs no other output.
. "$(dirname "$0")/../lib.sh"
command -v pdftotext >/dev/null 2>&1 || skip "pdftotext (poppler-utils) not installed"
A="$BIN/cuplab-analyze"
chk() { "$PY" "$TOP/tests/report_check.py" "$@" || fail "$*"; }
pages() { pdfinfo "$1" | sed -n 's/^Pages: *//p'; }

# A session written by the virtual device: three pump cups, 10 minutes.
"$BIN/cuplab-sim" -q -o "$T/s.h5" --seed 3 --rate 20 --technique pump --cups 3 \
    --practitioner "Dr. Ada Test" --subject S-17 || fail "cuplab-sim"
"$A" -q --nominal-sensor -u mmHg -f json --report "$T/s.pdf" "$T/s.h5" >"$T/s.json" ||
    fail "--report exited with $?"
pdfinfo "$T/s.pdf" | grep -q "Page size: *595 x 842 pts (A4)" || fail "not A4: $(pdfinfo "$T/s.pdf")"
chk layout "$T/s.pdf"
chk session "$T/s.pdf" "$T/s.json" "$T/s.h5"
pdftotext "$T/s.pdf" - | grep -q "Dr. Ada Test" || fail "no practitioner"

# Calibrated: a sensor profile for C1 (C2 on the nominal transfer) and a
# cup-set profile, with their valid-until dates on the page.
"$BIN/cuplab-sim" -q --sensor-seed 7 --cups 2 --calibration-points "$T/pts" || fail "points"
"$BIN/cuplab-calibrate" sensor -q --serial SIMS-7-01 --ref-u 0.1mmHg --valid-until 2031-01-02 \
    -o "$T/p1.json" "$T/pts/SIMS-7-01.csv" >/dev/null || fail "sensor profile"
printf 'cup,material,size,volume_ml,volume_u_ml\nC1,glass,M,85,1\nC2,glass,L,120,1\n' >"$T/cups.csv"
"$BIN/cuplab-calibrate" cupset -q --id SET-A --operator t --valid-until 2030-06-30 \
    -o "$T/set.json" "$T/cups.csv" >/dev/null || fail "cup-set profile"
"$BIN/cuplab-sim" -q -o "$T/c.h5" --seed 4 --sensor-seed 7 --cups 2 --rate 20 --technique pump \
    --vacuum 300:20 --hold 90:5 --cup-set SET-A || fail "cuplab-sim (cal)"
"$A" -q -f json --profile "$T/p1.json" --cupset "$T/set.json" --report "$T/c.pdf" "$T/c.h5" \
    >"$T/c.json" || fail "--report (calibrated) exited with $?"
chk layout "$T/c.pdf"
chk session "$T/c.pdf" "$T/c.json" "$T/c.h5"
cal=$(pdftotext -layout "$T/c.pdf" - | tr -s ' ')
echo "$cal" | grep -q "^C1 SIMS-7-01 profile SIMS-7-01 (.*p1.json) 2031-01-02 SET-A, valid until 2030-06-30" ||
    fail "C1's calibration: $(echo "$cal" | grep '^C1')"
echo "$cal" | grep -q "^C2 SIMS-7-02 nominal MPXV6115V, 12-bit ADC none SET-A, valid until 2030-06-30" ||
    fail "C2's calibration: $(echo "$cal" | grep '^C2')"
echo "$cal" | grep -q "Notes simulated by cuplab-sim" || fail "no notes"

# Recorded from a device that drops and corrupts frames: counters and gap
# events on the page; twelve cups, so the per-cup table has a page of its own.
start_sim faults --protocol binary --cups 12 --rate 100 --duration 400 --time-scale 40 \
    --seed 9 --technique pump --garbage 0.01 --drop 30
"$BIN/cuplab-acquire" -q -o "$T/f.h5" --no-reconnect -P binary --practitioner P2 \
    --technique pump "$PTY" </dev/null || fail "cuplab-acquire exited with $?"
wait_sim
"$A" -q --nominal-sensor -f json --report "$T/f.pdf" "$T/f.h5" >"$T/f.json" ||
    fail "--report (faults) exited with $?"
chk layout "$T/f.pdf"
chk session "$T/f.pdf" "$T/f.json" "$T/f.h5"
[ "$(pages "$T/f.pdf")" -eq 2 ] || fail "twelve cups: $(pages "$T/f.pdf") pages, expected 2"
[ "$(pages "$T/s.pdf")" -eq 1 ] || fail "three cups: $(pages "$T/s.pdf") pages, expected 1"

# Outputs checked before the work: an existing report is refused (exit 2,
# nothing computed, the file untouched), replaced with --force; a missing
# folder is an error, a name that is not .pdf a usage error.
sum=$(cksum <"$T/s.pdf")
"$A" -q --nominal-sensor --report "$T/s.pdf" "$T/s.h5" >"$T/out" 2>"$T/err"
[ $? -eq 2 ] || fail "existing report not refused with exit 2"
grep -q "s.pdf exists (not replaced without --force)" "$T/err" || fail "message: $(cat "$T/err")"
[ -s "$T/out" ] && fail "results printed before the refusal"
[ "$(cksum <"$T/s.pdf")" = "$sum" ] || fail "the refused report was changed"
"$A" -q --nominal-sensor -u kPa --report "$T/s.pdf" --force "$T/s.h5" >/dev/null ||
    fail "--force exited with $?"
pdftotext "$T/s.pdf" - | grep -q "(kPa)" || fail "not replaced with --force"
"$A" -q --nominal-sensor --report "$T/no/such/r.pdf" "$T/s.h5" >"$T/out" 2>"$T/err"
[ $? -eq 1 ] || fail "missing folder: not exit 1"
[ -s "$T/out" ] && fail "results printed for a missing folder"
"$A" -q --nominal-sensor --report "$T/r.png" "$T/s.h5" >/dev/null 2>"$T/err"
[ $? -eq 2 ] || fail "a .png report not a usage error"
grep -q "a report is a PDF file" "$T/err" || fail "message: $(cat "$T/err")"
"$A" -q --report "$T/x.pdf" "$T/s.h5" "$T/f.h5" >/dev/null 2>&1
[ $? -eq 2 ] || fail "--report with two files not a usage error"

# A report that cannot be written (the file-size limit hit by the PDF, not
# by the table on stdout): exit 1, one message, the results printed in
# full, the figure written, no report and nothing half-written left.
(
    trap '' XFSZ
    ulimit -f 40
    exec "$A" -q --nominal-sensor -f json --plot "$T/o.svg" --report "$T/big.pdf" "$T/f.h5"
) 2>"$T/err" | cat >"$T/big.json"
grep -q "big.pdf" "$T/err" || fail "no message naming the report: $(cat "$T/err")"
"$PY" -c 'import json, sys; assert len(json.load(open(sys.argv[1]))["rows"]) == 12' \
    "$T/big.json" || fail "the results were not printed in full"
[ -s "$T/o.svg" ] || fail "the figure was not written"
ls "$T" | grep -q "big.pdf" && fail "a report was left: $(ls "$T")"
exit 0
