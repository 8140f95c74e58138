"""HttpServer in front of the real Daemon and its SQLite store (no band): what reaches the store."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from tzenv import set_tz

from spasmwatch.clock import Clock, ScaledClock
from spasmwatch.daemon.daemon import Daemon
from spasmwatch.daemon.http import HttpServer
from spasmwatch.store import Store


def run(tmp_path: Path, fn: Callable[[Daemon, str, aiohttp.ClientSession], Awaitable[None]], clock: Clock | None = None) -> None:
    async def main() -> None:
        store = Store(tmp_path / "spasmwatch.db")
        daemon = Daemon(store, [], clock=clock)
        server = HttpServer(daemon, host="127.0.0.1", port=0)
        host, port = await server.start()
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as http:
                await fn(daemon, f"http://{host}:{port}", http)
        finally:
            await server.stop()
            store.close()

    asyncio.run(asyncio.wait_for(main(), 30))


async def post(http: aiohttp.ClientSession, url: str, body: Any) -> tuple[int, Any]:
    async with http.post(url, json=body) as r:
        return r.status, json.loads(await r.read())


@pytest.mark.parametrize("tz", ["Europe/Berlin", "CET-1CEST,M3.5.0,M10.5.0/3"])
def test_the_status_gives_the_page_the_zone_the_pushes_are_worded_in(tmp_path: Path, tz_env: pytest.MonkeyPatch, tz: str) -> None:
    """The page words its times by /api/status zone (app.js wallTime): the daemon's zone, the one
    its pushes use (this computer's, by name or by a POSIX rule), with its offsets and abbreviations
    over the night the clocks go back (Europe/Berlin, 01:00 UTC 2026-10-25). Old code: no zone."""
    set_tz(tz_env, tz)
    now = datetime(2026, 10, 25, 2, 30, tzinfo=timezone.utc).timestamp()
    change = datetime(2026, 10, 25, 1, 0, tzinfo=timezone.utc).timestamp()

    async def check(daemon: Daemon, base: str, http: aiohttp.ClientSession) -> None:
        async with http.get(f"{base}/api/status") as r:
            zone = (await r.json())["zone"]
        assert zone["name"] == tz
        (first, *spans) = zone["spans"]
        assert first[1:] == [7200, "CEST"] and spans == [[change, 3600, "CET"]], zone

    run(tmp_path, check, ScaledClock(now))


def test_an_id_too_large_for_the_store_is_not_found(tmp_path: Path) -> None:
    """Found by review: a cluster id past SQLite's 64-bit integers raised OverflowError in the
    store: 500 'internal error' and a traceback in the daemon's log for a mistyped number."""

    async def check(daemon: Daemon, base: str, http: aiohttp.ClientSession) -> None:
        big = "9" * 20
        assert await post(http, f"{base}/api/clusters/{big}/label", {"label": "false_alarm"}) == (404, {"error": f"no cluster {big}"})
        assert await post(http, f"{base}/api/alerts/{big}/ack", {}) == (404, {"error": f"no alert {big}"})

    run(tmp_path, check)


def test_a_note_too_long_is_refused_the_same_by_the_cli_and_the_web_api(tmp_path: Path) -> None:
    """Found by the docs run: the web API refused a note over 4000 characters, 'spasmwatch note'
    kept any length. One limit, in the store (MAX_NOTE_CHARS), one message; nothing is saved."""
    from spasmwatch.cli import build_parser
    from spasmwatch.errors import SpasmwatchError
    from spasmwatch.store.rows import MAX_NOTE_CHARS

    too_long = "x" * (MAX_NOTE_CHARS + 1)
    message = f"note text is longer than {MAX_NOTE_CHARS} characters ({MAX_NOTE_CHARS + 1}): shorten it; nothing was saved"

    async def check(daemon: Daemon, base: str, http: aiohttp.ClientSession) -> None:
        assert await post(http, f"{base}/api/notes", {"kind": "note", "text": too_long}) == (400, {"error": message})
        args = build_parser().parse_args(["note", too_long, "--db", str(tmp_path / "spasmwatch.db")])
        with pytest.raises(SpasmwatchError) as e:
            args.func(args)
        assert str(e.value) == message
        assert list(daemon.store.notes()) == []
        status, note = await post(http, f"{base}/api/notes", {"kind": "note", "text": "x" * MAX_NOTE_CHARS})
        assert status == 201 and len(note["text"]) == MAX_NOTE_CHARS

    run(tmp_path, check)
    # The page's text box stops at the same length.
    html = (Path(__file__).resolve().parents[2] / "host/spasmwatch/daemon/web/index.html").read_text()
    assert f'id="note-text" name="text" rows="3" maxlength="{MAX_NOTE_CHARS}"' in html


def test_the_cli_and_the_web_api_keep_the_same_text_for_the_same_note(tmp_path: Path) -> None:
    """Found by review: the web API trimmed a note's surrounding spaces, 'spasmwatch note' kept
    them (and counted them against MAX_NOTE_CHARS). The store trims (check_note) for both."""
    from spasmwatch.cli import build_parser
    from spasmwatch.store.rows import MAX_NOTE_CHARS

    typed = "  video taken \n"
    padded = " " + "x" * MAX_NOTE_CHARS + " "  # the limit counts what is kept

    async def check(daemon: Daemon, base: str, http: aiohttp.ClientSession) -> None:
        for text, want in ((typed, "video taken"), (padded, "x" * MAX_NOTE_CHARS)):
            status, note = await post(http, f"{base}/api/notes", {"kind": "video", "text": text})
            assert status == 201, note
            args = build_parser().parse_args(["note", text, "--kind", "video", "--db", str(tmp_path / "spasmwatch.db")])
            args.func(args)
            assert [n.text for n in daemon.store.notes()][-2:] == [want, want]

    run(tmp_path, check)


def test_who_did_it_with_bytes_utf8_cannot_carry_is_kept_with_them_replaced(tmp_path: Path) -> None:
    """Hostile review: the default --by of ack, mute, clusters and test-alarm is "command line
    (<login>)", and a login whose bytes are not UTF-8 reads from the environment as lone surrogates,
    which JSON carries ("\\udcff") and SQLite cannot store: the daemon answered 400 with Python's
    "'utf-8' codec can't encode character" and kept nothing. Kept with U+FFFD in their place."""

    async def check(daemon: Daemon, base: str, http: aiohttp.ClientSession) -> None:
        status, note = await post(http, f"{base}/api/notes", {"kind": "note", "text": "x", "by": "command line (\udcff\ud800)"})
        assert status == 201, note
        assert note["by"] == "command line (\ufffd\ufffd)"
        assert [n.by for n in daemon.store.notes()] == ["command line (\ufffd\ufffd)"]

    run(tmp_path, check)


def test_the_command_line_s_default_by_is_utf8_whatever_the_login(monkeypatch: pytest.MonkeyPatch) -> None:
    """A login of bytes that are not UTF-8 (os.environ decodes them to lone surrogates): the command
    prints who acknowledged, and its default is compared with the daemon's answer (" (before you)")."""
    import os

    from spasmwatch.commands._args import command_line_by

    monkeypatch.setenv("LOGNAME", os.fsdecode(b"caf\xe9"))
    assert command_line_by() == "command line (caf\ufffd)"


def _two_alerts_and_ack(
    tmp_path: Path, daemon: Daemon, base: str, capsys: pytest.CaptureFixture[str]
) -> tuple[Callable[..., str], int, int]:
    """Two open alerts (a low battery on bands "crib" and "cot") and ``spasmwatch ack ARGS`` run
    against the daemon at ``base``, returning what it printed."""
    from spasmwatch.alerts import BandFault
    from spasmwatch.cli import build_parser

    config = tmp_path / "config.toml"
    config.write_text(f"[daemon]\ndata_dir = \"{tmp_path}\"\n\n[daemon.http]\nport = {base.rsplit(':', 1)[1]}\n")

    def ack(*argv: str) -> str:
        args = build_parser().parse_args(["ack", *argv, "--config", str(config)])
        assert args.func(args) == 0
        return capsys.readouterr().out

    daemon.engine.on_band_state("crib", BandFault.BATTERY_LOW, True)
    daemon.engine.on_band_state("cot", BandFault.BATTERY_LOW, True)
    crib, cot = (a["id"] for a in daemon.engine.snapshot()["alerts"])
    return ack, crib, cot


def test_ack_from_the_command_line_says_before_you_only_when_someone_else_acknowledged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Hostile review: ``ack`` compared the daemon's answer with the raw ``--by``, which the daemon
    trims (and, when blank, signs "web page"): ``--by "Mum "`` printed "acknowledged by Mum (before
    you)" to the one who had just acknowledged, and ``--by " "`` was kept as "web page"."""

    async def check(daemon: Daemon, base: str, http: aiohttp.ClientSession) -> None:
        ack, crib, cot = _two_alerts_and_ack(tmp_path, daemon, base, capsys)
        said = await asyncio.to_thread(ack, str(crib), "--by", "  Mum ")
        assert said == f"alert #{crib} FAULT: acknowledged by Mum\n", said
        said = await asyncio.to_thread(ack, str(crib), "--by", "Dad")
        assert said == f"alert #{crib} FAULT: acknowledged by Mum (before you)\n", said
        said = await asyncio.to_thread(ack, str(cot), "--by", " ")
        assert said.startswith(f"alert #{cot} FAULT: acknowledged by command line") and "(before you)" not in said, said

    run(tmp_path, check)


