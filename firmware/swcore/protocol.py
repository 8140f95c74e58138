"""The one band <-> host protocol: every record, its bytes, its version.

Imported unchanged by the band firmware (MicroPython) and the host (CPython).
All layouts are little-endian ``struct`` formats; byte 0 of every record is
the protocol ``VERSION``, byte 1 its type (band -> host) or opcode
(host -> band). Every record the band sends fits in 20 bytes (the BLE 4.x
default ATT payload) except RAW, which packs as many samples as the
negotiated MTU allows. Spasm events carry a u32 sequence number that never
repeats on a band; the host backfills by it after any gap.

The same records travel over USB serial inside ``frame()`` (sync, length,
CRC-16). Byte-vector tests (tests/test_protocol.py) pin every layout: change
one and ``VERSION`` goes up. A new record type or opcode changes no layout and
keeps it (an older decoder refuses the new record by its type alone, and the
other side goes on: docs/protocol.md says so for each).

Decoders raise ``ProtocolError`` (a ``ValueError``) with a message naming the
record and the field at fault; its ``code`` is the error code the band
answers a bad control write with.
"""

import struct

from swcore.crc import crc16

VERSION = 1

# --- GATT ---------------------------------------------------------------------
SERVICE_UUID = "5b1d0001-7a3e-4c8e-9d2a-5a5a3c0ffee0"
EVENTS_UUID = "5b1d0002-7a3e-4c8e-9d2a-5a5a3c0ffee0"  # notify: EVENT, ACTIVITY, LOGINFO, BOOTLINK
STATUS_UUID = "5b1d0003-7a3e-4c8e-9d2a-5a5a3c0ffee0"  # read, notify: STATUS
CONTROL_UUID = "5b1d0004-7a3e-4c8e-9d2a-5a5a3c0ffee0"  # write (encrypted), notify: RESP
RAW_UUID = "5b1d0005-7a3e-4c8e-9d2a-5a5a3c0ffee0"  # notify: RAW
NAME_PREFIX = "spasmwatch-"
ATT_DEFAULT_PAYLOAD = 20  # 23-byte default MTU minus the 3-byte ATT header

# --- record types (band -> host), byte 1 ----------------------------------------
T_EVENT = 0x01
T_STATUS = 0x02
T_ACTIVITY = 0x03
T_LOGINFO = 0x04
T_RESP = 0x05
T_RAW = 0x06
T_BOOTLINK = 0x07  # how the band's previous boot ties to this one (docs/protocol.md, "BOOTLINK")

# ver, type, seq, boot, onset_ms, duration_ms, peak_rate_mrads, peak_angle_mrad, confidence, flags
EVENT_FMT = "<BBIHIHHHBB"
EVENT_SIZE = 20
# ver, type, battery_pct, worn, log_fill_pct, flags, errors, boot, uptime_s, next_seq
STATUS_FMT = "<BBBbBBHHII"
STATUS_SIZE = 18
# ver, type, boot, t_ms (end of epoch), activity (active samples), breath (% of noise), off_body, worn
ACTIVITY_FMT = "<BBHIHHBb"
ACTIVITY_SIZE = 14
# ver, type, flags, reserved, oldest_seq, next_seq, capacity
LOGINFO_FMT = "<BBBBIII"
LOGINFO_SIZE = 16
# ver, type, opcode, code, arg
RESP_FMT = "<BBBBI"
RESP_SIZE = 8
# ver, type, n_samples, dropped, first_index; then n x (ax, ay, az mg; gx, gy, gz ddps)
RAW_HEAD_FMT = "<BBBBI"
RAW_HEAD_SIZE = 8
RAW_SAMPLE_FMT = "<hhhhhh"
RAW_SAMPLE_SIZE = 12
# ver, type, boot, prev_boot, cause, flags, prev_ms, gap_ms, err_ms: band ms prev_ms of boot prev_boot
# was gap_ms (+-err_ms) before band ms 0 of boot ``boot``
BOOTLINK_FMT = "<BBHHBBIIH"
BOOTLINK_SIZE = 18

