"""The alert engine: named states, explicit transitions, an injected clock.

Two kinds of alert (docs/alerts.md has the diagrams):

* cluster, one per (device, cluster key): QUIET -> WARNING -> ALARM ->
  ACKNOWLEDGED | ESCALATED -> CLOSED. The ALARM is sent at once and is never
  rate-limited, muted or held back by quiet hours: it is the point of the
  whole system. A cluster learned only after it ended (a backfill, LATE_CLUSTER_S)
  is no alarm: QUIET -> CLOSED, told once as a cluster earlier (CLUSTER_LATE).
* band, one per (device, fault kind) while the fault lasts: OK -> FAULT
  (STALE for a disconnect) -> OK. These are the noisy ones: rate-limited,
  held back by mute and quiet hours, and sent later if still true when the
  hold ends (a band left off all night is still reported in the morning).

The engine is synchronous and does no I/O: it hands Notifications to
``notify`` (``Dispatcher.submit`` in the daemon) and Transitions to
``on_transition``. Time only moves through ``clock`` and ``tick``, so tests
drive it with a fake clock.
"""

from __future__ import annotations

import logging
import math
import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo
from typing import Any

from spasmwatch.alerts import messages as M
from spasmwatch.alerts.model import (
    AlertSettings,
    Audience,
    BandFault,
    BandState,
    ClusterKey,
    ClusterState,
    LATE_CLUSTER_S,
    LATE_HOLD_S,
    Notification,
    NoticeKind,
    Transition,
    UPDATE_FRESH_S,
    Urgency,
)
from spasmwatch.analysis.clusters import Cluster
from spasmwatch.clock import local_zone

log = logging.getLogger("spasmwatch.alerts")


class AlertEnded(Exception):
    """An ack of a cluster alert this engine keeps closed (among the last ``keep_closed``, for labels
    and the status): it is over, nothing of it escalates or is sent, so there is nothing to see to
    and nothing is recorded. The daemon answers it as it answers one stored over (AlertOver), naming
    ``acked_by``, who had acknowledged it (None: nobody)."""

    def __init__(self, alert_id: int, acked_by: str | None) -> None:
        super().__init__(f"alert {alert_id} had already ended")
        self.alert_id, self.acked_by = alert_id, acked_by


LABELS = ("confirmed", "false_alarm")
_OPEN_ALARM = (ClusterState.ALARM, ClusterState.ESCALATED)
_RAISED = (ClusterState.ALARM, ClusterState.ESCALATED, ClusterState.ACKNOWLEDGED)
# Worst first: what the status page shows as a device's alert_state.
_SEVERITY = ["ESCALATED", "ALARM", "ACKNOWLEDGED", "WARNING", "STALE", "FAULT", "QUIET"]
# The reason (the store's alert history keeps it as the row's text) of the transition that carries
# an alarm on after a daemon restart: it records the state again and sends nothing, so whoever
# counts alarms in the history counts the rows without it (bench/faults.py, test_daemon_crash).
RESTORED = "restored after a daemon restart"
# The end of the reason of a counted band fault's transition (other_bonds: how many other devices
# are bonded), which the store keeps as the row's text: a restarted daemon reads it back
# (``reason_count``), so the same count is not told again at each start, a new one is.
_COUNT_TAIL = "; count {n}"
_COUNT_TAIL_RE = re.compile(r"; count (\d+)$")
# Before it, the way out its text gave (``BandAlert.way``: radio_late's "again", a repeat's words),
# read back by ``reason_way``: a restarted daemon shows the words that were told (until review h47,
# a repeat's radio_late came back in a first one's, "Once is nothing to act on").
_WAY_TAIL = "; way {way}"
_WAY_TAIL_RE = re.compile(r"; way ([a-z_]+)(?:; count \d+)?$")
# In the reason of a band fault's transition whose notice was held back (a mute, quiet hours, the rate
# limit), before why: a restarted daemon reads it back (``reason_held``) and holds it still.
HELD = "held back: "
# Why, for the rate limit (``_holds``): one a restarted daemon finds in a held row holds it still to
# the rate limit's end (``reason_rate_from``).
_RATE_LIMITED = "rate limited"
# After why, when the hold ends (``AlertEngine._hold_end``), the family's local time with its offset
# (ISO 8601, whole seconds); also in the row of the end of a raise that ended while held (``_untold``):
# a restarted daemon tells a raise it carries on only within RESEND_MAX_AGE_S of it (``reason_held_until``).
_UNTIL = " until {t}"
_UNTIL_RE = re.compile(r" until (\d{4}-\d\d-\d\dT[0-9:]+[+-][0-9:]+)")
# The reason of the end of a raise that ended while held back (``_untold``), after its fault's source.
_RAISE_HELD = ", its raise held back"
# In the reason of the ack of a band fault whose notice was held back: seen to, it is never sent.
_NOT_SENT = ", its notice held back, not sent"
# Why an untold raise (``_untold``: ended while held back) is sent, in its sending's reason ("sent: ..."):
# the code until fcb714f4 stored that row as a raise (FAULT), read back by ``reason_told_ended``.
_ENDED_MEANWHILE = "held back until now, ended meanwhile"
# Why an untold raise carried over a daemon stop is not sent (``_drop_untold``), in its row's reason.
_TOO_LATE = "not sent: carried over a daemon stop, {h:.1f} h after it was raised: too late to be news"
# The end of the reason of a cluster learned after it ended (QUIET -> CLOSED, its one push cluster_late):
# whoever counts the clusters the family was told of counts these rows with the ALARM ones (bench/faults.py).
TOLD_LATE = "told as earlier, not alarmed"


@dataclass
class _Alert:
    """Fields both alert kinds show on the status page."""

    id: int
    device: str
    created_t: float
    title: str = ""
    text: str = ""
    urgency: Urgency = Urgency.INFO
    updated_t: float = 0.0
    acked_by: str | None = None
    notified: bool = False  # anything about this alert reached the dispatcher
    restored: bool = False  # raised before a daemon restart: who was alerted is not known


@dataclass
class ClusterAlert(_Alert):
    key: ClusterKey = ""
    state: ClusterState = ClusterState.QUIET
    count: int = 0
    started_t: float | None = None
    post_wake_s: float | None = None
    last_spasm_t: float = 0.0  # engine time of the latest spasm
    # When the band confirmed the latest spasm (the analysis' Spasm.detected_t; else when it came):
    # how old it is for a held-back update (UPDATE_FRESH_S). A backfill brings spasms minutes late.
    confirmed_t: float = 0.0
    alarm_t: float | None = None
    last_update_t: float = 0.0
    update_pending: bool = False
    ended_t: float | None = None
    label: str | None = None
    over: bool = False  # the cluster ended while its alarm was unacknowledged: it closes once acknowledged
    # Learned late (LATE_CLUSTER_S): the engine time its alarm was held from, until its backfill says
    # whether it goes on (the alarm) or ended (told once, as earlier); None: not held.
    held_t: float | None = None
    name: str = ""  # what the family calls the band, in the words they read

    def facts(self) -> M.ClusterFacts:
        return M.ClusterFacts(self.name or self.device, self.count, self.started_t, self.post_wake_s, self.ended_t)


