#!/usr/bin/python3
"""Send commands to the cuplab firmware (docs/firmware.md) and print its
metadata lines, for the board tests.

  board_cmd.py [-k] PORT COMMAND...

Opens PORT at 1 000 000 baud, sends each COMMAND as a line and waits (10 s at
most) for its "ok: COMMAND" or "error: ..." answer.  Every "key: value" pair
the device sends meanwhile is printed as "key: value", in either protocol
(text: "# key: value" lines; binary: metadata frames between the sample
frames).
Exit status 1 on an error answer (with -k: go on with the next command) or a
timeout.
"""
import sys
import time

import serial

import cobs

TIMEOUT_S = 10.0


def meta_frame(run):
    """key: value of a COBS run that is a valid metadata frame, else None."""
    p = cobs.payload(run)
    if p is None or len(p) < 3 or p[0] != 2:
        return None
    k = p[1]
    return (p[2:2 + k] + b": " + p[2 + k:]).decode("utf-8", "replace").rstrip(" ")


def printable(b):
    return all(0x20 <= c < 0x7F or c == 0x0D for c in b)


def lines(port, buf):
    """Yield metadata as it arrives, as "key: value": "# key: value" lines
    (text) and metadata frames (binary); buf keeps the unfinished part."""
    while True:
        chunk = port.read(4096)
        buf[0] += chunk
        while True:
            b = buf[0]
            z, n = b.find(b"\0"), b.find(b"\n")
            if n >= 0 and (z < 0 or n < z) and printable(b[:n]):
                line, buf[0] = b[:n].strip(b"\r "), b[n + 1:]
                if line.startswith(b"# "):
                    yield line[2:].decode("ascii", "replace")
            elif z >= 0:
                item, buf[0] = meta_frame(b[:z]), b[z + 1:]
                if item is not None:
                    yield item
            else:
                break
        if not chunk:
            yield None


def main():
    args = sys.argv[1:]
    keep_going = args[:1] == ["-k"]
    if keep_going:
        args = args[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    port = serial.Serial(args[0], 1000000, timeout=0.05)
    buf = [b""]
    it = lines(port, buf)
    for cmd in args[1:]:
        port.write(cmd.encode() + b"\n")
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            line = next(it)
            if line is None:
                if time.monotonic() > deadline:
                    sys.exit(f"board_cmd: no answer to {cmd!r}")
                continue
            print(line, flush=True)
            if line == f"ok: {cmd}":
                break
            if line.startswith("error: "):
                if keep_going:
                    break
                sys.exit(f"board_cmd: {cmd!r}: {line}")
    port.close()


if __name__ == "__main__":
    main()
