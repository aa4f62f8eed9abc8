#!/bin/sh
# The documentation cites only files the repository has: every *.md named in
# README.md, docs/*.md, docs/man/*.1 and datasets/README.md (as a link or in
# the text) and every docs/... path exists, relative to the citing file, the
# top or docs/.
. "$(dirname "$0")/../lib.sh"

"$PY" - "$TOP" <<'PY' || fail "documentation cites missing files"
import glob, os, re, sys
top = sys.argv[1]
files = [os.path.join(top, "README.md"), os.path.join(top, "datasets", "README.md")]
files += glob.glob(os.path.join(top, "docs", "*.md")) + glob.glob(os.path.join(top, "docs", "man", "*.1"))
bad = []
for f in files:
    text = open(f, encoding="utf-8").read().replace("\\%", "").replace("\\-", "-")
    refs = set(re.findall(r"[A-Za-z0-9_./-]*[A-Za-z0-9_-]\.md\b", text))
    refs |= set(re.findall(r"\bdocs/[A-Za-z0-9_./-]*[A-Za-z0-9_]", text))
    for r in refs:
        here = os.path.dirname(f)
        if not any(os.path.exists(os.path.join(d, r)) for d in (here, top, os.path.join(top, "docs"))):
            bad.append("%s: %s" % (os.path.relpath(f, top), r))
if bad:
    sys.exit("\n".join(sorted(bad)))
PY
