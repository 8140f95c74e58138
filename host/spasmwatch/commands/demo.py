"""``spasmwatch demo``: a simulated morning, end to end, on the real firmware and the real daemon.

1. The simulator writes a morning: asleep, waking, a cluster of spasms within minutes.
2. The band firmware runs under the MicroPython unix port with a simulated IMU
   fed from that recording, flash on disk and a simulated radio.
3. The daemon connects to it through bleak (a bleak backend on the simulated
   radio), pairs, syncs its clock, stores every event in SQLite, clusters
   them, estimates waking, and raises the alarm on its channels; the family
   web page is served on 127.0.0.1 while it runs.

Time runs ``--speed`` times faster than real time on the band and in the
daemon alike (the morning starts at 06:00 today, or yesterday when today's is not over yet);
the demo ends once the
cluster is over, about 12 simulated minutes later (~25 s at the default 30x; on a
slow or busy computer, whenever its band has played that far).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from spasmwatch.alerts import Notification, NoticeKind, Urgency
from spasmwatch.clock import ScaledClock
from spasmwatch.commands._args import port_number, positive_int, whole_number
from spasmwatch.commands.replay import clock
from spasmwatch.daemon.daemon import BandSpec, Daemon
from spasmwatch.daemon.http import HttpServer
from spasmwatch.daemon.main import status_lines
from spasmwatch.errors import SpasmwatchError
from spasmwatch.store import Store
from spasmwatch.transport import open_link
from spasmwatch.transport.simband import WAIT_GRACE_S, SimBand

_TTY = sys.stdout.isatty()
RED, BOLD, RESET = ("\033[1;31m", "\033[1m", "\033[0m") if _TTY else ("", "", "")
RATE_HZ = 52.0  # the band's default IMU rate
DEVICE_ID = "nursery-0001"  # the demo's band: a store holding only it is a demo's
# Real s the demo waits once its band has played the morning: a band that keeps its pace gets
# the 30 s it always had past the morning's end, for the cluster's end to be told.
PLAYED_GRACE_S = 30.0


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="end-to-end demo: a simulated band (real firmware) streams a morning with a cluster to the daemon", description=__doc__)
    p.add_argument("--seed", type=whole_number(0), default=2, help="simulation seed (default 2)")
    p.add_argument("--speed", type=positive_int, default=30, help="x real time for the band and the daemon (default 30)")
    p.add_argument("--data-dir", type=Path, default=None, help="keep the store and the recording here: a new folder or an earlier demo's (default: a temporary dir)")
    p.add_argument("--port", type=port_number, default=0, help="web page port on 127.0.0.1 (default: any free port)")
    p.add_argument(
        "--board",
        metavar="ID",
        default=None,
        help="the band as this board: an id from hardware/boards or a board file's path (its IMU part,"
        " address and axes, through the part's register emulation; default: the simulator's MPU6886 band)",
    )
    p.set_defaults(func=run)


class TerminalChannel:
    """The demo's alarm sounder: the caregiver-facing text, printed (a real Channel)."""

    name = "terminal"
    min_urgency = Urgency.INFO
    network = False

    def __init__(self, out: TextIO) -> None:
        self.out = out

    async def send(self, n: Notification) -> None:
        loud = n.kind in (NoticeKind.CLUSTER_ALARM, NoticeKind.CLUSTER_ESCALATED)
        color = RED if loud else BOLD
        when = dt.datetime.fromtimestamp(n.created_t).strftime("%H:%M:%S")
        self.out.write(f"\n{color}[{when}] {n.title}{RESET}\n  {n.text}\n\n")
        self.out.flush()

    async def close(self) -> None:
        return None


def run(args: argparse.Namespace) -> int:
    # The daemon's own log lines would repeat what the demo prints: keep only errors.
    logging.basicConfig(level=logging.ERROR, format="%(levelname)s %(name)s: %(message)s")
    # The board is checked first (every check a flash makes): a wrong one starts nothing.
    board = _load_board(args.board) if args.board else None
    with tempfile.TemporaryDirectory(prefix="spasmwatch-demo-") as tmp:
        folder = args.data_dir or Path(tmp)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file of that name was a FileExistsError traceback (input audit)
            raise SpasmwatchError(f"--data-dir: {folder}: cannot make the folder: {exc.strerror or exc}") from exc
        _check_data_dir(folder)
        board_file = None
        if board is not None:  # for the simulated band, sim/run.py --board
            board_file = folder / "board.json"
            board_file.write_text(json.dumps(board), encoding="utf-8")
        return asyncio.run(_demo(args, folder, board_file, sys.stdout))


