#!/bin/sh
# The module map of HACKING.md holds, read off the #include lines of every
# C file of the repository:
#   lib/                      includes lib/ only;
#   P/ (acquire, analysis,    includes its own folder (by path under P/) and
#   calibration, sim)         lib/, never another program;
#   firmware/ (the AVR code)  includes firmware/ only;
#   firmware/board/           its own folder and lib/;
#   tests/unit/P/             P/, lib/ and tests/unit/; tests/unit/lib/ no program;
#   bench/, fuzz/             lib/ and the engines they exercise.
# Every quoted include must resolve; it fails naming each include that breaks
# a rule.
. "$(dirname "$0")/../lib.sh"

"$PY" - "$TOP" <<'PY' || fail "an include breaks the module map"
import os, re, subprocess, sys
top = sys.argv[1]
os.chdir(top)
progs = ["acquire", "analysis", "calibration", "sim"]
files = subprocess.run(["git", "ls-files", "*.c", "*.h"], capture_output=True, text=True,
                       check=True).stdout.split()
def allowed(f):
    parts = f.split("/")
    if parts[0] == "lib":
        return ["lib"]
    if parts[0] in progs:
        return [parts[0], "lib"]
    if parts[0] == "firmware":
        return ["firmware/board", "lib"] if parts[1] == "board" else ["firmware"]
    if parts[:2] == ["tests", "unit"]:
        d = parts[2]
        return ["tests/unit"] + ([] if d == "lib" else [d]) + ["lib"]
    if parts[0] == "tests":
        return [os.path.dirname(f), "lib"]
    if parts[0] in ("bench", "fuzz"):
        return [parts[0], "lib"] + progs
    return [os.path.dirname(f)]
bad = []
for f in files:
    here = os.path.dirname(f)
    ok_dirs = allowed(f)
    for n, line in enumerate(open(f, encoding="utf-8", errors="replace"), 1):
        m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
        if not m:
            continue
        inc = m.group(1)
        cands = [os.path.normpath(os.path.join(here, inc))] + \
                [os.path.normpath(os.path.join(d, inc)) for d in ok_dirs]
        hit = next((c for c in cands if os.path.exists(c)), None)
        if hit is None:
            bad.append("%s:%d: \"%s\" is not in %s" % (f, n, inc, ", ".join(ok_dirs)))
        elif not any(hit == d or hit.startswith(d + "/") for d in ok_dirs + [here]) \
                or (f.split("/")[0] in progs and hit.split("/")[0] in progs
                    and hit.split("/")[0] != f.split("/")[0]):
            bad.append("%s:%d: \"%s\" resolves outside %s" % (f, n, inc, ", ".join(ok_dirs)))
if bad:
    sys.exit("\n".join(bad))
print("%d files follow the module map" % len(files))
PY
