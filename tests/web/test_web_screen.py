"""The family page keeps the phone's screen on (the Screen Wake Lock API), in headless Chromium
(Debian's): a parent watching at night whose phone locks sees no alarm on the page. Offered in a
secure context only: over HTTPS with the certificate 'spasmwatch config tls new' makes, or on this
computer (http://127.0.0.1); a LAN page over plain HTTP says why it cannot and what to run. The
lock is the browser's own (``navigator.wakeLock``): the page says "on" only once the browser gave
it, and says a refusal (the permission denied, through CDP ``Browser.setPermission``) in words.
Until 2026-12-07 the page never kept the screen on (docs/web.md said to use the phone's settings)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser import CHROMIUM, CHROMIUM_ARGS
from fake_daemon import FakeDaemon
from web_harness import ServerThread, Watch, open_context

from spasmwatch.alerts.messages import catalog

TOKEN = "test-token-0123456789abcdef"
LAN_NAME = "nursery.lan"  # a name on the home network, not this computer: no secure context over http://
SCREEN_KEY = "spasmwatch.keep_screen_on"  # app.js: the choice, kept in the phone's localStorage
EN = catalog("en")


def _open(browser: Any, url: str, watch: Watch) -> tuple[Any, Any]:
    ctx = open_context(browser, watch)
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_selector("#conn[data-state='live']")
    return ctx, page


def _launch(browser: Any, *args: str, **kw: Any) -> Any:
    """Another Chromium as tests/browser.py opens it, with ``args`` and Playwright's ``kw``, from
    ``browser``'s Playwright (one runs in a thread: this module's, tls_browser's)."""
    return browser.browser_type.launch(executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *args], timeout=30_000, **kw)


def _screen(page: Any) -> tuple[str, str, str | None]:
    """The control's state (app.js: 'on' only once the browser gave the lock), its words, and the stored choice."""
    return tuple(page.evaluate(f"""() => [document.getElementById('screen').dataset.state,
        document.getElementById('screen-msg').textContent, localStorage.getItem('{SCREEN_KEY}')]"""))


def _deny_wake_lock(browser: Any, page: Any) -> Any:
    """The screen wake lock permission denied for the page's origin in its own browser context (as a
    phone's site settings can), through CDP: Playwright names no such permission. It holds while
    the CDP session returned is attached (detached, Chromium undoes it)."""
    cdp = browser.new_browser_cdp_session()
    (context_id,) = {t["browserContextId"] for t in cdp.send("Target.getTargets")["targetInfos"] if t["url"] == page.url}
    origin = page.evaluate("location.origin")
    cdp.send("Browser.setPermission", {"permission": {"name": "screen-wake-lock"}, "setting": "denied", "origin": origin,
                                       "browserContextId": context_id})  # fmt: skip
    assert page.evaluate("async () => (await navigator.permissions.query({name: 'screen-wake-lock'})).state") == "denied"
    return cdp


@pytest.fixture
def https_page(tls_browser: Any, pair: tuple[Path, Path]) -> Iterator[Any]:
    fake = FakeDaemon()
    fake.seed_history()
    watch = Watch()
    with ServerThread(fake, heartbeat_s=1.0, token=TOKEN, tls=pair) as served:
        ctx, page = _open(tls_browser, f"{served.url}?token={TOKEN}", watch)
        try:
            yield page
        finally:
            ctx.close()
    assert watch.errors == [] and watch.non_local() == [], (watch.errors, watch.non_local())


def test_over_https_a_tap_keeps_the_screen_on_and_the_choice_is_kept(https_page: Any) -> None:
    """Old code: no such control (no #screen)."""
    page = https_page
    assert page.evaluate("window.isSecureContext") is True
    assert _screen(page) == ("off", EN["page.screen.off"], None)
    toggle = page.locator("#screen-toggle")
    assert toggle.is_visible() and toggle.inner_text() == EN["page.screen.keep"]
    assert toggle.get_attribute("aria-pressed") == "false"
    toggle.click()
    page.wait_for_selector("#screen[data-state='on']")
    assert _screen(page) == ("on", EN["page.screen.on"], "1")
    assert toggle.get_attribute("aria-pressed") == "true" and toggle.inner_text() == EN["page.screen.stop"]
    # The next night: the page opened again asks for the lock itself, no tap.
    page.reload()
    page.wait_for_selector("#screen[data-state='on']")
    assert _screen(page) == ("on", EN["page.screen.on"], "1")
    # Let it lock: the lock given back (its release event), the choice kept as off.
    page.locator("#screen-toggle").click()
    page.wait_for_selector("#screen[data-state='off']")
    assert _screen(page) == ("off", EN["page.screen.off"], "0")


