#!/usr/bin/python3
"""Latency of the live view: from a sample's arrival to a client having it.

This script is the device: it opens a pseudo-terminal and writes text-protocol
lines of CHANNELS values at RATE Hz into it, for cuplab-acquire --live to
record.  All channels hold a constant value, then step together to a value
never sent before, at intervals drawn from 0.6..0.8 s (seeded); a step's
arrival is the CLOCK_MONOTONIC time just before its first line is written.

Readers, each a process of its own started from this script, note on the
same clock when each step value first reaches them:
  sse   clients of /events (SSE_CLIENTS of them, connected at different
        moments, so that together they see every phase of the stream's
        0.2 s against the recorder's 0.1 s hand-over): the moment the event
        holding the value (in cups[].value or history.values) has arrived
        in full; they also give the event rate;
  page  the page in headless Chromium, when chromium and python3-websocket
        are there: the animation frame after C1's value changed on it;
  swmr  the baseline: a reader of the session file cuplab-acquire writes, in
        SWMR mode (h5py, polled every 10 ms), the way to follow a recording
        without the live view; the ratio shows what the live view gains
        over it (the file is flushed every 0.5 s by default).

usage: live_latency.py ACQUIRE DIR SECONDS [CHANNELS [RATE]]
Prints the figures and the targets: p95 of the latency < 500 ms (for the
/events clients and the page), events at >= 5 Hz.  Exit status 1 when one
is missed or a step never reached a client.
"""
import json
import os
import random
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import tty

import numpy as np

TARGET_MS = 500.0
TARGET_HZ = 5.0
SSE_CLIENTS = 4
BASE, STRIDE = 1000, 64  # channel c of step k sends BASE + STRIDE * k + c


def step_of(value):
    """The step a value of channel 0 belongs to, or None."""
    if value is None or not np.isfinite(value):
        return None
    k, c = divmod(int(round(value)) - BASE, STRIDE)
    return k if c == 0 and k >= 0 else None


def note(first, value, t):
    k = step_of(value)
    if k is not None and k not in first:
        first[k] = t


def stopped():
    """True once the parent has closed our standard input (does not wait)."""
    r, _, _ = select.select([sys.stdin], [], [], 0)
    return bool(r) and not sys.stdin.readline()


# ------------------------------------------------------------------ readers
# Each prints "ready" once it sees the recording, then, when its standard
# input ends, one JSON line: {"first": {step: time}, ...}.

