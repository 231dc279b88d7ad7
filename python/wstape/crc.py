"""CRC-32C (Castagnoli, reflected 0x82F63B78, init and final xor 0xFFFFFFFF).

Debian's python3-crcmod computes it in C; without it a table-driven pure-Python CRC is
used (correct, about 100x slower on block data).
"""
try:
    import crcmod.predefined as _crcmod

    crc32c = _crcmod.mkPredefinedCrcFun("crc-32c")
    FAST = True
except Exception:  # pragma: no cover - depends on the machine
    FAST = False
    _TABLE = []
    for _i in range(256):
        _c = _i
        for _ in range(8):
            _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
        _TABLE.append(_c)
    _TABLE = tuple(_TABLE)

    def crc32c(data, crc=0):
        t = _TABLE
        c = crc ^ 0xFFFFFFFF
        for b in bytes(data):
            c = t[(c ^ b) & 0xFF] ^ (c >> 8)
        return c ^ 0xFFFFFFFF
