"""wst_segment.py - the bits of docs/FORMAT.md that tests need to craft segment files: the
CRC-32C (Castagnoli) of headers and data, and a segment header rewritten with its checksum."""
import struct


def crc32c(b):
    c = 0xFFFFFFFF
    for x in b:
        c ^= x
        for _ in range(8):
            c = (c >> 1) ^ (0x82F63B78 if c & 1 else 0)
    return c ^ 0xFFFFFFFF


def header_crc(h):
    """set the checksum of a 64-byte header (bytearray), which covers its first 60 bytes"""
    h[60:64] = struct.pack("<I", crc32c(bytes(h[:60])))


def renumbered(path, segno):
    """the bytes of segment file 'path' with its header's segment number set to segno"""
    data = bytearray(open(path, "rb").read())
    data[12:16] = struct.pack("<I", segno)
    header_crc(data)
    return data
