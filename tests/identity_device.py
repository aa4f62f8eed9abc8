#!/usr/bin/python3
"""A device made of the examples in docs/wire-protocols.md, for the tests.

  identity_device.py text|binary DOCS_DIR LINKPATH

Opens a pseudo-terminal, links its name to LINKPATH, waits until the
recorder has opened it and plays, for 20 s at most:
text: the "Example, a text device with two sensors" block, its identity
lines once and then its data lines again and again (time rising);
binary: the metadata frame of "Example, `device: uno-7`" once, then
two-channel sample frames (counts 1881 and 1880) encoded here, from the
documented layout, framed by tests/cobs.py.
"""
import os
import re
import struct
import sys
import termios
import time

import cobs


def block_after(text, marker):
    """The indented lines after `marker`, up to the next paragraph."""
    lines = []
    for line in text[text.index(marker):].splitlines()[1:]:
        if line.startswith("    "):
            lines.append(line[4:].strip())
        elif lines and line.strip():
            break
    return lines


def main():
    proto, docs, link = sys.argv[1:4]
    text = open(os.path.join(docs, "wire-protocols.md"), encoding="utf-8").read()
    master, slave = os.openpty()
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(os.ttyname(slave), link)
    if proto == "text":
        lines = block_after(text, "Example, a text device with two sensors")
        head = [l for l in lines if l.startswith("#")]
        data = [l for l in lines if not l.startswith("#")]
        start = "\n" + "\n".join(head) + "\n"
    else:
        wire = block_after(text, "Example, `device: uno-7`")
        hexes = " ".join(wire[wire.index("on the wire (19 bytes)") + 1:])
        start = b"\0" + bytes.fromhex(hexes)
    # A device speaks first when it starts; start when the recorder has
    # opened the port (it sets the line to raw mode) so nothing is flushed.
    before = termios.tcgetattr(slave)
    t_end = time.monotonic() + 20
    while termios.tcgetattr(slave) == before and time.monotonic() < t_end:
        time.sleep(0.01)
    time.sleep(0.2)
    k = 0
    os.write(master, start.encode() if isinstance(start, str) else start)
    while time.monotonic() < t_end:
        if proto == "text":
            t, rest = data[k % len(data)].split(",", 1)
            out = ("%d,%s\n" % (int(t) + 20000 * (k // len(data)) * len(data) // 2, rest)).encode()
        else:
            p = struct.pack("<BBIQii", 1, 2, k, 10000 * k, 1881, 1880)
            out = cobs.frame(p)
        try:
            os.write(master, out)
        except OSError:
            break
        k += 1
        time.sleep(0.01)


if __name__ == "__main__":
    main()
