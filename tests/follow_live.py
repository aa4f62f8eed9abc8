#!/usr/bin/python3
"""The read-only live view of cuplab-analyze --follow --live, in headless
Chromium.

  follow_live.py URL SAMPLES SCREENSHOT CUP...   exits 0 when every CUP's
      value element is there and shows at least two different values, no
      marker button or note field can be used, the page says it is
      read-only, and a marker posted from the page is refused (403,
      "read-only").  SAMPLES gets what the page showed, 20 times over 5 s,
      as JSON [{"wall": s, "t": snapshot time, "values": {CUP: text},
      "units": {CUP: text}}, ...]; SCREENSHOT a PNG of the page at the end.
      Exit 77 if chromium or python3-websocket is missing (as
      tests/devtools.py).
"""
import base64
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from devtools import browser, die, values_change  # noqa: E402

# Controls a reader of the page could use (the header's unit switch aside).
USABLE = ("[...document.querySelectorAll('button, input')].filter((b) => !b.disabled && "
          "b.offsetParent !== null && b.closest('header') === null).map((b) => b.id || "
          "b.textContent)")
POST = ("fetch('/marker', {method: 'POST', body: 'note from the page', headers: "
        "{'X-Cuplab-Token': new URLSearchParams(location.search).get('token')}})"
        ".then((r) => r.json().then((j) => r.status + ' ' + j.error))")
# What the page shows at one instant: the snapshot's time and each cup's text.
SAMPLE = ("JSON.stringify({t: state.snap.t, values: Object.fromEntries(%s.map((c) => "
          "[c, document.getElementById('value-' + c).textContent])), units: "
          "Object.fromEntries(%s.map((c) => [c, document.getElementById('unit-' + c)"
          ".textContent]))})")


def main():
    url, samples_path, shot, cups = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    with browser() as page:
        page.call("Page.navigate", url=url)
        seen = values_change(page, cups)
        usable = page.eval(USABLE)
        if usable or page.eval("document.querySelectorAll('#cups button').length"):
            die(f"marker controls in a read-only view: {usable}")
        if not page.eval("document.getElementById('mode').offsetParent !== null"):
            die("the page does not say it is read-only")
        answer = page.eval(POST)
        if not answer.startswith("403 ") or "read-only" not in answer:
            die(f"a marker posted from the page: {answer}")
        js = json.dumps(cups)
        taken = []
        for _ in range(20):
            taken.append(dict(json.loads(page.eval(SAMPLE % (js, js))), wall=time.time()))
            time.sleep(0.25)
        with open(samples_path, "w") as f:
            json.dump(taken, f)
        page.call("Emulation.setDeviceMetricsOverride", width=1280, height=1400,
                  deviceScaleFactor=1, mobile=False)
        time.sleep(1)
        png = page.call("Page.captureScreenshot", format="png")["data"]
        with open(shot, "wb") as f:
            f.write(base64.b64decode(png))
        print("read-only page ok:", {c: sorted(s)[:3] for c, s in seen.items()},
              "POST /marker:", answer)


if __name__ == "__main__":
    main()
