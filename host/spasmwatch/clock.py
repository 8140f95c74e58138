"""Clocks and time zones, one for the daemon, the commands, the alerts, the exports and the report.

Injectable clocks: the daemon never reads time itself. This computer's zone (``local_zone``), read
as the C library reads it, and local times and zones worded as a family or a doctor reads them
(``wall_text``, ``said_zone_of``): the alerts, exports and report word them as the daemon does, on
a module of their own layer, not the daemon's (tests/test_layering.py).

``Clock`` is what every clock gives: ``wall``, ``mono``, ``rate`` and ``since_boot``.
``SystemClock`` is the real one. ``ScaledClock`` runs from a chosen start
time at ``rate`` x real time: the demo plays a simulated morning at 06:00 in a
minute, and every part (time sync to the band, cluster and sleep analysis,
alert escalation) sees one consistent clock.
"""

from __future__ import annotations

import datetime as dt
import errno
import functools
import io
import logging
import math
import os
import pwd
import re
import stat
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Protocol
import zoneinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

log = logging.getLogger(__name__)

# How long a zone file (/etc/localtime, a TZ path) may be no whole zone file, gone or cut short,
# before the daemon reads it as C does, UTC (s). Until then it is a replace in flight (cp truncates
# then writes, ln -sf unlinks then links, timedatectl renames: milliseconds) and the zone last read
# whole there is kept; past it the file is gone for good and the commands, which never read it
# whole, say UTC: the daemon must word times as they do. A file in doubt is read each tick
# (zone_file_in_doubt), so a deleted file is recorded as UTC within a tick of this.
ZONE_FILE_GONE_S = 10.0
# The most bytes a zone file (/etc/localtime, a TZ path) is read to (B): the tz database's largest
# (right/, leap seconds listed) is ~4 KB. A FIFO, a device (/dev/zero) or a file far past this is
# no zone file: read whole it held the tick (and every alarm) for ever, or until memory ran out.
ZONE_FILE_MAX_BYTES = 65_536


def local_day(day: dt.date, zone: dt.tzinfo) -> tuple[float, float]:
    """Unix seconds of ``zone``'s midnight that starts ``day`` and of the next one.

    Not ``start + 86400``: a day of a daylight-saving change lasts 23 or 25 hours. ``zone``, not
    the C library's (which keeps the zone it first read until ``time.tzset``): the days' counts are
    cut in the zone given, and their ends must be that zone's too.
    """
    start = dt.datetime.combine(day, dt.time(), zone).timestamp()
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), zone).timestamp()


# Step of the search for a zone's offset changes, s: a day, as no two changes are closer (LibcZone too).
_CHANGE_STEP_S = 86_400


def offset_changes(zone: dt.tzinfo, a: float, b: float) -> list[tuple[float, dt.timedelta, dt.timedelta]]:
    """The instants in [a, b) (unix s) where ``zone``'s UTC offset changes, each the first whole second
    on the new offset, with the offsets before and after: DST changes, and any other (a zone that
    moved). Any tzinfo: zoneinfo's, LibcZone, a fixed offset (none)."""

    def offset(t: int) -> dt.timedelta | None:
        return dt.datetime.fromtimestamp(t, zone).utcoffset()

    found: list[tuple[float, dt.timedelta, dt.timedelta]] = []
    lo, end = math.floor(a), math.ceil(b) - 1  # whole seconds: zones change on them
    while lo < end:
        hi = min(lo + _CHANGE_STEP_S, end)
        before, after = offset(lo), offset(hi)
        if before != after and before is not None and after is not None:
            while hi - lo > 1:  # offset(lo) is before's, offset(hi) after's
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset(mid) == before else (lo, mid)
            found.append((float(hi), before, after))
        lo = hi
    return found


def first_reading(wall: dt.datetime, zone: dt.tzinfo) -> float:
    """The first instant (unix s) ``zone``'s clock reads ``wall`` (naive) or later: a reading made
    twice (the clocks going back), its first; one never made (the gap as they go forward), the jump
    (``offset_changes``): "until 02:30" the night Paris skips 02:00-03:00 is 03:00."""
    t = wall.replace(tzinfo=zone).timestamp()  # fold 0: the first of two readings; in a gap, the gap's length past it
    if dt.datetime.fromtimestamp(t, zone).replace(tzinfo=None) == wall:
        return t
    jump = offset_changes(zone, wall.replace(tzinfo=zone, fold=1).timestamp(), t)  # fold 1, in a gap: before the jump
    return jump[0][0] if jump else t


