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
