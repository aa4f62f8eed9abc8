#!/usr/bin/env python3
"""Checks of a printed report (cuplab-analyze --report) against what the
program prints and what the file holds.

  report_check.py layout PDF [MOST]     one or two (or MOST) A4 pages, every font
      embedded, text 7-12 pt, inside the page, no two words overlapping
  report_check.py session PDF JSON H5   the values of `cuplab-analyze -f json`
      (JSON) on the page: the title block, each cup's row of the per-cup
      table at the text table's precision; the counters of each device and
      the number of device, gap and overrun events as the session file H5
      holds them (read with h5py)
  report_check.py cohort PDF JSON       the values of the cohort's JSON
      output on the page: every row of its tests and pairwise tables, at
      the precision of the text table
"""
import json
import math
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import figure_check  # noqa: E402

A4 = (595, 842)  # points
# Significant digits of the text table (analysis/output/cl_report.c), the
# columns of the per-cup table on the page, in their order there.
CUP_COLUMNS = [("peak_vacuum", 4), ("peak_vacuum_u", 2), ("time_to_peak_s", 4),
               ("hold_duration_s", 4), ("hold_mean", 4), ("leak_k", 3), ("leak_rate", 3),
               ("tau_s", 4), ("pressure_time_integral", 4)]
COUNTERS = ["frames", "checksum_errors", "malformed", "seq_gaps", "lost_frames", "overruns",
            "reconnects"]
DEVICE_EVENTS = {"gap", "disconnect", "reconnect", "overrun", "device", "error"}


def die(msg):
    sys.exit("report_check: " + msg)


