#!/bin/sh
# Run the whole suite: every unit test binary, then every integration test
# script.  A script passes with exit 0, is skipped with exit 77.  Ends with
# one line "N passed, N failed, N skipped" and exits non-zero on any failure.
set -u
BUILD=${BUILD:-build}
export BUILD
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
log_dir="$BUILD/test-logs"
mkdir -p "$log_dir"
pass=0 fail=0 skip=0 failed=""

run_one() { # name, command...
    name=$1; shift
    mkdir -p "$(dirname "$log_dir/$name.log")"
    start=$(date +%s)
    "$@" >"$log_dir/$name.log" 2>&1
    rc=$?
    secs=$(( $(date +%s) - start ))
    if [ $rc -eq 0 ]; then
        pass=$((pass + 1)); printf 'PASS  %-40s %4ss\n' "$name" "$secs"
    elif [ $rc -eq 77 ]; then
        skip=$((skip + 1)); printf 'SKIP  %-40s (%s)\n' "$name" "$(tail -n 1 "$log_dir/$name.log")"
    else
        fail=$((fail + 1)); failed="$failed $name"
        printf 'FAIL  %-40s %4ss  (log: %s)\n' "$name" "$secs" "$log_dir/$name.log"
        tail -n 20 "$log_dir/$name.log" | sed 's/^/      /'
    fi
}

for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    run_one "unit/$(basename "$t")" "$t"
done
for t in tests/integration/*.sh; do
    [ -f "$t" ] || continue
    run_one "integration/$(basename "$t" .sh)" sh "$t"
done

echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ] || { echo "failed:$failed"; exit 1; }