def log_time(t: float) -> str:
    """``t`` (unix s) as HH:MM:SS of this computer's zone, as the daemon's log lines give a time."""
    return dt.datetime.fromtimestamp(t).strftime("%H:%M:%S")


def wall_text(
    t: float, fmt: str = "%Y-%m-%d %H:%M:%S", zone: dt.tzinfo | None = None, said: Callable[[dt.datetime], str] | None = None
) -> str:
    """``t`` (unix s) as a person reads a local time, in ``zone`` (None: this computer's,
    ``local_zone``), with the zone's abbreviation only where the wall time alone names two instants:
    the hour repeated as the clocks go back ('02:30 CEST', then '02:30 CET'). Elsewhere bare, as a
    clock reads: a tag on every line of a listing is noise where one reading is one instant (all
    but one hour a year). Where both passes bear one abbreviation (a zone that moved its standard
    offset back: Pyongyang 2015, KST both), the UTC offset ('UTC+09', ``utc_offset_text``) tells them apart instead. An
    abbreviation that is a number (the tz database's '-03', '+1030' for zones with no letters in use:
    Santiago, Lord Howe, Troll) is that offset and said as one, 'UTC-03': bare, 'since 23:30 -03'
    read as a sum. ``said``: how a pass is named instead (the alerts' languages, ``messages.hhmm``)."""
    local = dt.datetime.fromtimestamp(t, zone or local_zone())
    other = local.replace(fold=1 - local.fold)
    if other.utcoffset() == local.utcoffset():
        return local.strftime(fmt)
    name_of = said or (lambda d: said_zone(d.tzname()))
    name = name_of(local)
    if not name or name == name_of(other):
        name = utc_offset_text(int((local.utcoffset() or dt.timedelta(0)).total_seconds()))
    return f"{local.strftime(fmt)} {name}"


def said_zone(abbreviation: str | None) -> str:
    """A zone abbreviation as a family reads it: the tz database's numeric ones ('-03', '+1030',
    '+00') are offsets, said as ``utc_offset_text`` says them ('UTC-03', 'UTC+1030', 'UTC'); '' for none."""
    name = abbreviation or ""
    digits = name[1:]
    if name[:1] not in ("+", "-") or not digits.isdigit() or len(digits) not in (2, 4, 6):
        return name
    seconds = int(digits[:2]) * 3600 + int(digits[2:4] or 0) * 60
    return utc_offset_text(-seconds if name[0] == "-" else seconds)


def zone_spans(
    zone: dt.tzinfo, a: float, b: float, said: Callable[[dt.datetime], str] | None = None
) -> list[tuple[float, int, str]]:
    """``zone`` from ``a`` to ``b`` (unix s) as the page words times in it (docs/web.md "Times"):
    ``(from, UTC offset s, abbreviation)``, the first from ``a``, then one from each offset change
    (``offset_changes``). Any tzinfo, also one no browser knows by name (a POSIX rule, a zone file
    that names none), and the names ``wall_text`` gives with the same ``said``, not the browser's
    ('GMT+2')."""

    def span(t: float) -> tuple[float, int, str]:
        local = dt.datetime.fromtimestamp(t, zone)
        offset = local.utcoffset() or dt.timedelta(0)
        return t, int(offset.total_seconds()), said(local) if said else said_zone(local.tzname())

    return [span(a), *(span(t) for t, _, _ in offset_changes(zone, a, b))]


# A POSIX TZ rule's offsets: its standard name and offset, then its DST name and (1 h ahead if not
# given) offset ('CET-1CEST', '<+0330>-3:30', 'EST5EDT'), up to its change rules after a comma.
# Read as glibc reads them: every digit there is ('UTC+0830' is 830 hours, held to 24).
_RULE_NAME = r"(?:[A-Za-z]{3,}|<[A-Za-z0-9+-]{3,}>)"
_RULE_OFFSET = r"([+-]?\d+(?::\d+){0,2})"
_POSIX_OFFSETS = re.compile(rf"{_RULE_NAME}{_RULE_OFFSET}(?:({_RULE_NAME}){_RULE_OFFSET}?)?")
_DST_AHEAD_S = 3600  # POSIX: a rule's DST offset not given is one hour ahead of its standard one
UNNAMED_ZONE = "an unnamed time zone"  # a zone file that no tz database zone matches ('localtime')
UNNAMED_FILE = "localtime"  # such a file's name as the store records it (``zone_name``)
# The tz database's fixed-offset zones, named with POSIX's sign: 'Etc/GMT-3' is UTC+03 (its
# abbreviation '+03'), which a doctor reads as UTC-3 (also 'GMT+0', and under posix/ or right/).
_POSIX_SIGNED = re.compile(r"(?:[A-Za-z]+/)*GMT([+-]\d{1,2})")


