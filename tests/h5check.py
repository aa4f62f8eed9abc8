#!/usr/bin/python3
"""Second reader for the integration tests: checks cuplab session files with
h5py against the virtual device's log of every frame it sent.

  h5check.py values FILE LOG [--dev N] [--min-fraction F]
      Every recorded row of device N must equal the logged frame with the same
      device time (samples exactly, sequence number for binary devices).  By
      default the recording must hold every logged frame, in order; with
      --min-fraction it may miss some (faults injected), but at least F of them.
  h5check.py attr FILE NAME EXPECTED         root attribute equals EXPECTED
  h5check.py counter FILE DEV NAME OP VALUE  counter compare (eq, ge, gt, le)
  h5check.py events FILE KIND MIN             at least MIN events of KIND
  h5check.py summary CSV LOG                  cuplab-analyze CSV vs the log
  h5check.py same FILE ORIG [ATTR...]         every object and attribute of ORIG
      but /analysis is in FILE, equal (datasets element by element); root
      attributes named ATTR may differ, and so may the conversion attributes
      --write puts on the raw samples
  h5check.py loss FILE LOG                    prints the seconds of device time
      the device sent (per its log) after the last row the file holds
"""
import csv
import sys

import h5py
import numpy as np


def die(msg):
    print("h5check: " + msg, file=sys.stderr)
    sys.exit(1)


