"""Seeds and mutators shared by the fuzz tests (tests/fuzz/) and the long fuzz run (bench/fuzz.py).

Everything here is driven by a ``random.Random``, so a run is reproduced
by its seed; the hypothesis tests use their own strategies and only borrow
the seed builders.

- ``valid_record`` / ``valid_command``: a random well-formed record (band ->
  host) or control write (host -> band) of any type, fields drawn over their
  full ranges, built with the protocol's own encoders.
- ``valid_csv``: a random well-formed replay CSV (header order, gyro or not,
  line endings, BOM, rate and value spellings all varied).
- ``mutate`` (bytes) and ``mutate_csv`` (CSV text, by lines and cells): the
  mutations a radio, a serial line, a flash cell or a hand-edited file make.
"""

from __future__ import annotations

import random
import struct
import warnings
from pathlib import Path
from collections.abc import Callable
from typing import Any

import numpy as np

from swcore import protocol as P

U8, U16, U32 = 0xFF, 0xFFFF, 0xFFFFFFFF
I16_MIN, I16_MAX = -0x8000, 0x7FFF
INTERESTING = (0, 1, 2, 0x7F, 0x80, 0xFF, 0x5A, 0xA5, P.VERSION, P.VERSION + 1, 100, 101, 255)


def _edge(rng: random.Random, lo: int, hi: int) -> int:
    """A value in lo..hi, one time in three at or next to an edge."""
    if rng.random() < 0.33:
        return rng.choice((lo, hi, min(lo + 1, hi), max(hi - 1, lo)))
    return rng.randint(lo, hi)


def valid_record(rng: random.Random, max_raw: int = 20) -> bytes:
    """One well-formed band -> host record of a random type."""
    t = rng.choice((P.T_EVENT, P.T_STATUS, P.T_ACTIVITY, P.T_LOGINFO, P.T_RESP, P.T_RAW))
    e = _edge
    if t == P.T_EVENT:
        return P.encode_event(e(rng, 0, U32), e(rng, 0, U16), e(rng, 0, U32), e(rng, 0, U16),
                              e(rng, 0, U16), e(rng, 0, U16), e(rng, 0, 100), e(rng, 0, U8))
    if t == P.T_STATUS:
        return P.encode_status(e(rng, 0, 100), e(rng, -1, 1), e(rng, 0, 100), e(rng, 0, U8), e(rng, 0, U16),
                               e(rng, 0, U16), e(rng, 0, U32), e(rng, 0, U32))
    if t == P.T_ACTIVITY:
        return P.encode_activity(e(rng, 0, U16), e(rng, 0, U32), e(rng, 0, U16), e(rng, 0, U16), e(rng, 0, 1), e(rng, -1, 1))
    if t == P.T_LOGINFO:
        nxt = e(rng, 0, U32)
        return P.encode_loginfo(e(rng, 0, U8), e(rng, 0, nxt), nxt, e(rng, 0, U32))
    if t == P.T_RESP:
        return P.encode_resp(e(rng, 0, U8), rng.choice(sorted(P.ERROR_NAMES)), e(rng, 0, U32))
    n = e(rng, 0, max_raw)
    samples = [[e(rng, I16_MIN, I16_MAX) for _ in range(6)] for _ in range(n)]
    return P.encode_raw(e(rng, 0, U32), samples, e(rng, 0, U8))


def valid_command(rng: random.Random) -> bytes:
    """One well-formed control write of a random opcode."""
    op = rng.choice(sorted(P._CMD_FMT))
    if op == P.OP_TIME_SYNC:
        return P.encode_time_sync(_edge(rng, 0, U32), _edge(rng, 0, 999))
    if op == P.OP_BACKFILL:
        return P.encode_backfill(_edge(rng, 0, U32))
    if op == P.OP_CONFIG:
        key = rng.choice(sorted(P.CONFIG_KEYS))
        _, lo, hi = P.CONFIG_KEYS[key]
        value = rng.choice(P.RATES_HZ) if key == P.CFG_RATE_HZ else _edge(rng, lo, hi)
        return P.encode_config(key, value)
    if op == P.OP_RAW:
        return P.encode_raw_stream(rng.random() < 0.5)
    if op == P.OP_INFO:
        return P.encode_info(rng.choice(P.INFO_ITEMS))
    return P.encode_reboot()