def utc_offset_text(seconds: int, short: bool = False) -> str:
    """A UTC offset as the tz database's numeric abbreviations read after ``said_zone``: 'UTC+01',
    'UTC+0530', 'UTC-03'; 'UTC' for none. ``short``: as a parent reads it in a push, 'UTC+1',
    'UTC+5:30', 'UTC-3' (``alerts.messages``)."""
    if not seconds:
        return "UTC"
    h, m = divmod(abs(seconds) // 60, 60)
    sign = "-" if seconds < 0 else "+"
    if short:
        return f"UTC{sign}{h}{f':{m:02}' if m else ''}"
    return f"UTC{sign}{h:02}{f'{m:02}' if m else ''}"


def rule_offsets(rule: str) -> list[int] | None:
    """The UTC offsets (s; standard, then DST if the rule has one) of a POSIX TZ rule, None if
    ``rule`` is not one. POSIX counts west of Greenwich positive: 'CET-1' is UTC+01. As glibc
    reads them (tzset.c ``compute_offset``): hours held to 24, minutes and seconds to 59."""
    m = _POSIX_OFFSETS.fullmatch(rule.lstrip(":").split(",", 1)[0])
    if m is None:
        return None

    def seconds(text: str) -> int:
        h, m, sec = ([int(p) for p in text.lstrip("+-").split(":")] + [0, 0])[:3]
        value = min(h, 24) * 3600 + min(m, 59) * 60 + min(sec, 59)
        return value if text.startswith("-") else -value

    std = seconds(m[1])
    if m[2] is None:
        return [std]
    return [std, seconds(m[3]) if m[3] else std + _DST_AHEAD_S]


# A Python time's UTC offset lies strictly within a day; POSIX lets a rule's hours reach 24 (glibc
# reads up to 24:59:59), so a rule may give one no local time here can hold.
_DAY_S = 86_400


def _rule_beyond_a_day(rule: str) -> str:
    """A POSIX rule's offsets said ('UTC+24') when one is a day or more, else '' (none, or no rule)."""
    offsets = rule_offsets(rule) or []
    return "/".join(utc_offset_text(o) for o in offsets) if any(abs(o) >= _DAY_S for o in offsets) else ""


def said_zone_name(name: str, unnamed: str = UNNAMED_ZONE) -> str:
    """A recorded zone (``zone_name``) as a doctor or a parent reads it: a POSIX rule by the offsets it
    gives ('CET-1CEST,M3.5.0,M10.5.0/3' is 'UTC+01/UTC+02'), so too a fixed-offset zone of POSIX's
    sign ('Etc/GMT-3' is 'UTC+03'), a zone file that named no zone
    ('localtime', as stores kept it before names were found by content) as ``unnamed``, else the name."""
    if name == UNNAMED_FILE:
        return unnamed
    if fixed := _POSIX_SIGNED.fullmatch(name):
        return utc_offset_text(-int(fixed[1]) * 3600)
    offsets = None if _is_zone_key(name) else rule_offsets(name)
    return "/".join(utc_offset_text(o) for o in offsets) if offsets else name


def said_zone_of(zone: dt.tzinfo, t: float) -> str:
    """``zone`` by the name ``said_zone_name`` gives it, or, for a zone file that names no zone, by
    the UTC offsets it has in the year from ``t`` (unix s): 'UTC+01/UTC+02'."""
    name = zone_name(zone)
    if name != UNNAMED_FILE:
        return said_zone_name(name)
    first = dt.datetime.fromtimestamp(t, zone).utcoffset() or dt.timedelta(0)
    seen = {first, *(after for _, _, after in offset_changes(zone, t, t + _YEAR_S))}
    return "/".join(utc_offset_text(int(o.total_seconds())) for o in sorted(seen))


_YEAR_S = 366 * 86_400  # a zone's offsets over a year: its standard and DST ones


def _is_zone_key(name: str) -> bool:
    """Whether the tz database has a zone by ``name`` ('UTC' and 'EST5EDT' do, as POSIX-like names)."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def zone_name(zone: dt.tzinfo) -> str:
    """``zone`` by a name that stays the same across its DST changes, as the store records the
    daemon's zone: the tz database's ('Europe/Berlin'; for a zone file that names none its rule,
    ``_file_rule``, else 'localtime'),
    the POSIX rule in TZ that a ``LibcZone`` follows ('CET-1CEST,M3.5.0,M10.5.0/3'; its abbreviation
    would change twice a year), a fixed offset's ('UTC'; else the rule that gives it, '<+03>-3:00':
    its str(), 'UTC+03:00', is also a rule, of the opposite sign)."""
    if isinstance(zone, LibcZone):
        return os.environ.get("TZ", "").lstrip(":")
    if isinstance(zone, dt.timezone) and (offset := int((zone.utcoffset(None)).total_seconds())):
        h, m = divmod(abs(offset) // 60, 60)
        return f"<{'+' if offset > 0 else '-'}{h:02}{m:02}>{'-' if offset > 0 else ''}{h}:{m:02}"
    return str(getattr(zone, "key", None) or zone)


def same_clock(name: str, zone: dt.tzinfo, a: float, b: float) -> bool:
    """Whether the zone recorded as ``name`` (``zone_name``) reads as ``zone`` over [a, b) (unix s):
    the same name, or the same UTC offset at ``a`` and the same changes of it. A zone has more than
    one name ('Etc/UTC' and 'UTC', 'US/Eastern' and 'America/New_York', a POSIX rule and the zone it
    gives: 'CET-1CEST,M3.5.0,M10.5.0/3' and 'Europe/Berlin'): the daemon records the one it found it
    by, a report may be made under another. A name ``recorded_zone`` reads no clock of ('localtime')
    is compared by name only."""
    if name == zone_name(zone):
        return True
    recorded = recorded_zone(name)
    if recorded is None:
        return False
    start = [dt.datetime.fromtimestamp(a, z).utcoffset() for z in (recorded, zone)]
    return start[0] == start[1] and offset_changes(recorded, a, b) == offset_changes(zone, a, b)


def recorded_zone(name: str) -> dt.tzinfo | None:
    """The clock of a zone recorded as ``name`` (``zone_name``): the tz database's zone by that name,
    else the POSIX rule it is, read by zoneinfo's own rule reader (a zone file of no transitions
    whose rule line is ``name``; LibcZone follows the process's TZ only); None for none ('localtime', a
    rule of a day's offset: ``_rule_beyond_a_day``)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        pass
    return _rule_zone(name) if rule_offsets(name) and not _rule_beyond_a_day(name) else None


