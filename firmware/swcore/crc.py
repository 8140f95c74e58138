"""CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no xorout).

One CRC for the whole project: flash log slots, serial frames and the stored
config. Written out here rather than taken from ``binascii`` because not every
MicroPython port builds ``binascii.crc32`` in, and 16 bits are plenty for
records of a few dozen bytes. Table-driven (512 bytes of RAM) so a boot-time
scan of a few thousand log slots stays well under a second on an ESP32.
Check value: crc16(b"123456789") == 0x29B1 (same as CPython's
``binascii.crc_hqx(data, 0xFFFF)``).
"""

from array import array

from swcore.compat import const

_CRC16_INIT = const(0xFFFF)


def _table():
    t = array("H", bytes(512))
    for i in range(256):
        c = i << 8
        for _ in range(8):
            c = ((c << 1) ^ 0x1021) if c & 0x8000 else (c << 1)
        t[i] = c & 0xFFFF
    return t


_T = _table()


def crc16(buf, start=0, end=-1, crc=_CRC16_INIT):
    """CRC of ``buf[start:end]`` (end=-1: to the end) without slicing (no heap use)."""
    if end < 0:
        end = len(buf)
    t = _T
    i = start
    while i < end:
        crc = ((crc << 8) & 0xFF00) ^ t[((crc >> 8) ^ buf[i]) & 0xFF]
        i += 1
    return crc


def seal(payload):
    """``payload`` + its crc16 (little-endian): a small state file that reads back whole or not at all."""
    n = len(payload)
    b = bytearray(n + 2)
    b[:n] = payload
    c = crc16(b, 0, n)
    b[n] = c & 0xFF
    b[n + 1] = c >> 8
    return b


def unseal(raw, size):
    """The ``size``-byte payload of ``seal``'s output, or None if ``raw`` is missing, short or corrupt."""
    if raw is None or len(raw) != size + 2 or crc16(raw, 0, size) != raw[size] | raw[size + 1] << 8:
        return None
    return raw[:size]
