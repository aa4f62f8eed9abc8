#!/usr/bin/env python3
"""Checks of a figure as printed, from the text placed on it.

  figure_check.py pdf FILE WIDTH_MM TITLE...  a PDF page WIDTH_MM wide, its
      fonts embedded (pdffonts), its text 7-9 pt, inside the page, no two
      text boxes overlapping, no snake_case identifier, and every TITLE
      (an axis title, a legend entry) among its lines of text
  figure_check.py png FILE WIDTH_MM           a PNG of WIDTH_MM at 300 dpi
"""
import re
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

BOX_EM = 1.163  # height of DejaVu Sans' text box, in em


def die(msg):
    sys.exit("figure_check: " + msg)


def pages(path):
    """Each page of a PDF as (width, height, lines); a line is (text, box,
    word boxes), in points from the top-left corner."""
    out = subprocess.run(["pdftotext", "-bbox-layout", path, "-"], check=True,
                         capture_output=True, text=True).stdout
    out = re.sub(r"<!DOCTYPE[^>]*>", "", out).replace("&nbsp;", " ")
    root = ET.fromstring(out)
    ns = {"x": "http://www.w3.org/1999/xhtml"}
    result = []
    for page in root.iterfind(".//x:page", ns):
        lines = []
        for ln in page.iter("{http://www.w3.org/1999/xhtml}line"):
            ws = [w for w in ln.iter("{http://www.w3.org/1999/xhtml}word")]
            box = [float(ln.get(k)) for k in ("xMin", "yMin", "xMax", "yMax")]
            lines.append((" ".join(w.text or "" for w in ws), box,
                          [[float(w.get(k)) for k in ("xMin", "yMin", "xMax", "yMax")]
                           for w in ws]))
        result.append((float(page.get("width")), float(page.get("height")), lines))
    return result


def words(path):
    return pages(path)[0]


def overlap(a, b, slack=0.3):
    return (min(a[2], b[2]) - max(a[0], b[0]) > slack and
            min(a[3], b[3]) - max(a[1], b[1]) > slack)


def check_fonts(path):
    fonts = subprocess.run(["pdffonts", path], check=True, capture_output=True,
                           text=True).stdout.splitlines()[2:]
    if not fonts:
        die(f"{path}: no fonts")
    for f in fonts:
        if f.split()[-5] != "yes":
            die(f"{path}: font not embedded: {f}")


def check_boxes(path, pw, ph, lines, smallest=6.9, largest=9.1):
    """Every word smallest..largest pt, inside the page, no two overlapping."""
    boxes = []
    for text, lb, ws in lines:
        # (a short word alone, "to", "all", can be narrower than high unturned)
        rotated = lb[3] - lb[1] > 1.3 * (lb[2] - lb[0]) and len(text) > 2
        for w, t in zip(ws, text.split(" ")):
            if not re.search(r"\w", t):
                continue  # a plot symbol (PLplot draws them as glyphs), not text
            wd, ht = w[2] - w[0], w[3] - w[1]
            size = (wd if rotated else ht) / BOX_EM
            if not smallest <= size <= largest:
                die(f"{path}: '{text}' at {size:.1f} pt")
            if w[0] < -0.5 or w[1] < -0.5 or w[2] > pw + 0.5 or w[3] > ph + 0.5:
                die(f"{path}: '{text}' outside the page")
            boxes.append((w, t))
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            if overlap(boxes[i][0], boxes[j][0]):
                die(f"{path}: '{boxes[i][1]}' overlaps '{boxes[j][1]}'")


def check_pdf(path, width_mm, titles):
    check_fonts(path)
    pw, ph, lines = words(path)
    if abs(pw - width_mm / 25.4 * 72) > 1.5:
        die(f"{path}: page {pw:.1f} pt wide, expected {width_mm} mm")
    check_boxes(path, pw, ph, lines)
    texts = [t for t, _, _ in lines]
    for t in texts:
        if re.search(r"\b[a-z]+_[a-z_]+\b", t):
            die(f"{path}: identifier in '{t}'")
    alltext = "\n".join(texts)
    for t in titles:
        if t not in alltext and t not in " ".join(texts):
            die(f"{path}: no '{t}' among: {texts}")


def check_png(path, width_mm):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        die(f"{path}: not a PNG")
    w, _ = struct.unpack(">II", data[16:24])
    if abs(w - width_mm / 25.4 * 300) > 1:
        die(f"{path}: {w} pixels wide, expected {width_mm} mm at 300 dpi")


if __name__ == "__main__":
    a = sys.argv
    if len(a) >= 4 and a[1] == "pdf":
        check_pdf(a[2], float(a[3]), a[4:])
    elif len(a) == 4 and a[1] == "png":
        check_png(a[2], float(a[3]))
    else:
        die(__doc__)
