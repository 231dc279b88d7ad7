"""Cursor order (docs/FORMAT.md, "Cursor order"): numeric cursors (components of decimal
digits or empty, separated by ':', not ending in ':') first, compared component by
component as numbers (an empty component below any number, fewer components first);
then every other cursor, compared as bytes."""


def _numeric(c):
    if not c or c[-1:] == b":":
        return None
    out = []
    for comp in c.split(b":"):
        if not comp:
            out.append(-1)
        elif comp.isdigit():
            out.append(int(comp))
        else:
            return None
    return tuple(out)


def cursor_key(c):
    """A sort key for cursor c (bytes or str) in the documented total order."""
    if isinstance(c, str):
        c = c.encode("utf-8", "surrogateescape")
    n = _numeric(bytes(c))
    return (0, n, b"") if n is not None else (1, (), bytes(c))


def cursor_cmp(a, b):
    """-1, 0 or 1 as cursor a is below, equal to or above cursor b."""
    ka, kb = cursor_key(a), cursor_key(b)
    return (ka > kb) - (ka < kb)
