"""The family page in the family's language ([alerts] language, as the pushes): its words come from
the "page." templates of alerts/messages.py and alerts/lang/<code>.py, embedded once in index.html
with ``<html lang>`` set; app.js looks them up. Until 2026-12-05 the page was English only: a German
family got a German alarm on the phone and opened an English page to acknowledge it.

Real headless Chromium against HttpServer and the in-memory DaemonAPI (as test_web_page.py), a real
Daemon behind the page's ``<html lang>``, and app.js/index.html parsed for every word they look up.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fake_daemon import FakeDaemon
from test_web_page import load, today_t, wait_for
from web_harness import ServerThread, Watch, open_context

from spasmwatch.alerts import messages as M
from spasmwatch.alerts.model import LANGUAGES, BandFault
from spasmwatch.config import from_dict
from spasmwatch.daemon.daemon import Daemon
from spasmwatch.daemon.http import web_dir
from spasmwatch.daemon.session import NOT_BONDED
from spasmwatch.daemon.wiring import alert_settings_from
from spasmwatch.store import Store
from spasmwatch.store._db import BACKUP, COPY, RENAME, UNREADABLE

WEB = web_dir()
WAYS = (COPY, BACKUP, RENAME, UNREADABLE)  # the ways out /api/status gives a store (store._db.Fix)


def used_keys() -> set[str]:
    """Every word app.js and index.html look up, as the catalogues' keys ("page." + key, but for the
    ones the pushes share, M.SHARED_WITH_PAGE; a plural tn("x") needs "x.one" and "x.other")."""
    js = (WEB / "app.js").read_text(encoding="utf-8")
    html = (WEB / "index.html").read_text(encoding="utf-8")
    plain = set(re.findall(r'\bt\("([^"]+)"', js)) | set(re.findall(r'\bdata-t(?:-[a-z-]+)?="([^"]+)"', html))
    plurals = set(re.findall(r'\btn\("([^"]+)"', js))
    keys = plain | {f"{k}.{form}" for k in plurals for form in ("one", "other")}
    return {k if k.startswith(M.SHARED_WITH_PAGE) else f"page.{k}" for k in keys}


def optional_keys() -> set[str]:
    """The words app.js looks up by a built key and shows only where the catalogue has it: faultName's
    text for a fault with the store's own way out (/api/status store.way, one of WAYS); and the
    reason of a config value taken as its bound (EXPOSURE.past_bound: English's bound_why words,
    each of which tests/test_config_bounds.py finds in every language for the bound that uses it)."""
    js = (WEB / "app.js").read_text(encoding="utf-8")
    whys = {k for k in M.catalog("en") if k.startswith("page.bound_why.")} if "t(`bound_why.${a.why}`)" in js else set()
    if "`fault.${f}.${st.way}`" not in js or "WORDS[way] !== undefined" not in js:
        return whys
    return whys | {f"page.fault.{f.value}.{way}" for f in BandFault for way in WAYS}


def test_the_lookups_are_found_in_app_js_and_index_html() -> None:
    keys = used_keys()
    # A parser that finds nothing would pass the test below on any catalogue.
    assert {"page.ack", "page.cluster_title", "page.config_error", "spasms.one", "page.ago", "page.band"} <= keys
    assert len(keys) > 100, len(keys)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_word_the_page_looks_up_exists_in_every_language(lang: str) -> None:
    cat = M.catalog(lang)
    assert sorted(used_keys() - set(cat)) == [], f"the page looks up words {lang} lacks"
    # A way out's text English has, every language has (without it the page gives the fault's usual one).
    assert sorted((optional_keys() & set(M.catalog("en"))) - set(cat)) == [], f"the page's ways out {lang} lacks"
    # And no page word the page no longer uses (a translator would translate it for nothing).
    used = used_keys() | optional_keys()
    assert sorted({k for k in cat if k.startswith(("page.", *M.SHARED_WITH_PAGE))} - used) == [], f"{lang}: page words nothing uses"


def test_the_page_names_every_band_fault() -> None:
    """app.js FAULT_NAMES (or its own line for a damaged store, which names the command): a fault it
    lacks showed as its bare value ("samples_lost") on a band's card in every language."""
    js = (WEB / "app.js").read_text(encoding="utf-8")
    names = re.search(r"const FAULT_NAMES = \{(.*?)\};", js, re.DOTALL)
    assert names is not None
    named = set(re.findall(r"^\s*(\w+): t\(\"fault\.\1\"\),$", names.group(1), re.MULTILINE)) | {BandFault.STORE_DAMAGED.value}
    assert sorted({f.value for f in BandFault} - named) == []


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as r:
        body: bytes = r.read()
    return body.decode()


