#!/bin/sh
# --live on the command line: bad addresses, ports and tokens are usage
# errors, and so are a target beyond the atmosphere, a band not below the
# target or without one, and a malformed duration or band; a port already in use stops the start (exit 3, no file); on an
# address beyond 127.0.0.0/8 reading needs the token too (the requests
# themselves go to 127.0.0.1 only).
. "$(dirname "$0")/../lib.sh"

usage() { # expected message part, arguments...
    want=$1; shift
    "$BIN/cuplab-acquire" -q -o "$T/u.h5" "$@" /dev/null 2>"$T/err"
    rc=$?
    [ $rc -eq 2 ] || fail "$* exited with $rc, not 2"
    grep -q -- "$want" "$T/err" || fail "$*: no '$want' in: $(cat "$T/err")"
}
usage "invalid --live address" --live host.example:80
usage "invalid --live port" --live 65536
usage "invalid --live port" --live 127.0.0.1:
usage "invalid --live-token" --live 0 --live-token short
usage "invalid --live-token" --live 0 --live-token "has space"
usage "needs --live" --live-token abcdefgh12
usage "beyond the atmosphere's 101.325 kPa (a bare number is in mmHg)" --target 800
usage "beyond the atmosphere" --target 102kPa:10min
usage "duration 'ten'" --target 300:ten
usage "--target-band needs --target" --target-band 10%
usage "must be above 0 and below the target's 40 kPa" --target 40kPa --target-band 310
usage "must be above 0 and below" --target 300 --target-band 0%
usage "expected N% or a pressure" --target 300 --target-band 1x%

"$PY" - "$T/port" <<'PYEOF' &
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen()
open(sys.argv[1], "w").write("%d\n" % s.getsockname()[1])
time.sleep(10)
PYEOF
HOLD=$!
busy=$(first_line "$T/port") || fail "no port held"
start_sim busy --cups 2 --rate 50 --duration 600 --seed 5
"$BIN/cuplab-acquire" -q -o "$T/b.h5" --live "$busy" -d 2 "$PTY" </dev/null 2>"$T/err"
rc=$?
kill "$HOLD"
[ $rc -eq 3 ] || fail "a port in use: exit $rc, not 3"
grep -q "cannot listen on 127.0.0.1:$busy" "$T/err" || fail "message: $(cat "$T/err")"
[ -e "$T/b.h5" ] && fail "a session file was written"

"$BIN/cuplab-acquire" -q -o "$T/w.h5" --live 0.0.0.0:0 --live-token "tok-0123456789" -d 8 \
    "$PTY" </dev/null 2>"$T/err" &
ACQ=$!
url=$(first_line "$T/err" | sed -n 's/^cuplab-acquire: live view at //p')
port=$(echo "$url" | sed -n 's|^http://0.0.0.0:\([0-9]*\)/?token=tok-0123456789$|\1|p')
[ -n "$port" ] || { kill "$ACQ"; fail "address line: $(cat "$T/err")"; }
"$PY" - "$port" <<'PYEOF' || { kill "$ACQ"; fail "token on a non-local address"; }
import sys, urllib.request, urllib.error
base = "http://127.0.0.1:%s" % sys.argv[1]
def status(path, headers={}):
    try:
        return urllib.request.urlopen(urllib.request.Request(base + path, headers=headers)).status
    except urllib.error.HTTPError as e:
        return e.code
got = [status("/"), status("/snapshot.json"), status("/snapshot.json?token=wrong-token-0"),
       status("/snapshot.json?token=tok-0123456789"),
       status("/live.js", {"X-Cuplab-Token": "tok-0123456789"})]
assert got == [403, 403, 403, 200, 200], got
PYEOF
kill -INT "$ACQ"
wait "$ACQ" || fail "cuplab-acquire exited with $?"
kill "$SIM_PID" 2>/dev/null; wait_sim
echo "live view options and token rules hold"