def cell(v, digits):
    """A number as the text table prints it."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    if v == math.floor(v) and abs(v) < 1e15:
        return "%.0f" % v
    return "%.*g" % (digits, v)


def text(path):
    return subprocess.run(["pdftotext", "-layout", path, "-"], check=True,
                          capture_output=True, text=True).stdout


def section(lines, heading, stop):
    """The lines after `heading` up to the first line starting with one of `stop`."""
    out, on = [], False
    for ln in lines:
        s = ln.strip()
        if on and any(s.startswith(x) for x in stop):
            break
        if on:
            out.append(ln)
        if s.startswith(heading):
            on = True
    if not on:
        die(f"no section '{heading}'")
    return out


def in_order(want, have):
    it = iter(have)
    return all(any(w == h for h in it) for w in want)


def check_layout(path, most=2):
    figure_check.check_fonts(path)
    pages = figure_check.pages(path)
    if not 1 <= len(pages) <= most:
        die(f"{path}: {len(pages)} pages")
    for pw, ph, lines in pages:
        if abs(pw - A4[0]) > 1 or abs(ph - A4[1]) > 1:
            die(f"{path}: page of {pw} x {ph} pt, not A4")
        figure_check.check_boxes(path, pw, ph, lines, 6.9, 12.1)
    print(f"{path}: {len(pages)} A4 page(s), fonts embedded, no text overlapping")


def check_session(path, json_path, h5_path):
    import h5py
    doc = json.load(open(json_path))
    rows = doc["rows"]
    lines = text(path).splitlines()
    flat = [re.sub(r"\s+", " ", ln).strip() for ln in lines]
    r0 = rows[0]
    for name, key in [("Practitioner", "practitioner"), ("Subject", "subject"),
                      ("Technique", "technique"), ("Session", "session_uuid"),
                      ("Status", "status")]:
        want = f"{name} {r0[key] or '-'}"
        if not any(want in ln for ln in flat):
            die(f"no '{want}' in the title block")
    table = section(lines, "Per-cup results", ["Session "])
    for r in rows:
        mine = [ln.split() for ln in table if ln.split()[:1] == [r["cup"]]]
        if len(mine) != 1:
            die(f"cup {r['cup']}: {len(mine)} rows in the per-cup table")
        want = [cell(r[c], d) for c, d in CUP_COLUMNS]
        if not in_order(want, mine[0]):
            die(f"cup {r['cup']}: expected {want} in that order, the page has {mine[0]}")
    cal = [re.sub(r"\s+", " ", ln).strip() for ln in section(lines, "Calibration",
                                                           ["Device integrity"])]
    for r in rows:
        want = [r["cup"], r["sensor_serial"] or "none"]
        if not r["calibration"].startswith("none"):
            want.append(r["calibration"])
        if not any(ln.startswith(want[0] + " ") and all(w in ln for w in want) for ln in cal):
            die(f"cup {r['cup']}: no calibration line with {want}: {cal}")
    f = h5py.File(h5_path, "r")
    devs = section(lines, "Device integrity", ["Device, gap"])
    for name in sorted(f["devices"]):
        c = f["devices"][name]["counters"][0]
        want = [str(int(c[k])) for k in COUNTERS]
        mine = [ln.split() for ln in devs if ln.split()[:1] == [name]]
        if len(mine) != 1 or mine[0][-len(want):] != want:
            die(f"{name}: counters {want} expected, the page has {mine}")
    kinds = h5py.check_enum_dtype(f["events"].dtype["kind"])
    names = {v: k.lower() for k, v in kinds.items()}
    total = sum(1 for e in f["events"][:] if names[int(e["kind"])] in DEVICE_EVENTS)
    evs = section(lines, "Device, gap and overrun events", ["Vacuum of each cup", "Session "])
    listed = sum(1 for ln in evs if re.match(r"\s*\d+(\.\d+)?\s+[a-z]+\s", ln))
    more = sum(int(m.group(1)) for ln in evs for m in [re.search(r"and (\d+) more events", ln)]
               if m)
    if total == 0 and not any("None:" in ln for ln in evs):
        die("no events and no line saying so")
    if listed + more != total:
        die(f"{listed} events listed and {more} more, the file has {total}")
    print(f"{path}: {len(rows)} cups, {len(f['devices'])} device(s) and {total} events "
          f"({listed} listed) as printed and stored")


def check_cohort(path, json_path):
    doc = json.load(open(json_path))
    # a table going on over a page: its footer and its heading again left out
    lines = [ln for ln in text(path).splitlines()
             if not re.match(r"\s*(\f)?\s*(Cohort of \d+ sessions, page \d+|.*\(continued\))\s*$",
                             ln)]
    stratum = doc["group_by"][1] if len(doc["group_by"]) == 2 else None
    # table, its section on the page, the columns of a row in their order there
    blocks = [("tests", "Tests between the groups", ["metric"],
               ["groups", "n", "welch_f", "welch_p", "welch_p_holm", "kw_h", "kw_p",
                "kw_p_holm"]),
              ("tests", "Effect sizes between the groups", ["metric"],
               ["omega2", "omega2_lo", "omega2_hi", "epsilon2"]),
              ("pairwise", "Pairwise differences", ["metric", "group_a", "group_b"],
               ["diff", "ci_lo", "ci_hi", "p_holm", "hedges_g", "hedges_g_lo", "hedges_g_hi"])]
    for name, heading, keys, nums in blocks:
        sec = [ln.split() for ln in section(lines, heading,
                                             ["Effect sizes between", "Pairwise differences",
                                              "Session values"])]
        for r in doc[name]["rows"]:
            key = ([r[stratum]] if stratum else []) + [r[k] for k in keys]
            want = key + [cell(r[k], 4) for k in nums]
            if not any(in_order(want, ln) for ln in sec):
                die(f"{name}: no line with {want}; the page has {sec}")
        print(f"{path}: {len(doc[name]['rows'])} {name} rows as printed under '{heading}'")


if __name__ == "__main__":
    a = sys.argv
    if len(a) in (3, 4) and a[1] == "layout":
        check_layout(a[2], int(a[3]) if len(a) == 4 else 2)
    elif len(a) == 5 and a[1] == "session":
        check_session(a[2], a[3], a[4])
    elif len(a) == 4 and a[1] == "cohort":
        check_cohort(a[2], a[3])
    else:
        die(__doc__)
