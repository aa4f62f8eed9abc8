#!/usr/bin/python3
"""Latency from a sample's arrival to its visibility for a live reader.

This script is both the device and the reader, so one clock times both ends:
it opens a pseudo-terminal, sends binary frames (the cuplab binary protocol)
at RATE Hz, and in a second thread follows the session file cuplab-acquire
writes, in SWMR mode, noting when each frame becomes visible.

usage: swmr_latency.py ACQUIRE OUT.h5 SECONDS [RATE]
Prints "latency_s median=... p99=... max=... frames=...".
"""
import os
import struct
import subprocess
import sys
import threading
import time
import tty
import zlib

import h5py
import numpy as np


def cobs_encode(data):
    out, block = bytearray(), bytearray()
    for b in data:
        if b == 0:
            out.append(len(block) + 1)
            out += block
            block = bytearray()
        else:
            block.append(b)
            if len(block) == 254:
                out.append(255)
                out += block
                block = bytearray()
    out.append(len(block) + 1)
    out += block
    return bytes(out)


def frame(seq, t_us, values):
    p = struct.pack("<BBIQ", 1, len(values), seq, t_us) + struct.pack(f"<{len(values)}i", *values)
    p += struct.pack("<I", zlib.crc32(p))
    return cobs_encode(p) + b"\0"


def main():
    acquire, path, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    rate = float(sys.argv[4]) if len(sys.argv) > 4 else 1000.0
    master, slave = os.openpty()
    tty.setraw(master)
    tty.setraw(slave)
    name = os.ttyname(slave)
    proc = subprocess.Popen([acquire, "-q", "-o", path, "-P", "binary", name],
                            stdin=subprocess.DEVNULL)
    sent = {}
    total = int(seconds * rate)
    start = time.monotonic()
    os.write(master, b"\0")
    seen = {}
    done = threading.Event()

    def reader():
        while not os.path.exists(path) and not done.is_set():
            time.sleep(0.01)
        time.sleep(0.2)
        f = h5py.File(path, "r", libver="latest", swmr=True)
        ds = f["devices/dev0/sequence"]
        n = 0
        while not done.is_set():
            ds.refresh()
            m = len(ds)
            if m > n:
                now = time.monotonic()
                for s in ds[n:m]:
                    seen[int(s)] = now
                n = m
            time.sleep(0.01)
        f.close()

    th = threading.Thread(target=reader)
    th.start()
    for seq in range(total):
        due = start + seq / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        os.write(master, frame(seq, int(seq * 1e6 / rate), [2000 + seq % 100, 3000]))
        sent[seq] = time.monotonic()
    time.sleep(2.5)
    done.set()
    th.join()
    proc.terminate()
    proc.wait()
    os.close(master)
    lat = np.array([seen[s] - sent[s] for s in seen if s in sent])
    if len(lat) == 0:
        print("latency_s none visible")
        sys.exit(1)
    # the first frames wait for the file to be created: measure steady state
    lat = lat[len(lat) // 10:]
    print(f"latency_s median={np.median(lat):.3f} p99={np.percentile(lat, 99):.3f} "
          f"max={lat.max():.3f} frames={len(seen)}/{total}")


if __name__ == "__main__":
    main()