def test_html_lang_follows_the_config_and_a_reload_of_it(tmp_path: Path) -> None:
    """Through main.http_server (what `spasmwatch run` serves) and a real Daemon: [alerts] language
    sets the page's lang and words, and the Last 24 hours card's (/api/summary ``local``; its ``text``
    stays English for other clients); a reload to another language reaches the next page load."""
    from spasmwatch.daemon.main import http_server  # here: before 2026-12-05 it did not exist, the other tests still run

    with socket.socket() as free:  # [daemon.http] port takes 1-65535: a port free now
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    cfg = from_dict({"alerts": {"language": "de"}, "daemon": {"http": {"port": port}}}, "config.toml")

    async def main() -> None:
        store = Store(tmp_path / "spasmwatch.db")
        store.upsert_device("cot", name="cot", wall_s=time.time())
        daemon = Daemon(store, [], alert_settings=alert_settings_from(cfg))
        server = http_server(cfg, daemon)
        host, port = await server.start()
        try:
            html = await asyncio.to_thread(get, f"http://{host}:{port}/")
            assert html.startswith('<!doctype html>\n<html lang="de">'), html[:80]
            assert '"ack": "Übernehmen"' in html and 'id="page-words"' in html
            [card] = json.loads(await asyncio.to_thread(get, f"http://{host}:{port}/api/summary"))
            assert card["local"]["lang"] == "de" and card["local"]["text"].startswith("Letzte 24 h: nicht überwacht"), card
            assert card["text"].startswith("Last 24 h: not monitored"), card  # English, for other clients
            daemon.set_alert_settings(replace(daemon.engine.settings, language="fr"))  # as `spasmwatch reload` does
            html = await asyncio.to_thread(get, f"http://{host}:{port}/")
            assert '<html lang="fr">' in html and '"ack": "Prendre en charge"' in html
            [card] = json.loads(await asyncio.to_thread(get, f"http://{host}:{port}/api/summary"))
            assert card["local"]["lang"] == "fr" and card["local"]["text"].startswith("Dernières 24 h"), card
        finally:
            await server.stop()
            store.close()

    asyncio.run(asyncio.wait_for(main(), 30))


@contextmanager
def live_page(browser: Any, fake: FakeDaemon, lang: str, **context: Any) -> Iterator[tuple[Any, ServerThread]]:
    """The page loaded from ``fake`` in ``lang`` in a new browser context (``context``: its
    options), with its server; no console error by its end, and nothing asked of another host."""
    watch = Watch()
    with ServerThread(fake, heartbeat_s=1.0, language=lambda: lang) as s:
        ctx = open_context(browser, watch, **context)
        try:
            page = ctx.new_page()
            load(page, s.url)
            yield page, s
        finally:
            ctx.close()
    assert watch.errors == [], f"console errors: {watch.errors}"
    assert watch.non_local() == []


def test_english_is_the_default_and_serves_the_file_as_it_is_plus_its_words(fake: FakeDaemon) -> None:
    with ServerThread(fake) as s:
        html = get(s.url)
    words = re.search(r'<script type="application/json" id="page-words">.*?</script>\n', html)
    assert words is not None
    assert html.replace(words.group(0), "") == (WEB / "index.html").read_text(encoding="utf-8")
    assert '"ack": "Acknowledge"' in words.group(0)


