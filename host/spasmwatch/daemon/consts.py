"""Daemon timing thresholds, each with its unit and its reason (as habluetooth keeps them)."""

from __future__ import annotations

# A connected band notifies ACTIVITY every 10 s epoch and STATUS every
# status_period_s (10 s by default): three missed epochs is not radio jitter.
STALE_S = 35.0

# A band's STATUS (one every status_period_s, 10 s) is stored when a field a reader of the stored
# rows uses changed (any but its uptime, which moves at every one: docs/store.md "STATUS rows"),
# else once it is this long (s) past the last one stored. Stored every 10 s it was 2.26 of the
# 5.61 WAL pages an idle band wrote each 10 s, 8,640 rows a day no reader needs. The latest
# stored says when the band was last heard: after a host crash to within this (a lost link and a
# stop store the latest one heard), as devices.last_seen (store.DEVICE_SEEN_EVERY_S, 60 s).
STATUS_STORED_EVERY_S = 60.0

# The caregiver hears "band disconnected" only after this long: a band at the
# edge of range drops and reconnects within seconds, and the flash log plus
# backfill mean a short drop loses nothing.
DISCONNECT_ALERT_S = 60.0
# A link that keeps dropping, each time for less than DISCONNECT_ALERT_S, and comes back for seconds
# only (a band at the edge of range) cleared that timer at each reconnect: "band disconnected" never
# came, while each alarm waited for the link up to a minute, every time. So its drops shorter than
# DISCONNECT_ALERT_S count together too: down DISCONNECT_ALERT_S in all within the last
# DISCONNECT_ALERT_S / DOWN_SHARE (2 min) raises it, and it clears once they are under that again
# (not at each short link). Down half the time or more, the band is more out of reach than in. A
# loose cable (down 1-2 s of each few: alarms late by those seconds) stays well below; a link down a
# minute in one go raises and clears as ever (a drop that long is not counted here).
DOWN_SHARE = 0.5

# Reconnect backoff by error kind (seconds: first, cap). Out of range or off:
# try soon, then back off so a band left in a drawer costs little (a band another central
# holds is not found either: it does not advertise). Refused: another program holds the band's
# serial port, give it time. Timeouts: as out of range.
BACKOFF_S: dict[str, tuple[float, float]] = {
    "not_found": (2.0, 60.0),
    "timeout": (2.0, 60.0),
    "disconnected": (1.0, 30.0),
    "refused": (5.0, 120.0),
    "io": (2.0, 60.0),
}
# A flapping link (a loose connector, a band at the edge of range: it connects, drops seconds
# later, and again) is still retried after BACKOFF_S["disconnected"]'s 1 s, as an alarm waits for
# it, but logged on change only (daemon/flap.py): two INFO lines a drop made ~1,600 lines an hour.
# A link that dropped within FLAP_UP_S (real s) of streaming is short; FLAP_LINKS short links in a
# row are flapping, said once; then a summary of the drops every FLAP_SUMMARY_S (real s) while any
# came; and the end once a link stays up FLAP_UP_S. A minute: a band at the edge of range whose
# links last a minute or more is logged drop by drop, as before (two lines, docs/host.md).
FLAP_UP_S = 60.0
FLAP_LINKS = 3
FLAP_SUMMARY_S = 600.0

# A LAN token shorter than this (characters) is warned of at start: 16 url-safe characters
# carry 96 bits, past guessing over the home network at any rate the page answers, and the
# token opens the page that acknowledges alarms. new_token (daemon/http.py) makes 32.
MIN_TOKEN_CHARS = 16
# An ntfy topic shorter than this (characters) with no access token is warned of at each start
# (daemon/wiring.py): on ntfy.sh anyone who subscribes to a topic reads its pushes (the child's
# name, the clusters) and can send false alarms, and a short one (a name, "mila-baby") is found by
# trying. 'config add-ntfy new' makes 35 (24 random); a family's own words are rarely 20 or more.
# A warning, not a refusal: no length proves a topic random, and the monitor must still start.
MIN_NTFY_TOPIC_CHARS = 20
# An ntfy server or webhook reached by plain http:// is warned of at each start and reload
# (daemon/wiring.py) when its host is neither this computer nor the home network: its pushes (the
# band's label, often the child's name; the clusters) and an ntfy access token cross the internet
# unencrypted. The home network is a private address (RFC 1918, IPv6 ULA, link-local), the shared
# range 100.64.0.0/10 (CGNAT: from home, a VPN's such as Tailscale's, whose way is encrypted), a
# name without a dot (the router's DNS), or one under these suffixes: mDNS (.local), RFC 8375
# (.home.arpa), the names home routers give (.lan, .home, .localdomain, .internal), and Tailscale's
# (.ts.net, encrypted on the way). A warning, not a refusal: a family's own relay may be fine.
HOME_NAME_SUFFIXES = ("local", "home.arpa", "lan", "home", "localdomain", "internal", "ts.net")
# The longest mute of a band's notices (s; the web API and 'spasmwatch mute' refuse longer):
# a mute longer than a day is forgotten, not a choice.
MAX_MUTE_S = 24 * 3600.0
# The longest "who did it" kept (characters; the web API's ``by`` and an MQTT command's): a name,
# not a text; the alert history and the acknowledgement's words carry it.
MAX_BY = 100
# Who an MQTT command (a Home Assistant button) is from when its payload names nobody.
MQTT_BY = "Home Assistant"

