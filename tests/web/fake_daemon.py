"""An in-memory ``DaemonAPI`` for the web tests: the page and the server are under
test, not the daemon (the real one is tested end to end with the same server).

Values follow daemon/api.py and the shapes the real daemon emits (alerts as in
``AlertEngine.snapshot``). Not thread-safe: tests change it on the server's
loop (``ServerThread.call``), where ``publish`` may put on the queues.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

from spasmwatch.alerts.messages import SummaryFacts, daily_summary, hhmm
from spasmwatch.clock import local_zone
from spasmwatch.daemon.api import AlertOver, BandNotConnected, last_known_at, zone_json
from spasmwatch.store.rows import check_note

Json = dict[str, Any]

ALARM_TEXT = (
    "{count} spasm-like movements in a cluster since {since}, {wake} min after waking. "
    "Please film the baby now if it is still happening, and contact your pediatrician. "
    "spasmwatch is a screening aid, not a diagnosis."
)


def midnight(t: float) -> float:
    d = dt.datetime.fromtimestamp(t).date()
    return dt.datetime.combine(d, dt.time()).timestamp()


class FakeDaemon:
    def __init__(self, now: float | None = None, bands: int = 1) -> None:
        self._now = now
        self.language = "en"  # [alerts] language: the zone's names in status, as the daemon words them
        self.bands: list[Json] = []
        for i in range(bands):
            t = self.now()
            self.bands.append({
                "device": f"SW-000{i + 1}", "name": ["Mila's band", "Noah's band"][i % 2], "transport": "ble",
                "state": "STREAMING", "detail": "", "connected": True, "battery_pct": 82 - 30 * i, "worn": True,
                "log_fill_pct": 3, "asleep": False, "sleep_since": max(midnight(t) + 60, t - 47 * 60),
                "last_seen": t - 4, "alert_state": "QUIET", "faults": [], "last_cluster": None,
                "muted_until": None, "muted_by": None, "raw_paused": None, "link_unstable": None, "rate_not_taken": None, "firmware_old": False,
                "firmware_age": None,
                "last_error": None,
            })
        self.alerts: dict[int, Json] = {}
        self.cluster_rows: dict[int, Json] = {}
        self.note_rows: list[Json] = []
        self.history: dict[str, tuple[int, int, int]] = {}  # date -> (spasms, clusters, false alarms) before today
        self.no_data: set[str] = set()  # dates the band was never worn and heard from (/api/days no_data)
        self.subs: list[asyncio.Queue[Json]] = []
        self.calls: list[tuple[str, Any]] = []
        self.channels = ["ntfy", "sound"]  # the configured notification channels
        self.channels_failing: list[Json] = []  # as the daemon's dispatcher reports them
        self.channels_changed: list[Json] = []  # failed under settings changed since (Dispatcher.changed)
        self.heartbeat: Json | None = None  # as daemon/heartbeat.py reports it (None: off)
        self.config_error: Json | None = None  # as daemon/reload.py reports a reload that failed
        self.store: Json | None = None  # why the store is not open, as Daemon._store_json reports it (None: open)
        self.test_results: list[Json] = [{"channel": "sound", "ok": True, "attempts": 1, "error": None}]
        self.tests_sent: list[tuple[str | None, str]] = []  # (channel, by) of each test alarm asked for
        self._ids = 0

    # ---- time and ids ------------------------------------------------------

    def now(self) -> float:
        return self._now if self._now is not None else time.time()

    def _id(self) -> int:
        self._ids += 1
        return self._ids

    # ---- DaemonAPI ---------------------------------------------------------

    def status(self, closed: bool = True) -> Json:
        bands = [{**b, "last_known_at": last_known_at(b["state"], b["last_seen"])} for b in self.bands]  # as the daemon decides it
        # The alerts the engine holds open are in no state of these (AlertEngine.snapshot).
        alerts = [dict(a) for a in self.alerts.values() if closed or a["state"] not in ("CLOSED", "OK", "QUIET")]
        # The zone as the daemon gives it (this process's, as the daemon's is its computer's).
        return {"now": self.now(), "zone": zone_json(local_zone(), self.now(), self.language), "bands": bands, "alerts": alerts,
                "channels": list(self.channels), "channels_failing": [dict(c) for c in self.channels_failing],
                "channels_changed": [dict(c) for c in self.channels_changed], "heartbeat": self.heartbeat,
                "config_error": self.config_error, "config_needs_restart": [], "store": self.store}  # fmt: skip

    def clusters(self, since: float, until: float) -> list[Json]:
        self.calls.append(("clusters", (since, until)))
        return [dict(c) for c in sorted(self.cluster_rows.values(), key=lambda c: c["start"])
                if c["start"] < until and (c["end"] or c["start"]) >= since]

    def days(self, n_days: int) -> list[Json]:
        today = dt.date.fromtimestamp(self.now())
        out = []
        for i in range(n_days - 1, -1, -1):
            d = today - dt.timedelta(days=i)
            spasms, clusters, false = self.history.get(d.isoformat(), (0, 0, 0))
            if i == 0:
                t0 = midnight(self.now())
                cl = [c for c in self.cluster_rows.values() if t0 <= c["start"] < t0 + 86400]
                spasms, clusters, false = (sum(c["count"] for c in cl), len(cl), sum(c["label"] == "false_alarm" for c in cl))
            out.append({"date": d.isoformat(), "spasms": spasms, "clusters": clusters, "false_alarms": false,
                        "no_data": d.isoformat() in self.no_data})  # fmt: skip
        return out

    async def summary(self, lang: str = "en") -> list[Json]:
        """The daemon's words (alerts.messages; in English and in ``lang``, as daemon/summary.py
        gives them) over this fake's clusters of the last 24 h (the counting from the store is tested
        with the real daemon); ``calls`` records each read."""
        self.calls.append(("summary", lang))
        now, out = self.now(), []
        for b in self.bands:
            cl = sorted((c for c in self.cluster_rows.values() if c["device"] == b["device"] and now - 86400 <= c["start"] < now
                         and c["label"] != "false_alarm"), key=lambda c: c["start"])  # fmt: skip
            in_clusters = sum(c["count"] for c in cl)
            facts = SummaryFacts(b["name"], tuple(c["start"] for c in cl), in_clusters, in_clusters, 20 * 3600.0)
            msg, local = daily_summary(facts, None), daily_summary(facts, None, lang)
            out.append({"device": b["device"], "name": b["name"], "title": msg.title, "text": msg.text, "clusters": len(cl),
                        "local": {"lang": lang, "title": local.title, "text": local.text}})  # fmt: skip
        return out

    def notes(self, since: float, until: float) -> list[Json]:
        return [dict(n) for n in self.note_rows if since <= n["t"] < until]

    def ack(self, alert_id: int, by: str) -> Json:
        a = self.alerts[alert_id]  # KeyError -> 404
        self.calls.append(("ack", (alert_id, by)))
        if a["state"] in ("OK", "CLOSED"):  # ended before the ack came: 409 alert_over (Daemon.ack)
            raise AlertOver(alert_id, a["acked_by"])
        if a["state"] in ("WARNING", "ALARM", "ESCALATED"):
            a["state"] = "ACKNOWLEDGED"
        a["acked_by"] = a["acked_by"] or by
        a["updated_t"] = self.now()
        self._band_alert_state(a["device"])
        self.publish({"type": "alert", "id": alert_id, "state": a["state"]})
        return dict(a)

    def label(self, cluster_id: int, label: str, by: str) -> Json:
        if label not in ("confirmed", "false_alarm"):
            raise ValueError(f"label must be one of confirmed, false_alarm, not {label!r}")
        c = self.cluster_rows[cluster_id]
        self.calls.append(("label", (cluster_id, label, by)))
        c["label"] = label
        for a in self.alerts.values():
            if a.get("cluster_id") == cluster_id:
                a["label"] = label
        self.publish({"type": "cluster", "id": cluster_id, "event": "label"})
        return dict(c)

    def mute(self, device: str, for_s: float, by: str) -> Json:
        if device not in {b["device"] for b in self.bands}:
            raise KeyError(device)
        self.calls.append(("mute", (device, for_s, by)))
        until, who = (self.now() + for_s, by) if for_s > 0 else (None, None)
        b = next(b for b in self.bands if b["device"] == device)
        b.update(muted_until=until, muted_by=who)
        self.publish({"type": "status"})
        return {"alert_state": b["alert_state"], "band_state": "OK", "faults": b["faults"], "muted_until": until, "muted_by": who}

    async def bonds(self, band: str, revoke_others: bool, by: str) -> Json:
        """What the daemon answers of a band that bonded one stranger (the real one sends BONDS:
        tests/transport/test_bonds_cli.py); a band not ``connected`` is BandNotConnected, as there."""
        b = next((b for b in self.bands if band in (b["device"], b["name"])), None)
        if b is None:
            raise KeyError(band)
        if not b["connected"]:
            raise BandNotConnected(f"band {band} is not connected now (its link: disconnected): try again when it is in reach")
        self.calls.append(("bonds", (band, revoke_others, by)))
        return {"band": b["name"], "code": 0, "error": "ok", "arg": 1 if revoke_others else 2 | 0x10000}

    def set_heartbeat(self, heartbeat: Json | None) -> None:
        self.heartbeat = heartbeat
        self.publish({"type": "status"})

    def set_store(self, store: Json | None) -> None:
        self.store = store
        self.publish({"type": "status"})

    def set_config_error(self, error: Json | None) -> None:
        self.config_error = error
        self.publish({"type": "status"})

    def set_failing(self, failing: list[Json]) -> None:
        self.channels_failing = failing
        self.publish({"type": "status"})

    def set_changed(self, changed: list[Json]) -> None:
        self.channels_changed = changed
        self.publish({"type": "status"})

    async def send_test(self, channel: str | None, by: str) -> Json:
        """What the daemon answers (its channels are tested in tests/alerts/test_test_alarm.py): ``test_results``."""
        self.tests_sent.append((channel, by))
        if channel is not None and channel not in {r["channel"] for r in self.test_results}:
            raise ValueError(f"no notification channel {channel!r}")
        return {"title": "Test alarm, nothing detected (cot)", "text": f"sent by {by}", "results": self.test_results}

    def add_note(self, kind: str, text: str, device: str | None, by: str) -> Json:
        text = check_note(kind, text)  # the daemon's store trims the text and refuses these
        n: Json = {"id": self._id(), "t": self.now(), "kind": kind, "text": text, "device": device, "by": by}
        self.note_rows.append(n)
        self.publish({"type": "note", **n})
        return dict(n)

    def subscribe(self) -> asyncio.Queue[Json]:
        q: asyncio.Queue[Json] = asyncio.Queue(100)
        self.subs.append(q)
        return q

    def unsubscribe(self, q: asyncio.Queue[Json]) -> None:
        if q in self.subs:
            self.subs.remove(q)

    # ---- what the tests make happen ---------------------------------------------

    def publish(self, msg: Json) -> None:
        for q in self.subs:
            if q.full():
                q.get_nowait()
            q.put_nowait(msg)

    def add_cluster(self, start: float, count: int = 3, post_wake_s: float | None = 600.0, device: str | None = None,
                    closed: bool = False, label: str | None = None, alarm: bool = True) -> Json:
        """A cluster as the live analysis reports it; with ``alarm`` the engine's ALARM for it."""
        device = device or self.bands[0]["device"]
        c: Json = {"id": self._id(), "device": device, "start": start, "end": start + 40.0 * count, "count": count,
             "alert_t": start + 40.0 * 2 if count >= 3 else None, "post_wake_s": post_wake_s, "closed": closed,
             "label": label}
        self.cluster_rows[c["id"]] = c
        if alarm:
            since = hhmm(start, None)  # the push's words (the zone named in the hour the clocks go back)
            wake = "?" if post_wake_s is None else f"{post_wake_s / 60:.0f}"
            a: Json = {"id": self._id(), "device": device, "kind": "cluster", "state": "ALARM", "urgency": "urgent",
                 "title": f"ALARM: possible spasm cluster ({self._name(device)})",
                 "text": ALARM_TEXT.format(count=count, since=since, wake=wake), "created_t": self.now(), "updated_t": self.now(),
                 "acked_by": None, "notified": True, "cluster_id": c["id"], "count": count, "started_t": start,
                 "post_wake_s": post_wake_s, "label": label}
            self.alerts[a["id"]] = a
            self._band_alert_state(device)
        for b in self.bands:
            if b["device"] == device:
                b["last_cluster"] = dict(c)
        self.publish({"type": "cluster", "id": c["id"], "event": "open"})
        if alarm:
            self.publish({"type": "alert", "id": a["id"], "state": "ALARM"})
        return c

    def set_band(self, device: str | None = None, **changes: Any) -> None:
        device = device or self.bands[0]["device"]
        for b in self.bands:
            if b["device"] == device:
                b.update(changes)
        self.publish({"type": "status", "device": device})

    def _name(self, device: str) -> str:
        return next((b["name"] for b in self.bands if b["device"] == device), device)

    def _band_alert_state(self, device: str) -> None:
        order = ["ESCALATED", "ALARM", "ACKNOWLEDGED", "WARNING", "STALE", "FAULT"]
        states = [a["state"] for a in self.alerts.values() if a["device"] == device and a["state"] in order]
        for b in self.bands:
            if b["device"] == device:
                b["alert_state"] = min(states, key=order.index) if states else "QUIET"

    def seed_history(self) -> None:
        """Two weeks of plausible counts (for the chart and the screenshot)."""
        today = dt.date.fromtimestamp(self.now())
        pattern = [(0, 0, 0), (4, 1, 0), (9, 2, 1), (0, 0, 0), (12, 3, 0), (5, 1, 1), (8, 2, 0),
                   (14, 3, 1), (6, 2, 0), (0, 0, 0), (11, 2, 0), (17, 4, 1), (7, 2, 0)]
        for i, v in enumerate(pattern):
            self.history[(today - dt.timedelta(days=len(pattern) - i)).isoformat()] = v
