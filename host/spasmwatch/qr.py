"""A QR code drawn in a terminal ('spasmwatch status --qr': the page's link with its token, for a
phone's camera). The encoding is segno's (a maintained pure-Python encoder); this module only draws
its modules, two rows to a line with Unicode half blocks.

Black on white whatever the terminal's colours: half blocks drawn in the terminal's own colours are
right in one kind of terminal and inverted in the other (segno's compact writer draws the light
modules, for a dark terminal: a light one shows light on dark), a code a phone's camera may not
read. The colours are set with ANSI escapes on every line and reset at its end, so a line copied
alone still carries them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import segno

# Light modules around the code, in modules: the QR standard's quiet zone (ISO/IEC 18004), which a
# phone needs to find the code's edges; the terminal's own (maybe dark) background is not one.
QUIET_ZONE_MODULES = 4
# Error correction 'M' (15 % of the code may be lost): a screen photographed at an angle, with a
# glare or a cell's gap between lines; segno raises it further when the link leaves room at no size.
ERROR_LEVEL = "M"
# ANSI SGR: black foreground (30) on bright white background (107), then reset (0).
BLACK_ON_WHITE = "\033[30;107m"
RESET = "\033[0m"
# Two modules, one above the other, as one character in black on white (True: dark).
_HALF_BLOCKS = {(False, False): " ", (True, False): "\u2580", (False, True): "\u2584", (True, True): "\u2588"}


def qr_lines(text: str) -> list[str]:
    """``text`` as a QR code, one string per terminal line (its quiet zone included)."""
    code = segno.make_qr(text, error=ERROR_LEVEL, boost_error=True)
    rows = [[bool(m) for m in row] for row in code.matrix_iter(scale=1, border=QUIET_ZONE_MODULES)]
    return [BLACK_ON_WHITE + _line(top, bottom) + RESET for top, bottom in _pairs(rows)]


def _pairs(rows: Sequence[list[bool]]) -> Iterable[tuple[list[bool], list[bool]]]:
    """Rows two by two; an odd last one (every QR code's, its side being odd) under a light row,
    which only widens the quiet zone."""
    light = [False] * len(rows[0])
    return ((rows[i], rows[i + 1] if i + 1 < len(rows) else light) for i in range(0, len(rows), 2))


def _line(top: list[bool], bottom: list[bool]) -> str:
    return "".join(_HALF_BLOCKS[pair] for pair in zip(top, bottom, strict=True))