@dataclass
class BandAlert(_Alert):
    fault: BandFault = BandFault.DISCONNECTED
    active: bool = True
    pending: bool = False  # raised but held back (mute, quiet hours, rate limit)
    here: bool = False  # its cause is on this computer (no Bluetooth): said instead of "check the band"
    acts: bool = False  # the band is in FAULT (pairing, an update): someone must act, said instead of "check the band"
    command: str = ""  # the command that repairs it, named in its message (messages.band_fault)
    way: str = ""  # a way out its kind's own text does not give, worded by its own text (messages.band_fault)
    count: int = 0  # how many its text names (messages.band_fault): other_bonds' other devices bonded
    # Carried over a daemon stop (``restore_band``): past this engine time its untold raise is no
    # longer sent when its hold ends (``_drop_untold``); None: no such limit (held by this run).
    tell_by: float | None = None

    @property
    def state(self) -> BandState:
        return self.fault.state if self.active else BandState.OK


Notify = Callable[[Notification], object]
OnTransition = Callable[[Transition], object]


class AlertEngine:
    def __init__(
        self,
        clock: Callable[[], float],
        notify: Notify,
        settings: AlertSettings | None = None,
        on_transition: OnTransition | None = None,
        last_id: int = 0,
    ) -> None:
        """``last_id``: new alerts are numbered after it (the largest id a previous run stored)."""
        self.clock = clock
        self.notify = notify
        self.settings = settings or AlertSettings()
        self.on_transition = on_transition
        self._ids = last_id
        self._notice_ids = 0
        self._clusters: dict[tuple[str, ClusterKey], ClusterAlert] = {}
        self._closed: OrderedDict[tuple[str, ClusterKey], ClusterAlert] = OrderedDict()
        self._bands: dict[tuple[str, BandFault], BandAlert] = {}
        self._band_sent_t: dict[tuple[str, BandFault], float] = {}  # last raise sent, for the rate limit
        # Ended while held back, their raise the news (``BandFault.news_once``): sent when the hold ends.
        self._untold: dict[tuple[str, BandFault], BandAlert] = {}
        # device -> (mute end, who muted or None). The daemon keeps each in its store, and carries one
        # on over a restart while it holds (``restore_mute``; docs/alerts.md).
        self._mutes: dict[str, tuple[float, str | None]] = {}
        self._devices: set[str] = set()
        self._names: dict[str, str] = {}  # device id -> what the family calls the band

    def number_after(self, last_id: int) -> None:
        """New alerts are numbered after ``last_id`` too: the largest id a store stored, read after
        this engine was made (a store the daemon could open only late: docs/store.md)."""
        self._ids = max(self._ids, last_id)

    def name_device(self, device: str, name: str) -> None:
        """Messages speak of ``device`` as ``name`` (the band as the family named it)."""
        self._names[device] = name

    def forget_device(self, device: str) -> int:
        """Drop everything held for ``device`` (a band taken out of the config by a reload): its
        cluster alerts, open or closed, its band faults, its mute. Nothing is notified: the family
        removed the band. Returns how many open alerts were dropped (the caller logs them)."""
        open_n = sum(d == device for d, _ in self._clusters) + sum(d == device and a.active for (d, _), a in self._bands.items())
        self._clusters = {k: a for k, a in self._clusters.items() if k[0] != device}
        self._closed = OrderedDict((k, a) for k, a in self._closed.items() if k[0] != device)
        self._bands = {k: a for k, a in self._bands.items() if k[0] != device}
        self._band_sent_t = {k: t for k, t in self._band_sent_t.items() if k[0] != device}
        self._untold = {k: a for k, a in self._untold.items() if k[0] != device}
        self._mutes.pop(device, None)
        self._devices.discard(device)
        self._names.pop(device, None)
        return open_n

    def cluster_keys(self) -> set[ClusterKey]:
        """The keys of the cluster alerts held, open or among the closed kept: the only clusters
        whose alerts can still change."""
        return {k for (_, k), _ in self._all_clusters()}

    def forget_retired(self, key: ClusterKey) -> None:
        """``key``, a retired cluster's store id (a merge deleted its row), names a new cluster now:
        SQLite gave the highest id again once its row was gone until schema v16 (clusters
        AUTOINCREMENT), and still does in a store whose sqlite_sequence row was deleted by hand. The
        retired alert kept closed under it, of any band, is forgotten; held, it took the new
        cluster's spasms for its own ("spasm for closed cluster ... ignored": no alarm) and its
        label for its own."""
        self._closed = OrderedDict((k, a) for k, a in self._closed.items() if k[1] != key)

    # ---- cluster inputs -------------------------------------------------

    def on_spasm(
        self,
        device: str,
        cluster_key: ClusterKey,
        count: int,
        started_t: float | None = None,
        post_wake_s: float | None = None,
        confirmed_t: float | None = None,
    ) -> None:
        """A spasm was counted in a chain: ``count`` spasms so far (the chain's, not a delta);
        ``confirmed_t``: when the band confirmed the chain's latest spasm (None: now)."""
        if (device, cluster_key) in self._closed:
            log.warning("alert: spasm for closed cluster %s of %s ignored", cluster_key, device)
            return
        if (device, cluster_key) not in self._clusters and count < self.settings.warning_count:
            return  # a lone spasm is no alert (and would never expire from QUIET)
        a = self._cluster(device, cluster_key)
        now = self.clock()
        grew = count > a.count
        a.count = max(a.count, count)
        a.started_t = started_t if started_t is not None else a.started_t
        a.post_wake_s = post_wake_s if post_wake_s is not None else a.post_wake_s
        a.last_spasm_t = now
        a.confirmed_t = now if confirmed_t is None else min(now, confirmed_t)
        s = self.settings
        if a.state in (ClusterState.QUIET, ClusterState.WARNING) and a.count >= s.alarm_count:
            if now - a.confirmed_t > LATE_CLUSTER_S:
                self._hold_late(a, now)
            else:
                self._alarm(a, now, f"spasm {a.count} of a cluster" if a.held_t is None else "learned late, and going on now")
        elif a.state is ClusterState.QUIET and a.count >= s.warning_count:
            self._warning(a, now)
        elif a.state in _RAISED and grew:
            a.update_pending = True
            self._maybe_update(a, now)
            if a.update_pending:
                self._recount_text(a, now)

    def on_cluster(self, device: str, cluster: Cluster, key: ClusterKey) -> None:
        """The analysis' Cluster grew (or was raised): same as ``on_spasm`` with its facts."""
        start = cluster.start if cluster.spasms else None
        confirmed = cluster.confirmed_t if cluster.spasms else None
        self.on_spasm(device, key, cluster.count, start, cluster.post_wake_s, confirmed)

    def restore(
        self,
        device: str,
        cluster_key: ClusterKey,
        state: ClusterState,
        count: int,
        started_t: float | None,
        alarm_t: float,
        acked_by: str | None = None,
        post_wake_s: float | None = None,
        over: bool = False,
        alert_id: int | None = None,
    ) -> Notification | None:
        """Carry on an alarm raised before a daemon restart: same state and id (``alert_id``,
        when stored), nothing sent again.

        Escalation keeps counting from ``alarm_t``; follow-ups (updates, the end, a
        false-alarm label) go to every channel, as who got the first alarm is not known.
        Returns the alarm as a notification that is not sent, for state mirrors (MQTT's
        retained state) to show it again; None when there was nothing to restore.
        """
        if (device, cluster_key) in self._clusters or state not in _RAISED:
            return None
        if alert_id is not None and self._with_id(alert_id) is not None:
            # A store opened late: this run numbered from 1 while it could not read the store's last
            # id, and an alert of its own has this one. Two under one id, an ack of the other (by id,
            # from the page) acknowledged this alarm: it goes on under a new one (``number_after``).
            log.warning("alert %d %s cluster: its id is taken by an alert of this run: carried on as alert %d", alert_id, device, self._ids + 1)
            alert_id = None
        a = self._cluster(device, cluster_key, alert_id)
        self.number_after(a.id)  # (its id counted: none of the next alerts is given it)
        a.count, a.started_t, a.acked_by, a.notified = count, started_t, acked_by, True
        a.post_wake_s, a.over = post_wake_s, over
        a.alarm_t = a.last_update_t = alarm_t
        a.last_spasm_t = self.clock()
        a.restored = True
        msg = M.alarm(a.facts(), self.settings.tz, self.settings.language)
        self._move(a, state, self.clock(), RESTORED, None, msg)
        return self._notice(a, NoticeKind.CLUSTER_ALARM, Urgency.URGENT, msg, state=state)

    def restore_band(
        self, device: str, fault: BandFault, raised_t: float, notified: bool, alert_id: int | None = None, count: int = 0,
        acked: tuple[str, float] | None = None, held: bool = False, sent_t: float | None = None, way: str = "",
        ended: bool = False, tell_by: float | None = None, rate_from: float | None = None,
    ) -> bool:  # fmt: skip
        """Carry on a band fault raised before a daemon restart, nothing sent again: its end is then
        told to those who got it ("Band reconnected"), and its repeat is no new notice (``count``:
        the one it last told, ``reason_count``: the same count is no news; ``way``: the way out it
        told, ``reason_way``, shown in the same words). ``acked``: who
        acknowledged it and when (its stored ack, ``ack``), shown again; ``held``: its latest word
        was held back (``reason_held``); ``sent_t``: when its latest word was said (default
        ``raised_t``), what the rate limit counts from. ``ended``: a fault whose raise is the news
        (``BandFault.news_once``) held back and ended meanwhile: its raise is sent when the hold ends
        (``_untold``), nothing shows it; until review h47 a restart forgot it (radio_late held by quiet
        hours at 23:30, a restart at 03:00: never told). ``tell_by``: past it, its raise ended and
        untold is no longer sent (``_drop_untold``). ``rate_from``: held by the rate limit, when the raise
        it counts from was sent (``reason_rate_from``): held still to its end; until review h51 a
        restart forgot it, and told the notice at once, minutes after the one before. False when this
        run has it already."""
        if (device, fault) in self._bands or (device, fault) in self._untold:
            return False
        if alert_id is not None and self._with_id(alert_id) is not None:
            alert_id = None  # its id taken by an alert of this run (a store opened late): a new one
        b = BandAlert(self._next_id() if alert_id is None else alert_id, device, raised_t, fault=fault, active=not ended,
                      updated_t=raised_t, way=way, count=count, tell_by=tell_by)  # fmt: skip
        self.number_after(b.id)
        self._set_text(b, self._band_fault_message(b), fault.urgency, raised_t)
        if acked is not None:
            b.acked_by, b.updated_t = acked[0], max(raised_t, acked[1])
        b.notified, b.restored = notified, True
        # One held back before the restart (a mute, quiet hours, the rate limit) is held still, and
        # sent when they allow if still true: raised again by the band's STATUS, it was sent at once.
        b.pending = held or ended
        (self._untold if ended else self._bands)[(device, fault)] = b
        self._devices.add(device)
        if not b.pending:
            self._band_sent_t[(device, fault)] = raised_t if sent_t is None else sent_t
        elif rate_from is not None:
            self._band_sent_t[(device, fault)] = rate_from
        said = "held back, ended meanwhile" if ended else "sent" if notified else "not sent"
        log.info("alert %d %s %s: carried on from before a restart (%s)", b.id, device, fault.value, said)
        return True

    def on_cluster_closed(self, device: str, cluster_key: ClusterKey, ended_t: float | None = None) -> None:
        """The chain ended (no spasm for the close time); ``ended_t``: end of its last spasm."""
        a = self._clusters.get((device, cluster_key))
        if a is None:
            return
        if a.held_t is not None:
            self._told_late(a, self.clock(), ended_t)
        elif a.state in _OPEN_ALARM:
            self._end_unacknowledged(a, self.clock(), ended_t)
        else:
            self._close(a, self.clock(), ended_t, "cluster closed")

    def merge_clusters(self, device: str, into: ClusterKey, keys: Sequence[ClusterKey], cluster: Cluster | None = None) -> None:
        """Clusters ``keys`` turned out to be part of cluster ``into`` (late events joined them:
        docs/host.md "Live analysis"): one cluster, one alert. Call it before the merged
        ``cluster``'s ``on_cluster`` under ``into``.

        ``into``'s open alert goes on. Each other open one is retired: CLOSED (its escalation and
        its sound stop), and the channels it reached are told it was the same cluster (INFO, as
        "Cluster ended": mirrors turn it off, a phone is not buzzed again for a cluster it was
        alarmed of); its acknowledgement counts for ``into``'s alarm. When ``into`` has no open
        alert (it ended and was seen to, or alarmed before a restart and closed), the first open
        one goes on as its alert: same id and state, nothing sent, and the cluster's spasms count
        there again.
        """
        now = self.clock()
        s = self._clusters.get((device, into))
        for k in keys:
            a = self._clusters.pop((device, k), None) if k != into else None
            if a is None:
                continue  # no open alert: nothing to retire (one closed stays among the closed)
            if s is None:
                self._carry(a, into)
                s = a
                if isinstance(k, str) and isinstance(into, int):
                    # Alarmed under a key no stored cluster has (the store refused the cluster): its
                    # rows, if the store took any, name no cluster, and a restart found the cluster
                    # without its alarm and alarmed it again. Its state, recorded under ``into`` now.
                    self._move(a, a.state, now, f"carried on as the alert of cluster {into}", None, None, by=a.acked_by)
                continue
            self._retire(a, s, now, cluster.count if cluster is not None else s.count)

    def rekey(self, device: str, old: ClusterKey, new: ClusterKey) -> None:
        """A chain's heads-up (WARNING), raised under the daemon's own key for a chain the store has
        no row of yet (docs/alerts.md "Wiring"), goes on under the row's id ``new`` as the chain
        becomes a cluster: the same alert, nothing sent, no row written (the daemon gives its rows
        to the cluster: ``Store.claim_alert``; its alarm, next, is stored under ``new``, as a restart
        restores it). Nothing open under ``old`` (it expired): nothing done,
        the cluster's alarm is an alert of its own."""
        a = self._clusters.get((device, old))
        if a is not None and (device, new) not in self._clusters:
            self._carry(a, new)

    def open_cluster_id(self, device: str, key: ClusterKey) -> int | None:
        """The id of the cluster alert open under ``key``, or None."""
        a = self._clusters.get((device, key))
        return None if a is None else a.id

    def _carry(self, a: ClusterAlert, into: ClusterKey) -> None:
        """``a`` goes on as the alert of cluster ``into``: same id and state, nothing sent."""
        self._clusters.pop((a.device, a.key), None)
        self._closed.pop((a.device, into), None)
        log.info("alert %d %s cluster %s: carried on as the alert of cluster %s (the same cluster)", a.id, a.device, a.key, into)
        a.key = into
        self._clusters[(a.device, into)] = a

    def _retire(self, a: ClusterAlert, into: ClusterAlert, now: float, count: int) -> None:
        if a.state is ClusterState.ACKNOWLEDGED and a.acked_by is not None and into.state in _OPEN_ALARM:
            self._ack_cluster(into, a.acked_by, now)  # the same cluster's alarm, seen to
        self._ended(a, None)
        a.over = False
        facts = replace(into.facts(), count=max(count, into.count, a.count))
        msg = M.merged(a.facts(), facts, self.settings.tz, self.settings.language)
        n = self._notice(a, NoticeKind.CLUSTER_CLOSED, Urgency.INFO, msg, Audience.ALERTED) if a.notified else None
        self._move(a, ClusterState.CLOSED, now, f"the same cluster as alert {into.id} (cluster {into.key}): retired", n, msg)
        self._keep_closed(a)

    # ---- band input -----------------------------------------------------

    def on_band_state(
        self, device: str, kind: BandFault | str, active: bool, here: bool = False, command: str = "", acts: bool = False, way: str = "",
        count: int = 0,
    ) -> None:  # fmt: skip
        """A band condition started (``active``) or ended. Repeats of the same state are ignored.
        ``here``: the daemon knows its cause is on this computer; ``acts``: the band is in FAULT, for
        someone to act on; ``command``: the one that repairs it; ``way``: a way out its kind's own text
        does not give; ``count``: how many its text names (messages.band_fault): a raised one whose
        count changed is said again with it."""
        fault = BandFault(kind)
        self._devices.add(device)
        a = self._bands.get((device, fault))
        now = self.clock()
        if active and a is None:
            self._band_raise(BandAlert(self._next_id(), device, now, fault=fault, updated_t=now, here=here, command=command,
                                       acts=acts, way=way, count=count))  # fmt: skip
        elif active and a is not None and count != a.count:
            a.count = count
            self._band_resay(a, now)
        elif not active and a is not None:
            self._band_clear(a, now)

    # ---- caregiver inputs -----------------------------------------------

    def ack(self, alert_id: int, by: str) -> dict[str, Any]:
        """Acknowledge one alert; returns it as on the status page. KeyError if this engine holds no
        such alert (``issued`` says whether it ever numbered one so), AlertEnded if it keeps it closed.
        A band alert ended while its notice was held back (``_untold``) is still seen to: its ack
        stops that notice's push (``_ack_band``)."""
        a = self._find(alert_id)
        if isinstance(a, ClusterAlert) and a.state is ClusterState.CLOSED:
            raise AlertEnded(alert_id, a.acked_by)  # (until review h49 it took acked_by in memory alone: shown, never stored)
        if isinstance(a, ClusterAlert):
            self._ack_cluster(a, by, self.clock())
        elif a.acked_by is None:
            self._ack_band(a, by, self.clock())
        return self._alert_json(a)

    def issued(self, alert_id: int) -> bool:
        """Whether this engine's numbering (from ``last_id``, ``number_after``) reached ``alert_id``:
        one it did not was never issued, whatever the store holds (nothing stored has a higher id)."""
        return 1 <= alert_id <= self._ids

    def ack_device(self, device: str, by: str) -> list[dict[str, Any]]:
        """Acknowledge every open alert of a device (the band's button, a "stop" from the page)."""
        open_ids = [a.id for a in self._open_alerts() if a.device == device]
        return [self.ack(i, by) for i in open_ids]

    def label(self, cluster_key: ClusterKey, label: str, by: str) -> dict[str, Any]:
        """``confirmed`` or ``false_alarm``; a false alarm tells everyone who was alerted.

        ValueError for another label, KeyError for an unknown cluster.
        """
        if label not in LABELS:
            raise ValueError(f"label must be one of {', '.join(LABELS)}, not {label!r}")
        found = [a for (_, k), a in self._all_clusters() if k == cluster_key]
        if not found:
            raise KeyError(cluster_key)
        for a in found:
            self._label(a, label, by)
        return self._alert_json(found[0])

    def mute(self, device: str, for_s: float, by: str | None = None) -> float:
        """Hold back band alerts and WARNINGs of ``device`` for ``for_s``; never a cluster ALARM.
        ``by``: who muted, shown with the mute's end in the status (a forgotten mute is seen).
        Returns the mute's end (engine time), for the daemon to keep."""
        until = self.clock() + for_s
        self._mutes[device] = (until, by)
        self._devices.add(device)  # in the status' summaries even before its first alert
        self._hold_as_this_runs(device)
        log.info("alerts of %s muted for %.0f s (cluster alarms still sound)", device, for_s)
        return until

    def restore_mute(self, device: str, until: float, by: str | None) -> bool:
        """Carry on a mute set before a daemon restart (the store's) until ``until``, as it was set;
        False when it has ended or this run holds one of its own for ``device``."""
        if device in self._mutes or until <= self.clock():
            return False
        self._mutes[device] = (until, by)
        self._devices.add(device)
        log.info("alerts of %s still muted for %.0f s, as set before a restart (cluster alarms still sound)", device, until - self.clock())
        return True

    def unmute(self, device: str) -> None:
        if self._mutes.pop(device, None) is not None:
            log.info("alerts of %s unmuted", device)
            self._hold_as_this_runs(device)
            self.tick()

    def reconfigure(self, settings: AlertSettings) -> None:
        """Hold and send by ``settings`` from now on (a config reload): every use reads them. New
        ones make the held notices carried over a daemon stop this run's own (``_hold_as_this_runs``):
        quiet hours changed by the family with the daemon running move their hold's end, and until
        review h51 one lengthened after a restart dropped such a notice at the old end plus
        RESEND_MAX_AGE_S, held still."""
        if settings != self.settings:
            self.settings = settings
            self._hold_as_this_runs()

    def _hold_as_this_runs(self, device: str | None = None) -> None:
        """``device``'s (None: every device's) held notices carried over a daemon stop, still to be
        told (``tell_by`` not past), held from now on as this run's own, with no ``tell_by``: a mute
        set, lengthened or lifted, or quiet hours changed (``reconfigure``), while the daemon runs
        moves their hold's end by the family's choice, not by a stop that made them old (until review
        h50 a mute lengthened after a restart dropped its notice at the end the row before it named,
        plus RESEND_MAX_AGE_S)."""
        now = self.clock()
        for b in [*self._bands.values(), *self._untold.values()]:
            if device in (None, b.device) and b.tell_by is not None and now <= b.tell_by:
                b.tell_by = None

    def end_mutes(self) -> list[str]:
        """Forget the mutes past their end; their devices, whose status changed with no notice
        (the daemon re-says it: a retained MQTT status must not show a mute that has ended)."""
        now = self.clock()
        ended = [device for device, (until, _) in self._mutes.items() if now >= until]
        for device in ended:
            del self._mutes[device]
            log.info("alerts of %s no longer muted (the mute ended)", device)
        return ended

    def tick(self) -> None:
        """Let time act: escalations, due updates, expired warnings, held-back band alerts."""
        now = self.clock()
        for a in list(self._clusters.values()):
            self._tick_cluster(a, now)
        for b in list(self._bands.values()):
            if b.pending and self._band_hold(b.device, b.fault, now) is None:
                self._send_band_raise(b, now, "held back until now")
        for key, b in list(self._untold.items()):
            if b.tell_by is not None and now > b.tell_by:
                del self._untold[key]
                self._drop_untold(b, now)
            elif self._band_hold(b.device, b.fault, now) is None:
                del self._untold[key]
                self._send_band_raise(b, now, _ENDED_MEANWHILE)

    # ---- outputs --------------------------------------------------------

    def alarm_open(self, alert_id: int) -> bool:
        """Whether ``alert_id`` is a cluster alarm nobody has acknowledged (nor called a false alarm)
        yet: what a repeating alarm sound asks before each repeat."""
        return any(a.id == alert_id and a.state in _OPEN_ALARM for a in self._clusters.values())

    def test_notice(self, device: str, by: str) -> Notification:
        """A test alarm for ``device``'s channels: as urgent as an alarm, so it rings where one would,
        to every channel (``Audience.EVERYONE``); it belongs to no alert (``alert_id`` 0) and moves none."""
        now = self.clock()
        msg = M.test_alarm(self._names.get(device, device), by, now, self.settings.tz, self.settings.language)
        return self._unattached(device, NoticeKind.TEST, "TEST", Urgency.URGENT, msg, now, Audience.EVERYONE)

    def summary_notice(self, device: str, msg: M.Message) -> Notification:
        """The daily summary of ``device`` (worded by the daemon from its store): LOW, so a phone shows
        it without an alarm's sound and a caregiver at ``min_urgency`` urgent does not get it; it
        belongs to no alert (``alert_id`` 0) and moves none."""
        return self._unattached(device, NoticeKind.DAILY_SUMMARY, "SUMMARY", Urgency.LOW, msg, self.clock())

    def _unattached(
        self, device: str, kind: NoticeKind, state: str, urgency: Urgency, msg: M.Message, now: float,
        audience: Audience = Audience.FILTERED,
    ) -> Notification:  # fmt: skip
        """A notice of no alert (``alert_id`` 0: engine ids start at 1), which moves none."""
        self._notice_ids += 1
        return Notification(id=self._notice_ids, alert_id=0, device=device, kind=kind, state=state, urgency=urgency,
                            title=msg.title, text=msg.text, created_t=now, audience=audience)  # fmt: skip

    def snapshot(self, closed: bool = True) -> dict[str, Any]:
        """Open alerts and, with ``closed``, the last ``keep_closed`` closed ones (newest first); and
        a summary per device (JSON-ready)."""
        now = self.clock()
        # (not an alarm held for its backfill: QUIET, nothing said of it yet, for seconds)
        alerts = [self._alert_json(a) for a in self._open_alerts() if a.state is not ClusterState.QUIET]
        if closed:
            alerts += [self._alert_json(a) for a in reversed(self._closed.values())]
        return {"now": now, "alerts": alerts, "devices": {d: self.device_summary(d) for d in sorted(self._devices)}}

    def device_summary(self, device: str) -> dict[str, Any]:
        """``alert_state`` (worst open alert or QUIET), ``band_state``, ``faults``, and while a mute
        holds back its notices ``muted_until`` (t) and ``muted_by`` (or None; both None unmuted)."""
        faults = sorted(b.fault.value for b in self._bands.values() if b.device == device)
        band = BandState.OK
        if faults:
            band = BandState.STALE if BandFault.DISCONNECTED.value in faults else BandState.FAULT
        states = [a.state.value for a in self._clusters.values() if a.device == device] + [band.value]
        worst = min(states, key=lambda s: _SEVERITY.index(s) if s in _SEVERITY else len(_SEVERITY))
        now = self.clock()
        until, by = self._mutes[device] if self._muted(device, now) else (None, None)
        return {
            "alert_state": worst if worst in _SEVERITY else "QUIET",
            "band_state": band.value,
            "faults": faults,
            "muted_until": until,
            "muted_by": by,
        }

    # ---- cluster transitions -------------------------------------------

    def _cluster(self, device: str, key: ClusterKey, alert_id: int | None = None) -> ClusterAlert:
        a = self._clusters.get((device, key))
        if a is None:
            now = self.clock()
            a = ClusterAlert(self._next_id() if alert_id is None else alert_id, device, now, key=key, updated_t=now, name=self._names.get(device, ""))
            self._clusters[(device, key)] = a
            self._devices.add(device)
        return a

    def _warning(self, a: ClusterAlert, now: float) -> None:
        msg = M.warning(a.facts(), self.settings.tz, self.settings.language)
        muted = self._muted(a.device, now)
        n = None if muted else self._notice(a, NoticeKind.CLUSTER_WARNING, Urgency.LOW, msg)
        self._move(a, ClusterState.WARNING, now, "muted: warning not sent" if muted else "2 spasms close together", n, msg)

    def _alarm(self, a: ClusterAlert, now: float, reason: str) -> None:
        # Never muted, rate-limited or held by quiet hours: see the module docstring.
        msg = M.alarm(a.facts(), self.settings.tz, self.settings.language)
        n = self._notice(a, NoticeKind.CLUSTER_ALARM, Urgency.URGENT, msg)
        a.alarm_t = a.last_update_t = now
        a.update_pending = False
        a.held_t = None
        # The warning's ack (kept in the history) is not this alarm's: the alarm is open to
        # acknowledge (the CLI and the web page offer it by acked_by) and escalates without it.
        a.acked_by = None
        self._move(a, ClusterState.ALARM, now, reason, n, msg)

    def _hold_late(self, a: ClusterAlert, now: float) -> None:
        """Its alarm due, ``a``'s newest spasm is older than LATE_CLUSTER_S: held until its backfill
        says whether it goes on (a spasm of now: ``_alarm``) or ended (``_told_late``), at most
        LATE_HOLD_S (then alarmed as live: ``_tick_cluster``). Not a state change."""
        if a.held_t is None:
            a.held_t = now
            log.info("alert %d %s cluster %s: learned late (its newest spasm confirmed %.0f s ago): its alarm held for its backfill",
                     a.id, a.device, a.key, now - a.confirmed_t)  # fmt: skip

    def _told_late(self, a: ClusterAlert, now: float, ended_t: float | None) -> None:
        """A cluster learned after it ended: told once (HIGH: no alarm sound, not through
        do-not-disturb), as a cluster earlier; CLOSED at once, nothing to acknowledge."""
        self._ended(a, ended_t)
        a.held_t = None
        msg = M.late(a.facts(), self.settings.tz, a.confirmed_t if a.started_t is None else a.started_t, self.settings.language)
        n = self._notice(a, NoticeKind.CLUSTER_LATE, Urgency.HIGH, msg)
        ago = (now - (a.ended_t or a.confirmed_t)) / 60
        self._move(a, ClusterState.CLOSED, now, f"learned late, {ago:.0f} min after it ended: {TOLD_LATE}", n, msg)
        del self._clusters[(a.device, a.key)]
        self._keep_closed(a)

    def _maybe_update(self, a: ClusterAlert, now: float) -> None:
        if not a.update_pending or now - a.last_update_t < self.settings.update_interval_s or now - a.confirmed_t > UPDATE_FRESH_S:
            return
        msg = M.update(a.facts(), self.settings.tz, self.settings.language)
        urgency = Urgency.NORMAL if a.state is ClusterState.ACKNOWLEDGED else Urgency.HIGH
        n = self._notice(a, NoticeKind.CLUSTER_UPDATE, urgency, msg, Audience.ALERTED)
        a.last_update_t, a.update_pending = now, False
        self._set_text(a, msg, urgency, now)
        log.debug("alert %d %s: update sent, %d spasms", a.id, a.device, a.count)
        self._emit(n)

    def _recount_text(self, a: ClusterAlert, now: float) -> None:
        """An open alarm's text (the page's card, 'status') with the count it has now, nothing sent:
        with its update held back it said the count it was raised with for as long as it stayed
        open, under the card's current one ("3 sudden tensing movements" above "6 spasm-like")."""
        if a.state is ClusterState.ESCALATED and a.alarm_t is not None:
            msg = M.escalated(a.facts(), self.settings.tz, now - a.alarm_t, self.settings.language)
        else:  # ALARM, or ACKNOWLEDGED (it keeps the alarm's text: restore() words it so too)
            msg = M.alarm(a.facts(), self.settings.tz, self.settings.language)
        self._set_text(a, msg, a.urgency, now)

    def _tick_cluster(self, a: ClusterAlert, now: float) -> None:
        s = self.settings
        if a.held_t is not None:
            if now - a.held_t >= LATE_HOLD_S:
                self._alarm(a, now, f"learned late, its backfill not past it after {LATE_HOLD_S:.0f} s: alarmed as live")
            return
        if a.state is ClusterState.ALARM and a.alarm_t is not None and now - a.alarm_t >= s.escalate_after_s:
            msg = M.escalated(a.facts(), s.tz, now - a.alarm_t, s.language)
            n = self._notice(a, NoticeKind.CLUSTER_ESCALATED, Urgency.CRITICAL, msg, Audience.EVERYONE)
            self._move(a, ClusterState.ESCALATED, now, f"not acknowledged after {s.escalate_after_s:.0f} s", n, msg)
        elif a.state is ClusterState.WARNING and now - a.last_spasm_t >= s.warning_expire_s:
            self._close(a, now, None, "no third spasm")
        elif a.over and a.state in _OPEN_ALARM and now - (a.ended_t or a.last_spasm_t) >= s.keep_unacknowledged_s:
            hours = (now - (a.ended_t or a.last_spasm_t)) / 3600
            self._close(a, now, None, f"ended {hours:.1f} h ago and never acknowledged")
        elif a.state in _RAISED:
            self._maybe_update(a, now)

    def _ack_cluster(self, a: ClusterAlert, by: str, now: float) -> None:
        first = a.acked_by is None
        if first:
            a.acked_by = by
        if a.state not in _OPEN_ALARM:
            # A WARNING ack is recorded but does not pre-acknowledge an ALARM that may follow. Its row
            # (no state change, ``by``) names who saw to it once it expired, after a restart too
            # (``Store.alert_acked_by``); until review h50 it was in memory alone.
            if first:
                log.info("alert %d %s cluster %s: %s acknowledged by %s", a.id, a.device, a.key, a.state.value, by)
                self._record(a, a.state.value, a.state.value, now, f"acknowledged by {by}", None, by)
            return
        msg = M.acknowledged(a.facts(), by, self.settings.language)
        # An alarm whose cluster already ended closes at once: its last word says so.
        closes = ClusterState.CLOSED if a.over else None
        n = self._notice(a, NoticeKind.CLUSTER_ACKNOWLEDGED, Urgency.NORMAL, msg, Audience.ALERTED, state=closes)
        self._move(a, ClusterState.ACKNOWLEDGED, now, f"acknowledged by {by}", n, msg, keep_text=True, by=by)
        if a.over:
            self._close(a, now, None, "ended before it was acknowledged", tell=False)

    def _label(self, a: ClusterAlert, label: str, by: str) -> None:
        a.label = label
        log.info("alert %d %s cluster %s: labelled %s by %s", a.id, a.device, a.key, label, by)
        if label != "false_alarm":
            return
        now = self.clock()
        if a.state in _OPEN_ALARM:
            a.acked_by = a.acked_by or by
            self._move(a, ClusterState.ACKNOWLEDGED, now, f"false alarm per {by}", None, None, by=by)
        if a.notified:  # nobody to correct if nothing was sent
            msg = M.false_alarm(a.facts(), self.settings.tz, by, self.settings.language)
            closes = ClusterState.CLOSED if a.over else None
            self._emit(self._notice(a, NoticeKind.FALSE_ALARM, Urgency.NORMAL, msg, Audience.ALERTED, state=closes))
        if a.over:
            self._close(a, now, None, f"ended, then marked a false alarm by {by}", tell=False)

    def _end_unacknowledged(self, a: ClusterAlert, now: float, ended_t: float | None) -> None:
        """The cluster ended but nobody acknowledged its alarm: say it ended, keep the alarm open.

        It still escalates (a short cluster ends before ``escalate_after_s``: a parent who slept
        through the first alarm would never hear again) and stays on the page until acknowledged.
        """
        self._ended(a, ended_t)
        if a.over:
            return
        a.over = True
        log.info("alert %d %s cluster %s: ended, alarm still unacknowledged", a.id, a.device, a.key)
        # Its state is the alarm's, still open (a mirror such as MQTT keeps the alarm on until it is seen to).
        msg = M.closed(a.facts(), self.settings.tz, self.settings.language, M.AlarmEnd.OPEN)
        self._emit(self._notice(a, NoticeKind.CLUSTER_CLOSED, Urgency.INFO, msg, Audience.ALERTED, state=a.state))

    def _ended(self, a: ClusterAlert, ended_t: float | None) -> None:
        a.update_pending = False  # the summary carries the final count
        a.ended_t = ended_t if ended_t is not None else a.ended_t or self._guess_end(a)

    def _close(self, a: ClusterAlert, now: float, ended_t: float | None, reason: str, tell: bool = True) -> None:
        self._ended(a, ended_t)
        a.over = False  # closed: nothing left to close once it is acknowledged
        msg = M.closed(a.facts(), self.settings.tz, self.settings.language, _alarm_end(a), a.acked_by)
        n = None
        if a.notified and tell:  # (tell=False: the end was told when it came)
            n = self._notice(a, NoticeKind.CLUSTER_CLOSED, Urgency.INFO, msg, Audience.ALERTED)
        self._move(a, ClusterState.CLOSED, now, reason, n, msg)
        del self._clusters[(a.device, a.key)]
        self._keep_closed(a)

    def _keep_closed(self, a: ClusterAlert) -> None:
        """``a``, closed, among the last ``keep_closed`` (for labels and the status page)."""
        self._closed[(a.device, a.key)] = a
        while len(self._closed) > self.settings.keep_closed:
            self._closed.popitem(last=False)

    def _guess_end(self, a: ClusterAlert) -> float | None:
        # Without the analysis' end, the last spasm seen by the engine is the best bound.
        return a.last_spasm_t if a.started_t is not None else None

    # ---- band transitions ----------------------------------------------

    def _band_raise(self, b: BandAlert) -> None:
        device, fault, now = b.device, b.fault, b.created_t
        self._bands[(device, fault)] = b
        self._untold.pop((device, fault), None)  # its news superseded by this one's
        msg = self._band_fault_message(b)
        hold = self._band_hold(device, fault, now)
        n = None
        if hold is None:
            n = self._notice(b, NoticeKind.BAND_FAULT, fault.urgency, msg, fault=fault)
            self._band_sent_t[(device, fault)] = now
        b.pending = hold is not None
        self._move(b, fault.state, now, _said(self._held(hold, b, now) if hold else fault.source, b), n, msg)

    def _ack_band(self, b: BandAlert, by: str, now: float) -> None:
        """Who saw to ``b`` recorded: no state change and nothing sent (a band notice has no one to
        tell who is on it, and nothing escalates), but a transition to its own state with ``by``,
        which the store keeps (as a cluster's ack is kept) for a restarted daemon to show again
        (``restore_band``). Its way and count end the reason as its raise's did (``_said``). One whose
        notice is held back (a mute, quiet hours, the rate limit) is seen to: its notice is not sent
        when the hold ends (``_NOT_SENT``), nor, ended meanwhile, as an untold raise; until review h48
        a "Battery low" acknowledged on the page at 23:00 was pushed at 07:00 all the same. One ended
        meanwhile (``_untold``: a radio_late ends seconds after its raise, the page showing it still)
        is recorded OK, as it is: until review h48 its ack found no alert (404) and it was pushed."""
        b.acked_by, b.updated_t = by, now
        held, b.pending = b.pending, False
        if self._untold.get((b.device, b.fault)) is b:
            del self._untold[(b.device, b.fault)]
        log.info("alert %d %s %s: acknowledged by %s%s", b.id, b.device, b.fault.value, by, _NOT_SENT if held else "")
        state = b.state.value
        self._record(b, state, state, now, _said(f"acknowledged by {by}" + (_NOT_SENT if held else ""), b), None, by)

    def _band_fault_message(self, b: BandAlert) -> M.Message:
        return M.band_fault(self._names.get(b.device, b.device), b.fault, self.settings.language, b.here, b.command, b.acts, b.way, b.count)

    def _band_resay(self, b: BandAlert, now: float) -> None:
        """``b`` raised and its count changed: its new text sent as its raise was (held as it would be)."""
        msg = self._band_fault_message(b)
        hold = self._band_hold(b.device, b.fault, now, rate=False)  # a new count is news, not a repeat
        n = None
        if hold is None:
            n = self._notice(b, NoticeKind.BAND_FAULT, b.fault.urgency, msg, fault=b.fault)
            self._band_sent_t[(b.device, b.fault)] = now
        b.pending = hold is not None
        self._move(b, b.fault.state, now, _said("its count changed" + (f", {self._held(hold, b, now)}" if hold else ""), b), n, msg, still=True)

    def _send_band_raise(self, b: BandAlert, now: float, reason: str) -> None:
        """``b``'s notice, held back at its raise, sent now: a transition to its own state carrying
        the push (kept in the outbox with its row, as a raise's is). Without the row the store's
        latest word stayed "held back", and a restarted daemon held it still and pushed it again
        (review h47). Its way and count end the reason as its raise's did (``_said``). One ended
        meanwhile (``_untold``) stays OK: its row is no raise, which a restart carried on open."""
        msg = self._band_fault_message(b)
        n = self._notice(b, NoticeKind.BAND_FAULT, b.fault.urgency, msg, fault=b.fault)
        b.pending = False
        self._band_sent_t[(b.device, b.fault)] = now
        self._move(b, b.state, now, _said(f"sent: {reason}", b), n, msg, still=True)

    def _drop_untold(self, b: BandAlert, now: float) -> None:
        """``b``'s raise, untold (ended while held back) and carried over a daemon stop, past its
        ``tell_by``: not sent, its row saying so (OK, as it is: a restart carries nothing on). Until
        review h48 a daemon stopped for days pushed it as it started: "the radio started late" of a
        night days before, told as news."""
        reason = _TOO_LATE.format(h=(now - b.created_t) / 3600)
        log.info("alert %d %s %s: %s", b.id, b.device, b.fault.value, reason)
        b.pending = False
        self._record(b, b.state.value, b.state.value, now, _said(reason, b), None, None)

    def _band_clear(self, b: BandAlert, now: float) -> None:
        del self._bands[(b.device, b.fault)]
        b.active = False
        msg = M.band_cleared(self._names.get(b.device, b.device), b.fault, self.settings.language)
        # The good news goes only to those who got the bad news, and not into quiet hours or a mute;
        # none for a fault whose raise said all (``news_once``).
        n = None
        if b.notified and not b.fault.news_once and self._band_hold(b.device, b.fault, now, rate=False) is None:
            n = self._notice(b, NoticeKind.BAND_CLEARED, Urgency.LOW, msg, Audience.ALERTED, fault=b.fault)
        reason = b.fault.source
        if b.pending and b.fault.news_once:
            self._untold[(b.device, b.fault)] = b
            reason += _RAISE_HELD + self._until(b, now)
        self._move(b, BandState.OK, now, reason, n, msg)

    def _band_hold(self, device: str, fault: BandFault, now: float, rate: bool = True) -> str | None:
        """Why a band message must wait now, or None to send it."""
        holds = self._holds(device, fault, now, rate)
        return holds[0][0] if holds else None

    def _holds(self, device: str, fault: BandFault, now: float, rate: bool = True) -> list[tuple[str, float]]:
        """The holds on a band message now, each why and until when: a mute, quiet hours, the rate limit."""
        holds = []
        if self._muted(device, now):
            holds.append(("muted", self._mutes[device][0]))
        quiet = self._quiet_hold(fault, now)
        if quiet is not None:
            holds.append(("quiet hours", quiet))
        last = self._band_sent_t.get((device, fault))
        if rate and last is not None and now < last + self.settings.rate_limit_s:
            holds.append((_RATE_LIMITED, last + self.settings.rate_limit_s))
        return holds

    def _hold_end(self, device: str, fault: BandFault, now: float) -> float:
        """When a band notice held now is sent (``tick``) if no mute or setting changes meanwhile: past
        each hold in turn (a mute that ends in quiet hours holds it to their end, the rate limit's end
        in them too)."""
        t = now
        while holds := self._holds(device, fault, t):
            t = max(until for _, until in holds)
        return t

    def held_until(self, fault: BandFault, t: float, mute_until: float) -> float:
        """When a notice of ``fault`` held at ``t`` by a mute that ends at ``mute_until`` is sent: past
        the mute, then past the quiet hours it ends in (``_hold_end``'s walk with that mute). What a
        restarted daemon bounds a held notice's telling by when its mute was lifted or set again after
        its row named its hold's end (``Daemon._tell_by``); the rate limit's end is not in it (the
        restarted engine holds by the rate limit itself: ``restore_band`` ``rate_from``)."""
        end = max(t, mute_until)
        quiet = self._quiet_hold(fault, end)
        return end if quiet is None else quiet

    def _held(self, why: str, b: BandAlert, now: float) -> str:
        """The reason of ``b``'s transition at ``now`` whose notice ``why`` holds back, with when its
        hold ends (``_until``)."""
        return HELD + why + self._until(b, now)

    def _until(self, b: BandAlert, now: float) -> str:
        """When ``b``'s notice held at ``now`` is sent (``_hold_end``), as its row says it (``_UNTIL``,
        ``reason_held_until``): a restarted daemon bounds its telling by it (``Daemon._tell_by``)."""
        end = math.ceil(self._hold_end(b.device, b.fault, now))  # whole seconds: never before it
        return _UNTIL.format(t=datetime.fromtimestamp(end, self._zone()).isoformat())

    # ---- helpers --------------------------------------------------------

    def _muted(self, device: str, now: float) -> bool:
        mute = self._mutes.get(device)
        return mute is not None and now < mute[0]

    def _quiet_hold(self, fault: BandFault, now: float) -> float | None:
        """When the quiet hours that hold a notice of ``fault`` at ``now`` end; None: they hold none."""
        return self._quiet_end(now) if fault in self.settings.quiet_faults else None

    def _quiet_end(self, now: float) -> float | None:
        """When the quiet hours that hold ``now`` end (``QuietHours.end_after``), None outside them."""
        q = self.settings.quiet_hours
        return None if q is None else q.end_after(now, self._zone())

    def _zone(self) -> tzinfo:
        # The zone the pushes word times in (None: local_zone), not C's: it keeps the zone it first read until tzset
        return self.settings.tz or local_zone()

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _notice(
        self,
        a: ClusterAlert | BandAlert,
        kind: NoticeKind,
        urgency: Urgency,
        msg: M.Message,
        audience: Audience = Audience.FILTERED,
        fault: BandFault | None = None,
        state: ClusterState | None = None,
    ) -> Notification:
        """``state``: the alert's state it announces, when not the one ``kind`` leads to."""
        self._notice_ids += 1
        a.notified = True
        cluster = a if isinstance(a, ClusterAlert) else None
        if a.restored and audience is Audience.ALERTED:
            audience = Audience.FILTERED  # this process never sent the alarm: tell everyone

        return Notification(
            id=self._notice_ids,
            alert_id=a.id,
            device=a.device,
            kind=kind,
            state=state.value if state is not None else kind_state(kind, a),
            urgency=urgency,
            title=msg.title,
            text=msg.text,
            created_t=self.clock(),
            cluster_key=None if cluster is None else cluster.key,
            fault=fault,
            count=None if cluster is None else cluster.count,
            started_t=None if cluster is None else cluster.started_t,
            audience=audience,
            # (over: it ended unacknowledged, ended_t unknown for an alarm restored so; ended_t: closed)
            cluster_ended=cluster is not None and (cluster.over or cluster.ended_t is not None),
        )

    def _move(
        self,
        a: ClusterAlert | BandAlert,
        new: ClusterState | BandState,
        now: float,
        reason: str,
        n: Notification | None,
        msg: M.Message | None,
        keep_text: bool = False,
        by: str | None = None,
        still: bool = False,
    ) -> None:
        """The one place a state changes: set it, log it once, record it, then send. ``still``: a band
        alert's push about the state it is in (a new count, a notice held back sent), no change."""
        old = new.value if still else _old_state(a, new)
        if isinstance(a, ClusterAlert):
            assert isinstance(new, ClusterState)
            a.state = new
            subject = "cluster"
        else:
            subject = a.fault.value
        if msg is not None and not keep_text:
            self._set_text(a, msg, n.urgency if n is not None else a.urgency, now)
        a.updated_t = now
        level = logging.WARNING if new in (ClusterState.ALARM, ClusterState.ESCALATED) else logging.INFO
        log.log(level, "alert %d %s %s: %s -> %s (%s)", a.id, a.device, subject, old, new.value, reason)
        self._record(a, old, new.value, now, reason, n, by)
        if n is not None:
            self._emit(n)

    def _record(
        self, a: ClusterAlert | BandAlert, old: str, new: str, now: float, reason: str, n: Notification | None, by: str | None
    ) -> None:
        """``a``'s transition handed to the history hook (the daemon stores it)."""
        subject, key = ("cluster", a.key) if isinstance(a, ClusterAlert) else (a.fault.value, None)
        t = Transition(a.id, a.device, subject, key, old, new, now, reason, n, by)
        if self.on_transition is not None:
            try:
                self.on_transition(t)
            except Exception:  # a broken store must not stop the alarm from being sent
                log.exception("alert transition hook failed")

    def _set_text(self, a: _Alert, msg: M.Message, urgency: Urgency, now: float) -> None:
        a.title, a.text, a.urgency, a.updated_t = msg.title, msg.text, urgency, now

    def _emit(self, n: Notification) -> None:
        try:
            self.notify(n)
        except Exception:  # the engine's state must stay right even if a dispatcher breaks
            log.exception("alert notify failed for notification %d", n.id)

    def _open_alerts(self) -> list[ClusterAlert | BandAlert]:
        return [*self._clusters.values(), *self._bands.values()]

    def _all_clusters(self) -> list[tuple[tuple[str, ClusterKey], ClusterAlert]]:
        return [*self._clusters.items(), *self._closed.items()]

    def _with_id(self, alert_id: int) -> ClusterAlert | BandAlert | None:
        # (an untold one too: ended while the page showed it, an ack from there sees to it, ``_ack_band``)
        return next((a for a in [*self._open_alerts(), *self._closed.values(), *self._untold.values()] if a.id == alert_id), None)

    def _find(self, alert_id: int) -> ClusterAlert | BandAlert:
        a = self._with_id(alert_id)
        if a is None:
            raise KeyError(alert_id)
        return a

    def _alert_json(self, a: ClusterAlert | BandAlert) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": a.id,
            "device": a.device,
            "kind": "cluster" if isinstance(a, ClusterAlert) else a.fault.value,
            "state": a.state.value,
            "urgency": a.urgency.name.lower(),
            "title": a.title,
            "text": a.text,
            "created_t": a.created_t,
            "updated_t": a.updated_t,
            "acked_by": a.acked_by,
            "notified": a.notified,
            "cluster_id": None,
        }
        if isinstance(a, ClusterAlert):
            d.update(cluster_id=a.key, count=a.count, started_t=a.started_t, post_wake_s=a.post_wake_s, label=a.label)
        else:
            d.update(held_back=a.pending)
        return d


