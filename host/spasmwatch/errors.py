"""One error family for the whole host package (as mpremote has one error type).

The CLI prints ``str(error)`` and exits 2 for any ``SpasmwatchError``; anything
else is a bug and gets a traceback.
"""

from __future__ import annotations


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
