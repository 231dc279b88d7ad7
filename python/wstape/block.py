"""Blocks (docs/FORMAT.md, "Blocks"): the 64-byte header, its checks, the data (zstd or
stored) and the records inside."""
import struct

from .crc import crc32c
from .record import DIRS, KINDS, Record

try:
    import zstandard as _zstd
except ImportError as e:  # pragma: no cover - depends on the machine
    raise ImportError(
        "wstape needs python3-zstandard to read journals: apt-get install python3-zstandard"
    ) from e

BLOCK_HEADER = 64
BLOCK_MAGIC = 0x42545357
MAX_RAW = (1 << 30) + (1 << 16)
# magic, flags, zero, comp_len, raw_len, first_recno, count, data crc, first_wall,
# max_wall, first_mono, zero, header crc
HDR = struct.Struct("<IHHIIQIIqqqII")

_DCTX = _zstd.ZstdDecompressor()
_new = tuple.__new__

# the kind-and-direction byte: its dir and kind names, None when bits are wrong
_DIR = tuple(DIRS[b >> 4] if (b & 0xE0) == 0 and (b & 15) < len(KINDS) else None for b in range(256))
_KIND = tuple(KINDS[b & 15] if (b & 0xE0) == 0 and (b & 15) < len(KINDS) else None for b in range(256))


class BadBlock(Exception):
    """What is wrong with a block (turned into CorruptError by the caller)."""


def parse_header(h):
    """The fields of a 64-byte block header, or raise BadBlock."""
    (magic, flags, z0, comp_len, raw_len, first_recno, count, dcrc, first_wall, max_wall,
     first_mono, z1, hcrc) = HDR.unpack(h)
    if magic != BLOCK_MAGIC:
        raise BadBlock("bad block magic")
    if crc32c(h[:60]) != hcrc:
        raise BadBlock("bad block header checksum")
    if flags & ~1 or z0 or z1:
        raise BadBlock("bad block header (flags or reserved bytes)")
    if not count:
        raise BadBlock("bad block header (count 0)")
    return (flags, comp_len, raw_len, first_recno, count, dcrc, first_wall, max_wall, first_mono)


def block_data(flags, comp_len, raw_len, dcrc, data):
    """The raw bytes of a block whose header checked, from its comp_len data bytes."""
    if crc32c(data) != dcrc:
        raise BadBlock("bad block data checksum")
    if not raw_len or not comp_len or raw_len > MAX_RAW:
        raise BadBlock("bad block length (raw_len %d, comp_len %d)" % (raw_len, comp_len))
    if not flags & 1:
        if comp_len != raw_len:
            raise BadBlock("stored block with comp_len %d != raw_len %d" % (comp_len, raw_len))
        return data
    if raw_len > comp_len * 32768:
        raise BadBlock("raw_len %d above what %d zstd bytes can hold" % (raw_len, comp_len))
    try:
        size = _zstd.frame_content_size(data)
    except _zstd.ZstdError as e:
        raise BadBlock("bad zstd frame header: %s" % e) from None
    if size != raw_len:
        raise BadBlock("zstd frame content size %d, block raw_len %d" % (size, raw_len))
    try:
        raw = _DCTX.decompress(data, max_output_size=raw_len, allow_extra_data=False)
    except _zstd.ZstdError as e:
        raise BadBlock("bad zstd data: %s" % e) from None
    if len(raw) != raw_len:
        raise BadBlock("zstd data gave %d bytes, raw_len %d" % (len(raw), raw_len))
    return raw


_I64 = 1 << 63
_U64 = (1 << 64) - 1


