"""The TZ a test runs in, the C library's localtime following it; with the ``tz_env`` fixture
(tests/conftest.py), which puts both back after the test."""

from __future__ import annotations

import time

import pytest


def set_tz(env: pytest.MonkeyPatch, value: str) -> None:
    env.setenv("TZ", value)
    time.tzset()