def load_log(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    header, data = rows[0], np.array(rows[1:], dtype=np.float64)
    if data.size == 0:
        die(f"{path}: empty log")
    return header, data


def device(f, dev):
    g = f[f"devices/dev{dev}"]
    n = min(len(g[k]) for k in ("samples", "device_time", "host_time", "sequence"))
    return g, n


def check_values(path, log, dev=0, min_fraction=None):
    header, data = load_log(log)
    seq_log, t_us, vals = data[:, 0], data[:, 1], data[:, 2:]
    with h5py.File(path, "r", swmr=True) as f:
        g, n = device(f, dev)
        samples = g["samples"][:n]
        dtime = g["device_time"][:n]
        seq = g["sequence"][:n]
        host = g["host_time"][:n]
        proto = g.attrs["protocol"]
        units = g["device_time"].attrs["units"]
    if samples.shape[1] != vals.shape[1]:
        die(f"{samples.shape[1]} channels recorded, {vals.shape[1]} sent")
    scale = {"us": 1.0, "ms": 1000.0}.get(units)
    if scale is None:
        die(f"unexpected device_time units {units!r}")
    if np.any(np.diff(host) < 0):
        die("host_time goes backwards")
    key = np.round(dtime * scale).astype(np.int64)
    index = {int(t): i for i, t in enumerate(np.round(t_us).astype(np.int64))}
    matched = 0
    for r in range(n):
        i = index.get(int(key[r]))
        if i is None:
            die(f"row {r}: device time {dtime[r]} {units} was never sent")
        if not np.array_equal(samples[r], vals[i]):
            die(f"row {r}: recorded {samples[r].tolist()} but sent {vals[i].tolist()}")
        if proto == "binary" and seq[r] != seq_log[i]:
            die(f"row {r}: sequence {seq[r]} but sent {int(seq_log[i])}")
        matched += 1
    if min_fraction is None:
        if n != len(vals):
            die(f"{n} rows recorded, {len(vals)} frames sent")
        if not np.array_equal(key, np.round(t_us).astype(np.int64)):
            die("rows out of order")
    elif matched < min_fraction * len(vals):
        die(f"only {matched} of {len(vals)} frames recorded (< {min_fraction:.0%})")
    print(f"h5check: {n} rows of {len(vals)} sent match value by value")


def check_attr(path, name, expected):
    with h5py.File(path, "r", swmr=True) as f:
        v = f.attrs.get(name)
    if isinstance(v, bytes):
        v = v.decode()
    if str(v) != expected:
        die(f"attribute {name} is {v!r}, expected {expected!r}")


def check_counter(path, dev, name, op, value):
    with h5py.File(path, "r", swmr=True) as f:
        v = int(f[f"devices/dev{dev}/counters"][0][name])
    ok = {"eq": v == value, "ge": v >= value, "gt": v > value, "le": v <= value}[op]
    if not ok:
        die(f"counter {name} = {v}, expected {op} {value}")
    print(f"h5check: {name} = {v}")


def check_events(path, kind, minimum):
    with h5py.File(path, "r", swmr=True) as f:
        ev = f["events"][:]
        names = h5py.check_enum_dtype(f["events"].dtype["kind"]) or {}
    codes = {v: k for k, v in names.items()}
    count = sum(1 for e in ev if codes.get(int(e["kind"])) == kind)
    if count < minimum:
        die(f"{count} '{kind}' events, expected at least {minimum}: {ev}")


def print_loss(path, log):
    _, data = load_log(log)
    with h5py.File(path, "r", swmr=True) as f:
        g, n = device(f, 0)
        last = float(g["device_time"][n - 1]) if n else float(data[0, 1])
    print(f"{(data[-1, 1] - last) / 1e6:.3f}")


def check_summary(csv_path, log):
    _, data = load_log(log)
    vals = data[:, 2:]
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    if len(rows) != vals.shape[1]:
        die(f"{len(rows)} cups in the summary, {vals.shape[1]} channels sent")
    for k, row in enumerate(rows):
        col = vals[:, int(row["channel"])]
        want = {"samples": len(col), "min_raw": col.min(), "max_raw": col.max(),
                "mean_raw": col.mean()}
        for name, w in want.items():
            got = float(row[name])
            if abs(got - w) > 1e-9 * max(1.0, abs(w)):
                die(f"cup {row['cup']}: {name} = {got}, expected {w}")
    print(f"h5check: summary of {len(rows)} cups matches the log")


def objects(f):
    out = {"/": f}
    f.visititems(lambda n, o: None if n.split("/")[0] == "analysis" else out.__setitem__(n, o))
    return out


def same_value(x, y):
    """Equal attribute values; NaN equals NaN (an identity item not announced)."""
    x, y = np.asarray(x), np.asarray(y)
    return np.array_equal(x, y, equal_nan=x.dtype.kind == "f" and y.dtype.kind == "f")


# What cuplab-analyze --write adds to /devices/devN/samples (session-format.md).
CONVERSION = {"unit", "conversion", "offset", "channel_conversion", "channel_offset"}


def check_same(path, orig, free_attrs):
    with h5py.File(path, "r", swmr=True) as a, h5py.File(orig, "r", swmr=True) as b:
        oa, ob = objects(a), objects(b)
        if sorted(oa) != sorted(ob):
            die(f"objects differ: {sorted(set(oa) ^ set(ob))}")
        for name, obj in ob.items():
            if isinstance(obj, h5py.Dataset) and not np.array_equal(obj[()], oa[name][()]):
                die(f"{name} differs")
            skip = free_attrs if name == "/" else CONVERSION if name.endswith("/samples") else ()
            want = {k: v for k, v in obj.attrs.items() if k not in skip}
            got = {k: v for k, v in oa[name].attrs.items() if k not in skip}
            if sorted(want) != sorted(got) or any(
                    not same_value(want[k], got[k]) for k in want):
                die(f"attributes of {name} differ")


def main(argv):
    if len(argv) < 2:
        die(__doc__)
    cmd, args = argv[1], argv[2:]
    if cmd == "values":
        dev, frac = 0, None
        rest = args[2:]
        while rest:
            if rest[0] == "--dev":
                dev = int(rest[1])
            elif rest[0] == "--min-fraction":
                frac = float(rest[1])
            else:
                die(f"unknown option {rest[0]}")
            rest = rest[2:]
        check_values(args[0], args[1], dev, frac)
    elif cmd == "attr":
        check_attr(*args)
    elif cmd == "counter":
        check_counter(args[0], int(args[1]), args[2], args[3], int(args[4]))
    elif cmd == "events":
        check_events(args[0], args[1], int(args[2]))
    elif cmd == "summary":
        check_summary(*args)
    elif cmd == "same":
        check_same(args[0], args[1], set(args[2:]))
    elif cmd == "loss":
        print_loss(*args)
    else:
        die(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
