"""The one band <-> host protocol: every record, its bytes, its version.

Imported unchanged by the host (CPython) and, for its start-up only, the band
firmware (MicroPython): the band's resident code imports its half,
``swcore.wire`` (every constant, the records the band sends, ``decode_command``),
whose every name this module re-exports; the rest (``decode``, the commands
the host sends, the framing, the codes' names) is the host's.
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
from swcore.wire import *  # noqa: F403  (the band's half, every name re-exported)
from swcore.wire import _CMD_FMT, _check, _range

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
# BOOTLINK.cause (RC_*) names
RESET_CAUSES = {RC_HARD: "hard", RC_WDT: "watchdog", RC_SOFT: "soft", RC_DEEPSLEEP: "deep sleep", RC_POWER_ON: "brown-out"}

# --- band -> host ---------------------------------------------------------------------


def encode_event(seq, boot, onset_ms, duration_ms, peak_rate, peak_angle, confidence, flags=0):
    buf = bytearray(EVENT_SIZE)
    pack_event_into(buf, 0, seq, boot, onset_ms, duration_ms, peak_rate, peak_angle, confidence, flags)
    return bytes(buf)


def encode_status(battery_pct, worn, log_fill_pct, flags, errors, boot, uptime_s, next_seq):
    buf = bytearray(STATUS_SIZE)
    pack_status_into(buf, battery_pct, worn, log_fill_pct, flags, errors, boot, uptime_s, next_seq)
    return bytes(buf)


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


def revision_ended(chunk):
    """Whether an INFO_REVISION item's answer ends the revision (holds a zero byte)."""
    return any(not (chunk >> shift) & 0xFF for shift in (0, 8, 16, 24))


def revision_text(chunks):
    """The firmware revision from the INFO_REVISION items' answers, in item order (``revision_chunk``)."""
    raw = b"".join(struct.pack("<I", c) for c in chunks)
    return raw.split(b"\0")[0].decode("utf-8", "replace")


def encode_bonds(action):
    return struct.pack(_CMD_FMT[OP_BONDS], VERSION, OP_BONDS, action)


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

    ``on_bad_crc``, if given, is called with the payload of each whole frame whose
    CRC failed, its bytes as they came (any may be wrong): a host can tell that
    the answer it waits for was likely lost, rather than wait out its timeout.
    """

    def __init__(self, on_bad_crc=None):
        self._buf = b""
        self.errors = 0
        self.on_bad_crc = on_bad_crc

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
                if self.on_bad_crc is not None:
                    self.on_bad_crc(b[3 : 3 + n])
                b = b[2:]
                continue
            out.append(b[3 : 3 + n])
            b = b[n + FRAME_OVERHEAD :]
        self._buf = b
        return out