# EVENT.flags
EF_TIME_SYNCED = 0x01  # the band had wall time when it logged the event
EF_MATCHED = 0x02  # a cluster-counter match (swcore.matcher): counted in a cluster
EF_ALIKE = 0x04  # a full spasm shaped like one up to 40 s before it: its chain's matches count towards the alarm
# STATUS.flags
SF_LOG_WRAPPED = 0x01  # the flash ring has overwritten its oldest events
SF_SAFE_MODE = 0x02  # repeated crashes: sensing stopped, radio and log kept
SF_LOW_BATTERY = 0x04
SF_CRITICAL_BATTERY = 0x08  # sensing and flash writes stopped to keep the log safe
SF_TIME_SYNCED = 0x10
SF_RAW_ON = 0x20
SF_ENCRYPTED = 0x40  # the link this status is read on is encrypted
SF_PAIRING = 0x80  # the pairing window is open: the band bonds a new central now (docs/firmware.md, "Security")
# STATUS.errors
ERR_IMU = 0x0001  # IMU missing, wrong WHO_AM_I or I2C error
ERR_LOG_WRITE = 0x0002  # a flash log write failed
ERR_CONFIG_RESET = 0x0004  # stored config invalid: defaults in use
ERR_CRASHED = 0x0008  # the previous boot ended in a crash or watchdog reset
ERR_LOG_TORN = 0x0010  # a torn (power loss) log record was found and skipped
ERR_BATTERY_ADC = 0x0020
ERR_FIFO_OVERRUN = 0x0040  # samples lost: the loop fell behind the IMU FIFO
ERR_NOT_WORN = 0x0080  # no breathing micro-motion: band off the baby
# LOGINFO.flags
LF_WRAPPED = 0x01
LF_GAP = 0x02  # the requested seq is older than the oldest still stored
LF_DONE = 0x04  # backfill finished: live events follow
# The next ACTIVITY on this link waited in the band (a busy stack, no host yet, a backfill) over
# HELD_MS after its end: its t_ms is no reading of the band's clock now (docs/protocol.md).
LF_HELD = 0x08
# An epoch is handed to the stack within a batch (200 ms) of its end when nothing holds it up;
# one older than this (ms) at its send waited, and gets LF_HELD. Well under the host's 5 s step
# threshold (CLOCK_STEP_S), so an unmarked epoch left the band at most 1 s (+ the stack's 2 s of
# retries, band/ble.py) after its end. Here, not in band/: it is what LF_HELD means to a host.
HELD_MS = 1000

# BOOTLINK.cause: how boot prev_boot ended, as the next boot's machine.reset_cause() tells it.
RC_HARD = 1  # machine.reset() (a crash, REBOOT), a panic
RC_WDT = 2  # the watchdog
RC_SOFT = 3  # MicroPython's soft reset (Ctrl-D at the REPL): the chip did not reset
RC_DEEPSLEEP = 4  # woke from deep sleep
# Read as a power-on (PWRON_RESET), yet the RTC memory and the RTC timer were kept: a brown-out
# (MicroPython's ESP32 port reads ESP_RST_BROWNOUT as PWRON_RESET). Always measured (BLF_RTC): a
# true power-up loses both, and the power may have been off for any time (docs/protocol.md).
RC_POWER_ON = 5
RESET_CAUSES = {RC_HARD: "hard", RC_WDT: "watchdog", RC_SOFT: "soft", RC_DEEPSLEEP: "deep sleep", RC_POWER_ON: "brown-out"}
# BOOTLINK.flags
BLF_RTC = 0x01  # gap_ms measured by a counter that ran through the reset (the ESP32's RTC timer); else estimated
ERR_MS_MAX = 0xFFFF  # BOOTLINK.err_ms saturates here

