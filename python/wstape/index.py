"""The LMDB index (docs/FORMAT.md, "The index (LMDB)"): checked in a child process before
any use (LMDB does not check its pages: a damaged file can crash or hang it), then used for
seeks and the summary. Every answer it gives can also be computed from the segments."""
import os
import resource
import signal
import stat
import struct

from .block import BLOCK_HEADER, BadBlock, parse_header
from .cursor import cursor_key

try:
    import lmdb
except ImportError:  # pragma: no cover - depends on the machine
    lmdb = None

DBS = (b"blocks", b"time", b"conns", b"chans", b"chanblk", b"state")
BLOCKV = struct.Struct("<IIQIIqqQQ")
STATEV = struct.Struct("<IIQQQQQQqq8s")
CONNV = struct.Struct("<QQQqq")
CHANV = struct.Struct("<QQQqqHH")
U64BE = struct.Struct(">Q")
TIMEK = struct.Struct(">QQ")

# the child's verdicts (its exit status)
OK, NONE, DAMAGED, STALE, UNREADABLE = 0, 10, 11, 12, 13
VERDICT = {OK: "ok", NONE: "none", DAMAGED: "damaged", STALE: "stale", UNREADABLE: "unreadable"}


def _open_env(path):
    kw = dict(subdir=True, readonly=True, max_dbs=8, create=False, map_size=1 << 20)
    try:
        return lmdb.open(path, lock=True, **kw)
    except lmdb.Error:
        return lmdb.open(path, lock=False, **kw)


def _walk(path, segs):
    """The child's check. segs: {number: (start, size, path)}. Returns a verdict."""
    data = os.path.join(path, "data.mdb")
    limit = os.stat(data).st_size // 8 + 1024  # more entries than the file can hold: a cycle
    env = _open_env(path)
    with env.begin() as txn:
        dbs = {}
        for name in DBS:
            try:
                dbs[name] = env.open_db(name, txn=txn, create=False)
            except lmdb.NotFoundError:
                return NONE
        ents = {}
        for name in DBS:
            items = []
            cur = txn.cursor(dbs[name])
            for k, v in cur.iternext(keys=True, values=True):
                items.append((bytes(k), bytes(v)))
                if len(items) > limit:
                    return DAMAGED
            for k, v in items:  # every key looked up again
                if txn.get(k, db=dbs[name]) != v:
                    return DAMAGED
            ents[name] = items
    blocks = ents[b"blocks"]
    prev = None
    total = 0
    first_in_seg = {}
    last_seg = max(segs) if segs else 0
    first_seg = min(segs) if segs else 0
    for k, v in blocks:
        if len(k) != 8 or len(v) != 56:
            return DAMAGED
        seg, count, off, comp, raw, fw, rmax, pay, first = BLOCKV.unpack(v)
        if U64BE.unpack(k)[0] != first or not count:
            return DAMAGED
        if prev is not None:
            pseg, pcount, poff, pcomp, prmax, pfirst = prev
            if first != pfirst + pcount or rmax < prmax or seg < pseg:
                return DAMAGED
            if seg == pseg and off != poff + BLOCK_HEADER + pcomp:
                return DAMAGED
        total += count
        prev = (seg, count, off, comp, rmax, first)
        if seg < first_seg:
            continue  # pruned: an interrupted prune left its entries, the readers skip them
        if seg not in first_in_seg:
            first_in_seg[seg] = (off, first)
        info = segs.get(seg)
        if info is None:
            return STALE
        if seg != last_seg and off + BLOCK_HEADER + comp > info[1]:
            return STALE
    if len(ents[b"time"]) != len(blocks):
        return DAMAGED
    for k, v in ents[b"time"]:
        if len(k) != 16 or len(v) != 8:
            return DAMAGED
    for k, v in ents[b"conns"]:
        if len(k) != 4 or len(v) != 40:
            return DAMAGED
    for k, v in ents[b"chans"]:
        if len(v) < 44 or len(v) != 44 + CHANV.unpack_from(v)[5] + CHANV.unpack_from(v)[6]:
            return DAMAGED
    for k, v in ents[b"chanblk"]:
        if len(k) < 9 or len(k) != 1 + k[0] + 8:
            return DAMAGED
    st = ents[b"state"]
    if not blocks:
        return OK if not st else DAMAGED
    if len(st) != 1 or st[0][0] != b"state" or len(st[0][1]) != 80:
        return DAMAGED
    sseg, _, send, snext, srecs, _, _, sblocks, _, smax, _ = STATEV.unpack(st[0][1])
    if srecs != total or sblocks != len(blocks) or snext != prev[5] + prev[1] or sseg != prev[0]:
        return DAMAGED
    if send != prev[2] + BLOCK_HEADER + prev[3] or smax != prev[4]:
        return DAMAGED
    for seg, (off, first) in first_in_seg.items():
        start = segs[seg][0]
        if off != 64:
            return STALE
        if start is not None and (start or 1) != first:
            return STALE
    # the last block: is it in the segments as the index says?
    info = segs[sseg]
    if info[1] < send:
        return STALE
    with open(info[2], "rb") as f:
        f.seek(prev[2])
        h = f.read(BLOCK_HEADER)
    try:
        hdr = parse_header(h)
    except BadBlock:
        return STALE
    if hdr[3] != prev[5] or hdr[4] != prev[1] or hdr[1] != prev[3]:
        return STALE
    return OK


