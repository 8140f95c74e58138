"""English words the CLI and the doctor's report share (the family's alerts have their own
catalogues in several languages: alerts/messages.py)."""

from __future__ import annotations

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