# --- pairing window --------------------------------------------------------------------
# The band bonds a new central only this long (ms) after a power-on, and while it has no bond
# at all; bonded centrals re-encrypt at any time. A family pairs right after switching the
# band on, and the daemon tries again at least every minute (BACKOFF_S "not_found" cap and
# PAIRING_RETRY_S, host/spasmwatch/daemon/consts.py), so 5 minutes is 5 or more tries;
# a neighbour's phone gets no more than those 5 minutes after the band was switched on.
# A watchdog, crash or REBOOT reset (at night) opens no window at all (band/app.py).
# Here, not in band/: the host tells the family this number when a band refuses to bond.
PAIRING_WINDOW_MS = 300000

# --- control (host -> band), byte 1 is the opcode ------------------------------------
OP_TIME_SYNC = 0x01  # <BBIH: unix_s, ms          RESP.arg = band ms at sync
OP_BACKFILL = 0x02  # <BBI: from_seq              BOOTLINKs kept, LOGINFO, events from_seq.., LOGINFO(DONE)
OP_CONFIG = 0x03  # <BBBi: key, value            RESP.arg = 1 if it applies after reboot
OP_RAW = 0x04  # <BBB: on (0/1)
OP_REBOOT = 0x05  # <BBI: REBOOT_MAGIC           safe reboot: log closed first
OP_INFO = 0x06  # <BBB: item                      RESP.arg = the item's value (INFO_*)
REBOOT_MAGIC = 0x544F4F42  # b"BOOT"
_CMD_FMT = {
    OP_TIME_SYNC: "<BBIH",
    OP_BACKFILL: "<BBI",
    OP_CONFIG: "<BBBi",
    OP_RAW: "<BBB",
    OP_REBOOT: "<BBI",
    OP_INFO: "<BBB",
}
_CMD_NAMES = {
    OP_TIME_SYNC: "time_sync",
    OP_BACKFILL: "backfill",
    OP_CONFIG: "config",
    OP_RAW: "raw",
    OP_REBOOT: "reboot",
    OP_INFO: "info",
}

# INFO items (read-only facts of the running band). An IMU samples at its own step
# near the configured rate (MPU6886 50/100 Hz for 52/104), and events, epochs and
# raw sample indexes count its samples: the host needs the step, not the config.
INFO_RATE_MHZ = 1  # IMU sample rate in mHz (0: not sampling: no IMU, safe mode)
INFO_ITEMS = (INFO_RATE_MHZ,)

# CONFIG keys: key -> (name, min, max); RATE_HZ also must be one of RATES_HZ.
CFG_MIN_CONFIDENCE = 1  # events below this confidence (0-100) are not logged
CFG_RATE_HZ = 2  # IMU rate; applies after reboot
CFG_STATUS_PERIOD_S = 3  # status notify period
CFG_LOW_BATTERY_PCT = 4  # LOW flag (and raw streaming off) below this
CONFIG_KEYS = {
    CFG_MIN_CONFIDENCE: ("min_confidence", 0, 100),
    CFG_RATE_HZ: ("rate_hz", 50, 104),
    CFG_STATUS_PERIOD_S: ("status_period_s", 1, 3600),
    CFG_LOW_BATTERY_PCT: ("low_battery_pct", 5, 50),
}
RATES_HZ = (50, 52, 100, 104)

# RESP.code (and ProtocolError.code)
OK = 0
E_VERSION = 1
E_LENGTH = 2
E_OPCODE = 3
E_VALUE = 4
E_AUTH = 5  # control write on a link that is not encrypted and bonded
E_KEY = 6  # unknown config key or info item
E_STATE = 7  # not possible now (e.g. raw streaming on low battery)
E_FLASH = 8  # could not store
E_MALFORMED = 9
ERROR_NAMES = {
    OK: "ok",
    E_VERSION: "unsupported version",
    E_LENGTH: "bad length",
    E_OPCODE: "unknown opcode",
    E_VALUE: "value out of range",
    E_AUTH: "not authorised (pair and bond first)",
    E_KEY: "unknown config key or info item",
    E_STATE: "not possible in the current state",
    E_FLASH: "flash write failed",
    E_MALFORMED: "malformed",
}