def test_the_page_in_german_shows_the_alarm_and_acknowledges_it(browser: Any, fake: FakeDaemon) -> None:
    c = fake.add_cluster(today_t(5), count=4, post_wake_s=12 * 60)
    alert_id = next(a["id"] for a in fake.alerts.values() if a["cluster_id"] == c["id"])
    with live_page(browser, fake, "de") as (page, s):
        assert page.evaluate("document.documentElement.lang") == "de"
        # German's longer words still fit a phone (390 px, as test_web_page.py checks English).
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        alarm = page.locator(f".alert[data-alert-id='{alert_id}']")
        # The daemon's own title and text stay as it words them; the page's words are German.
        assert alarm.locator(".facts").inner_text().startswith("4 krampfartige Bewegungen · seit ")
        assert "12 min nach dem Aufwachen" in alarm.locator(".facts").inner_text()
        assert page.locator("#bands-h").inner_text() == "Brustgurt"
        assert page.locator("#clusters-h").inner_text() == "Serien heute"
        assert page.locator("#clusters-help b").all_inner_texts() == ["Bestätigt", "Fehlalarm"]
        assert "keine Diagnose" in page.locator(".disclaimer").inner_text()
        assert "Kinderärztin oder Ihren Kinderarzt" in page.locator(".disclaimer").inner_text()
        assert page.locator("#conn-text").inner_text() == "Live"
        page.fill("#who", "Papa")
        page.locator("#who").dispatch_event("change")
        # "Übernehmen", not "Bestätigen": the label below says "Bestätigt" of a cluster seen to be real
        button = alarm.get_by_role("button", name="Übernehmen: ALARM")
        assert button.inner_text() == "Übernehmen"
        button.click()
        wait_for(lambda: s.call(lambda: fake.alerts[alert_id]["state"]) == "ACKNOWLEDGED", what="ack in the API")
        assert s.call(lambda: fake.alerts[alert_id]["acked_by"]) == "Papa"
        page.wait_for_selector(f".alert[data-alert-id='{alert_id}'][data-state='ACKNOWLEDGED']")
        assert "Übernommen von Papa." in alarm.inner_text()
        # The false-alarm flow, and the config-error banner, in German too.
        row = page.locator(f".cluster[data-cluster-id='{c['id']}']")
        row.get_by_role("button", name="Fehlalarm").click()
        wait_for(lambda: s.call(lambda: fake.cluster_rows[c["id"]]["label"]) == "false_alarm", what="label")
        s.call(fake.set_config_error, {"error": "config.toml: [alerts] sprache: unknown key", "since": s.call(fake.now), "path": "config.toml", "reload": "'spasmwatch reload'"})
        banner = page.locator("#config-error")
        banner.wait_for(state="visible")
        assert banner.inner_text().startswith("Die Änderung der Konfiguration wurde nicht übernommen (seit ")
        # No English page word left where the family reads (the daemon's alarm text aside).
        body = page.locator("body").inner_text()
        for english in ("Acknowledge", "Loading", "Last 24 hours", "Today's clusters", "Battery", "Save note", "Send a test alarm"):
            assert english not in body, english


# A daemon started with --config on a path with a space, as Daemon.status says it (tests/daemon/test_reload.py).
OWN_RELOAD = "\"spasmwatch reload --config '/media/me/usb disk/band.toml'\""


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_config_error_banner_names_the_reload_of_the_daemons_own_config_in_every_language(browser: Any, fake: FakeDaemon, lang: str) -> None:
    """A daemon started with ``--config`` reloads from that file: a bare 'spasmwatch reload' asks
    the daemon of the default config (another one, or none). Until 2026-12-06 every language's
    banner said the bare command."""
    with live_page(browser, fake, lang) as (page, s):
        path = "/media/me/usb disk/band.toml"
        s.call(fake.set_config_error, {"error": f"{path}: [alerts] langauge: unknown key", "since": s.call(fake.now), "path": path, "reload": OWN_RELOAD})
        banner = page.locator("#config-error")
        banner.wait_for(state="visible")
        text = banner.inner_text()
        assert OWN_RELOAD in text and text.count("spasmwatch reload") == 1, text


def english_sentences() -> set[str]:
    """Every run of 2 words or more of the English catalogue (alerts/messages.py EN: the pushes, the
    daily summary, the page) between its placeholders, unless German keeps it too (a command such as
    'spasmwatch status' is the same in every language)."""
    german = " ".join(M.catalog("de").values())
    runs = {run.strip(" .,:;()'—") for template in M.EN.values() for run in re.split(r"\{\w+\}", template)}
    return {r for r in runs if len(re.findall(r"\w+", r)) >= 2 and r not in german}


def test_the_english_sentences_are_found() -> None:
    sentences = english_sentences()
    # A split that finds nothing would pass the check below on any page.
    assert {"Last 24 h", "Not connecting", "Keep any video and tell your pediatrician", "Battery low"} <= sentences
    assert len(sentences) > 150, len(sentences)