def check(path, segs):
    """The verdict on the index at path (the journal's index/ directory), from a child
    process that walks all of it. segs: {number: (start, size, file path)}."""
    if lmdb is None:
        return NONE
    data = os.path.join(path, "data.mdb")
    try:
        st = os.stat(data)
    except FileNotFoundError:
        return NONE
    except OSError:
        return UNREADABLE
    if not stat.S_ISREG(st.st_mode):
        return UNREADABLE
    if st.st_size == 0:
        return NONE
    if not os.access(data, os.R_OK):
        return UNREADABLE
    cpu = 30 + st.st_size // (16 << 20)
    # The child writes its verdict to a pipe as well as exiting with it: a program that
    # ignores SIGCHLD (the kernel reaps the child) or reaps every child in a handler leaves
    # waitpid nothing to report, and the verdict still arrives. No verdict: damaged.
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = DAMAGED
        os.close(rfd)
        try:
            for s in (signal.SIGSEGV, signal.SIGBUS, signal.SIGFPE, signal.SIGILL, signal.SIGABRT):
                signal.signal(s, signal.SIG_DFL)
            resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
            signal.alarm(cpu * 10)
            code = _walk(path, segs)
        except PermissionError:
            code = UNREADABLE
        except BaseException:
            code = DAMAGED
        try:
            os.write(wfd, bytes([code]))
        except BaseException:
            pass
        os._exit(code)
    os.close(wfd)
    got = b""
    try:
        while True:
            chunk = os.read(rfd, 16)  # EOF when the child is gone
            if not chunk:
                break
            got += chunk
    finally:
        os.close(rfd)
    status = None
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except InterruptedError:
            continue
        except ChildProcessError:  # reaped by the kernel or by the program's handler
            break
    if status is not None:
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) in VERDICT:
            return os.WEXITSTATUS(status)
        return DAMAGED
    if len(got) == 1 and got[0] in VERDICT:
        return got[0]
    return DAMAGED


def disk_bytes(path):
    """The space index/data.mdb takes on disk (st_blocks x 512), as `wstape info` counts it."""
    try:
        return os.stat(os.path.join(path, "data.mdb")).st_blocks * 512
    except OSError:
        return 0


