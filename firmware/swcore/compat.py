"""Small shims so swcore runs unchanged on MicroPython and CPython."""

try:
    from micropython import const  # noqa: F401  (MicroPython: folded at compile time)
except ImportError:  # CPython

    def const(x):  # type: ignore[no-redef]
        return x


def isqrt(n):
    """Integer square root without floats (floats allocate on the ESP32 heap)."""
    if n <= 0:
        return 0
    x = n
    y = (x + 1) >> 1
    while y < x:
        x = y
        y = (x + n // x) >> 1
    return x
