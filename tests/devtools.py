#!/usr/bin/python3
"""Drive headless Chromium through its DevTools protocol for the live view
test: open URL, then read and click through Runtime.evaluate.

  devtools.py URL CUP... [--calibrated CUP] [--target TEXT] [--screenshot PNG]
      exits 0 when, for every CUP,
      its value element is there and shows at least two different values
      over a few seconds, a --calibrated cup shows mmHg, then kPa and mbar
      when the unit is switched, and its phase reaches the hold, while the
      others stay in raw counts, with --target the calibrated cup's target
      line starts with TEXT and then says where its vacuum is against the
      band, no cup is shown saturated, the "show" window zooms the traces,
      a click on the cup's "applied" button of the first cup and a note sent
      through the form are confirmed on the page as recorded and listed
      among the events recorded; PNG gets a screenshot.  Exit 77 if
      chromium or python3-websocket is missing.

As a module: browser() starts headless Chromium and gives its page (a
Page: call, eval, wait; eval awaits a promise), values_change() waits for
every cup's value to change; bench/live_latency.py times the live view with
them, tests/live_replug.py and tests/follow_live.py drive their tests.
"""
import base64
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

try:
    import websocket
except ImportError:
    print("python3-websocket not installed")
    sys.exit(77)

CHROMIUM = shutil.which("chromium")
if not CHROMIUM:
    print("chromium not installed")
    sys.exit(77)


def die(msg):
    print("devtools: " + msg, file=sys.stderr)
    sys.exit(1)


class Page:
    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=20)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self.next_id:
                if "error" in msg:
                    die(f"{method}: {msg['error']}")
                return msg["result"]

    def eval(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True,
                      awaitPromise=True)
        if "exceptionDetails" in r:
            die(f"{expr}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait(self, expr, timeout, what):
        end = time.time() + timeout
        while time.time() < end:
            v = self.eval(expr)
            if v:
                return v
            time.sleep(0.2)
        die(f"timed out waiting for {what}")


@contextlib.contextmanager
def browser():
    """Headless Chromium with a blank page: yields that page, stops it after."""
    profile = tempfile.mkdtemp()
    proc = subprocess.Popen(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", "--remote-debugging-port=0",
         "about:blank"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        port = None
        end = time.time() + 30
        while time.time() < end and port is None:
            line = proc.stderr.readline()
            m = re.search(r"DevTools listening on ws://[^:]+:(\d+)/", line)
            if m:
                port = int(m.group(1))
        if port is None:
            die("chromium did not open its DevTools port")
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list"))
        yield Page([t for t in targets if t["type"] == "page"][0]["webSocketDebuggerUrl"])
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


def values_change(page, cups):
    """Each cup's value element, showing two different values at least
    within a few seconds; returns the values seen."""
    cond = " && ".join(f"document.getElementById('value-{c}')" for c in cups)
    page.wait(f"!!({cond})", 20, "every cup's value element")
    seen = {c: set() for c in cups}
    for _ in range(25):
        for c in cups:
            seen[c].add(page.eval(f"document.getElementById('value-{c}').textContent"))
        if all(len(s - {"–"}) >= 2 for s in seen.values()):
            break
        time.sleep(0.3)
    for c, s in seen.items():
        if len(s - {"–"}) < 2:
            die(f"cup {c}'s value did not change: {s}")
    return seen


def main():
    args = sys.argv[2:]

    def option(name):
        if name not in args:
            return None
        i = args.index(name)
        v = args[i + 1]
        del args[i:i + 2]
        return v
    calibrated = [c for c in [option("--calibrated")] if c]
    target, shot = option("--target"), option("--screenshot")
    url, cups = sys.argv[1], args
    with browser() as page:
        page.call("Page.navigate", url=url)
        seen = values_change(page, cups)
        unit = "document.getElementById('unit-%s').textContent"
        for c in calibrated:
            for u in ("mmHg", "kPa", "mbar"):
                page.eval(f"var s = document.getElementById('unit'); s.value = '{u}';"
                          "s.dispatchEvent(new Event('change'))")
                page.wait(f"{unit % c} === '{u}'", 5, f"cup {c} in {u}")
            page.eval("document.getElementById('unit').value = 'mmHg'")
        # a calibrated cup's phase follows the analysis's names: applied and
        # settled, it holds
        for c in calibrated:
            page.wait(f"document.getElementById('phase-{c}').textContent.startsWith('hold')",
                      30, f"cup {c} shown in its hold")
        for c in cups:
            if c not in calibrated and page.eval(unit % c) != "raw counts":
                die(f"cup {c} without a profile is shown in {page.eval(unit % c)}")
            if not page.eval(f"document.getElementById('warn-{c}').hidden"):
                die(f"cup {c} shown saturated")
        for c in calibrated if target else []:
            line = f"document.getElementById('target-{c}').textContent"
            page.wait(f"/: (below|within|above)/.test({line})", 10, f"cup {c} against the target")
            if not page.eval(line).startswith(target):
                die(f"cup {c}'s target line: {page.eval(line)!r}, expected {target!r}...")
        page.eval("var w = document.getElementById('window'); w.value = '30';"
                  "w.dispatchEvent(new Event('change'))")
        if page.eval("state.window") != 30:
            die(f"the window did not zoom to 30 s: {page.eval('state.window')}")
        page.eval(f"document.getElementById('applied-{cups[0]}').click()")
        page.eval("document.getElementById('note').value = 'sent from the page';"
                  "document.getElementById('note-send').click()")
        page.wait("document.querySelectorAll('#markers li[data-state=recorded]').length >= 2",
                  10, "both markers confirmed as recorded")
        page.wait("document.querySelectorAll('#events li[data-kind=applied]').length >= 1 &&"
                  "document.querySelectorAll('#events li[data-kind=note]').length >= 1",
                  10, "both markers among the events recorded")
        if shot:
            with open(shot, "wb") as f:
                f.write(base64.b64decode(page.call("Page.captureScreenshot", format="png")["data"]))
        print("page ok:", {c: sorted(s)[:3] for c, s in seen.items()})


if __name__ == "__main__":
    main()
