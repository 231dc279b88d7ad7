"""A record, as `wstape cat` prints it: recno, wall_ns, mono_ns, conn, dir, kind, channel,
cursor (bytes), payload (bytes); json() gives cat's object."""
import base64
import json as _json
from operator import itemgetter

from .timefmt import format_time

KINDS = ("text", "binary", "ping", "pong", "open", "close", "error")
KIND_NUM = {k: i for i, k in enumerate(KINDS)}
DIRS = ("in", "out")


def text_or_b64(out, name, b, null=False):
    """out[name] = b as text when it is UTF-8, else out[name + "_b64"] its base64 (and, with
    null=True, out[name] = None beside it: `info --json`'s form; `cat` leaves name out)."""
    try:
        out[name] = b.decode("utf-8")
    except UnicodeDecodeError:
        if null:
            out[name] = None
        out[name + "_b64"] = base64.b64encode(b).decode("ascii")


class Record(tuple):
    """One record of a journal (a tuple: recno, wall_ns, mono_ns, conn, dir, kind, channel,
    cursor, payload). channel is a str (a channel that is not UTF-8 keeps its bytes as
    surrogates: channel_bytes gives them back); cursor and payload are bytes."""

    __slots__ = ()
    recno = property(itemgetter(0), doc="record number (from 1)")
    wall_ns = property(itemgetter(1), doc="receive time, ns since the epoch")
    mono_ns = property(itemgetter(2), doc="monotonic time of the recording machine, ns")
    conn = property(itemgetter(3), doc="connection id (0: none)")
    dir = property(itemgetter(4), doc="'in' (from the server) or 'out'")
    kind = property(itemgetter(5), doc="text, binary, ping, pong, open, close or error")
    channel = property(itemgetter(6), doc="the channel ('' for none)")
    cursor = property(itemgetter(7), doc="the cursor, bytes (b'' for none)")
    payload = property(itemgetter(8), doc="the payload, bytes exactly as received")

    @property
    def channel_bytes(self):
        return self[6].encode("utf-8", "surrogateescape")

    @property
    def time(self):
        """The receive time as RFC 3339 text with nanoseconds."""
        return format_time(self[1])

    def text(self, errors="strict"):
        """The payload decoded as UTF-8."""
        return self[8].decode("utf-8", errors)

    def payload_json(self):
        """The payload parsed as JSON (json.JSONDecodeError/UnicodeDecodeError if it is not)."""
        return _json.loads(self[8])

    def json(self):
        """The record as `wstape cat` prints it, a dict: text as str, other bytes as base64
        under the name with _b64 appended."""
        out = {
            "recno": self[0],
            "time": format_time(self[1]),
            "wall_ns": self[1],
            "mono_ns": self[2],
            "conn": self[3],
            "dir": self[4],
            "kind": self[5],
        }
        text_or_b64(out, "channel", self.channel_bytes)
        text_or_b64(out, "cursor", self[7])
        text_or_b64(out, "payload", self[8])
        return out

    def __repr__(self):
        p = self[8]
        return "Record(recno=%d, time=%s, conn=%d, dir=%s, kind=%s, channel=%r, cursor=%r, payload=%r%s)" % (
            self[0], format_time(self[1]), self[3], self[4], self[5], self[6], self[7],
            p[:60], "..." if len(p) > 60 else "")
