"""Debian's Chromium (tools/install-system-deps) driven by Playwright: the status page's tests and
the HTML report's print test open the same browser the same way. Never skipped."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
    # Nothing but this page: no field trials, no safe-browsing lookups, no translate, no DNS prefetch.
    "--disable-field-trial-config", "--disable-features=Translate,OptimizationHints,MediaRouter,DialMediaRouteProvider",
    "--disable-client-side-phishing-detection", "--disable-default-apps", "--disable-domain-reliability",
    "--no-pings", "--metrics-recording-only", "--password-store=basic", "--use-mock-keychain",
]


@contextmanager
def chromium(*more_args: str) -> Iterator[Any]:
    """A headless Chromium browser (Playwright's sync API), closed on leaving; ``more_args``: after CHROMIUM_ARGS."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run tools/install-system-deps (it installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *more_args], timeout=30_000)
        try:
            yield b
        finally:
            b.close()
