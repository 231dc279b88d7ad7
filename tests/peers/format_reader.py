#!/usr/bin/python3
"""format_reader.py - a journal reader written from docs/FORMAT.md alone, as a reader in
another language would be: segments, block headers, CRC-32C, the zstd frame, the record
encoding, and (with --index, through mdb_dump) every sub-database of the LMDB index.
Nothing here comes from wstape's code: where it disagrees with `wstape cat`, the document
is wrong or the code is.

Usage: format_reader.py JOURNAL [--index]   prints the records as `wstape cat` prints them
(JSON lines); notes on what it saw go to stderr."""
import base64, json, os, re, struct, subprocess, sys, datetime

from wst_segment import crc32c   # the tests' one CRC-32C (Castagnoli, as FORMAT.md names it)

def varint(buf, p, end):
    v, shift = 0, 0
    for _ in range(10):
        if p >= end:
            raise ValueError("varint runs past the block")
        b = buf[p]; p += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v & 0xFFFFFFFFFFFFFFFF, p
    raise ValueError("varint longer than 10 bytes")

def unzz(u):
    v = (u >> 1) ^ -(u & 1)
    return v

def i64(u):
    u &= 0xFFFFFFFFFFFFFFFF
    return u - (1 << 64) if u >> 63 else u

def zstd_frame_content_size(d):
    # RFC 8878 frame header
    if d[:4] != b"\x28\xb5\x2f\xfd":
        return None, "not a zstd frame"
    fhd = d[4]
    fcs_flag, single, dict_flag, chk = fhd >> 6, (fhd >> 5) & 1, fhd & 3, (fhd >> 2) & 1
    p = 5 + (0 if single else 1) + [0, 1, 2, 4][dict_flag]
    n = [0 if not single else 1, 2, 4, 8][fcs_flag]
    if n == 0:
        return None, "no content size"
    v = int.from_bytes(d[p:p + n], "little")
    if n == 2:
        v += 256
    return (v, chk), None

def text_or_b64(o, name, b):
    try:
        o[name] = b.decode("utf-8")
    except UnicodeDecodeError:
        o[name + "_b64"] = base64.b64encode(b).decode()

KINDS = ["text", "binary", "ping", "pong", "open", "close", "error"]

def fmt_time(ns):
    s, frac = divmod(ns, 10**9)
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=s)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%09dZ" % frac

def read(jdir, notes):
    meta = {}
    for line in open(os.path.join(jdir, "META"), "rb").read().split(b"\n"):
        if not line or line.startswith(b"#") or b"=" not in line:
            continue
        k, v = line.split(b"=", 1)
        meta[k.decode()] = v.decode()
    assert int(meta["format"]) <= 1
    segs = sorted(int(m.group(1)) for f in os.listdir(jdir) if (m := re.fullmatch(r"seg-(\d{10})\.wst", f)))
    assert segs == list(range(1, len(segs) + 1)), segs
    expect = None
    out = []
    for si, n in enumerate(segs):
        d = open(os.path.join(jdir, "seg-%010d.wst" % n), "rb").read()
        h = d[:64]
        assert h[:8] == b"WSTAPESG", "segment magic"
        ver, num, first, created = struct.unpack_from("<IIQq", h, 8)
        assert num == n and ver == 1
        assert h[32:60] == b"\0" * 28
        assert struct.unpack_from("<I", h, 60)[0] == crc32c(h[:60]), "segment header CRC"
        if expect is None:
            expect = first or 1
        assert first in (expect, 0) or first == expect, ("segment start", first, expect)
        off = 64
        while off < len(d):
            last = si == len(segs) - 1
            if len(d) - off < 64:
                assert last; notes.append("torn: file ends in header"); break
            bh = d[off:off + 64]
            magic, flags, z1, comp_len, raw_len, frec, count, dcrc, fwall, mwall, fmono, z2, hcrc = \
                struct.unpack("<IHHIIQIIqqqII", bh)
            if magic != 0x42545357 or hcrc != crc32c(bh[:60]) or flags & ~1 or count == 0:
                raise ValueError("bad block header at %d of seg %d" % (off, n))
            assert z1 == 0 and z2 == 0
            data = d[off + 64: off + 64 + comp_len]
            if len(data) < comp_len:
                assert last; notes.append("torn: file ends in data"); break
            assert crc32c(data) == dcrc, "data CRC"
            assert frec == expect, ("recno", frec, expect)
            if flags & 1:
                (fcs, chk), err = zstd_frame_content_size(data)
                assert err is None, err
                assert fcs == raw_len, (fcs, raw_len)
                notes.append("zstd frame: content size %d, checksum flag %d, comp %d raw %d" % (fcs, chk, comp_len, raw_len))
                raw = subprocess.run(["zstd", "-d", "-c", "-q"], input=data, capture_output=True, check=True).stdout
            else:
                raw = data
                assert comp_len == raw_len
            assert len(raw) == raw_len
            p, pw, pm = 0, fwall, fmono
            maxw = None
            for k in range(count):
                kd = raw[p]; p += 1
                assert kd & 0xE0 == 0 and (kd & 0x0F) <= 6
                dw, p = varint(raw, p, raw_len)
                dm, p = varint(raw, p, raw_len)
                conn, p = varint(raw, p, raw_len)
                assert conn <= 0xFFFFFFFF
                chl, p = varint(raw, p, raw_len); ch = raw[p:p + chl]; p += chl
                cul, p = varint(raw, p, raw_len); cu = raw[p:p + cul]; p += cul
                pl, p = varint(raw, p, raw_len); pay = raw[p:p + pl]; p += pl
                assert p <= raw_len
                pw = i64(pw + unzz(dw)); pm = i64(pm + unzz(dm))
                maxw = pw if maxw is None else max(maxw, pw)
                o = {"recno": frec + k, "time": fmt_time(pw), "wall_ns": pw, "mono_ns": pm, "conn": conn,
                     "dir": "out" if kd & 0x10 else "in", "kind": KINDS[kd & 0x0F]}
                text_or_b64(o, "channel", ch)
                text_or_b64(o, "cursor", cu)
                text_or_b64(o, "payload", pay)
                out.append(o)
            assert p == raw_len, "walk did not consume raw_len"
            assert maxw == mwall, ("max_wall", maxw, mwall)
            expect = frec + count
            off += 64 + comp_len
    return meta, out

