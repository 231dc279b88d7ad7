"""Hydromancer events and their dedup keys, by the feed's rules (docs/INSPECT.md, "The
feed's rules" and "Duplicates: the same event, not the same key").

A received text message is classified from its top-level members: `type` "replay" is a
replay chunk (its channel in `channel`); the types connected, reconnected,
subscriptionUpdate, ping, pong and error, and any message with `method`, are control
messages; any other message with a `type` and a `seq` or an events array is a live data
message of channel `type`. The events array is the first present of the members fills,
updates, events, trades, liquidations, data (not an array: no events). An event is an
object, or an array [user, {event}] whose keys are in its first object. Its dedup key:
(closeTime, txIndex) on channels ending in CompletedTrades, (time, txIndex, role) on
channels ending in NonFundingLedgerEvents, (time, txIndex) on the others; a missing time
field falls back to the other one (time / closeTime), a missing number is -1, a missing
role "".
"""
import json

CONTROL = frozenset(("connected", "reconnected", "subscriptionUpdate", "ping", "pong", "error"))
EVENT_FIELDS = ("fills", "updates", "events", "trades", "liquidations", "data")
TIME_TX, CLOSETIME_TX, TIME_TX_ROLE = 0, 1, 2


def key_rule(channel):
    """The dedup key rule of a channel: TIME_TX, CLOSETIME_TX or TIME_TX_ROLE."""
    if channel.endswith("CompletedTrades"):
        return CLOSETIME_TX
    if channel.endswith("NonFundingLedgerEvents"):
        return TIME_TX_ROLE
    return TIME_TX


def _int(v):
    return v if isinstance(v, int) and not isinstance(v, bool) else -1


def event_key(element, rule):
    """The dedup key of one element of an events array (see the module's doc)."""
    ev = element
    if isinstance(element, list):
        ev = next((x for x in element if isinstance(x, dict)), None)
    if not isinstance(ev, dict):
        t = ct = tx = -1
        role = ""
    else:
        t, ct, tx = _int(ev.get("time")), _int(ev.get("closeTime")), _int(ev.get("txIndex"))
        role = ev.get("role", "")
        if not isinstance(role, str):
            role = json.dumps(role, separators=(",", ":"))
    if rule == CLOSETIME_TX:
        k = ct if ct >= 0 else t
    else:
        k = t if t >= 0 else ct
    return (k, tx, role) if rule == TIME_TX_ROLE else (k, tx)


def classify(msg):
    """(class, channel, events, seq) of a parsed message: class 'replay', 'data', 'control'
    or 'other'; events the events array (a list, possibly empty)."""
    if not isinstance(msg, dict):
        return "not_json", "", [], None
    typ = msg.get("type")
    typ = typ if isinstance(typ, str) else ""
    events = []
    for f in msg:
        if f in EVENT_FIELDS:
            events = msg[f] if isinstance(msg[f], list) else []
            break
    if typ == "replay":
        ch = msg.get("channel")
        return "replay", ch if isinstance(ch, str) else "", events, None
    if typ in CONTROL or "method" in msg:
        return "control", "", [], None
    seq = msg.get("seq")
    if typ and ("seq" in msg or events):
        return "data", typ, events, seq if isinstance(seq, int) else None
    return "other", "", [], None


class Event:
    """One event of a Hydromancer message: record (the wstape.Record that held it),
    channel, source ('live' or 'replay'), seq (of a live message), index (its place in
    the events array), element (the array element as parsed: {event} or [user, {event}]),
    user (the user of [user, {event}], else None), event (the event object), key (its
    dedup key), identity (its canonical JSON text: equal events, equal identities)."""

    __slots__ = ("record", "channel", "source", "seq", "index", "element", "key", "_identity")

    def __init__(self, record, channel, source, seq, index, element, key):
        self.record = record
        self.channel = channel
        self.source = source
        self.seq = seq
        self.index = index
        self.element = element
        self.key = key
        self._identity = None

    @property
    def event(self):
        e = self.element
        if isinstance(e, list):
            return next((x for x in e if isinstance(x, dict)), None)
        return e

    @property
    def user(self):
        e = self.element
        if isinstance(e, list) and e and isinstance(e[0], str):
            return e[0]
        return None

    @property
    def identity(self):
        if self._identity is None:
            self._identity = json.dumps(self.element, separators=(",", ":"), ensure_ascii=False)
        return self._identity

    def __repr__(self):
        return "Event(#%d %s %s key=%r %s)" % (self.record.recno, self.channel, self.source, self.key, self.identity[:80])


def events(journal, unique=False, **filters):
    """The events of the received data messages and replay chunks of a journal, in record
    order, each with its dedup key. filters: those of Journal.records() (channel selects
    the records' channel). unique=True: each event once per channel (by identity: an
    event received again, live twice or in a replay and live, is skipped; the identities
    seen are kept in memory). Messages that are not JSON are skipped."""
    filters.setdefault("direction", "in")
    seen = {}
    rules = {}
    loads = json.loads
    for rec in journal.records(**filters):
        if rec[4] != "in" or rec[5] not in ("text", "binary"):
            continue
        p = rec[8]
        if not p or p[:1] != b"{":
            continue
        try:
            msg = loads(p)
        except ValueError:
            continue
        cls, ch, evs, seq = classify(msg)
        if cls not in ("data", "replay") or not evs:
            continue
        rule = rules.get(ch)
        if rule is None:
            rule = rules[ch] = key_rule(ch)
        src = "live" if cls == "data" else "replay"
        for i, el in enumerate(evs):
            e = Event(rec, ch, src, seq, i, el, event_key(el, rule))
            if unique:
                s = seen.setdefault(ch, set())
                ident = e.identity
                if ident in s:
                    continue
                s.add(ident)
            yield e
