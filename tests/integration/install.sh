#!/bin/sh
# make install / make uninstall with DESTDIR and PREFIX: the four programs
# land executable in PREFIX/bin and run from there, their manual pages in
# PREFIX/share/man/man1 (and format without warnings where groff is
# installed), the documents of docs/ the pages cite in PREFIX/share/doc/cuplab;
# --version names the libraries the program runs with; uninstall removes all
# of them again.
. "$(dirname "$0")/../lib.sh"

command -v make >/dev/null 2>&1 || skip "make not installed"

ROOT="$T/root"
BINDIR="$ROOT/usr/bin"
MANDIR="$ROOT/usr/share/man/man1"
DOCDIR="$ROOT/usr/share/doc/cuplab"
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
    head -n 1 "$T/out" | grep -Eq "^$p [0-9]+\.[0-9]+\.[0-9]+$" ||
        fail "installed $p --version: $(cat "$T/out")"
    v='[0-9]+\.[0-9]+(\.[0-9]+)?'
    sed -n 2p "$T/out" | grep -Eq "^libraries: HDF5 $v, GSL $v, libserialport $v, jansson $v, zlib $v, PLplot $v$" ||
        fail "installed $p --version does not name the libraries: $(cat "$T/out")"
    [ "$(wc -l <"$T/out")" -eq 2 ] || fail "$p --version: not two lines: $(cat "$T/out")"
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
# Every document a manual page cites is installed beside the others.
for page in "$MANDIR"/*.1; do
    for doc in $(sed 's/\\%//g; s/\\-/-/g' "$page" | grep -Eo '[a-z-]+\.md' | sort -u); do
        case $doc in README.md) continue ;; esac # datasets/README.md: the source tree
        [ -f "$DOCDIR/$doc" ] || fail "$(basename "$page") cites $doc, not installed in $DOCDIR"
    done
done
for doc in "$TOP"/docs/*.md; do
    cmp -s "$doc" "$DOCDIR/$(basename "$doc")" || fail "docs/$(basename "$doc") not installed"
done

make -s -C "$TOP" BUILD="$BUILD" uninstall DESTDIR="$ROOT" PREFIX=/usr \
    >"$T/uninstall.out" 2>&1
rc=$?
[ $rc -eq 0 ] || { cat "$T/uninstall.out" >&2; fail "make uninstall exit $rc"; }

for p in $PROGS; do
    [ -e "$BINDIR/$p" ] && fail "$BINDIR/$p left after uninstall"
    [ -e "$MANDIR/$p.1" ] && fail "$MANDIR/$p.1 left after uninstall"
done
[ -e "$DOCDIR" ] && fail "$DOCDIR left after uninstall"
left=$(find "$ROOT" ! -type d)
[ -z "$left" ] || fail "files left after uninstall: $left"
true
