"""Boot links: where the band's previous boot lies on this boot's ms clock (BOOTLINK records).

A boot no host ever time-synced (a reset loop at night with no computer near, a
daemon restarting) has only its own uptime ms: its events reach the host but
cannot be placed, so they never alarm. A reset other than a power-up keeps the
ESP32's RTC memory, and the RTC timer runs through it: a brown-out too, which
MicroPython's ESP32 port reads as a power-on. Each boot writes a
checkpoint there every ``CHECKPOINT_MS`` (band/bootstate.py: its boot count,
uptime ms and the RTC timer's ms, sealed with swcore.crc), and the next boot
turns the previous boot's into a link: prev_boot's ms ``prev_ms`` was
``gap_ms`` (+-``err_ms``) before this boot's ms 0. The host then places a boot
by its neighbour's sync (docs/protocol.md "BOOTLINK").

With both RTC readings there and consistent the gap is measured (``BLF_RTC``,
err_ms a few ms); otherwise it is estimated: the reset fell within a
checkpoint period after the checkpoint (a watchdog's timeout more for a
watchdog reset: the loop that writes checkpoints may have hung first), and the
board took _BOOT_MIN_MS.._BOOT_MAX_MS from its reset to this boot's ms 0. After a
reset read as a power-on (``P.RC_POWER_ON``: a brown-out, or a true power-up) only
a measured link is made: a power-up restarts the RTC timer, which then reads
before the checkpoint or no more than a boot's time, and no estimate bounds how
long the power was off.

The last ``_LINKS_KEPT`` links stay in ``links.bin`` (sealed, written only at a
boot that made one), so a host that reaches the band boots later still gets
them; the app sends them at the start of every BACKFILL. A flash that refuses
the file costs only the link's keeping, never the boot (as band/bootstate.py):
this boot still sends it.

Run once at start-up (``kept``): the app then drops this module and the whole
protocol it reads links.bin with (``swcore.protocol``; the band's resident code
uses its half, ``swcore.wire``) from ``sys.modules`` and their package, so their
code does not stay on the heap all night.
"""

import struct

from micropython import const

from swcore import protocol as P
from swcore.crc import seal, unseal

NAME = "links.bin"
# ms: the checkpoint period (band/app.py writes one at each watchdog pass, WDT_FEED_MS, and one
# just before a deliberate reset). RTC memory is RAM: a write costs microseconds and no wear,
# and the period bounds an estimated link's error: the reset fell within it after the checkpoint.
CHECKPOINT_MS = const(1000)
_LINKS_KEPT = const(16)  # 16 x 18 = 288 bytes of RAM and flash: a night's reset loop; each backfill sends them all
# ms from a reset to band ms 0 (App built): ROM, bootloader, MicroPython, the imports, the log's
# recovery scan. bench/faults.py takes 1.5 s (BOOT_S); a board's own is measured at bring-up
# (hardware/BRINGUP.md, section 1, "Boot links").
_BOOT_MIN_MS = const(1000)
_BOOT_MAX_MS = const(2000)
# ms: a watchdog reset may come this long after the last checkpoint when the whole loop hung
# (band/app.py WDT_TIMEOUT_MS plus a feed period); a stalled sampler alone leaves the
# checkpoints going until the reset.
_WDT_LATE_MS = const(9000)
STOP_MS = const(100)  # ms: a deliberate reset (REBOOT) follows its final checkpoint within this
# A measured gap: each RTC reading is whole ms (1 ms each), and the RTC's slow clock counts the
# reset itself at up to _RTC_DRIFT_PPM off (its calibrated RC oscillator; checked at bring-up).
_RTC_READ_MS = const(2)
_RTC_DRIFT_PPM = const(2000)
_LAP = const(0xFFFFFFFF)  # ms readings are kept modulo 2^32 (u32 fields)
# The checkpoint band/bootstate.py writes to retained memory (BootState.checkpoint; private there,
# so repeated here): tag, boot u16, uptime ms u32, RTC ms u32, flags u8, then crc16 (swcore.crc).
_CP_FMT = const("<BHIIB")
_CP_SIZE = const(12)
_CP_TAG = const(0x4C)  # "L": another use of the RTC memory does not read as a checkpoint
_CPF_RTC = const(0x01)  # the RTC ms is a reading
_CPF_FINAL = const(0x02)  # written just before a deliberate reset (REBOOT)