def _rule_zone(rule: str) -> ZoneInfo | None:
    """The POSIX TZ ``rule`` as a zone, None when zoneinfo reads no rule in it."""
    try:
        line = rule.lstrip(":").encode("ascii")
    except UnicodeEncodeError:
        return None
    # A version 2 file: its header (no leap seconds nor transitions; one type, UTC, and its name's
    # 4 bytes) and that type, twice (32- then 64-bit part), then the rule on a line of its own.
    part = b"TZif2" + bytes(15) + struct.pack(">6l", 0, 0, 0, 0, 1, 4) + struct.pack(">lbb", 0, 0, 0) + b"UTC\0"
    return _parsed(part + part + b"\n" + line + b"\n", rule)


def local_zone(mono: float | None = None) -> dt.tzinfo:
    """This computer's zone as the commands see it (``resolve_local_zone``, its note aside)."""
    return resolve_local_zone(mono)[0]


LOCALTIME = Path("/etc/localtime")  # the computer's zone where TZ is not set


def resolve_local_zone(mono: float | None = None) -> tuple[dt.tzinfo, str | None]:
    """This computer's zone as the commands see it, as the C library reads it: TZ (a zone name, a
    zone file's path, or a POSIX rule, followed by ``LibcZone``), else /etc/localtime; TZ set but
    empty (or ':' alone) is UTC. With its DST rules where the OS has them and by its name where it has one. The
    note (None: none) says a setting that names no zone, for which UTC is used, as C's is, or a POSIX
    rule of a day's offset or more, which C reads but no Python time holds (UTC too). ``mono``: the
    reader's monotonic seconds, by which a zone file gone for a while is UTC (``_zone_at``)."""
    raw = os.environ.get("TZ")
    env = (raw or "").lstrip(":")
    if raw is not None and not env:
        return dt.timezone.utc, None  # glibc and musl: an empty TZ, or ':' alone, is UTC, not /etc/localtime
    if path := _zone_file(raw):
        zone = _zone_at(path, mono)
        what = f"TZ={raw}" if env else str(path)
        return (zone, None) if not isinstance(zone, str) else (dt.timezone.utc, f"{what}: {zone}; times are in UTC")
    try:
        return ZoneInfo(env), None
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder's name ('Europe')
        pass
    if beyond := _rule_beyond_a_day(env):
        return dt.timezone.utc, f"TZ={raw}: a UTC offset of a day or more ({beyond}), which times here cannot hold; times are in UTC"
    if rule_offsets(env):  # a name of 3+ letters (or <quoted>) and an offset ('CET-1CEST,...', 'JST-9')
        return LibcZone(), None
    return dt.timezone.utc, f"TZ={raw}: not a time zone this computer knows (e.g. Europe/Berlin); times are in UTC"


