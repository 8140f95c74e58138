"""The band's half of the band <-> host protocol (``swcore.protocol``): every constant, the
records the band sends and the control writes it decodes.

The band's resident code imports this module alone, so the host's half (``decode``, the
commands the host sends, the serial framing, the codes' names) stays off its heap: ~5 KB of
bytecode on the 64-bit unix port (docs/firmware.md, "Memory and speed"). ``swcore.protocol``
re-exports every name here; the host and the tests import that one, so each layout is
written once.
"""

import struct

from swcore.compat import const

VERSION = 1

# --- GATT ---------------------------------------------------------------------
SERVICE_UUID = "5b1d0001-7a3e-4c8e-9d2a-5a5a3c0ffee0"
EVENTS_UUID = "5b1d0002-7a3e-4c8e-9d2a-5a5a3c0ffee0"  # notify: EVENT, ACTIVITY, LOGINFO, BOOTLINK
STATUS_UUID = "5b1d0003-7a3e-4c8e-9d2a-5a5a3c0ffee0"  # read, notify: STATUS
CONTROL_UUID = "5b1d0004-7a3e-4c8e-9d2a-5a5a3c0ffee0"  # write (encrypted), notify: RESP
RAW_UUID = "5b1d0005-7a3e-4c8e-9d2a-5a5a3c0ffee0"  # notify: RAW
NAME_PREFIX = "spasmwatch-"  # the family's name for a band (config, labels, the host's texts): never on air
# What the band advertises (the scan response's complete local name): neutral. Anyone in range
# hears it, and scanners that log what they hear put it on public maps: "spasmwatch-" told the
# street that a baby there is monitored for spasms (docs/firmware.md, "Threat model"). The host
# finds its band among the service UUID's advertisers by the id's last 4 characters
# (spasmwatch/transport/ble.py ``label``).
AIR_PREFIX = "band-"
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
_RAW_HEAD_FMT = const("<BBBBI")
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
ERR_RADIO = 0x0100  # the radio refused to start at this boot: sensed and logged to flash meanwhile (this boot)
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
# A central whose link is not secure (encrypted and bonded) this long (real ms) after it connected
# is dropped (band/ble.py Peripheral.drop_unsecured, from the status task: 30-40 s): the band takes
# one connection and does not advertise while it is up, so a neighbour's phone that connected and
# stayed (nRF Connect left open, or pairing unbonded with the window shut) kept the family's host
# out all night, and no alarm came. The daemon's connect, its Device Information reads and its
# Just Works pairing take ~1-3 s, each step at most REQUEST_TIMEOUT_S (10 s,
# host/spasmwatch/daemon/consts.py): 30 s leaves room for three of them.
SECURE_WITHIN_MS = 30000

# --- control (host -> band), byte 1 is the opcode ------------------------------------
OP_TIME_SYNC = 0x01  # <BBIH: unix_s, ms          RESP.arg = band ms at sync
OP_BACKFILL = 0x02  # <BBI: from_seq              BOOTLINKs kept, LOGINFO, events from_seq.., LOGINFO(DONE)
OP_CONFIG = 0x03  # <BBBi: key, value            RESP.arg = 1 if it applies after reboot
OP_RAW = 0x04  # <BBB: on (0/1)
OP_REBOOT = 0x05  # <BBI: REBOOT_MAGIC           safe reboot: log closed first
OP_INFO = 0x06  # <BBB: item                      RESP.arg = the item's value (INFO_*)
OP_BONDS = 0x07  # <BBB: action                   RESP.arg = BONDS_* (docs/protocol.md, "BONDS")
REBOOT_MAGIC = 0x544F4F42  # b"BOOT"
_CMD_FMT = {
    OP_TIME_SYNC: "<BBIH",
    OP_BACKFILL: "<BBI",
    OP_CONFIG: "<BBBi",
    OP_RAW: "<BBB",
    OP_REBOOT: "<BBI",
    OP_INFO: "<BBB",
    OP_BONDS: "<BBB",
}
_CMD_NAMES = {
    OP_TIME_SYNC: "time_sync",
    OP_BACKFILL: "backfill",
    OP_CONFIG: "config",
    OP_RAW: "raw",
    OP_REBOOT: "reboot",
    OP_INFO: "info",
    OP_BONDS: "bonds",
}

