"""Times: RFC 3339 or epoch digits in, RFC 3339 with nanoseconds out (as `wstape cat`)."""
import datetime
import re

from .errors import UsageError

_EPOCH = datetime.datetime(1970, 1, 1)
_RFC = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2}))?(?:[.,](\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))?)?\Z"
)
_EPOCH_DIGITS = re.compile(r"(\d+)(s|ms|us|µs|ns)?\Z")
_MUL = {"s": 10**9, "ms": 10**6, "us": 1000, "µs": 1000, "ns": 1}


def format_time(ns):
    """ns since the epoch as 2026-11-22T10:00:00.040000000Z."""
    s, frac = divmod(ns, 10**9)
    d = _EPOCH + datetime.timedelta(seconds=s)
    return "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ" % (d.year, d.month, d.day, d.hour, d.minute, d.second, frac)


def parse_time(t):
    """A time as ns since the epoch: an int (ns), a datetime (naive: UTC), a pandas
    Timestamp, or a string as `wstape cat --from` takes it (RFC 3339, or epoch digits: s,
    ms, us or ns by the number of digits, or with a unit suffix)."""
    if t is None:
        return None
    if isinstance(t, bool):
        raise UsageError("a time is not a bool: %r" % (t,))
    if isinstance(t, int):
        return t
    if hasattr(t, "value") and hasattr(t, "tz_localize"):  # pandas.Timestamp
        return int(t.value)
    if isinstance(t, datetime.datetime):
        if t.tzinfo is not None:
            t = t.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        delta = t - _EPOCH
        return (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 1000
    if isinstance(t, str):
        m = _EPOCH_DIGITS.match(t)
        if m:
            v, unit = int(m.group(1)), m.group(2)
            if unit is None:
                nd = len(m.group(1))
                unit = "s" if nd <= 10 else "ms" if nd <= 13 else "us" if nd <= 16 else "ns"
            ns = v * _MUL[unit]
            if ns >= 2**63:
                raise UsageError("time out of range: %r" % t)
            return ns
        m = _RFC.match(t)
        if m:
            Y, M, D = int(m.group(1)), int(m.group(2)), int(m.group(3))
            h = int(m.group(4) or 0)
            mi = int(m.group(5) or 0)
            sec = int(m.group(6) or 0)
            frac = int(((m.group(7) or "") + "000000000")[:9])
            off = 0
            if m.group(9):
                off = (1 if m.group(9) == "+" else -1) * (int(m.group(10)) * 60 + int(m.group(11))) * 60
            if not (1 <= M <= 12 and 1 <= D <= 31 and h <= 23 and mi <= 59 and sec <= 60):
                raise UsageError("not a time: %r (RFC 3339 or epoch digits)" % t)
            try:
                days = (datetime.date(Y, M, D) - _EPOCH.date()).days
            except ValueError:
                raise UsageError("not a date: %r" % t) from None
            return (days * 86400 + h * 3600 + mi * 60 + sec - off) * 10**9 + frac
    raise UsageError("not a time: %r (RFC 3339, epoch digits, an int of ns or a datetime)" % (t,))