def _zone_file(raw: str | None) -> Path | None:
    """The zone file the C library reads for TZ ``raw``: its path, else /etc/localtime where it is
    unset; None where it names a zone or a rule, or is set but empty or ':' alone (UTC)."""
    env = (raw or "").lstrip(":")
    if (raw is not None and not env) or (env and not env.startswith("/")):
        return None
    return Path(env) if env else LOCALTIME


def _zone_at(path: Path, mono: float | None = None) -> dt.tzinfo | str:
    """The zone in the file at ``path`` (``_read_zone_at``); one that cannot be read now (absent, or
    not a whole zone file: being replaced by a copy, ``cp`` truncates it first; a relink by ``ln
    -sf`` unlinks it first) is the zone last read well there in this process, said once, until it
    has been so ``ZONE_FILE_GONE_S`` by ``mono`` (the reader's monotonic seconds: the daemon's clock;
    a reader that gives none waits for ever). UTC (C's reading) at once told the daemon's minute check
    of a trip to UTC and back that never was; kept for good, a deleted file left the daemon in a zone
    the commands, which never read it whole, do not say. A str: none read there, or gone for good,
    and why the file gives none now (``_why_unread``)."""
    zone = _read_zone_at(path)
    if not isinstance(zone, str):
        _well_read[path] = zone
        if path in _unread_since:  # its doubt (or its UTC) was said: so is its end, once
            del _unread_since[path]
            log.info("%s is a time zone file again: times are in %s", path, zone_name(zone))
        return zone
    kept = _well_read.get(path)
    if kept is None:
        return zone
    if path not in _unread_since:
        log.warning("%s: times stay in %s, as last read there", _unread_said(path, zone), zone_name(kept))
    since = _unread_since.get(path)
    if since is None:
        _unread_since[path] = since = mono
    if mono is None or since is None or mono - since < ZONE_FILE_GONE_S:
        return kept
    del _well_read[path]
    log.warning("%s: times are in UTC, as the C library and the commands read it", _unread_said(path, zone, mono - since))
    return zone


def _unread_said(path: Path, why: str, for_s: float | None = None) -> str:
    """``path`` said as giving no zone now (``for_s``: for so many seconds), by ``why`` (``_why_unread``):
    a file not there or cut short is most likely being replaced; a denied read is not (a chmod, the
    daemon run as another account)."""
    if why == NO_ZONE_FILE:
        return f"{path} is no time zone file now (being replaced?)" if for_s is None else f"{path} has been no time zone file for {for_s:.0f} s"
    return f"{path}: {why}" if for_s is None else f"{path}: {why}, for {for_s:.0f} s"


# Why a zone file path gives no zone where nothing more is known: no file there, or one that is no
# zone file by its kind, its size or its bytes (cut short while being copied over).
NO_ZONE_FILE = "no time zone file there"


