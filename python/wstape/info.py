"""The summary of a journal, as `wstape info --json` gives it: from the index plus the
blocks past its end, or from the segments alone."""
import os
import warnings

from .block import BadBlock, decode_records
from .errors import CorruptError, StaleIndexWarning
from .index import disk_bytes as index_disk_bytes
from .reader import BlockReader
from .record import text_or_b64
from .segment import seg_name
from .timefmt import format_time


def info(j):
    j._refresh()
    ix = j._index
    st = ix.state_from(j.pruned["first_recno"] if j.pruned else 0) if ix is not None else None
    records = payload = blocks = 0
    first_recno = first_wall = None
    max_wall = None
    conns = set()
    chans = {}
    if st is not None:
        records, payload, blocks = st["records"], st["payload_bytes"], st["blocks"]
        first_recno = st["next_recno"] - st["records"]
        first_wall, max_wall = st["first_wall"], st["max_wall"]
        r = j._index_end()
    else:
        r = BlockReader(j)
    if ix is not None:
        conns.update(ix.conns())
        for name, recs, first, last, fc, lc in ix.chans():
            chans[name] = [recs, first, last, fc, lc]
    while True:
        blk = r.next_block()
        if blk is None:
            break
        hdr, raw, segno, off = blk
        try:
            recs = decode_records(raw, hdr[3], hdr[4], hdr[6], hdr[8])
        except BadBlock as e:
            raise CorruptError("journal '%s': segment %s is corrupt at offset %d: %s"
                               % (j.path, seg_name(segno), off, e), segno, off) from None
        blocks += 1
        records += len(recs)
        if first_recno is None:
            first_recno = recs[0][0]
            first_wall = recs[0][1]
        if max_wall is None or hdr[7] > max_wall:
            max_wall = hdr[7]
        for rec in recs:
            payload += len(rec[8])
            conns.add(rec[3])
            if rec[6]:
                name = rec.channel_bytes
                c = chans.get(name)
                cur = rec[7]
                if c is None:
                    chans[name] = [1, rec[0], rec[0], cur, cur]
                else:
                    c[0] += 1
                    c[2] = rec[0]
                    if cur:
                        if not c[3]:
                            c[3] = cur
                        c[4] = cur
    seg_bytes = 0
    for s in j._segs:
        try:
            seg_bytes += s.size()
        except Exception:
            pass
    # the index's space counts when it was opened: used, or set aside as stale (it is whole)
    disk = seg_bytes
    if ix is not None:
        disk += ix.disk_bytes()
    elif j.index_status == "stale":
        disk += index_disk_bytes(os.path.join(j.path, "index"))
    if j.index_status == "stale":
        warnings.warn("journal '%s': the index does not match the segments: the figures come from the segments; "
                      "run 'wstape verify --reindex'" % j.path, StaleIndexWarning, stacklevel=3)
    span = (max_wall - first_wall) / 1e9 if records else 0.0
    out = {
        "journal": j.path,
        "feed": j.meta.get("feed"),
        "records": records,
        "first_recno": first_recno if records else 0,
        "last_recno": first_recno + records - 1 if records else 0,
        "connections": len(conns),
        "channels": len(chans),
        "first_time": format_time(first_wall) if records else "",
        "last_time": format_time(max_wall) if records else "",
        "span_s": round(span, 3),
        "payload_bytes": payload,
        "disk_bytes": disk,
        "segment_bytes": seg_bytes,
        "segments": len(j._segs),
        "blocks": blocks,
        "ratio": round(payload / seg_bytes, 3) if seg_bytes else 0,
        "torn_bytes": r.torn,
        "pruned": None,
        "channel_list": [],
    }
    if j.pruned:
        p = j.pruned
        out["pruned"] = {"segments": p.get("segments", 0), "records": p.get("records", 0),
                         "bytes": p.get("bytes", 0), "until_time": format_time(p.get("until_wall_ns", 0)),
                         "first_segment": p["first_segment"]}
    for name in sorted(chans):
        recs, first, last, fc, lc = chans[name]
        c = {}
        text_or_b64(c, "name", name, null=True)
        c.update(records=recs, first_recno=first, last_recno=last)
        text_or_b64(c, "first_cursor", fc, null=True)
        text_or_b64(c, "last_cursor", lc, null=True)
        out["channel_list"].append(c)
    return out