def mutate(data: bytes, rng: random.Random, others: list[bytes] | None = None, max_len: int = 300) -> bytes:
    """1-4 byte-level mutations: flips, interesting values, inserts, deletes, truncation, splices."""
    b = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(9)
        i = rng.randrange(len(b) + 1)
        if op == 0 and b:  # flip a bit
            i = min(i, len(b) - 1)
            b[i] ^= 1 << rng.randrange(8)
        elif op == 1 and b:  # a random byte
            b[min(i, len(b) - 1)] = rng.randrange(256)
        elif op == 2 and b:  # an interesting byte
            b[min(i, len(b) - 1)] = rng.choice(INTERESTING)
        elif op == 3:  # insert random bytes
            b[i:i] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        elif op == 4 and b:  # delete a run
            del b[i : i + rng.randint(1, 8)]
        elif op == 5:  # truncate
            del b[i:]
        elif op == 6 and len(b) >= 4:  # an interesting 16/32-bit little-endian word
            j = rng.randrange(len(b) - 1)
            w = rng.choice((0, 1, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, U32))
            size = 4 if w > 0xFFFF and j + 4 <= len(b) else 2
            b[j : j + size] = struct.pack("<I" if size == 4 else "<H", w & (U32 if size == 4 else U16))
        elif op == 7 and others:  # splice with another input
            o = rng.choice(others)
            b = b[:i] + bytearray(o[rng.randrange(len(o) + 1) :])
        elif op == 8 and b:  # duplicate a run
            j = rng.randrange(len(b))
            b[i:i] = b[j : j + rng.randint(1, 16)]
    return bytes(b[:max_len])


# --- checks: what every decoder promises ------------------------------------------------


def expect_protocol_error(fn: Callable[[Any], Any], data: Any) -> Any:
    """fn(data), or None if it raised ProtocolError (with a known code and a message); anything else escapes."""
    try:
        return fn(data)
    except P.ProtocolError as exc:
        assert exc.code in P.ERROR_NAMES and exc.code != P.OK, exc.code
        assert str(exc)
        return None


def reencode(d: dict[str, Any]) -> bytes:
    """The record a decoded dict came from, by the protocol's encoders."""
    t = d["type"]
    if t == "event":
        return P.encode_event(d["seq"], d["boot"], d["onset_ms"], d["duration_ms"], d["peak_rate_mrads"],
                              d["peak_angle_mrad"], d["confidence"], d["flags"])
    if t == "status":
        return P.encode_status(d["battery_pct"], d["worn"], d["log_fill_pct"], d["flags"], d["errors"], d["boot"],
                               d["uptime_s"], d["next_seq"])
    if t == "activity":
        return P.encode_activity(d["boot"], d["t_ms"], d["activity"], d["breath"], d["off_body"], d["worn"])
    if t == "loginfo":
        return P.encode_loginfo(d["flags"], d["oldest_seq"], d["next_seq"], d["capacity"])
    if t == "resp":
        return P.encode_resp(d["opcode"], d["code"], d["arg"])
    assert t == "raw", t
    return P.encode_raw(d["first_index"], d["samples"], d["dropped"])


def reencode_command(op: int, args: tuple[int, ...]) -> bytes:
    return struct.pack(P._CMD_FMT[op], P.VERSION, op, *args)


def check_record_bytes(data: bytes) -> None:
    d = expect_protocol_error(P.decode, data)
    if d is not None:
        canon = bytearray(data)
        if d["type"] == "loginfo":
            canon[3] = 0  # the reserved byte: ignored on decode, zero on encode
        assert reencode(d) == bytes(canon)
    c = expect_protocol_error(P.decode_command, data)
    if c is not None:
        assert reencode_command(*c) == data