def _why_unread(e: OSError) -> str:
    """Why the zone file at a path gives no zone, from the error its open or read gave: a read denied
    to this account is said as such, by the account's name, not as a file missing (one sent to look for
    a file that is there). The C library reads either as UTC (glibc 2.36: a TZ path it may not read is
    +0000 with no abbreviation, an /etc/localtime it may not read UTC), and so is it read here."""
    if e.errno in (errno.EACCES, errno.EPERM):
        return f"this account ({_account()}) may not read it (permission denied)"
    if e.errno in (errno.ENOENT, errno.ENOTDIR):
        return NO_ZONE_FILE
    return f"it cannot be read ({e.strerror or e})"


def _account() -> str:
    """This process's account by name ('spasmwatch'), else by number where it has none ('uid 1000':
    a container's user with no passwd entry)."""
    uid = os.geteuid()
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"


def zone_file_in_doubt() -> bool:
    """Whether this computer's zone file (``_zone_file``), read whole before, is no whole zone file
    now, its wait (``_zone_at``) not yet over: a reader should look again at its next moment, not at
    its next check. The wait counts from the read that found it so to the last: a file back between
    two reads a minute apart and gone again at the second (two replaces in flight) would otherwise
    have been gone a minute. Another file (TZ changed since) is no longer read: not in doubt."""
    path = _zone_file(os.environ.get("TZ"))
    return path in _well_read and path in _unread_since


_well_read: dict[Path, dt.tzinfo] = {}  # each zone file's zone as last read whole (_zone_at)
# The files no whole zone file since their zone was last read whole, said so: from when (the first
# reader's monotonic s that gave one; None: none yet)
_unread_since: dict[Path, float | None] = {}


def _read_zone_at(path: Path) -> dt.tzinfo | str:
    """The zone in the file at ``path``, by its tz database name where it links to one, else
    its rule (one that names none: ``_file_rule``, else 'localtime'); a str: why it gives none
    (``_why_unread``; no whole zone file there, ``NO_ZONE_FILE``).
    Read first also where it is named: a link whose file is gone (tzdata removed) is no zone to C."""
    data = _zone_file_bytes(path)
    if isinstance(data, str):
        return data
    name = _zone_name(path)
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass  # a zone this Python's tz database lacks: the file itself
    zone = _parsed(data, _file_rule(data) or UNNAMED_FILE)
    if zone is None:
        return NO_ZONE_FILE
    # A copy, not a link (some images, Docker's -v /etc/localtime): the zone whose file it is, so the
    # store records a name the doctor reads ('localtime' said nothing), and the page and report too.
    name = _name_by_content(data)
    return ZoneInfo(name) if name else zone


