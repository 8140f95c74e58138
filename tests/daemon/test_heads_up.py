"""The cluster heads-up (WARNING) in the live daemon, with the default counts (warning at 2, alarm
at 3): two full spasms close together tell the family to watch, the third raises the alarm as the
same alert, a chain that goes no further lets its heads-up expire, and one open at a restart is
over (an ack of it 409 alert_over, not 404).

Until review h50 the live analysis reported a chain only once it was a cluster (3 spasms), already
the alarm's count: the heads-up, its words in 4 languages and its tests ran only with counts set
by hand. Real daemons on one SQLite store on disk (``test_radio_late._run``), the band driven as its
session drives it; the acks through the daemon's own HTTP server on 127.0.0.1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from synthetic import HandClock, spasm_record, streaming

from spasmwatch.alerts import AlertSettings, NoticeKind, Urgency
from swcore import consts as C

from .test_mute_kept import _http
from .test_radio_late import DEVICE, PARIS, _paris, _run

T0 = _paris(8, "09:00")  # the band's clock synced here: band ms 0 is this wall second
ONSETS_MS = (10_000, 17_000, 24_000)  # full spasms 7 s apart: the heads-up at the second, the alarm at the third
SETTINGS = AlertSettings(tz=PARIS)  # the default counts


def _confirmed_at(onset_ms: int) -> float:
    """Wall s when the band confirms (and sends) the spasm of this onset: POST_MS after its release."""
    return T0 + (onset_ms + 1500 + int(C.POST_MS)) / 1000


def _two_full_spasms(d: Any, clock: HandClock) -> None:
    """The band streaming, then the chain's first two full spasms confirmed: its heads-up."""
    streaming(d, DEVICE, T0)
    for seq, onset in enumerate(ONSETS_MS[:2]):
        clock.t = _confirmed_at(onset)
        d.on_record(DEVICE, spasm_record(seq, onset), clock.t)


def _cluster_alerts(d: object) -> list[dict[str, object]]:
    return [a for a in d.status()["alerts"] if a["kind"] == "cluster"]  # type: ignore[attr-defined]


def test_two_full_spasms_raise_the_heads_up_and_the_third_the_alarm_as_the_same_alert(tmp_path: Path) -> None:
    with _run(tmp_path, T0, alert_settings=SETTINGS) as (d, clock):
        _two_full_spasms(d, clock)
        heads_up = [n for n in d.notifications]
        [shown] = _cluster_alerts(d)
        no_row = list(d.store.clusters(DEVICE))
        now = clock.t = _confirmed_at(ONSETS_MS[2])
        d.on_record(DEVICE, spasm_record(2, ONSETS_MS[2]), now)
        [c] = list(d.store.clusters(DEVICE))
        history = d.store.alert_history(DEVICE, shown["id"])  # type: ignore[arg-type]
        kinds = [n.kind for n in d.notifications]
        alarm = d.notifications[-1]
    assert [(n.kind, n.urgency, n.count) for n in heads_up] == [(NoticeKind.CLUSTER_WARNING, Urgency.LOW, 2)], (
        f"old code: no heads-up before the alarm: {heads_up}"
    )
    assert "film" in heads_up[0].text and shown["state"] == "WARNING"
    assert no_row == [], "a chain that is no cluster has no row"
    # The alarm at the third spasm, at once, under the same alert; its rows, the WARNING's too, name the cluster.
    assert kinds == [NoticeKind.CLUSTER_WARNING, NoticeKind.CLUSTER_ALARM]
    assert (alarm.alert_id, alarm.count, alarm.created_t, alarm.state) == (shown["id"], 3, now, "ALARM")
    assert [(r.state, r.cluster_id) for r in history] == [("WARNING", c.id), ("ALARM", c.id)], history


def test_a_chain_that_never_becomes_a_cluster_lets_its_heads_up_expire_and_stores_no_cluster(tmp_path: Path) -> None:
    with _run(tmp_path, T0, alert_settings=SETTINGS) as (d, clock):
        _two_full_spasms(d, clock)
        [shown] = _cluster_alerts(d)
        clock.t += SETTINGS.warning_expire_s - 1
        d._tick()
        still = _cluster_alerts(d)
        clock.t += 1
        d._tick()
        history = d.store.alert_history(DEVICE, shown["id"])  # type: ignore[arg-type]
        told = [(n.kind, n.urgency) for n in d.notifications]
        rows = list(d.store.clusters(DEVICE))
    assert shown["state"] == "WARNING", f"old code: no heads-up: {shown}"
    assert [a["state"] for a in still] == ["WARNING"]
    assert [r.state for r in history] == ["WARNING", "CLOSED"], history
    # Its end is said to the house channels (INFO: MQTT turns it off), not to a phone (LOW and up).
    assert told == [(NoticeKind.CLUSTER_WARNING, Urgency.LOW), (NoticeKind.CLUSTER_CLOSED, Urgency.INFO)] and rows == []


def test_a_heads_up_open_at_a_restart_is_over_for_the_restarted_daemon_its_ack_409(tmp_path: Path) -> None:
    """Not carried over (the restarted daemon's analysis tells a chain still forming anew): a page
    still showing it gets 409 alert_over, as for one that expired, not 404 "no alert"."""
    with _run(tmp_path, T0, alert_settings=SETTINGS) as (d, clock):
        _two_full_spasms(d, clock)
        [shown] = _cluster_alerts(d)
    with _run(tmp_path, clock.t + 120, alert_settings=SETTINGS) as (d, clock):
        streaming(d, DEVICE, clock.t)
        code, body = _http(d, "POST", f"/api/alerts/{shown['id']}/ack", {"by": "Ben"})
        shown_after = _cluster_alerts(d)
    assert shown["state"] == "WARNING", f"old code: no heads-up: {shown}"
    assert shown_after == []
    assert (code, body) == (409, {"error": f"alert {shown['id']} had already ended", "code": "alert_over", "acked_by": None}), body
