from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser import chromium
from fake_daemon import FakeDaemon
from web_harness import ServerThread, Watch, open_context


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
def fake() -> FakeDaemon:
    f = FakeDaemon()
    f.seed_history()
    return f


@pytest.fixture
def served(fake: FakeDaemon) -> Iterator[ServerThread]:
    with ServerThread(fake, heartbeat_s=1.0) as s:
        yield s


@pytest.fixture
def watch() -> Watch:
    return Watch()


@pytest.fixture
def context(browser: Any, watch: Watch, request: pytest.FixtureRequest) -> Iterator[Any]:
    # The test's page server must outlive the browser context: set up first, it is torn down
    # after the context closes. Otherwise the page's next poll or reconnect, between the two
    # teardowns, meets a closed port and logs a console error (a flaky failure on a fresh clone).
    if "served" in request.fixturenames:
        request.getfixturevalue("served")
    ctx = open_context(browser, watch)
    try:
        yield ctx
    finally:
        ctx.close()
    # Every browser test: nothing left 127.0.0.1, and no script or CSP error.
    assert watch.urls, "the browser made no request at all"
    assert watch.non_local() == [], f"requests left 127.0.0.1: {watch.non_local()}"
    assert watch.errors == [], f"console errors: {watch.errors}"


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()
