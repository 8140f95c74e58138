"""A slow disk under the daemon: the store's commits made on the event loop thread, and what each sync costs the loop.

    python bench/slow_disk.py                          # fsync 0, 100 ms, 1 s; night, raw, cluster (~9 min)
    python bench/slow_disk.py --delays 0,100 --modes cluster --json out.json

Every store write is one SQLite commit, and a synced one (``synchronous=FULL``, or a lazy one's
sync once a minute, docs/store.md "Guarantees") waits for fsync/fdatasync. On a Raspberry Pi's SD
card one takes 50 ms to seconds; made on the daemon's event loop thread, the loop serves nothing
meanwhile (BLE notifications, the web page, the alarms' sends, the ticker the watchdog watches).

The rig is tests/daemon's (the real band firmware under micropython, bleak over the simulated radio,
the daemon in process, SQLite on disk), the run in a child process of its own with an LD_PRELOAD
shim (C, built here with ``cc``; skipped with a message when there is none) that sleeps ``--delays``
ms in each fsync() and fdatasync() and counts those made on the loop thread. The store's lazy
commits' clock is the daemon's scaled one, so a simulated minute syncs as a real one would at 1x.
Modes, each its own band, store and daemon:

* ``night``: a baby asleep, nothing happening, at ``--speed`` (an epoch and a STATUS every 10 s; the
  band's clock synced again every ``--resync-s``: an hour, as the daemon's; with 60, a 10 minute
  night holds the sync points of a night of 10 hours);
* ``raw``: the same with ``raw = true`` at ``--raw-speed`` (every sample to a ``.swraw``);
* ``cluster``: bench/alarm_latency.py's 40 s recording (4 spasms 6 s apart) at 1x, the webhook
  channel posting to an aiohttp receiver on 127.0.0.1: the alarm's delay is the receipt minus the
  third stored spasm's end.

Per mode and delay: commits on the loop thread per simulated minute, the synced ones, the fsyncs
the shim saw on the loop thread (a checkpoint's are there too), by call site (the first frame out
of the store); the loop's longest block (a task asking for a 10 ms sleep, its overshoot); and for
``cluster`` the alarm's delay. Ratios against the same mode at the first delay (``--delays``' first,
0: the reference), in the same run. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the e2e rig and its recordings
from nightcost import finish, progress  # noqa: E402  (bench/nightcost.py)

from spasmwatch.daemon.consts import RESYNC_S  # noqa: E402

SHIM_C = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>
/* Sleeps SLOW_FSYNC_MS in each fsync/fdatasync, then syncs; counts those of the thread marked the loop. */
static pthread_t loop_thread;
static volatile int loop_marked;
static volatile long loop_syncs, all_syncs;
void slow_fsync_mark_loop(void) { loop_thread = pthread_self(); loop_marked = 1; }
long slow_fsync_loop_count(void) { return loop_syncs; }
long slow_fsync_all_count(void) { return all_syncs; }
static void slow(void) {
    const char *ms = getenv("SLOW_FSYNC_MS");
    long d = ms ? atol(ms) : 0;
    __sync_fetch_and_add(&all_syncs, 1);
    if (loop_marked && pthread_equal(pthread_self(), loop_thread)) __sync_fetch_and_add(&loop_syncs, 1);
    if (d > 0) { struct timespec t = {d / 1000, (d % 1000) * 1000000L}; nanosleep(&t, 0); }
}
int fsync(int fd) { static int (*real)(int); if (!real) real = dlsym(RTLD_NEXT, "fsync"); slow(); return real(fd); }
int fdatasync(int fd) { static int (*real)(int); if (!real) real = dlsym(RTLD_NEXT, "fdatasync"); slow(); return real(fd); }
"""

LOOP_TICK_S = 0.01  # the loop probe's sleep: its overshoot is how long the loop served nothing
MODES = ("night", "raw", "cluster")
WAIT_S = 120.0  # real s a cluster run may take before it is given up (its recording is 40 s)


def build_shim(folder: Path) -> Path | None:
    """The shim built with the C compiler there is; None: there is none."""
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        return None
    src, lib = folder / "slow_fsync.c", folder / "slow_fsync.so"
    src.write_text(SHIM_C)
    subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", str(lib), str(src), "-ldl", "-lpthread"], check=True)
    return lib


# --- the child: one mode at one delay ---------------------------------------------------------


class Commits:
    """The store's outermost transactions on the loop thread: call site -> (commits, synced), and the longest."""

    def __init__(self) -> None:
        self.loop_ident: int | None = None
        self.commits: Counter[str] = Counter()
        self.synced: Counter[str] = Counter()
        self.off_loop = 0
        self.longest_s = 0.0
        self.longest_at = ""
        self._depth = threading.local()

    @staticmethod
    def site() -> str:
        """The first frame out of the store and contextlib: who asked for the write."""
        for f in reversed(traceback.extract_stack()):
            p = f.filename
            if "/spasmwatch/store/" in p or p.endswith(("contextlib.py", "slow_disk.py")):
                continue
            return f"{Path(p).name}:{f.lineno} {f.name}"
        return "?"

    @contextmanager
    def around(self, store: Any) -> Iterator[None]:
        depth = getattr(self._depth, "n", 0)
        self._depth.n = depth + 1
        before, t0 = store._synced_s, time.perf_counter()
        try:
            yield
        finally:
            self._depth.n = depth
        if depth:
            return  # a savepoint of a transaction counted as a whole
        took = time.perf_counter() - t0
        if threading.get_ident() != self.loop_ident:
            self.off_loop += 1
            return
        at = self.site()
        self.commits[at] += 1
        self.synced[at] += store._synced_s != before
        if took > self.longest_s:
            self.longest_s, self.longest_at = took, at


