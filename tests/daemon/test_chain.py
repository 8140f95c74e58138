"""The researcher's chain end to end (docs/real-recordings.md) on a band whose IMU runs 1 % fast:
a simulated morning with tap triples near its start and end (``simulate --taps``) played by the
real band firmware (micropython, ``--imu-odr-error-pct 1 --paced``) to the real daemon, which
streams raw into two parts cut at Berlin noon; ``taps`` on both parts at once; labels read off a
video clock 12.3 s late and 0.5 % fast lined up by ``truth --sync``; ``evaluate --parts``.

Truth: the simulated IMU takes sample k at virtual k / 50.5 s, and that is the recording's time
there (sim/hw.py ``CsvSource.at``): the simulator's own labels map onto the parts at file time
(k - index_origin) / 50. Tolerance 50 ms, for the labels against the simulator's (``taps``
reports a tap's first sample past its bar: about a sample after the touch) and for each live
EVENT against the same onset replayed from the parts: the parts' dating (the link's least
latency) and the event's (the sync, and the batch's read dating the sample after it, up to a
period later: 20 ms at 50 Hz) differ by under 40 ms at --speed 4 (docs/rawfile.md "Dating"). A
label then lands where the band's event puts that spasm but for the detector's own onset
estimate, which the replay measures against the simulator's (up to ~0.15 s either way).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from spasmwatch.alerts import AlertSettings, NoticeKind
from spasmwatch.io.rawboot import open_rawparts
from spasmwatch.store import Store
from swcore import protocol as P

from .conftest import SyncError, placed_by, rig

BERLIN = ZoneInfo("Europe/Berlin")
NOON = dt.datetime(2027, 1, 15, 12, tzinfo=BERLIN).timestamp()
DURATION_S, TAPS, SEED = 170.0, (10.0, 155.0), "3"  # a cluster of 8 at 96-141 s
PCT, SPEED, NOMINAL_HZ = 1.0, 4, 50.0
ACTUAL_HZ = NOMINAL_HZ * (1 + PCT / 100)
FAST, LATE_S = 1.005, 12.3  # the video's clock: 0.5 % fast, 12.3 s late
TOLERANCE_S = 0.050


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    got = subprocess.run([sys.executable, "-m", "spasmwatch", *args], capture_output=True, text=True, timeout=120)
    assert got.returncode == 0, (args, got.stderr)
    return got


def video(t: float) -> float:
    return FAST * t + LATE_S


def hms(t: float) -> str:
    ms = round(t * 1000)
    s, ms = divmod(ms, 1000)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}.{ms:03d}"


def _record(tmp: Path, csv: Path) -> tuple[list[Path], dict[int, SyncError]]:
    """The band plays ``csv`` to the daemon, which keeps its raw; noon 80 s after the daemon starts.
    Also each stored sync point's errors (Rig.sync_errors: how far the simulated band's clock stood
    behind its true time when it answered the exchange kept, and the daemon's stamp)."""
    syncs: dict[int, SyncError] = {}

    async def main() -> None:
        # A resync a minute: the connect's sync reads the simulated band's clock, which stands still
        # between its 200 ms batches, anywhere up to a batch behind (a real band's runs on); a resync
        # comes on a record's arrival, just after a batch (docs/rawfile.md "Dating").
        kw: dict[str, Any] = {"alert_settings": AlertSettings(tz=BERLIN), "resync_s": 60.0}
        band = ("--imu-odr-error-pct", str(PCT), "--paced")
        async with rig(tmp, csv, speed=SPEED, raw=True, band_args=band, start_wall=NOON - 80.0, **kw) as r:
            await r.wait_for(lambda: r.notices(NoticeKind.CLUSTER_ALARM), 120, "the alarm")
            st = lambda: r.store.latest_status("band0000")  # noqa: E731
            await r.wait_for(lambda: (s := st()) is not None and (s.uptime_s or 0) >= DURATION_S, 60, "the recording's end")
            syncs.update(r.sync_errors())

    asyncio.run(main())
    return sorted((tmp / "raw").glob("band0000-boot1-*.swraw")), syncs


def _copy(parts: list[Path], d: Path) -> list[Path]:
    d.mkdir()
    return [Path(shutil.copy(p, d / p.name)) for p in parts]


def _events_tsv(path: Path, rows: list[tuple[float, str, str]], clock: Any = hms) -> Path:
    path.write_text("onset\tduration\ttrial_type\n" + "".join(f"{clock(t)}\t{du}\t{k}\n" for t, du, k in sorted(rows)))
    return path