# Pairing refused: retrying cannot help until a person re-pairs (FAULT), but
# check now and then in case the band was reset to accept a new bond.
AUTH_RETRY_S = 600.0
# The band paired us but would not bond (E_AUTH: its pairing window was closed). The family is
# told to switch it off and on, which opens the window for swcore.protocol.PAIRING_WINDOW_MS
# (5 min): trying every 30 s bonds within it with about 10 tries to spare.
PAIRING_RETRY_S = 30.0

# Every request on the link (read, write, command response) must finish in
# this time: a healthy link answers in tens of ms, a stuck one must not hang
# the session.
REQUEST_TIMEOUT_S = 10.0
# A command whose RESP came garbled (serial: its frame's CRC failed, and the frame reads as that RESP)
# is sent again at once, at most this many times (count); its answer is then awaited
# REQUEST_TIMEOUT_S as any. Waiting that out after a garbled RESP, the connect failed and the link was
# closed and opened again: from the daemon's start to streaming 12.9-13.4 s, now 0.6-1.0 s, a clean
# link's 0.5-0.7 s (the serial stand-in, the first TIME_SYNC, INFO or BACKFILL answer garbled; 2-3
# runs each). Two: a burst that garbles three answers in a row is a link that the timeout and a new
# connection serve as well.
RESP_RESENDS = 2
# A command the family asks for on the daemon's link ('spasmwatch bonds' through the daemon,
# BandSession.ask) is given up after this (s), its answer not come: it waits for the session's own
# command under way (one: they take turns), then its own answer, each within REQUEST_TIMEOUT_S on
# a link that answers. A bound, so the command line says so rather than wait for ever.
BAND_ASK_S = 2 * REQUEST_TIMEOUT_S
# The command line waits this much longer for the daemon's word than the daemon for the band's (s):
# the HTTP round trip on this computer, milliseconds, with room for a loaded machine.
BAND_ASK_HTTP_SLACK_S = 5.0

# The rate a band reports it samples at (INFO) is its IMU's step near the configured one: the
# MPU6886 runs 52 Hz as 50 and 104 as 100, the LSM6DS3 50 as 52 and 100 as 104 (4 % apart), the
# other step is 2x away. A reported rate more than this (percent of the configured one) away is
# not the configured rate: its CONFIG was stored but never applied (the answer that said "changed"
# was lost, the link dropped before the reboot), and the band is rebooted to apply it.
RATE_STEP_PCT = 10
# Reboots in a row (count) to apply the configured rate while the band, back up, still reports
# another. One applies a stored rate; a second covers a first lost on the way (its REBOOT's answer
# timed out, the band reset before it stored the value); a band at another rate after three will
# not change with more (its IMU has no such step, its firmware ignores it): said once as an error,
# and the band is monitored at the rate it runs, rather than rebooted every connection all night.
RATE_REBOOTS = 3

# An event the band holds (its STATUS's or LOGINFO's next_seq, a later event) that a streaming link
# has not delivered for this long (real s) is asked for again on that link (a time sync and the
# BACKFILL from the store's first missing seq, as BandSession.refill does): a notification lost on
# its way (the host's stack) or a record the band skipped (damaged in its flash, which the band
# then tells as a gap) waited for the next connection, hours away on a link that holds. Over the
# band's own wait for a busy stack (2 s a notify, tried again 1 s later) and a STATUS that overtook
# its event; one refill per missing seq and link (a band that keeps failing it is asked again at the
# next connection, not every 10 s). A BACKFILL's end (LOGINFO done) not come this long after
# the last event the band holds is taken as lost too (the band sends it right after that event).
LIVE_GAP_S = 10.0
# A link keeps the seqs it delivered past a missing one (to know when it has them all) up to this
# many (events): the band's default log holds 4096, so past that the missing ones are overwritten
# (its LOGINFO gap tells so at the next BACKFILL) and the link stops waiting for them; a set of a
# few hundred KB at most, not one that grows all night behind one event never delivered.
LIVE_AHEAD_MAX = 4096
# Epochs (count) a BACKFILL's start may have before its end (LOGINFO done) as the band sends them:
# the band sends an epoch only once a BACKFILL's end is sent, but its BACKFILL handler sends the
# start while its sender may be notifying an epoch, which can pass it when nothing waits to be
# backfilled. The next one, 10 s later, cannot: it says the end was lost.
END_LOST_EPOCHS = 1

# A record the decoder refuses is logged the first time its refusal (the message) is seen, then only
# counted (the status's bad_records): a newer band's new record type came at every backfill, a warning
# each, all night. A session remembers this many refusals (messages, which carry the values at fault),
# so a band sending ever new bad values costs bounded memory; past it, new ones are only counted.
BAD_RECORD_KINDS = 64
CONNECT_TIMEOUT_S = 15.0