def counting_store(commits: Commits) -> Any:
    from spasmwatch.store import Store

    class CountingStore(Store):
        @contextmanager
        def _tx(self, *args: Any, **kw: Any) -> Iterator[Any]:
            with commits.around(self), super()._tx(*args, **kw) as c:
                yield c

    return CountingStore


async def loop_probe(out: dict[str, float], stop: asyncio.Event) -> None:
    """The loop's longest block: a LOOP_TICK_S sleep's overshoot; and how many passed 50 ms."""
    while not stop.is_set():
        t0 = time.perf_counter()
        await asyncio.sleep(LOOP_TICK_S)
        late = time.perf_counter() - t0 - LOOP_TICK_S
        out["max_block_s"] = max(out["max_block_s"], late)
        out["blocks_over_50ms"] += late > 0.05


async def child(mode: str, delay_ms: int, tmp: Path, minutes: float, speed: int, resync_s: float) -> dict[str, Any]:
    from aiohttp import web
    from daemon.conftest import QUICK_SPASMS_S, RATE_HZ, rig
    from synthetic import supine, write_csv

    from spasmwatch.alerts.channels.base import Channel
    from spasmwatch.alerts.channels.webhook import WebhookChannel, WebhookSettings

    os.environ.pop("LD_PRELOAD")  # the daemon's syncs slowed, not the band's (its micropython process)
    shim = ctypes.CDLL(None)  # the preloaded shim's counters
    shim.slow_fsync_loop_count.restype = shim.slow_fsync_all_count.restype = ctypes.c_long
    commits = Commits()
    commits.loop_ident = threading.get_ident()
    shim.slow_fsync_mark_loop()
    alarm_at: list[float] = []
    runner: web.AppRunner | None = None
    channels: dict[str, Channel] = {}
    if mode == "cluster":
        t, acc, gyro = supine(rate_hz=RATE_HZ, duration_s=40.0, spasms=QUICK_SPASMS_S, seed=5)
        speed, seconds = 1, 40.0
        wall: list[Any] = [time.time]

        async def handle(request: web.Request) -> web.Response:
            now = wall[0]()
            if json.loads(await request.read()).get("kind") == "cluster_alarm" and not alarm_at:
                alarm_at.append(now)
            return web.Response(text="ok")

        app = web.Application()
        app.router.add_post("/alert", handle)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        channels = {"webhook": WebhookChannel(WebhookSettings(url=f"http://{host}:{port}/alert", name="webhook"))}
    else:
        seconds = minutes * 60 + 60
        t, acc, gyro = supine(rate_hz=RATE_HZ, duration_s=seconds + 60, seed=7)
    csv = write_csv(tmp / f"{mode}.csv", t, acc, gyro)
    probe = {"max_block_s": 0.0, "blocks_over_50ms": 0.0}
    stop = asyncio.Event()
    out: dict[str, Any] = {"mode": mode, "delay_ms": delay_ms, "speed": speed}
    try:
        async with rig(tmp, csv, speed=speed, raw=mode == "raw", channels=channels or None, open_store=counting_store(commits),
                       band_timeout_s=seconds / speed + 120, resync_s=resync_s) as r:  # fmt: skip
            r.store._clock = lambda: r.clock.wall()  # lazy syncs by the simulated minute (Store._synced)
            if mode == "cluster":
                wall[0] = r.clock.wall
            await r.wait_for(lambda: r.daemon is not None and r.store.latest_status("band0000") is not None, 90, "a STATUS")
            commits.commits.clear(), commits.synced.clear()  # counted from the band streaming on
            commits.longest_s, loop0, all0, sim0 = 0.0, shim.slow_fsync_loop_count(), shim.slow_fsync_all_count(), r.clock.wall()
            task = asyncio.ensure_future(loop_probe(probe, stop))
            if mode == "cluster":
                await asyncio.wait_for(_until(lambda: bool(alarm_at)), WAIT_S)
                await asyncio.sleep(5.0)  # the alarm's own commits after its send (the outbox's forget)
                evs = sorted((e for e in r.store.events("band0000") if e.wall_t is not None), key=lambda e: e.wall_t or 0.0)
                third = evs[2]
                assert third.wall_t is not None
                end = third.wall_t + third.duration_s
                out["alarm_delay_s"] = alarm_at[0] - end
                out["band_part_s"] = third.received_wall_s - end
            else:
                await asyncio.sleep(minutes * 60 / speed)
            stop.set()
            await task
            sim_min = (r.clock.wall() - sim0) / 60
            loop_syncs, all_syncs = shim.slow_fsync_loop_count() - loop0, shim.slow_fsync_all_count() - all0
    finally:
        if runner is not None:
            await runner.cleanup()
    out.update(
        sim_min=round(sim_min, 2), commits=sum(commits.commits.values()), synced=sum(commits.synced.values()), loop_fsyncs=loop_syncs,
        commits_per_sim_min=round(sum(commits.commits.values()) / sim_min, 2), synced_per_sim_min=round(sum(commits.synced.values()) / sim_min, 2),
        loop_fsyncs_per_sim_min=round(loop_syncs / sim_min, 2), all_fsyncs_per_sim_min=round(all_syncs / sim_min, 2),
        off_loop_commits=commits.off_loop,
        longest_commit_s=round(commits.longest_s, 3), longest_commit_at=commits.longest_at,
        max_block_s=round(probe["max_block_s"], 3), blocks_over_50ms=int(probe["blocks_over_50ms"]),
        sites={k: [v, commits.synced[k]] for k, v in commits.commits.most_common()},
    )  # fmt: skip
    return out


