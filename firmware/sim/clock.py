"""The simulated band's clock (never flashed): virtual milliseconds driven by the
sampler, as fast as the host can go or ``speed`` times real time, and real time
once the recording ends. Its own module: compiling the simulator from source on
the unix port costs heap a board never spends (it runs frozen), and smaller
modules keep that peak under the memory-budget test's heap.
"""

import time

import asyncio

BEHIND_MS = 1000  # virtual ms: how far a paced clock may lag before the simulated radio waits for it
# Virtual ms the samples may lag the pace before a catching-up clock (``catch_up``) steps to it: over
# a loaded machine's hiccups, which the band plays off by itself (at 60x, 170 ms real; at BEHIND_MS,
# 17 ms, the demo's band under load 12 stepped 21-173 s before its cluster and stretched it up to 2x),
# far under the host's LATE_CLUSTER_S (60 s), so a spasm played that late is still news of now.
CATCH_UP_MS = 10000


def _epoch_ms():
    return time.time_ns() // 1000000


class SimClock:
    """Virtual milliseconds, advanced by the sampler's ``pace_ms``.

    Tasks sleeping in virtual time are woken, in order, as the sampler moves
    time past their deadline, and the sampler waits until they have run: the
    watchdog, status and scheduled resets see the same time line as on a board,
    however fast the recording is played.
    """

    def __init__(self, speed=0, paced=False):
        self.speed = speed  # virtual ms per real ms; 0 = as fast as possible
        # paced: virtual time follows a real-time deadline (speed x real time from the
        # first sample, catching up after a slow pass) instead of sleeping ms // speed
        # per batch, which drifts by the batch's own cost: a host clock run at the same
        # speed stays within a batch of the band's over hours of virtual time.
        self.paced = paced
        self._pace0 = None  # (real ticks_ms, virtual ms) at the pacing anchor
        self._v = 0
        self._free = False
        self._real0 = 0
        self._sleepers = []  # [target_ms, Event]
        self._running = 0  # woken sleepers that have not resumed yet
        self.hold = None  # callable: while it returns True, virtual time stands still
        self.ended = None  # callable: True once the recording is over (then time runs in real time)
        self.stall_at_ms = None  # the sampler's pace_ms hangs from this virtual time on
        self.stalled = False
        # (virtual ms, real ms): at that virtual time the process gets no CPU for that long (a
        # loaded machine's scheduler, run.py --starve-at-s): its pace runs on, its samples lag it.
        self.starve = None
        # Once the recording has ended, go on pacing (speed x real time, the sampler's batches
        # with nothing to read) rather than run in real time: for a harness whose host clock runs
        # at ``speed`` (run.py --pace-after-end). A band clock run on at 1x under a host clock at
        # 60x placed a boot synced after the end minutes off (bench/faults.py: 344 s, a sync 6 s
        # of real time after it). Paced, not scaled real time: sleepers (the watchdog's check and
        # feed) still run in order, so a stalled process is not a watchdog reset.
        self.keep_pace = False
        # A TIME_SYNC reads the clock where its pace has it, not where the samples' processing has
        # got to (run.py --sync-at-pace): a board's clock never lags its CPU. Then the radio need
        # not go quiet while the clock lags (BEHIND_MS) so that no sync is answered from a lagging
        # clock: on a loaded machine (load 10-17, 2 cores) a band at 60x lagged more than 1 s of
        # virtual time (17 ms real) for whole boots, unreachable, and their events never placed.
        self.sync_at_pace = False
        # With sync_at_pace, a band whose samples lag the pace by more than CATCH_UP_MS moves its clock
        # on to the pace at once (run.py --catch-up), and plays its recording on from where it was,
        # that much later: its events, epochs and STATUS are then on the time its syncs read, as a
        # board's are. Left behind (sync_at_pace alone) a spasm played a minute late was placed a
        # minute back by the sync, and the demo's cluster held as learned late (1-2 runs of 24 under
        # load). Not for a harness that continues a recording by the band's uptime (bench/faults.py):
        # the recording's time is the clock's less ``skipped_ms``.
        self.catch_up = False
        self.skipped_ms = 0  # virtual ms the clock moved on by to catch up its pace
        self.reading_sync = False  # set around the app's TIME_SYNC answer
        self.read_at_pace = False  # the last such reading was the pace's, past the samples'

    def pace_from(self, epoch_ms):
        """Pace as if virtual time now had been due at ``epoch_ms`` (real ms since the epoch).

        A harness that reboots the band passes the moment the last boot ended: the
        reboot's own real cost (process start, imports, log recovery), times the
        speed, then does not open a gap in the recording's time line on the host.
        """
        self._pace0 = (time.ticks_add(time.ticks_ms(), epoch_ms - _epoch_ms()), self._v)

    def behind(self):
        """True while paced virtual time lags its real-time deadline by more than BEHIND_MS.

        The radio is kept quiet meanwhile: a time sync answered with a lagging clock
        would place every later event of the boot that far off on the host.
        """
        e = self._paced_for_ms()
        return e is not None and self._pace0[1] + e * self.speed - self._v > BEHIND_MS

    def due_epoch_ms(self):
        """When the current virtual time is due in real time (ms since the epoch); None if not paced."""
        e = self._paced_for_ms()
        return None if e is None else _epoch_ms() - e + (self._v - self._pace0[1]) // self.speed

    def _paced_for_ms(self):
        """Real ms since the pacing anchor; None unless pacing (anchored, not free-running)."""
        if self._pace0 is None or not (self.speed and self.paced) or self._free:
            return None
        return time.ticks_diff(time.ticks_ms(), self._pace0[0])

    def due_ms(self):
        """The virtual ms its pace has now (where a board's clock would read); None unless pacing."""
        e = self._paced_for_ms()
        return None if e is None else self._pace0[1] + e * self.speed

    def ticks_ms(self):
        if self._free:
            return self._v + time.ticks_diff(time.ticks_ms(), self._real0)
        if self.reading_sync and self.sync_at_pace:
            due = self.due_ms()
            self.read_at_pace = due is not None and due > self._v
            if self.read_at_pace:
                return due
        return self._v

    def played_ms(self):
        """Where the recording has got to (virtual ms): the clock less the time it skipped to catch up its pace."""
        return self.ticks_ms() - self.skipped_ms

    def free_run(self):
        """From now on virtual time follows real time (the recording has ended)."""
        if not self._free:
            self._real0 = time.ticks_ms()
            self._free = True
            for s in self._sleepers:
                s[1].set()
            self._sleepers = []

    async def pace_ms(self, ms):
        """The sampler's wait for the FIFO to fill: this is what moves virtual time."""
        if self.ended is not None and self.ended() and not self.keep_pace:
            self.free_run()
        if self._free:
            await asyncio.sleep_ms(ms)
            return
        while self.hold is not None and self.hold():
            self._pace0 = None  # held: the deadline starts when time moves again
            await asyncio.sleep_ms(5)
        if self.starve is not None and self._v >= self.starve[0]:
            time.sleep_ms(self.starve[1])  # blocks the whole process: no task runs, the radio waits
            self.starve = None
        if self.stall_at_ms is not None and self._v >= self.stall_at_ms:
            self.stalled = True  # the sampler hangs here for good (a stuck bus, a deadlock)
            await asyncio.Event().wait()
        if self.speed and self.paced:
            now = time.ticks_ms()
            if self._pace0 is None:
                self._pace0 = (now, self._v)
            due = time.ticks_add(self._pace0[0], (self._v + ms - self._pace0[1]) // self.speed)
            left = time.ticks_diff(due, now)
            await asyncio.sleep_ms(left if left > 0 else 0)
        elif self.speed:
            await asyncio.sleep_ms(ms // self.speed)
        await self.advance_ms(ms)
        if self.catch_up:
            self._catch_up()  # (no await after it: the sampler reads its batch and beats on the new time)

    def _catch_up(self):
        """Lagging the pace by more than CATCH_UP_MS: the clock moves on to it at once, and every deadline
        waited for with it, as if the band had stood still meanwhile (as under ``hold``); the watchdog
        counts the time played (SimWDT). In one step, where the band lagged, not spread over the samples: a
        recording stretched while the band caught up could split a cluster (its spasms CLUSTER_MAX_GAP_MS apart)."""
        due = self.due_ms()
        if due is None or due - self._v <= CATCH_UP_MS:
            return
        gap = due - self._v
        self._v = due
        self.skipped_ms += gap
        for s in self._sleepers:
            s[0] += gap

    async def advance_ms(self, ms):
        """Move virtual time on by ``ms``, letting each sleeper due on the way run at its deadline."""
        target = self._v + ms
        while True:  # earliest deadline first
            due = None
            for s in self._sleepers:
                if s[0] <= target and (due is None or s[0] < due[0]):
                    due = s
            if due is None:
                break
            if due[0] > self._v:
                self._v = due[0]
            self._sleepers.remove(due)
            self._running += 1
            due[1].set()
            while self._running:
                await asyncio.sleep_ms(0)
        self._v = target
        await asyncio.sleep_ms(0)

    def block_ms(self, ms):
        """The band's CPU busy for ``ms`` (a slow flash erase holding the event loop): virtual time
        moves on and no task runs meanwhile; the IMU's FIFO fills as it would."""
        if not self._free:
            self._v += ms

    async def sleep_ms(self, ms):
        target = self.ticks_ms() + ms
        if not self._free:
            ev = asyncio.Event()
            self._sleepers.append([target, ev])
            await ev.wait()
            if not self._free:
                self._running -= 1
                return
        left = target - self.ticks_ms()
        if left > 0:
            await asyncio.sleep_ms(left)