# The band's ms fields (event onsets, epoch ends, the time sync) are u32 and
# wrap after 2^32 ms = 49.7 days of uptime. The host reads each as the latest
# lap that is not later than its estimate of the band's clock now plus this
# slack (ms): the estimate can be off by a stale STATUS or a wall-clock step,
# never by an hour; a record is correct up to 49.7 days old.
BAND_CLOCK_SLACK_MS = 3_600_000
# A sync's u32 ms reading is put on its lap by STATUS's uptime (u32 s, 136 years) read just after it:
# the lap nearest the uptime, half the modulus (2^31 ms, 24.8 days) either way. On a board both read
# one clock a second apart; a simulated band's sync reads its pace (run.py --sync-at-pace) while its
# STATUS counts its samples, hours behind on a loaded machine. With BAND_CLOCK_SLACK_MS a sync over
# an hour ahead of the uptime was read a lap early (49.7 days back: a negative ms); a wrap is read
# only where the two stand either side of the modulus.
SYNC_LAP_SLACK_MS = 1 << 31

# A long connection (a night, days on a charger) syncs the band's clock again
# this often (s): its crystal drifts ~1 s a day (10-20 ppm) and the host's
# wall clock may be stepped (NTP); each sync is a new point for the events
# after it, so their wall times stay within tens of ms.
RESYNC_S = 3600.0
# ... and at once when an ACTIVITY epoch's end (band time, sent as the epoch
# closes) and the host's estimate of the band's clock at its arrival disagree
# by more than this (s): BLE latency and queues are under a second and the
# crystal drifts ~0.04 s an hour, so more means the host's wall clock was
# stepped. Stepped forward, the hourly rule caught it at the next record; stepped
# back (NTP after a hardware clock kept in local time), it waited for the
# clock to catch up, and events were placed by the old sync all that while.
# Epochs the band held (ended before the connect's sync or the backfill's end)
# are late by their wait and not judged (session._check_step), nor are epochs
# the band marks as held (a LOGINFO with LF_HELD before each: it waited there
# over P.HELD_MS); one live epoch late (a step forward, or a delivery held up
# past the band) waits for the next to confirm it. Where the host has a
# since-boot clock (Linux, clock.py) a step so read is taken only if that
# clock confirms it (the wall's offset over it moved by over HOST_STEP_S since the
# sync): otherwise the band is off, not the host. A band falling behind (a
# simulated band lagging its pace on a loaded machine, whose syncs read the pace
# and its epochs its samples, none marked as held; a link that queues) or a band
# clock running slow: read as steps, it logged "host's clock stepped" and synced again every
# ~30 s of band time, while a sync fixes no delivery lag (it reads the band's
# clock, which is right) and a crystal's drift (ppm) stays far under this
# between hourly syncs.
CLOCK_STEP_S = 5.0

# A sync point stored with the computer's since-boot reading (CLOCK_BOOTTIME and the kernel's boot
# id, clock.py) keeps the offset of the wall over it: within one boot of the computer that
# offset changes only when the wall is stepped (NTP's step, a user, a hardware clock read again),
# not when NTP slews the wall (the kernel slews CLOCK_BOOTTIME with it), nor across a suspend (both
# move on by the time asleep). A stored sync whose offset differs from the clock's now by more than
# this (s) was made on a clock stepped since: its band boot's times are placed again on the clock
# as it reads now (Store.place_on_clock). Above a leap second (a 1 s step) with room for the reading
# of the two clocks one after the other; under CLOCK_STEP_S, so a step the session finds and syncs
# again for is also one the band boots synced before it are placed again for. A smaller step leaves
# their times off by under 2 s: nothing next to the 40 s a cluster allows between its spasms.
HOST_STEP_S = 2.0
# The wall and the since-boot reading are two calls, one after the other: a pause between them (a
# loaded machine's scheduler) is read as a step of that size, scaled by the clock's rate. Real
# seconds allowed for it, added to HOST_STEP_S at the clock's rate: nothing at 1x (50 ms on top of
# 2 s), 3 s at the fault campaign's 60x, where a 33 ms pause had passed for a 2 s step (review).
HOST_READ_GAP_S = 0.05

# A band boot link (BOOTLINK) between two boots that both have syncs says where the older boot ends
# against the newer one's start. Placed by their own syncs more than HOST_STEP_S plus the link's
# error plus the two crystals' drift over the band time between the two syncs apart (this, in parts
# per million: ~1 s a day at RESYNC_S's 10-20 ppm, the worse end), the older boot's syncs were made on
# a host clock stepped since across a computer restart (part 1, HOST_STEP_S, cannot see that: another
# boot id). The older boot is placed again through the link (Store.place_by_links).
BAND_DRIFT_PPM = 20.0

