"""A journal opened for reading: its metadata, segments and (checked) index; records in
order with cat's filters and seeks; its summary as `wstape info --json` gives it."""
import os
import time as _time
from itertools import chain
import warnings

from . import index as _index
from .block import BadBlock, decode_records
from .cursor import cursor_key
from .errors import CorruptError, NotJournalError, StaleIndexError, UnreadableError, UsageError, VersionError
from .meta import parse_meta
from .reader import BlockReader
from .record import DIRS, KINDS
from .segment import SEG_HEADER, Segment, check_sequence, list_segments, read_pruned, seg_name
from .timefmt import parse_time

FORMAT_VERSION = 1
_FAR_PAST = -(1 << 63)
_FAR_FUTURE = 1 << 63


def _bytes_arg(v, what):
    if v is None:
        return None
    if isinstance(v, str):
        return v.encode("utf-8", "surrogateescape")
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v)
    raise UsageError("%s is a str or bytes, not %r" % (what, v))


class Journal:
    """A journal directory, read-only. Use wstape.open(path)."""

    def __init__(self, path, index=True):
        self.path = os.fspath(path)
        if not os.path.isdir(self.path):
            if os.path.exists(self.path):
                raise NotJournalError("'%s' is not a journal: not a directory" % self.path)
            raise NotJournalError("'%s' is not a journal: no such directory" % self.path)
        mp = os.path.join(self.path, "META")
        try:
            with open(mp, "rb") as f:
                self.meta = parse_meta(f.read())
        except FileNotFoundError:
            raise NotJournalError("'%s' is not a journal: it has no META file" % self.path) from None
        except OSError as e:
            raise UnreadableError("'%s' cannot be read: %s" % (mp, e.strerror)) from None
        fmt = self.meta.get("format")
        if fmt is None:
            raise NotJournalError("'%s' is not a journal: its META has no format key" % self.path)
        if not fmt.isdigit() or not fmt.isascii():
            raise VersionError("journal '%s': format '%s' is not a version number" % (self.path, fmt))
        if int(fmt) > FORMAT_VERSION:
            raise VersionError("journal '%s' is of format version %s; this reader knows versions up to %d"
                               % (self.path, fmt, FORMAT_VERSION))
        self.feed = self.meta.get("feed") or "raw"
        self.pruned = read_pruned(self.path)
        self._base = self.pruned["first_segment"] - 1 if self.pruned else 0
        self._segs = []
        self._refresh()
        self._index = None
        self.index_status = "off"
        if index:
            v = _index.check(os.path.join(self.path, "index"), self._seg_info())
            self.index_status = _index.VERDICT[v]
            if v == _index.OK:
                try:
                    self._index = _index.Index(os.path.join(self.path, "index"))
                except Exception:
                    self.index_status = "damaged"

    # ---- segments

    def _seg_info(self):
        return {s.number: (s.start, s.size(), s.path) for s in self._segs}

    def _refresh(self):
        """List the segments again (a writer may have started new ones)."""
        nums = list_segments(self.path)
        known = len(self._segs)
        # the segments after those known (a prune meanwhile removes some from the front of
        # the directory, not from this list: the readers' positions stay)
        top = self._segs[-1].number if known else self._base
        new = [n for n in nums if n > top]
        if known and (self._segs[-1].empty or self._segs[-1].bad) and new:
            self._segs[-1].read_header(False)
        for k, n in enumerate(new):
            s = Segment(n, os.path.join(self.path, seg_name(n)))
            s.read_header(k == len(new) - 1)
            self._segs.append(s)
        if len(self._segs) > known:
            check_sequence(self.path, self._segs, self._base, self.pruned["first_recno"] if self.pruned else None)

    def close(self):
        for s in self._segs:
            s.close()
        if self._index is not None:
            self._index.close()
            self._index = None

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def __iter__(self):
        return self.records()

    def __repr__(self):
        return "wstape.Journal(%r, feed=%r, segments=%d, index=%s)" % (self.path, self.feed, len(self._segs),
                                                                        self.index_status)

    # ---- positions

    def _reader_at(self, loc):
        """A BlockReader at an index location (segment, offset, first_recno)."""
        seg, off, first = loc
        if seg <= self._base:
            return BlockReader(self)  # pruned: an interrupted prune left its entries
        if not 1 <= seg - self._base <= len(self._segs):
            raise StaleIndexError("journal '%s': the index points into %s, which is not there"
                                  % (self.path, seg_name(seg)), segment=seg)
        return BlockReader(self, seg - 1 - self._base, off, first)

    def _index_end(self):
        st = self._index.state()
        if st is None:
            return BlockReader(self)
        return self._reader_at((st["segment"], st["end_offset"], st["next_recno"]))

    def _seek(self, from_record, t_from, cur_key, channel):
        """A BlockReader positioned at (or before) the first block that can hold the start."""
        ix = self._index
        if from_record is not None and from_record > 1:
            if ix is not None:
                loc = ix.block_for_recno(from_record)
                return self._reader_at(loc) if loc else BlockReader(self)
            return self._walk_headers(lambda h, rmax: h[3] + h[4] > from_record)
        if t_from is not None and cur_key is None:
            if ix is not None:
                loc = ix.block_for_time(t_from)
                return self._reader_at(loc) if loc else self._index_end()
            return self._walk_headers(lambda h, rmax: rmax >= t_from)
        if cur_key is not None and ix is not None:
            loc = ix.block_for_cursor(channel, cur_key)
            return self._reader_at(loc) if loc else self._index_end()
        return BlockReader(self)

    def _walk_headers(self, stop):
        """A reader at the first block for which stop(header, running max wall) holds, by
        the block headers alone (no index)."""
        r = BlockReader(self)
        rmax = _FAR_PAST
        while True:
            got = r.headers()
            if got is None:
                return r
            h = got[0]
            if h[7] > rmax:
                rmax = h[7]
            if stop(h, rmax):
                return BlockReader(self, got[1] - 1 - self._base, got[2], h[3])

    # ---- records

    def records(self, from_record=None, from_time=None, to_time=None, channel=None, conn=None,
                direction=None, kind=None, from_cursor=None, limit=None, follow=False, timeout=None,
                idle_timeout=None, poll=0.05):
        """The records in record order, as `wstape cat` selects them:

        from_record  start at record N;  from_time / to_time  only records received at or
        after / before T (int ns, datetime, or cat's text: RFC 3339, epoch digits);
        channel (str or bytes), conn, direction ('in'/'out'), kind ('text', 'binary', ...):
        only those; from_cursor  start at the first record whose cursor is at or after it
        (of `channel` when given, else of any channel; the documented cursor order);
        limit  at most N records.

        follow=True: at the end, wait for a writer's new blocks and segments (polling every
        `poll` s) until the caller stops iterating, `timeout` s have passed in all, or no
        record came for `idle_timeout` s.

        A corrupt block raises CorruptError (.segment, .offset) after the records before it;
        a torn tail ends the iteration; an index that lists blocks the segments do not hold
        raises StaleIndexError after the records the segments hold."""
        if direction is not None and direction not in DIRS:
            raise UsageError("direction is 'in' or 'out', not %r" % (direction,))
        if kind is not None and kind not in KINDS:
            raise UsageError("unknown kind %r (one of %s)" % (kind, ", ".join(KINDS)))
        if conn is not None and not isinstance(conn, int):
            raise UsageError("conn is an int, not %r" % (conn,))
        if from_record is not None and (not isinstance(from_record, int) or from_record < 0):
            raise UsageError("from_record is a record number, not %r" % (from_record,))
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise UsageError("limit is a number of records (0 or more), not %r" % (limit,))
        ch = _bytes_arg(channel, "channel")
        cur = _bytes_arg(from_cursor, "from_cursor")
        cur_key = cursor_key(cur) if cur is not None else None
        t_from = parse_time(from_time)
        t_to = parse_time(to_time)
        skip = from_record or 0
        plain = ch is None and conn is None and direction is None and kind is None and t_from is None and t_to is None
        sel = (skip, ch, conn, direction, kind, _FAR_PAST if t_from is None else t_from,
               _FAR_FUTURE if t_to is None else t_to)
        return self._records(sel, plain, cur, cur_key, ch, limit, follow, timeout, idle_timeout, poll)

    def _records(self, sel, plain, cur, cur_key, ch, limit, follow, timeout, idle_timeout, poll):
        skip = sel[0]
        t_from = sel[5] if sel[5] != _FAR_PAST else None
        r = self._seek(skip, t_from, cur_key, ch)
        left = limit if limit is not None else -1
        if left == 0:
            return iter(())
        gate = cur_key is not None
        start = _time.monotonic()
        last_rec = start
        return chain.from_iterable(self._blocks_of_records(r, sel, plain, cur_key, ch, left, gate, follow, timeout,
                                                           idle_timeout, poll, start, last_rec))

    def _blocks_of_records(self, r, sel, plain, cur_key, ch, left, gate, follow, timeout, idle_timeout, poll, start,
                           last_rec):
        """The selected records, a list per block (chained by records(): the records
        themselves pass through no Python frame)."""
        skip = sel[0]
        while True:
            blk = r.next_block()
            if blk is None:
                if not follow:
                    break
                now = _time.monotonic()
                if (timeout is not None and now - start >= timeout) or (
                        idle_timeout is not None and now - last_rec >= idle_timeout):
                    return
                _time.sleep(poll)
                self._refresh()
                continue
            hdr, raw, segno, off = blk
            first, count = hdr[3], hdr[4]
            try:
                if plain and not gate and skip <= first:
                    recs = decode_records(raw, first, count, hdr[6], hdr[8])
                else:
                    recs = decode_records(raw, first, count, hdr[6], hdr[8], sel)
            except BadBlock as e:
                raise CorruptError("journal '%s': segment %s is corrupt at offset %d: %s"
                                   % (self.path, seg_name(segno), off, e), segno, off,
                                   os.path.join(self.path, seg_name(segno))) from None
            if gate:
                for k, rec in enumerate(recs):
                    if rec[7] and (ch is None or rec.channel_bytes == ch) and cursor_key(rec[7]) >= cur_key:
                        recs = recs[k:]
                        gate = False
                        break
                else:
                    continue
            if follow:
                now = _time.monotonic()
                if timeout is not None and now - start >= timeout:
                    return
                if recs:
                    last_rec = now
            if not recs:
                continue
            if left > 0:
                if len(recs) >= left:
                    yield recs[:left]
                    return
                left -= len(recs)
            yield recs
        self._check_stale(r)

    def _check_stale(self, r):
        """At the end of the segments: does the index say the journal goes further?"""
        if self.index_status == "stale":
            raise StaleIndexError("journal '%s': the index lists blocks the segments do not hold: the records "
                                  "above are those the segments hold; run 'wstape verify --reindex'" % self.path)
        if self._index is None:
            return
        st = self._index.state()
        if st is not None and r.expect is not None and r.expect < st["next_recno"]:
            raise StaleIndexError("journal '%s': the index lists records up to %d but the segments end at %d; "
                                  "run 'wstape verify --reindex'" % (self.path, st["next_recno"] - 1, r.expect - 1),
                                  r.expect, st["next_recno"] - 1)

    def __getitem__(self, recno):
        """The record with number recno (KeyError when there is none)."""
        for rec in self.records(from_record=recno, limit=1):
            if rec[0] == recno:
                return rec
        raise KeyError(recno)

    # ---- the summary

    def info(self):
        """The summary, as `wstape info --json` prints it (the same keys and values)."""
        from .info import info

        return info(self)

    def hydromancer_events(self, unique=False, **filters):
        """The events inside Hydromancer data messages and replay chunks, each with its
        dedup key (docs/INSPECT.md); see wstape.hydromancer.events."""
        from .hydromancer import events

        return events(self, unique=unique, **filters)

    def to_dataframe(self, payload="bytes", **filters):
        """The selected records as a pandas DataFrame; see wstape.dataframe.to_dataframe."""
        from .dataframe import to_dataframe

        return to_dataframe(self, payload=payload, **filters)


def warn_index(j):
    if j.index_status in ("damaged", "unreadable"):
        warnings.warn("journal '%s': the index is %s: the segments were read alone; run 'wstape verify --repair'"
                      % (j.path, j.index_status), stacklevel=3)