def _zone_file_bytes(path: Path) -> bytes | str:
    """The bytes of the regular file at ``path``; a str, why it gives none (``_why_unread``): none
    there, one it may not read, or one that is no zone file by its kind or size (``ZONE_FILE_MAX_BYTES``):
    opened without waiting, a FIFO's read would hold the reader for ever, a device's (/dev/zero) fill
    the memory."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        return _why_unread(e)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return NO_ZONE_FILE
    try:
        with open(fd, "rb") as f:
            data = f.read(ZONE_FILE_MAX_BYTES + 1)
    except OSError as e:
        return _why_unread(e)
    return data if len(data) <= ZONE_FILE_MAX_BYTES else NO_ZONE_FILE


def _file_rule(data: bytes) -> str:
    """The POSIX rule a whole zone file of version 2+ ends with, its clock after its last listed
    change ('CET-1CEST,M3.5.0,M10.5.0/3'), '' for none or one ``rule_offsets`` cannot word. The name
    of a file no tz database zone has (a container with none): all were 'localtime', so Berlin's
    copy replaced by New York's was no change; by their rules they differ, are said by their
    offsets and are compared by their clocks (``recorded_zone``)."""
    if data[4:5] in (b"", b"\0") or not data.endswith(b"\n"):
        return ""
    rule = data[:-1].rsplit(b"\n", 1)[-1].decode("ascii", "replace")
    return rule if rule_offsets(rule) else ""


def _parsed(data: bytes, key: str) -> ZoneInfo | None:
    """The zone file ``data`` read, None when it is not a whole one: every read past its end fails
    (``_Whole``). zoneinfo's reader loops for ever on a version 2+ file cut inside its last line, the
    rule (27 of Berlin's 2,298 prefixes, Python 3.11 here), and raises struct's, its own or an
    assertion error on most others; none of Berlin's reads as a zone (docs/host.md "Time")."""
    try:
        return ZoneInfo.from_file(_Whole(data), key=key)
    except (EOFError, ValueError, struct.error, AssertionError, IndexError):
        return None


class _Whole(io.BytesIO):
    """Bytes whose every read is whole: one the end cuts short raises EOFError."""

    def read(self, size: int | None = -1) -> bytes:
        got = super().read(size)
        if size is not None and size > 0 and len(got) < size:
            raise EOFError(f"a zone file cut short at {self.tell()} bytes")
        return got


# Under a tz database folder: copies of other zones' files, and files that are no zone.
_NOT_ZONES = {"posix", "right", "posixrules", "localtime", "Factory"}


@functools.cache
def _name_by_content(data: bytes) -> str:
    """The tz database name of the zone file whose bytes are ``data`` ('' for none): a zone listed
    in zone1970.tab first (Europe/Berlin rather than a link's name that shares its file), then one
    that is a file, not a link to one (Etc/UTC, not its links Etc/UCT or Zulu), then the first by
    name. Read once per content (~900 files: 3.8 ms, docs/host.md "Time")."""
    found: list[tuple[str, bool]] = []  # (name, a symbolic link)
    for root in map(Path, zoneinfo.TZPATH):
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in _NOT_ZONES]
            for f in files:
                path = Path(folder, f)
                if f not in _NOT_ZONES and _same_bytes(path, data):
                    found.append((path.relative_to(root).as_posix(), path.is_symlink()))
        if found:
            listed = _listed_zones(root)
            return min(found, key=lambda n: (n[0] not in listed, n[1], n[0]))[0]
    return ""


def _same_bytes(path: Path, data: bytes) -> bool:
    try:
        return path.stat().st_size == len(data) and path.read_bytes() == data
    except OSError:
        return False


def _listed_zones(root: Path) -> set[str]:
    """The zones zone1970.tab lists under ``root`` (one per region; links are not listed)."""
    try:
        lines = (root / "zone1970.tab").read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return set()
    return {cols[2] for line in lines if not line.startswith("#") and len(cols := line.split("\t")) > 2}


def _zone_name(link: Path) -> str:
    """``Europe/Berlin`` for /etc/localtime -> /usr/share/zoneinfo/Europe/Berlin, else ''."""
    target = os.path.realpath(link)
    return target.split("/zoneinfo/", 1)[1] if "/zoneinfo/" in target else ""


_EPOCH = dt.datetime(1970, 1, 1)


class LibcZone(dt.tzinfo):
    """The zone the C library's localtime follows for the TZ of the moment, DST rules included:
    for a POSIX rule in TZ, which no tz database file names (the standard library parses no such
    rule; dateutil's tzstr does, but reads 'UTC+3' against POSIX unless told, and the C library's
    reading is the one every other local time here has). Naive ``timestamp()`` is CPython's
    mktime with PEP 495 fold: an ambiguous wall time is its first instant at fold=0, its second
    at fold=1, and a wall time in a gap takes the offset before the change at fold=0 and after it
    at fold=1, as zoneinfo does."""

    def utcoffset(self, d: dt.datetime | None) -> dt.timedelta | None:
        return None if d is None else dt.timedelta(seconds=self._offset_and_time(d)[0])

    def dst(self, d: dt.datetime | None) -> dt.timedelta | None:
        if d is None:
            return None
        offset, tm = self._offset_and_time(d)
        return dt.timedelta(seconds=offset + time.timezone) if tm.tm_isdst > 0 else dt.timedelta(0)

    def tzname(self, d: dt.datetime | None) -> str | None:
        return None if d is None else self._offset_and_time(d)[1].tm_zone

    def fromutc(self, d: dt.datetime) -> dt.datetime:
        """The wall time of UTC ``d``, fold=1 where it is the second pass of an ambiguous hour."""
        u = (d.replace(tzinfo=None) - _EPOCH) // dt.timedelta(seconds=1)
        wall = dt.datetime(*time.localtime(u)[:6], d.microsecond, tzinfo=self)
        first = wall.replace(tzinfo=None, microsecond=0).timestamp()
        return wall if first == u else wall.replace(fold=1)

    @staticmethod
    def _offset_and_time(d: dt.datetime) -> tuple[int, time.struct_time]:
        """(UTC offset s, localtime's fields with that offset) of the local wall time ``d``."""
        naive = d.replace(tzinfo=None, microsecond=0)
        u = int(naive.timestamp())
        offset = (naive - _EPOCH) // dt.timedelta(seconds=1) - u
        tm = time.localtime(u)
        if tm.tm_gmtoff != offset:
            # In a gap the instant lies on the other side of the change from the offset it was found
            # with: that side's name and DST flag are a day off (no two changes are a day apart).
            tm = time.localtime(u + (86400 if d.fold else -86400))
        return offset, tm