# Each sync (at connect and at each resync) is up to this many TIME_SYNC exchanges, and the
# host keeps the one of least round trip (the rule of NTP's clock filter and of PTP): it takes
# the band's reading at the midpoint of the round trip, wrong by up to half of it when the two
# ways are uneven. Over BLE a round trip is 2-6 connection intervals (30-300 ms) and a radio
# retry makes one slow: with one exchange every event of the connection was placed up to that
# far off (150 ms after a 300 ms retry); of 5, one is nearly always a quick one. The band
# counts each the same (it only notes that it was synced: docs/protocol.md).
SYNC_EXCHANGES = 5
# ... begun within this much time (s, real) from the first: 5 exchanges of 300 ms take 1.5 s,
# and a link slower than that gains little from more while the connect (its backfill, an alarm
# in it) waits; one exchange is always made.
SYNC_BUDGET_S = 2.0
# A sync whose least round trip is over this (s) places events up to half of it off: logged at
# INFO once the link turns this slow, and once it is back under half of it (a link hovering at
# the line, a band at the edge of range reconnecting every minute, says it once); each sync is
# logged at DEBUG. Spasm onsets are estimated to ~0.15 s and repeat every 5-10 s: an error
# under 0.1 s does not change a cluster or the time a doctor reads.
SYNC_SLOW_RTT_S = 0.2

# Log fill that counts as "nearly full": at ~100 events a day a 4096-slot log
# still holds weeks, so 90 % means the host has not backfilled in a long time.
LOG_NEARLY_FULL_PCT = 90

# STATUS ERR_FIFO_OVERRUN: the IMU's FIFO overflowed and some samples were lost (the band detects on),
# set in the epoch it came in and cleared by the next whole one without one: 10-20 s, one or two
# STATUSes at the default 10 s period. One is a slow flash write (an erase), which the family can do
# nothing about and which a spasm seldom falls in: no push (until 2026-12-06 it was sensor_error,
# "not detecting: restart the band"). Overruns STATUS says within this much of the band's time (s)
# of each other are one run: a minute, so losses at least once a minute join; sparser ones (each a
# second or so) leave a cluster, whose spasms come 5-30 s apart, most of them. A STATUS without the
# bit this long after the run's latest ends it, and clears the samples_lost fault. (The band sends
# STATUS at least every 10 s while the bit is set, whatever its period, and one 61 s after the
# last saying it, which ends the run; firmware from before
# 2026-12-06 at its period only, and set to report less often than this it never has a run past
# its first STATUS.)
SAMPLES_LOST_CLEAN_S = 60.0
# A run spanning this much of the band's time (s; its first and latest STATUS saying an overrun)
# is the samples_lost fault: five minutes of losses at least once a minute is as long as a
# cluster lasts, so one in it could lose spasms, and is a band falling behind over and over (a
# flash slow at every write, a loop too slow for its rate), not a one-off; a few slow writes in a
# row (events logged one after the other) stay under it.
SAMPLES_LOST_AFTER_S = 300.0

# How far back the live analysis is rebuilt from the store at start-up and
# when late (backfilled) events arrive: longer than a cluster plus the
# sleep/wake windows, so a cluster cut by a restart or a drop is re-found whole.
REBUILD_WINDOW_S = 6 * 3600.0

# Status of every band is re-evaluated (STALE, disconnected alerts, escalation)
# at this period.
TICK_S = 1.0

# How often the daemon reads its time zone again to record a change in the store (s): a box whose
# TZ or /etc/localtime was changed while it ran (a family that travelled with it). A minute: the
# zone history the report reads is of days, and the read (/etc/localtime's link) is not each tick's.
ZONE_CHECK_S = 60.0
# How often the daemon reads the code installed where it was imported from, to tell the page when it
# is not the code it started from (an upgrade under it: /api/status code_changed) (s). The page's own
# status read is every 30 s; a read is 5-13 ms of one core for the 2.4 MB of .py files in the page
# cache (codeid.source_sha256), 0.03 % of a core at this period, in a worker thread. The firmware
# tree's build id (fwbuild.py: a 'git pull' under the daemon, judged against each band's) is read
# with it: ~1 ms more for its 31 files (225 KB).
CODE_CHECK_S = 30.0
# The daemon's zone as /api/status gives it to the page (api.zone_json, docs/web.md "Times"): its
# offsets from this long before now (s) to this long after. Back: the times the page words (today's
# clusters and notes, a band last known or asleep since, a banner's "since") are mostly a day or two
# old; a month covers a band silent for weeks, for 0.1 ms a status (measured, Europe/Berlin).
# Ahead: a mute ends at most MAX_MUTE_S from now.
PAGE_ZONE_BACK_S = 31 * 86400.0
PAGE_ZONE_AHEAD_S = 2 * 86400.0
# A band's session whose run ended while the daemon runs and nobody stopped it (a bug past run()'s
# catch-all: an exception in its error handling, from a state callback) leaves the band unmonitored
# while the watchdog, fed by the ticker, sees nothing wrong: the ticker starts it again after the
# first delay (s, real time), doubled each time it ends again within the second of its start, up to
# that second. 5 s: a band lost to a one-off bug is back long before DISCONNECT_ALERT_S, and one
# failing at once every time is retried 12 times a minute at most at first, every 5 min after a few
# (its disconnected alert is raised meanwhile).
SESSION_RESTART_S: tuple[float, float] = (5.0, 300.0)
# The store refused writes (disk full): "saving events again" once writes have
# worked for this long after the last refusal, as a nearly full disk takes some
# writes and refuses others (a notice per flip would be noise).
STORAGE_OK_S = 120.0
# A transition's sync to the disk (the store's thread: Daemon._told_if_unsynced) not ended after
# this long (s, the loop's clock) is the store failing, told as a refused write: a disk whose fsync
# never returns (an SD card failing, a USB disk pulled without an error) kept events in the WAL,
# never on the disk, and its pushes went out past DISK_WAIT_S (5 s) logged only. Well past a slow
# SD card's fsync (up to seconds, docs/host.md "A slow disk under the event loop"), so a slow card
# is not told, and six times DISK_WAIT_S. Its end is told when that sync ends.
SYNC_HUNG_S = 30.0
# While the store cannot be read, the event seqs a band's analysis took lately are what tell a
# re-delivered event (the store's key would) and where a reconnect's backfill starts. 1024 events
# is ten days of a heavy 100-spasm day; the band re-sends only what came after the latest.
SEEN_SEQS = 1024
# A store the daemon could not open at its start (damaged, a newer schema, permissions, an I/O
# error), or shut for damage a call found, is tried again this often, in s of real time, in a
# worker thread. (A store folder on a disk not mounted yet is not one: the start makes the folder.)
# An open costs a read of every page (quick_check: 0.2 s per 100 MB, docs/store.md), a few seconds
# an hour at this period; the family, told the store is not open, waits at most a minute after the
# fix for their events to be saved again.
STORE_RETRY_S = 60.0