def test_a_wake_lock_the_phone_refuses_is_said_and_can_be_asked_again(tls_browser: Any, https_page: Any) -> None:
    page = https_page
    cdp = _deny_wake_lock(tls_browser, page)
    page.locator("#screen-toggle").click()
    page.wait_for_selector("#screen[data-state='refused']")
    assert _screen(page) == ("refused", EN["page.screen.refused"], "1")
    assert page.locator("#screen-toggle").get_attribute("aria-pressed") == "true"
    # Off and on again asks the browser again (still refused: said again, no script error).
    page.locator("#screen-toggle").click()
    page.wait_for_selector("#screen[data-state='off']")
    page.locator("#screen-toggle").click()
    page.wait_for_selector("#screen[data-state='refused']")
    cdp.detach()


def test_the_lock_given_back_while_the_page_was_hidden_is_asked_for_again_when_it_is_shown(tls_browser: Any, served: ServerThread) -> None:
    """The browser gives the lock back when the page is hidden (another page over it, the phone's
    screen turned off by its button): shown again, the page asks for it again. Here the page is
    left for another and come back to from the back/forward cache, as a phone's back button does
    (the same page, hidden and shown: Playwright turns that cache off, this browser has it); on
    this computer's own address (http://127.0.0.1, a secure context too)."""
    watch = Watch()
    bfcache = _launch(tls_browser, ignore_default_args=["--disable-back-forward-cache"])
    try:
        ctx, page = _open(bfcache, served.url, watch)
        page.locator("#screen-toggle").click()
        page.wait_for_selector("#screen[data-state='on']")
        page.evaluate("""() => { window.swShown = []; addEventListener('pageshow', (e) => swShown.push(e.persisted));
            const box = document.getElementById('screen'); window.swStates = [];
            new MutationObserver(() => swStates.push(box.dataset.state)).observe(box, { attributeFilter: ['data-state'] }); }""")
        page.goto(f"{served.url}?another")  # the page again, as a new document (another has no icon: 404 for /favicon.ico)
        page.wait_for_selector("#screen[data-state='on']")  # that one holds it now (the choice kept)
        page.go_back(wait_until="commit")  # restored from the cache: no load event
        page.wait_for_function("() => window.swShown && window.swShown.length > 0")
        assert page.evaluate("window.swShown") == [True], "not restored from the back/forward cache"
        page.wait_for_selector("#screen[data-state='on']")
        assert page.evaluate("window.swStates") == ["paused", "on"]  # given back when hidden, asked for and given again
        ctx.close()
    finally:
        bfcache.close()
    assert watch.errors == [] and watch.non_local() == [], (watch.errors, watch.non_local())


def test_a_lan_page_over_plain_http_says_why_it_cannot_keep_the_screen_on(tls_browser: Any) -> None:
    """A phone opening http://nursery.lan:8765/ (lan = true, no certificate): no secure context,
    no wake lock; the page says so and names the command that gives it one."""
    fake = FakeDaemon()
    fake.seed_history()
    watch = Watch()
    # That name resolved to this computer.
    lan = _launch(tls_browser, f"--host-resolver-rules=MAP {LAN_NAME} 127.0.0.1")
    with ServerThread(fake, heartbeat_s=1.0, token=TOKEN) as served:
        ctx, page = _open(lan, f"http://{LAN_NAME}:{served.port}/?token={TOKEN}", watch)
        try:
            assert page.evaluate("window.isSecureContext") is False
            assert page.locator("#screen-toggle").is_hidden()
            state, words, kept = _screen(page)
            assert (state, words, kept) == ("unavailable", EN["page.screen.needs_https"], None)
            assert "spasmwatch config tls new" in words, words
        finally:
            ctx.close()
            lan.close()
    assert watch.errors == [], watch.errors
    assert {u.split("/")[2] for u in watch.urls if u.startswith("http")} == {f"{LAN_NAME}:{served.port}"}, watch.urls
