#!/usr/bin/python3
"""Baseline recorder written the way a researcher would: pyserial reads the
port, frames are COBS-decoded and CRC-checked in Python, rows are appended to
an h5py dataset and the file is flushed every second.  Same wire protocol
and same file contents (samples, device time, host time, sequence) as
cuplab-acquire, so the two can be compared on the same stream.

usage: baseline_acquire.py PORT OUT.h5 SECONDS
Prints "frames=N samples=N lost=N".
"""
import struct
import sys
import time
import zlib

import h5py
import numpy as np
import serial


def cobs_decode(data):
    out = bytearray()
    i = 0
    while i < len(data):
        code = data[i]
        if code == 0:
            raise ValueError("zero in COBS data")
        out += data[i + 1:i + code]
        i += code
        if code < 0xFF and i < len(data):
            out.append(0)
    return bytes(out)


def main():
    port, path, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    ser = serial.Serial(port, 115200, timeout=0.05)
    f = h5py.File(path, "w", libver="latest")
    ds = tm = ht = sq = None
    rows = []
    buf = bytearray()
    frames = lost = 0
    last_seq = None
    t0 = time.monotonic()
    next_flush = t0 + 1.0
    started = False

    def write(rows):
        nonlocal ds, tm, ht, sq
        if not rows:
            return
        n = len(rows[0][3])
        if ds is None:
            ds = f.create_dataset("samples", (0, n), maxshape=(None, n), dtype="f8", chunks=(1024, n))
            tm = f.create_dataset("device_time", (0,), maxshape=(None,), dtype="f8", chunks=(1024,))
            ht = f.create_dataset("host_time", (0,), maxshape=(None,), dtype="f8", chunks=(1024,))
            sq = f.create_dataset("sequence", (0,), maxshape=(None,), dtype="u4", chunks=(1024,))
            f.swmr_mode = True
        k = len(ds)
        for d in (ds, tm, ht, sq):
            d.resize(k + len(rows), axis=0)
        ds[k:] = np.array([r[3] for r in rows], dtype="f8")
        tm[k:] = [r[1] for r in rows]
        ht[k:] = [r[2] for r in rows]
        sq[k:] = [r[0] for r in rows]

    while time.monotonic() - t0 < seconds:
        chunk = ser.read(ser.in_waiting or 1)
        now = time.monotonic() - t0
        buf += chunk
        while True:
            end = buf.find(b"\0")
            if end < 0:
                break
            raw, buf = bytes(buf[:end]), buf[end + 1:]
            if not started:  # resynchronise on the first delimiter
                started = True
                if not raw:
                    continue
            if not raw:
                continue
            try:
                p = cobs_decode(raw)
            except ValueError:
                continue
            if len(p) < 18 or p[0] != 1:
                continue
            n = p[1]
            if len(p) != 14 + 4 * n + 4:
                continue
            if zlib.crc32(p[:-4]) != struct.unpack_from("<I", p, len(p) - 4)[0]:
                continue
            seq, t_us = struct.unpack_from("<IQ", p, 2)
            vals = struct.unpack_from(f"<{n}i", p, 14)
            if last_seq is not None and seq != (last_seq + 1) & 0xFFFFFFFF:
                lost += (seq - last_seq - 1) & 0xFFFFFFFF
            last_seq = seq
            rows.append((seq, float(t_us), now, vals))
            frames += 1
        if now >= next_flush - t0:
            write(rows)
            rows = []
            f.flush()
            next_flush += 1.0
    write(rows)
    f.close()
    n = len(vals) if frames else 0
    print(f"frames={frames} samples={frames * n} lost={lost}")


if __name__ == "__main__":
    main()
