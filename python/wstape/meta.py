"""META: key=value lines (docs/FORMAT.md, "META")."""
import re

_PCT = re.compile(rb"%([0-9A-Fa-f]{2})")


def parse_meta(data):
    """The keys of a META file's bytes, as str (the last line of a key wins)."""
    out = {}
    for line in data.split(b"\n"):
        if not line or line.startswith(b"#") or b"=" not in line:
            continue
        k, v = line.split(b"=", 1)
        if not k:
            continue
        out[k.decode("utf-8", "surrogateescape")] = v.decode("utf-8", "surrogateescape")
    return out


def decode_session_id(v):
    """The session_id value decoded (%XX in either case; a lone % stays)."""
    b = v.encode("utf-8", "surrogateescape")
    return _PCT.sub(lambda m: bytes([int(m.group(1), 16)]), b).decode("utf-8", "surrogateescape")
