"""The "Cluster ended" push says where its alarm stands, in every language, on every channel.

Until 2026-12-06 it said only "Cluster ended: N spasm-like movements ... Note anything you saw":
a parent who read it on a lock screen could not tell whether the alarm still wanted someone or
somebody had already seen to it. Now its title and text say "alarm NOT acknowledged" (with what
to do: check on the baby, then acknowledge) or "acknowledged by Anna", and what to do next time
(film it, show the video to the pediatrician), through one catalogue template (``closed.text``,
``closed.title``) in en, de, es and fr. Tested through the real channels: ntfy and a webhook to
a recorder on 127.0.0.1, the desktop channel running a recording ``notify-send``, MQTT to a
real mosquitto (its ``event`` and retained ``alert`` carry the title and text). ntfy and
desktop take INFO here (``min_urgency``; their default LOW keeps "Cluster ended" off phones).
"""

from __future__ import annotations

import asyncio
import email.header
import json
import os
import re
import sys
from pathlib import Path

import pytest

from spasmwatch.alerts import AlertSettings, Urgency
from spasmwatch.alerts.channels import (
    DesktopChannel,
    DesktopSettings,
    MqttChannel,
    MqttSettings,
    NtfyChannel,
    NtfySettings,
    WebhookChannel,
    WebhookSettings,
)
from spasmwatch.alerts.model import LANGUAGES
from spasmwatch.store import Store

from servers import Watcher

from .conftest import Broker, http_recorder
from .cot_daemon import NOW, cot_daemon

PAGE = "http://raspberrypi.local:8765/"
# notify-send's arguments, one JSON line a call
NOTIFY_SEND = """#!{python}
import json, os, sys
with open(os.environ["SW_RECORD"], "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
"""
# (title, what the text says of the alarm, what to do next time) per language: unacknowledged, acknowledged by Anna
WORDS = {
    "en": (("Cluster ended, alarm NOT acknowledged (cot)",
            "Nobody has acknowledged the alarm yet: check on the baby, then acknowledge it on the spasmwatch page."),
           ("Cluster ended, alarm acknowledged by Anna (cot)", "The alarm was acknowledged by Anna."),
           ("film it", "your pediatrician")),
    "de": (("Serie beendet, Alarm NICHT übernommen (cot)",
            "Niemand hat den Alarm bisher übernommen: Sehen Sie nach dem Baby und übernehmen Sie ihn dann auf der spasmwatch-Seite."),
           ("Serie beendet, Alarm übernommen von Anna (cot)", "Der Alarm wurde von Anna übernommen."),
           ("filmen Sie es", "Ihrer Kinderärztin oder Ihrem Kinderarzt")),
    "es": (("Serie terminada, alarma SIN ATENDER (cot)",
            "Nadie ha atendido la alarma todavía: vaya a ver al bebé y luego márquela como atendida en la página de spasmwatch."),
           ("Serie terminada, alarma atendida por Anna (cot)", "La alarma fue atendida por Anna."),
           ("grábelo", "su pediatra")),
    "fr": (("Série terminée, alarme NON prise en charge (cot)",
            "Personne n'a encore pris en charge l'alarme : allez voir le bébé, puis prenez-la en charge sur la page spasmwatch."),
           ("Série terminée, alarme prise en charge par Anna (cot)", "L'alarme a été prise en charge par Anna."),
           ("filmez", "votre pédiatre")),
}  # fmt: skip
# A diagnosis is for the pediatrician: none of these in a push (any language).
DIAGNOSIS = re.compile(r"diagnos|epilep|seizure|west|anfall|convuls|crisis|crise|hypsarrhythm", re.IGNORECASE)