def decode_records(data, recno, count, wall, mono, sel=None):
    """The records of a block's raw data, as a list of Record. sel (optional): a tuple
    (skip_below_recno, channel bytes or None, conn or None, dir or None, kind or None,
    from_ns, to_ns): only the records selected. Raises BadBlock.

    Each varint (FORMAT.md, "Records inside a block") is decoded in line, its common short
    forms first, rather than by a helper: a Python call per field was most of the time per
    record, and this loop is what makes the package 2x `cat | json.loads` (bench/60_python)."""
    out = []
    append = out.append
    end = len(data)
    p = 0
    chans = {b"": ""}
    if sel is not None:
        skip, want_ch, want_conn, want_dir, want_kind, t_from, t_to = sel
    last = recno + count
    I64, U64, DIRT, KINDT, new, Rec = _I64, _U64, _DIR, _KIND, _new, Record
    # deltas of at most 3 varint bytes (< 2^20) cannot leave i64 from within +-2^62
    NEAR = 1 << 62
    careful = not (-NEAR < wall < NEAR and -NEAR < mono < NEAR)
    try:
        for recno in range(recno, last):
            kd = data[p]
            b = data[p + 1]
            p += 2
            if b < 128:
                u = b
            else:
                b2 = data[p]
                if b2 < 128:
                    u = (b & 127) | (b2 << 7)
                    p += 1
                else:
                    b3 = data[p + 1]
                    if b3 < 128:
                        u = (b & 127) | ((b2 & 127) << 7) | (b3 << 14)
                        p += 2
                    else:
                        u = b & 127
                        s = 7
                        while True:
                            b = data[p]
                            p += 1
                            u |= (b & 127) << s
                            if b < 128:
                                break
                            s += 7
                            if s > 63:
                                raise BadBlock("varint longer than 10 bytes")
                        if u > U64:
                            raise BadBlock("varint above 64 bits")
                        careful = True
            wall += (u >> 1) ^ -(u & 1)
            b = data[p]
            p += 1
            if b < 128:
                u = b
            else:
                b2 = data[p]
                if b2 < 128:
                    u = (b & 127) | (b2 << 7)
                    p += 1
                else:
                    b3 = data[p + 1]
                    if b3 < 128:
                        u = (b & 127) | ((b2 & 127) << 7) | (b3 << 14)
                        p += 2
                    else:
                        u = b & 127
                        s = 7
                        while True:
                            b = data[p]
                            p += 1
                            u |= (b & 127) << s
                            if b < 128:
                                break
                            s += 7
                            if s > 63:
                                raise BadBlock("varint longer than 10 bytes")
                        if u > U64:
                            raise BadBlock("varint above 64 bits")
                        careful = True
            mono += (u >> 1) ^ -(u & 1)
            if careful:
                # a delta of a long varint, or a time near the ends of i64: added modulo 2^64
                if not -I64 <= wall < I64:
                    wall = ((wall + I64) & U64) - I64
                if not -I64 <= mono < I64:
                    mono = ((mono + I64) & U64) - I64
                careful = not (-NEAR < wall < NEAR and -NEAR < mono < NEAR)
            # connection id
            b = data[p]
            p += 1
            if b < 128:
                conn = b
            else:
                conn = b & 127
                s = 7
                while True:
                    b = data[p]
                    p += 1
                    conn |= (b & 127) << s
                    if b < 128:
                        break
                    s += 7
                    if s > 63:
                        raise BadBlock("varint longer than 10 bytes")
                if conn > 0xFFFFFFFF:
                    raise BadBlock("connection id above 2^32-1")
            # channel
            n = data[p]
            p += 1
            if n >= 128:
                n &= 127
                s = 7
                while True:
                    b = data[p]
                    p += 1
                    n |= (b & 127) << s
                    if b < 128:
                        break
                    s += 7
                    if s > 63:
                        raise BadBlock("varint longer than 10 bytes")
                if n > 255:
                    raise BadBlock("channel length %d above 255" % n)
            if n:
                ch = data[p:p + n]
                p += n
            else:
                ch = b""
            # cursor
            n = data[p]
            p += 1
            if n >= 128:
                n &= 127
                s = 7
                while True:
                    b = data[p]
                    p += 1
                    n |= (b & 127) << s
                    if b < 128:
                        break
                    s += 7
                    if s > 63:
                        raise BadBlock("varint longer than 10 bytes")
                if n > 1024:
                    raise BadBlock("cursor length %d above 1024" % n)
            if n:
                cur = data[p:p + n]
                p += n
            else:
                cur = b""
            # payload
            n = data[p]
            p += 1
            if n >= 128:
                b = data[p]
                if b < 128:
                    n = (n & 127) | (b << 7)
                    p += 1
                else:
                    n &= 127
                    s = 7
                    while True:
                        b = data[p]
                        p += 1
                        n |= (b & 127) << s
                        if b < 128:
                            break
                        s += 7
                        if s > 63:
                            raise BadBlock("varint longer than 10 bytes")
            pl = data[p:p + n]
            p += n
            if p > end:
                raise BadBlock("record %d runs past the block's data" % recno)
            d = DIRT[kd]
            if d is None:
                raise BadBlock("record %d: bad kind byte 0x%02x" % (recno, kd))
            if sel is not None:
                if (recno < skip or wall < t_from or wall >= t_to or (want_ch is not None and ch != want_ch)
                        or (want_conn is not None and conn != want_conn) or (want_dir is not None and d != want_dir)
                        or (want_kind is not None and KINDT[kd] != want_kind)):
                    continue
            c = chans.get(ch)
            if c is None:
                c = chans[ch] = ch.decode("utf-8", "surrogateescape")
            append(new(Rec, (recno, wall, mono, conn, d, KINDT[kd], c, cur, pl)))
    except IndexError:
        raise BadBlock("record %d runs past the block's data" % recno) from None
    if p != end:
        raise BadBlock("the block's %d records end at byte %d of %d" % (count, p, end))
    return out