@dataclass(frozen=True)
class SinceBoot:
    """A reading the wall clock's steps do not move: this computer's boot (``boot_id``) and the
    seconds since it (``s``, on the wall's scale). Within one boot, ``wall - s`` changes only when
    the wall is stepped (NTP, a user, a hardware clock read again): a sync point stored with it
    tells, later, whether the clock it was made on has been stepped since (docs/host.md "Time")."""

    boot_id: str
    s: float

    def later(self, seconds: float) -> SinceBoot:
        """The same boot's reading ``seconds`` (wall scale) after this one."""
        return SinceBoot(self.boot_id, self.s + seconds)


BOOT_ID_PATH = Path("/proc/sys/kernel/random/boot_id")


@functools.cache
def _kernel_boot_id() -> str | None:
    """Linux's id of this boot (a new one at every boot of the computer); None elsewhere."""
    try:
        return BOOT_ID_PATH.read_text().strip() or None
    except OSError:
        return None


def _kernel_since_boot() -> tuple[str, float] | None:
    """(boot id, CLOCK_BOOTTIME s): real seconds since this computer booted, suspend included, run
    at the rate NTP slews the wall to but never stepped with it. None off Linux."""
    boot_id, which = _kernel_boot_id(), getattr(time, "CLOCK_BOOTTIME", None)
    if boot_id is None or which is None:
        return None
    return boot_id, time.clock_gettime(which)


class Clock(Protocol):
    """What the daemon reads time from: the wall, a mono that never jumps, and the wall's rate."""

    @property
    def rate(self) -> float:
        """Wall seconds per real second (1.0 for the real clock). ``mono`` stays real so timeouts
        hold; ``mono() * rate`` is a real clock on the wall's scale (the raw samples' rate fit)."""
        ...

    def wall(self) -> float:
        """Unix seconds."""
        ...

    def mono(self) -> float:
        """Real seconds that never jump (timeouts, staleness)."""
        ...

    def since_boot(self) -> SinceBoot | None:
        """This computer's boot and the seconds since it on the wall's scale, which the wall's
        steps do not move (None: this computer gives none; syncs are then placed as they were made)."""
        ...


class SystemClock:
    rate = 1.0  # the wall runs with real time

    def wall(self) -> float:
        """Unix seconds."""
        return time.time()

    def mono(self) -> float:
        """Seconds that never jump (timeouts, staleness)."""
        return time.monotonic()

    def since_boot(self) -> SinceBoot | None:
        """The kernel's boot id and CLOCK_BOOTTIME."""
        k = _kernel_since_boot()
        return None if k is None else SinceBoot(*k)


@dataclass
class ScaledClock:
    """``start_wall`` at real time ``real_start`` (default: now), then ``rate`` x faster.

    Two processes given the same ``real_start`` share one clock: a daemon
    restarted next to a simulated band keeps the band's time base. Its
    ``since_boot`` is the computer's CLOCK_BOOTTIME x ``rate``, whatever the start:
    it goes on across the daemon's restarts, also those whose ``start_wall`` and
    ``real_start`` were shifted to jump the wall (bench/faults.py), as a real
    since-boot reading goes on across the real wall's steps.
    """

    start_wall: float
    rate: float = 1.0
    real_start: float = field(default_factory=time.time)

    def wall(self) -> float:
        return self.start_wall + (time.time() - self.real_start) * self.rate

    def mono(self) -> float:
        return time.monotonic()

    def since_boot(self) -> SinceBoot | None:
        k = _kernel_since_boot()
        # The id names the rate too: readings at another rate are on another scale.
        return None if k is None else SinceBoot(f"{k[0]} x{self.rate:g}", k[1] * self.rate)
