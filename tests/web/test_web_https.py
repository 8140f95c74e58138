"""The family page over HTTPS in headless Chromium (Debian's): the certificate 'spasmwatch config tls
new' makes (its maker, ``tls.self_signed``, for this computer's names), the page served with it by the
real HttpServer, the browser told to take that one key alone (its SPKI hash, as a phone's family
accepts the one certificate whose fingerprint they compared): the page loads, goes live, signs in with
?token= into a Secure cookie, and is a secure context (what a phone's browser asks before it keeps the
screen on or shows a notification), which plain HTTP at a LAN address is not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fake_daemon import FakeDaemon
from playwright.sync_api import Error as PlaywrightError
from web_harness import ServerThread, Watch, open_context

from spasmwatch.tls import self_signed, this_computers_names

TOKEN = "test-token-0123456789abcdef"


def _opened(browser: Any, url: str) -> tuple[Any, Any, Watch]:
    watch = Watch()
    ctx = open_context(browser, watch)
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_selector("body[data-loaded='1']")
    page.wait_for_selector("#conn[data-state='live']")
    return ctx, page, watch


def test_the_page_over_https_is_a_secure_context_signed_in_by_a_secure_cookie(tls_browser: Any, pair: tuple[Path, Path]) -> None:
    fake = FakeDaemon()
    fake.seed_history()
    with ServerThread(fake, heartbeat_s=1.0, token=TOKEN, tls=pair) as served:
        assert served.url.startswith("https://127.0.0.1:")
        ctx, page, watch = _opened(tls_browser, f"{served.url}?token={TOKEN}")
        try:
            assert page.evaluate("window.isSecureContext") is True
            assert page.evaluate("location.protocol") == "https:"
            assert page.locator(".band[data-device='SW-0001'] .band-name").inner_text() == "Mila's band"
            (cookie,) = ctx.cookies()
            assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"
            page.goto(served.url)  # the cookie alone now, as on the phone the next night
            page.wait_for_selector("#conn[data-state='live']")
        finally:
            ctx.close()
        assert watch.errors == [], watch.errors
        assert watch.urls and watch.non_local() == [], watch.non_local()
        assert all(u.startswith("https://") for u in watch.urls if not u.startswith(("data:", "blob:", "about:"))), watch.urls


def test_another_certificate_is_refused_by_the_browser(tls_browser: Any, tmp_path: Path) -> None:
    """The browser takes the one key it was given, not any: a page served with another certificate
    does not load (the check above is the certificate's, not errors ignored)."""
    cert_pem, key_pem = self_signed(*this_computers_names())
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    ctx = open_context(tls_browser, Watch())
    try:
        with ServerThread(FakeDaemon(), token=TOKEN, tls=(tmp_path / "cert.pem", tmp_path / "key.pem")) as served:
            page = ctx.new_page()
            with pytest.raises(PlaywrightError, match="ERR_CERT_AUTHORITY_INVALID"):
                page.goto(served.url)
    finally:
        ctx.close()

