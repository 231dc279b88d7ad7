"""Segment files (docs/FORMAT.md, "Segment files" and "Reading, and what a crash leaves"):
listing them, their headers, and walking their blocks up to a torn tail."""
import os
import re
import stat
import struct

from .block import BLOCK_HEADER, BadBlock, parse_header
from .crc import crc32c
from .errors import CorruptError, GapError, UnreadableError

SEG_MAGIC = b"WSTAPESG"
SEG_HEADER = 64
SEG_HDR = struct.Struct("<8sIIQq28sI")
_NAME = re.compile(r"seg-(\d{10})\.wst\Z")


def seg_name(n):
    return "seg-%010d.wst" % n


class Segment:
    """One segment file: number, path, start (first record number, from its header), and
    an open file descriptor."""

    __slots__ = ("number", "path", "start", "created", "fd", "empty", "bad")

    def __init__(self, number, path):
        self.number = number
        self.path = path
        self.fd = None
        self.start = None
        self.created = None
        self.empty = False
        self.bad = None  # what is wrong with its header: raised when a reader reaches it

    def open(self):
        if self.fd is None:
            try:
                st = os.stat(self.path)
            except OSError as e:
                raise UnreadableError("segment '%s' cannot be read: %s" % (self.path, e.strerror)) from None
            if not stat.S_ISREG(st.st_mode):
                raise UnreadableError("segment '%s' is not a regular file" % self.path)
            try:
                self.fd = os.open(self.path, os.O_RDONLY)
            except OSError as e:
                raise UnreadableError("segment '%s' cannot be read: %s" % (self.path, e.strerror)) from None
        return self.fd

    def size(self):
        return os.fstat(self.open()).st_size

    def pread(self, n, off):
        try:
            return os.pread(self.open(), n, off)
        except OSError as e:
            raise UnreadableError("segment '%s' cannot be read at offset %d: %s" % (self.path, off, e.strerror)) from None

    def read_header(self, last):
        """Read and check the header. A last segment of 64 bytes or fewer whose header does
        not check is one whose creation was cut short: empty. Any other header that does
        not check is corruption at offset 0, for a reader that reaches the segment (.bad)."""
        h = self.pread(SEG_HEADER, 0)
        bad = None
        if len(h) < SEG_HEADER:
            bad = "shorter than its 64-byte header"
        else:
            magic, version, number, start, created, zero, hcrc = SEG_HDR.unpack(h)
            if magic != SEG_MAGIC:
                bad = "bad segment magic"
            elif crc32c(h[:60]) != hcrc:
                bad = "bad segment header checksum"
            elif version != 1:
                bad = "format version %d (this reader knows version 1)" % version
            elif number != self.number:
                bad = "its header says segment %d" % number
        self.empty = False
        self.bad = None
        if bad:
            self.start = None
            if last and self.size() <= SEG_HEADER:
                self.empty = True
            else:
                self.bad = bad
            return
        self.start = start
        self.created = created

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


