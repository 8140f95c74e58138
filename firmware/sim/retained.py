"""The simulated band's retained memory and RTC timer (never flashed). Its own module, loaded
only with run.py --retained: the simulator shares the heap the memory-budget test gives the band.
"""

import os

from swcore import protocol as P


class SimRetained:
    """Retained memory and the RTC timer (band/app.py ``Hardware.retained``) across simulated resets.

    The memory is the file ``path``: a new process on it is a reset that kept it (a brown-out too,
    which the app is told is a power-on), and a power-up (``lost``: run.py's power_on) removes it,
    as a board's RTC memory is lost. The timer reads ``rtc0_ms`` plus virtual time: run.py passes
    the boot's start in the recording (--csv-skip-s), where a harness restarting the band puts each
    boot (bench/faults.py: the last boot's end plus its reboot time), so it runs through the reset
    as the ESP32's does; or, with --rtc-restarted, the board's boot time: a timer a power-up
    restarted. ``rtc0_ms`` None: a board whose timer does not run through a reset.
    """

    def __init__(self, path, clock, rtc0_ms, lost):
        self.path = path
        self._clock = clock
        self._rtc0 = rtc0_ms
        if lost:
            try:
                os.remove(path)
            except OSError:
                pass  # none yet

    @classmethod
    def from_opts(cls, opts, clock):
        """From run.py's options (here, not in run.py: loaded only with --retained)."""
        if opts["no-rtc"] and opts["rtc-restarted"] is not None:
            raise SystemExit("run.py: --no-rtc and --rtc-restarted: a board has an RTC timer or not, not both")
        rtc0 = None if opts["no-rtc"] else round(float(opts["csv-skip-s"]) * 1000)
        if opts["rtc-restarted"] is not None:
            rtc0 = round(float(opts["rtc-restarted"]))
        # Only a power-up loses the RTC memory; a brown-out is read as one but keeps it.
        return cls(opts["retained"], clock, rtc0, opts["reset-cause"] == "power_on")

    def read(self):
        try:
            with open(self.path, "rb") as f:
                return f.read()
        except OSError:
            return b""

    def write(self, data):
        with open(self.path, "wb") as f:  # in place: a cut in the middle leaves a checkpoint its CRC refuses
            f.write(data)

    def rtc_ms(self):
        return None if self._rtc0 is None else self._rtc0 + self._clock.ticks_ms()

    @staticmethod
    def links(app):
        """For run.py's ``up`` report: this boot's link decoded (the last kept, if of this boot) or
        None, and how many links the band keeps."""
        last = app.links[-P.BOOTLINK_SIZE :]
        link = P.decode(last) if last else None
        made = link if link and link["boot"] == app.boot.boot_count else None
        return {"link": made, "links_kept": len(app.links) // P.BOOTLINK_SIZE}
