"""One word for the band's movements wherever a family reads it: the pushes (ntfy, webhook,
desktop, MQTT), the daily summary and the web page all say the catalogue's ``spasms`` term
("3 spasm-like movements"), in every language.

Found by a scripted night with every channel real: the push said "3 sudden tensing movements"
under the page's alarm card saying "3 spasm-like movements", two names for one count. The page's
term is read here from the words the daemon embeds in the page (http.page_in), the pushes from
what real receivers got: ntfy and webhook on 127.0.0.1 (aiohttp), notify-send a recording script,
MQTT a real mosquitto read back by a plain paho subscriber.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from spasmwatch.alerts import messages as M
from spasmwatch.alerts.channels import DesktopChannel, MqttChannel, MqttSettings, NtfyChannel, NtfySettings
from spasmwatch.alerts.channels.webhook import WebhookChannel, WebhookSettings
from spasmwatch.alerts.model import LANGUAGES
from spasmwatch.daemon.http import page_in
from spasmwatch.store import Store

from servers import Watcher

from .conftest import Broker, http_recorder
from .cot_daemon import NOW, alarm, cot_daemon

NOTIFY_SEND = """#!{python}
import json, os, sys
open(os.environ["SW_RECORD"], "w").write(json.dumps(sys.argv[1:]))
"""


def page_term(lang: str, n: int) -> str:
    """The page's words for ``n`` movements, as app.js ``tn("spasms", n)`` fills them in."""
    block = page_in('<html lang="en"><head></head><body></body></html>', lang).split('id="page-words">', 1)[1]
    words: dict[str, str] = json.loads(block.split("</script>", 1)[0])
    one = n in (0, 1) if lang == "fr" else n == 1
    return words[f"spasms.{'one' if one else 'other'}"].replace("{n}", str(n))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_push_of_a_cluster_and_the_summary_say_the_pages_term(lang: str) -> None:
    for n in (1, 3, 11):
        term = page_term(lang, n)
        f = M.ClusterFacts("cot", n, NOW - 600, 300.0, NOW)
        texts = {"warning": M.warning(f, None, lang).text, "alarm": M.alarm(f, None, lang).text,
                 "update": M.update(f, None, lang).text, "escalated": M.escalated(f, None, 600, lang).text,
                 "closed": M.closed(f, None, lang).text, "merged": M.merged(f, f, None, lang).text,
                 "summary": M.daily_summary(M.SummaryFacts("cot", (), n, 0, 3600.0, None), None, lang).text}  # fmt: skip
        wrong = {kind: text for kind, text in texts.items() if term not in text}
        assert wrong == {}, f"{lang}: {term!r} (the page's) not in these pushes"
    assert M.warning(M.ClusterFacts("cot", 2, None, None), None, lang).title.count(page_term(lang, 2)) == 1


def test_one_alarm_reaches_every_channel_in_the_pages_term(tmp_path: Path, broker: Broker, monkeypatch: pytest.MonkeyPatch) -> None:
    notify = tmp_path / "notify-send"
    notify.write_text(NOTIFY_SEND.format(python=sys.executable))
    notify.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path) + os.pathsep + os.environ.get("PATH", ""))
    monkeypatch.setenv("SW_RECORD", str(tmp_path / "desktop.json"))
    term = page_term("en", 3)
    w = Watcher(broker.port)

    async def main() -> None:
        async with http_recorder() as rx:
            channels = {"ntfy": NtfyChannel(NtfySettings(url=f"{rx.url}/family")),
                        "webhook": WebhookChannel(WebhookSettings(url=f"{rx.url}/hook")),
                        "desktop": DesktopChannel(), "mqtt": MqttChannel(MqttSettings(port=broker.port, timeout_s=5))}  # fmt: skip
            with Store(tmp_path / "db.sqlite") as store:
                d = cot_daemon(store, channels)  # type: ignore[arg-type]
                await d.start()
                try:
                    alarm(d)
                    await d.dispatcher.drain()
                    by_path = {s.path: s.body for s in rx.seen}
                    got = {"ntfy": by_path["/family"].decode(), "webhook": json.loads(by_path["/hook"])["text"],
                           "desktop": json.loads((tmp_path / "desktop.json").read_text())[-1],
                           "mqtt": w.json("spasmwatch/cot/alert")["text"]}  # fmt: skip
                    wrong = {name: text for name, text in got.items() if not text.startswith(f"{term} in a cluster")}
                    assert wrong == {}, f"{term!r} (the page's) does not open these channels' alarm text"
                finally:
                    await d.stop()

    try:
        asyncio.run(asyncio.wait_for(main(), 60))
    finally:
        w.stop()
