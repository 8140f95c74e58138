"""clock.local_zone: this computer's zone (TZ, else /etc/localtime) as the daemon, 'report'
and 'export' word local times in; docs/host.md "Time"."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from spasmwatch import clock
from spasmwatch.clock import local_zone
from tzenv import set_tz

RULE = "CET-1CEST,M3.5.0,M10.5.0/3"  # Berlin's rules as a POSIX TZ string (some Pi images, containers)
BERLIN = ZoneInfo("Europe/Berlin")


def _utc(*args: int) -> float:
    return datetime(*args, tzinfo=timezone.utc).timestamp()


def test_a_posix_rule_gives_each_season_its_offset(tz_env: pytest.MonkeyPatch) -> None:
    """Found by review: under a POSIX rule local_zone was the rule's offset on the day it ran, so a
    July time read in December was an hour off (an EDF+ start, a quiet hour, a daily summary)."""
    set_tz(tz_env, RULE)
    zone = local_zone()
    jan, jul = datetime.fromtimestamp(_utc(2024, 1, 10, 12), zone), datetime.fromtimestamp(_utc(2024, 7, 10, 12), zone)
    assert (jan.hour, jan.utcoffset(), jan.dst(), jan.tzname()) == (13, timedelta(hours=1), timedelta(0), "CET")
    assert (jul.hour, jul.utcoffset(), jul.dst(), jul.tzname()) == (14, timedelta(hours=2), timedelta(hours=1), "CEST")
    # and back: a local wall time read in the zone is the instant it names
    assert datetime(2024, 7, 10, 14, tzinfo=zone).timestamp() == _utc(2024, 7, 10, 12)


@pytest.mark.parametrize("day", [(2024, 3, 31), (2024, 10, 27)], ids=["spring gap", "autumn fold"])
def test_a_posix_rule_is_read_as_zoneinfo_reads_the_named_zone_across_a_change(tz_env: pytest.MonkeyPatch, day: tuple[int, int, int]) -> None:
    """Every quarter hour of a change day, as instants (wall time, fold, offset, name) and as wall
    times (fold 0 and 1, an ambiguous hour's two passes and a gap's two readings), the rule gives
    what zoneinfo gives for Europe/Berlin, the zone it spells."""
    set_tz(tz_env, RULE)
    zone = local_zone()
    start = _utc(*day) - 3 * 3600
    for q in range(4 * 30):
        t = start + q * 900
        mine, theirs = datetime.fromtimestamp(t, zone), datetime.fromtimestamp(t, BERLIN)
        assert (mine.replace(tzinfo=None), mine.fold, mine.utcoffset(), mine.tzname()) == (
            theirs.replace(tzinfo=None), theirs.fold, theirs.utcoffset(), theirs.tzname()
        ), datetime.fromtimestamp(t, timezone.utc)
    for q in range(4 * 6):  # 00:00 to 05:45 local: the gap's or the fold's wall times among them
        for fold in (0, 1):
            wall = (datetime(*day) + timedelta(minutes=15 * q)).replace(fold=fold)  # arithmetic resets fold
            ours, want = wall.replace(tzinfo=zone), wall.replace(tzinfo=BERLIN)
            assert (ours.utcoffset(), ours.dst(), ours.tzname(), ours.timestamp()) == (
                want.utcoffset(), want.dst(), want.tzname(), want.timestamp()
            ), wall


BERLIN_FILE = Path("/usr/share/zoneinfo/Europe/Berlin")


def _localtime_is(env: pytest.MonkeyPatch, path: Path) -> None:
    """The file taken for /etc/localtime (this computer's own is UTC, which would hide a reading of it)."""
    env.setattr(clock, "LOCALTIME", path)


def test_an_empty_tz_is_utc_as_for_the_c_library(tz_env: pytest.MonkeyPatch) -> None:
    """TZ set but empty is UTC to glibc and musl (time.localtime), not /etc/localtime: local_zone
    read /etc/localtime, so the commands' local times and C's parted (old code: Berlin here, though
    on this computer, whose /etc/localtime is UTC, only with LOCALTIME set)."""
    _localtime_is(tz_env, BERLIN_FILE)
    set_tz(tz_env, "")
    t = _utc(2024, 7, 10, 12)
    assert time.localtime(t).tm_gmtoff == 0
    assert clock.resolve_local_zone() == (timezone.utc, None)
    tz_env.delenv("TZ")
    assert clock.resolve_local_zone() == (ZoneInfo("Europe/Berlin"), None)  # unset: /etc/localtime


def test_a_tz_of_a_colon_alone_is_utc_as_for_the_c_library(tz_env: pytest.MonkeyPatch) -> None:
    """TZ=':' is the empty name after the colon: UTC to glibc (tzfile.c: an empty name is UTC, not
    /etc/localtime; measured with Berlin's file bound over /etc/localtime: 'date' says +0000) and to
    musl. local_zone read /etc/localtime, so the daemon's pushes and the commands said Berlin while
    C's local times (the log's) were UTC. Old code: Berlin."""
    _localtime_is(tz_env, BERLIN_FILE)
    set_tz(tz_env, ":")
    assert clock.resolve_local_zone() == (timezone.utc, None)


@pytest.mark.parametrize(
    ("tz", "note"),
    [
        ("Europe/Berlinn", "TZ=Europe/Berlinn: not a time zone this computer knows (e.g. Europe/Berlin); times are in UTC"),
        ("Berlin", "TZ=Berlin: not a time zone this computer knows (e.g. Europe/Berlin); times are in UTC"),
        ("/nonexistent/Europe/Berlin", "TZ=/nonexistent/Europe/Berlin: no time zone file there; times are in UTC"),
        (None, "/nonexistent/localtime: no time zone file there; times are in UTC"),
    ],
    ids=["misspelt", "no region", "no file", "no /etc/localtime"],
)
def test_a_setting_that_names_no_zone_is_utc_and_says_so(tz_env: pytest.MonkeyPatch, tz: str | None, note: str) -> None:
    """Found by review: a misspelt TZ, a TZ path that is not there or a missing /etc/localtime
    silently meant UTC (as to the C library): the family's times an hour or more off, unsaid."""
    _localtime_is(tz_env, Path("/nonexistent/localtime"))
    if tz is None:
        tz_env.delenv("TZ", raising=False)
    else:
        set_tz(tz_env, tz)
    assert clock.resolve_local_zone() == (timezone.utc, note)


@pytest.mark.parametrize("how", ["TZ path", "dangling /etc/localtime link"])
def test_a_zone_file_path_that_names_a_zone_but_is_not_there_is_utc_and_says_so(tz_env: pytest.MonkeyPatch, tmp_path: Path, how: str) -> None:
    """Review of the zone-file wait: a path with '/zoneinfo/' in it was named by its tail and the
    tz database's zone of that name taken, whether or not a file was there: TZ=/x/zoneinfo/Europe/Berlin,
    or /etc/localtime linked to a zone file since removed (tzdata removed; its link left), was
    Berlin to the daemon and the commands, UTC to C, and the zone-file wait never began (the
    daemon kept Berlin for good). Old code: Europe/Berlin, no note."""
    missing = tmp_path / "zoneinfo" / "Europe" / "Berlin"
    if how == "TZ path":
        set_tz(tz_env, str(missing))
        note = f"TZ={missing}: no time zone file there; times are in UTC"
    else:
        tz_env.delenv("TZ", raising=False)
        link = tmp_path / "localtime"
        link.symlink_to(missing)
        _localtime_is(tz_env, link)
        note = f"{link}: no time zone file there; times are in UTC"
    assert clock.resolve_local_zone() == (timezone.utc, note)


def test_a_zone_file_outside_the_tz_database_is_read(tz_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """TZ=/path/to/a/copied/file: its rules, under no zone name (the EDF+ header gives its offset only)."""
    copy = tmp_path / "zone"
    copy.write_bytes(BERLIN_FILE.read_bytes())
    set_tz(tz_env, str(copy))
    zone, note = clock.resolve_local_zone()
    assert note is None and datetime.fromtimestamp(_utc(2024, 7, 10, 12), zone).utcoffset() == timedelta(hours=2)


@pytest.mark.parametrize(
    ("zone", "a", "b", "want"),
    [
        ("Europe/Berlin", _utc(2026, 3, 28), _utc(2026, 3, 30), [(_utc(2026, 3, 29, 1), 1, 2)]),
        ("Europe/Berlin", _utc(2026, 1, 1), _utc(2027, 1, 1), [(_utc(2026, 3, 29, 1), 1, 2), (_utc(2026, 10, 25, 1), 2, 1)]),
        ("America/New_York", _utc(2026, 11, 1, 5, 59, 59), _utc(2026, 11, 1, 6, 0, 1), [(_utc(2026, 11, 1, 6), -4, -5)]),
        ("Europe/Berlin", _utc(2026, 4, 1), _utc(2026, 10, 25, 1), []),  # the change at the range's end is outside it
        ("UTC", _utc(2026, 1, 1), _utc(2027, 1, 1), []),
    ],
)
def test_offset_changes_gives_each_change_to_the_second(zone: str, a: float, b: float, want: list[tuple[float, int, int]]) -> None:
    """The instants in [a, b) where the zone's UTC offset changes (the first second on the new one),
    with the offsets before and after (h), as zoneinfo has them."""
    got = [(t, before / timedelta(hours=1), after / timedelta(hours=1)) for t, before, after in clock.offset_changes(ZoneInfo(zone), a, b)]
    assert got == want


def test_offset_changes_follows_a_posix_rule(tz_env: pytest.MonkeyPatch) -> None:
    set_tz(tz_env, RULE)
    got = clock.offset_changes(local_zone(), _utc(2026, 10, 24), _utc(2026, 10, 26))
    assert got == [(_utc(2026, 10, 25, 1), timedelta(hours=2), timedelta(hours=1))]


def test_a_copied_zone_file_is_named_by_the_zone_it_copies(tz_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Zone review: /etc/localtime copied, not linked (some images; a container given the host's file)
    named no zone, so the store recorded 'localtime' and the doctor read 'The monitor ran in
    localtime'. The tz database zone with the same bytes names it now, by TZ=path and as /etc/localtime.
    A file no zone has (here Berlin's with its autumn change an hour later) is named by its rule and said by
    its offsets. Old code: 'localtime' for both."""
    copy = tmp_path / "localtime"
    copy.write_bytes(BERLIN_FILE.read_bytes())
    set_tz(tz_env, str(copy))
    assert clock.zone_name(local_zone()) == "Europe/Berlin"
    tz_env.delenv("TZ")
    _localtime_is(tz_env, copy)
    assert clock.zone_name(local_zone()) == "Europe/Berlin"
    copy.write_bytes(Path("/usr/share/zoneinfo/Etc/UTC").read_bytes())  # one file, links UCT, Zulu, ...
    assert clock.zone_name(local_zone()) == "Etc/UTC"
    data = BERLIN_FILE.read_bytes()
    assert data.endswith(b"M10.5.0/3\n")
    copy.write_bytes(data[:-2] + b"4\n")
    zone = local_zone()
    assert clock.zone_name(zone) == "CET-1CEST,M3.5.0,M10.5.0/4"  # its rule (was 'localtime': test_zone_history)
    assert clock.said_zone_of(zone, _utc(2026, 1, 1)) == "UTC+01/UTC+02"


@pytest.mark.parametrize(
    ("name", "said"),
    [
        (RULE, "UTC+01/UTC+02"),
        ("EST5EDT,M3.2.0,M11.1.0", "UTC-05/UTC-04"),
        ("<+0330>-3:30", "UTC+0330"),
        ("IST-5:30", "UTC+0530"),
        ("<-03>3", "UTC-03"),
        ("localtime", "an unnamed time zone"),
        ("Europe/Berlin", "Europe/Berlin"),
        ("EST5EDT", "EST5EDT"),  # a tz database zone by that name, not read as a rule
        ("UTC", "UTC"),
    ],
)
def test_a_recorded_zone_is_said_as_a_doctor_reads_it(name: str, said: str) -> None:
    """A zone recorded as a POSIX rule or as 'localtime' (stores written before names were found by
    content) went to the doctor as that raw string. Old code: no said_zone_name."""
    assert clock.said_zone_name(name) == said


_EVERY_PREFIX = """
import sys
from pathlib import Path
from spasmwatch import clock
path, zones = Path(sys.argv[1]), Path("/usr/share/zoneinfo")
clock.LOCALTIME = path
berlin = (zones / "Europe/Berlin").read_bytes()
seen = set()
for data in [berlin, *(berlin[:n] for n in range(len(berlin))), (zones / "America/New_York").read_bytes(), b""]:
    path.write_bytes(data)
    zone, note = clock.resolve_local_zone()
    seen.add((len(data) == len(berlin), clock.zone_name(zone), note))
print(sorted(seen, key=str))
"""


def test_a_zone_file_being_replaced_keeps_the_zone_last_read_whole(tz_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Zone fix review: /etc/localtime copied over (``cp`` truncates it, then writes it) read while it
    was written was UTC (Berlin's first 100 bytes), and the daemon's minute check recorded a trip
    to UTC and back. Every prefix of Berlin's file now reads as the zone last read whole, New York's
    whole file as New York, and a file emptied after it as New York. Run in a child (its own
    clock state; old code there: struct.error at 5 bytes, and with that caught, zoneinfo's reader
    looping for ever on the 27 prefixes that end inside the rule's last line)."""
    tz_env.delenv("TZ", raising=False)
    done = subprocess.run([sys.executable, "-c", _EVERY_PREFIX, str(tmp_path / "localtime")], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str([(False, "America/New_York", None), (False, "Europe/Berlin", None), (True, "Europe/Berlin", None)])
    assert "is no time zone file now (being replaced?): times stay in Europe/Berlin" in done.stderr
    assert done.stderr.count("is no time zone file now") == 2  # once a spell: Berlin's prefixes, then the emptied file


@pytest.mark.parametrize(
    ("rule", "said"),
    [("<+24>-24", "UTC+24"), ("<-24>24", "UTC-24"), ("XXX-24:59:59", "UTC+2459"), ("<+2330>-23:30<+2430>", "UTC+2330/UTC+2430")],
    ids=["+24", "-24", "24:59:59", "DST at 24:30"],
)
def test_a_posix_rule_of_a_day_s_offset_or_more_is_utc_and_says_so(tz_env: pytest.MonkeyPatch, rule: str, said: str) -> None:
    """POSIX lets a rule's hours reach 24 and glibc reads up to 24:59:59 ('<+24>-24' is its date a
    day ahead of UTC's), but no Python time holds an offset of a day or more: every local time read
    in it raised ValueError ('offset must be a timedelta strictly between ...'), so 'report' and
    'summary' ended in that, and the daemon's pushes would have. Such a rule is UTC, said naming it,
    as a TZ that names no zone is. Old code: a LibcZone, and the ValueError at its first time."""
    set_tz(tz_env, rule)
    assert clock.resolve_local_zone() == (
        timezone.utc, f"TZ={rule}: a UTC offset of a day or more ({said}), which times here cannot hold; times are in UTC")
    assert clock.recorded_zone(rule) is None  # as recorded by an older daemon: compared by name, said by its offsets
    assert clock.said_zone_name(rule) == said


@pytest.mark.parametrize(
    ("rule", "note"),
    [
        ("UTC+0830", "UTC-24"),  # 'UTC+08:30' meant; glibc reads 830 hours, then holds them to 24
        ("UTC+123", "UTC-24"),
        ("<+0530>-0530", "UTC+24"),
    ],
    ids=["UTC+0830", "3 digits", "quoted +0530"],
)
def test_a_rule_whose_hours_glibc_holds_to_24_is_utc_and_says_so_not_a_crash(tz_env: pytest.MonkeyPatch, rule: str, note: str) -> None:
    """Review of the day's-offset fix: glibc reads a rule's hours as every digit there is and holds
    them to 24 ('UTC+0830' is UTC-24 to ``date``), where the rule reader took at most 2 digits and the
    rule to its end: such a TZ was followed (a LibcZone) and the first local time read in it raised
    ValueError, a traceback from 'report', 'summary' and the daemon. Old code: a LibcZone."""
    set_tz(tz_env, rule)
    assert time.localtime(0).tm_gmtoff in (86_400, -86_400)  # as glibc reads it: a day
    assert clock.resolve_local_zone() == (
        timezone.utc, f"TZ={rule}: a UTC offset of a day or more ({note}), which times here cannot hold; times are in UTC")


@pytest.mark.parametrize("rule", ["UTC+1:99", "UTC-5:30:99"])
def test_a_rule_is_said_by_the_offsets_glibc_reads_in_it(tz_env: pytest.MonkeyPatch, rule: str) -> None:
    """glibc holds a rule's minutes and seconds to 59 ('UTC+1:99' is UTC-01:59): the name it is said
    by gives the offset every local time here is read in (LibcZone). Old code: 'UTC-0239'."""
    set_tz(tz_env, rule)
    zone, note = clock.resolve_local_zone()
    t = _utc(2026, 6, 1)
    offset = time.localtime(t).tm_gmtoff
    assert note is None and datetime.fromtimestamp(t, zone).utcoffset() == timedelta(seconds=offset)
    assert clock.said_zone_name(clock.zone_name(zone)) == clock.utc_offset_text(offset)


@pytest.mark.parametrize("rule", ["UTC+1!!", "UTC+30!!", "<+01>-1!"])
def test_a_rule_with_a_tail_that_is_no_rule_is_utc_and_says_so(tz_env: pytest.MonkeyPatch, rule: str) -> None:
    """A TZ that starts as a rule and goes on as none: glibc reads it as no one rule ('UTC+1!!' is
    UTC-01 at 1970, UTC now; 'UTC+30!!' a day back at 1970), so it is not followed but said, as a TZ
    that names no zone. Old code: a LibcZone, said by its raw text; for 'UTC+30!!' a ValueError at
    the first time read before 1971."""
    set_tz(tz_env, rule)
    assert clock.resolve_local_zone() == (
        timezone.utc, f"TZ={rule}: not a time zone this computer knows (e.g. Europe/Berlin); times are in UTC")


_READ_IN_A_CHILD = """
import resource, sys
from pathlib import Path
resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))  # /dev/zero read whole: MemoryError, not the machine's memory
from spasmwatch import clock
clock.LOCALTIME = Path(sys.argv[1])  # not TZ: the C library reads that at the start, and a FIFO holds it there
print(clock.resolve_local_zone())
"""


@pytest.mark.parametrize("kind", ["fifo", "/dev/zero", "folder", "too big"])
def test_a_zone_file_that_is_no_file_of_a_zone_s_size_is_utc_not_a_hang(tz_env: pytest.MonkeyPatch, tmp_path: Path, kind: str) -> None:
    """Review of the zone-file wait: an /etc/localtime (or a TZ path) that became a FIFO after the
    daemon started held its reader for ever in read() (the daemon's tick, every alarm with it),
    /dev/zero was read until the memory ran out, a file far bigger than any zone file (the largest,
    right/'s, ~4 KB) read whole at each check. Only a regular file of at most ZONE_FILE_MAX_BYTES is
    read; anything else (a folder too, as before) is no time zone file there, UTC, said. Old code:
    the FIFO's child timed out, /dev/zero's died of MemoryError, the big file was read as Berlin."""
    path = {"fifo": tmp_path / "fifo", "/dev/zero": Path("/dev/zero"), "folder": tmp_path, "too big": tmp_path / "big"}[kind]
    if kind == "fifo":
        os.mkfifo(path)
    if kind == "too big":  # a zone file's bytes, then padding past the cap (zoneinfo reads no further than its end)
        path.write_bytes(BERLIN_FILE.read_bytes() + bytes(clock.ZONE_FILE_MAX_BYTES))
    env = {k: v for k, v in os.environ.items() if k != "TZ"}
    done = subprocess.run([sys.executable, "-c", _READ_IN_A_CHILD, str(path)], capture_output=True, text=True, timeout=20, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == repr((timezone.utc, f"{path}: no time zone file there; times are in UTC"))


_UNREADABLE_AT_THE_START = """
import os, pwd, subprocess, sys
from pathlib import Path
from spasmwatch import clock
clock.LOCALTIME = Path(sys.argv[1])
clock.LOCALTIME.chmod(0)
print(pwd.getpwuid(os.geteuid()).pw_name)
print(clock.resolve_local_zone())
# The C library's reading of the same TZ, in a process started now (this one's read TZ at its start,
# while the file was readable, and glibc's tzset reads it again only when TZ changes)
print(subprocess.run(["date", "+%z"], capture_output=True, text=True, check=True).stdout.strip())
"""


def _as_the_file_s_owner(script: str, tz_path: bool) -> tuple[subprocess.CompletedProcess[str], Path]:
    """``script`` run in a child with a copy of Berlin's zone file as argv[1] (and as TZ where
    ``tz_path``), the file its own to make unreadable: root reads any file, so under root the child
    runs as nobody, the file given to it."""
    folder = Path(tempfile.mkdtemp(prefix="spasmwatch-unreadable-zone-"))
    try:
        folder.chmod(0o755)  # the way to it open to the child's account
        zone_file = folder / "zone"
        zone_file.write_bytes(BERLIN_FILE.read_bytes())
        as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] if os.geteuid() == 0 else []
        if as_nobody:
            shutil.chown(zone_file, "nobody", "nogroup")
        env = {k: v for k, v in os.environ.items() if k != "TZ"}
        if tz_path:
            env["TZ"] = str(zone_file)
        done = subprocess.run([*as_nobody, sys.executable, "-c", script, str(zone_file)], capture_output=True, text=True, timeout=60, env=env)
    finally:
        shutil.rmtree(folder)
    assert done.returncode == 0, done.stderr
    return done, zone_file


@pytest.mark.parametrize("how", ["TZ path", "/etc/localtime"])
def test_a_zone_file_this_account_may_not_read_is_utc_said_as_such(how: str) -> None:
    """Review h42: a zone file that is there but that the account may not read (a copied
    /etc/localtime left mode 600 by root, the daemon run as its own user) was said to be missing:
    'TZ=/x/zone: no time zone file there; times are in UTC', sending the family to look for a file
    that is there. Now the note names the file and the denial, and the zone used, UTC: glibc reads such
    a TZ path as UTC too (measured, glibc 2.36: 'date +%z' says +0000, '%Z' empty; an unreadable
    /etc/localtime bound in a mount namespace: UTC, +0000). Old code: 'no time zone file there' for both."""
    done, zone_file = _as_the_file_s_owner(_UNREADABLE_AT_THE_START, tz_path=how == "TZ path")
    account, resolved, c_offset = done.stdout.splitlines()
    what = f"TZ={zone_file}" if how == "TZ path" else str(zone_file)
    note = f"{what}: this account ({account}) may not read it (permission denied); times are in UTC"
    assert resolved == repr((timezone.utc, note))
    if how == "TZ path":  # C reads this one (the other, /etc/localtime's own, only in the docstring)
        assert c_offset == "+0000"


_UNREADABLE_WHILE_RUNNING = """
import logging, sys
from pathlib import Path
logging.basicConfig(level=logging.INFO, format="%(message)s")
from spasmwatch import clock
clock.LOCALTIME = Path(sys.argv[1])
print(clock.resolve_local_zone(0.0))
clock.LOCALTIME.chmod(0)  # made unreadable while the daemon runs
print(clock.resolve_local_zone(1.0))
print(clock.resolve_local_zone(1.0 + clock.ZONE_FILE_GONE_S))
"""


def test_a_zone_file_made_unreadable_while_running_is_said_as_such_not_as_being_replaced() -> None:
    """Review h42: an /etc/localtime the daemon read well, then made unreadable to its account (a
    chmod), was logged as '... is no time zone file now (being replaced?)', then '... has been no time
    zone file for 10 s'. Its zone is kept for the same wait (ZONE_FILE_GONE_S), then UTC, as C and
    the commands read it, each said with the denial. Old code: those two lines."""
    done, zone_file = _as_the_file_s_owner(_UNREADABLE_WHILE_RUNNING, tz_path=False)
    account = "nobody" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    denied = f"{zone_file}: this account ({account}) may not read it (permission denied)"
    berlin = repr((BERLIN, None))
    assert done.stdout.splitlines() == [berlin, berlin, repr((timezone.utc, f"{denied}; times are in UTC"))]
    assert done.stderr.splitlines() == [
        f"{denied}: times stay in Europe/Berlin, as last read there",
        f"{denied}, for {clock.ZONE_FILE_GONE_S:.0f} s: times are in UTC, as the C library and the commands read it",
    ]


@pytest.mark.parametrize(("hours", "said"), [(1, "UTC+01"), (-5, "UTC-05"), (5.5, "UTC+0530"), (-9.5, "UTC-0930"), (0, "UTC")])
def test_a_fixed_offset_zone_is_named_so_that_it_is_said_with_its_own_sign(hours: float, said: str) -> None:
    """Review of the offsets' form: a fixed-offset zone (datetime.timezone) was named by its str(),
    'UTC+01:00', which is also a POSIX rule ('UTC+01:00' in TZ is UTC-01, as glibc reads it), so the
    store, the page and the report would have said it with its sign flipped, and compared its clock
    against the rule's. None reaches the daemon today (TZ, /etc/localtime and --tz give tz database
    zones, rules and UTC); named as the rule that gives it ('<+01>-1:00'), none can be misread.
    Old code: 'UTC-01' for UTC+01, and no clock for it."""
    zone = timezone(timedelta(hours=hours))
    name = clock.zone_name(zone)
    assert clock.said_zone_name(name) == said
    assert clock.same_clock(name, zone, _utc(2026, 1, 1), _utc(2027, 1, 1))
    recorded = clock.recorded_zone(name)
    assert recorded is not None and datetime.fromtimestamp(0, recorded).utcoffset() == timedelta(hours=hours)


def test_a_zone_file_in_doubt_that_is_back_is_said_once(tz_env: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Review of the zone-file wait: a file found no zone file was logged as a WARNING ('being
    replaced?', or past ZONE_FILE_GONE_S 'times are in UTC'), and its return not at all: the log read
    as if the daemon stayed so (the store's row of the return is written only where the store takes
    it). Its return is said once a spell, naming the zone. Old code: no such line."""
    localtime = tmp_path / "localtime"
    _localtime_is(tz_env, localtime)
    tz_env.delenv("TZ", raising=False)
    caplog.set_level("INFO", logger="spasmwatch.clock")
    for gone_for_s in (0.0, clock.ZONE_FILE_GONE_S):  # a replace in flight, then a file gone for good
        localtime.write_bytes(BERLIN_FILE.read_bytes())
        assert clock.local_zone(0.0) == BERLIN
        localtime.unlink()
        clock.local_zone(0.0)
        assert clock.local_zone(gone_for_s) == (timezone.utc if gone_for_s else BERLIN)
        localtime.write_bytes(BERLIN_FILE.read_bytes())
        for _ in range(2):
            assert clock.local_zone(gone_for_s + 1) == BERLIN
    back = [r.getMessage() for r in caplog.records if "again" in r.getMessage()]
    assert back == [f"{localtime} is a time zone file again: times are in Europe/Berlin"] * 2, back