# --- CSV ------------------------------------------------------------------------------

FIELDS = ("t", "ax", "ay", "az", "gx", "gy", "gz")


def valid_csv(rng: random.Random, max_rows: int = 300) -> tuple[str, int, bool]:
    """(text, sample rows, has_gyro) of a well-formed recording."""
    has_gyro = rng.random() < 0.6
    fields = FIELDS if has_gyro else FIELDS[:4]
    order = list(range(len(fields)))
    rng.shuffle(order)
    rate = rng.choice((25.6, 50.0, 52.0, 100.0, 104.0, 833.3, rng.uniform(1.0, 1000.0)))
    t0 = rng.choice((0.0, rng.uniform(-1e5, 1e5)))
    n = rng.randint(2, max_rows)
    decimals = rng.choice((None, 6, 9))
    rows = []
    for i in range(n):
        t = t0 + i / rate
        # Gravity: three rows in four read about 1 g (the reader asks the first rows' median to be
        # gravity in g), the fourth anything within the range.
        acc = [rng.uniform(-31.9, 31.9) for _ in range(3)] if i % 4 == 3 else [rng.uniform(-0.3, 0.3), rng.uniform(-0.3, 0.3), rng.choice((-1.0, 1.0))]
        vals = [t] + acc + [rng.uniform(-3999.0, 3999.0) for _ in range(3 if has_gyro else 0)]
        cells = [repr(v) if decimals is None or k == 0 else f"{v:.{decimals}f}" for k, v in enumerate(vals)]
        rows.append(",".join(cells[k] for k in order))
    ending = rng.choice(("\n", "\r\n", "\r"))
    header = ",".join(fields[k] for k in order)
    bom = rng.choice(("", "\ufeff"))
    return bom + ending.join([header] + rows) + rng.choice(("", ending, ending * 2)), n, has_gyro


_JUNK_CELLS = ("", " ", "nan", "inf", "-Infinity", "1e999", "0x10", "1_000", "--1", "1e", ".", "+", '"0"', "'0'",
               "\x00", "\udcff", "1,5", "1;5", "\t", "١", "1e-400", "9" * 400, "t", "ax")


def mutate_csv(text: str, rng: random.Random, others: list[str] | None = None) -> bytes:
    """1-4 line- or cell-level mutations of a CSV text, then maybe a byte-level one; returns file bytes."""
    ending = "\r\n" if "\r\n" in text else ("\r" if "\r" in text and "\n" not in text else "\n")
    lines = text.split(ending)
    for _ in range(rng.randint(1, 4)):
        if not lines:
            lines = [""]
        op = rng.randrange(9)
        i = rng.randrange(len(lines))
        if op == 0:  # delete a line (a gap, or the header)
            del lines[i]
        elif op == 1:  # duplicate a line (a repeated time, a second header)
            lines.insert(i, lines[rng.randrange(len(lines))] if lines else "")
        elif op == 2 and len(lines) > 1:  # swap two lines
            j = rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3:  # a junk cell
            cells = lines[i].split(",") if lines else [""]
            cells[rng.randrange(len(cells))] = rng.choice(_JUNK_CELLS)
            if lines:
                lines[i] = ",".join(cells)
        elif op == 4:  # add or drop a cell
            cells = lines[i].split(",") if lines else [""]
            if rng.random() < 0.5:
                cells.insert(rng.randrange(len(cells) + 1), rng.choice(_JUNK_CELLS + ("0",)))
            elif len(cells) > 1:
                del cells[rng.randrange(len(cells))]
            if lines:
                lines[i] = ",".join(cells)
        elif op == 5:  # a blank line
            lines.insert(i, rng.choice(("", " ", "\t")))
        elif op == 6:  # cut the file inside a line
            if lines:
                lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
                del lines[i + 1 :]
        elif op == 7:  # change separators or line ends on a line
            if lines:
                lines[i] = lines[i].replace(",", rng.choice((";", "\t", ", ", " ,", ",,")))
        elif op == 8 and others:  # splice another file's lines in
            o = rng.choice(others).split(ending)
            k = rng.randrange(len(o))
            lines[i:i] = o[k : k + rng.randint(1, 20)]
    data = ending.join(lines).encode("utf-8", "surrogateescape")
    if rng.random() < 0.25:
        data = mutate(data, rng, max_len=len(data) + 64)
    return data