def _load_board(board_id: str) -> dict[str, Any]:
    """The board ``board_id`` (an id or a board file's path) the demo's band runs as: a newcomer's
    board runs end to end before it is built (review h46: the demo ran the simulator's own only)."""
    from spasmwatch.hardware import boards

    return boards.load(board_id, boards.repo_root())


def _check_data_dir(folder: Path) -> None:
    """A new folder or an earlier demo's, never one with real data in it (found by the input
    audit: '--data-dir' on a family's data folder added the demo's simulated spasms to their
    store, and replaced a morning.csv of their own)."""
    from spasmwatch.sim.cli import check_replaceable

    db = folder / "spasmwatch.db"
    if db.exists():
        with Store.open_readonly(db) as store:
            bands = [d.device_id for d in store.devices() if d.device_id != DEVICE_ID]
        if bands:
            raise SpasmwatchError(f"--data-dir: {db} holds the band(s) {', '.join(bands)}: not a demo's store; choose an empty folder")
    check_replaceable(folder / "morning.csv", "choose another --data-dir")


async def _demo(args: argparse.Namespace, folder: Path, board: Path | None, out: TextIO) -> int:
    from spasmwatch.sim import Scenario, simulate, write_recording

    sc = Scenario(kind="morning", seed=args.seed, rate_hz=RATE_HZ)
    out.write(f"Simulating a {sc.resolved_duration_s / 60:.0f} min morning at {sc.rate_hz:g} Hz (seed {sc.seed})...\n")
    csv = folder / "morning.csv"
    write_recording(simulate(sc), csv)
    truth = json.loads(csv.with_suffix(".truth.json").read_text())
    out.write(f"  ground truth: {len(truth['spasms'])} spasms in {len(truth['clusters'])} cluster(s), "
              f"wake at {', '.join(clock(w) for w in truth['wake_onsets']) or '-'} into the recording\n")
    start = morning_start(time.time(), sc.resolved_duration_s)
    day = "today" if dt.date.fromtimestamp(start) == dt.date.today() else "yesterday"
    as_board = f", as board {args.board}" if board else ""
    out.write(f"Starting the band firmware under MicroPython ({args.speed}x real time, the morning starts at 06:00 {day}{as_board})...\n")
    band = start_band(csv, folder, args.speed, sc.resolved_duration_s, board)
    try:
        with Store(folder / "spasmwatch.db") as store:
            return await _run_daemon(args, band, store, ScaledClock(start, args.speed), out)
    finally:
        band.kill()


# The demo band's pacing (firmware/sim/run.py; start_band says why).
BAND_ARGS = ("--paced", "--sync-at-pace", "--catch-up")


def start_band(csv: Path, folder: Path, speed: int, duration_s: float, board: Path | None = None) -> SimBand:
    """The demo's band, its flash in ``folder``: held until the daemon's link is encrypted (a
    daemon slow to start misses none of the recording), then on the daemon's clock (--paced:
    unpaced, the band ran up to 11 % fast and the store had the alarm before the spasm that
    raised it). --sync-at-pace, as bench/faults.py's band: a band lagging its pace (a loaded or
    slow computer: at 60x, 1 s of virtual time is 17 ms real) answers a time sync with the time
    its pace has, as a board's clock does; without it its radio was kept quiet, the daemon's
    first sync timed out and the demo ended with 0 events stored (3 runs of 3 at load 15). --catch-up:
    a band lagging its pace by over 10 s moves its clock on to it, as a board's never lags, and plays
    on from there: its events are then on the time its syncs read; left behind, a cluster played a
    minute and more late was placed as long ago, held as learned late, and not alarmed (1-2 runs of
    24 under load). ``board``: a board definition file the band runs as (else sim/run.py's own)."""
    return SimBand(
        csv, folder / "flash", hold=True, speed=speed, device_id=DEVICE_ID, idle_exit_ms=500,
        timeout_s=duration_s / speed + 120, args=(*BAND_ARGS, *(("--board", str(board)) if board else ())),
    )  # fmt: skip


