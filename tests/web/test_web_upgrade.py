"""The page open at the bedside across a daemon restart on another spasmwatch version (an upgrade's,
a rollback's): it loads that version's page rather than reading the new daemon's API with the old
one's code (docs/web.md, "A page open across an upgrade")."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

from fake_daemon import FakeDaemon
from playwright.sync_api import Error as PlaywrightError
from servers import free_port
from web_harness import ServerThread, Watch, open_context

from spasmwatch.daemon.http import web_dir

RELOAD_S = 60.0  # a hang guard: the page asks again within its stream's retry (a few s) or its 30 s poll


def _version(folder: Path, mark: str) -> Path:
    """The page's files with app.js marking the window ``mark``: another version's page."""
    shutil.copytree(web_dir(), folder)
    app = folder / "app.js"
    app.write_text(app.read_text() + f"\nwindow.spasmwatchVersion = {mark!r};\n")
    return folder


def _until_version(page: Any, mark: str) -> None:
    """Until the page runs the app.js marked ``mark`` (the page's CSP allows no wait_for_function)."""
    end = time.monotonic() + RELOAD_S
    while True:
        try:
            if page.evaluate("window.spasmwatchVersion") == mark:
                return
        except PlaywrightError:  # (the page reloading: its context gone meanwhile)
            pass
        assert time.monotonic() < end, f"the page still runs {page.evaluate('window.spasmwatchVersion')!r}"
        time.sleep(0.2)


def test_a_page_open_across_a_restart_on_another_version_loads_that_versions_page(browser: Any, fake: FakeDaemon, tmp_path: Path) -> None:
    """Found by review h45: the page never loaded its code again, so a phone's page opened before an
    upgrade read the upgraded daemon's API with the old version's app.js all night (a field renamed
    or moved: an alarm not drawn). Every answer names the daemon's page files (X-Spasmwatch-Page);
    the page reloads when it reads another than the first it read. Old code: still the old page."""
    port = free_port()
    ctx = open_context(browser, Watch())  # (the restart's closed port logs errors: not this test's subject)
    try:
        page = ctx.new_page()
        with ServerThread(fake, port=port, static_dir=_version(tmp_path / "old", "old")) as old:
            page.goto(old.url)
            page.wait_for_selector("#conn[data-state='live']")
            assert page.evaluate("window.spasmwatchVersion") == "old"
        with ServerThread(fake, port=port, static_dir=_version(tmp_path / "new", "new")):
            _until_version(page, "new")
            page.wait_for_selector("#conn[data-state='live']")
            again = ctx.new_page()  # the same version's page stays: no reload while the id is the same
            again.goto(f"http://127.0.0.1:{port}/")
            again.wait_for_selector("#conn[data-state='live']")
            again.evaluate("window.stayed = true")
            again.evaluate("fetch('/api/status')")
            again.wait_for_timeout(500)
            assert again.evaluate("window.stayed") is True
    finally:
        ctx.close()