# ---- the index, through mdb_dump ----
def dump(jdir, db):
    r = subprocess.run(["mdb_dump", "-s", db, os.path.join(jdir, "index")], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(r.stderr)
    lines = r.stdout.split("HEADER=END\n", 1)[1].splitlines()
    kv = [bytes.fromhex(l.strip()) for l in lines if l.startswith(" ")]
    return list(zip(kv[0::2], kv[1::2]))

def numeric(c):
    if not c or c.endswith(b":"):
        return False
    return all(re.fullmatch(rb"\d*", comp) for comp in c.split(b":"))

def cursor_cmp(a, b):
    # as FORMAT.md says: numeric cursors first; among them component by component as
    # numbers (leading zeros ignored, an empty component below any digits); the rest as bytes
    if numeric(a) != numeric(b):
        return -1 if numeric(a) else 1
    if numeric(a):
        ca, cb = a.split(b":"), b.split(b":")
        for x, y in zip(ca, cb):
            if (x == b"") != (y == b""):
                return -1 if x == b"" else 1
            xi, yi = int(x or b"0"), int(y or b"0")
            if xi != yi:
                return -1 if xi < yi else 1
        return (len(ca) > len(cb)) - (len(ca) < len(cb))
    m = min(len(a), len(b))
    if a[:m] != b[:m]:
        return -1 if a[:m] < b[:m] else 1
    return (len(a) > len(b)) - (len(a) < len(b))

def check_index(jdir, recs, notes):
    blocks = dump(jdir, "blocks")
    prev_max = None
    for k, v in blocks:
        assert len(k) == 8 and len(v) == 56, (len(k), len(v))
        seg, count, off, cl, rl, fw, rmw, pb, fr = struct.unpack("<IIQIIqqQQ", v)
        assert int.from_bytes(k, "big") == fr
        assert prev_max is None or rmw >= prev_max
        prev_max = rmw
    notes.append("blocks: %d entries of 56 bytes" % len(blocks))
    tm = dump(jdir, "time")
    for k, v in tm:
        assert len(k) == 16 and len(v) == 8
        t = int.from_bytes(k[:8], "big") ^ (1 << 63)
        t = i64(t)
        assert k[8:] == v
    notes.append("time: %d entries" % len(tm))
    st = dump(jdir, "state")
    assert len(st) == 1 and st[0][0] == b"state", st
    v = st[0][1]
    notes.append("state: %d bytes" % len(v))
    seg, maxc, endoff, nxt, nrec, pbytes, rawb, nblk, fw, mw = struct.unpack_from("<IIQQQQQQqq", v)
    assert v[72:] == b"\0" * (len(v) - 72)
    assert nrec == len(recs) and nxt == recs[-1]["recno"] + 1, (nrec, nxt)
    assert fw == recs[0]["wall_ns"], ("first wall", fw, recs[0]["wall_ns"])
    assert mw == max(r["wall_ns"] for r in recs)
    for k, v in dump(jdir, "conns"):
        assert len(k) == 4 and len(v) == 40
        c = int.from_bytes(k, "big")
        f, l, n, fw, lw = struct.unpack("<QQQqq", v)
        mine = [r for r in recs if r["conn"] == c]
        assert (f, l, n, fw, lw) == (mine[0]["recno"], mine[-1]["recno"], len(mine), mine[0]["wall_ns"], mine[-1]["wall_ns"]), c
    for k, v in dump(jdir, "chans"):
        f, l, n, fw, lw, fcl, lcl = struct.unpack_from("<QQQqqHH", v)
        assert len(v) == 44 + fcl + lcl
    for k, v in dump(jdir, "chanblk"):
        chl = k[0]
        ch, br = k[1:1 + chl], int.from_bytes(k[1 + chl:], "big")
        assert len(k) == 1 + chl + 8
        # the largest cursor of the channel in that block, by the documented order
        blk = [b for b in blocks if int.from_bytes(b[0], "big") == br][0]
        cnt = struct.unpack_from("<I", blk[1], 4)[0]
        curs = []
        for r in recs:
            if br <= r["recno"] < br + cnt and (r["channel"].encode() if "channel" in r else base64.b64decode(r["channel_b64"])) == ch:
                c = r["cursor"].encode() if "cursor" in r else base64.b64decode(r["cursor_b64"])
                if c:
                    curs.append(c)
        mx = curs[0]
        for c in curs[1:]:
            if cursor_cmp(c, mx) > 0:
                mx = c
        assert mx == v, ("chanblk", ch, br, mx, v)
    notes.append("index checked")

if __name__ == "__main__":
    notes = []
    meta, recs = read(sys.argv[1], notes)
    for r in recs:
        print(json.dumps(r, ensure_ascii=False, separators=(",", ":")))
    if "--index" in sys.argv:
        check_index(sys.argv[1], recs, notes)
    for n in sorted(set(notes)):
        print("note:", n, file=sys.stderr)