# INFO items (read-only facts of the running band). An IMU samples at its own step
# near the configured rate (MPU6886 50/100 Hz for 52/104), and events, epochs and
# raw sample indexes count its samples: the host needs the step, not the config.
INFO_RATE_MHZ = 1  # IMU sample rate in mHz (0: not sampling: no IMU, safe mode)
# The firmware revision, 0x2A26's text (0.1.0+<build id>), for a link without Device Information
# (USB serial): item INFO_REVISION + i answers its bytes 4i..4i+3 as a u32 little-endian, zero-padded;
# a zero byte ends it. 8 items: 32 bytes, and 0.1.0+<12 hex> is 18 (docs/protocol.md, "INFO").
INFO_REVISION = 16
INFO_REVISION_ITEMS = 8
INFO_ITEMS = (INFO_RATE_MHZ,) + tuple(range(INFO_REVISION, INFO_REVISION + INFO_REVISION_ITEMS))
# In the firmware revision, between the version and the build id the flash wrote (band/startup.py
# joins them, the host's spasmwatch/fwbuild.py splits them): semver's build metadata, so whatever
# reads 0x2A26 as a version still reads 0.1.0 first. 0.1.0+<12 hex> is 18 bytes: one read at the
# default MTU (22). Here, not in protocol.py, since the band's start-up has this module at hand.
REVISION_SEPARATOR = "+"

# BONDS actions. The band bonds anyone in its pairing window (Just Works): these let the family's
# host see how many centrals hold a bond and remove every bond but its own (docs/firmware.md,
# "Threat model"). RESP.arg: for COUNT the centrals bonded (low 16 bits) and BONDS_ASKER_KNOWN
# when the band can tell which of them asks; for REVOKE_OTHERS the centrals whose bond it removed.
BONDS_COUNT = 1
BONDS_REVOKE_OTHERS = 2
BONDS_ASKER_KNOWN = 0x10000

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
# A band's settings with no config.json (band/config.py), and what the host writes back at each
# connection but the rate, which it configures (a central that bonded in the pairing window may
# have changed them: min_confidence 100 logs no spasm; docs/firmware.md "Threat model" 5).
CONFIG_DEFAULTS = {
    CFG_MIN_CONFIDENCE: 0,
    CFG_RATE_HZ: 52,
    # Any period in range: while samples are being lost (ERR_FIFO_OVERRUN) the band sends STATUS at
    # least every 10 s anyway, for the host's samples_lost rule (band/app.py _LOSS_STATUS_MS).
    CFG_STATUS_PERIOD_S: 10,
    CFG_LOW_BATTERY_PCT: 15,
}

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


class ProtocolError(ValueError):
    """A record that cannot be decoded; ``code`` is one of the E_* codes."""

    def __init__(self, message, code=E_MALFORMED):
        super().__init__(message)
        self.code = code


def band_name(device_id):
    """The family's name for a band: the prefix and its device id's last 4 characters."""
    return NAME_PREFIX + device_id[-4:]


def air_name(device_id):
    """The name a band advertises (complete local name): neutral, with its id's last 4 characters."""
    return AIR_PREFIX + device_id[-4:]


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
    struct.pack_into(_RAW_HEAD_FMT, buf, 0, VERSION, T_RAW, n_samples, min(dropped, 255), first_index & 0xFFFFFFFF)


# --- host -> band -----------------------------------------------------------------------


def revision_chunk(revision, item):
    """INFO item ``item`` (INFO_REVISION..) of the firmware revision ``revision``: 4 of its bytes."""
    i = 4 * (item - INFO_REVISION)
    return int.from_bytes((revision.encode() + bytes(4))[i : i + 4], "little")


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
    elif op == OP_BONDS:
        _range(name, "action", args[0], BONDS_COUNT, BONDS_REVOKE_OTHERS)
    return op, args


