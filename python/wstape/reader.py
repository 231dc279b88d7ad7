"""Walking a journal's blocks in order, from a position, up to the end or a torn tail
(docs/FORMAT.md, "Reading, and what a crash leaves")."""
from .block import BLOCK_HEADER, BadBlock, block_data, parse_header
from .errors import CorruptError, GapError
from .segment import SEG_HEADER, seg_name, torn_by_zeros


class BlockReader:
    """Reads the blocks of journal j from segment index i, offset off; expect is the record
    number the next block must start with. torn: bytes of a torn tail where it stopped."""

    def __init__(self, j, i=0, off=SEG_HEADER, expect=None):
        self.j = j
        self.i = i
        self.off = off
        self.expect = expect
        self.torn = 0

    def _corrupt(self, seg, off, what):
        return CorruptError("journal '%s': segment %s is corrupt at offset %d: %s"
                            % (self.j.path, seg_name(seg.number), off, what), seg.number, off, seg.path)

    def _enter(self, i):
        """Step into segment i: its start must be the record after the last one read."""
        seg = self.j._segs[i]
        self.i = i
        self.off = SEG_HEADER
        if seg.bad:
            raise self._corrupt(seg, 0, "bad segment header: " + seg.bad)
        if seg.empty:
            return
        start = seg.start or 1
        if self.expect is None:
            self.expect = start
        elif start > self.expect:
            raise GapError("journal '%s': records %d..%d are missing (before %s, which starts at record %d)"
                           % (self.j.path, self.expect, start - 1, seg_name(seg.number), start),
                           self.expect, start - 1, seg.number)
        elif start < self.expect:
            raise GapError("journal '%s': segment %s is out of sequence: it starts at record %d, after record %d"
                           % (self.j.path, seg_name(seg.number), start, self.expect - 1), segment=seg.number)

    def headers(self):
        """The next block's (header fields, segment, offset) without reading its data, and
        step past it; None at the end. For seeks without an index."""
        return self._next(False)

    def next_block(self):
        """(header fields, raw data, segment number, offset) of the next block; None at the
        end of the journal as it stands (clean, or before a torn tail: self.torn)."""
        return self._next(True)

    def _next(self, want_data):
        j = self.j
        while True:
            segs = j._segs
            if not segs:
                return None
            if self.i >= len(segs):
                return None
            seg = segs[self.i]
            last = self.i == len(segs) - 1
            if (self.expect is None and not seg.empty) or seg.bad:
                self._enter(self.i)
            if seg.empty:
                if last:
                    self.torn = seg.size()
                    return None
                raise self._corrupt(seg, 0, "a segment with no valid header before later segments")
            size = seg.size()
            off = self.off
            self.torn = 0
            if off >= size:
                if last:
                    return None
                self._enter(self.i + 1)
                continue
            if off + BLOCK_HEADER > size:
                if last:
                    self.torn = size - off
                    return None
                raise self._corrupt(seg, off, "the segment ends inside a block header")
            h = seg.pread(BLOCK_HEADER, off)
            try:
                hdr = parse_header(h)
            except BadBlock as e:
                if last and torn_by_zeros(seg, size, off, off + BLOCK_HEADER):
                    self.torn = size - off
                    return None
                raise self._corrupt(seg, off, str(e)) from None
            flags, comp_len, raw_len, first, count, dcrc = hdr[:6]
            dend = off + BLOCK_HEADER + comp_len
            if dend > size:
                if last:
                    self.torn = size - off
                    return None
                raise self._corrupt(seg, off, "the segment ends inside the block's data (%d bytes past its end)"
                                    % (dend - size))
            if first != self.expect:
                raise self._corrupt(seg, off, "the block starts at record %d, expected %d" % (first, self.expect))
            if not want_data:
                self.off = dend
                self.expect = first + count
                return hdr, seg.number, off
            data = seg.pread(comp_len, off + BLOCK_HEADER)
            try:
                raw = block_data(flags, comp_len, raw_len, dcrc, data)
            except BadBlock as e:
                if last and "data checksum" in str(e) and torn_by_zeros(seg, size, off + BLOCK_HEADER, dend):
                    self.torn = size - off
                    return None
                raise self._corrupt(seg, off, str(e)) from None
            self.off = dend
            self.expect = first + count
            return hdr, raw, seg.number, off
