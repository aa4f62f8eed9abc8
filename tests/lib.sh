# Shared helpers for the integration tests (sourced, not run).
# Each test gets a scratch directory $T, removed on exit unless KEEP=1.
set -u
BUILD=${BUILD:-build}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN="$TOP/$BUILD"
PY=/usr/bin/python3
T=$(mktemp -d "${TMPDIR:-/tmp}/cuplab-test.XXXXXX")
SIM_PID=""  # device processes to kill on exit (one or more pids)

cleanup() {
    # shellcheck disable=SC2086 # one word per pid
    [ -n "$SIM_PID" ] && kill $SIM_PID 2>/dev/null
    [ "${KEEP:-0}" = 1 ] && echo "kept $T" >&2 || rm -rf "$T"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "$*"; exit 77; }

# Run the tests' h5py checker with the given arguments.
h5check() { "$PY" "$TOP/tests/h5check.py" "$@"; }

"$PY" -c 'import h5py, numpy' 2>/dev/null || skip "python3-h5py not installed"

# first_line FILE: print the first line of FILE once a background process
# has written it (waits up to 5 s; prints nothing if it never comes).
first_line() {
    for _ in $(seq 1 100); do
        line=$(head -n 1 "$1" 2>/dev/null)
        [ -n "$line" ] && { echo "$line"; return 0; }
        sleep 0.05
    done
    return 1
}

# start_device NAME KIND PROGRAM [args...]: start PROGRAM in the background
# (stdout $T/NAME.KIND.out, stderr $T/NAME.KIND.err); sets SIM_PID and PTY,
# the device path it prints as its first line.
start_device() {
    name=$1 kind=$2; shift 2
    "$@" >"$T/$name.$kind.out" 2>"$T/$name.$kind.err" &
    SIM_PID=$!
    PTY=$(first_line "$T/$name.$kind.out") && return 0
    cat "$T/$name.$kind.err" >&2
    fail "the $kind ($name) did not print its device path"
}

# start_sim NAME [sim options...]: start cuplab-sim in the background with a
# ground-truth log $T/NAME.log.csv and truth file $T/NAME.truth.json; sets
# SIM_PID and PTY (the device path).
start_sim() {
    name=$1; shift
    start_device "$name" sim "$BIN/cuplab-sim" --log "$T/$name.log.csv" \
        --truth "$T/$name.truth.json" "$@"
}

# wait_sim: wait for the simulator to exit, fail if it failed.
wait_sim() {
    wait "$SIM_PID" || { cat "$T/"*.sim.err >&2; fail "cuplab-sim exited with $?"; }
    SIM_PID=""
}
