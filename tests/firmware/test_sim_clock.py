"""firmware/sim/clock.py's pace, under the real micropython binary (the simulator, never flashed)."""

from __future__ import annotations

from pathlib import Path

from sim_central import run_mp

# A band at 60x whose samples lag their pace by 5 s of real time (300 s of virtual time): a loaded
# machine. Its TIME_SYNC answer (the app reads ticks_ms() with ``reading_sync`` set around it).
LAGGING = """
import time, clock
c = clock.SimClock(60, True)
c.pace_from(time.time_ns() // 1000000 - 5000)

def sync():
    c.reading_sync = True
    t = c.ticks_ms()
    c.reading_sync = False
    return t

print(sync(), c.ticks_ms(), c.behind())
c.sync_at_pace = True
t = sync()
print(300000 <= t < 330000, c.read_at_pace, c.ticks_ms(), c.behind())
"""


def test_a_sync_at_pace_reads_the_clock_where_its_pace_has_it(micropython: str, tmp_path: Path) -> None:
    """Found under load (bench/faults.py, load 10-17 on 2 cores): a band at 60x lagged its pace by
    more than BEHIND_MS (1 s of virtual time, 17 ms real) for whole boots, and the radio, kept quiet
    meanwhile so no sync was answered from a lagging clock, left the daemon no way in: those boots'
    events were stored but never placed, a cluster never alarmed. With ``sync_at_pace`` (run.py
    --sync-at-pace) a sync reads the time the pace has (a board's clock never lags its CPU) while
    everything else keeps the samples' time; without it nothing changes."""
    before, after = run_mp(micropython, tmp_path / "lagging.py", LAGGING).splitlines()
    assert before.split() == ["0", "0", "True"]
    assert after.split() == ["True", "True", "0", "True"]


# A band at 60x starved of CPU for 300 ms real (18 s of its pace) at virtual 0, then one batch and
# five more: with ``catch_up`` its clock steps to the pace, the recording (played_ms) where it was.
STARVED = """
import asyncio, time, clock, hw
c = clock.SimClock(%d, True)
c.pace_from(time.time_ns() // 1000000)
c.sync_at_pace = True
c.catch_up = %s
c.starve = (0, 300)
wdt = hw.SimWDT(c, 8000)
woke = []

async def sleeper():
    await c.sleep_ms(1000)
    woke.append((c.ticks_ms(), c.played_ms()))

async def main():
    asyncio.create_task(sleeper())
    await asyncio.sleep_ms(0)
    await c.pace_ms(200)
    print(c.ticks_ms() >= 18000, c.played_ms(), c.ticks_ms() - c.skipped_ms, len(woke), c.behind(), wdt.expired())
    for _ in range(5):
        await c.pace_ms(200)
    print(woke[0][1], woke[0][0] == c.skipped_ms + 1000, wdt.expired())

asyncio.run(main())
"""


def test_a_catching_up_clock_steps_to_its_pace_and_plays_on_from_where_it_was(micropython: str, tmp_path: Path) -> None:
    """Found under load (the demo test, 1-2 runs of 24): a band lagging its pace by over a minute
    synced at the pace and dated its spasms by its samples, and the host placed a cluster just
    played a minute back (learned late, not alarmed). With ``catch_up`` (run.py --catch-up) the
    clock steps to the pace at once; the recording goes on from where it was (played_ms), a
    sleeper still waits its whole time and the watchdog counts no time the band did not run.
    Without it the clock stays with the samples, 18 s and more behind its pace; nor does it step
    for a lag under CATCH_UP_MS."""
    caught = run_mp(micropython, tmp_path / "caught.py", STARVED % (60, "True")).split()
    assert caught == ["True", "200", "200", "0", "False", "False", "1000", "True", "False"], caught
    left = run_mp(micropython, tmp_path / "left.py", STARVED % (60, "False")).split()
    assert left == ["False", "200", "200", "0", "True", "False", "1000", "True", "False"], left
    # At 1x the same starving is 300 ms of pace, under CATCH_UP_MS: the band plays it off by itself.
    slow = run_mp(micropython, tmp_path / "slow.py", STARVED % (1, "True")).split()
    assert slow == ["False", "200", "200", "0", "False", "False", "1000", "True", "False"], slow
