"""English words the CLI and the doctor's report share (the family's alerts have their own
catalogues in several languages: alerts/messages.py)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path


def counted(n: int, noun: str) -> str:
    """``1 cluster``, ``2 clusters``: a doctor's report read '1 clusters in 5 days', evaluate
    'replaying 1 recordings on 1 workers'."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def either(items: list[str]) -> str:
    """``a, b or c``: the choices an error offers."""
    return ", ".join(items[:-1]) + f" or {items[-1]}" if len(items) > 1 else "".join(items)


def in_quotes(command: str) -> str:
    """A command as a sentence names it, to be copied from between its quotes: double ones around a
    command with a path that shlex quoted with single ones ('.../usb disk/...'), where single ones
    would nest unreadably; single ones otherwise."""
    quote = '"' if "'" in command else "'"
    return f"{quote}{command}{quote}"


def cmd(words: str, path: Path, given: bool) -> str:
    """A spasmwatch command line to suggest, with --config when the family gave one."""
    return f"spasmwatch {words}" + (f" --config {shlex.quote(str(path))}" if given else "")


def utf8_text(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD: what os.environ makes of bytes that are
    not UTF-8 (a login's), which JSON carries ("\\udcff") and UTF-8 cannot encode (SQLite, stdout and
    the pushes refused it: the daemon answered 400 "'utf-8' codec can't encode character")."""
    return "".join("\ufffd" if "\ud800" <= c <= "\udfff" else c for c in text)


# Control characters: C0 (below 0x20), DEL and C1 (0x80-0x9f; 0x9b is a terminal's CSI on its own):
# none belongs in a text of one line, nor is any one to send to a terminal as it is. EDF+ delimits
# annotations with 0x00, 0x14 and 0x15 (a 0x15 in a text: EDFlib refused the whole file), MNE's EDF
# reader drops a text holding a line feed, a tab or line break splits a BIDS TSV row, and an ESC
# in a note typed or posted through the web API or MQTT recoloured, cleared or retitled the
# terminal of whoever listed it.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
# The bidirectional embeddings, overrides and isolates: 'dose 5<U+202E>gm' shows the rest of its
# line reversed on a terminal that does bidi ('dose 5mg'). Right-to-left text needs none of them.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def one_line(text: str) -> str:
    """``text`` on one line: each control character a space, each run of white space one space
    (a caregiver's note of several lines). For the exports' descriptions and the report."""
    return " ".join(_CONTROL.sub(" ", text).split())


def visible(text: str) -> str:
    """``text`` for a terminal listing: each control character shown as its code ('\\x1b', a line
    break '\\x0a', a bidi override '\\u202e'), so a caregiver's, web page's or MQTT client's text can
    neither drive the terminal nor forge a line of the listing; what the store keeps is unchanged."""
    return _BIDI.sub(lambda m: f"\\u{ord(m[0]):04x}", _CONTROL.sub(lambda m: f"\\x{ord(m[0]):02x}", text))