# Threads for the daemon's store work off the event loop (api.py ``STORE_WORK``: the store's try
# again, the raw files' pruning, the page's days and summaries, the daily summaries): daemon
# threads, so a call hung on a stalled disk or on a lock another process holds keeps no stop
# waiting (tests/daemon/test_stop_while_store_opens.py). 4: one try again, one pruning pass, and
# two readers for the page (its days are read one at a time); a call beyond waits for a free one.
STORE_THREADS = 4
# How long (s) the daemon's exit waits for a store call under way in those threads to let the
# store go before it closes it (Store.close): such a call holds the store's lock for ms (the page's
# days: ~0.3 s for 8 days); one hung on a stalled disk held the exit for ever, until systemd's kill
# (tests/daemon/test_stop_while_store_call_hangs.py). Past it the call is left, its reads given up:
# those threads only read under the lock (a try again opens outside it), so nothing is lost.
STORE_CLOSE_WAIT_S = 2.0

# A kept push (webhook, ntfy: docs/alerts.md "Across a daemon stop") other than an alarm nobody
# has seen to (a warning, an acknowledgement, a cluster's end, a false alarm, a band fault or
# its clear) is sent late only within this of its creation: a daemon or router restart takes a
# few minutes, within which the news is still news. Later it would tell a family what they have
# found out or what is no longer so (a restarted daemon re-derives each band's faults within
# DISCONNECT_ALERT_S and its first STATUS and says them itself). An open alarm has no such limit:
# losing it is worse than a late one, whose time its words carry. The same bounds a band notice
# held back (quiet hours, a mute) and carried over a stop, its raise untold: sent when its hold ends
# within this past the end of the hold it was under when it ended, as its row stored it
# (Daemon._tell_by), for the same reason: later, the daemon was stopped past the time it was due (a
# radio late 3 days before).
RESEND_MAX_AGE_S = 15 * 60.0
# While the daemon runs, kept pushes (a receiver down past the dispatcher's retries, ~7 s of
# them) are tried again this often: a receiver back within a minute gets them, and a pass
# stops at the first failure, so one down all night costs one series of attempts a minute.
RESEND_KEPT_EVERY_S = 60.0

# An [[channels.ntfy]] without a name is called "<host>-<this many hex digits of sha256(URL)>"
# (config.unnamed_ntfy_name), not after its topic, the secret. 6 hex = 24 bits: k unnamed topics
# on one server share a name with odds of about k^2/2 in 2^24 (10 topics: 3 in a million), and
# such a pair is refused by the config's check of unique names (set name), never merged. What
# the name gives away: a test of a guessed topic, offline; a guessable topic is found by
# subscribing to guesses anyway, and a made one (config init --ntfy new: 144 random bits) is
# not searched 2^144 hashes deep for a 24-bit match. Short enough to write in [[caregivers]].
NTFY_NAME_HASH_HEX = 6