class ProtocolError(ValueError):
    """A record that cannot be decoded; ``code`` is one of the E_* codes."""

    def __init__(self, message, code=E_MALFORMED):
        super().__init__(message)
        self.code = code


def band_name(device_id):
    """The name a band advertises (complete local name): the prefix and its device id's last 4 characters."""
    return NAME_PREFIX + device_id[-4:]


def _check(buf, what, size, exact=True):
    if buf is None or len(buf) < 2:
        raise ProtocolError("%s: record of %d bytes is too short" % (what, 0 if buf is None else len(buf)), E_LENGTH)
    if buf[0] != VERSION:
        raise ProtocolError(
            "%s: unsupported protocol version %d (this build speaks %d)" % (what, buf[0], VERSION), E_VERSION
        )
    n = len(buf)
    if (exact and n != size) or n < size:
        raise ProtocolError("%s: length %d, expected %d bytes" % (what, n, size), E_LENGTH)


def _range(what, field, value, lo, hi):
    if value < lo or value > hi:
        raise ProtocolError("%s: field '%s' = %d outside %d..%d" % (what, field, value, lo, hi), E_VALUE)


# --- band -> host ---------------------------------------------------------------------


def pack_event_into(buf, off, seq, boot, onset_ms, duration_ms, peak_rate, peak_angle, confidence, flags):
    """Write an EVENT record into ``buf`` at ``off`` (no heap use); values are clamped."""
    struct.pack_into(
        EVENT_FMT,
        buf,
        off,
        VERSION,
        T_EVENT,
        seq & 0xFFFFFFFF,
        boot & 0xFFFF,
        onset_ms & 0xFFFFFFFF,
        min(duration_ms, 0xFFFF),
        min(peak_rate, 0xFFFF),
        min(peak_angle, 0xFFFF),
        min(max(confidence, 0), 100),
        flags & 0xFF,
    )


def encode_event(seq, boot, onset_ms, duration_ms, peak_rate, peak_angle, confidence, flags=0):
    buf = bytearray(EVENT_SIZE)
    pack_event_into(buf, 0, seq, boot, onset_ms, duration_ms, peak_rate, peak_angle, confidence, flags)
    return bytes(buf)


def pack_status_into(buf, battery_pct, worn, log_fill_pct, flags, errors, boot, uptime_s, next_seq):
    struct.pack_into(
        STATUS_FMT,
        buf,
        0,
        VERSION,
        T_STATUS,
        min(max(battery_pct, 0), 100),
        worn,
        min(max(log_fill_pct, 0), 100),
        flags & 0xFF,
        errors & 0xFFFF,
        boot & 0xFFFF,
        uptime_s & 0xFFFFFFFF,
        next_seq & 0xFFFFFFFF,
    )


def encode_status(battery_pct, worn, log_fill_pct, flags, errors, boot, uptime_s, next_seq):
    buf = bytearray(STATUS_SIZE)
    pack_status_into(buf, battery_pct, worn, log_fill_pct, flags, errors, boot, uptime_s, next_seq)
    return bytes(buf)


def encode_activity(boot, t_ms, activity, breath, off_body, worn):
    return struct.pack(
        ACTIVITY_FMT,
        VERSION,
        T_ACTIVITY,
        boot & 0xFFFF,
        t_ms & 0xFFFFFFFF,
        min(max(activity, 0), 0xFFFF),
        min(max(breath, 0), 0xFFFF),
        1 if off_body else 0,
        worn if worn in (-1, 0, 1) else -1,
    )


def encode_loginfo(flags, oldest_seq, next_seq, capacity):
    return struct.pack(LOGINFO_FMT, VERSION, T_LOGINFO, flags, 0, oldest_seq, next_seq, capacity)


