"""Acknowledgement answers, the same whichever way the daemon holds the alert: the REAL daemon (its
alert engine and SQLite store on disk, one band driven as its session drives it) behind its HTTP
server on 127.0.0.1, asked as the page (POST /api/alerts/ID/ack) and 'spasmwatch ack' ask.

Review h49: an ack of a cluster alarm closed but still kept by the engine got 200 (acked_by set in
memory alone, nothing stored) while the same alarm no longer kept got 409 ``alert_over``; and with
the store not open every ack of an id the engine did not hold got a bare 503, an id never issued
too, which the page said in red as "Not saved: the store cannot be read: ..."."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from synthetic import HandClock, fail_store, spasm_record, streaming
from web_harness import ServerThread

from spasmwatch import cli
from spasmwatch.alerts import AlertSettings, BandFault
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.store import Store
from swcore import consts as C
from swcore import protocol as P

T0 = 1_800_000_000.0  # the band's clock synced here: band ms 0 is this wall second
DEV = "cot0001"
ONSETS_MS = (10_000, 17_000, 24_000)  # three full spasms 7 s apart: a cluster alarm at the third
KEEP_UNACKED_S = 3600.0  # an alarm ended and never acknowledged closes this long after its end


def _daemon(store: Store, clock: HandClock) -> Daemon:
    settings = AlertSettings(keep_unacknowledged_s=KEEP_UNACKED_S)
    return Daemon(store, [BandSpec("cot", lambda: None)], clock=clock, disconnect_alert_s=1e9, alert_settings=settings)  # type: ignore[arg-type,return-value]


def _status(clock: HandClock, low: bool = False) -> dict[str, Any]:
    """The band's STATUS as its session hands it on, its uptime placing the band's time at now."""
    return {"type": "status", "battery_pct": 9 if low else 82, "worn": 1, "log_fill_pct": 3, "errors": 0,
            "flags": 0x50 | (P.SF_LOW_BATTERY if low else 0), "boot": 1, "uptime_s": int(clock.t - T0), "next_seq": 3}  # fmt: skip


def _alarmed(d: Daemon, clock: HandClock) -> int:
    """Three spasms' records, each as the band confirms it: the cluster's ALARM; its id."""
    streaming(d, DEV, T0)
    for seq, onset in enumerate(ONSETS_MS):
        clock.t = T0 + (onset + 1500 + int(C.POST_MS)) / 1000
        d.on_record(DEV, spasm_record(seq, onset), clock.t)
    [alarm] = [a for a in d.status()["alerts"] if a["kind"] == "cluster"]
    assert alarm["state"] == "ALARM", alarm
    return int(alarm["id"])


def _quiet(d: Daemon, clock: HandClock, for_s: float) -> None:
    """The band's STATUS every 10 s for ``for_s``, no spasm: the cluster ends after its close time."""
    end = clock.t + for_s
    while clock.t < end:
        clock.t += 10
        d.on_record(DEV, _status(clock), clock.t)
        d._tick()


def _kept(d: Daemon, alert_id: int) -> dict[str, Any]:
    [a] = [a for a in d.engine.snapshot()["alerts"] if a["id"] == alert_id]
    return a


def _ack(served: ServerThread, alert_id: int, by: str = "Ben") -> tuple[int, Any]:
    """The page's ack: POST /api/alerts/ID/ack to the daemon's HTTP server; its status and body."""
    req = urllib.request.Request(f"{served.url}api/alerts/{alert_id}/ack", json.dumps({"by": by}).encode(),
                                 {"Content-Type": "application/json"}, method="POST")  # fmt: skip
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.mark.parametrize("seen_to", [None, "Anna"], ids=["never_acknowledged", "acknowledged_by_anna"])
def test_an_ack_of_a_cluster_alarm_that_had_closed_is_409_alert_over_whether_the_engine_keeps_it_or_not(
    tmp_path: Path, seen_to: str | None
) -> None:
    """A cluster's alarm, acknowledged by Anna or never, its cluster ended: closed (at once once
    acknowledged, KEEP_UNACKED_S after its end if never), and kept by the engine. Ben's ack from a
    page still showing it is answered 409 alert_over, as after a restart (the store has it over):
    nothing stored, whoever had acknowledged it staying, and named in the answer (``acked_by``: Anna,
    or null) for Ben's page to say who saw to it. Until review h49 the kept one got 200, a
    never-acknowledged alarm shown acknowledged by Ben until the restart; and the 409 named nobody."""
    clock = HandClock(T0)
    with Store(tmp_path / "spasmwatch.db") as store:
        d = _daemon(store, clock)
        alert_id = _alarmed(d, clock)
        with ServerThread(d) as served:
            if seen_to is not None:
                assert _ack(served, alert_id, seen_to)[0] == 200
            served.call(_quiet, d, clock, 120)
            clock.t += KEEP_UNACKED_S
            served.call(_quiet, d, clock, 20)
            assert served.call(_kept, d, alert_id)["state"] == "CLOSED"
            kept = _ack(served, alert_id)
            acked_by = served.call(_kept, d, alert_id)["acked_by"]
    with Store(tmp_path / "spasmwatch.db") as store:
        clock.t += 60
        d = _daemon(store, clock)  # restarted: the engine keeps no closed alert of the run before
        with ServerThread(d) as served:
            stored = _ack(served, alert_id)
        history = store.alert_history(DEV, alert_id)
    over = (409, {"error": f"alert {alert_id} had already ended", "code": "alert_over", "acked_by": seen_to})
    assert (kept, stored) == (over, over), (kept, stored)
    assert acked_by == seen_to
    assert [r.by for r in history if r.by is not None] == ([] if seen_to is None else [seen_to]), history
    assert history[-1].state == "CLOSED", history