# --- systemd (spasmwatch service install, daemon/notify.py) ---------------------------------
# The watchdog pings (WATCHDOG=1) only while the daemon's ticker (TICK_S) has completed a tick
# within this (s): a tick takes milliseconds, so ten missed ones mean the ticker died or keeps
# failing (escalation and STALE alerts run there), and the service manager restarts the daemon.
WATCHDOG_LATE_S = 10.0
# WatchdogSec= of the unit (s): a blocked or stalled daemon is killed and restarted within
# WATCHDOG_LATE_S + this of its last tick (40 s), an alarm's delay a family can live with; long
# enough that an SD card stalling a SQLite write for seconds does not restart a healthy daemon.
WATCHDOG_SEC = 30
# While the store's open does the long work of an upgrade before READY=1 (its copy, that copy's check,
# the migration: store/_db.py CHECKING...MIGRATING), each telling of its progress extends systemd's start
# timeout (TimeoutStartSec=, 90 s by default: the unit sets none) by this (s, EXTEND_TIMEOUT_USEC=): the
# longest wait between two tellings of work that advances is a flush of COPY_SYNC_PAGES of the copy
# (64 MB: ~6 s on an SD card at 10 MB/s) or a look at a check's reads (READ_LOOK_S, 1 s); a card stalled
# by its own housekeeping for tens of seconds is waited out. A copy or check stuck for a minute is ended
# by systemd and started again, as it was before (a stalled disk no start gets past). The watchdog
# (WatchdogSec=) is not armed before READY=1 (systemd arms it as the start completes): nothing to ping.
START_EXTEND_S = 60.0
# At most one telling of a step (EXTEND_TIMEOUT_USEC= and STATUS=) every this (s) while it advances (a
# new step is told at once): 12 within each START_EXTEND_S, so a lost datagram costs nothing; the
# family's 'systemctl --user status spasmwatch' shows the MB copied within this of now.
START_TELL_EVERY_S = 5.0
# RestartSec= (s): the wait before a restart after a crash or a watchdog kill: short (an unwatched
# night), long enough that a daemon failing at start-up (a config edited wrong) logs a line every
# 5 s rather than hundreds; systemd's start limit (5 starts in 10 s) is never reached at this pace,
# so it keeps trying until the config is fixed.
RESTART_SEC = 5
# TimeoutStopSec= is what a stop may take (then SIGKILL): the dispatcher drains deliveries in
# flight, one network delivery taking up to its retries' worst (RetrySettings: 4 x 20 s + 7 s of
# backoff), then MQTT waits up to its timeout_s for the broker's acknowledgements
# (docs/alerts.md). This margin (s) on top covers closing the store and the web server. A kill
# past it loses nothing (unacknowledged pushes stay kept in the store, SQLite survives a kill),
# but a stop cut short is logged as a failure.
STOP_MARGIN_S = 15
# The stop deadline (daemon/stopping.py): a stop not ended this long (s) before TimeoutStopSec
# (stop_deadline_s(): 112 - 5 = 107 s after SIGTERM/SIGINT, past the longest clean stop, 97 s) is
# cut short by the daemon itself: it logs each thread's stack (faulthandler) and exits
# STOP_DEADLINE_EXIT. systemd's SIGKILL said nothing of where a stop hung (a store write on a
# stalled disk blocking the event loop, tests/daemon/test_stop_while_loop_hangs.py); 5 s leaves
# room to write the stacks (ms) on a loaded machine before that kill.
STOP_DEADLINE_EARLY_S = 5
# The exit status of a stop cut short at its deadline: told apart from a failure of the daemon
# (1), a config's or a command's (2), an interrupt's (130), and from timeout(1)'s 124. One
# systemd does not name (8-63, "status=10/n/a" in the journal; it names 0-7 by C and LSB, 64-78 by
# BSD's sysexits, 200 up as its own): the 3 this was until 2026-12-07 read "status=3/NOTIMPLEMENTED",
# which sent an engineer after a missing feature, not a hung stop. Not 9, read as SIGKILL's number.
STOP_DEADLINE_EXIT = 10
# If the deadline's own thread cannot run (the GIL held by a hung call), faulthandler's C timer
# dumps the stacks and exits (status 1) this long (s) after the deadline, still before the kill.
STOP_BACKSTOP_S = 2
# A stop cut short also writes its reason and the stacks beside the store (stopping.cut_short_record,
# which 'spasmwatch status' reads), waited for at most this long (s) before the exit: a write takes
# milliseconds, but the hang is often the store's disk stalled, where it never returns; given up,
# the log still has them, and the exit stays STOP_DEADLINE_EXIT (under STOP_BACKSTOP_S).
STOP_RECORD_WAIT_S = 1.0