def test_a_german_page_has_no_english_sentence_with_a_band_in_error_and_the_summary(browser: Any) -> None:
    """A German family with a band that does not connect, one in FAULT, raw paused, the heartbeat
    held back and a cluster in the Last 24 hours card: every text on the page is German. Until 2026-12-05 the daemon's own
    words were English on a German page ("Not connecting: ...", "Last 24 h: 1 cluster (...) ...",
    the FAULT's instruction, "412 MB free on /home, ..."), and times followed the phone's locale ("02:05 PM")."""
    fake = FakeDaemon(bands=2)
    start = today_t(20)
    c = fake.add_cluster(start, count=3, post_wake_s=8 * 60)
    # The real daemon words its alarm in the family's language (tests/alerts/test_language.py).
    de = M.alarm(M.ClusterFacts("Mila's band", 3, start, 8 * 60.0), None, "de")
    next(a for a in fake.alerts.values() if a["cluster_id"] == c["id"]).update(title=de.title, text=de.text)
    away = "scan for spasmwatch-0001: spasmwatch-0001 not found within 10 s (out of range, off, or connected elsewhere)"
    fake.set_band("SW-0001", connected=False, state="BACKOFF", detail="retry in 60 s", battery_pct=82,
                  last_error=away, last_error_msg={"key": "not_found", "args": {}},
                  raw_paused={"since": start, "why": "1.5 GB free on /home, keeping 2 GB for events",
                              "why_msg": {"key": "low_disk", "args": {"free": 1_500_000_000, "mount": "/home", "keep": 2_000_000_000}}})  # fmt: skip
    fake.set_band("SW-0002", connected=False, state="FAULT", detail=NOT_BONDED,
                  detail_msg={"key": "not_bonded", "args": {"min": 5}}, last_error=NOT_BONDED,
                  last_error_msg={"key": "io", "args": {}})  # fmt: skip
    fake.heartbeat = {"host": "hc-ping.com", "every_s": 60.0, "last_ok": None, "failing_since": None, "error": None,
                      "paused": "the store refuses writes (SW-0001): events would be lost",
                      "paused_msg": {"key": "store_refuses", "args": {"bands": "SW-0001"}}}  # fmt: skip
    watch = Watch()
    with ServerThread(fake, heartbeat_s=1.0, language=lambda: "de") as s:
        ctx = open_context(browser, watch, locale="en-US")  # an English phone: its 12 h clock is not the page's
        try:
            page = ctx.new_page()
            load(page, s.url)
            card = page.locator("#summary .summary-text[data-device='SW-0001']")
            card.wait_for()
            hm = time.strftime("%H:%M", time.localtime(start))
            assert card.inner_text().startswith(f"Mila's band: Letzte 24 h: 1 Serie ({hm})"), card.inner_text()
            away_box = page.locator(".band[data-device='SW-0001'] [data-fact='why']")
            assert away_box.locator("p").inner_text() == "Keine Verbindung: der Brustgurt wird nicht gefunden: außer " \
                "Reichweite, ausgeschaltet oder mit einem anderen Computer verbunden."
            # The daemon's English stays there for whoever sets the band up, closed.
            assert away_box.locator("details summary").inner_text() == "Technische Angaben"
            assert away not in page.locator("body").inner_text()
            raw = page.locator(".band[data-device='SW-0001'] [data-fact='raw']").inner_text().replace("\u00a0", " ")
            assert raw == f"Rohaufzeichnung pausiert seit {hm}: 1,5 GB frei auf /home, 2 GB bleiben für Ereignisse " \
                "reserviert. Ereignisse und Alarme laufen weiter.", raw
            fault = page.locator(".band[data-device='SW-0002'] [data-fact='fault']").inner_text()
            assert fault.startswith("Nicht gekoppelt: Der Brustgurt nimmt neue Kopplungen nur in den ersten 5 Minuten"), fault
            held = page.locator("#heartbeat-failing").inner_text()
            assert held.startswith("Das Lebenszeichen an hc-ping.com ist zurückgehalten: die Ereignisdatei nimmt nichts "
                                   "mehr an (SW-0001): Ereignisse gingen verloren."), held
            battery = page.locator(".band[data-device='SW-0001'] [data-fact='battery']").inner_text().replace("\u00a0", " ")
            assert "82 %" in battery, battery
            assert page.locator(f".cluster[data-cluster-id='{c['id']}'] .cluster-time").inner_text() == hm
            wide = page.evaluate("""[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 390)
                .map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right + ' ' + e.textContent.slice(0, 60))""")
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, wide
            body = page.locator("body").inner_text()
            english = sorted(e for e in english_sentences() if e in body)
            assert english == [], f"English on the German page: {english}"
            assert not re.search(r"\b(AM|PM)\b", body), body
        finally:
            ctx.close()
    assert watch.errors == [], f"console errors: {watch.errors}"
    assert watch.non_local() == []


