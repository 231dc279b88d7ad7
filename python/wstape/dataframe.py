"""Records as a pandas DataFrame (pandas is optional: Debian's python3-pandas)."""
from .errors import Error

COLUMNS = ("recno", "time", "wall_ns", "mono_ns", "conn", "dir", "kind", "channel", "cursor", "payload")


def _pandas():
    try:
        import pandas
    except ImportError:
        raise Error("to_dataframe() needs pandas: apt-get install python3-pandas (or pip install pandas)") from None
    return pandas


def to_dataframe(journal, payload="bytes", **filters):
    """A DataFrame of the records Journal.records(**filters) selects, one row each, indexed
    by nothing (recno is a column). Columns and dtypes: recno, wall_ns, mono_ns int64;
    conn uint32; time datetime64[ns, UTC] (the receive time); dir, kind, channel category;
    cursor object (bytes); payload object: bytes ('bytes', the default), str ('text':
    UTF-8, invalid bytes replaced), or left out (None)."""
    pd = _pandas()
    if payload not in ("bytes", "text", None):
        raise Error("payload is 'bytes', 'text' or None, not %r" % (payload,))
    if filters.get("follow"):
        raise Error("to_dataframe() reads what is there: no follow")
    recs = list(journal.records(**filters))
    cols = list(zip(*recs)) if recs else [()] * 9
    del recs
    import numpy as np

    data = {
        "recno": np.array(cols[0], dtype=np.int64),
        "time": pd.to_datetime(np.array(cols[1], dtype=np.int64), unit="ns", utc=True),
        "wall_ns": np.array(cols[1], dtype=np.int64),
        "mono_ns": np.array(cols[2], dtype=np.int64),
        "conn": np.array(cols[3], dtype=np.uint32),
        "dir": pd.Categorical(cols[4], categories=["in", "out"]),
        "kind": pd.Categorical(cols[5], categories=["text", "binary", "ping", "pong", "open", "close", "error"]),
        "channel": pd.Categorical(cols[6]),
        "cursor": pd.Series(cols[7], dtype=object),
    }
    if payload == "bytes":
        data["payload"] = pd.Series(cols[8], dtype=object)
    elif payload == "text":
        data["payload"] = pd.Series([p.decode("utf-8", "replace") for p in cols[8]], dtype=object)
    return pd.DataFrame(data)
