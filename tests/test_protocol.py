"""Byte vectors pin every record of the band <-> host protocol (swcore.protocol), on CPython and MicroPython."""

from __future__ import annotations

import binascii
import json
import os
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from spasmwatch import fwbuild
from swcore import protocol as P

FIRMWARE = Path(__file__).resolve().parents[1] / "firmware"

# (name, encoder call as (function name, args), hex bytes, decoded dict or None for commands)
VECTORS: list[tuple[str, str, list[Any], str, dict[str, Any]]] = [
    (
        "event",
        "encode_event",
        [0x01020304, 7, 123456, 1200, 3000, 250, 80, 1],
        "010104030201070040e20100b004b80bfa005001",
        {"type": "event", "seq": 0x01020304, "boot": 7, "onset_ms": 123456, "duration_ms": 1200,
         "peak_rate_mrads": 3000, "peak_angle_mrad": 250, "confidence": 80, "flags": 1},
    ),
    (
        "event, a cluster-counter match",
        "encode_event",
        [0x0105, 2, 4000000000, 800, 1500, 0, 37, P.EF_TIME_SYNCED | P.EF_MATCHED],
        "010105010000020000286bee2003dc0500002503",
        {"type": "event", "seq": 0x0105, "boot": 2, "onset_ms": 4000000000, "duration_ms": 800,
         "peak_rate_mrads": 1500, "peak_angle_mrad": 0, "confidence": 37, "flags": 3},
    ),
    (
        "event, a full spasm shaped like an earlier one",
        "encode_event",
        [0x01020304, 7, 123456, 1200, 3000, 250, 80, P.EF_TIME_SYNCED | P.EF_ALIKE],
        "010104030201070040e20100b004b80bfa005005",
        {"type": "event", "seq": 0x01020304, "boot": 7, "onset_ms": 123456, "duration_ms": 1200,
         "peak_rate_mrads": 3000, "peak_angle_mrad": 250, "confidence": 80, "flags": 5},
    ),
    (
        "status",
        "encode_status",
        [87, 1, 12, P.SF_TIME_SYNCED | P.SF_ENCRYPTED, P.ERR_LOG_TORN, 3, 86400, 42],
        "010257010c5010000300805101002a000000",
        {"type": "status", "battery_pct": 87, "worn": 1, "log_fill_pct": 12, "flags": 0x50, "errors": 0x10,
         "boot": 3, "uptime_s": 86400, "next_seq": 42},
    ),
    (
        "status, pairing window open",
        "encode_status",
        [100, -1, 0, P.SF_PAIRING | P.SF_ENCRYPTED, 0, 1, 120, 0],
        "010264ff00c0000001007800000000000000",
        {"type": "status", "battery_pct": 100, "worn": -1, "log_fill_pct": 0, "flags": 0xC0, "errors": 0,
         "boot": 1, "uptime_s": 120, "next_seq": 0},
    ),
    (
        "activity",
        "encode_activity",
        [3, 600000, 120, 250, 0, 1],
        "01030300c02709007800fa000001",
        {"type": "activity", "boot": 3, "t_ms": 600000, "activity": 120, "breath": 250, "off_body": 0, "worn": 1},
    ),
    (
        "loginfo",
        "encode_loginfo",
        [P.LF_WRAPPED | P.LF_GAP, 4000, 8096, 4096],
        "01040300a00f0000a01f000000100000",
        {"type": "loginfo", "flags": 3, "oldest_seq": 4000, "next_seq": 8096, "capacity": 4096},
    ),
    (
        "loginfo, the next epoch was held",
        "encode_loginfo",
        [P.LF_HELD | P.LF_WRAPPED, 4000, 8096, 4096],
        "01040900a00f0000a01f000000100000",
        {"type": "loginfo", "flags": 9, "oldest_seq": 4000, "next_seq": 8096, "capacity": 4096},
    ),
    (
        "resp",
        "encode_resp",
        [P.OP_CONFIG, P.E_VALUE, 7],
        "0105030407000000",
        {"type": "resp", "opcode": 3, "code": 4, "error": "value out of range", "arg": 7},
    ),
    (
        "resp to bonds count: 2 centrals, the asker known",
        "encode_resp",
        [P.OP_BONDS, P.OK, 2 | P.BONDS_ASKER_KNOWN],
        "0105070002000100",
        {"type": "resp", "opcode": 7, "code": 0, "error": "ok", "arg": 0x10002},
    ),
    (
        "bootlink, measured through the reset",
        "encode_bootlink",
        [12, 11, P.RC_WDT, P.BLF_RTC, 3600123, 1502, 7],
        "01070c000b000201fbee3600de0500000700",
        {"type": "bootlink", "boot": 12, "prev_boot": 11, "cause": 2, "flags": 1, "prev_ms": 3600123,
         "gap_ms": 1502, "err_ms": 7},
    ),
    (
        "bootlink, estimated, over a boot count's wrap, err_ms saturated",
        "encode_bootlink",
        [1, 0xFFFF, P.RC_HARD, 0, 2**32 + 5, 3000, 100000],
        "01070100ffff010005000000b80b0000ffff",
        {"type": "bootlink", "boot": 1, "prev_boot": 0xFFFF, "cause": 1, "flags": 0, "prev_ms": 5,
         "gap_ms": 3000, "err_ms": 0xFFFF},
    ),
    (
        "bootlink, read as a power-on: a brown-out, measured",
        "encode_bootlink",
        [7, 6, P.RC_POWER_ON, P.BLF_RTC, 1234567, 1498, 4],
        "010707000600050187d61200da0500000400",
        {"type": "bootlink", "boot": 7, "prev_boot": 6, "cause": 5, "flags": 1, "prev_ms": 1234567,
         "gap_ms": 1498, "err_ms": 4},
    ),
    (
        "raw",
        "encode_raw",
        [1000, [[1, -2, 1000, -100, 5, -5], [0, 0, -1000, 32767, -32768, 1]], 2],
        "01060202e80300000100feffe8039cff0500fbff0000000018fcff7f00800100",
        {"type": "raw", "dropped": 2, "first_index": 1000,
         "samples": [[1, -2, 1000, -100, 5, -5], [0, 0, -1000, 32767, -32768, 1]]},
    ),
]
COMMANDS: list[tuple[str, list[Any], str, int, list[int]]] = [
    ("encode_time_sync", [1764000000, 250], "010100812469fa00", P.OP_TIME_SYNC, [1764000000, 250]),
    ("encode_backfill", [42], "01022a000000", P.OP_BACKFILL, [42]),
    ("encode_config", [P.CFG_RATE_HZ, 104], "01030268000000", P.OP_CONFIG, [2, 104]),
    ("encode_raw_stream", [True], "010401", P.OP_RAW, [1]),
    ("encode_reboot", [], "0105424f4f54", P.OP_REBOOT, [P.REBOOT_MAGIC]),
    ("encode_info", [P.INFO_RATE_MHZ], "010601", P.OP_INFO, [1]),
    ("encode_info", [P.INFO_REVISION], "010610", P.OP_INFO, [16]),
    ("encode_info", [P.INFO_REVISION + P.INFO_REVISION_ITEMS - 1], "010617", P.OP_INFO, [23]),
    ("encode_bonds", [P.BONDS_COUNT], "010701", P.OP_BONDS, [1]),
    ("encode_bonds", [P.BONDS_REVOKE_OTHERS], "010702", P.OP_BONDS, [2]),
]