def kept(storage, retained, boot, cause, up_ms):
    """The kept links, oldest first, as one bytes object of BOOTLINK records: those of links.bin
    and this boot's, made from the previous boot's checkpoint (kept in RAM even when the flash
    refuses the file). ``cause``: P.RC_* of how the previous boot ended (P.RC_POWER_ON: read as a
    power-on, linked only when measured), 0 for none known (no link); ``up_ms``: this boot's
    uptime now."""
    # The RTC read with ``up_ms``, before the flash: the file's read and checks would otherwise
    # count into the measured gap, beyond its few ms of error (found by review).
    rtc = _rtc_ms(retained)
    links, stale = _load(storage, boot)
    made = _link(retained, boot, cause, up_ms, rtc) if cause else None
    if made is not None:
        if len(links) >= _LINKS_KEPT * P.BOOTLINK_SIZE:
            links = links[-(_LINKS_KEPT - 1) * P.BOOTLINK_SIZE :]
        links += made
    if made is not None or stale:
        try:
            storage.write_atomic(NAME, seal(links))
        except OSError:
            pass  # the flash refused it: this link is sent in this boot only
    return links


def _load(storage, boot):
    """The links of links.bin made before boot ``boot`` of this count, and whether it held others:
    links.bin outlives the boot count (its u16 wrap, a state.bin that could not be read and starts
    it again at 1), and a link numbered at or after this boot is of another count, which the host
    would take for this count's boot of that number (found by review)."""
    raw = storage.read(NAME)
    size = 0 if raw is None else len(raw) - 2
    if size <= 0 or size % P.BOOTLINK_SIZE or size > _LINKS_KEPT * P.BOOTLINK_SIZE:
        return b"", False
    payload = unseal(raw, size)
    if payload is None:
        return b"", False
    out = b""
    stale = False
    for off in range(0, size, P.BOOTLINK_SIZE):
        rec = payload[off : off + P.BOOTLINK_SIZE]
        try:
            linked = P.decode(rec)["boot"]  # one of another protocol version (a firmware update) is dropped
        except P.ProtocolError:
            continue
        if linked >= boot:
            stale = True
            continue
        out += rec
    return out, stale


def _checkpoint(retained):
    raw = retained.read()
    if raw is None or len(raw) != _CP_SIZE + 2:
        return None
    cp = unseal(bytes(raw), _CP_SIZE)
    if cp is None:
        return None
    v = struct.unpack(_CP_FMT, cp)
    return v if v[0] == _CP_TAG else None


def _rtc_ms(retained):
    try:
        ms = retained.rtc_ms()
    except OSError:
        return None
    return None if ms is None else ms & _LAP


def _link(retained, boot, cause, up_ms, rtc):
    """This boot's link to the previous one, from its checkpoint and the RTC ms ``rtc`` read at
    uptime ``up_ms`` (None: no RTC); None if there is none to make."""
    cp = _checkpoint(retained)
    prev = (boot - 1) & 0xFFFF
    if cp is None or cp[1] != prev:
        return None  # a checkpoint of no boot just before this one (a new log life, an old one)
    _, _, prev_ms, prev_rtc, cp_flags = cp
    late = STOP_MS if cp_flags & _CPF_FINAL else (_WDT_LATE_MS if cause == P.RC_WDT else CHECKPOINT_MS)
    lo = _BOOT_MIN_MS
    hi = late + _BOOT_MAX_MS
    if rtc is not None and cp_flags & _CPF_RTC:
        gap = ((rtc - prev_rtc) & _LAP) - up_ms  # RTC ms from the checkpoint to this boot's ms 0
        # Consistent: not before the checkpoint, and no later than a board twice as slow to boot
        # as the estimate allows (an RTC stepped or restarted reads far off); deep sleep has no
        # bound but the u32 field's half. Read as a power-on, the timer must also have counted
        # more than one boot's time by this boot's ms 0: one restarted by a power-up reads no
        # more (a stale checkpoint of a boot cut in its first second could pass the rest).
        if 0 <= gap and (gap <= hi + _BOOT_MAX_MS or (cause == P.RC_DEEPSLEEP and gap < 0x7FFFFFFF)) and (
            cause != P.RC_POWER_ON or (rtc - up_ms) & _LAP > _BOOT_MAX_MS
        ):
            err = _RTC_READ_MS + gap * _RTC_DRIFT_PPM // 1000000
            return P.encode_bootlink(boot, prev, cause, P.BLF_RTC, prev_ms, gap, err)
    if cause == P.RC_DEEPSLEEP or cause == P.RC_POWER_ON:
        # Asleep for as long as it was set to, or powered off for as long as it was: nothing
        # bounds the gap. (A power-on's checkpoint may even be stale RAM that kept its bits.)
        return None
    return P.encode_bootlink(boot, prev, cause, 0, prev_ms, (lo + hi) // 2, (hi - lo + 1) // 2)
