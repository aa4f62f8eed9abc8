#!/bin/sh
# Integration test of the virtual device alone: runs $BUILD/cuplab-sim with
# small sessions, reads its pseudo-terminal the way a recorder would, checks
# that every text line / binary frame is well formed and that the frames
# received are exactly the ones listed in the --log file and counted in the
# --truth file (faults, drops, unplugging included), and checks the
# command-line behaviour.  Exit 0 pass, 1 fail, 77 skip.
set -u
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
SIM="$top/$BUILD/cuplab-sim"

if [ ! -x "$SIM" ]; then
    echo "skip: $SIM not built"
    exit 77
fi
if ! command -v python3 >/dev/null 2>&1; then
    echo "skip: python3 not found"
    exit 77
fi
if [ ! -e /dev/ptmx ]; then
    echo "skip: no pseudo-terminals (/dev/ptmx)"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/cuplab-sim-test.XXXXXX") || exit 1
[ -n "${KEEP_TMP:-}" ] || trap 'rm -rf "$tmp"' EXIT INT TERM

cat >"$tmp/check.py" <<'EOF'
"""Reader and checker for cuplab-sim's pty stream (standard library only)."""
import csv, json, math, os, select, signal, struct, subprocess, sys, time, tty, zlib

sys.path.insert(0, os.path.join(os.getcwd(), "tests"))  # run from the top folder
import cobs  # noqa: E402

SIM, TMP = sys.argv[1], sys.argv[2]
failures = []


def fail(case, msg):
    failures.append(f"{case}: {msg}")
    print(f"FAIL {case}: {msg}", flush=True)


def start(args):
    p = subprocess.Popen([SIM] + args, stdout=subprocess.PIPE, text=True)
    path = p.stdout.readline().strip()
    return p, path


def open_port(path):
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    tty.setraw(fd)
    return fd


def read_stream(fd, until=None, idle_s=5.0, limit_s=60.0):
    """Read until EOF/EIO, `idle_s` of silence, or until(data) is true."""
    data = bytearray()
    t_end = time.monotonic() + limit_s
    while time.monotonic() < t_end:
        r, _, _ = select.select([fd], [], [], idle_s)
        if not r:
            break
        try:
            b = os.read(fd, 65536)
        except BlockingIOError:
            continue
        except OSError:
            break  # EIO: the device went away
        if not b:
            break
        data += b
        if until and until(data):
            break
    return bytes(data)


def parse_binary(data, n):
    """-> (frames [(seq, time_us, [raw])], bad fragment count, meta dict)."""
    frames, bad, meta = [], 0, {}
    for chunk in data.split(b"\x00")[:-1]:
        if not chunk:
            continue
        p = cobs.payload(chunk)
        if p is not None and len(p) >= 2 and p[0] == 2:  # metadata frame
            meta[p[2:2 + p[1]].decode()] = p[2 + p[1]:].decode()
        elif p is None or len(p) != 2 + 4 + 8 + 4 * n or p[0] != 1 or p[1] != n:
            bad += 1
        else:
            seq, t = struct.unpack_from("<IQ", p, 2)
            frames.append((seq, t, list(struct.unpack_from(f"<{n}i", p, 14))))
    return frames, bad, meta


def check_identity(case, meta, n, rate):
    """The announcement: protocol version 2, a sensor serial for every cup."""
    want = {"protocol_version": "2", "channels": str(n), "rate_hz": str(rate)}
    for k in ("firmware", "device", *(f"sensor{i + 1}" for i in range(n))):
        if not meta.get(k):
            fail(case, f"announcement {k!r}: {meta.get(k)!r}")
    for k, v in want.items():
        if meta.get(k) != v:
            fail(case, f"announcement {k!r}: {meta.get(k)!r}, expected {v!r}")


