"""Every word a caregiver reads. Kept apart so wording can be reviewed (and
translated) without touching the state machine.

Principles: say what was seen, in plain words; say what to do now; never
claim a diagnosis. Band messages say what to check.

The English wording is ``EN`` below: templates with named placeholders, one key each. The
functions fill them in the family's language ([alerts] language): its catalog in
``alerts/lang/<code>.py`` has the same keys and placeholders (tests/alerts/test_language.py
holds each to it); a key a catalog lacks falls back to English. Plural keys end in ``.one`` /
``.other`` (``_plural`` picks one per language).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import Enum

from spasmwatch.alerts.lang import de, es, fr
from spasmwatch.alerts.model import LANGUAGES, BandFault
from spasmwatch.clock import UNNAMED_ZONE, said_zone, said_zone_name, utc_offset_text, wall_text
from spasmwatch.report.consts import TREND_HOURS_DIFFER, TREND_MIN_MONITORED_S
from spasmwatch.report.data import Trend

# Keys the web page looks up beside its own ``page.`` ones (daemon/http.py page_in): the movements'
# term, one template, so the page's alarm card and the push under it cannot name one count two ways.
SHARED_WITH_PAGE = ("spasms.",)
EN: dict[str, str] = {
    "disclaimer": "spasmwatch is a screening aid, not a diagnosis.",
    "device": "{label} ({device})",
    "since": " since {time}",
    "of": " of {time}",
    "waking.unknown": "waking time unknown",
    "waking.after": "{min} min after waking",
    # the one term for the band's movements in every push, the daily summary and the page
    # (SHARED_WITH_PAGE): "spasm-like", as a screening aid says, never "spasms"
    "spasms.one": "{n} spasm-like movement",
    "spasms.other": "{n} spasm-like movements",
    "span.s": "{n} s",
    "span.min": "{n} min",
    "warning.title": "Heads-up: {spasms}",
    "warning.text": "{spasms} close together{since}. If a third follows, spasmwatch will raise the cluster alarm. "
    "You may want to look at the baby, with your phone ready to film.",
    "alarm.title": "ALARM: possible spasm cluster",
    "alarm.text": "{spasms} in a cluster{since}, {waking}. Please film the baby now if it is still happening, "
    "and contact your pediatrician. {disclaimer}",
    "update.title": "Cluster continues: {n} movements",
    "update.text": "The cluster goes on: {spasms}{since}. Keep filming if you can. {disclaimer}",
    "escalated.title": "ALARM NOT ACKNOWLEDGED: possible spasm cluster",
    "escalated.text": "Nobody has acknowledged the alarm for {span}. {spasms} in a cluster{since}, {waking}. "
    "Please check the baby now, film if it is still happening, and contact your pediatrician. {disclaimer}",
    "acknowledged.title": "Alarm acknowledged by {by}",
    "acknowledged.text": "{by} is looking after the alarm of {device}.",
    # one template for every cluster end; {alarm} says where its alarm stands (AlarmEnd), in the
    # title too: a parent who reads only the lock screen must know whether anyone still has to act
    "closed.title": "Cluster ended{alarm}",
    "closed.title.open": ", alarm NOT acknowledged",
    "closed.title.acknowledged": ", alarm acknowledged{by}",
    "closed.title.unanswered": ", alarm never acknowledged",
    "closed.by": " by {by}",
    "closed.over": " over {span}",
    "closed.start": ", starting at {time}",
    "closed.alarm.open": "Nobody has acknowledged the alarm yet: check on the baby, then acknowledge it on the "
    "spasmwatch page. ",
    "closed.alarm.acknowledged": "The alarm was acknowledged{by}. ",
    "closed.alarm.unanswered": "Nobody acknowledged the alarm. ",
    "closed.text": "Cluster ended: {spasms}{over}{start}. {alarm}Note what you saw. If it happens again, film it, "
    "and show any video to your pediatrician.",
    # an alarm retired because late data joined its cluster to an earlier alarmed one (INFO: the
    # mirrors turn it off; the family was alarmed once for it already)
    "merged.title": "Same cluster as an earlier alarm",
    "merged.text": "This alarm's movements belong to the cluster{since}, alarmed before: one cluster, not two "
    "({spasms} so far). It goes on under that alarm; nothing more to do for this one.",
    # a cluster learned after it ended (a backfill: engine LATE_CLUSTER_S), told once: over, so no
    # filming; the pediatrician still. The title says when, for a lock screen read in the morning.
    "late.title": "Earlier cluster, at {time}",
    "late.text": "Learned only now (the band's data came in late): {spasms} in a cluster{over}, starting at {time}, "
    "{waking}. It is over: nothing to film now. Note what you remember of that time and tell your pediatrician. "
    "{disclaimer}",
    "false_alarm.title": "False alarm",
    "false_alarm.text": "{by} marked the cluster{of} as a false alarm. No action needed.",
    "test_alarm.title": "Test alarm, nothing detected",
    # what the test proves (this channel reaches this phone or speaker), and what it does not: a
    # real alarm also needs the band on the baby and connected, and a cluster it detects
    "test_alarm.text": "This is a test of spasmwatch's alarms, sent by {by} at {time}. No spasm was detected. "
    "It arrived, so alarms reach this phone or speaker. A real alarm also needs the band charged, worn and "
    "connected, and comes only when spasmwatch detects a cluster; it misses some. If you see spasms, film them "
    "and contact your pediatrician.",
    # band faults, keyed by BandFault value
    "fault.disconnected.title": "Band disconnected",
    "fault.disconnected.text": "No data from the band: spasms cannot be detected. "
    "Check the band is charged and within range of this computer.",
    # when the daemon knows the cause is this computer (no Bluetooth adapter, no BlueZ): charging
    # the band and bringing it nearer would not help
    "fault.disconnected.here.text": "No data from the band: spasms cannot be detected. The problem is on this computer, "
    "not the band: it cannot use Bluetooth (no Bluetooth adapter, or the Bluetooth service is not running). "
    "'spasmwatch status' on this computer says what to do.",
    # when the band is in FAULT (pairing refused, not bonded, another protocol version): in range and
    # charged, it needs someone to act, as the page and 'spasmwatch status' say
    "fault.disconnected.fault.text": "No data from the band: spasms cannot be detected. The band answers but cannot "
    "be used until someone acts (pairing it again, or an update): the web page, or 'spasmwatch status' on this "
    "computer, says what to do.",
    "fault.not_worn.title": "Band not worn",
    "fault.not_worn.text": "Band not worn: check it is snug on the baby's chest, sensor at the front.",
    "fault.battery_low.title": "Band battery low",
    "fault.battery_low.text": "Band battery low: charge it soon. At 3 % it stops detecting until it is charged.",
    "fault.log_nearly_full.title": "Band memory nearly full",
    "fault.log_nearly_full.text": "The band's event log is nearly full: "
    "bring it in range of this computer so it can upload its events.",
    "fault.clock_unsynced.title": "Band clock not set",
    "fault.clock_unsynced.text": "The band's clock is not synchronised: "
    "event times may be wrong until it connects to this computer.",
    "fault.safe_mode.title": "Band in safe mode",
    "fault.safe_mode.text": "The band restarted in safe mode and is not detecting: "
    "restart it, and update its firmware if this repeats.",
    "fault.sensor_error.title": "Band sensor error",
    "fault.sensor_error.text": "The band's motion sensor reports an error and it is not detecting: restart the band.",
    "fault.storage_failing.title": "Cannot save the band's events",
    "fault.storage_failing.text": "This computer cannot save the band's events (is its disk full, or the drive unplugged?). Alarms "
    "still work and the band keeps its events until they can be saved: free some space, or plug the drive back in.",
    # not the disk: a step of this version adds a column someone added by hand (store._db._check_added)
    "fault.storage_failing.rename.text": "This computer cannot update the file where it saves the band's events: someone "
    "added to it by hand a column that this version of spasmwatch adds itself. Nothing is saved to it. Alarms still work "
    "and the band keeps its events. To fix it, on this computer: stop spasmwatch, run {command} (it renames that column "
    "and keeps what it holds), then start spasmwatch again.",
    "fault.store_damaged.title": "The events file is damaged",
    # the file itself, not the disk: only a repair helps, and it needs the daemon stopped (docs/store.md)
    "fault.store_damaged.text": "The file where this computer saves the band's events is damaged: nothing is saved "
    "to it. Alarms still work and the band keeps its events. To repair it, on this computer: stop spasmwatch, run "
    "{command} (it says how to stop spasmwatch if it still runs), then start spasmwatch again.",
    # a column no value of which can be told is gone: 'store recover' refuses it (store._db.no_recovery_hint)
    "fault.store_damaged.copy.text": "The file where this computer saves the band's events was changed by hand and has "
    "lost part of each event: nothing is saved to it, and no repair can bring that back. Alarms still work and the band "
    "keeps its events. On this computer: stop spasmwatch, then put back a copy of the file made before the change. "
    "Without a copy: move the file aside (keep it) and run {command}, which makes a new, empty one. Then start spasmwatch "
    "again ('spasmwatch status' gives the steps).",
    # the daemon's daily backups are beside it: the latest put back (store._db.restore_hint)
    "fault.store_damaged.backup.text": "The file where this computer saves the band's events was changed by hand and has "
    "lost part of each event: nothing is saved to it, and no repair can bring that back. Alarms still work and the band "
    "keeps its events. spasmwatch keeps a daily backup of the file: on this computer, stop spasmwatch, run {command} (it puts "
    "the latest backup back and keeps the changed file beside it), then start spasmwatch again: the band sends again the "
    "events it still holds.",
    # not an SQLite file at all: 'store recover' refuses it; moved aside, a new store made (store._db.start_again)
    "fault.store_damaged.unreadable.text": "The file where this computer saves the band's events cannot be read at all "
    "(it is not a database file): nothing is saved to it, and no repair can read it. Alarms still work and the band keeps "
    "its events. On this computer: stop spasmwatch, run {command} (it moves the file aside, kept), then start spasmwatch "
    "again: it makes a new, empty file, and the band sends again the events it still holds.",
    "fault.store_newer.title": "The events file needs a newer spasmwatch",
    # not the disk: a newer version changed the file (docs/store.md "Schema versions")
    "fault.store_newer.text": "The file where this computer saves the band's events was changed by a newer version of "
    "spasmwatch, which this one may not write: nothing is saved to it. Alarms still work and the band keeps its events. "
    "If spasmwatch was just upgraded, restart it; if it was put back to an older version, upgrade it again.",
    "fault.band_log_failing.title": "Band cannot save events",
    "fault.band_log_failing.text": "The band could not save a movement it detected to its memory, and such movements "
    "are not sent here either: spasms may be missed. Restart the band; if this comes back, flash it again "
    "(spasmwatch flash) or replace it.",
    "fault.samples_lost.title": "Band losing motion data",
    "fault.samples_lost.text": "The band has lost some of its motion data again and again for several minutes "
    "(it falls behind its sensor). It is still detecting, but a spasm in those moments could be missed. If this "
    "goes on, restart the band; if it comes back after that, flash it again (spasmwatch flash) or replace it.",
    "fault.other_bonds.title": "Another device paired with the band",
    "fault.other_bonds.text": "Another device is paired with band {band} ({n}). If it is not one of yours (a second "
    "computer or phone you paired), run `spasmwatch bonds --revoke-others`.",
    # its radio refused to start at switch-on (STATUS ERR_RADIO): nothing lost, no live alarm meanwhile; a repeat
    # points to the board's memory (docs/firmware.md "Starting the radio first")
    "fault.radio_late.title": "Band radio started late",
    "fault.radio_late.text": "The radio of band {band} did not start when the band was switched on and came up about {n} min "
    "later: that is why it showed as disconnected. The band kept watching and saved what it detected meanwhile, and sends "
    "it here now; any cluster in it is told as a late one, as no alarm could reach you while the radio was off. Once is "
    "nothing to act on.",
    # an earlier boot of the band had it too (its alert history): now what to do
    "fault.radio_late.again.text": "The radio of band {band} again did not start when the band was switched on and came up "
    "about {n} min later: that is why it showed as disconnected. The band kept watching and saved what it detected "
    "meanwhile, and sends it here now; any cluster in it is told as a late one, as no alarm could reach you while the radio "
    "was off. As it happened before, switch the band off and on; if it keeps happening, see \"Starting the radio first\" "
    "in docs/firmware.md.",
    "cleared.disconnected.title": "Band reconnected",
    "cleared.disconnected.text": "Band reconnected: monitoring again.",
    "cleared.not_worn.title": "Band worn again",
    "cleared.not_worn.text": "Band worn again: monitoring again.",
    "cleared.battery_low.title": "Band battery OK",
    "cleared.battery_low.text": "Band battery OK again.",
    "cleared.log_nearly_full.title": "Band memory OK",
    "cleared.log_nearly_full.text": "The band uploaded its events; its log has room again.",
    "cleared.clock_unsynced.title": "Band clock set",
    "cleared.clock_unsynced.text": "The band's clock is synchronised again.",
    "cleared.safe_mode.title": "Band detecting again",
    "cleared.safe_mode.text": "The band left safe mode and is detecting again.",
    "cleared.sensor_error.title": "Band sensor OK",
    "cleared.sensor_error.text": "The band's motion sensor works again.",
    "cleared.storage_failing.title": "Saving events again",
    "cleared.storage_failing.text": "This computer saves the band's events again.",
    "cleared.store_damaged.title": "Saving events again",
    "cleared.store_damaged.text": "This computer can open its events file again and saves the band's events.",
    "cleared.store_newer.title": "Saving events again",
    "cleared.store_newer.text": "This computer can open its events file again and saves the band's events.",
    "cleared.band_log_failing.title": "Band saves events again",
    "cleared.band_log_failing.text": "The band saves its events again (it was restarted).",
    "cleared.samples_lost.title": "Band motion data OK",
    "cleared.samples_lost.text": "The band no longer loses motion data.",
    "cleared.other_bonds.title": "No other device paired",
    "cleared.other_bonds.text": "Only this computer is paired with the band now.",
    "cleared.radio_late.title": "Band radio up",
    "cleared.radio_late.text": "The band's radio is up: the band is connected.",
    # the daily summary
    "summary.title": "Daily summary: {clusters} in 24 h",
    # no cluster: the worn time in the title, all a locked phone shows (4 min read as a day free of spasms)
    "summary.title_none": "Daily summary: no cluster in 24 h, {worn}",
    "summary.clusters.one": "{n} cluster",
    "summary.clusters.other": "{n} clusters",
    "summary.more": " and {n} more",
    "summary.outside.one": " and {n} more outside it",
    "summary.outside.other": " and {n} more outside them",
    "summary.counts": "{clusters} ({times}{more}) with {spasms}{outside}",
    "summary.counts_none": "no cluster, {spasms}",
    "summary.last_day": "Last 24 h: {counts}; {worn}.",
    # a day the band was not worn nor heard from and nothing came: no zeros (they read as a good day)
    "summary.title_unmonitored": "Daily summary: not monitored in the last 24 h",
    "summary.last_day_unmonitored": "Last 24 h: not monitored ({worn}): nothing was counted.",
    "summary.worn_none": "no data from the band",
    "summary.worn_h": "band worn {n} h",
    "summary.worn_min": "band worn {n} min",
    "summary.quiet.one": "No cluster for {n} day ({h} h of monitoring).",
    "summary.quiet.other": "No cluster for {n} days ({h} h of monitoring).",
    "summary.yesterday": "yesterday",
    "summary.days_ago": "{n} days ago",
    # a treatment's clusters per 24 h the band was monitoring (report/data.py trend): per calendar
    # day, nights with the band off read as spasms stopping
    "summary.treatment": "Since {drug} started {ago}: {after} clusters per 24 h of monitoring ({before} before).",
    "summary.treatment_same": "Since {drug} started {ago}: {after} clusters per 24 h of monitoring "
    "({before} before: about the same).",
    "summary.treatment_few": "Since {drug} started {ago}: too few hours monitored yet to compare "
    "({after} h monitored since, {before} h before; {need} h needed on each side).",
    "summary.stopped": "{drug} was stopped {ago}: its rate is of the days up to then.",
    "summary.hours_differ": "The band was worn at different hours of the day before and after the start; clusters "
    "come mostly after waking, so the rates can differ for that alone.",
    "summary.treatment_doctor": "Only the hours the band was worn and connected are counted; "
    "whether the treatment works is for your pediatrician to judge.",
    # the mark in a rate such as 1.2 (de, es and fr write 1,2)
    "decimal_mark": ".",
    "summary.video": "Keep any video and tell your pediatrician.",
    # the last 24 h in another zone than the daemon's or in more than one ({zones}: 'America/New_York,
    # 20:00 → Europe/Paris'; {here}: the daemon's zone, the times'), and a zone file that named none
    "summary.zones": "Time zone in the last 24 h: {zones}; times here are {here} time.",
    "summary.zone_unnamed": UNNAMED_ZONE,
    # after the first zone when an older daemon's unnamed one came before it (report.text.zones_line's words)
    "summary.zone_not_known": "not known before {time}: the monitor's version then recorded no name for it",
    # ---- the family web page (daemon/web/app.js looks these up; daemon/http.py serves the
    # "page." keys of the configured language once, in index.html). English must read as the page always has.
    "page.connecting": "Connecting…",
    "page.current_alert": "Current alert",
    "page.band": "Band",
    "page.bands": "Bands",
    "page.loading": "Loading…",
    "page.last24h": "Last 24 hours",
    "page.clusters_today": "Today's clusters",
    "page.no_clusters": "No clusters today.",
    "page.clusters_help": "Please mark each cluster: {confirmed} if you saw spasms, {false_alarm} if not. "
    "It makes the record for the doctor better.",
    "page.last14": "Last 14 days",
    "page.legend_clusters": "Clusters",
    "page.legend_false": "False alarms",
    "page.notes": "Notes",
    "page.what_happened": "What happened?",
    "page.kind.video": "Video taken",
    "page.kind.medication": "Medication given",
    "page.kind.note": "Note",
    "page.details": "Details",
    "page.optional": "(optional)",
    "page.required": "(required)",
    "page.note_placeholder": "e.g. filmed 2 minutes on the phone",
    "page.save_note": "Save note",
    "page.today_notes": "Today",
    "page.no_notes": "No notes today.",
    "page.disclaimer": "spasmwatch is a screening aid, not a diagnosis. If you are worried about your baby, "
    "film the movements and contact your pediatrician.",
    "page.who": "Your name on this phone",
    "page.who_hint": "(saved with acknowledgements, labels and notes)",
    "page.who_placeholder": "e.g. Mum",
    # keeping the phone's screen on (the Screen Wake Lock API, a secure context only: docs/web.md)
    "page.screen.keep": "Keep screen on",
    "page.screen.stop": "Let screen lock",
    "page.screen.off": "The phone's screen locks as usual; a locked phone no longer shows this page's alarms (the pushes "
    "still come).",
    "page.screen.on": "The screen stays on while this page is open in front.",
    "page.screen.paused": "The screen may lock while this page is hidden; it is kept on again when you come back to it.",
    "page.screen.refused": "The phone would not keep the screen on (its settings for this site may forbid it): set a "
    "longer screen timeout in the phone's settings instead.",
    "page.screen.needs_https": "Keeping the screen on needs this page over https://: on the computer running spasmwatch, "
    "run 'spasmwatch config tls new', restart spasmwatch and open the https:// address 'spasmwatch status' gives.",
    "page.screen.unsupported": "This browser cannot keep the screen on: set a longer screen timeout in the phone's "
    "settings.",
    "page.test_alarm": "Send a test alarm",
    "page.test_alarm_help": "Checks that an alarm reaches every phone and speaker set up; it says it is only a test.",
    "page.fault.disconnected": "Disconnected",
    "page.fault.not_worn": "Not worn",
    "page.fault.battery_low": "Battery low",
    "page.fault.log_nearly_full": "Band memory nearly full",
    "page.fault.clock_unsynced": "Clock not set",
    "page.fault.safe_mode": "Band in safe mode",
    "page.fault.sensor_error": "Sensor error",
    "page.fault.storage_failing": "Cannot save events (disk full or unplugged?)",
    "page.fault.store_damaged": "Events file damaged: stop spasmwatch, run {command}",
    "page.fault.store_damaged.copy": "Events file lost data no repair restores: stop spasmwatch, put back a copy made before, "
    "or move the file aside and run {command}",
    "page.fault.storage_failing.rename": "Events file has a column added by hand that this version adds: stop spasmwatch, run {command}",
    "page.fault.store_damaged.backup": "Events file lost data no repair restores: stop spasmwatch, put back its latest daily "
    "backup with {command}",
    "page.fault.store_damaged.unreadable": "Events file cannot be read at all, no repair reads it: stop spasmwatch, move it "
    "aside with {command}, start spasmwatch (it makes a new one)",
    "page.fault.store_newer": "Events file from a newer spasmwatch: restart spasmwatch, or upgrade it",
    "page.fault.band_log_failing": "Band cannot save events",
    "page.fault.samples_lost": "Band losing motion data",
    "page.fault.other_bonds": "Another device paired: spasmwatch bonds --revoke-others if it is not yours",
    "page.fault.radio_late": "Radio started late at switch-on: events kept, sent here",
    "page.state.connected": "Connected",
    "page.state.silent": "Connected, silent",
    "page.state.out_of_reach": "Out of reach, retrying",
    "page.state.disconnected": "Disconnected",
    "page.state.needs_attention": "Needs attention",
    "page.unknown": "Unknown",
    "page.under_minute": "under a minute",
    "page.min": "{m} min",
    "page.h": "{h} h",
    "page.h_min": "{h} h {m} min",
    "page.just_now": "just now",
    "page.ago": "{span} ago",
    "page.band_fallback": "band",
    "page.access_expired": "Access expired: open the link with the token again.",
    "page.cannot_reach": "Cannot reach spasmwatch: what you see may be out of date.",
    "page.store_unreadable": "spasmwatch cannot read its events file just now: what you see may be out of date.",
    "page.last_update": "Last update {time}.",
    "page.offline": "Offline",
    "page.live": "Live",
    "page.reconnecting": "Reconnecting…",
    "page.refreshing": "Refreshing every 10 s",
    "page.updated": "Updated {time}",
    "page.ack": "Acknowledge",
    "page.ack_label": "Acknowledge: {title}",
    "page.alert_fallback": "alert",
    "page.acking": "Acknowledging…",
    "page.since": "since {time}",
    "page.after_waking": "{min} min after waking",
    "page.waking_unknown": "waking time unknown",
    "page.cluster_title": "Possible spasm cluster",
    "page.acked": "Acknowledged.",
    "page.acked_by": "Acknowledged by {by}.",
    "page.marked_false": "Marked as a false alarm.",
    "page.seen_by": "Seen by {by}.",
    "page.no_alert": "No alert right now.",
    # the band alerts' line when several fold under it (app.js renderBandAlerts), and its button
    "page.band_alerts.one": "{n} band alert",
    "page.band_alerts.other": "{n} band alerts",
    "page.show_band_alerts": "Show",
    "page.hide_band_alerts": "Hide",
    "page.not_saved": "Not saved: {error}",
    # an ack the daemon answered 409 alert_over: the alert ended before it came (app.js acknowledge)
    "page.alert_over": "This alert had already ended: nothing more to do for it.",
    # the same, naming who had acknowledged it (the 409's acked_by)
    "page.alert_over_acked": "This alert had already ended; {by} had acknowledged it.",
    # an ack the daemon answered 503 store_not_open: not open, and whether it ended unreadable (app.js ackCalm)
    "page.ack_not_open": "This alert is not open now: nothing was saved (the events file cannot be read just now). "
    "If it shows again, acknowledge it then.",
    "page.no_band": "No band is set up yet.",
    "page.yes": "Yes",
    "page.not_on_baby": "No — not on the baby",
    "page.asleep": "Asleep",
    "page.awake": "Awake",
    "page.asleep_since": "Asleep since {time}",
    "page.awake_since": "Awake since {time}",
    "page.for": "for {span}",
    # under a band's worn, sleep and battery while it is not connected (or silent): its last report's
    "page.last_known": "last known at {time} ({seen})",
    "page.never": "never",
    "page.battery": "Battery",
    "page.worn": "Worn",
    "page.sleep": "Sleep",
    "page.last_heard": "Last heard from the band: {seen}",
    "page.band_problems": "Band problems",
    "page.not_connecting": "Not connecting: {error}.",
    "page.raw_paused": "Raw recording paused since {time}: {why}. Events and alarms go on.",
    # A flapping link (BandSession.link_unstable): no 'band disconnected' comes of it, so the card says it
    "page.link_unstable": "Link unstable: dropped {n} times in {min} min. Events still come in at each reconnect, alarms "
    "late by the seconds it is down: reseat the cable or bring the band nearer.",
    # A configured rate the band would not take (BandSession.rate_not_taken): a note for the engineer
    "page.rate_not_taken": "Samples at {hz} Hz, not the configured {configured} Hz: the band's IMU or firmware cannot run "
    "that rate. Monitoring goes on; check rate_hz in the config or update the band's firmware.",
    # A band whose firmware is not this computer's, older, or not told older or newer (/api/status
    # firmware_old: another build id, or none, fwbuild.py; firmware_age not "newer"): monitored.
    "page.firmware_old": "The band's firmware is not this computer's spasmwatch: flash it with this computer's "
    "('spasmwatch flash'). It monitors meanwhile.",
    # ... newer than this computer's, by git's history (/api/status firmware_age "newer", fwhistory.py):
    # flashed from a newer checkout; flashing it from here would take it back.
    "page.firmware_newer": "The band's firmware is newer than this computer's spasmwatch: update this computer's "
    "spasmwatch ('git pull', then 'make install') rather than flash the band. It monitors meanwhile.",
    "page.muted": "Band notices held back until {time}{by} (cluster alarms still sound).",
    "page.muted_tomorrow": "Band notices held back until {time} tomorrow{by} (cluster alarms still sound).",
    "page.muted_by": " by {by}",
    "page.end_mute": "End mute now",
    "page.end_mute_label": "End the mute of {band} now",
    "page.channels_failing": "Notifications are not getting through on {channels}.",
    "page.channel_failing": "{channel} (since {time}: {error})",
    "page.channels_check_net": "Check this computer's internet connection and the channel's settings, "
    "then send a test alarm (below).",
    "page.channels_check": "Check the channel's settings, then send a test alarm (below).",
    "page.channels_changed": "Changed since it failed, so not known to deliver until it sends: {channels}. Send a test alarm (below).",
    "page.channel_changed": "{channel} (failed at {time}: {error})",
    "page.channels_others": "The other channels ({channels}) are not failing.",
    "page.channels_none": "No channel delivers: an alarm now reaches nobody. Until one works, spasmwatch cannot "
    "tell you of a cluster.",
    "page.heartbeat_failing": "failing since {time}: {error}",
    "page.heartbeat": "The heartbeat to {host} is {why}.",
    "page.heartbeat_held": "The heartbeat to {host} is held back: {why}.",
    "page.heartbeat_off": "If this computer goes off now, nobody is told; its service will soon say the monitor is down.",
    "page.store_error": "The events file cannot be opened (since {time}): {error}. Alarms still work and the bands keep "
    "their events until it opens; spasmwatch tries it again every minute.",
    "page.config_error": "The config change was not applied (since {time}): {error}. The monitor runs on with the "
    "config it had; fix the file, then run {command} (it says whether the edit applied; for the "
    "installed service, systemctl --user reload spasmwatch does the same silently).",
    "page.ongoing": "ongoing",
    "page.label_cluster": "Label the cluster of {time}",
    "page.confirmed": "Confirmed",
    "page.false_alarm": "False alarm",
    "page.chart": "Clusters per day over the last {days} days: {total} in all, {false} marked false alarm.",
    "page.chart_today": "Clusters per day over the last {days} days: {total} in all, {false} marked false alarm; "
    "today {today}.",
    "page.today": "today",
    "page.clusters.one": "{n} cluster",
    "page.clusters.other": "{n} clusters",
    "page.false_alarms.one": "{n} false alarm",
    "page.false_alarms.other": "{n} false alarms",
    # a day of the chart with the band never worn and heard from (GET /api/days no_data)
    "page.no_data": "no data: the band was not worn or not connected",
    "page.no_band_heard": "No band has been heard from yet.",
    "page.write_first": "Please write the note first.",
    "page.saving": "Saving…",
    "page.saved_at": "Saved at {time}.",
    "page.test_sending": "Sending a test alarm on every channel…",
    "page.test_sent": "Sent on {channels}: check that it arrived.",
    "page.test_heard": "{channel}: played on this computer: did you hear it? (The player ran, which does not show that a speaker "
    "is plugged in and turned up.)",
    "page.test_failed": "NOT delivered on {channel}: {error}.",
    "page.test_not_sent": "Test not sent: {error}",
    "page.noscript": "This page needs JavaScript to show the band's state.",
    # the daemon's own words on the page, sent as a key and its values (docs/web.md "Texts the
    # daemon words"): why a band does not connect, by the link's kind of failure (last_error_msg)
    "page.tech": "Technical details",
    "page.why.here": "this computer cannot use Bluetooth (no Bluetooth adapter, or the Bluetooth service is not "
    "running); 'spasmwatch status' on this computer says what to do",
    "page.why.not_found": "the band is not found: out of range, switched off, or connected to another computer",
    "page.why.timeout": "the band does not answer in time",
    "page.why.refused": "the band refuses the connection (busy with another computer?)",
    "page.why.disconnected": "the connection dropped",
    "page.why.auth": "the band refuses the pairing",
    "page.why.io": "the connection reports an error",
    # what a person must do for a band in FAULT (detail_msg)
    "page.fault_detail.not_bonded": "Not paired: the band accepts new pairings only in the first {min} minutes "
    "after it is switched on: switch it off and on, then wait for spasmwatch to connect.",
    "page.fault_detail.pairing_refused": "The band refuses the pairing: if it was erased or flashed again, remove it "
    "in this computer's Bluetooth settings, then switch the band off and on.",
    "page.fault_detail.band_refused": "The band refused a command: restart it; if this comes back, update its firmware.",
    # another protocol version (band: the band's, host: this spasmwatch's): the older side is updated
    "page.fault_detail.update_host": "The band's firmware is newer than spasmwatch on this computer (protocol "
    "version {band}, here {host}): update spasmwatch on this computer.",
    "page.fault_detail.update_band": "The band's firmware is older than spasmwatch on this computer (protocol "
    "version {band}, here {host}): flash the band with this computer's spasmwatch ('spasmwatch flash').",
    # why a band's raw recording is paused (raw_paused.why_msg)
    "page.raw.low_disk": "{free} free on {mount}, keeping {keep} for events",
    "page.raw.cannot_write": "cannot write {path}: {error}",
    # why the heartbeat is held back (heartbeat.paused_msg)
    "page.held.store_refuses": "the store refuses writes ({bands}): events would be lost",
    # What the page lists under "To put right" (index.html #notices): the monitor works meanwhile.
    "page.notices": "To put right (monitoring goes on meanwhile)",
    # What the daemon's config hands to whoever looks (daemon/wiring.py exposures, /api/status
    # exposures_msg): the same words in the log and 'spasmwatch status' (English) and on the page.
    "page.exposure.short_token": "web page: the LAN token is short ({n} characters); {min} or more is safer: "
    "'spasmwatch config set daemon.http.token new' makes one (read at the monitor's start: restart it, then open on each "
    "phone the link 'spasmwatch status' shows)",
    "page.exposure.plain_page": "web page: served to the home network in plain HTTP: whoever watches the Wi-Fi reads the "
    "sign-in link and cookie (and with them can acknowledge alarms) and the baby's state. 'spasmwatch config tls new' "
    "makes a certificate for HTTPS (then restart the monitor, and accept the certificate once on each phone)",
    "page.exposure.short_topic": "[channels.ntfy #{i}] ({channel}): its topic has {n} characters, fewer than {min}: "
    "whoever guesses it reads every push (the band's label, the clusters) and can send false alarms. 'spasmwatch config "
    "add-ntfy new' makes one nobody guesses (then subscribe the phones to it)",
    "page.exposure.plain_ntfy": "[channels.ntfy #{i}] ({channel}): plain {origin}, not on this computer or the home "
    "network: every push (the band's label, the clusters) crosses the internet unencrypted, read by whoever is on the "
    "way. Use its https:// address in the config",
    "page.exposure.plain_ntfy_token": "[channels.ntfy #{i}] ({channel}): plain {origin}, not on this computer or the "
    "home network: every push (the band's label, the clusters) and its access token cross the internet unencrypted, read "
    "by whoever is on the way. Use its https:// address in the config",
    "page.exposure.plain_webhook": "[channels.webhook #{i}] ({channel}): plain {origin}, not on this computer or the "
    "home network: every alert it is sent (the band's label, the clusters) crosses the internet unencrypted, read by "
    "whoever is on the way. Use its https:// address in the config",
    "page.exposure.mqtt_no_tls": "[channels.mqtt]: its password goes to {broker} unencrypted (tls = false), and every "
    "status with it: whoever watches the home network reads both. Set tls = true (the broker's TLS port, 8883 mostly; "
    "docs/alerts.md \"mqtt\")",
    "page.exposure.mqtt_no_login": "[channels.mqtt]: no username, so the broker at {broker} takes clients without a "
    "login: whoever on the network reaches it can acknowledge an alarm (commands = true) and read every status. Give the "
    "broker a login (username and password here), or set commands = false",
    # A value of the config file past its bound, taken as the bound (or as what it meant) so the monitor
    # starts (config.PastBound; daemon/wiring.py exposures, /api/status exposures_msg): {why} is the
    # page word bound_why.<why> (alerts.messages.past_bound_text, app.js EXPOSURE.past_bound).
    "page.exposure.past_bound": "{file}, line {line}: [{table}] {setting} = {value} is past its bound ({bound}), taken as {taken}: "
    "{why}. Write {taken} (or a value within the bound) in the file to end this notice",
    "page.bound_why.escalate_after_s": "an alarm nobody acknowledges goes to every phone by then; later, its sound has "
    "stopped and nobody else hears of it",
    "page.bound_why.rate_limit_s": "a band fault is said again at least this often; past an hour, a band that drops out "
    "again later in the night is not said for hours",
    "page.bound_why.quiet_hours": "quiet hours longer than a night and the evening before it hold band faults back while "
    "the family is awake",
    "page.bound_why.repeat_every_s": "an alarm nobody acknowledges plays at least twice in its 10 minutes (0 plays it once)",
    "page.bound_why.repeat_every_s_min": "closer together, the sounds pile up on each other",
    "page.bound_why.repeat_for_s": "an alarm nobody acknowledges is closed within hours: longer is a slip, not a choice",
    "page.bound_why.backup_keep_days": "each copy is a whole store on its disk, and a disk filled by copies stops the "
    "store's writes",
    "page.bound_why.raw_keep_days": "past a year the value means what 0 says: keep every raw file",
    # The daemon runs other code than is installed now (/api/status code_changed; 'spasmwatch
    # status' says it in these words): {restart} is the command, or page.restart_by_hand.
    "page.old_code": "The running monitor started from other code than is installed now (upgraded since it started): "
    "restart it: {restart}. It monitors meanwhile, on the code it started from.",
    "page.restart_by_hand": "stop 'spasmwatch run' (Ctrl+C) and start it again",
    # Settings changed in the config file that only a restart applies (/api/status
    # config_needs_restart; 'spasmwatch status' says it in these words): {keys} the config's keys
    # ("daemon.http.port, daemon.log_level"), {restart} as in page.old_code.
    "page.config_restart": "Changed in the config file, applied only when the monitor starts: {keys}. Restart the "
    "monitor: {restart}. It monitors meanwhile, on the settings it started with.",
    # the page a browser without the LAN token gets (401; daemon/http.py): {link} and {command} are code
    "locked.title": "spasmwatch: access needs the link with the token",
    "locked.text": "This page is protected. Open the link with {link} that {command} shows on the computer running "
    "spasmwatch (or ask whoever set it up). The phone then remembers it.",
}

DISCLAIMER = EN["disclaimer"]


# Every catalog imported with this module, not at the first message in its language: that may be a
# night's first alarm, after 'pip install -U' removed this version's files under the running daemon
# (ModuleNotFoundError: no alarm, every tick failing; tests/daemon/test_upgrade_under_daemon.py).
_CATALOGS = {"en": EN, "de": de.CATALOG, "es": es.CATALOG, "fr": fr.CATALOG}


def catalog(lang: str) -> dict[str, str]:
    """The templates of ``lang`` (English: ``EN``); ValueError naming the choices."""
    if lang not in LANGUAGES:
        raise ValueError(f"no alert language {lang!r}: one of {', '.join(LANGUAGES)}")
    return _CATALOGS[lang]


# Spanish says an hour with its article, 'desde las 13:05' but 'desde la 01:05' (la una): its catalog
# writes 'las {time}', and the article follows the hour put in (a 12 h clock's '1:05' too: the page's
# app.js ``t`` has the same rule). New 2026-12-07, not yet read by a native speaker (docs/alerts.md).
_ONE_O_CLOCK = re.compile(r"0?1\D")
_HOUR_ARTICLES = {"es": ("las {time}", "la {time}")}


def _t(lang: str, key: str, **kw: object) -> str:
    template = catalog(lang).get(key, EN[key])
    if lang in _HOUR_ARTICLES and _ONE_O_CLOCK.match(str(kw.get("time", ""))):
        template = template.replace(*_HOUR_ARTICLES[lang])
    return template.format(**kw)


def _plural(lang: str, key: str, n: int, **kw: object) -> str:
    """``key.one`` or ``key.other`` by ``n``: French counts 0 and 1 as one (CLDR), the others 1 alone."""
    one = n in (0, 1) if lang == "fr" else n == 1
    return _t(lang, f"{key}.{'one' if one else 'other'}", n=n, **kw)


@dataclass(frozen=True)
class Message:
    title: str
    text: str


@dataclass(frozen=True)
class ClusterFacts:
    """What the cluster messages report; times are unix seconds."""

    device: str
    count: int
    started_t: float | None
    post_wake_s: float | None
    ended_t: float | None = None


# The zone abbreviations a language has words of its own for (German clocks, radio and timetables
# say MESZ/MEZ); any other, and every one in es and fr, is said by its UTC offset (``pass_word``).
ZONE_WORDS: dict[str, dict[str, str]] = {"de": {"CEST": "MESZ", "CET": "MEZ"}}


def hhmm(t: float, tz: tzinfo | None, lang: str = "en") -> str:
    """24 h clock in every language (de, es, fr write it so too), with the pass named in the hour
    the clocks go back (``wall_text``): a 'since 02:30' of that night names two instants, each
    by ``pass_word``."""
    return wall_text(t, "%H:%M", tz, lambda d: pass_word(d, lang))


def pass_word(local: datetime, lang: str) -> str:
    """One pass of the repeated hour as a ``lang`` reader knows it, in the pushes and on the page
    (daemon.api.zone_json): English the tz database's abbreviation ('CEST', a number as 'UTC-03':
    ``said_zone``). Those are English words (Central European Summer Time): a German reads
    MESZ/MEZ, a Spanish or French reader no short name of their own, so the offset,
    'UTC+2'/'UTC+1' (docs/alerts.md "Languages": needs a native speaker's review)."""
    if lang == "en":
        return said_zone(local.tzname())
    words = ZONE_WORDS.get(lang, {})
    if (abbreviation := local.tzname() or "") in words:
        return words[abbreviation]
    return utc_offset_text(int((local.utcoffset() or timedelta(0)).total_seconds()), short=True)


def page_text(key: str, args: Mapping[str, object], lang: str = "en") -> str:
    """The page word ``page.<key>`` with ``args``, in ``lang``: what the page shows of a ``{key,
    args}`` the daemon sends it (docs/web.md "Texts the daemon words"), for the log and the command
    line, which say it in English, to say the same words."""
    return _t(lang, f"page.{key}", **args)


def past_bound_text(args: Mapping[str, object], lang: str = "en") -> str:
    """``page.exposure.past_bound`` with ``args`` (``config.PastBound``'s), its reason the page word
    ``page.bound_why.<why>``, in ``lang``: app.js says it alike."""
    return page_text("exposure.past_bound", {**args, "why": page_text(f"bound_why.{args['why']}", {}, lang)}, lang)


def page_span(seconds: float, lang: str) -> str:
    """A span in the page's words ("under a minute", "23 min", "2 h 5 min"): app.js ``duration``,
    for the texts the command line says as the page does."""
    s = max(0, round(seconds))
    if s < 60:
        return _t(lang, "page.under_minute")
    m = s // 60
    if m < 60:
        return _t(lang, "page.min", m=m)
    return _t(lang, "page.h_min", h=m // 60, m=m % 60) if m % 60 else _t(lang, "page.h", h=m // 60)


def page_ago(when: float, now: float, lang: str) -> str:
    """"just now" or "23 min ago", as app.js ``ago`` says it."""
    s = max(0.0, now - when)
    return _t(lang, "page.just_now") if s < 60 else _t(lang, "page.ago", span=page_span(s, lang))


def last_known(when: float, now: float, tz: tzinfo | None, lang: str = "en") -> str:
    """"last known at 02:41 (23 min ago)": a band's battery, worn and sleep while they are its last
    report's (/api/status ``last_known_at``), as the page says it under each."""
    return _t(lang, "page.last_known", time=hhmm(when, tz, lang), seen=page_ago(when, now, lang))


def _titled(lang: str, key: str, device: str, **kw: object) -> str:
    return _t(lang, "device", label=_t(lang, key, **kw), device=device)


def _since(f: ClusterFacts, tz: tzinfo | None, lang: str) -> str:
    return "" if f.started_t is None else _t(lang, "since", time=hhmm(f.started_t, tz, lang))


def _of(f: ClusterFacts, tz: tzinfo | None, lang: str) -> str:
    return "" if f.started_t is None else _t(lang, "of", time=hhmm(f.started_t, tz, lang))


def _after_waking(f: ClusterFacts, lang: str) -> str:
    if f.post_wake_s is None:
        return _t(lang, "waking.unknown")
    return _t(lang, "waking.after", min=f"{f.post_wake_s / 60:.0f}")


def _spasms(n: int, lang: str) -> str:
    return _plural(lang, "spasms", n)


def _cluster_kw(f: ClusterFacts, tz: tzinfo | None, lang: str) -> dict[str, object]:
    return {"spasms": _spasms(f.count, lang), "since": _since(f, tz, lang), "waking": _after_waking(f, lang),
            "disclaimer": _t(lang, "disclaimer")}  # fmt: skip


def warning(f: ClusterFacts, tz: tzinfo | None, lang: str = "en") -> Message:
    kw = _cluster_kw(f, tz, lang)
    return Message(_titled(lang, "warning.title", f.device, spasms=kw["spasms"]), _t(lang, "warning.text", **kw))


def alarm(f: ClusterFacts, tz: tzinfo | None, lang: str = "en") -> Message:
    kw = _cluster_kw(f, tz, lang)
    return Message(_titled(lang, "alarm.title", f.device), _t(lang, "alarm.text", **kw))


def update(f: ClusterFacts, tz: tzinfo | None, lang: str = "en") -> Message:
    kw = _cluster_kw(f, tz, lang)
    return Message(_titled(lang, "update.title", f.device, n=f.count), _t(lang, "update.text", **kw))


def escalated(f: ClusterFacts, tz: tzinfo | None, after_s: float, lang: str = "en") -> Message:
    kw = _cluster_kw(f, tz, lang)
    return Message(_titled(lang, "escalated.title", f.device), _t(lang, "escalated.text", span=_span(after_s, lang), **kw))


def acknowledged(f: ClusterFacts, by: str, lang: str = "en") -> Message:
    return Message(_titled(lang, "acknowledged.title", f.device, by=by), _t(lang, "acknowledged.text", by=by, device=f.device))


def _span(seconds: float, lang: str) -> str:
    if seconds < 90:
        return _t(lang, "span.s", n=f"{seconds:.0f}")
    return _t(lang, "span.min", n=f"{seconds / 60:.0f}")


class AlarmEnd(Enum):
    """Where a cluster's alarm stands as its end is told (``closed``)."""

    NONE = "none"  # no alarm was raised (a heads-up only): nothing to acknowledge
    OPEN = "open"  # raised, nobody has acknowledged it: it stays open (and escalates) until someone does
    ACKNOWLEDGED = "acknowledged"  # someone did (``by``, when known)
    UNANSWERED = "unanswered"  # nobody did, and it closes now (keep_unacknowledged_s after the end)


def closed(f: ClusterFacts, tz: tzinfo | None, lang: str = "en", alarm: AlarmEnd = AlarmEnd.NONE, by: str | None = None) -> Message:
    over = _over(f, lang)
    start = "" if f.started_t is None else _t(lang, "closed.start", time=hhmm(f.started_t, tz, lang))
    who = "" if by is None else _t(lang, "closed.by", by=by)
    title = said = ""
    if alarm is not AlarmEnd.NONE:
        title, said = _t(lang, f"closed.title.{alarm.value}", by=who), _t(lang, f"closed.alarm.{alarm.value}", by=who)
    text = _t(lang, "closed.text", spasms=_spasms(f.count, lang), over=over, start=start, alarm=said)
    return Message(_titled(lang, "closed.title", f.device, alarm=title), text)


def late(f: ClusterFacts, tz: tzinfo | None, at: float, lang: str = "en") -> Message:
    """Cluster ``f`` learned after it ended (a backfill), begun at ``at`` (its ``started_t`` when known)."""
    kw = {**_cluster_kw(f, tz, lang), "time": hhmm(at, tz, lang), "over": _over(f, lang)}
    return Message(_titled(lang, "late.title", f.device, time=kw["time"]), _t(lang, "late.text", **kw))


def _over(f: ClusterFacts, lang: str) -> str:
    """" over 12 min": how long an ended cluster lasted ("" when its span is not known)."""
    if f.started_t is None or f.ended_t is None:
        return ""
    return _t(lang, "closed.over", span=_span(max(0.0, f.ended_t - f.started_t), lang))


def merged(f: ClusterFacts, into: ClusterFacts, tz: tzinfo | None, lang: str = "en") -> Message:
    """Alarm ``f`` was for more of cluster ``into`` (late data joined them): it is retired, ``into`` goes on."""
    return Message(_titled(lang, "merged.title", f.device), _t(lang, "merged.text", since=_since(into, tz, lang), spasms=_spasms(into.count, lang)))


def false_alarm(f: ClusterFacts, tz: tzinfo | None, by: str, lang: str = "en") -> Message:
    return Message(_titled(lang, "false_alarm.title", f.device), _t(lang, "false_alarm.text", by=by, of=_of(f, tz, lang)))


def test_alarm(device: str, by: str, t: float, tz: tzinfo | None, lang: str = "en") -> Message:
    """The test a family sends to check that an alarm reaches each phone and speaker."""
    return Message(_titled(lang, "test_alarm.title", device), _t(lang, "test_alarm.text", by=by, time=hhmm(t, tz, lang)))


def band_fault(
    device: str, kind: BandFault, lang: str = "en", here: bool = False, command: str = "", acts: bool = False, way: str = "",
    count: int = 0,
) -> Message:  # fmt: skip
    """``here``: the daemon knows the cause is on this computer; ``acts``: the band is in FAULT, for
    someone to act on (a disconnected band only, ``here`` first). ``command``: the one that repairs
    it, as the family types it ({command}: a damaged store's 'spasmwatch store recover --db PATH',
    store._db.store_command). ``way``: a way out the kind's own text does not give, worded by
    'fault.<kind>.<way>.text' (a store's, store._db.Fix: 'copy', 'rename'). ``count``: how many
    ({n}: other_bonds' other devices bonded)."""
    key = f"fault.{kind.value}"
    variant = f"{way}." if way else "here." if here else "fault." if acts else ""
    text = f"{key}.{variant}text" if variant and (way or kind is BandFault.DISCONNECTED) else f"{key}.text"
    return Message(_titled(lang, f"{key}.title", device), _t(lang, text, command=command, band=device, n=count))


def band_cleared(device: str, kind: BandFault, lang: str = "en") -> Message:
    key = f"cleared.{kind.value}"
    return Message(_titled(lang, f"{key}.title", device), _t(lang, f"{key}.text"))


# The daily summary lists at most this many cluster start times, then "and N more": a phone
# notification shows 4-6 lines, and a day with more clusters than this is told by its number.
SUMMARY_MAX_TIMES = 4


@dataclass(frozen=True)
class TreatmentTrend:
    """A treatment started ``days_ago`` local days ago and its trend, as the pediatrician report
    computes it (report/data.py ``trend``: whole days before its start day vs after it, up to
    yesterday, clusters per 24 h monitored; one computation, its rules in report/consts.py)."""

    days_ago: int
    trend: Trend
    # local days since the drug's stop (trend.stop), which ends the days compared after its start
    stopped_days_ago: int | None = None

    @property
    def drug(self) -> str:
        return self.trend.treatment.drug


@dataclass(frozen=True)
class SummaryFacts:
    """What the daily summary reports of one band's last 24 h (times are unix seconds)."""

    device: str
    cluster_starts: tuple[float, ...]  # clusters not marked a false alarm, in time order
    spasms: int  # spasm-like movements, as the report counts them (report.data)
    cluster_spasms: int  # those of them in the clusters (each cluster's count)
    worn_s: float | None  # time the band was worn (None: no data from it in the 24 h)
    quiet_days: int | None = None  # no cluster in the 24 h: whole days since the latest one (None: none seen)
    treatments: tuple[TreatmentTrend, ...] = ()
    # with quiet_days: the seconds monitored (worn and heard from, export/coverage.py) since the latest
    # cluster's end; 'No cluster for 4 days' of a band left at home for three read as the spasms stopping
    quiet_monitored_s: float = 0.0
    # The zones of the 24 h when not the daemon's alone (report.text.zones_said, the report's rule):
    # (from, the zone as recorded), from None for the one in force at the 24 h's start; and the
    # daemon's zone, the times' (clock.said_zone_of). A time listed at Paris's hour that was New
    # York's evening read as a night cluster, with no word of the journey (zone review).
    zones: tuple[tuple[float | None, str], ...] = ()
    zone_here: str = ""
    # The first of ``zones`` was recorded from here on, an older daemon's unnamed zone before it
    # (report.text.after_unnamed): said not known before then, as the report does, not as a change.
    zone_known_from: float | None = None


def _worn(s: float | None, lang: str) -> str:
    if s is None:
        return _t(lang, "summary.worn_none")
    return _t(lang, "summary.worn_h", n=f"{s / 3600:.0f}") if s >= 3600 else _t(lang, "summary.worn_min", n=f"{s / 60:.0f}")


def _ago(days: int, lang: str) -> str:
    return _t(lang, "summary.yesterday") if days == 1 else _t(lang, "summary.days_ago", n=days)


def _decimal(x: float, lang: str) -> str:
    """One decimal, with the language's mark (1,2 in de, es, fr)."""
    return f"{x:.1f}".replace(".", _t(lang, "decimal_mark"))


def _hours(s: float) -> str:
    return f"{s / 3600:.0f}"


def _treatment(t: TreatmentTrend, lang: str) -> str:
    """Clusters per 24 h monitored after the start vs before, as the report's trend gives them; a
    side under TREND_MIN_MONITORED_S says so, with its hours, instead of a rate. Rates only, never a
    verdict ('about the same' is the report's 'no change', TREND_SAME_FRACTION)."""
    tr, kw = t.trend, {"drug": t.drug, "ago": _ago(t.days_ago, lang)}
    b, a = tr.before, tr.after
    if not tr.comparable:
        return _t(lang, "summary.treatment_few", after=_hours(a.monitored_s), before=_hours(b.monitored_s),
                  need=_hours(TREND_MIN_MONITORED_S), **kw) + _stopped(t, lang)  # fmt: skip
    key = "summary.treatment_same" if tr.same(b.clusters, a.clusters) else "summary.treatment"
    # the report's TREND_HOURS_DIFFER: nights only after whole days before is not like with like
    hours = " " + _t(lang, "summary.hours_differ") if tr.hours_moved >= TREND_HOURS_DIFFER else ""
    rates = _t(lang, key, after=_decimal(a.per_24h(a.clusters), lang), before=_decimal(b.per_24h(b.clusters), lang), **kw)
    return rates + hours + _stopped(t, lang)


def _stopped(t: TreatmentTrend, lang: str) -> str:
    """' vigabatrin was stopped 4 days ago: ...' after its line: 'Since vigabatrin started' read as
    still given, its rate as of every day since (hostile review)."""
    if t.stopped_days_ago is None:
        return ""
    return " " + _t(lang, "summary.stopped", drug=t.drug, ago=_ago(t.stopped_days_ago, lang))


def _counts(f: SummaryFacts, tz: tzinfo | None, lang: str) -> str:
    n = len(f.cluster_starts)
    if not n:
        return _t(lang, "summary.counts_none", spasms=_spasms(f.spasms, lang))
    shown = ", ".join(hhmm(t, tz, lang) for t in f.cluster_starts[:SUMMARY_MAX_TIMES])
    more = _t(lang, "summary.more", n=n - SUMMARY_MAX_TIMES) if n > SUMMARY_MAX_TIMES else ""
    lone = f.spasms - f.cluster_spasms
    # "outside it" / "outside them": the form follows the clusters' number, not the movements'
    outside = _t(lang, f"summary.outside.{'one' if n == 1 else 'other'}", n=lone) if lone else ""
    return _t(lang, "summary.counts", clusters=_plural(lang, "summary.clusters", n), times=shown, more=more,
              spasms=_spasms(f.cluster_spasms, lang), outside=outside)  # fmt: skip


def _zones(f: SummaryFacts, tz: tzinfo | None, lang: str) -> str:
    """'Time zone in the last 24 h: America/New_York, 20:00 → Europe/Paris; ...': one line a phone
    shows whole; the arrow and the 24 h clock need no words in any language."""
    unnamed = _t(lang, "summary.zone_unnamed")
    said = [said_zone_name(z, unnamed) if t is None else f"{hhmm(t, tz, lang)} → {said_zone_name(z, unnamed)}" for t, z in f.zones]
    if f.zone_known_from is not None:
        said[0] += f" ({_t(lang, 'summary.zone_not_known', time=hhmm(f.zone_known_from, tz, lang))})"
    return _t(lang, "summary.zones", zones=", ".join(said), here=f.zone_here)


def daily_summary(f: SummaryFacts, tz: tzinfo | None, lang: str = "en") -> Message:
    """The morning look at the last day: counts and times, worn time, clusters per 24 h monitored
    since a treatment started and before it. Counts only, never a verdict; a day with clusters and
    a treatment's line point to the pediatrician."""
    n = len(f.cluster_starts)
    # Not worn nor heard from, and nothing came by backfill: no count at all. Its zeros read as a
    # day free of spasms ('no cluster in 24 h, 0 spasm-like movements'; hostile review).
    unmonitored = not f.worn_s and not n and not f.spasms
    last_day = "summary.last_day_unmonitored" if unmonitored else "summary.last_day"
    lines = [_t(lang, last_day, counts=_counts(f, tz, lang), worn=_worn(f.worn_s, lang))]
    if not n and f.quiet_days:
        lines.append(_plural(lang, "summary.quiet", f.quiet_days, h=_hours(f.quiet_monitored_s)))
    lines += [_treatment(t, lang) for t in f.treatments]
    if f.treatments:
        lines.append(_t(lang, "summary.treatment_doctor"))
    if n:
        lines.append(_t(lang, "summary.video"))
    if f.zones:
        lines.append(_zones(f, tz, lang))
    lines.append(_t(lang, "disclaimer"))
    return Message(_summary_title(f, unmonitored, lang), " ".join(lines))


def _summary_title(f: SummaryFacts, unmonitored: bool, lang: str) -> str:
    if unmonitored:
        return _titled(lang, "summary.title_unmonitored", f.device)
    if not f.cluster_starts:
        return _titled(lang, "summary.title_none", f.device, worn=_worn(f.worn_s, lang))
    return _titled(lang, "summary.title", f.device, clusters=_plural(lang, "summary.clusters", len(f.cluster_starts)))