class Index:
    """A checked index, opened read-only."""

    def __init__(self, path):
        self.path = path
        self.env = _open_env(path)
        self.db = {n: self.env.open_db(n, create=False) for n in DBS}

    def close(self):
        self.env.close()

    def disk_bytes(self):
        return disk_bytes(self.path)

    def state(self):
        """The state value as a dict, None for an empty journal."""
        with self.env.begin() as txn:
            v = txn.get(b"state", db=self.db[b"state"])
        if v is None:
            return None
        seg, maxconn, end, nxt, recs, pay, raw, blocks, fw, mw, _ = STATEV.unpack(bytes(v))
        return dict(segment=seg, end_offset=end, next_recno=nxt, records=recs, payload_bytes=pay,
                    blocks=blocks, first_wall=fw, max_wall=mw)

    def state_from(self, floor):
        """state(), less the blocks listed before record floor (those an interrupted prune
        left), as journal_stats counts them."""
        st = self.state()
        if st is None or not floor:
            return st
        below = [0, 0, 0]
        first_wall = None
        with self.env.begin() as txn:
            for k, v in txn.cursor(self.db[b"blocks"]):
                seg, count, off, comp, raw, fw, rmax, pay, first = BLOCKV.unpack(bytes(v))
                if first >= floor:
                    first_wall = fw
                    break
                below[0] += 1
                below[1] += count
                below[2] += pay
        if below[0] and below[0] < st["blocks"] and first_wall is not None:
            st.update(blocks=st["blocks"] - below[0], records=st["records"] - below[1],
                      payload_bytes=st["payload_bytes"] - below[2], first_wall=first_wall)
        return st

    def _block(self, txn, first):
        v = txn.get(U64BE.pack(first), db=self.db[b"blocks"])
        if v is None:
            return None
        seg, count, off, comp, raw, fw, rmax, pay, first = BLOCKV.unpack(bytes(v))
        return seg, off, first

    def block_for_recno(self, n):
        """(segment, offset, first_recno) of the block that holds record n (the last block
        whose first record is <= n), None when none is."""
        with self.env.begin() as txn:
            cur = txn.cursor(self.db[b"blocks"])
            k = U64BE.pack(n)
            if cur.set_range(k):
                if cur.key() == k:
                    return self._block(txn, n)
                if not cur.prev():
                    return None
            elif not cur.last():
                return None
            return self._block(txn, U64BE.unpack(bytes(cur.key()))[0])

    def block_for_time(self, t):
        """The first block whose running max wall is >= t, None when none is indexed."""
        with self.env.begin() as txn:
            cur = txn.cursor(self.db[b"time"])
            if not cur.set_range(TIMEK.pack((t + (1 << 63)) & ((1 << 64) - 1), 0)):
                return None
            return self._block(txn, U64BE.unpack(bytes(cur.value()))[0])

    def block_for_cursor(self, channel, key):
        """The first block (by chanblk) of channel (bytes; None: any channel) whose
        largest cursor is >= the cursor key, None when none is indexed."""
        best = None
        with self.env.begin() as txn:
            cur = txn.cursor(self.db[b"chanblk"])
            prefix = bytes([len(channel)]) + channel if channel is not None else b""
            ok = cur.set_range(prefix) if prefix else cur.first()
            done = set()
            while ok:
                k = bytes(cur.key())
                if not k.startswith(prefix):
                    break
                ch = k[:-8]
                if ch not in done and cursor_key(bytes(cur.value())) >= key:
                    first = U64BE.unpack(k[-8:])[0]
                    if best is None or first < best:
                        best = first
                    done.add(ch)
                    if channel is not None:
                        break
                ok = cur.next()
            return self._block(txn, best) if best is not None else None

    def conns(self):
        with self.env.begin() as txn:
            return [struct.unpack(">I", bytes(k))[0] for k in txn.cursor(self.db[b"conns"]).iternext(values=False)]

    def chans(self):
        """[(name bytes, records, first_recno, last_recno, first cursor, last cursor)]"""
        out = []
        with self.env.begin() as txn:
            for k, v in txn.cursor(self.db[b"chans"]).iternext():
                v = bytes(v)
                first, last, recs, fw, lw, fl, ll = CHANV.unpack_from(v)
                out.append([bytes(k), recs, first, last, v[44:44 + fl], v[44 + fl:44 + fl + ll]])
        return out