def check_csv(data: bytes, path: Path, chunk_rows: int) -> tuple[np.ndarray, float, bool] | None:
    """Write data to path and read it all: the samples, or None after an InputError.

    Anything else escapes (a crash), as does a warning other than the reader's
    own InputWarning; an accepted file must be sane (``assert_sane``)."""
    from spasmwatch.errors import InputError
    from spasmwatch.io import InputWarning, open_recording

    path.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", InputWarning)
        try:
            rec = open_recording(path, chunk_rows=chunk_rows)
            chunks = list(rec.chunks())
        except InputError as exc:
            assert str(exc).startswith(str(path)), str(exc)
            assert exc.line is None or exc.line >= 1
            return None
    assert chunks, "an accepted file has samples"
    assert [c.start_index for c in chunks] == list(range(0, sum(len(c) for c in chunks), chunk_rows))
    assert all(c.first_line >= c.start_index + 2 for c in chunks)  # type: ignore[union-attr]
    cols = [np.column_stack([c.t, c.acc] + ([c.gyro] if c.gyro is not None else [])) for c in chunks]
    values = np.concatenate(cols)
    assert_sane(values, rec.rate_hz, rec.has_gyro, getattr(rec, "time_slack_s", 0.0))
    return values, rec.rate_hz, rec.has_gyro


def assert_sane(values: np.ndarray, rate_hz: float, has_gyro: bool, slack_s: float = 0.0) -> None:
    """What the reader promises about anything it accepts. ``slack_s``: how far the reader
    widened the step limits for times written coarser than the samples (io/limits.py)."""
    from spasmwatch.io.limits import MAX_ACC_G, MAX_GAP_RATIO, MAX_GYRO_DPS, MIN_STEP_RATIO

    assert values.shape[1] == (7 if has_gyro else 4) and len(values) >= 2
    assert np.isfinite(values).all()
    assert (np.abs(values[:, 1:4]) <= MAX_ACC_G).all()
    if has_gyro:
        assert (np.abs(values[:, 4:7]) <= MAX_GYRO_DPS).all()
    assert np.isfinite(rate_hz) and rate_hz > 0
    steps = np.diff(values[:, 0]) * rate_hz
    slack = slack_s * rate_hz
    # The checker measures steps against the rate estimated at open (rounding moves it <= 0.01 %).
    assert (steps >= (MIN_STEP_RATIO - slack) * (1 - 1e-3)).all()
    assert (steps <= (MAX_GAP_RATIO + slack) * (1 + 1e-3)).all()


def check_frames(data: bytes) -> None:
    """Byte 0 sets the read size; the rest goes through one FrameDecoder in reads of that size."""
    step = 1 + (data[0] % 64 if data else 0)
    dec = P.FrameDecoder()
    for i in range(1, len(data), step):
        for payload in dec.feed(data[i : i + step]):
            assert isinstance(payload, bytes) and len(payload) <= 255
            check_record_bytes(payload)
        assert len(dec._buf) < 255 + P.FRAME_OVERHEAD, "the decoder holds at most one unfinished frame"


def frame_stream(rng: random.Random) -> bytes:
    """A read size byte, then frames of valid records with noise between some."""
    out = bytes([rng.randrange(256)])
    for _ in range(rng.randint(1, 6)):
        if rng.random() < 0.4:
            out += bytes(rng.choice((P.SYNC0, P.SYNC1, 0, rng.randrange(256))) for _ in range(rng.randint(1, 12)))
        out += P.frame(valid_record(rng))
    return out


def seeds(builder: Callable[[random.Random], bytes], n: int, seed: int = 0) -> list[bytes]:
    rng = random.Random(seed)
    return [builder(rng) for _ in range(n)]
