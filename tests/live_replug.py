#!/usr/bin/python3
"""The live view across a device unplug and replug, in headless Chromium.

  live_replug.py URL SCREENSHOT CUP...   exits 0 when the page shows the
      device connected, then disconnected, then connected again with one
      reconnect counted, and every CUP's value changes after the replug;
      SCREENSHOT gets a PNG of the page at the end.  Exit 77 if chromium or
      python3-websocket is missing (as tests/devtools.py).
"""
import base64
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devtools import browser, die  # noqa: E402

STATE = "document.querySelector('#devices tbody tr td:nth-child(2)')"
RECONNECTS = "document.querySelector('#devices tbody tr td:nth-child(11)')"


def values(page, cups):
    return {c: page.eval(f"document.getElementById('value-{c}').textContent") for c in cups}


def main():
    url, shot, cups = sys.argv[1], sys.argv[2], sys.argv[3:]
    with browser() as page:
        page.call("Page.navigate", url=url)
        page.wait(f"{STATE} && {STATE}.textContent === 'connected'", 20, "the device connected")
        page.wait(f"{STATE}.textContent === 'disconnected'", 30, "the device shown unplugged")
        gone = values(page, cups)
        page.wait(f"{STATE}.textContent === 'connected'", 30, "the device shown back")
        page.wait(f"{RECONNECTS}.textContent === '1'", 5, "one reconnect counted")
        seen = {c: set() for c in cups}
        for _ in range(30):
            for c, v in values(page, cups).items():
                seen[c].add(v)
            if all(len(s - {gone[c], "–"}) >= 2 for c, s in seen.items()):
                break
            time.sleep(0.3)
        for c, s in seen.items():
            if len(s - {gone[c], "–"}) < 2:
                die(f"cup {c}'s value did not move after the replug: {s}")
        png = page.call("Page.captureScreenshot", format="png")["data"]
        with open(shot, "wb") as f:
            f.write(base64.b64decode(png))
        print("replug ok: values after it", {c: sorted(s)[:3] for c, s in seen.items()})


if __name__ == "__main__":
    main()