def _alarm_end(a: ClusterAlert) -> M.AlarmEnd:
    """Where ``a``'s alarm stands as it closes: an open one closes unanswered (keep_unacknowledged_s);
    a WARNING raised none (acknowledged or not: a heads-up's ack acknowledges no alarm)."""
    if a.state in _OPEN_ALARM:
        return M.AlarmEnd.UNANSWERED
    return M.AlarmEnd.ACKNOWLEDGED if a.state is ClusterState.ACKNOWLEDGED else M.AlarmEnd.NONE


def _old_state(a: ClusterAlert | BandAlert, new: ClusterState | BandState) -> str:
    if isinstance(a, ClusterAlert):
        return a.state.value
    # A band alert only ever goes OK -> FAULT/STALE -> OK.
    return a.fault.state.value if new is BandState.OK else BandState.OK.value


def kind_state(kind: NoticeKind, a: ClusterAlert | BandAlert) -> str:
    """The alert state a notification announces (it is built just before the move)."""
    states: dict[NoticeKind, str] = {
        NoticeKind.CLUSTER_WARNING: ClusterState.WARNING.value,
        NoticeKind.CLUSTER_ALARM: ClusterState.ALARM.value,
        NoticeKind.CLUSTER_ESCALATED: ClusterState.ESCALATED.value,
        NoticeKind.CLUSTER_ACKNOWLEDGED: ClusterState.ACKNOWLEDGED.value,
        NoticeKind.CLUSTER_CLOSED: ClusterState.CLOSED.value,
        NoticeKind.CLUSTER_LATE: ClusterState.CLOSED.value,
        NoticeKind.BAND_CLEARED: BandState.OK.value,
        NoticeKind.BAND_FAULT: a.fault.state.value if isinstance(a, BandAlert) else BandState.FAULT.value,
    }
    current: str = a.state.value
    return states.get(kind, current)