def encode_resp(opcode, code, arg=0):
    return struct.pack(RESP_FMT, VERSION, T_RESP, opcode & 0xFF, code, arg & 0xFFFFFFFF)


def raw_capacity(payload_max):
    """Samples per RAW record for a notification payload of ``payload_max`` bytes."""
    n = (payload_max - RAW_HEAD_SIZE) // RAW_SAMPLE_SIZE
    return 255 if n > 255 else n


def pack_raw_head_into(buf, n_samples, dropped, first_index):
    struct.pack_into(RAW_HEAD_FMT, buf, 0, VERSION, T_RAW, n_samples, min(dropped, 255), first_index & 0xFFFFFFFF)


def encode_raw(first_index, samples, dropped=0):
    buf = bytearray(RAW_HEAD_SIZE + RAW_SAMPLE_SIZE * len(samples))
    pack_raw_head_into(buf, len(samples), dropped, first_index)
    off = RAW_HEAD_SIZE
    for s in samples:
        struct.pack_into(RAW_SAMPLE_FMT, buf, off, *s)
        off += RAW_SAMPLE_SIZE
    return bytes(buf)


def encode_bootlink(boot, prev_boot, cause, flags, prev_ms, gap_ms, err_ms):
    """A BOOTLINK record: ``prev_boot``'s band ms ``m`` is ``boot``'s ``m - prev_ms - gap_ms`` (+-``err_ms``).

    Raises ProtocolError naming the field for a value its field cannot carry, an unknown cause
    or ``prev_boot == boot`` (``decode`` checks a record with it); err_ms saturates, prev_ms runs
    modulo 2^32 like every band ms."""
    for field, value, hi in (("boot", boot, 0xFFFF), ("prev_boot", prev_boot, 0xFFFF), ("flags", flags, 0xFF),
                             ("gap_ms", gap_ms, 0xFFFFFFFF), ("err_ms", err_ms, 1 << 62)):  # fmt: skip
        _range("bootlink", field, value, 0, hi)
    if cause not in RESET_CAUSES:
        raise ProtocolError("bootlink: field 'cause' = %d is no reset cause (1..5)" % cause, E_VALUE)
    if prev_boot == boot:
        raise ProtocolError("bootlink: field 'prev_boot' = %d is the boot itself" % boot, E_VALUE)
    e = ERR_MS_MAX if err_ms > ERR_MS_MAX else err_ms
    return struct.pack(BOOTLINK_FMT, VERSION, T_BOOTLINK, boot, prev_boot, cause, flags, prev_ms & 0xFFFFFFFF, gap_ms, e)


_TYPE_NAMES = {
    T_EVENT: "event",
    T_STATUS: "status",
    T_ACTIVITY: "activity",
    T_LOGINFO: "loginfo",
    T_RESP: "resp",
    T_RAW: "raw",
    T_BOOTLINK: "bootlink",
}