def read_pruned(d):
    """The prune marker d/PRUNED (docs/FORMAT.md, "Pruning") as a dict of its numbers, or
    None when the journal was never pruned."""
    p = os.path.join(d, "PRUNED")
    try:
        with open(p, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return None
    except OSError as e:
        raise UnreadableError("'%s' cannot be read: %s" % (p, e.strerror)) from None
    out = {}
    for line in text.split("\n"):
        if line.startswith("#") or "=" not in line:
            continue
        k, v = line.split("=", 1)
        if k in ("first_segment", "first_recno", "first_wall_ns", "segments", "records", "bytes", "until_wall_ns"):
            neg = k.endswith("wall_ns")
            digits = v[1:] if neg and v.startswith("-") else v
            if not digits.isdigit() or not digits.isascii():
                raise CorruptError("'%s': %s is '%s', not a whole number" % (p, k, v))
            out[k] = int(v)
    if out.get("first_segment", 0) < 2 or out.get("first_recno", 0) < 2:
        raise CorruptError("'%s' does not say where the journal starts (first_segment above 1, first_recno above 1)"
                           % p)
    return out


def first_segment(d):
    """The first segment a reader reads: the prune marker's, or 1 (also when it does not
    parse: opening the journal says so)."""
    try:
        p = read_pruned(d)
    except Exception:
        return 1
    return p["first_segment"] if p else 1


def list_segments(d):
    """The segment numbers in directory d, sorted, from the first one a prune kept (those
    below it that an interrupted prune left are not listed)."""
    try:
        names = os.listdir(d)
    except OSError as e:
        raise UnreadableError("journal '%s' cannot be read: %s" % (d, e.strerror)) from None
    out = []
    for n in names:
        m = _NAME.match(n)
        if m:
            out.append(int(m.group(1)))
    out.sort()
    first = first_segment(d)
    return [n for n in out if n >= first]


def header_walk_end(seg):
    """The record number after the last whole block of a segment, by its block headers
    (None when a header does not check); for naming missing records."""
    size = seg.size()
    off = SEG_HEADER
    nxt = seg.start
    while off + BLOCK_HEADER <= size:
        try:
            h = parse_header(seg.pread(BLOCK_HEADER, off))
        except BadBlock:
            break
        if off + BLOCK_HEADER + h[1] > size:
            break
        nxt = h[3] + h[4]
        off += BLOCK_HEADER + h[1]
    return nxt


def check_sequence(journal_path, segs, base=0, first_recno=None):
    """Segments numbered from base + 1 (1, or the prune marker's first segment) without a
    hole, each starting above the one before; the first at first_recno when given."""
    prev = None
    if base and (not segs or segs[0].number != base + 1):
        raise GapError("journal '%s': records are missing: from %d (it was pruned up to segment %s, which does not exist)"
                       % (journal_path, first_recno, seg_name(base + 1)), first_recno, None, base + 1)
    if base and segs[0].start is not None and segs[0].start != first_recno:
        raise GapError("journal '%s': segment %s starts at record %d, but its PRUNED marker says the journal starts at record %d"
                       % (journal_path, seg_name(base + 1), segs[0].start, first_recno), segment=base + 1)
    for i, s in enumerate(segs):
        i += base
        if s.number != i + 1:
            # segment i+1 .. s.number-1 are missing
            missing = seg_name(i + 1) if s.number == i + 2 else "%s .. %s" % (seg_name(i + 1), seg_name(s.number - 1))
            first = header_walk_end(prev) if prev is not None and prev.start is not None else 1
            after = s.start
            what = "records %s..%s" % (first, after - 1) if first and after and after > first else "records"
            raise GapError("journal '%s': segment %s is missing: %s are missing (from the end of %s to the start of %s)"
                           % (journal_path, missing, what, seg_name(i) if i else "the journal", seg_name(s.number)),
                           first, (after - 1) if after else None, i + 1)
        if prev is not None and s.start is not None and prev.start is not None and s.start <= prev.start:
            raise GapError("journal '%s': segment %s is out of sequence: it starts at record %d, not after %s's %d"
                           % (journal_path, seg_name(s.number), s.start, seg_name(prev.number), prev.start),
                           segment=s.number)
        prev = s


def zeros_from(seg, lo, size):
    """The first offset >= lo from which the segment is all zeros up to size."""
    end = size
    while end > lo:
        n = min(1 << 16, end - lo)
        chunk = seg.pread(n, end - n)
        t = chunk.rstrip(b"\0")
        if t:
            return end - n + len(t)
        end -= n
    return lo


def torn_by_zeros(seg, size, lo, hi):
    """True when the bytes from lo, or from a 512-byte boundary in (lo, hi), to the end of
    the file are all zero (the sectors of a write that never reached the disk)."""
    z = zeros_from(seg, lo, size)
    if z <= lo:
        return True
    m = ((hi - 1) // 512) * 512
    return lo < m and m >= z
