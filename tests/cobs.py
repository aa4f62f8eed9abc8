"""COBS framing of the binary protocol (docs/wire-protocols.md), for the
test devices and readers: a payload, its CRC-32 (little-endian), COBS, 0x00.
"""
import struct
import zlib


def encode(data):
    """COBS encoding of `data` with the closing 0x00."""
    out, block = bytearray(), bytearray()
    for b in data + b"\0":
        if b == 0:
            out += bytes([len(block) + 1]) + block
            block = bytearray()
        else:
            block.append(b)
            if len(block) == 254:
                out += b"\xff" + block
                block = bytearray()
    return bytes(out) + b"\0"


def decode(run):
    """The bytes a COBS run (without its 0x00) stands for, None if invalid."""
    out, i = bytearray(), 0
    while i < len(run):
        code = run[i]
        if code == 0 or i + code > len(run):
            return None
        out += run[i + 1:i + code]
        i += code
        if code < 0xFF and i < len(run):
            out.append(0)
    return bytes(out)


def frame(payload):
    """`payload` as it goes on the wire: CRC-32 appended, COBS, 0x00."""
    return encode(payload + struct.pack("<I", zlib.crc32(payload)))


def payload(run):
    """The payload of a COBS run whose CRC-32 matches, else None."""
    p = decode(run)
    if p is None or len(p) < 5 or zlib.crc32(p[:-4]) != struct.unpack_from("<I", p, len(p) - 4)[0]:
        return None
    return p[:-4]