# --- raw recording (a band's raw = true: docs/host.md "Raw samples") -----------------------------
# Free space (MB, 10^6 bytes) that raw recording leaves on its file system for the store. A band's
# raw at 100 Hz is 105 MB a day (measured, 109.5 MB at 104 Hz), the store 1.4 MB a day: on a small
# SD card raw took the last of the space within days and then the store refused the events. 1000 MB
# holds years of the store's growth, SQLite's WAL and checkpoints, and a Raspberry Pi's own logs and
# updates on the same card ([daemon] raw_reserve_mb; 0: no reserve).
RAW_RESERVE_MB = 1000.0
# Raw recording starts again once free space is this much (MB) above the reserve: about a day of
# one band's raw, so a disk hovering at the reserve pauses and resumes about once a day, not at
# every check (each is a log line and a status change).
RAW_RESUME_MARGIN_MB = 100.0
# Free space is read (statvfs) at most this often (s, monotonic) while raw arrives: a band sends
# 5-100 RAW records a second (19 samples each at a 247-byte MTU, 1 at 23), a statvfs each would be
# waste; raw grows 1.2 kB/s a band at 100 Hz, so 5 s between checks overshoots the reserve by 6 kB.
RAW_DISK_CHECK_S = 5.0
# A band whose raw file failed to write (ENOSPC, EIO, a read-only file system) tries again this
# often (s): such a fault seldom clears within minutes, and each try is an open and one small
# write, not one failing write per record (5-100 a second); raw is back within 10 min of the fix.
RAW_RETRY_S = 600.0
# Raw files are deleted once their newest sample is this many days old ([daemon] raw_keep_days,
# daemon/rawkeep.py RawPruner). 0 keeps every file and is the default: an upgrade must delete no
# researcher's recordings; a family sets it (14 days of one band at 100 Hz: 1.5 GB).
RAW_KEEP_DAYS = 0.0
# At most this many days ([daemon] raw_keep_days): past a year (1e9 days) the value means what 0
# says, keep every file, typed as a slip: a larger one in the file is taken as 0, with a warning
# (config._upto; taken as the bound, the recordings older than a year would be deleted).
RAW_KEEP_DAYS_MAX = 366.0
# A raw file within this (s) of a cluster, either side, is never deleted: the minutes before its
# first detected spasm hold the waking and the spasms the detector missed (it finds most, not all),
# those after it the last ones; a doctor or researcher asks for the stretch, not its seconds.
# Labels do not matter: a false alarm's raw is what tunes the detector (docs/host.md).
RAW_KEEP_MARGIN_S = 10 * 60.0
# ... and from this long (s) before a caregiver's note to RAW_KEEP_MARGIN_S after it: a note ("video
# taken", "spasms at feeding") is written after what it tells, often once the baby is settled.
RAW_NOTE_BEFORE_S = 60 * 60.0
# The pruning pass runs at start and then this often (s): raw grows 105 MB a day a band, so a file
# deleted an hour late holds 4 MB more; a pass lists the folder and reads the chunks (checked, no
# sample array made, one walk: rawkeep.raw_span) of the files it has not seen at their size (0.12 s for a day's
# file, cached), in a worker thread.
RAW_PRUNE_EVERY_S = 3600.0

# A band's raw file of one boot is cut into parts at local noon (the zone the daemon words times
# in: AlertSettings.tz, else this computer's), by the samples' own times (the file's header dates them), so a part is
# at most this long (s): a night and the waking after it, when clusters come (README "Why"),
# in one file that replays as one. A boot of weeks was one file of GBs, kept whole until its
# last sample was raw_keep_days old and taken whole for one night; a part is 105 MB at 100 Hz
# (110 MB at 104 Hz), well under FAT32's 4 GB and read into memory at once by any tool. It must
# divide a day (boundaries every RAW_FILE_SPAN_S from RAW_FILE_START_HOUR).
RAW_FILE_SPAN_S = 24 * 3600.0
# The local hour (0-23) parts start at: noon, so a night and the morning waking after it, when
# clusters are most often seen, are never cut in two; a researcher asking for a night takes one file.
RAW_FILE_START_HOUR = 12

# --- the store's own backups ([daemon] backup_keep_days, daemon/backups.py, docs/store.md "Backups") ------
# A copy of the store is made once its newest copy is this old (s): a day less BACKUP_CHECK_S, so a
# copy made an hour late does not make the next one later still (each day's copy at about the same hour).
BACKUP_EVERY_S = 23 * 3600.0
# How often (s) the daemon asks whether a copy is due (a listing of the backups folder), from its start.
# A copy reads every page of the store once (measured for a year's store: docs/store.md "Backups"), in a
# worker thread, never holding the store's writer (SQLite's online backup from a read-only connection).
BACKUP_CHECK_S = 3600.0
# The newest copy of each of this many latest days is kept ([daemon] backup_keep_days; 0: no backups).
# A week: a store damaged by hand or by a fault is found within days ('store check', the daemon's start),
# and each copy is about the store's size.
BACKUP_KEEP_DAYS = 7
# At most this many latest days' copies ([daemon] backup_keep_days, days): each is a whole store on
# the store's own disk, and a disk filled by copies (1e9 days: kept for ever) stops the store's
# writes, the monitor's record. The 4 weekly copies reach back a month already; 3 months is ample.
# A larger one in the file is taken as this, with a warning (config._upto): the older copies are
# pruned, the store itself keeps everything.
BACKUP_KEEP_DAYS_MAX = 92
# ... and the newest copy of each of this many latest ISO weeks: a fault found late (a note dropped by a
# hand-made change a fortnight ago) still has a copy from before it, for 4 copies more at most.
BACKUP_KEEP_WEEKS = 4
# A copy is made only when it leaves this much free space (MB) on the store's file system: the room raw
# recording leaves for the store (RAW_RESERVE_MB's reasons: years of the store's growth, the WAL,
# the system's own logs). A copy that would eat into it is skipped, logged and shown (status).
BACKUP_RESERVE_MB = RAW_RESERVE_MB

