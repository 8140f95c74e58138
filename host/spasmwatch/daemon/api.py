"""What the HTTP server (JSON status endpoint, family web page) may ask of the daemon.

The server depends on this Protocol only, so the page is served the same way
by the running daemon and by a daemon started in a test. Every value is
JSON-ready (dicts of str, numbers, None, lists); times are unix seconds.
"""

from __future__ import annotations

import asyncio
from datetime import tzinfo
from typing import Any, Protocol

from spasmwatch.alerts.messages import pass_word
from spasmwatch.clock import zone_name, zone_spans
from spasmwatch.daemon.consts import MAX_BY, PAGE_ZONE_AHEAD_S, PAGE_ZONE_BACK_S, STORE_THREADS
from spasmwatch.threads import DetachedThreads
from spasmwatch.words import utf8_text

Json = dict[str, Any]
# A page word and its values, ``{"key": ..., "args": {...}}``: a text the daemon words for the page,
# shown in the family's language (docs/web.md "Texts the daemon words").
Msg = Json

# The daemon's store work off the event loop (daemon.py, and the page's days: http.py), in threads a
# stop does not wait for (``STORE_THREADS``): until the exit review asyncio's default pool, which
# ``asyncio.run`` joins, and a try again of the store hung on a stalled disk or a lock held elsewhere
# kept a stopped daemon from ending until systemd killed it (tests/daemon/test_stop_while_store_opens.py).
# What such a call was doing is given up: a write under way is rolled back as after a crash (SQLite's journal).
STORE_WORK = DetachedThreads(STORE_THREADS, "spasmwatch-store")


def last_known_at(state: str, last_seen: float | None) -> float | None:
    """When a band's ``battery_pct``, ``worn`` and ``asleep`` were reported, while they are its last
    report's and not now's: the band not connected, or connected and silent (STALE); null while it
    streams, or before it was ever heard. One decision for the page and 'spasmwatch status', which
    say "last known at 02:41 (23 min ago)" by it: shown as now's, "Worn: Yes" of a band out of reach
    was read at 3 a.m. as the baby watched (scripted night). ``state``: the session state's name."""
    return None if state == "STREAMING" else last_seen


def zone_json(zone: tzinfo, now: float, lang: str = "en") -> Json:
    """The zone the daemon words the family's times in (its pushes', ``alerts.messages.hhmm``), as
    status gives it to the page: ``name`` (``zone_name``) and ``spans``, ``[from, UTC offset s,
    abbreviation]`` from ``PAGE_ZONE_BACK_S`` before ``now`` to ``PAGE_ZONE_AHEAD_S`` after
    (``zone_spans``), the abbreviation in ``lang``'s words as the pushes give it (``pass_word``:
    'MESZ' in German). The page words every time by them, so it says what the pushes say on a phone
    in any zone, and names the zone where the pushes do: in the hour the clocks go back."""
    spans = zone_spans(zone, now - PAGE_ZONE_BACK_S, now + PAGE_ZONE_AHEAD_S, lambda d: pass_word(d, lang))
    return {"name": zone_name(zone), "spans": [list(s) for s in spans]}


def who(by: str | None, default: str) -> str:
    """Who did it, as kept with an acknowledgement or a note: trimmed, at most ``MAX_BY``
    characters, ``default`` (where it came from) when empty, storable (``utf8_text``). Trimmed again
    after the cut, and the default cut too: what it returns it returns again (the command line's
    ``ack`` sends it and compares the daemon's answer with it; a long login is the default there)."""
    return utf8_text(((by or "").strip() or default)[:MAX_BY].rstrip())


def bonds_on_usb(band: str, port: str) -> str:
    """Why 'spasmwatch bonds' asks nothing of a band on USB, and what to do: said by the command
    line (no daemon running) and by the daemon (``Daemon.bonds``), one sentence for both."""
    return (f'{band} is on USB (transport = "serial"): this computer holds no bond there, so the band cannot tell this '
            "computer's bond from another phone's or computer's; its bonds are neither counted nor removed over USB. To "
            'count them and remove the others, connect it over Bluetooth (transport = "ble") and run \'spasmwatch bonds\' '
            f"again. To remove every bond meanwhile: 'spasmwatch board forget-bonds --port {port}' with the daemon stopped "
            "(it holds the port); the band then bonds the next phone or computer that pairs, so pair this computer over "
            "Bluetooth soon after.")  # fmt: skip


class BandNotConnected(Exception):
    """A command for a band the daemon has no link to now (or whose link dropped or went silent
    while it waited for the answer): the family tries again when the band is in reach."""


class AlertOver(Exception):
    """An ack of an alert that had ended before it came (the page showed it still): nothing to see
    to, nothing stored. ``acked_by``: who had acknowledged it, None: nobody. The web API answers 409
    ``{"code": "alert_over", "acked_by": ...}``, which the page words calmly ("This alert had already
    ended; Anna had acknowledged it"); until review h48 it was 404 'no alert N', until review h49
    it named nobody."""

    def __init__(self, alert_id: int, acked_by: str | None) -> None:
        super().__init__(f"alert {alert_id} had already ended")
        self.acked_by = acked_by


class StoreCannotTell(Exception):
    """An ack of an alert the engine does not hold, with the store not open (a fault, the long open
    before an upgrade): one over and one never made are told apart by the store alone, so nothing
    is acknowledged and no alert of it sounds (the engine holds none); one still open is held again
    once the store opens. The web API answers 503 ``{"code": "store_not_open"}``, which the page and
    'spasmwatch ack' word calmly; until review h49 it was a bare 503 "the store cannot be read"."""

    def __init__(self, alert_id: int, why: str) -> None:
        super().__init__(f"alert {alert_id} is not open, and whether it had ended cannot be read while the store is not open "
                         f"({why}): nothing was acknowledged; if it shows again once the store is back, acknowledge it then")  # fmt: skip


