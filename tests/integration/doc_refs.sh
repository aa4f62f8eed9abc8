#!/bin/sh
# The documentation cites only files the repository has: every *.md named in
# README.md, HACKING.md, docs/*.md, docs/man/*.1 and datasets/README.md (as a
# link or in the text) and every docs/... path exists, relative to the citing
# file, the top or docs/; every source file they cite (lib/..., acquire/...,
# tests/..., ending in .c, .h, .sh, .py or .mk) exists.
. "$(dirname "$0")/../lib.sh"

"$PY" - "$TOP" <<'PY' || fail "documentation cites missing files"
import glob, os, re, sys
top = sys.argv[1]
files = [os.path.join(top, n) for n in ("README.md", "HACKING.md", "datasets/README.md")]
files = [f for f in files if os.path.exists(f)]
files += glob.glob(os.path.join(top, "docs", "*.md")) + glob.glob(os.path.join(top, "docs", "man", "*.1"))
src = r"\b(?:lib|acquire|analysis|calibration|sim|firmware|tests|scripts|bench|fuzz)/[A-Za-z0-9_./*-]*\.(?:c|h|sh|py|mk)\b"
bad = []
for f in files:
    text = open(f, encoding="utf-8").read().replace("\\%", "").replace("\\-", "-")
    refs = set(re.findall(r"[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md\b", text))
    refs |= set(re.findall(r"\bdocs/[A-Za-z0-9_./-]*[A-Za-z0-9_]", text))
    here = os.path.dirname(f)
    for r in refs:
        if not any(os.path.exists(os.path.join(d, r)) for d in (here, top, os.path.join(top, "docs"))):
            bad.append("%s: %s" % (os.path.relpath(f, top), r))
    for m in re.finditer(src, text):
        r = m.group(0)
        if text[max(0, m.start() - 1)] in "/.~$":
            continue  # part of a longer path
        if not any(glob.glob(os.path.join(d, r)) for d in (here, top)):
            bad.append("%s: %s" % (os.path.relpath(f, top), r))
if bad:
    sys.exit("\n".join(sorted(set(bad))))
PY
