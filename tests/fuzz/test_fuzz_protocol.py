"""Property tests of swcore.protocol: every record and command round-trips over its full field
ranges, any bytes decode or raise ProtocolError (nothing else), a successful decode is the
canonical encoding, and FrameDecoder recovers every frame through noise and arbitrary splits.

Bounded (max_examples, no deadline) so the suite stays fast; bench/fuzz.py runs the long version.
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

import fuzzkit
from fuzzkit import check_record_bytes, expect_protocol_error
from swcore import protocol as P

u8, u16, u32 = st.integers(0, 0xFF), st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF)
i16 = st.integers(-0x8000, 0x7FFF)
pct = st.integers(0, 100)
tri = st.integers(-1, 1)
FAST = settings(max_examples=200, deadline=None)


# --- encode -> decode identity, every record type ---------------------------------------------


@FAST
@given(u32, u16, u32, u16, u16, u16, pct, u8, st.integers(0, 8))
def test_event_round_trip_and_pack_into(seq: int, boot: int, onset: int, dur: int, rate: int, angle: int,
                                        conf: int, flags: int, off: int) -> None:
    data = P.encode_event(seq, boot, onset, dur, rate, angle, conf, flags)
    assert P.decode(data) == {"type": "event", "seq": seq, "boot": boot, "onset_ms": onset, "duration_ms": dur,
                              "peak_rate_mrads": rate, "peak_angle_mrad": angle, "confidence": conf, "flags": flags}
    buf = bytearray(off + P.EVENT_SIZE + 3)
    P.pack_event_into(buf, off, seq, boot, onset, dur, rate, angle, conf, flags)
    assert bytes(buf[off : off + P.EVENT_SIZE]) == data and not any(buf[:off]) and not any(buf[off + P.EVENT_SIZE :])


@FAST
@given(pct, tri, pct, u8, u16, u16, u32, u32)
def test_status_round_trip(batt: int, worn: int, fill: int, flags: int, errors: int, boot: int, up: int, nxt: int) -> None:
    data = P.encode_status(batt, worn, fill, flags, errors, boot, up, nxt)
    assert len(data) == P.STATUS_SIZE <= P.ATT_DEFAULT_PAYLOAD
    assert P.decode(data) == {"type": "status", "battery_pct": batt, "worn": worn, "log_fill_pct": fill, "flags": flags,
                              "errors": errors, "boot": boot, "uptime_s": up, "next_seq": nxt}
    buf = bytearray(P.STATUS_SIZE)
    P.pack_status_into(buf, batt, worn, fill, flags, errors, boot, up, nxt)
    assert bytes(buf) == data


@FAST
@given(u16, u32, u16, u16, st.integers(0, 1), tri)
def test_activity_round_trip(boot: int, t_ms: int, activity: int, breath: int, off_body: int, worn: int) -> None:
    data = P.encode_activity(boot, t_ms, activity, breath, off_body, worn)
    assert len(data) == P.ACTIVITY_SIZE
    assert P.decode(data) == {"type": "activity", "boot": boot, "t_ms": t_ms, "activity": activity, "breath": breath,
                              "off_body": off_body, "worn": worn}


@FAST
@given(u8, u32, u32, u32)
def test_loginfo_round_trip(flags: int, a: int, b: int, capacity: int) -> None:
    oldest, nxt = min(a, b), max(a, b)
    data = P.encode_loginfo(flags, oldest, nxt, capacity)
    assert len(data) == P.LOGINFO_SIZE
    assert P.decode(data) == {"type": "loginfo", "flags": flags, "oldest_seq": oldest, "next_seq": nxt, "capacity": capacity}


@FAST
@given(u8, st.sampled_from(sorted(P.ERROR_NAMES)), u32)
def test_resp_round_trip(opcode: int, code: int, arg: int) -> None:
    data = P.encode_resp(opcode, code, arg)
    assert len(data) == P.RESP_SIZE
    assert P.decode(data) == {"type": "resp", "opcode": opcode, "code": code, "error": P.ERROR_NAMES[code], "arg": arg}


@settings(max_examples=150, deadline=None)
@given(u32, st.lists(st.tuples(i16, i16, i16, i16, i16, i16), max_size=255), u8)
def test_raw_round_trip(first: int, samples: list[tuple[int, ...]], dropped: int) -> None:
    data = P.encode_raw(first, samples, dropped)
    assert len(data) == P.RAW_HEAD_SIZE + P.RAW_SAMPLE_SIZE * len(samples)
    d = P.decode(data)
    assert d == {"type": "raw", "dropped": dropped, "first_index": first, "samples": samples}


@settings(max_examples=100, deadline=None)
@given(st.integers(P.RAW_HEAD_SIZE, 4000))
def test_raw_capacity_fills_the_payload_and_never_overflows_the_count(payload: int) -> None:
    n = P.raw_capacity(payload)
    assert 0 <= n <= 255
    assert P.RAW_HEAD_SIZE + n * P.RAW_SAMPLE_SIZE <= payload
    assert n == 255 or P.RAW_HEAD_SIZE + (n + 1) * P.RAW_SAMPLE_SIZE > payload
    assert len(P.decode(P.encode_raw(0, [(0,) * 6] * n))["samples"]) == n


# --- commands --------------------------------------------------------------------------------


@st.composite
def configs(draw: st.DrawFn) -> tuple[int, int]:
    key = draw(st.sampled_from(sorted(P.CONFIG_KEYS)))
    _, lo, hi = P.CONFIG_KEYS[key]
    value = draw(st.sampled_from(P.RATES_HZ)) if key == P.CFG_RATE_HZ else draw(st.integers(lo, hi))
    return key, value


@FAST
@given(u32, st.integers(0, 999), u32, configs(), st.booleans())
def test_every_command_round_trips(unix_s: int, ms: int, seq: int, cfg: tuple[int, int], on: bool) -> None:
    cases = [
        (P.encode_time_sync(unix_s, ms), P.OP_TIME_SYNC, (unix_s, ms)),
        (P.encode_backfill(seq), P.OP_BACKFILL, (seq,)),
        (P.encode_config(*cfg), P.OP_CONFIG, cfg),
        (P.encode_raw_stream(on), P.OP_RAW, (int(on),)),
        (P.encode_reboot(), P.OP_REBOOT, (P.REBOOT_MAGIC,)),
        (P.encode_info(P.INFO_RATE_MHZ), P.OP_INFO, (P.INFO_RATE_MHZ,)),
    ]
    for data, op, args in cases:
        assert P.decode_command(data) == (op, args)
        assert P.decode_command(bytearray(data)) == (op, args)  # a BLE write may come as a bytearray
        assert P.decode_command(memoryview(data)) == (op, args)


@FAST
@given(st.sampled_from(sorted(P.CONFIG_KEYS)), st.integers(-(2**31), 2**31 - 1))
def test_config_values_outside_the_table_are_refused(key: int, value: int) -> None:
    _, lo, hi = P.CONFIG_KEYS[key]
    ok = lo <= value <= hi and (key != P.CFG_RATE_HZ or value in P.RATES_HZ)
    got = expect_protocol_error(P.decode_command, P.encode_config(key, value))
    assert (got is not None) == ok


# --- arbitrary and mutated bytes: decode or ProtocolError, and a decode is canonical ------------


@st.composite
def mutated(draw: st.DrawFn, valid: Any) -> bytes:
    """A valid input, then a few flips, overwrites, inserts, deletes or a truncation, all shrinkable."""
    b = bytearray(draw(valid))
    for kind, pos, val in draw(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 300), u8), min_size=1, max_size=4)):
        i = pos % (len(b) + 1)
        if kind == 0 and b:
            b[i % len(b)] ^= 1 << (val % 8)
        elif kind == 1 and b:
            b[i % len(b)] = val
        elif kind == 2:
            b.insert(i, val)
        elif kind == 3 and b:
            del b[i % len(b)]
        elif kind == 4:
            del b[i:]
    return bytes(b)


def _from_seed(build: Any) -> Any:
    return st.integers(0, 2**32 - 1).map(lambda s: build(random.Random(s)))


valid_records = _from_seed(fuzzkit.valid_record)
valid_commands = _from_seed(fuzzkit.valid_command)


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.binary(max_size=80), mutated(valid_records), mutated(valid_commands),
                 st.binary(max_size=40).map(lambda b: bytes([P.VERSION]) + b)))
@example(b"\x01\x06\xff\x00\x00\x00\x00\x00")  # RAW claiming 255 samples, carrying none
@example(b"\x01\x04\x00\x07\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")  # loginfo, reserved byte set
def test_any_bytes_decode_canonically_or_raise_protocol_error(data: bytes) -> None:
    check_record_bytes(data)
    check_record_bytes(bytearray(data))  # type: ignore[arg-type]


@FAST
@given(valid_records)
def test_every_valid_record_decodes(data: bytes) -> None:
    check_record_bytes(data)
    assert P.decode(data)["type"] in P._TYPE_NAMES.values()


def test_none_and_empty_are_protocol_errors() -> None:
    for fn in (P.decode, P.decode_command):
        for data in (None, b"", b"\x01", bytearray(), memoryview(b"")):
            assert expect_protocol_error(fn, data) is None


# --- serial framing ------------------------------------------------------------------------

noise = st.lists(st.one_of(st.sampled_from([P.SYNC0, P.SYNC1, 0, 0xFF]), u8), max_size=40).map(bytes)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(noise, st.binary(max_size=255)), max_size=8), noise, st.lists(st.integers(1, 64), min_size=1))
def test_frame_decoder_recovers_every_frame_through_noise_and_splits(
    parts: list[tuple[bytes, bytes]], tail: bytes, cuts: list[int]
) -> None:
    stream = b"".join(n + P.frame(p) for n, p in parts) + tail
    dec = P.FrameDecoder()
    got: list[bytes] = []
    i = k = 0
    while i < len(stream):
        step = cuts[k % len(cuts)]
        got += dec.feed(stream[i : i + step])
        assert len(dec._buf) < 255 + P.FRAME_OVERHEAD, "the decoder holds at most one unfinished frame"
        i, k = i + step, k + 1
    assert got == [p for _, p in parts]
    if not tail and not any(n for n, _ in parts):
        assert dec.errors == 0, "clean frames back to back are no error"
    for payload in got:
        check_record_bytes(payload)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=6))
def test_frame_decoder_takes_any_bytes(chunks: list[bytes]) -> None:
    dec = P.FrameDecoder()
    for c in chunks:
        for payload in dec.feed(c):
            assert isinstance(payload, bytes) and len(payload) <= 255
        assert len(dec._buf) < 255 + P.FRAME_OVERHEAD


def test_a_false_sync_pair_in_noise_does_not_hold_back_the_frames_behind_it() -> None:
    """Regression (found by the property above): noise ending in A5 5A announced a frame of
    0xA5 bytes, and the good frame behind it waited for 165 more bytes that may never come."""
    good = P.frame(P.encode_resp(P.OP_BACKFILL, P.OK, 7))
    for noise in (b"\xa5\x5a", b"\x00\xa5\x5a\xff", b"\xa5\x5a\x10\x01"):
        dec = P.FrameDecoder()
        assert dec.feed(noise + good) == [good[3:-2]]
        assert dec.errors >= 1
        dec = P.FrameDecoder()
        assert [p for b in noise + good for p in dec.feed(bytes([b]))] == [good[3:-2]], "byte by byte too"
    # A real frame still in flight is waited for, not skipped.
    dec = P.FrameDecoder()
    big = P.frame(P.encode_raw(0, [(1, 2, 3, 4, 5, 6)] * 20))
    assert dec.feed(big[:-1]) == [] and dec.feed(big[-1:]) == [big[3:-2]] and dec.errors == 0