async def _until(pred: Any) -> None:
    while not pred():
        await asyncio.sleep(0.02)


# --- the parent -------------------------------------------------------------------------------


def run_child(lib: Path, mode: str, delay_ms: int, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    tmp.mkdir(parents=True)
    env = dict(os.environ, LD_PRELOAD=str(lib), SLOW_FSYNC_MS=str(delay_ms))
    cmd = [sys.executable, __file__, "--child", mode, "--delay-ms", str(delay_ms), "--tmp", str(tmp),
           "--minutes", str(args.raw_minutes if mode == "raw" else args.minutes), "--speed", str(args.raw_speed if mode == "raw" else args.speed), "--resync-s", str(args.resync_s)]  # fmt: skip
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True)
    if p.returncode != 0:
        raise SystemExit(f"{mode} at {delay_ms} ms failed ({p.returncode})")
    got: dict[str, Any] = json.loads(p.stdout.strip().splitlines()[-1])
    return got


def show(x: dict[str, Any], ref: dict[str, Any]) -> None:
    line = (f"  {x['mode']:7} fsync {x['delay_ms']:>5} ms: {x['commits_per_sim_min']:6.2f} commits/sim min on the loop, "
            f"{x['synced_per_sim_min']:5.2f} synced, {x['loop_fsyncs_per_sim_min']:5.2f} fsyncs ({x['all_fsyncs_per_sim_min']:.2f} in all); longest block {x['max_block_s']:.3f} s "
            f"({x['max_block_s'] / max(ref['max_block_s'], 1e-3):.0f}x the reference), {x['blocks_over_50ms']} over 50 ms")  # fmt: skip
    if "alarm_delay_s" in x:
        line += f"; alarm {x['alarm_delay_s']:.3f} s after the 3rd spasm's end ({x['alarm_delay_s'] / ref['alarm_delay_s']:.2f}x), band's part {x['band_part_s']:.3f} s"
    print(line, flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--delays", default="0,100,1000", help="ms slept in each fsync/fdatasync; the first is the reference")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--minutes", type=float, default=10.0, help="simulated minutes of night")
    ap.add_argument("--raw-minutes", type=float, default=4.0, help="simulated minutes of raw")
    ap.add_argument("--speed", type=int, default=20, help="night's speed")
    ap.add_argument("--raw-speed", type=int, default=4, help="raw's speed (52 Hz x this samples a real second)")
    ap.add_argument("--resync-s", type=float, default=RESYNC_S, help="s between the band's sync points (the daemon's: an hour)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--child", choices=MODES, help=argparse.SUPPRESS)
    ap.add_argument("--delay-ms", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--tmp", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(args.child, args.delay_ms, args.tmp, args.minutes, args.speed, args.resync_s))))
        return 0
    out: dict[str, Any] = {"cpus": os.cpu_count(), "load": os.getloadavg()[0], "runs": []}
    with tempfile.TemporaryDirectory(prefix="slowdisk-") as tmp:
        lib = build_shim(Path(tmp))
        if lib is None:
            print("bench/slow_disk.py skipped: no C compiler (cc, gcc or clang) to build its fsync shim", file=sys.stderr)
            return 0
        delays = [int(d) for d in args.delays.split(",")]
        for mode in args.modes.split(","):
            ref: dict[str, Any] | None = None
            for d in delays:
                progress(f"{mode}, fsync {d} ms ...")
                x = run_child(lib, mode, d, Path(tmp) / f"{mode}-{d}", args)
                ref = ref or x
                out["runs"].append(x)
                show(x, ref)
                for site, (n, s) in list(x["sites"].items())[:8]:
                    print(f"      {n / x['sim_min']:6.2f}/min ({s / x['sim_min']:5.2f} synced)  {site}")
    return finish(out, args.json)


if __name__ == "__main__":
    raise SystemExit(main())