def _battery_low_ended(d: Daemon, clock: HandClock) -> int:
    """'Battery low' raised, then over (the band charged): no longer held by the engine; its id."""
    streaming(d, DEV, T0)
    d.on_record(DEV, _status(clock, low=True), clock.t)
    [shown] = [a for a in d.status()["alerts"] if a["kind"] == BandFault.BATTERY_LOW.value]
    clock.t += 60
    d.on_record(DEV, _status(clock), clock.t)
    assert [a for a in d.status()["alerts"] if a["kind"] == BandFault.BATTERY_LOW.value] == []
    return int(shown["id"])


def test_with_the_store_failing_an_id_never_issued_is_404_and_one_only_the_store_knows_is_503_store_not_open(tmp_path: Path) -> None:
    """The store's disk gone mid-run: an ack of an alert over (the engine no longer holds it) cannot
    be told from one never made without the store: 503 ``store_not_open``, saying so and what to do
    (nothing was saved; acknowledge it if it shows again). An id above the engine's highest (its
    numbering read from the store at the start) was never issued: 404 'no alert N', store or not.
    The disk back, the same ack is 409 alert_over. Until review h49 both were a bare 503 'the store
    cannot be read: ...', which the page said as "Not saved: ..."."""
    clock = HandClock(T0)
    with Store(tmp_path / "spasmwatch.db") as store:
        d = _daemon(store, clock)
        alert_id = _battery_low_ended(d, clock)
        with ServerThread(d) as served:
            back = fail_store(store)  # the disk gone: every statement fails
            unread = _ack(served, alert_id)
            never = _ack(served, alert_id + 100)
            back()
            later = _ack(served, alert_id)
    status, body = unread
    assert (status, body.get("code")) == (503, "store_not_open"), unread
    assert body["error"].startswith(f"alert {alert_id} is not open, and whether it had ended cannot be read while the store is not open ("), body
    assert body["error"].endswith("): nothing was acknowledged; if it shows again once the store is back, acknowledge it then"), body
    assert never == (404, {"error": f"no alert {alert_id + 100}"}), never
    assert later == (409, {"error": f"alert {alert_id} had already ended", "code": "alert_over", "acked_by": None}), later


def test_with_the_store_not_open_since_the_start_no_id_can_be_told_and_spasmwatch_ack_says_so_calmly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store the daemon could not open at its start (the long open before an upgrade, a fault):
    the engine does not know the ids earlier runs gave, so any id it does not hold may be one of
    them: 503 ``store_not_open`` for every one. 'spasmwatch ack N' says it in a line (no error
    trace), exit 1: nothing was acknowledged, and the daemon could not say why."""
    monkeypatch.delenv("SPASMWATCH_DATA_DIR", raising=False)
    folder = tmp_path / "data"
    folder.write_text("a file where the store's folder should be\n")  # the store cannot be opened
    clock = HandClock(T0)
    with Store.may_fail(folder / "spasmwatch.db") as store:
        assert store.open_error is not None
        d = _daemon(store, clock)
        with ServerThread(d) as served:
            answer = _ack(served, 7)
            cfg = tmp_path / "config.toml"
            cfg.write_text(f'[daemon]\ndata_dir = "{folder}"\n\n[daemon.http]\nhost = "127.0.0.1"\nport = {served.port}\n')
            rc = cli.main(["ack", "7", "--config", str(cfg), "--by", "Dad"])
    out, err = capsys.readouterr()
    assert (answer[0], answer[1].get("code")) == (503, "store_not_open"), answer
    assert rc == 1 and err == "", (rc, err)
    assert out == ("alert #7 is not open now: nothing was acknowledged (whether it had ended cannot be read while the "
                   "daemon's store is not open; 'spasmwatch status' says why). If it shows again, acknowledge it then\n"), out  # fmt: skip