def test_the_noscript_line_is_in_the_language_of_the_page(browser: Any, fake: FakeDaemon) -> None:
    """Without its script the page shows its <noscript> line alone: the server writes it in the
    family's language (it was English whatever the language), and the rest of index.html's words too."""
    watch = Watch()
    with ServerThread(fake, language=lambda: "fr") as s:
        ctx = open_context(browser, watch, java_script_enabled=False)
        try:
            page = ctx.new_page()
            page.goto(s.url)
            line = "Cette page a besoin de JavaScript pour montrer l'état de la ceinture."
            assert page.locator("noscript p").inner_text() == line, page.content()
            assert page.locator("#bands-h").inner_text() == "Ceinture"
            assert "This page needs JavaScript" not in page.content()
        finally:
            ctx.close()
    assert watch.errors == []


def test_times_and_numbers_follow_the_page_language_not_the_phone(browser: Any, fake: FakeDaemon) -> None:
    """A German page on an English (en-US) phone: times on the 24 h clock, "82 %", German dates. They
    followed the phone's locale alone until 2026-12-05: "02:05 PM" and "82%" on a German page."""
    start = today_t(20)
    c = fake.add_cluster(start, count=3, alarm=False)
    fake.set_band(battery_pct=82)
    with live_page(browser, fake, "de", locale="en-US") as (page, _):
        hm = time.strftime("%H:%M", time.localtime(start))
        assert page.locator(f".cluster[data-cluster-id='{c['id']}'] .cluster-time").inner_text() == hm
        battery = page.locator("[data-fact='battery']").inner_text().replace("\u00a0", " ")
        assert "82 %" in battery, battery
        # The chart's day: "Sa., 5. Dez.", not the ISO date or "Sat, Dec 5".
        day = page.evaluate("document.querySelector('#chart g:last-of-type title').textContent")
        months = ("Jan", "Feb", "März", "Apr", "Mai", "Juni", "Juli", "Aug", "Sept", "Okt", "Nov", "Dez")
        assert re.match(r"(Mo|Di|Mi|Do|Fr|Sa|So)\., \d+\. ", day) and any(m in day for m in months), day
        updated = page.locator("#updated").inner_text()
        assert re.fullmatch(r"Aktualisiert \d\d:\d\d:\d\d", updated), updated
        assert not re.search(r"\b(AM|PM)\b", page.locator("body").inner_text())


def test_a_spanish_page_puts_the_hour_s_article_before_one_o_clock(browser: Any, fake: FakeDaemon) -> None:
    """An alarm since 01:05 on a Spanish page: 'desde la 01:05' (la una), as the pushes say it
    (alerts/messages.py); the old page wrote 'desde las 01:05'."""
    now = time.time()
    day = time.localtime(now if time.localtime(now).tm_hour >= 2 else now - 86_400)
    start = time.mktime((day.tm_year, day.tm_mon, day.tm_mday, 1, 5, 0, 0, 0, -1))
    c = fake.add_cluster(start, count=3)
    alert_id = next(a["id"] for a in fake.alerts.values() if a["cluster_id"] == c["id"])
    with live_page(browser, fake, "es") as (page, _):
        facts = page.locator(f".alert[data-alert-id='{alert_id}'] .facts").inner_text()
        assert " · desde la 01:05" in facts, facts


def test_the_page_without_the_token_is_in_the_family_s_language(fake: FakeDaemon) -> None:
    """A phone without the LAN token gets a short page saying where the link is: in the family's
    language (it was English whatever the language until 2026-12-05), the link and command as code."""
    with ServerThread(fake, language=lambda: "de", token="s3cret-token-for-the-test", require_token=True) as s:
        request = urllib.request.Request(s.url, headers={"Accept": "text/html"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        html = refused.value.read().decode()
    assert refused.value.code == 401
    assert '<html lang="de">' in html and "<title>spasmwatch: Zugang nur über den Link mit dem Token</title>" in html, html
    assert "Diese Seite ist geschützt. Öffnen Sie den Link mit <code>?token=...</code>, den <code>spasmwatch status</code>" in html, html
    assert "This page is protected" not in html


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_sound_played_by_the_test_alarm_is_asked_about_in_every_language(browser: Any, fake: FakeDaemon, lang: str) -> None:
    """The page's test alarm says a sound played (the API's "heard") was played here, to be heard,
    not sent (test_web_page.py), in the family's language."""
    fake.test_results = [{"channel": "sound", "ok": True, "attempts": 1, "error": None, "network": False, "heard": True}]
    with live_page(browser, fake, lang) as (page, s):
        page.locator("#test-alarm").click()
        page.wait_for_selector("#test-alarm-msg.ok")
        text = page.locator("#test-alarm-msg").inner_text()
        assert text == M.catalog(lang)["page.test_heard"].format(channel="sound"), text