def parse_text(data, n, with_time=True, labels=False, checksum=False):
    """-> (meta dict, frames [(time_ms or None, [raw])], bad line count)."""
    meta, frames, bad = {}, [], 0
    for line in data.split(b"\n")[:-1]:
        line = line.rstrip(b"\r")
        if not line:  # the delimiter a device sends when a reader connects
            continue
        try:
            s = line.decode("ascii")
        except UnicodeDecodeError:
            bad += 1
            continue
        if s.startswith("#"):
            k, _, v = s[1:].partition(":")
            meta[k.strip()] = v.strip()
            continue
        if checksum:
            body, star, cs = s.rpartition("*")
            if not star or len(cs) != 2:
                bad += 1
                continue
            x = 0
            for ch in body.encode():
                x ^= ch
            if f"{x:02X}" != cs:
                bad += 1
                continue
            s = body
        toks = s.split(",")
        try:
            if labels:
                names = [t.split(":", 1)[0] for t in toks]
                want = (["ms"] if with_time else []) + [f"c{i + 1}" for i in range(n)]
                if names != want:
                    bad += 1
                    continue
                vals = [int(t.split(":", 1)[1]) for t in toks]
            else:
                vals = [int(t) for t in toks]
        except (ValueError, IndexError):
            bad += 1
            continue
        if len(vals) != n + (1 if with_time else 0):
            bad += 1
            continue
        frames.append((vals[0], vals[1:]) if with_time else (None, vals))
    return meta, frames, bad


def ends_with_seq(n, last):
    """until() for binary streams: the frame with sequence number `last` arrived."""
    def until(d):
        if not d.endswith(b"\x00"):
            return False
        f = parse_binary(d[-(48 + 4 * n):], n)[0]
        return bool(f) and f[-1][0] == last
    return until


def ends_with_line(prefix):
    """until() for text streams: a complete line starting with `prefix` arrived."""
    return lambda d: d.endswith(b"\n") and (b"\n" + prefix) in d[-600:]


