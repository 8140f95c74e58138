"""The family page says what 'spasmwatch status' says and no alarm is: the settings that hand the
baby's data to whoever looks (daemon/wiring.py exposures) and a daemon running other code than is
installed now (an upgrade under it), settings changed in the file that only a restart applies,
each with what to do, in the family's language, under "To put
right". Until review h46 only the status command said them: a family who looks at the phone alone
never learned that its pushes cross the internet in clear, or that its upgrade is not running.

Real parts: ``spasmwatch run`` as a process on 127.0.0.1 (one simulated band, away), its config on
disk, 'spasmwatch reload' and 'status' as processes, headless Chromium. The http:// servers are
under '.example' (a name that never resolves): nothing is sent in the test, and nothing could leave
this computer. The old code is real files changed under a daemon run from a copy of the package
(tests/daemon/test_upgrade_under_daemon.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from daemon.test_upgrade_under_daemon import _installed
from daemonproc import one_band_config, status_once_up, stopped
from servers import free_port
from web_harness import Watch, open_context

from spasmwatch.alerts.messages import page_text
from spasmwatch.daemon.consts import CODE_CHECK_S

TOPIC = "spasmwatch-Qw8Jx2Lm5Np7Rt3Vy6Zb1Cd4"  # a made one: only its http:// is said
PLAIN = (f'[[channels.ntfy]]\nname = "phones"\nurl = "http://ntfy.example/{TOPIC}"\n\n'
         '[[channels.webhook]]\nname = "home"\nurl = "http://hooks.example/s3cr3t"\n')  # fmt: skip
SEEN_MS = 15_000  # a hang guard: the page re-reads the status at the daemon's message, at once
# A hang guard for the daemon's look at its installed code (every CODE_CHECK_S) and the page's read after it.
UPGRADE_SEEN_MS = int(CODE_CHECK_S * 1000) + 60_000
NOTICES = "#notices-list li"


def _cli(config: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "spasmwatch", *args, "--config", str(config)], capture_output=True, text=True,
                          timeout=60, env=env)  # fmt: skip


@contextmanager
def _daemon(config: Path, port: int, env: dict[str, str] | None = None) -> Iterator[None]:
    """``spasmwatch run`` of ``config`` (from the copies ``env`` imports), once its page answers on
    ``port``; stopped by SIGTERM at the end, its exit 0 asserted."""
    proc = subprocess.Popen([sys.executable, "-m", "spasmwatch", "run", "--config", str(config)], stderr=subprocess.PIPE, text=True, env=env)
    try:
        status_once_up(proc, port)
        yield
    finally:
        log = stopped(proc)
    assert proc.returncode == 0, log


@contextmanager
def _page(browser: Any, port: int) -> Iterator[Any]:
    """The page of the daemon on ``port``, loaded, in a phone's context; closed before the daemon
    stops (a poll of a closed port logs an error), then nothing left 127.0.0.1 and no console error."""
    watch = Watch()
    ctx = open_context(browser, watch)
    try:
        page = ctx.new_page()
        page.goto(f"http://127.0.0.1:{port}/")
        page.wait_for_selector("body[data-loaded='1']")
        yield page
    finally:
        ctx.close()
    assert watch.non_local() == [] and watch.errors == [], (watch.non_local(), watch.errors)


def _notices(page: Any) -> list[str]:
    return [str(t) for t in page.locator(NOTICES).all_text_contents()]


def test_the_page_says_what_the_config_exposes_with_what_to_do_until_a_reload_mends_it(browser: Any, tmp_path: Path) -> None:
    """An ntfy server and a webhook reached by plain http:// past the home network: the page lists
    both as status does, each with what to do, without the topic or the URL's path; a reload that
    mends one takes its notice away live and leaves the other's node as it was (a polite live
    region: a screen reader reads a notice once, when it comes); mended both, the section goes.
    Old code: the page said neither."""
    port = free_port()
    config = one_band_config(tmp_path / "config.toml", tmp_path / "data", port)
    plain = config.read_text() + "\n" + PLAIN
    config.write_text(plain)
    with _daemon(config, port), _page(browser, port) as page:
        page.wait_for_selector("#notices:not([hidden])")
        said = _notices(page)
        status = [line.removeprefix("warning: ") for line in _cli(config, "status").stdout.splitlines() if line.startswith("warning: ")]
        assert said == status and len(said) == 2, (said, status)  # the status's words, in the page's (English) language
        assert said[0].startswith("[channels.ntfy #1] (ntfy:phones): plain http://ntfy.example, not on this computer or the home network")
        assert said[1].startswith("[channels.webhook #1] (webhook:home): plain http://hooks.example,")
        assert all(s.endswith("Use its https:// address in the config") for s in said)
        assert not any(TOPIC in s or "s3cr3t" in s for s in said)
        assert page.locator("#notices-h").text_content() == "To put right (monitoring goes on meanwhile)"
        # Not the alarm: no red banner, no alert, and said in a polite region of its own.
        assert page.locator("#alert .alert.alarm").count() == 0
        assert page.evaluate("() => document.querySelector('#notices-list').closest('[role=status]') !== null")
        assert page.evaluate("() => !document.querySelector('#notices').closest('[role=alert], [aria-live=assertive]')")

        page.evaluate(f"window.__hook = document.querySelectorAll('{NOTICES}')[1]")
        config.write_text(plain.replace("http://ntfy.example", "https://ntfy.example"))
        assert _cli(config, "reload").returncode == 0
        page.wait_for_function(f"() => document.querySelectorAll('{NOTICES}').length === 1", timeout=SEEN_MS)
        assert page.evaluate(f"() => document.querySelector('{NOTICES}') === window.__hook")  # kept: not read out again
        assert _notices(page) == said[1:]

        config.write_text(plain.replace("http://", "https://"))
        assert _cli(config, "reload").returncode == 0
        page.wait_for_selector("#notices", state="hidden", timeout=SEEN_MS)
        assert _notices(page) == []


def test_the_page_says_it_in_the_familys_language(browser: Any, tmp_path: Path) -> None:
    """A German family's page: the webhook's notice in German, with its what to do, and the
    heading; the English words are the log's and status's. Old code: nothing on the page."""
    port = free_port()
    config = one_band_config(tmp_path / "config.toml", tmp_path / "data", port)
    config.write_text(config.read_text() + '\n[alerts]\nlanguage = "de"\n\n' + PLAIN.split("\n\n")[1])
    with _daemon(config, port), _page(browser, port) as page:
        page.wait_for_selector("#notices:not([hidden])")
        args = {"i": 1, "channel": "webhook:home", "origin": "http://hooks.example"}
        assert _notices(page) == [page_text("exposure.plain_webhook", args, "de")]
        assert _notices(page)[0].startswith("[channels.webhook #1] (webhook:home): unverschlüsseltes http://hooks.example, nicht auf")
        assert "https://-Adresse" in _notices(page)[0] and "s3cr3t" not in _notices(page)[0]
        assert page.locator("#notices-h").text_content() == "Zu beheben (die Überwachung läuft währenddessen weiter)"
        # Its long words ("[channels.webhook #1]", the origin) break: no sideways scroll on a small phone.
        page.set_viewport_size({"width": 360, "height": 640})
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
        # A setting only a restart applies, in German too, after the exposure's notice.
        config.write_text(config.read_text().replace("[daemon]\n", '[daemon]\nlog_level = "debug"\n'))
        assert _cli(config, "reload").returncode == 0
        page.wait_for_function(f"() => document.querySelectorAll('{NOTICES}').length === 2", timeout=SEEN_MS)
        restart = "beenden Sie 'spasmwatch run' (Strg+C) und starten Sie es wieder"
        assert _notices(page)[1] == page_text("config_restart", {"keys": "daemon.log_level", "restart": restart}, "de")
        assert _notices(page)[1].startswith("In der Konfigurationsdatei geändert, wirksam erst beim Start der Überwachung: daemon.log_level.")


def test_the_page_says_which_settings_wait_for_a_restart_in_status_words_until_the_file_agrees(browser: Any, tmp_path: Path) -> None:
    """``[daemon] log_level`` and ``[daemon.http] port`` changed in the file and reloaded: applied
    only when the daemon starts, so the page says which, and how to restart it (started by hand
    here), in the very words 'spasmwatch status' prints (page.config_restart, one template); a
    notice that comes after it leaves its node as it was (a polite live region: read once); the
    file put back and reloaded, the card goes. Old code: the page never said it."""
    port = free_port()
    config = one_band_config(tmp_path / "config.toml", tmp_path / "data", port)
    original = config.read_text()
    changed = original.replace("[daemon]\n", '[daemon]\nlog_level = "debug"\n').replace(f"port = {port}", f"port = {free_port()}")
    with _daemon(config, port), _page(browser, port) as page:
        page.wait_for_selector("#conn[data-state='live']")
        assert page.locator("#notices").is_hidden()
        config.write_text(changed)
        assert _cli(config, "reload").returncode == 0
        page.wait_for_selector("#notices:not([hidden])", timeout=SEEN_MS)
        said = _notices(page)
        restart = page_text("restart_by_hand", {})
        assert said == [page_text("config_restart", {"keys": "daemon.log_level, daemon.http.port", "restart": restart})], said
        assert said[0].startswith("Changed in the config file, applied only when the monitor starts: daemon.log_level, "
                                  "daemon.http.port. Restart the monitor: stop 'spasmwatch run' (Ctrl+C)"), said  # fmt: skip
        assert said[0] in _cli(config, "status").stdout.splitlines()  # status's line, word for word

        # Another notice comes (a plain http:// webhook, before it in the list): this one's node stays.
        page.evaluate(f"window.__hook = document.querySelector('{NOTICES}')")
        config.write_text(changed + "\n" + PLAIN.split("\n\n")[1])
        assert _cli(config, "reload").returncode == 0
        page.wait_for_function(f"() => document.querySelectorAll('{NOTICES}').length === 2", timeout=SEEN_MS)
        assert _notices(page)[1] == said[0] and _notices(page)[0].startswith("[channels.webhook #1]")
        assert page.evaluate(f"() => document.querySelectorAll('{NOTICES}')[1] === window.__hook")  # kept: not read out again

        config.write_text(original)
        assert _cli(config, "reload").returncode == 0
        page.wait_for_selector("#notices", state="hidden", timeout=SEEN_MS)
        assert _notices(page) == []


def test_a_daemon_whose_config_exposes_nothing_shows_no_notice(browser: Any, tmp_path: Path) -> None:
    port = free_port()
    config = one_band_config(tmp_path / "config.toml", tmp_path / "data", port)
    config.write_text(config.read_text() + "\n" + PLAIN.replace("http://", "https://"))
    with _daemon(config, port), _page(browser, port) as page:
        page.wait_for_selector("#conn[data-state='live']")
        assert page.locator("#notices").is_hidden() and _notices(page) == []
        assert "To put right" not in page.locator("body").inner_text()


def test_the_page_says_to_restart_a_daemon_whose_code_was_upgraded_under_it_in_status_words(browser: Any, tmp_path: Path) -> None:
    """A file of the installed package changed under the running daemon (an upgrade, 'git pull'):
    within CODE_CHECK_S the page says the monitor runs the code it started from, and how to restart
    it (started by hand here: Ctrl+C and run again), in the very words 'spasmwatch status' prints
    (page.old_code, one template), which adds the two digests. Before the change: nothing. Old code:
    the page said nothing, ever."""
    site, port = tmp_path / "site", free_port()
    env = _installed(site)
    config = one_band_config(tmp_path / "config.toml", tmp_path / "data", port)
    with _daemon(config, port, env), _page(browser, port) as page:
        page.wait_for_selector("#conn[data-state='live']")
        assert page.locator("#notices").is_hidden()
        with open(site / "spasmwatch" / "words.py", "a") as f:
            f.write("\n# a line the upgrade added\n")  # the new version's file, the daemon not restarted
        page.wait_for_selector("#notices:not([hidden])", timeout=UPGRADE_SEEN_MS)
        said = _notices(page)
        restart = "stop 'spasmwatch run' (Ctrl+C) and start it again"
        assert said == [page_text("old_code", {"restart": restart})], said
        status = _cli(config, "status", env=env).stdout.splitlines()
        assert [line for line in status if line.startswith(said[0] + " (code it runs: ")], status


def test_a_config_past_a_bound_after_an_upgrade_starts_the_monitor_on_the_bound_and_says_so(browser: Any, tmp_path: Path) -> None:
    """A family's config that the release before the bounds took, escalate_after_s = 1e308 and
    rate_limit_s = 7200, after an upgrade: the monitor starts on the bounds (600 s, 3600 s), and the
    journal, 'spasmwatch status' and the page (in the family's language, French here) say each
    value, its file and line, the bound, what it runs with and why. Old code: the loader refused
    the file, the daemon did not start: no monitoring at all."""
    port = free_port()
    config = one_band_config(tmp_path / "config.toml", tmp_path / "data", port)
    config.write_text(config.read_text() + '\n[alerts]\nlanguage = "fr"\nescalate_after_s = 1e308\nrate_limit_s = 7200\n')
    lines = config.read_text().splitlines()
    at = {key: lines.index(f"{key} = {v}") + 1 for key, v in (("escalate_after_s", "1e308"), ("rate_limit_s", "7200"))}
    with _daemon(config, port), _page(browser, port) as page:
        page.wait_for_selector("#notices:not([hidden])")
        status = [line.removeprefix("warning: ") for line in _cli(config, "status").stdout.splitlines() if line.startswith("warning: ")]
        assert status == [
            f"{config}, line {at['escalate_after_s']}: [alerts] escalate_after_s = 1e+308 is past its bound (0-600 s), taken as 600: "
            + page_text("bound_why.escalate_after_s", {}) + ". Write 600 (or a value within the bound) in the file to end this notice",
            f"{config}, line {at['rate_limit_s']}: [alerts] rate_limit_s = 7200 is past its bound (0-3600 s), taken as 3600: "
            + page_text("bound_why.rate_limit_s", {}) + ". Write 3600 (or a value within the bound) in the file to end this notice",
        ], status
        said = _notices(page)
        assert len(said) == 2 and said[0].startswith(f"{config}, ligne {at['escalate_after_s']} : [alerts] escalate_after_s = 1e+308 "), said
        assert "600" in said[0] and "3600" in said[1] and said != status, said
        config_get = _cli(config, "config", "get", "alerts.escalate_after_s")
        assert config_get.stdout.strip() == "600" and config_get.stderr.splitlines()[0] == "warning: " + status[0]
