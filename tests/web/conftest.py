from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import chromium
from fake_daemon import FakeDaemon
from web_harness import ServerThread, Watch, open_context

from spasmwatch.tls import load, self_signed, this_computers_names


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


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A certificate and key for this computer, as 'spasmwatch config tls new' makes them (``tls.self_signed``)."""
    folder = tmp_path_factory.mktemp("tls")
    cert_pem, key_pem = self_signed(*this_computers_names())
    (folder / "cert.pem").write_bytes(cert_pem)
    (folder / "key.pem").write_bytes(key_pem)
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture(scope="module")
def tls_browser(pair: tuple[Path, Path]) -> Iterator[Any]:
    # That key alone is taken despite its self-signed certificate: not --ignore-certificate-errors (any at all)
    with chromium(f"--ignore-certificate-errors-spki-list={load(*pair).spki_sha256}") as b:
        yield b
