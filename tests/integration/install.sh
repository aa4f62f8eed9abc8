#!/bin/sh
# make install / make uninstall with DESTDIR and PREFIX: the four programs
# land executable in PREFIX/bin and run from there, their manual pages in
# PREFIX/share/man/man1 (and format without warnings where groff is
# installed); uninstall removes all of them again.
. "$(dirname "$0")/../lib.sh"

command -v make >/dev/null 2>&1 || skip "make not installed"

ROOT="$T/root"
BINDIR="$ROOT/usr/bin"
MANDIR="$ROOT/usr/share/man/man1"
PROGS="cuplab-acquire cuplab-analyze cuplab-calibrate cuplab-sim"

# "install" depends on "all", which the suite has just built in $BUILD.
# -o all installs what is there instead of remaking it: outside
# "make check-asan" this make would not know the sanitizer flags and would
# relink build-asan without them.
make -s -C "$TOP" BUILD="$BUILD" -o all install DESTDIR="$ROOT" PREFIX=/usr \
    >"$T/install.out" 2>&1
rc=$?
[ $rc -eq 0 ] || { cat "$T/install.out" >&2; fail "make install exit $rc"; }

for p in $PROGS; do
    [ -f "$BINDIR/$p" ] || fail "$p not installed in $BINDIR"
    [ -x "$BINDIR/$p" ] || fail "$BINDIR/$p is not executable"
    "$BINDIR/$p" --version >"$T/out" 2>"$T/err" || fail "installed $p --version exit $?"
    grep -Eq "^$p [0-9]+\.[0-9]+\.[0-9]+$" "$T/out" || fail "installed $p --version: $(cat "$T/out")"
    "$BIN/$p" --version >"$T/built" 2>/dev/null
    cmp -s "$T/out" "$T/built" || fail "installed $p is not the built one: $(cat "$T/out") vs $(cat "$T/built")"

    page="$MANDIR/$p.1"
    [ -f "$page" ] || fail "manual page $p.1 not installed in $MANDIR"
    [ -r "$page" ] || fail "$page is not readable"
    head -n 1 "$page" | grep -q '^\.TH ' || fail "$page does not start with .TH"
    if command -v groff >/dev/null 2>&1; then
        groff -man -Tutf8 -ww -z "$page" 2>"$T/groff.err"
        [ -s "$T/groff.err" ] && fail "$p.1 formats with warnings: $(cat "$T/groff.err")"
    fi
done
[ "$(ls "$MANDIR" | wc -l)" -eq 4 ] || fail "unexpected manual pages: $(ls "$MANDIR")"

make -s -C "$TOP" BUILD="$BUILD" uninstall DESTDIR="$ROOT" PREFIX=/usr \
    >"$T/uninstall.out" 2>&1
rc=$?
[ $rc -eq 0 ] || { cat "$T/uninstall.out" >&2; fail "make uninstall exit $rc"; }

for p in $PROGS; do
    [ -e "$BINDIR/$p" ] && fail "$BINDIR/$p left after uninstall"
    [ -e "$MANDIR/$p.1" ] && fail "$MANDIR/$p.1 left after uninstall"
done
left=$(find "$ROOT" ! -type d)
[ -z "$left" ] || fail "files left after uninstall: $left"
true