def decode(buf):
    """Decode one band -> host record into a dict with a ``type`` name.

    Raises ProtocolError for a short, truncated, over-long, unknown-version,
    unknown-type or out-of-range record.
    """
    _check(buf, "record", 2, exact=False)
    t = buf[1]
    name = _TYPE_NAMES.get(t)
    if name is None:
        raise ProtocolError("record: unknown type 0x%02x" % t, E_OPCODE)
    if t == T_EVENT:
        _check(buf, name, EVENT_SIZE)
        v = struct.unpack(EVENT_FMT, buf)
        _range(name, "confidence", v[8], 0, 100)
        return {
            "type": name,
            "seq": v[2],
            "boot": v[3],
            "onset_ms": v[4],
            "duration_ms": v[5],
            "peak_rate_mrads": v[6],
            "peak_angle_mrad": v[7],
            "confidence": v[8],
            "flags": v[9],
        }
    if t == T_STATUS:
        _check(buf, name, STATUS_SIZE)
        v = struct.unpack(STATUS_FMT, buf)
        _range(name, "battery_pct", v[2], 0, 100)
        _range(name, "worn", v[3], -1, 1)
        _range(name, "log_fill_pct", v[4], 0, 100)
        return {
            "type": name,
            "battery_pct": v[2],
            "worn": v[3],
            "log_fill_pct": v[4],
            "flags": v[5],
            "errors": v[6],
            "boot": v[7],
            "uptime_s": v[8],
            "next_seq": v[9],
        }
    if t == T_ACTIVITY:
        _check(buf, name, ACTIVITY_SIZE)
        v = struct.unpack(ACTIVITY_FMT, buf)
        _range(name, "off_body", v[6], 0, 1)
        _range(name, "worn", v[7], -1, 1)
        return {
            "type": name,
            "boot": v[2],
            "t_ms": v[3],
            "activity": v[4],
            "breath": v[5],
            "off_body": v[6],
            "worn": v[7],
        }
    if t == T_LOGINFO:
        _check(buf, name, LOGINFO_SIZE)
        v = struct.unpack(LOGINFO_FMT, buf)
        if v[4] > v[5]:
            raise ProtocolError("loginfo: oldest_seq %d after next_seq %d" % (v[4], v[5]), E_VALUE)
        return {"type": name, "flags": v[2], "oldest_seq": v[4], "next_seq": v[5], "capacity": v[6]}
    if t == T_RESP:
        _check(buf, name, RESP_SIZE)
        v = struct.unpack(RESP_FMT, buf)
        if v[3] not in ERROR_NAMES:
            raise ProtocolError("resp: unknown code %d" % v[3], E_VALUE)
        return {"type": name, "opcode": v[2], "code": v[3], "error": ERROR_NAMES[v[3]], "arg": v[4]}
    if t == T_BOOTLINK:
        _check(buf, name, BOOTLINK_SIZE)
        v = struct.unpack(BOOTLINK_FMT, buf)
        encode_bootlink(*v[2:])  # its checks: cause, prev_boot
        return {
            "type": name,
            "boot": v[2],
            "prev_boot": v[3],
            "cause": v[4],
            "flags": v[5],
            "prev_ms": v[6],
            "gap_ms": v[7],
            "err_ms": v[8],
        }
    # T_RAW
    _check(buf, name, RAW_HEAD_SIZE, exact=False)
    n = buf[2]
    _check(buf, name, RAW_HEAD_SIZE + n * RAW_SAMPLE_SIZE)
    samples = []
    off = RAW_HEAD_SIZE
    for _ in range(n):
        samples.append(struct.unpack_from(RAW_SAMPLE_FMT, buf, off))
        off += RAW_SAMPLE_SIZE
    return {
        "type": name,
        "dropped": buf[3],
        "first_index": struct.unpack_from("<I", buf, 4)[0],
        "samples": samples,
    }


# --- host -> band -----------------------------------------------------------------------


def encode_time_sync(unix_s, ms):
    return struct.pack(_CMD_FMT[OP_TIME_SYNC], VERSION, OP_TIME_SYNC, unix_s, ms)


def encode_backfill(from_seq):
    return struct.pack(_CMD_FMT[OP_BACKFILL], VERSION, OP_BACKFILL, from_seq)


def encode_config(key, value):
    return struct.pack(_CMD_FMT[OP_CONFIG], VERSION, OP_CONFIG, key, value)


def encode_raw_stream(on):
    return struct.pack(_CMD_FMT[OP_RAW], VERSION, OP_RAW, 1 if on else 0)


def encode_reboot():
    return struct.pack(_CMD_FMT[OP_REBOOT], VERSION, OP_REBOOT, REBOOT_MAGIC)


def encode_info(item):
    return struct.pack(_CMD_FMT[OP_INFO], VERSION, OP_INFO, item)


