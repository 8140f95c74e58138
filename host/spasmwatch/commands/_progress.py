"""How far a long command has got, on one stderr line rewritten in place (a terminal only)."""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

T = TypeVar("T")

SHOW_EVERY_S = 0.5  # a line rewritten faster is a flicker no one reads


class Progress(Generic[T]):
    """``say(done)`` on stderr, at most every SHOW_EVERY_S (the first at once); ``end()`` clears it.
    As a context manager it clears it before each warning (a warning written after it shared its
    line: 'x.csv: 0.1 h replayedspasmwatch replay: warning: ...') and at the end."""

    def __init__(self, say: Callable[[T], str]) -> None:
        self.say = say
        self.last = -SHOW_EVERY_S
        self.width = 0  # of the text shown, 0: none
        self._warn = warnings.showwarning

    def __call__(self, done: T) -> None:
        now = time.monotonic()
        if now - self.last >= SHOW_EVERY_S:
            self.last = now
            text = self.say(done)
            sys.stderr.write("\r" + text.ljust(self.width))
            sys.stderr.flush()
            self.width = len(text)

    def end(self) -> None:
        """Clear the line shown, so what is said next starts on an empty one."""
        if self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            sys.stderr.flush()
            self.width = 0

    def __enter__(self) -> Progress[T]:
        self._warn = warnings.showwarning

        def cleared(*args: Any, **kwargs: Any) -> None:
            self.end()
            self._warn(*args, **kwargs)

        warnings.showwarning = cleared
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        warnings.showwarning = self._warn
        self.end()
