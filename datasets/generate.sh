#!/bin/sh
# Regenerate the example cohort (datasets/README.md describes every file):
#
#   1. calibration points of the virtual device's 8 sensors against a
#      simulated reference gauge (cuplab-sim --calibration-points), fitted
#      into sensor profiles by cuplab-calibrate sensor;
#   2. the two cup-set profiles from the measured volumes
#      (cuplab-calibrate cupset);
#   3. 36 sessions written directly by the virtual device (cuplab-sim
#      --output): 3 practitioners x 2 techniques x 6 sessions, each with its
#      ground truth, carrying copies of the profiles;
#   4. manifest.csv, one line per session.
#
# Everything is a function of this script: seeds, dates and names are fixed,
# so two runs give the same bytes (tests/integration/datasets_repro.sh).
#
# Usage: sh datasets/generate.sh [OUTDIR]      (default: this folder)
# Environment: BUILD (build folder, default build); SESSIONS (sessions per
# practitioner and technique, 1..6, default 6: fewer for a quick check).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) bin=$BUILD ;; *) bin=$top/$BUILD ;; esac
SIM=$bin/cuplab-sim
CAL=$bin/cuplab-calibrate
SESSIONS=${SESSIONS:-6}
out=${1:-$here}

for p in "$SIM" "$CAL"; do
    [ -x "$p" ] || { echo "generate.sh: $p not found: run make first" >&2; exit 1; }
done
case $SESSIONS in 1|2|3|4|5|6) ;; *) echo "generate.sh: SESSIONS must be 1..6" >&2; exit 2 ;; esac

mkdir -p "$out"
[ -d "$out/calibration" ] || mkdir -p "$out/calibration"
# The cup lists are inputs kept in the repository; copy them when writing
# elsewhere.
for set in pump-set-A glass-set-A; do
    [ "$out" = "$here" ] || cp "$here/calibration/$set.csv" "$out/calibration/$set.csv"
done
cd "$out"
rm -rf calibration/points calibration/profiles cohort
mkdir -p calibration/profiles cohort/sessions cohort/truth

# The lab's device: 8 sensors drawn from sensor seed 100 (serials
# SIMS-100-01 .. SIMS-100-08), 12-bit ADC, 20 frames per second.
SENSOR_SEED=100
RATE=20
CAL_DATE=2025-02-28
VALID=2030-12-31

# 1. Sensor profiles from simulated reference points.
"$SIM" -q --sensor-seed $SENSOR_SEED --cups 8 --calibration-points calibration/points
for csv in calibration/points/*.csv; do
    sn=$(basename "$csv" .csv)
    "$CAL" sensor -q --serial "$sn" --model "MPXV6115V (simulated)" \
        --ref-u 0.1mmHg --reference "simulated reference gauge, U 0.1 mmHg" \
        --operator "lab" --temperature 21.5 --date $CAL_DATE --valid-until $VALID \
        -o "calibration/profiles/$sn.json" "$csv" >/dev/null
done

# 2. Cup-set profiles from the measured volumes (no sealed-plate decays:
#    the baseline leak is not characterised).
for set in pump-set-A glass-set-A; do
    "$CAL" cupset -q --id $set --operator "lab" --date $CAL_DATE --valid-until $VALID \
        -o "calibration/profiles/$set.json" "calibration/$set.csv" >/dev/null
done

# 3. Sessions.  Styles (vacuum in mmHg as mean:SD from cup to cup, hold as
#    mean:SD, variability = SD of each session's relative shift):
#    P1  firm and consistent: pump 380:15, 4 strokes, 10 min:30 s, 0.03;
#        fire 360:20, 10 min:30 s, 0.03; 8 cups from shoulders to lower back
#    P2  follows the 300 mmHg / 10 min protocol: pump 300:12, 3 strokes,
#        10 min:20 s, 0.03; fire 330:20, 10 min:30 s, 0.04; 6 cups on the back
#    P3  gentle and variable: pump 220:35, 1-3 strokes, 6 min:90 s, 0.12;
#        fire 300:40, 7 min:90 s, 0.12; 5 small and medium cups, neck and
#        shoulders
#    Sizes (S, M, L) scale the vacuum by 0.9, 1.0, 1.1 (see cuplab-sim --help).
P1_SITES="shoulder-left:M,shoulder-right:M,upper-back-left:M,upper-back-right:M,mid-back-left:L,mid-back-right:L,lower-back-left:L,lower-back-right:L"
P2_SITES="upper-back-left:M,upper-back-right:M,mid-back-left:L,mid-back-right:L,lower-back-left:L,lower-back-right:L"
P3_SITES="neck:S,shoulder-left:S,shoulder-right:S,upper-back-left:M,upper-back-right:M"

style() { # practitioner technique -> the style options
    case $1-$2 in
    P1-pump) echo "--vacuum 380:15 --strokes 4 --hold 10min:30 --variability 0.03" ;;
    P1-fire) echo "--vacuum 360:20 --hold 10min:30 --variability 0.03" ;;
    P2-pump) echo "--vacuum 300:12 --strokes 3 --hold 10min:20 --variability 0.03" ;;
    P2-fire) echo "--vacuum 330:20 --hold 10min:30 --variability 0.04" ;;
    P3-pump) echo "--vacuum 220:35 --strokes 1-3 --hold 6min:90 --variability 0.12" ;;
    P3-fire) echo "--vacuum 300:40 --hold 7min:90 --variability 0.12" ;;
    esac
}

profiles=""
for f in calibration/profiles/SIMS-*.json; do profiles="$profiles --profile $f"; done

echo "file,practitioner,technique,subject,seed,created_utc,cups,cup_set" >cohort/manifest.csv
pn=0
for prac in P1 P2 P3; do
    pn=$((pn + 1))
    eval sites=\$${prac}_SITES
    cups=$(echo "$sites" | tr ',' '\n' | wc -l | tr -d ' ')
    tn=0
    for tech in pump fire; do
        tn=$((tn + 1))
        if [ $tech = pump ]; then set_id=pump-set-A; hour=09; else set_id=glass-set-A; hour=14; fi
        i=1
        while [ $i -le "$SESSIONS" ]; do
            name=$prac-$tech-0$i
            seed=$((1000 + 100 * pn + 10 * tn + i))
            # Week i of the study (from Monday 3 March 2025), practitioner
            # pn's weekday.
            day=$(date -u -d "2025-03-03 +$((7 * (i - 1) + pn - 1)) days" +%Y-%m-%d)
            created=${day}T$hour:00:00Z
            subject=$(printf 'S%02d' $i)
            # shellcheck disable=SC2046,SC2086
            "$SIM" -q -o "cohort/sessions/$name.h5" --truth "cohort/truth/$name.json" \
                --seed $seed --sensor-seed $SENSOR_SEED --rate $RATE --technique $tech \
                --sites "$sites" $(style $prac $tech) --markers \
                --practitioner $prac --subject "$subject" --cup-set $set_id \
                --created "$created" $profiles --profile "calibration/profiles/$set_id.json"
            echo "sessions/$name.h5,$prac,$tech,$subject,$seed,$created,$cups,$set_id" \
                >>cohort/manifest.csv
            i=$((i + 1))
        done
    done
done
echo "generate.sh: $(( 6 * SESSIONS )) sessions in $out/cohort/sessions" >&2