class DaemonAPI(Protocol):
    def status(self, closed: bool = True) -> Json:
        """``{"now": t, "zone": zone_json(), "bands": [band], "alerts": [alert]}``; ``alerts``: the
        open ones and, with ``closed``, the closed ones the engine keeps (``keep_closed``, newest first).

        band: ``device, name, transport, state`` (session state name), ``detail``,
        ``last_error`` and, for the page in the family's language, ``detail_msg`` (a FAULT's) and
        ``last_error_msg``: ``{key, args}``, a page word (docs/web.md "Texts the daemon words") or null,
        ``connected, battery_pct, worn`` (true/false/null), ``asleep``
        (true/false/null), ``sleep_since`` (t of the last sleep/wake change),
        ``last_seen``, ``last_known_at`` (``last_known_at()``: the t the battery, worn and
        sleep are from while they are not now's, else null), ``alert_state`` (worst open alert state or "QUIET"),
        ``faults`` ([kind]), ``last_cluster`` (cluster or null), ``log_life``
        (null, or ``since, boot_offset, seq_offset`` once the band's flash
        was seen erased: its numbers in the store are the band's + these),
        ``muted_until`` (t) and ``muted_by`` while 'mute' holds back its
        notices (both null when not muted; who is "web page" for a nameless page),
        ``link_unstable`` (``{drops, over_s, since_t}`` while the link flaps, else null:
        ``BandSession.link_unstable``), ``rate_not_taken`` (``{configured_hz, running_hz}`` once
        the band would not take its configured rate, else null: ``BandSession.rate_not_taken``),
        ``firmware_old`` (true while the band's firmware is not this computer's: another build id
        in its revision, or none, fwbuild.py; to be flashed), ``firmware_age`` (while firmware_old:
        "older", "newer" by the checkout's git history, fwhistory.py, newer to be left as it is and
        this computer updated instead; null while not told), ``firmware`` (its revision as read at
        its latest connection, null if none). Beside the bands, ``firmware_build``: this computer's
        firmware's build id (null: no firmware tree here).
        alert: ``id, device, kind, state, urgency, title, text, created_t,
        cluster_id``.
        """
        ...

    def clusters(self, since: float, until: float) -> list[Json]:
        """Clusters overlapping [since, until): ``id, device, start, end, count,
        alert_t, post_wake_s, closed, label`` (``confirmed``/``false_alarm``/null)."""
        ...

    def days(self, n_days: int) -> list[Json]:
        """The last ``n_days`` local days, oldest first: ``date`` (YYYY-MM-DD),
        ``spasms``, ``clusters``, ``false_alarms``."""
        ...

    async def summary(self, lang: str = "en") -> list[Json]:
        """Each band's daily summary words now (its last 24 h), as ``spasmwatch summary --json``:
        ``device, name, title, text`` (English) and the facts (``clusters, cluster_starts, spasms,
        worn_h, quiet_days, quiet_monitored_h, treatments``), and ``local: {lang, title, text}``, the words in ``lang``
        (the page's language). Gathered off the event loop (~0.3 s for 8 days). StoreError if the
        store cannot be read."""
        ...

    def notes(self, since: float, until: float) -> list[Json]:
        """Caregiver notes: ``id, t, kind`` (video/medication/note), ``text, device, by``."""
        ...

    def ack(self, alert_id: int, by: str) -> Json:
        """Acknowledge an alert; returns the alert after the change. KeyError if unknown (never
        issued), AlertOver if it had ended (kept closed, or stored over), StoreCannotTell if only the
        store could say which and it is not open."""
        ...

    def label(self, cluster_id: int, label: str, by: str) -> Json:
        """Label a cluster ``confirmed`` or ``false_alarm``; returns the cluster.
        ValueError for another label, KeyError for an unknown cluster."""
        ...

    def mute(self, device: str, for_s: float, by: str) -> Json:
        """Hold back this band's fault notices and warnings for ``for_s`` (0 unmutes); never a
        cluster alarm. Returns the band's alert summary. KeyError for an unknown device."""
        ...

    def add_note(self, kind: str, text: str, device: str | None, by: str) -> Json:
        """Store a caregiver note; returns it. ValueError for an unknown kind or empty text."""
        ...

    async def send_test(self, channel: str | None, by: str) -> Json:
        """Send a test alarm on ``channel`` (None: every channel) and wait for the outcome:
        ``{"title", "text", "results": [{channel, ok, attempts, error}]}``. ValueError for an
        unknown channel or none configured."""
        ...

    async def bonds(self, band: str, revoke_others: bool, by: str) -> Json:
        """BONDS on the band's live link ('spasmwatch bonds'): COUNT, or REVOKE_OTHERS (every bond
        but this computer's). ``band``: its label (the config's title) or device id. Returns the
        band's answer ``{"band": label, "code", "error", "arg"}`` whatever its code (the command
        line words each); KeyError for an unknown band, BandNotConnected when it is not connected
        now or its answer did not come in ``consts.BAND_ASK_S``, ValueError (``bonds_on_usb``) for a
        band on USB, where this computer holds no bond: nothing is asked."""
        ...

    def subscribe(self) -> asyncio.Queue[Json]:
        """Live updates: ``{"type": "status"|"event"|"cluster"|"alert"|"note", ...}``
        put on the queue as they happen (bounded; the oldest are dropped for a
        slow reader, who then re-reads ``status``)."""
        ...

    def unsubscribe(self, q: asyncio.Queue[Json]) -> None: ...