def read_log(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    return rows[0], [(int(r[0]), int(r[1]), [int(x) for x in r[2:]]) for r in rows[1:]]


def finish(case, p, timeout=20):
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        fail(case, "cuplab-sim did not exit")
        return None
    return rc


def binary_case(case, extra, n, rate, dur, xscale):
    log, truth = f"{TMP}/{case}.csv", f"{TMP}/{case}.json"
    p, path = start(["-p", "binary", "-n", str(n), "-r", str(rate), "-d", str(dur),
                     "-x", str(xscale), "--log", log, "--truth", truth] + extra)
    fd = open_port(path)
    last = int(dur * rate + 1e-6) - 1
    t0 = time.monotonic()
    data = read_stream(fd, until=ends_with_seq(n, last))
    elapsed = time.monotonic() - t0
    os.close(fd)
    rc = finish(case, p)
    if rc != 0:
        fail(case, f"exit status {rc}")
        return None
    frames, bad, meta = parse_binary(data, n)
    check_identity(case, meta, n, rate)
    head, rows = read_log(log)
    t = json.load(open(truth))
    if head != ["seq", "device_time_us"] + [f"c{i + 1}" for i in range(n)]:
        fail(case, f"log header {head}")
    if [(s, tu, v) for s, tu, v in frames] != rows:
        fail(case, f"{len(frames)} frames received, {len(rows)} logged, or values differ")
    if t["frames_sent"] != len(rows):
        fail(case, f"truth frames_sent {t['frames_sent']} != log rows {len(rows)}")
    if t["status"] != "complete":
        fail(case, f"status {t['status']}")
    accounted = t["frames_sent"] + t["frames_dropped"] + t["frames_garbled"] + t["frames_lost_disconnect"]
    if accounted != t["frames_total"] or t["frames_total"] != last + 1:
        fail(case, f"frame accounting {accounted} vs {t['frames_total']}")
    seqs = [f[0] for f in frames]
    missing = sorted(set(range(last + 1)) - set(seqs))
    if missing != sorted(t["dropped_seq"] + t["garbled_seq"]):
        fail(case, "sequence gaps differ from dropped_seq + garbled_seq")
    for s_, tu, _ in frames:
        if tu != round(s_ * 1e6 / rate):
            fail(case, f"frame {s_}: device time {tu} us")
            break
    if t["frames_garbled"] and bad < t["frames_garbled"]:
        fail(case, f"{bad} bad fragments but {t['frames_garbled']} garbled frames")
    if not t["frames_garbled"] and not t["junk_bursts"] and not t["baud_garbage_bytes"] and bad:
        fail(case, f"{bad} malformed frames in a clean stream")
    return t, elapsed, frames


def text_case(case, extra, n=3, rate=100, dur=2.0, with_time=True, labels=False, checksum=False):
    log, truth = f"{TMP}/{case}.csv", f"{TMP}/{case}.json"
    p, path = start(["-n", str(n), "-r", str(rate), "-d", str(dur), "-x", "0",
                     "--log", log, "--truth", truth] + extra)
    fd = open_port(path)
    last_ms = int((int(dur * rate + 1e-6) - 1) * 1000 / rate)
    tail = (f"ms:{last_ms}," if labels else f"{last_ms},").encode()
    data = read_stream(fd, until=ends_with_line(tail) if with_time else None)
    os.close(fd)
    rc = finish(case, p)
    if rc != 0:
        fail(case, f"exit status {rc}")
        return None
    meta, frames, bad = parse_text(data, n, with_time, labels, checksum)
    head, rows = read_log(log)
    t = json.load(open(truth))
    check_identity(case, meta, n, rate)
    if with_time and not labels and meta.get("timestamp") != "first":
        fail(case, "no '# timestamp: first' line")
    want = [((tu // 1000) if with_time else None, v) for _, tu, v in rows]
    if frames != want:
        fail(case, f"{len(frames)} lines received, {len(rows)} logged, or values differ")
    if t["frames_sent"] != len(rows):
        fail(case, f"truth frames_sent {t['frames_sent']} != log rows {len(rows)}")
    if t["frames_garbled"] and bad < t["frames_garbled"]:
        fail(case, f"{bad} bad lines but {t['frames_garbled']} garbled frames")
    if not (t["frames_garbled"] or t["junk_bursts"] or t["baud_garbage_bytes"]) and bad:
        fail(case, f"{bad} malformed lines in a clean stream")
    return t, frames


def kpa(sensor, raw):
    return (raw / sensor["adc_max"] - sensor["offset"]) / (sensor["gain"] * sensor["sensitivity_per_kpa"])


# 1. Plain text lines, values consistent with the model in the truth file.
r = text_case("text", ["--seed", "7", "--start", "0.2"], n=4, rate=50, dur=20)
if r:
    t, frames = r
    if t["frames_sent"] != 1000 or t["frames_total"] != 1000:
        fail("text", f"frames {t['frames_sent']}/{t['frames_total']}")
    worst, held = 0.0, 0
    for ch, (cup, sen) in enumerate(zip(t["cups"], t["sensors"])):
        if not -650 * 0.133322387415 <= cup["peak_kpa"] < 0:
            fail("text", f"cup {ch + 1} peak {cup['peak_kpa']}")
        for i, (ms, raw) in enumerate(frames):
            ts = ms / 1000.0
            if ts < cup["t_apply_s"]:
                want = 0.0
            elif cup["hold_start_s"] <= ts < cup["release_start_s"]:
                u = ts - cup["hold_start_s"]
                pc = cup["peak_kpa"]
                if cup["technique"] == "fire":
                    pc = cup["fire_initial_kpa"] + (cup["peak_kpa"] - cup["fire_initial_kpa"]) * (1 - math.exp(-u / cup["cool_tau_s"]))
                want = cup["p_inf_kpa"] + (pc - cup["p_inf_kpa"]) * math.exp(-u / cup["tau_s"])
                held += 1
            else:
                continue
            # noise 0.3 mmHg, ripple below 2 mmHg, half a count of rounding
            worst = max(worst, abs(kpa(sen, raw[ch]) - want))
    if held < 500:
        fail("text", f"only {held} samples during a hold")
    if worst > 0.6:
        fail("text", f"readings differ from the model by up to {worst:.3f} kPa")
    if t["sensors"][0]["adc_max"] != 4095:
        fail("text", "adc_max")

# 2. Labels, checksum, 10-bit ADC, junk and corrupted lines, wrong-baud burst.
r = text_case("text-faults", ["--labels", "--checksum", "--adc-bits", "10", "--garbage", "0.1",
                              "--baud-garbage", "--seed", "3"],
              n=2, rate=100, dur=3, labels=True, checksum=True)
if r:
    t, frames = r
    if not t["frames_garbled"] or not t["junk_bursts"] or not t["baud_garbage_bytes"]:
        fail("text-faults", "no faults injected")
    if max(max(v) for _, v in frames) > 1023:
        fail("text-faults", "10-bit value out of range")

# 3. No timestamp column, corrupted lines without a checksum.
text_case("text-notime", ["--no-time", "--garbage", "0.05"], n=1, rate=100, dur=2, with_time=False)

# 4. Binary frames at a high rate, paced in real time.
r = binary_case("binary-fast", [], n=4, rate=20000, dur=1.5, xscale=1)
if r:
    t, elapsed, frames = r
    if len(frames) != 30000:
        fail("binary-fast", f"{len(frames)} frames")
    if not 1.2 <= elapsed <= 4.0:
        fail("binary-fast", f"1.5 s of frames took {elapsed:.2f} s of wall time")

# 5. Time scale: 30 simulated seconds at 60x take about half a second.
r = binary_case("binary-scaled", [], n=2, rate=100, dur=30, xscale=60)
if r and not 0.3 <= r[1] <= 3.0:
    fail("binary-scaled", f"took {r[1]:.2f} s")

# 6. Binary faults: dropped frames give sequence gaps; corrupted frames and
#    junk are rejected by the CRC.
r = binary_case("binary-faults", ["--drop", "7", "--garbage", "0.05", "--baud-garbage"],
                n=3, rate=500, dur=4, xscale=0)
if r:
    t = r[0]
    if t["frames_dropped"] != 7 or len(t["dropped_seq"]) != 7:
        fail("binary-faults", f"dropped {t['frames_dropped']}")
    if not t["frames_garbled"]:
        fail("binary-faults", "no garbled frames")

# 7. Same seed, same values; fault options do not change them.
try:
    a = read_log(f"{TMP}/binary-faults.csv")[1]
    p, path = start(["-p", "binary", "-n", "3", "-r", "500", "-d", "4", "-x", "0",
                     "--log", f"{TMP}/again.csv"])
    fd = open_port(path)
    read_stream(fd, until=ends_with_seq(3, 1999))
    os.close(fd)
    finish("determinism", p)
    b = {s_: (tu, v) for s_, tu, v in read_log(f"{TMP}/again.csv")[1]}
    if len(b) != 2000 or any(b[s_] != (tu, v) for s_, tu, v in a):
        fail("determinism", "values differ between runs with the same seed")
except (OSError, ValueError) as e:
    fail("determinism", str(e))

# 8. Unplugging: the link disappears, comes back to a new pty, frames of the
#    outage are lost, everything else arrives.
case = "disconnect"
link = f"{TMP}/dev-link"
p, path = start(["-p", "binary", "-n", "2", "-r", "200", "-d", "6", "-x", "2",
                 "--disconnect", "1:0.5", "--link", link, "--log", f"{TMP}/{case}.csv",
                 "--truth", f"{TMP}/{case}.json"])
if os.path.realpath(link) != path:
    fail(case, f"link {link} does not point at {path}")
data = bytearray()
paths = []
for attempt in range(2):
    deadline = time.monotonic() + 10
    while not os.path.exists(link) and time.monotonic() < deadline:
        time.sleep(0.02)
    paths.append(os.path.realpath(link))
    fd = open_port(link)
    data += read_stream(fd, until=ends_with_seq(2, 1199) if attempt else None)
    os.close(fd)
    if attempt == 0:
        data += b"\x00"  # the reader resynchronises after a reconnect
rc = finish(case, p)
if rc != 0:
    fail(case, f"exit status {rc}")
else:
    t = json.load(open(f"{TMP}/{case}.json"))
    frames, bad, _ = parse_binary(bytes(data), 2)
    rows = read_log(f"{TMP}/{case}.csv")[1]
    d = t["disconnects"][0] if t["disconnects"] else {}
    if not d.get("performed") or not d.get("reconnected"):
        fail(case, f"disconnect not performed: {d}")
    elif frames != rows:
        missing = sorted({r[0] for r in rows} - {f[0] for f in frames})[:10]
        fail(case, f"{len(frames)} frames received, {len(rows)} logged, missing {missing}, "
             f"unread at unplug {d.get('unread_bytes_at_close')}")
    else:
        lost = set(range(d["first_seq"], d["first_seq"] + d["frames_lost"]))
        if d["frames_lost"] != 200 or lost & {f[0] for f in frames}:
            fail(case, f"lost {d['frames_lost']} frames from {d['first_seq']}")
        if len(frames) + d["frames_lost"] != 1200:
            fail(case, f"{len(frames)} + {d['frames_lost']} != 1200")
        if len(t["pty_paths"]) != 2 or t["pty_paths"] != paths:
            fail(case, f"pty paths {paths} / {t['pty_paths']}")
    if os.path.lexists(link):
        fail(case, "link left behind")

# 9. No reader: exit status 3 after --wait.
p, path = start(["--wait", "0.3", "--truth", f"{TMP}/noreader.json"])
rc = finish("no-reader", p)
if rc != 3:
    fail("no-reader", f"exit status {rc}")
elif json.load(open(f"{TMP}/noreader.json"))["status"] != "no_reader":
    fail("no-reader", "status")

# 10. The reader goes away mid-stream: clean exit 0, files written.
p, path = start(["-r", "100", "-d", "600", "-x", "1", "--log", f"{TMP}/gone.csv",
                 "--truth", f"{TMP}/gone.json"])
fd = open_port(path)
got = read_stream(fd, until=lambda d: d.count(b"\n") > 40)  # identity, then frames
os.close(fd)
rc = finish("reader-gone", p, timeout=10)
if rc != 0:
    fail("reader-gone", f"exit status {rc}")
else:
    t = json.load(open(f"{TMP}/gone.json"))
    n_rows = len(read_log(f"{TMP}/gone.csv")[1])
    if t["status"] != "reader_closed" or t["frames_sent"] != n_rows or n_rows < 20:
        fail("reader-gone", f"status {t['status']}, {t['frames_sent']} sent, {n_rows} logged")

# 11. SIGTERM: clean stop, files written.
p, path = start(["-r", "100", "-d", "600", "--log", f"{TMP}/term.csv", "--truth", f"{TMP}/term.json"])
fd = open_port(path)
read_stream(fd, until=lambda d: d.count(b"\n") > 20)
p.send_signal(signal.SIGTERM)
read_stream(fd, idle_s=0.5, limit_s=5)
rc = finish("sigterm", p, timeout=10)
os.close(fd)
if rc != 0:
    fail("sigterm", f"exit status {rc}")
else:
    t = json.load(open(f"{TMP}/term.json"))
    if t["status"] != "interrupted" or t["frames_sent"] != len(read_log(f"{TMP}/term.csv")[1]):
        fail("sigterm", f"status {t['status']}")

if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("all stream checks passed")
EOF

status=0
fail() { echo "FAIL: $*"; status=1; }

# Command line: help, version, usage errors.
"$SIM" --help >"$tmp/help" 2>&1 || fail "--help exit status"
grep -q -- "--disconnect" "$tmp/help" || fail "--help text"
[ "$("$SIM" --version | head -n 1)" = "cuplab-sim $(sed -n 's/^VERSION *:= *//p' Makefile)" ] ||
    fail "--version output"
for bad in "--bogus" "--cups 0" "--cups 33" "--rate x" "--protocol morse" "--technique cup" \
           "--disconnect 5" "--garbage 2" "--adc-bits 4" "-p binary --labels" "--rate"; do
    # shellcheck disable=SC2086
    "$SIM" $bad >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 2 ] || fail "'$bad': exit status $rc, expected 2"
    [ -s "$tmp/out" ] && fail "'$bad': wrote to stdout"
    grep -q "^cuplab-sim: " "$tmp/err" || fail "'$bad': no error message"
done
"$SIM" --drop 100 -d 1 -r 10 >/dev/null 2>&1
[ $? -eq 2 ] || fail "--drop more than the session has"

timeout 180 python3 "$tmp/check.py" "$SIM" "$tmp" || fail "stream checks"

[ $status -eq 0 ] && echo "sim_pty: all checks passed"
exit $status
