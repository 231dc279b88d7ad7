"""Segment files (docs/FORMAT.md, "Segment files" and "Reading, and what a crash leaves"):
listing them, their headers, and walking their blocks up to a torn tail."""
import os
import re
import stat
import struct

from .block import BLOCK_HEADER, BadBlock, parse_header
from .crc import crc32c
from .errors import GapError, UnreadableError

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


def list_segments(d):
    """The segment numbers in directory d, sorted."""
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
    return out


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


def check_sequence(journal_path, segs):
    """Segments numbered from 1 without a hole, each starting above the one before."""
    prev = None
    for i, s in enumerate(segs):
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