def read_sse(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /events HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")  # no chunked encoding
    buf, head = b"", None
    first, events, points = {}, [], []
    while True:
        r, _, _ = select.select([s, sys.stdin], [], [], 5)
        if sys.stdin in r and not sys.stdin.readline():
            break
        if s not in r:
            continue
        chunk = s.recv(1 << 20)
        now = time.monotonic()
        if not chunk:
            break
        buf += chunk
        if head is None:
            if b"\r\n\r\n" not in buf:
                continue
            head, buf = buf.split(b"\r\n\r\n", 1)
            if b" 200 " not in head.split(b"\r\n", 1)[0] or b"chunked" in head.lower():
                sys.exit(f"sse: unexpected answer: {head!r}")
        while b"\n\n" in buf:
            ev, buf = buf.split(b"\n\n", 1)
            data = [line[6:] for line in ev.split(b"\n") if line.startswith(b"data: ")]
            snap = json.loads(b"\n".join(data)) if data else {}
            if not snap.get("recording"):
                continue
            if not events:
                print("ready", flush=True)
            events.append(now)
            points += snap["history"]["t"]
            for v in snap["history"]["values"][0] + [snap["cups"][0]["value"]]:
                note(first, v, now)
    s.close()
    print(json.dumps({"first": first, "events": events, "points": points}), flush=True)


def read_swmr(path):
    import h5py
    f = None
    while f is None:
        try:
            f = h5py.File(path, "r", libver="latest", swmr=True)
            ds = f["devices/dev0/samples"]
        except (OSError, KeyError):
            f = f.close() if f else None
            time.sleep(0.05)
    print("ready", flush=True)
    first, n = {}, 0
    while not stopped():
        ds.refresh()
        m = len(ds)
        if m > n:
            col = ds[n:m, 0]
            now = time.monotonic()
            for v in col:
                note(first, v, now)
            n = m
        time.sleep(0.01)
    f.close()
    print(json.dumps({"first": first}), flush=True)


# The text of C1's value on the page: when it changes, the time of the next
# animation frame (the one that draws it), on the page's clock (ms).
OBSERVE = """
window.seen = [];
(() => {
  const e = document.getElementById('value-C1');
  let last = e.textContent;
  new MutationObserver(() => {
    const x = e.textContent;
    if (x === last) return;
    last = x;
    requestAnimationFrame(() => window.seen.push([performance.now(), x]));
  }).observe(e, {childList: true, characterData: true, subtree: true});
})();
"""


def page_offset(page):
    """CLOCK_MONOTONIC minus the page's clock, in s, from the quickest of 20
    round trips (off by at most half that round trip)."""
    best = None
    for _ in range(20):
        a = time.monotonic()
        p = page.eval("performance.now()")
        b = time.monotonic()
        if best is None or b - a < best[0]:
            best = (b - a, (a + b) / 2 - p / 1000)
    return best[1]


def reap_descendants(seconds=10):
    """Wait for every child, including the browser's helpers that were left
    to us (see read_page); kill those still there after `seconds`."""
    end = time.monotonic() + seconds
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0 and time.monotonic() > end:
            with open(f"/proc/{os.getpid()}/task/{os.getpid()}/children") as f:
                for left in f.read().split():
                    os.kill(int(left), signal.SIGKILL)
        elif pid == 0:
            time.sleep(0.05)


def read_page(url):
    # The browser's helper processes outlive it for a moment: become their
    # parent when it exits (PR_SET_CHILD_SUBREAPER) to see them go.
    import ctypes
    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
    import devtools
    with devtools.browser() as page:
        page.call("Page.navigate", url=url)
        page.wait("(e => e && e.textContent !== '–')(document.getElementById('value-C1'))",
                  30, "C1's value on the page")
        page.eval(OBSERVE)
        offset = page_offset(page)
        print("ready", flush=True)
        sys.stdin.read()
        drift = page_offset(page) - offset
        seen = page.eval("window.seen")
    reap_descendants()
    first = {}
    for t, text in seen:
        if re.fullmatch(r"\d+", text):
            note(first, float(text), t / 1000 + offset)
    print(json.dumps({"first": first, "drift": drift}), flush=True)


# ------------------------------------------------------------------- device

class Device(threading.Thread):
    """A line every 1/rate s; once `stepping` is set, a step every 0.6..0.8 s."""

    def __init__(self, master, channels, rate):
        super().__init__(daemon=True)
        self.master, self.channels, self.rate = master, channels, rate
        self.stepping, self.done = threading.Event(), threading.Event()
        self.steps = {}  # step -> arrival time
        self.rng = random.Random(1)

    def line(self, k):
        return (" ".join(str(BASE + STRIDE * k + c) for c in range(self.channels)) +
                "\n").encode()

    def run(self):
        os.write(self.master, b"\n")  # what came before the first line feed is skipped
        k, start, i, next_step = 0, time.monotonic(), 0, None
        while not self.done.is_set():
            delay = start + i / self.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            i += 1
            now = time.monotonic()
            if self.stepping.is_set():
                if next_step is None:
                    next_step = now + self.rng.uniform(0.6, 0.8)
                elif now >= next_step:
                    k += 1
                    next_step += self.rng.uniform(0.6, 0.8)
                    self.steps[k] = now
            os.write(self.master, self.line(k))


# --------------------------------------------------------------------- main

def spawn(*args):
    return subprocess.Popen([sys.executable, os.path.abspath(__file__), *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def have_browser():
    import importlib.util
    import shutil
    return shutil.which("chromium") and importlib.util.find_spec("websocket")


def latencies_ms(first, steps):
    first = {int(k): t for k, t in first.items()}
    return [(first[k] - t) * 1000 for k, t in steps.items() if k in first]


def stats(name, lat_ms, reached, nsteps):
    if not len(lat_ms):
        return f"{name}: 0/{nsteps} steps"
    return (f"{name}: {reached}/{nsteps} steps, median {np.median(lat_ms):.0f} ms, "
            f"p95 {np.percentile(lat_ms, 95):.0f} ms, max {np.max(lat_ms):.0f} ms")


def p95(lat_ms):
    return np.percentile(lat_ms, 95) if len(lat_ms) else np.inf


def event_rate(times):
    """Events a second (the slope of a straight line through the event times
    against their number, so that the delivery jitter of the first and last
    event does not count) and its standard error."""
    (period, _), cov = np.polyfit(np.arange(len(times)), times, 1, cov=True)
    return 1 / period, np.sqrt(cov[0, 0]) / period ** 2


def record(acquire, tmp, seconds, channels, rate):
    """Run the device, cuplab-acquire and the readers; return the steps, the
    readers' results and the stepping window."""
    path = os.path.join(tmp, "live.h5")
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    err = open(os.path.join(tmp, "acquire.err"), "w+")
    procs = []
    dev = Device(master, channels, rate)
    try:
        # -d: should this script be killed, the recorder still ends
        procs.append(subprocess.Popen([acquire, "-q", "-o", path, "--live", "0", "-P", "text",
                                       "--no-reconnect", "-d", str(seconds + 60),
                                       os.ttyname(slave)],
                                      stdin=subprocess.DEVNULL, stderr=err))
        dev.start()
        url, end = None, time.monotonic() + 10
        while url is None and time.monotonic() < end and procs[0].poll() is None:
            err.seek(0)
            url = re.search(r"live view at (http://127\.0\.0\.1:(\d+)/\S*)", err.read())
            time.sleep(0.05)
        if url is None:
            err.seek(0)
            sys.exit(f"no live view address: {err.read().strip()}")
        readers = {"swmr": spawn("--swmr", path)}
        for i in range(SSE_CLIENTS):
            readers[f"sse{i}"] = spawn("--sse", url.group(2))
            time.sleep(0.2 / SSE_CLIENTS + 0.013)  # not in step with the 0.1 s hand-over
        if have_browser():
            readers["page"] = spawn("--page", url.group(1))
        procs += readers.values()
        for name, p in readers.items():
            if p.stdout.readline().strip() != "ready":
                sys.exit(f"the {name} reader did not start")
        dev.stepping.set()
        window = (time.monotonic(), time.monotonic() + seconds)
        time.sleep(seconds)
        dev.stepping.clear()  # the last value stays until the readers have it
        time.sleep(1.5)
        got = {}
        for name, p in readers.items():
            p.stdin.close()
            got[name] = json.loads(p.stdout.readline())
            p.wait(10)
        return dev.steps, got, window
    finally:
        dev.done.set()
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in reversed(procs):
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        err.close()
        os.close(master)
        os.close(slave)


def main():
    acquire, tmp, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    channels = int(sys.argv[4]) if len(sys.argv) > 4 else 8
    rate = float(sys.argv[5]) if len(sys.argv) > 5 else 100.0
    steps, got, (t0, t1) = record(acquire, tmp, seconds, channels, rate)
    n = len(steps)
    sse = [g for name, g in got.items() if name.startswith("sse")]
    live = [latencies_ms(g["first"], steps) for g in sse]
    reached = min(len(x) for x in live)
    live = np.concatenate(live)
    rates = [event_rate(np.array([t for t in g["events"] if t0 <= t <= t1])) for g in sse]
    hz, hz_se = min(rates)
    gaps = np.concatenate([np.diff(g["events"][1:]) for g in sse]) * 1000
    pts = np.array(sse[0]["points"])
    base = latencies_ms(got["swmr"]["first"], steps)

    print(f"{n} steps over {seconds:.0f} s, {channels} channels at {rate:.0f} Hz "
          f"(text protocol on a pseudo-terminal)")
    print(stats(f"live view, {len(sse)} /events clients", live, reached, n))
    print(f"  events {hz:.4f} Hz (slowest client), {gaps.min():.0f}..{gaps.max():.0f} ms apart; "
          f"history {(len(pts) - 1) / (pts[-1] - pts[0]):.2f} points a second")
    page = latencies_ms(got["page"]["first"], steps) if "page" in got else None
    if page is not None:
        print(stats("live view, the page in headless Chromium (frame after the value changed)",
                    page, len(page), n) +
              f"; clocks {got['page']['drift'] * 1000:+.1f} ms apart at the end")
    else:
        print("live view, the page: not measured (chromium or python3-websocket missing)")
    print(stats("baseline: the session file through SWMR", base, len(base), n))
    if len(live) and len(base):
        print(f"ratio /events / SWMR: median {np.median(live) / np.median(base):.2f}, "
              f"p95 {p95(live) / p95(base):.2f}")
    ok_lat = p95(live) / TARGET_MS < 1 and reached == n
    line = f"ratio p95 / {TARGET_MS:.0f} ms: /events {p95(live) / TARGET_MS:.2f}"
    if page is not None:
        ok_lat = ok_lat and p95(page) / TARGET_MS < 1 and len(page) == n
        line += f", page {p95(page) / TARGET_MS:.2f}"
    print(f"{line} (target < 1, every step seen: {'met' if ok_lat else 'missed'})")
    ok_hz = (hz + 3 * hz_se) / TARGET_HZ >= 1
    print(f"ratio event rate / {TARGET_HZ:.0f} Hz: {hz / TARGET_HZ:.5f} ± "
          f"{hz_se / TARGET_HZ:.1g} (target >= 1 within 3 standard errors: "
          f"{'met' if ok_hz else 'missed'})")
    sys.exit(0 if ok_lat and ok_hz and n else 1)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--sse"]:
        read_sse(int(sys.argv[2]))
    elif sys.argv[1:2] == ["--swmr"]:
        read_swmr(sys.argv[2])
    elif sys.argv[1:2] == ["--page"]:
        read_page(sys.argv[2])
    else:
        main()