def test_taps_sync_and_evaluate_on_a_drifting_bands_parts(tmp_path: Path) -> None:
    started = time.monotonic()
    csv = tmp_path / "morning.csv"
    cli("simulate", str(csv), "--kind", "morning", "--duration-s", str(DURATION_S), "--rate", "100", "--seed", SEED,
        "--taps", ",".join(map(str, TAPS)), "--no-band-off", "--cluster-size", "6", "8")  # fmt: skip
    sim = json.loads(csv.with_suffix(".truth.json").read_text())
    parts, syncs = _record(tmp_path, csv)
    assert [p.name for p in parts] == ["band0000-boot1-000.swraw", "band0000-boot1-001.swraw"], parts
    rec = open_rawparts(parts)
    origin = rec.header.index_origin

    def file_t(tau: float) -> float:  # the simulator's time tau -> the parts' t
        return (tau * ACTUAL_HZ - origin) / NOMINAL_HZ

    # taps on both parts at once: one triple in each, where the simulator tapped
    found = [x["t"] for x in json.loads(cli("taps", *map(str, parts), "--json").stdout)["triples"]]
    assert len(found) == 2 and all(0 <= f - file_t(t) < 2 / NOMINAL_HZ for f, t in zip(found, TAPS)), (found, TAPS)

    # labels off the video's clock, lined up by the taps (the frame of each first touch)
    rows = [(video(s["t"]), f"{FAST * (s['end'] - s['t']):.3f}", "spasm") for s in sim["spasms"]]
    rows += [(video(w), "n/a", "wake") for w in sim["wake_onsets"]]
    labels = _events_tsv(tmp_path / "video_events.tsv", rows)
    synced_parts = _copy(parts, tmp_path / "synced")
    pairs = [f"--sync={hms(video(t))}={f:.3f}" for t, f in zip(TAPS, found)]
    cli("truth", *map(str, synced_parts), str(labels), *pairs)
    synced = json.loads((synced_parts[0].parent / "band0000-boot1-000-001.truth.json").read_text())

    # the simulator's own truth mapped onto the parts, through the same `truth`
    mapped_parts = _copy(parts, tmp_path / "mapped")
    rows = [(file_t(s["t"]), f"{(s['end'] - s['t']) * ACTUAL_HZ / NOMINAL_HZ:.3f}", "spasm") for s in sim["spasms"]]
    rows += [(file_t(w), "n/a", "wake") for w in sim["wake_onsets"]]
    sim_tsv = _events_tsv(tmp_path / "sim_events.tsv", rows, lambda t: f"{t:.4f}")
    cli("truth", *map(str, mapped_parts), str(sim_tsv))
    mapped = json.loads((mapped_parts[0].parent / "band0000-boot1-000-001.truth.json").read_text())
    label_err = [a["t"] - b["t"] for a, b in zip(synced["spasms"], mapped["spasms"], strict=True)]
    assert max(map(abs, label_err)) < TOLERANCE_S, label_err

    # the firmware's own events on the parts: each live EVENT's wall time against the wall time the
    # parts' dating gives the same onset replayed from them (the same detector on the same samples),
    # less the simulated band clock's lag at the event's sync (a real band's clock runs on)
    with Store(tmp_path / "spasmwatch.db") as store:
        live = [e for e in store.events("band0000") if e.wall_t is not None and not e.flags & P.EF_MATCHED]
    assert all(abs(s.stamp_s) <= s.half_rtt_s + SPEED / 1000 for s in syncs.values()), syncs  # (ms rounding)
    events = [e.wall_t - placed_by(syncs, e.onset_ms).lag_s for e in live if e.wall_t is not None]
    out = cli("replay", *map(str, parts), "--jsonl").stdout.splitlines()
    replayed = [rec.wall_at(x["t"]) for x in map(json.loads, out) if x["type"] == "spasm" and not x.get("matched")]
    dating = [min((r - w for r in replayed), key=abs) for w in events]
    assert len(events) >= len(sim["spasms"]) - 1 and max(map(abs, dating)) < TOLERANCE_S, dating
    # so a label lands where the firmware's event puts that spasm but for the detector's own onset
    # estimate (replay: its onset against the simulator's), within the two datings' difference
    direct = [min((rec.wall_at(x["t"]) - w for w in events), key=abs) for x in synced["spasms"]]
    detector = [min((r - rec.wall_at(m["t"]) for r in replayed), key=abs) for m in mapped["spasms"]]
    found = [(d, o, lab) for d, o, lab in zip(direct, detector, label_err, strict=True) if abs(o) < 0.5]
    assert len(found) >= len(sim["spasms"]) - 1, detector
    assert all(abs(d + o - lab) < TOLERANCE_S for d, o, lab in found), found

    # evaluate scores the synced labels as it scores the simulator's own
    scores = []
    for name, ps in (("synced", synced_parts), ("mapped", mapped_parts)):
        out = tmp_path / f"{name}.json"
        cli("evaluate", "--parts", *map(str, ps), "--json", str(out))
        scores.append(json.loads(out.read_text())["summary"])
    assert scores[0].keys() == scores[1].keys()
    for key, value in scores[1].items():
        if "delay" in key and value is not None:
            assert abs(value - scores[0][key]) <= TOLERANCE_S, key
        else:
            assert value == scores[0][key], key
    ms = lambda xs: f"{min(xs) * 1000:.1f} to {max(xs) * 1000:.1f} ms"  # noqa: E731
    print(f"labels - simulator: {ms(label_err)}; replayed onsets - live events: {ms(dating)}; labels - live events: "
          f"{ms([f[0] for f in found])} (the detector's onset - the simulator's: {ms([f[1] for f in found])}); "
          f"{len(found)} of {len(sim['spasms'])}; the band clock's lag at the syncs: {sorted(s.lag_s for s in syncs.values())}; "
          f"{time.monotonic() - started:.0f} s")  # fmt: skip
