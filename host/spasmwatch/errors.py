"""One error family for the whole host package (as mpremote has one error type).

The CLI prints ``str(error)`` and exits 2 for any ``SpasmwatchError``; anything
else is a bug and gets a traceback.
"""

from __future__ import annotations

import re
import sys


class SpasmwatchError(Exception):
    """Base of every error the user can cause or fix."""


class InputError(SpasmwatchError):
    """Bad input data: names the file, line and field at fault."""

    def __init__(self, path: str, message: str, line: int | None = None, field: str | None = None) -> None:
        self.path = path
        self.message = message
        self.line = line
        self.field = field
        where = path if line is None else f"{path}:{line}"
        what = message if field is None else f"field '{field}': {message}"
        super().__init__(f"{where}: {what}")

    def __reduce__(self) -> tuple[type[InputError], tuple[str, str, int | None, str | None]]:
        # Rebuilt from its parts, not its text: it crosses process pools (evaluate --jobs).
        return (InputError, (self.path, self.message, self.line, self.field))


class ConfigError(SpasmwatchError):
    """Invalid configuration value or file."""


# A whole number longer than this is said by its length: 400 nines (a key held down) filled the screen.
SHOWN_DIGITS = 24
# Python's own limit on a whole number's digits, which parsers (tomllib, json) meet as a ValueError
# (0 is no limit: then no number fails; 4300 is the default one).
_LONG_NUMBER = re.compile(r"\d{%d,}" % (max(sys.get_int_max_str_digits(), 4300) + 1))


def said(value: object) -> str:
    """``repr(value)`` for an error's text; a whole number over SHOWN_DIGITS digits by its length."""
    if isinstance(value, int) and not isinstance(value, bool) and len(digits := str(abs(value))) > SHOWN_DIGITS:
        return f"a number of {len(digits)} digits"
    return repr(value)


def parser_limit(text: str, exc: BaseException, nested: str) -> tuple[str, int] | None:
    """What a parser's failure on ``text`` that is none of its own errors was, and its 1-based line:
    ``nested`` (e.g. "arrays or tables") past Python's recursion limit (a RecursionError), or a whole
    number past its digit limit (a ValueError); None for another failure. A hostile file reaches
    both, and they came out of the commands as tracebacks (found by the hostile-input review)."""
    if isinstance(exc, RecursionError):
        lines = text.splitlines() or [""]
        # The recursion names no place: the line opening the most brackets holds the nesting.
        deepest = max(range(len(lines)), key=lambda i: lines[i].count("[") + lines[i].count("{"))
        return f"{nested} nested too deeply", deepest + 1
    if isinstance(exc, ValueError) and (long := _LONG_NUMBER.search(text)) is not None:
        return f"a number of {len(long.group())} digits", text.count("\n", 0, long.start()) + 1
    return None