def morning_start(now: float, duration_s: float) -> float:
    """06:00 on this computer's clock of the last day whose morning of ``duration_s`` is over by
    ``now``: today's, else yesterday's. Found by the researcher's hostile review of 2026-12-07: run
    at 00:07 the demo played "06:00 today", hours ahead of the clock, and 'summary' and 'report' of
    the store it kept, which look back from now, said it held no data."""
    today = dt.date.fromtimestamp(now)
    start = dt.datetime.combine(today, dt.time(6, 0)).timestamp()
    return start if start + duration_s <= now else dt.datetime.combine(today - dt.timedelta(days=1), dt.time(6, 0)).timestamp()


async def _run_daemon(args: argparse.Namespace, band: SimBand, store: Store, clk: ScaledClock, out: TextIO) -> int:
    link = lambda: open_link("sim", band.address, bond_file=store.path.parent / "bonds.json")  # noqa: E731
    daemon = Daemon(store, [BandSpec("nursery band", link)], {"terminal": TerminalChannel(out)}, clock=clk)
    http = HttpServer(daemon, host="127.0.0.1", port=args.port, clock=clk.wall)
    host, port = await http.start()
    out.write(f"Daemon up: store {store.path}\n  family web page: http://{host}:{port}/ (while the demo runs)\n")
    await daemon.start()
    printer = asyncio.ensure_future(status_lines(daemon, out, stamped=True))
    try:
        await _until_over(daemon, band)
        await daemon.dispatcher.drain()
    finally:
        printer.cancel()
        await http.stop()
        await daemon.stop()
    return _summary(daemon, store, out, kept=args.data_dir is not None)


async def _until_over(daemon: Daemon, band: SimBand) -> None:
    """Until the cluster is over (its summary goes out), or PLAYED_GRACE_S after the band has
    played its recording, or the band has stopped (its --timeout-s; WAIT_GRACE_S past that, one
    with a blocked event loop). On the band's progress: found under load (load 15 on 2 cores, 2
    runs of 12 at 60x), the demo ended 30 s after its morning was due to be over on the wall
    clock, its band lagging at 06:12 of it, and cut off the cluster's end (later, the alarm)."""
    end = time.monotonic() + band.timeout_s + WAIT_GRACE_S
    played = False
    while time.monotonic() < end and band.running and not _seen(daemon, NoticeKind.CLUSTER_CLOSED):
        if not played and band.report("played") is not None:
            played, end = True, min(end, time.monotonic() + PLAYED_GRACE_S)
        await asyncio.sleep(0.1)


def _seen(daemon: Daemon, kind: NoticeKind) -> bool:
    return any(n.kind is kind for n in daemon.notifications)


def _summary(daemon: Daemon, store: Store, out: TextIO, kept: bool) -> int:
    events = store.count_events()
    clusters = list(store.clusters())
    # It said "in spasmwatch.db" of a temporary folder deleted as the demo ended: nothing to look in.
    where = (f"in {store.path}" if kept else
             "in a temporary store, deleted as the demo ends ('--data-dir DIR' keeps it: then 'spasmwatch events --db DIR/spasmwatch.db')")  # fmt: skip
    out.write(f"Stored {events} spasm event(s) and {len(clusters)} cluster(s) {where}.\n")
    if not _seen(daemon, NoticeKind.CLUSTER_ALARM):
        out.write("No cluster alarm was raised in this run.\n")
        return 1
    out.write("The alarm went out on every configured channel (here: the terminal).\n")
    out.write(
        "With a real band: docs/flashing.md, then 'spasmwatch config init --band NAME --ntfy new', 'spasmwatch run' "
        "and 'spasmwatch test-alarm' (README.md, 'For families').\n"
    )
    if shutil.which("spasmwatch") is None:  # 'make demo' runs .venv/bin/spasmwatch: a parent's shell found no 'spasmwatch'
        out.write(f"Typed in this folder, 'spasmwatch' is {_typed()} until README.md, 'For families', makes it a command of its own.\n")
    return 0


def _typed() -> str:
    """How this program was typed: its script as given ('make demo': .venv/bin/spasmwatch), else
    (python -m spasmwatch) the virtualenv's as README types it."""
    script = Path(sys.argv[0])
    return str(script) if script.name == "spasmwatch" else ".venv/bin/spasmwatch"