def test_ack_from_the_command_line_with_a_long_by_is_not_someone_else_s(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Hostile review: who() trimmed before it cut to MAX_BY, so a --by whose cut fell after a space
    kept it ("...x "), which the daemon's who() trimmed once more ("...x"): the one who had just
    acknowledged read "(before you)". A login longer than MAX_BY (the blank --by's default) was
    sent whole and cut by the daemon: the same."""
    from spasmwatch.daemon.consts import MAX_BY

    async def check(daemon: Daemon, base: str, http: aiohttp.ClientSession) -> None:
        ack, crib, cot = _two_alerts_and_ack(tmp_path, daemon, base, capsys)
        said = await asyncio.to_thread(ack, str(crib), "--by", "M" * (MAX_BY - 1) + " and Dad")
        assert said == f"alert #{crib} FAULT: acknowledged by {'M' * (MAX_BY - 1)}\n", said
        monkeypatch.setenv("LOGNAME", "n" * MAX_BY)
        said = await asyncio.to_thread(ack, str(cot), "--by", "")
        kept = ("command line (" + "n" * MAX_BY)[:MAX_BY]
        assert said == f"alert #{cot} FAULT: acknowledged by {kept}\n", said
        assert {a["acked_by"] for a in daemon.engine.snapshot()["alerts"]} == {"M" * (MAX_BY - 1), kept}

    run(tmp_path, check)