def _plain(x: Any) -> Any:
    """Tuples -> lists, for comparing decoded records with JSON-shaped vectors."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x


@pytest.mark.parametrize("name,fn,args,hexs,fields", VECTORS, ids=[v[0] for v in VECTORS])
def test_record_vectors(name: str, fn: str, args: list[Any], hexs: str, fields: dict[str, Any]) -> None:
    data = getattr(P, fn)(*args)
    assert data.hex() == hexs
    assert len(data) <= P.ATT_DEFAULT_PAYLOAD or name == "raw"
    assert _plain(P.decode(bytes.fromhex(hexs))) == fields


@pytest.mark.parametrize("fn,args,hexs,op,decoded", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_command_vectors(fn: str, args: list[Any], hexs: str, op: int, decoded: list[int]) -> None:
    assert getattr(P, fn)(*args).hex() == hexs
    got_op, got_args = P.decode_command(bytes.fromhex(hexs))
    assert got_op == op and list(got_args) == decoded


@pytest.mark.parametrize("revision", ["0.1.0+3f9c1e07a2b4", "0.1.0", "0.1.0+abcdefabcdef-xx", "1.10.20+" + "f" * 24])
def test_the_firmware_revision_goes_over_info_four_bytes_at_a_time(revision: str) -> None:
    """USB serial has no Device Information: INFO_REVISION.. carry 0x2A26's text (docs/protocol.md,
    "INFO"), asked until an answer holds a zero byte; 32 bytes at most (8 items)."""
    chunks: list[int] = []
    for item in range(P.INFO_REVISION, P.INFO_REVISION + P.INFO_REVISION_ITEMS):
        chunks.append(P.revision_chunk(revision, item))
        if P.revision_ended(chunks[-1]):
            break
    assert P.revision_text(chunks) == revision[: 4 * P.INFO_REVISION_ITEMS]
    assert len(chunks) == min(len(revision) // 4 + 1, P.INFO_REVISION_ITEMS)
    assert P.revision_chunk("0.1.0+3f9c1e07a2b4", P.INFO_REVISION) == int.from_bytes(b"0.1.", "little")
    with pytest.raises(P.ProtocolError) as exc:  # past the items: as any unknown item
        P.decode_command(P.encode_info(P.INFO_REVISION + P.INFO_REVISION_ITEMS))
    assert exc.value.code == P.E_KEY


def test_the_revision_s_separator_is_the_protocol_s_for_band_and_host() -> None:
    """The band's start-up (band/startup.py) puts it between its version and build id, the host's
    fwbuild splits there: one constant, pinned ('+', semver's build metadata: whatever reads 0x2A26
    as a version still reads 0.1.0). Until review h49 the band had a literal of its own."""
    assert P.REVISION_SEPARATOR == "+"
    assert fwbuild.revision("0.1.0", "3f9c1e07a2b4") == "0.1.0+3f9c1e07a2b4"
    assert fwbuild.build_of("0.1.0+3f9c1e07a2b4") == "3f9c1e07a2b4" and fwbuild.build_of("0.1.0") is None
    startup = (Path(__file__).resolve().parents[1] / "firmware" / "band" / "startup.py").read_text()
    assert "FIRMWARE_VERSION + P.REVISION_SEPARATOR + ID" in startup


def test_event_fits_the_flash_slot_and_pack_into_matches() -> None:
    buf = bytearray(24)
    P.pack_event_into(buf, 2, 5, 1, 10, 20, 30, 40, 50, 0)
    assert bytes(buf[2:22]) == P.encode_event(5, 1, 10, 20, 30, 40, 50, 0)
    assert struct.calcsize(P.EVENT_FMT) == P.EVENT_SIZE == 20


def test_encoders_clamp_out_of_range_values() -> None:
    e = P.decode(P.encode_event(1, 70000, 5, 100000, 70000, 70000, 150, 0))
    assert (e["boot"], e["duration_ms"], e["peak_rate_mrads"], e["peak_angle_mrad"], e["confidence"]) == (70000 & 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, 100)


@pytest.mark.parametrize(
    "args,message",
    [
        ([12, 11, 0, 0, 1, 2, 3], "field 'cause' = 0"),
        ([12, 12, P.RC_HARD, 0, 1, 2, 3], "field 'prev_boot' = 12 is the boot itself"),
        ([70000, 11, P.RC_HARD, 0, 1, 2, 3], "field 'boot' = 70000 outside 0..65535"),
        ([12, -1, P.RC_HARD, 0, 1, 2, 3], "field 'prev_boot' = -1"),
        ([12, 11, P.RC_HARD, 256, 1, 2, 3], "field 'flags' = 256"),
        ([12, 11, P.RC_HARD, 0, 1, -2, 3], "field 'gap_ms' = -2"),
        ([12, 11, P.RC_HARD, 0, 1, 2**32, 3], "field 'gap_ms' = 4294967296"),
        ([12, 11, P.RC_HARD, 0, 1, 2, -3], "field 'err_ms' = -3"),
    ],
)
def test_bootlink_encoder_refuses_what_its_fields_cannot_carry(args: list[int], message: str) -> None:
    with pytest.raises(P.ProtocolError, match=message) as exc:
        P.encode_bootlink(*args)
    assert exc.value.code == P.E_VALUE and "bootlink" in str(exc.value)


def test_bootlink_is_framed_for_serial_as_every_record() -> None:
    rec = P.encode_bootlink(12, 11, P.RC_WDT, P.BLF_RTC, 3600123, 1502, 7)
    assert P.FrameDecoder().feed(P.frame(rec)) == [rec]
    assert struct.calcsize(P.BOOTLINK_FMT) == P.BOOTLINK_SIZE == len(rec) <= P.ATT_DEFAULT_PAYLOAD


MALFORMED = [
    (b"", P.E_LENGTH, "too short"),
    (b"\x01", P.E_LENGTH, "too short"),
    (bytes.fromhex("020104030201070040e20100b004b80bfa005001"), P.E_VERSION, "unsupported protocol version 2 (this build speaks 1)"),
    (bytes.fromhex("01ff00"), P.E_OPCODE, "unknown type 0xff"),
    (bytes.fromhex("010104030201070040e20100b004b80bfa0050"), P.E_LENGTH, "event: length 19, expected 20"),
    (bytes.fromhex("010104030201070040e20100b004b80bfa00500100"), P.E_LENGTH, "event: length 21, expected 20"),
    (bytes.fromhex("010104030201070040e20100b004b80bfa006501"), P.E_VALUE, "field 'confidence' = 101 outside 0..100"),
    (bytes.fromhex("010257020c5010000300805101002a000000"), P.E_VALUE, "field 'worn' = 2"),
    (bytes.fromhex("010265010c5010000300805101002a000000"), P.E_VALUE, "field 'battery_pct' = 101"),
    (bytes.fromhex("01040300a00f0000000100000010000000"), P.E_LENGTH, "loginfo: length 17"),
    (bytes.fromhex("01040300a00f00000001000000100000"), P.E_VALUE, "oldest_seq 4000 after next_seq 256"),
    (bytes.fromhex("0105032a00000000"), P.E_VALUE, "resp: unknown code 42"),
    (bytes.fromhex("01060302e80300000100feffe8039cff0500fbff"), P.E_LENGTH, "raw: length 20, expected 44"),
    (bytes.fromhex("01070c000b000201fbee3600de05000007"), P.E_LENGTH, "bootlink: length 17, expected 18"),
    (bytes.fromhex("01070c000b000601fbee3600de0500000700"), P.E_VALUE, "bootlink: field 'cause' = 6 is no reset cause"),
    (bytes.fromhex("01070c000b000001fbee3600de0500000700"), P.E_VALUE, "bootlink: field 'cause' = 0 is no reset cause"),
    (bytes.fromhex("01070c000c000201fbee3600de0500000700"), P.E_VALUE, "bootlink: field 'prev_boot' = 12 is the boot itself"),
]


@pytest.mark.parametrize("data,code,message", MALFORMED, ids=[m[2][:30] for m in MALFORMED])
def test_malformed_records_are_rejected_clearly(data: bytes, code: int, message: str) -> None:
    with pytest.raises(P.ProtocolError, match=message.replace("(", r"\(").replace(")", r"\)")) as exc:
        P.decode(data)
    assert exc.value.code == code
    assert isinstance(exc.value, ValueError)


BAD_COMMANDS = [
    (bytes.fromhex("02022a000000"), P.E_VERSION),
    (bytes.fromhex("01092a"), P.E_OPCODE),
    (bytes.fromhex("01022a0000"), P.E_LENGTH),
    (bytes.fromhex("01022a00000000"), P.E_LENGTH),
    (P.encode_config(7, 1), P.E_KEY),
    (P.encode_config(P.CFG_RATE_HZ, 75), P.E_VALUE),
    (P.encode_config(P.CFG_LOW_BATTERY_PCT, 51), P.E_VALUE),
    (P.encode_time_sync(0, 1000), P.E_VALUE),
    (bytes.fromhex("010402"), P.E_VALUE),
    (bytes.fromhex("010500000000"), P.E_VALUE),
    (bytes.fromhex("010602"), P.E_KEY),
    (bytes.fromhex("0106"), P.E_LENGTH),
    (bytes.fromhex("010700"), P.E_VALUE),
    (bytes.fromhex("010703"), P.E_VALUE),
    (bytes.fromhex("0107"), P.E_LENGTH),
]


@pytest.mark.parametrize("data,code", BAD_COMMANDS, ids=[b.hex() for b, _ in BAD_COMMANDS])
def test_bad_commands_carry_the_error_code_the_band_answers_with(data: bytes, code: int) -> None:
    with pytest.raises(P.ProtocolError) as exc:
        P.decode_command(data)
    assert exc.value.code == code


def test_serial_frame_vector_and_crc() -> None:
    f = P.frame(P.encode_backfill(42))
    assert f.hex() == "a55a0601022a0000002d0e"
    assert binascii.crc_hqx(f[2:-2], 0xFFFF) == struct.unpack("<H", f[-2:])[0], "CRC-16/CCITT-FALSE over len + payload"
    with pytest.raises(P.ProtocolError):
        P.frame(bytes(256))


def test_sealed_state_files_vector_and_corruption() -> None:
    """state.bin and bias.bin: payload + CRC-16/CCITT-FALSE, little-endian (swcore.crc.seal)."""
    from swcore.crc import seal, unseal

    sealed = seal(b"123456789")
    assert sealed.hex() == "313233343536373839" + "b129"
    assert unseal(bytes(sealed), 9) == b"123456789"
    assert unseal(None, 9) is None
    assert unseal(bytes(sealed[:-1]), 9) is None
    bad = bytearray(sealed)
    bad[3] ^= 1
    assert unseal(bytes(bad), 9) is None


def test_frame_decoder_resyncs_over_noise_split_reads_and_bad_crc() -> None:
    a = P.frame(P.encode_backfill(1))
    b = P.frame(P.encode_event(9, 1, 2, 3, 4, 5, 6, 0))
    bad = bytearray(P.frame(P.encode_backfill(2)))
    bad[5] ^= 1
    stream = b"\x00\xa5\x13" + a + bytes(bad) + b
    dec = P.FrameDecoder()
    out = []
    for i in range(0, len(stream), 3):
        out += dec.feed(stream[i : i + 3])
    assert out == [P.encode_backfill(1), P.encode_event(9, 1, 2, 3, 4, 5, 6, 0)]
    assert dec.errors >= 2


def test_frame_decoder_tells_the_payload_of_a_frame_whose_crc_failed() -> None:
    """What a host reads to tell that the answer it waits for came garbled (on_bad_crc): the frame's
    payload as it came; noise outside a frame is only counted."""
    resp = P.encode_resp(P.OP_TIME_SYNC, P.OK, 1234)
    bad = bytearray(P.frame(resp))
    bad[-1] ^= 0xFF
    refused: list[bytes] = []
    dec = P.FrameDecoder(refused.append)
    assert dec.feed(b"\x00\x13" + bytes(bad) + P.frame(P.encode_backfill(1))) == [P.encode_backfill(1)]
    assert refused == [resp]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_any_bytes_decode_or_raise_protocol_error(data: bytes) -> None:
    for fn in (P.decode, P.decode_command):
        try:
            fn(data)
        except P.ProtocolError:
            pass


@settings(max_examples=200, deadline=None)
@given(
    st.integers(0, 2**32 - 1), st.integers(0, 2**16 - 1), st.integers(0, 2**32 - 1), st.integers(0, 2**16 - 1),
    st.integers(0, 2**16 - 1), st.integers(0, 2**16 - 1), st.integers(0, 100), st.integers(0, 255),
)
def test_event_round_trip(seq: int, boot: int, onset: int, dur: int, rate: int, angle: int, conf: int, flags: int) -> None:
    e = P.decode(P.encode_event(seq, boot, onset, dur, rate, angle, conf, flags))
    assert (e["seq"], e["boot"], e["onset_ms"], e["duration_ms"], e["peak_rate_mrads"], e["peak_angle_mrad"], e["confidence"], e["flags"]) == (
        seq, boot, onset, dur, rate, angle, conf, flags,
    )


MP_CHECK = r'''
import json, sys
from swcore import protocol as P
vec = json.loads(sys.stdin.read())
out = {"records": [], "commands": [], "malformed": [], "frame": None}
for name, fn, args, hexs, fields in vec["records"]:
    data = getattr(P, fn)(*args)
    d = P.decode(bytes(bytearray(int(hexs[i:i + 2], 16) for i in range(0, len(hexs), 2))))
    if "samples" in d:
        d["samples"] = [list(s) for s in d["samples"]]
    out["records"].append([name, "".join("%02x" % b for b in data), d])
for fn, args, hexs, op, decoded in vec["commands"]:
    data = getattr(P, fn)(*args)
    o, a = P.decode_command(data)
    out["commands"].append(["".join("%02x" % b for b in data), o, list(a)])
for hexs in vec["malformed"]:
    try:
        P.decode(bytes(bytearray(int(hexs[i:i + 2], 16) for i in range(0, len(hexs), 2))))
        out["malformed"].append(None)
    except P.ProtocolError as e:
        out["malformed"].append([e.code, str(e)])
f = P.frame(P.encode_backfill(42))
out["frame"] = ["".join("%02x" % b for b in f), [list(x) for x in P.FrameDecoder().feed(b"\x00" + f + f)]]
bad, refused = bytearray(f), []
bad[-1] ^= 0xFF
out["bad_crc"] = [[list(x) for x in P.FrameDecoder(refused.append).feed(bytes(bad) + f)], [list(x) for x in refused]]
print(json.dumps(out))
'''


def test_same_vectors_under_micropython(micropython: str, tmp_path: Path) -> None:
    exe = micropython
    script = tmp_path / "check.py"
    script.write_text(MP_CHECK)
    vec = {
        "records": VECTORS,
        "commands": [[c[0], c[1], c[2], c[3], c[4]] for c in COMMANDS],
        "malformed": [m[0].hex() for m in MALFORMED],
    }
    env = dict(os.environ, MICROPYPATH=".frozen:%s" % FIRMWARE)
    run = subprocess.run([exe, str(script)], input=json.dumps(vec), capture_output=True, text=True, env=env, timeout=60)
    assert run.returncode == 0, run.stderr + run.stdout
    out = json.loads(run.stdout)
    for (name, _, _, hexs, fields), (mname, mhex, mdec) in zip(VECTORS, out["records"]):
        assert (mname, mhex) == (name, hexs)
        assert mdec == fields
    for (_, _, hexs, op, decoded), (mhex, mop, margs) in zip(COMMANDS, out["commands"]):
        assert (mhex, mop, margs) == (hexs, op, decoded)
    for (data, code, message), got in zip(MALFORMED, out["malformed"]):
        assert got is not None and got[0] == code and message in got[1]
    assert out["frame"][0] == "a55a0601022a0000002d0e"
    assert out["frame"][1] == [list(P.encode_backfill(42))] * 2
    assert out["bad_crc"] == [[list(P.encode_backfill(42))]] * 2  # the good frame delivered, the bad one told
