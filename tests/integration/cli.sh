#!/bin/sh
# Command-line contract: --help/--version on stdout with exit 0, usage errors
# exit 2, a bad port is one clear line with exit 3, unreadable files exit 1.
. "$(dirname "$0")/../lib.sh"

for p in cuplab-acquire cuplab-analyze cuplab-sim; do
    "$BIN/$p" --help >"$T/out" 2>"$T/err" || fail "$p --help exit $?"
    grep -q "^Usage: $p" "$T/out" || fail "$p --help has no usage line"
    [ -s "$T/err" ] && fail "$p --help wrote to stderr"
    "$BIN/$p" --version >"$T/out" || fail "$p --version exit $?"
    grep -Eq "^$p [0-9]+\.[0-9]+\.[0-9]+$" "$T/out" || fail "$p --version: $(cat "$T/out")"
done
# --version names, on its second line, the libraries each program runs with.
for p in cuplab-acquire cuplab-analyze cuplab-sim cuplab-calibrate; do
    "$BIN/$p" --version >"$T/out" || fail "$p --version exit $?"
    v='[0-9]+\.[0-9]+(\.[0-9]+)?'
    sed -n 2p "$T/out" | grep -Eq "^libraries: HDF5 $v, GSL $v, libserialport $v, jansson $v, zlib $v, PLplot $v$" ||
        fail "$p --version does not name the libraries: $(cat "$T/out")"
done
for p in cuplab-acquire cuplab-analyze cuplab-sim; do
    "$BIN/$p" --no-such-option >/dev/null 2>&1
    [ $? -eq 2 ] || fail "$p: unknown option should exit 2"
done

"$BIN/cuplab-acquire" -o "$T/x.h5" /dev/does-not-exist 2>"$T/err"
[ $? -eq 3 ] || fail "bad port should exit 3"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "bad port error is not one line: $(cat "$T/err")"
grep -q "/dev/does-not-exist" "$T/err" || fail "error does not name the port"
[ -e "$T/x.h5" ] && fail "a file was created for a bad port"
"$BIN/cuplab-acquire" /dev/null 2>/dev/null
[ $? -eq 2 ] || fail "missing -o should exit 2"
"$BIN/cuplab-acquire" -o "$T/x.h5" -b fast /dev/null 2>/dev/null
[ $? -eq 2 ] || fail "bad baud should exit 2"

printf 'not hdf5' >"$T/junk.h5"
"$BIN/cuplab-analyze" "$T/junk.h5" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "analyze junk should exit 1"
grep -q "junk.h5" "$T/err" || fail "analyze error does not name the file"
"$PY" -c "import h5py; h5py.File('$T/foreign.h5', 'w').create_dataset('x', data=[1, 2])"
"$BIN/cuplab-analyze" "$T/foreign.h5" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "analyze foreign should exit 1"
grep -qi "not a cuplab session" "$T/err" || fail "foreign file message: $(cat "$T/err")"
"$BIN/cuplab-analyze" "$T/missing.h5" >/dev/null 2>"$T/err"
[ $? -eq 1 ] || fail "analyze missing file should exit 1"
"$BIN/cuplab-analyze" -f xml "$T/junk.h5" >/dev/null 2>&1
[ $? -eq 2 ] || fail "unknown format should exit 2"
true