# --- raw dating: the band's real sample rate, measured (daemon/rawdating.py, docs/rawfile.md) -----------
# A real IMU samples off its own oscillator, ~1 % from nominal (36 s an hour): the host fits the lower
# envelope of its RAW records' arrivals (index -> monotonic s). Arrivals are grouped in blocks of this
# long (s), each keeping only its records' lower convex hull (a few points), so a record costs a few
# list operations and the fit a hull over a few hundred points.
RAW_DATING_BLOCK_S = 300.0
# The fit spans the latest blocks within this long (s): an hour. Its rate's error is about the spread
# of the least delays (a few ms over BLE/USB) over the span, ~1 ppm (3.6 ms an hour), and an hour is
# short against an oscillator's drift with temperature (ppm per degree).
RAW_DATING_WINDOW_S = 3600.0
# No dating before the records span this long (s): over 60 s a 5 ms spread of the least delays is
# 0.008 % of rate (0.3 s an hour), corrected by the points written as the span grows.
RAW_DATING_MIN_SPAN_S = 60.0
# A dating record is written this often (s, monotonic) while raw streams, and at each part's start:
# 32 bytes a minute (46 kB a day against the day's 105 MB), so a crash leaves at most a minute past
# the last record extrapolated, and the piecewise-linear dating follows the fit as it improves.
RAW_DATING_EVERY_S = 60.0
# A fitted rate further than this (fraction) from nominal is not a clock error (parts are within
# +-1-3 %, datasheets): an index jump (a lost count) bent the envelope; it is not written.
RAW_DATING_MAX_RATE_ERROR = 0.05

# --- the daily summary ([alerts] daily_summary, docs/alerts.md) ------------------------------------
# A summary is sent at most this long (s) after its time (a daemon started or restarted within it
# sends it; one started later does not): a restart takes seconds (RestartSec, the watchdog's 40 s),
# a computer's reboot a few minutes, and within half an hour the summary still is the morning's.
# Later it would land in the middle of the day as if it were news, and the next one comes tomorrow.
DAILY_SUMMARY_GRACE_S = 30 * 60.0
# Treatments started within this many days (local calendar days) get a line in the summary: their
# clusters per 24 h monitored since vs before, the report's trend (report/data.py trend, with its
# rules in report/consts.py); a week, as the trend's TREND_DAYS, and what fits a phone's lines.
SUMMARY_TREATMENT_DAYS = 7
# How far back (s) the summary looks for the latest cluster when the last 24 h had none ("No cluster
# for N days"): 30 days; a longer quiet is told as no cluster seen rather than read from months of rows.
SUMMARY_QUIET_LOOKBACK_S = 30 * 86400.0

# --- the heartbeat ([daemon.heartbeat], daemon/heartbeat.py, docs/alerts.md) -------------------------
# A dead man's switch: while healthy the daemon fetches a URL this often (s) and a service elsewhere
# (healthchecks.io, Uptime Kuma's push monitor) tells the phones when the fetches stop. 60 s: the
# shortest period healthchecks.io offers, so its grace decides how soon the family hears that the
# computer beside the cot went off; one small request a minute costs nothing on a home network.
HEARTBEAT_EVERY_S = 60.0
# The bounds of [daemon.heartbeat] every_s (s). Under 20 s: Uptime Kuma's shortest push interval,
# and twice HEARTBEAT_TIMEOUT_S, so one ping has ended before the next is due. Over 15 min: a
# computer that froze at the start of a nap would go unnoticed for a good part of it.
HEARTBEAT_EVERY_MIN_S = 20.0
HEARTBEAT_EVERY_MAX_S = 900.0
# A ping's whole request (DNS, connect, TLS, answer) must finish within this (s): a service answers in
# well under a second; past it the ping counts as failed (the service's grace absorbs one or two).
HEARTBEAT_TIMEOUT_S = 10.0

# The CLI takes a daemon that does not answer /api/status within this (s) as not there: one on this
# computer answers within milliseconds.
DAEMON_PROBE_S = 2.0
# A command asking which daemon answers on its config's port before it sends anything (commands/
# _daemon.py ``_not_anothers``) waits this long (s): what a command gives its own request (``api``),
# so a daemon slowed by a loaded machine is still told apart; one silent past it (stopped, hung) is
# said not confirmed and nothing is sent (a request left with a stopped one is served once it runs).
DAEMON_CONFIRM_S = 5.0
# 'spasmwatch reload' waits this long (s) for the daemon to report the reload it asked for: one
# takes milliseconds (docs/host.md, 1-3 ms; a new band's link or a channel's first connect is not
# waited for), so one not reported by then is stuck or slowed by a loaded machine, and said so.
RELOAD_WAIT_S = 10.0
# The longest --wait it takes (s): past this a reload is not slow but stuck (the journal says why).
RELOAD_WAIT_MAX_S = 600.0
# How often (s) it asks /api/status meanwhile: a local request costs about a millisecond, and the
# round trip a person sees is the reload's plus at most this.
RELOAD_POLL_S = 0.01

# Ports after a taken [daemon.http] port that 'spasmwatch run' tries (one bind each, < 1 ms) to
# offer the family a free one in its error: a handful covers a neighbour program's few ports.
PORT_SEARCH = 20
# How often (s) the service's daemon tries again a web page port another program held at its start,
# or a host address not there yet (DHCP at boot) (it monitors without the page meanwhile): one bind,
# < 1 ms; the page and the CLI come back within this of the port's release or the address's coming.
HTTP_RETRY_S = 10.0
