#!/usr/bin/env bash
# make-segment-crashes.sh - write fuzz/crashes/segment/: the segments the damage campaign
# crafted against the segment reader (each one segment file, the segment harness's input),
# so that `make test` (t60) replays them through the harness for good:
#   raw4g.wst   a zstd block whose header claims raw_len 4 GiB - 1 in a file of 2 KiB (the
#               reader allocated the 4 GiB before it looked at the data)
#   raw1g.wst   raw_len 1 GiB in a file of 298 bytes (13 s to decompress into nothing)
#   raw0.wst    a stored block with comp_len = raw_len = 0 (memcpy from a NULL buffer)
# The bytes are the ones test_journal__bounded_raw_len builds: one segment (number 1, from
# record 1), one block of one record, every checksum right.
# Usage: bash fuzz/make-segment-crashes.sh
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p fuzz/crashes/segment
/usr/bin/python3 - fuzz/crashes/segment <<'PY'
import struct, subprocess, sys

sys.path.insert(0, "tests/peers")
from wst_segment import crc32c

WALL = 1795341600000000000

def segment(flags, comp_len, raw_len, data):
    sh = bytearray(64)
    sh[0:8] = b"WSTAPESG"
    struct.pack_into("<IIQq", sh, 8, 1, 1, 1, WALL)
    struct.pack_into("<I", sh, 60, crc32c(bytes(sh[:60])))
    bh = bytearray(64)
    struct.pack_into("<IHHIIQII", bh, 0, 0x42545357, flags, 0, comp_len, raw_len, 1, 1, crc32c(data))
    struct.pack_into("<qqq", bh, 32, WALL, WALL, 0)
    struct.pack_into("<I", bh, 60, crc32c(bytes(bh[:60])))
    return bytes(sh) + bytes(bh) + data

# a zstd frame of 100 'x' (level 1, content size in its header), as ZSTD_compress makes it
frame = subprocess.run(["zstd", "-1", "-q", "-c", "--no-check"], input=b"x" * 100,
                       stdout=subprocess.PIPE, check=True).stdout
d = sys.argv[1]
pad4g = frame + bytes(2048 - 128 - len(frame))
pad1g = frame + bytes(298 - 128 - len(frame))
open(d + "/raw4g.wst", "wb").write(segment(1, len(pad4g), 0xFFFFFFFF, pad4g))
open(d + "/raw1g.wst", "wb").write(segment(1, len(pad1g), 1 << 30, pad1g))
open(d + "/raw0.wst", "wb").write(segment(0, 0, 0, b""))
PY
ls -l fuzz/crashes/segment
