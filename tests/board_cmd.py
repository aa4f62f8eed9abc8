#!/usr/bin/python3
"""Send commands to the cuplab firmware (docs/firmware.md) and print its
metadata lines, for the board tests.

  board_cmd.py [-k] PORT COMMAND...

Opens PORT at 1 000 000 baud, sends each COMMAND as a line and waits (10 s at
most) for its "# ok: COMMAND" or "# error: ..." answer.  Every "# key: value"
line the device sends meanwhile is printed as "key: value", in either
protocol (in binary mode they arrive between frames, each ended by 0x00).
Exit status 1 on an error answer (with -k: go on with the next command) or a
timeout.
"""
import re
import sys
import time

import serial

TIMEOUT_S = 10.0


def lines(port, buf):
    """Yield metadata lines as they arrive; buf keeps the unfinished part."""
    while True:
        chunk = port.read(4096)
        buf[0] += chunk
        parts = re.split(b"[\n\0]", buf[0])
        buf[0] = parts.pop()
        for p in parts:
            p = p.strip(b"\r ")
            if p.startswith(b"# "):
                yield p[2:].decode("ascii", "replace")
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
