"""The daily summary any time: ``spasmwatch summary`` (the real CLI as a subprocess on a store on
disk) and ``GET /api/summary`` (a real Daemon behind the real HttpServer). The page's card is in
tests/web/test_web_page.py."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from synthetic import HandClock

from spasmwatch.alerts import AlertSettings
from spasmwatch.commands._daemon import hm
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.daemon.http import HttpServer
from spasmwatch.daemon.session import BandInfo
from spasmwatch.store import Store

from .test_daily_summary import DEV, EXPECTED, PARIS, _fill, _t

TITLE = "Daily summary: 2 clusters in 24 h ({name})"
FACTS = {
    "device": DEV, "clusters": 2, "cluster_starts": [_t(14, 21, 5), _t(15, 6, 10)], "spasms": 30, "cluster_spasms": 16, "worn_h": 11.0, "quiet_days": None,
    # the band first heard 01-14 08:00: no hour in the week before the start, 11 h in the 3 days after,
    # in which the 14 single movements came; the 7 clusters of those days were in none of its hours
    # (before 2026-12-06 a side counted them: 7 clusters of hours not monitored)
    "treatments": [{"drug": "vigabatrin", "days_ago": 4, "stopped_days_ago": None, "comparable": False,
                    "before": {"days": 7, "monitored_h": 0.0, "clusters": 0, "spasms": 0},
                    "after": {"days": 3, "monitored_h": 11.0, "clusters": 0, "spasms": 14},
                    "clusters_per_24h_before": None, "clusters_per_24h_after": None}],
    "since": _t(14, 7, 30), "until": _t(15, 7, 30), "text": EXPECTED,
}  # fmt: skip


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, TZ="Europe/Paris")  # the family's zone: the clock times in the text
    env.pop("SPASMWATCH_DATA_DIR", None)
    return subprocess.run([sys.executable, "-m", "spasmwatch", "summary", *args], capture_output=True, text=True, timeout=60, env=env)


def _filled(tmp_path: Path) -> Path:
    path = tmp_path / "spasmwatch.db"
    with Store(path) as store:
        _fill(store)
    return path


def test_the_command_prints_the_daily_summary_words_from_the_store_without_a_daemon(tmp_path: Path) -> None:
    """A family saw the summary only when the morning push came. 'spasmwatch summary' prints the
    same title and text, read-only, with no daemon and no daily_summary configured; titled as the
    daemon titles it, with the config's label for the band, else its name (by --config), else, with
    --db (no config read), the name the band is stored under (here 'cot'; the device id until
    2026-12-05)."""
    db = _filled(tmp_path)
    before = db.stat().st_mtime_ns
    by_db = _cli("--db", str(db), "--at", "2027-01-15T07:30")
    assert by_db.returncode == 0, by_db.stderr
    assert by_db.stdout == f"{TITLE.format(name='cot')}\n{EXPECTED}\n", by_db.stdout
    config = tmp_path / "config.toml"
    config.write_text(f'[daemon]\ndata_dir = "{tmp_path}"\n\n[[bands]]\nname = "cot"\nlabel = "Mila"\n')
    by_config = _cli("--config", str(config), "--device", DEV, "--at", "2027-01-15T07:30")
    assert by_config.returncode == 0, by_config.stderr
    assert by_config.stdout == f"{TITLE.format(name='Mila')}\n{EXPECTED}\n", by_config.stdout
    # Found by the docs run: without a label the daemon titles its summary with the band's name
    # ('cot', test_the_route_gives_...), and the command, said to print the same, gave the device id.
    config.write_text(f'[daemon]\ndata_dir = "{tmp_path}"\n\n[[bands]]\nname = "cot"\n')
    unlabelled = _cli("--config", str(config), "--at", "2027-01-15T07:30")
    assert unlabelled.returncode == 0, unlabelled.stderr
    assert unlabelled.stdout == f"{TITLE.format(name='cot')}\n{EXPECTED}\n", unlabelled.stdout
    assert db.stat().st_mtime_ns == before, "the command wrote to the store"


def test_the_command_json_gives_the_facts_one_object_per_band(tmp_path: Path) -> None:
    db = _filled(tmp_path)
    r = _cli("--db", str(db), "--at", "2027-01-15T07:30", "--json")
    assert r.returncode == 0, r.stderr
    [line] = r.stdout.splitlines()
    got = json.loads(line)
    assert {k: got[k] for k in FACTS} == FACTS, got
    assert (got["device"], got["name"], got["title"]) == (DEV, "cot", TITLE.format(name="cot")), got


def test_an_unknown_band_is_named_and_an_empty_store_says_so(tmp_path: Path) -> None:
    db = _filled(tmp_path)
    typo = _cli("--db", str(db), "--device", "cot001")
    assert typo.returncode == 2 and typo.stdout == "", typo
    assert f"--device: no band 'cot001' in {db}; it holds {DEV}" in typo.stderr, typo.stderr
    empty = tmp_path / "empty.db"
    Store(empty).close()
    r = _cli("--db", str(empty))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"no band in the store {empty} yet: nothing to summarise"), r.stdout
    missing = _cli("--db", str(tmp_path / "none.db"))
    assert missing.returncode == 2 and "no store at" in missing.stderr, missing.stderr


def test_a_day_after_the_last_the_store_holds_is_said_to_have_no_data(tmp_path: Path) -> None:
    """Found by the CLI input audit: '--at 2999-01-01' (a year mistyped) printed each band's 24 h as
    'not monitored (no data from the band): nothing was counted', exit 0, as if the band had failed
    that day. Now 24 h after the last a band was heard are said to hold no data, with when that last
    was, for a day still to come by this computer's clock too (a past day after the bands went quiet
    is "not monitored": tests/daemon/test_zone_history.py). '--at 9999-12-31' is past what a clock
    gives (said so already, exit 2)."""
    db = _filled(tmp_path)
    with Store.open_readonly(db) as store:
        [band] = store.devices()
    for at in ("2999-01-01", "9999-12-30T12:00"):  # (days to come by any clock this test runs under)
        r = _cli("--db", str(db), "--at", at)
        assert r.returncode == 0 and "Traceback" not in r.stderr, r
        assert r.stdout.startswith(f"no data in the store {db} for the 24 h up to --at {at} ("), r.stdout
        assert f"the latest it holds is from {hm(band.last_seen_wall_s, PARIS)}: nothing to summarise" in r.stdout, r.stdout
        assert "not monitored" not in r.stdout, r.stdout
    far = _cli("--db", str(db), "--at", "9999-12-31")
    assert far.returncode == 2 and "is beyond the dates a computer's clock can give" in far.stderr, far.stderr
    within = _cli("--db", str(db), "--at", "2027-01-16T06:00")  # 24 h that reach back to the band's last: summarised
    assert within.returncode == 0 and within.stdout.startswith("Daily summary: "), within


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def test_the_route_gives_each_band_s_summary_from_a_real_daemon(tmp_path: Path) -> None:
    """GET /api/summary through HttpServer: the daemon's words at its clock's now (daily_summary
    not configured), gathered on a read-only connection in a worker thread."""

    async def main() -> None:
        with Store(tmp_path / "db.sqlite") as store:
            _fill(store)
            clock = HandClock(_t(15, 7, 30))
            d = Daemon(store, [BandSpec("cot", lambda: None)], {}, [], AlertSettings(tz=PARIS), clock=clock, disconnect_alert_s=1e9)  # type: ignore[arg-type,return-value]
            info = BandInfo(DEV, "spasmwatch-band", "test", "sim", "sim:0", "sim")
            d.bands[0].session.info = info
            d.on_connected(info)
            http = HttpServer(d, host="127.0.0.1", port=0, clock=clock.wall)
            await http.start()
            try:
                [got] = await asyncio.to_thread(_get, http.url + "api/summary")
            finally:
                await http.stop()
                await d.dispatcher.close()
        assert {k: got[k] for k in FACTS} == FACTS, got
        assert (got["name"], got["title"]) == ("cot", TITLE.format(name="cot")), got

    asyncio.run(asyncio.wait_for(main(), 60))


def test_a_labelled_band_is_named_by_its_label_as_the_daemon_stored_it(tmp_path: Path) -> None:
    """The daemon stores a band under the name it calls it by (config.Band.title: the label, here
    'Mila', daemon.on_connected), not under the advertised name the config matches it by ('cot').
    band_names matched the stored name to the config's name only, so a labelled band's summary (and
    report) was titled with its device id. Here the store is written by a real Daemon built from
    the config (daemon.main.build) as 'spasmwatch run' builds it. Old code: the device id."""
    from spasmwatch.commands.summary import band_names
    from spasmwatch.config import load_config
    from spasmwatch.daemon.main import build

    config = tmp_path / "config.toml"
    config.write_text(f'[daemon]\ndata_dir = "{tmp_path}"\n\n[[bands]]\nname = "cot"\nlabel = "Mila"\n')
    cfg = load_config(config)

    async def main() -> None:
        with Store(cfg.store_path()) as store:
            _fill(store)
            d = build(cfg, store, clock=HandClock(_t(15, 7, 30)))
            info = BandInfo(DEV, "spasmwatch-band", "test", "sim", "AA:BB:CC:DD:EE:FF", "ble")
            d.bands[0].session.info = info
            d.on_connected(info)
            await d.dispatcher.close()
            assert band_names(cfg, store.devices()) == {DEV: "Mila"}

    asyncio.run(asyncio.wait_for(main(), 60))
    r = _cli("--config", str(config), "--at", "2027-01-15T07:30")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(TITLE.format(name="Mila") + "\n"), r.stdout
    # A store on its own (--db: no config read) names the band as it was stored; was the device id.
    r = _cli("--db", str(cfg.store_path()), "--at", "2027-01-15T07:30")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(TITLE.format(name="Mila") + "\n"), r.stdout