def _said(reason: str, b: BandAlert) -> str:
    """``reason`` with the way and the count ``b``'s text told, when it has them (``reason_way``,
    ``reason_count``)."""
    way = _WAY_TAIL.format(way=b.way) if b.way else ""
    return reason + way + (_COUNT_TAIL.format(n=b.count) if b.count else "")


def reason_count(reason: str) -> int:
    """The count a band fault's stored transition told (``_said``); 0 when it names none (not a
    counted fault, or a row from before counts were kept: the next count is told again)."""
    m = _COUNT_TAIL_RE.search(reason)
    return int(m.group(1)) if m else 0


def reason_way(reason: str) -> str:
    """The way out a band fault's stored transition told (``_said``); "" when it names none."""
    m = _WAY_TAIL_RE.search(reason)
    return m.group(1) if m else ""


def reason_told_ended(reason: str) -> bool:
    """Whether a band fault's stored transition is the sending of its raise after it ended
    (``_untold``): told and over, whatever state the row says."""
    return f"sent: {_ENDED_MEANWHILE}" in reason


def reason_held(reason: str) -> bool:
    """Whether a band fault's stored transition held its notice back (``HELD``)."""
    return HELD in reason


def reason_rate_from(reason: str, t: float, rate_limit_s: float) -> float | None:
    """When the raise was sent that the rate limit counted from, for a band fault's stored transition
    at ``t`` whose notice the rate limit held (its why, ``_RATE_LIMITED``: no mute nor quiet hours held
    it then): its named end (``reason_held_until``) less ``rate_limit_s``, at most ``t`` (a walk on
    into quiet hours named theirs); None when the rate limit did not hold it."""
    until = reason_held_until(reason) if HELD + _RATE_LIMITED in reason else None
    return None if until is None else min(until - rate_limit_s, t)


def reason_held_until(reason: str) -> float | None:
    """When the hold a band fault's stored transition says its notice was under ends (``_UNTIL``);
    None when it names none (nothing held, or a row from before review h49, which kept no end)."""
    m = _UNTIL_RE.search(reason)
    return None if m is None else datetime.fromisoformat(m.group(1)).timestamp()