def _ntfy_title(header: str) -> str:
    """The ntfy Title header as the phone shows it (RFC 2047 decoded)."""
    return str(email.header.make_header(email.header.decode_header(header)))


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("acked", [False, True], ids=["unacknowledged", "acknowledged"])
def test_cluster_ended_says_whether_the_alarm_was_acknowledged_on_every_channel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broker: Broker, lang: str, acked: bool
) -> None:
    """An alarm, then its cluster ends: nobody acknowledged it, or Anna did while it went on. The
    "Cluster ended" push on ntfy, the webhook, the desktop and MQTT says which, in ``lang``, with
    what to do. Old code: "Cluster ended (cot)" and "Note anything you saw, and keep any video for
    the pediatrician." either way; ntfy offered no "Open to acknowledge" on it."""
    script = tmp_path / "notify-send"
    script.write_text(NOTIFY_SEND.format(python=sys.executable))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setenv("SW_RECORD", str(tmp_path / "desktop.jsonl"))
    (title, said), then = WORDS[lang][1 if acked else 0], WORDS[lang][2]
    watcher = Watcher(broker.port, "spasmwatch/cot/#")

    async def main() -> None:
        async with http_recorder() as rx:
            channels = {
                "phones": NtfyChannel(NtfySettings(url=f"{rx.url}/family", page_url=PAGE, min_urgency=Urgency.INFO)),
                "home": WebhookChannel(WebhookSettings(url=f"{rx.url}/hook")),
                "desktop": DesktopChannel(DesktopSettings(min_urgency=Urgency.INFO)),
                "mqtt": MqttChannel(MqttSettings(port=broker.port, timeout_s=5)),
            }
            with Store(tmp_path / "db.sqlite") as store:
                d = cot_daemon(store, channels, alert_settings=AlertSettings(language=lang))  # type: ignore[arg-type]
                await d.start()
                try:
                    key = store.upsert_cluster("cot", "c1", NOW - 600, NOW - 540, 3, NOW - 540, None, False, wall_s=NOW)
                    d.engine.on_spasm("cot", key, 3, started_t=NOW - 600)
                    if acked:
                        [a] = d.engine.snapshot()["alerts"]
                        d.engine.ack(a["id"], "Anna")
                    d.engine.on_cluster_closed("cot", key, NOW - 60)
                    await d.dispatcher.drain()
                    ntfy = [s for s in rx.seen if s.path == "/family" and "cluster_closed" in s.headers["Tags"]]
                    hook = [b for s in rx.seen if s.path == "/hook" and (b := json.loads(s.body))["kind"] == "cluster_closed"]
                    assert len(ntfy) == len(hook) == 1, rx.seen
                    texts = {"ntfy": (_ntfy_title(ntfy[0].headers["Title"]), ntfy[0].body.decode()),
                             "webhook": (hook[0]["title"], hook[0]["text"])}  # fmt: skip
                    desktop = [json.loads(line) for line in (tmp_path / "desktop.jsonl").read_text().splitlines()]
                    texts["desktop"] = tuple(desktop[-1][-2:])
                    # off the loop the daemon publishes on: the event, then the alert's retained state (another
                    # publish: read at once, it was still the alarm's once, in a full run under load)
                    await asyncio.to_thread(watcher.wait_until, lambda: watcher.latest("spasmwatch/cot/event").get("kind") == "cluster_closed"
                                            and watcher.latest("spasmwatch/cot/alert").get("title") == title, "the MQTT event and alert state")  # fmt: skip
                    event = watcher.latest("spasmwatch/cot/event")
                    texts["mqtt event"] = (event["title"], event["text"])
                    state = watcher.latest("spasmwatch/cot/alert")
                    texts["mqtt alert"] = (state["title"], state["text"])
                    for channel, (got_title, text) in texts.items():
                        assert got_title == title, (channel, got_title)
                        assert said in text and all(w in text for w in then), (channel, text)
                        assert not DIAGNOSIS.search(got_title + text), (channel, got_title, text)
                    button = ntfy[0].headers.get("Actions")
                    assert button == (None if acked else f"view, Open to acknowledge, {PAGE}, clear=true"), button
                    assert state["alarm"] is (not acked), state  # (the alarm still to see to, on MQTT too)
                finally:
                    await d.stop()

    try:
        asyncio.run(main())
    finally:
        watcher.stop()


@pytest.mark.parametrize("by", ["Anna\nPriority: min", "Anna\r\nX-Other: 1", "Ánna\tMüller\u2028👨\u200d👩\u200d👧\n"])
def test_cluster_ended_acknowledged_by_a_name_with_a_line_break_still_reaches_ntfy(tmp_path: Path, by: str) -> None:
    """The name is in the push's title now ("alarm acknowledged by Anna"), and ntfy's title is an
    HTTP header: a name with a line break (an automation's MQTT ack command, the CLI's --by; the
    page's field has none) made aiohttp refuse the header, and the "Cluster ended" push never
    reached the phones (nor "Alarm acknowledged by ..."), retried to no end. Now a title's control
    characters are spaces, one per run. Old code: no push reached the recorder."""
    one_line = " ".join(by.split())

    async def main() -> None:
        async with http_recorder() as rx:
            channels = {"phones": NtfyChannel(NtfySettings(url=f"{rx.url}/family", min_urgency=Urgency.INFO))}
            with Store(tmp_path / "db.sqlite") as store:
                d = cot_daemon(store, channels)  # type: ignore[arg-type]
                await d.start()
                try:
                    key = store.upsert_cluster("cot", "c1", NOW - 600, NOW - 540, 3, NOW - 540, None, False, wall_s=NOW)
                    d.engine.on_spasm("cot", key, 3, started_t=NOW - 600)
                    [a] = d.engine.snapshot()["alerts"]
                    d.engine.ack(a["id"], by)
                    d.engine.on_cluster_closed("cot", key, NOW - 60)
                    await d.dispatcher.drain()
                    titles = {s.headers["Tags"].split(",")[1]: (_ntfy_title(s.headers["Title"]), s.headers["Priority"]) for s in rx.seen}
                    assert titles.get("cluster_closed") == (f"Cluster ended, alarm acknowledged by {one_line} (cot)", "min"), rx.seen
                    assert titles.get("cluster_acknowledged", ("", ""))[0] == f"Alarm acknowledged by {one_line} (cot)", rx.seen
                finally:
                    await d.stop()

    asyncio.run(main())