def decode_command(buf):
    """Decode and validate a control write: returns (opcode, tuple of arguments).

    Every check the band needs before acting is here, so a refused write
    changes nothing: version, length, opcode, and each value's range.
    """
    _check(buf, "command", 2, exact=False)
    op = buf[1]
    fmt = _CMD_FMT.get(op)
    if fmt is None:
        raise ProtocolError("command: unknown opcode 0x%02x" % op, E_OPCODE)
    name = _CMD_NAMES[op]
    _check(buf, name, struct.calcsize(fmt))
    args = struct.unpack(fmt, buf)[2:]
    if op == OP_TIME_SYNC:
        _range(name, "ms", args[1], 0, 999)
    elif op == OP_CONFIG:
        key, value = args
        spec = CONFIG_KEYS.get(key)
        if spec is None:
            raise ProtocolError("config: unknown key %d" % key, E_KEY)
        _range(name, spec[0], value, spec[1], spec[2])
        if key == CFG_RATE_HZ and value not in RATES_HZ:
            raise ProtocolError("config: rate_hz %d not one of %s" % (value, RATES_HZ), E_VALUE)
    elif op == OP_RAW:
        _range(name, "on", args[0], 0, 1)
    elif op == OP_REBOOT and args[0] != REBOOT_MAGIC:
        raise ProtocolError("reboot: bad magic 0x%08x" % args[0], E_VALUE)
    elif op == OP_INFO and args[0] not in INFO_ITEMS:
        raise ProtocolError("info: unknown item %d" % args[0], E_KEY)
    return op, args


# --- serial framing -----------------------------------------------------------------------
# A5 5A | len u8 | payload (len bytes) | crc16 u16 over len + payload
SYNC0 = 0xA5
SYNC1 = 0x5A
FRAME_OVERHEAD = 5


def frame(payload):
    n = len(payload)
    if n > 255:
        raise ProtocolError("frame: payload of %d bytes exceeds 255" % n, E_LENGTH)
    out = bytearray(n + FRAME_OVERHEAD)
    out[0] = SYNC0
    out[1] = SYNC1
    out[2] = n
    out[3 : 3 + n] = payload
    struct.pack_into("<H", out, 3 + n, crc16(out, 2, 3 + n))
    return bytes(out)


def _good_frame_at(b, j):
    """True if ``b`` holds a whole frame with a good CRC at offset ``j``."""
    if j + 3 > len(b) or b[j] != SYNC0 or b[j + 1] != SYNC1:
        return False
    end = j + 3 + b[j + 2]
    return end + 2 <= len(b) and crc16(b, j + 2, end) == b[end] | (b[end + 1] << 8)


class FrameDecoder:
    """Streaming de-framer for serial bytes: ``feed`` returns whole payloads.

    Noise and bad CRCs are skipped (counted in ``errors``) by resyncing on the
    next sync pair; a record inside a good frame is then checked by ``decode``.
    A sync pair in noise announces a frame that may never come: while that
    frame is incomplete, a whole good frame further on wins (else the real
    frames behind the noise would wait for up to 255 more bytes).
    """

    def __init__(self):
        self._buf = b""
        self.errors = 0

    def feed(self, data):
        b = self._buf + bytes(data)
        out = []
        while True:
            i = 0
            while i + 1 < len(b) and not (b[i] == SYNC0 and b[i + 1] == SYNC1):
                i += 1
            if i:
                self.errors += 1
                b = b[i:]
            if len(b) < 3:
                break
            n = b[2]
            if len(b) < n + FRAME_OVERHEAD:
                j = 1
                while j + FRAME_OVERHEAD <= len(b) and not _good_frame_at(b, j):
                    j += 1
                if j + FRAME_OVERHEAD > len(b):
                    break
                self.errors += 1
                b = b[j:]
                continue
            (want,) = struct.unpack_from("<H", b, 3 + n)
            if crc16(b, 2, 3 + n) != want:
                self.errors += 1
                b = b[2:]
                continue
            out.append(b[3 : 3 + n])
            b = b[n + FRAME_OVERHEAD :]
        self._buf = b
        return out
