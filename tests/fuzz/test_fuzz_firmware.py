"""Firmware-side parsers fuzzed under the real MicroPython binary, against CPython's answers.

A few thousand seeded random and mutated inputs go through tests/fuzz/mpy_decode.py in one
micropython process per parser: control writes (what App._control does with them), records,
the band's config.json loader, and the serial FrameDecoder. Nothing but ProtocolError may
escape, and MicroPython must give exactly the answer CPython gives (same record, same error
code), so the band and the host never disagree about a byte string.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from pathlib import Path
from typing import Any

import fuzzkit
from mpy_decode import decoded_command as cpython_command  # the harness's own answers, run by CPython
from mpy_decode import record as cpython_record
from swcore import protocol as P

HERE = Path(__file__).resolve().parent
FIRMWARE = HERE.parents[1] / "firmware"
SEED = 9


def run_mpy(micropython: str, mode: str, inputs: list[bytes]) -> list[list[Any]]:
    """One micropython process over every input; its JSON answer per input."""
    env = dict(os.environ, MICROPYPATH=".frozen:%s" % FIRMWARE)
    res = subprocess.run(
        [micropython, str(HERE / "mpy_decode.py"), mode],
        input="".join(b.hex() + "\n" for b in inputs), capture_output=True, text=True, env=env, timeout=300,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    out = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(out) == len(inputs)
    return out


def crashes(inputs: list[bytes], out: list[list[Any]]) -> list[str]:
    return [f"{data.hex()}: {o[1]}" for data, o in zip(inputs, out) if o[0] == "X"]


def command_inputs(n: int, rng: random.Random) -> list[bytes]:
    valid = [fuzzkit.valid_command(rng) for _ in range(n // 4)]
    # Every opcode and config key next to the valid ones, with every length up to 9 bytes.
    edges = [bytes([P.VERSION, op]) + bytes(k) for op in range(8) for k in range(8)]
    edges += [P.encode_config(key, v) for key in range(8) for v in (-(2**31), -1, 0, 1, 49, 50, 51, 52, 75, 100, 101, 104, 3600, 3601, 2**31 - 1)]
    mutated = [fuzzkit.mutate(rng.choice(valid), rng, valid, max_len=24) for _ in range(n // 2)]
    noise = [rng.randbytes(rng.randint(0, 12)) for _ in range(n // 8)]
    return valid + edges + mutated + noise


def test_control_writes_under_micropython(micropython: str) -> None:
    inputs = command_inputs(3000, random.Random(SEED))
    out = run_mpy(micropython, "command", inputs)
    assert crashes(inputs, out) == []
    mismatch = [(d.hex(), o, cpython_command(d)) for d, o in zip(inputs, out) if o != cpython_command(d)]
    assert mismatch == []
    kinds = {o[0] for o in out}
    assert kinds == {"ok", "E"}, "the inputs reach both outcomes"
    codes = {o[1] for o in out if o[0] == "E"}
    assert {P.E_VERSION, P.E_LENGTH, P.E_OPCODE, P.E_VALUE, P.E_KEY} <= codes


def test_records_under_micropython(micropython: str) -> None:
    rng = random.Random(SEED + 1)
    valid = [fuzzkit.valid_record(rng) for _ in range(500)]
    inputs = valid + [fuzzkit.mutate(rng.choice(valid), rng, valid) for _ in range(1500)] + [rng.randbytes(rng.randint(0, 30)) for _ in range(200)]
    out = run_mpy(micropython, "record", inputs)
    assert crashes(inputs, out) == []
    assert [o for d, o in zip(inputs, out) if o != cpython_record(d)] == []


def config_inputs(n: int, rng: random.Random) -> list[bytes]:
    names = [spec[0] for spec in P.CONFIG_KEYS.values()]
    values: list[Any] = [0, 1, 5, 50, 52, 100, 104, 3600, 3601, -1, 2**40, 1.5, float("inf"), True, None, "52", [], {}, [52]]
    docs = []
    for _ in range(n // 2):
        doc: dict[str, Any] = {"version": rng.choice((1, 1, 1, 0, 2, "1", None, 1.0))}
        for name in names:
            if rng.random() < 0.8:
                doc[name] = rng.choice(values)
        docs.append(json.dumps(doc).encode())
    docs += [b"", b"{}", b"[]", b"null", b"1", b'"x"', b"{", b"\xff\xfe", b'{"version": 1}', b"[" * 50 + b"]" * 50]
    return docs + [fuzzkit.mutate(rng.choice(docs), rng, docs, max_len=200) for _ in range(n // 2)]


def test_band_config_file_under_micropython(micropython: str) -> None:
    """Any config.json (torn, corrupt, wrong types) gives valid values, never a crash at boot."""
    inputs = config_inputs(1000, random.Random(SEED + 2))
    out = run_mpy(micropython, "config", inputs)
    assert crashes(inputs, out) == []
    defaults = [[P.CFG_MIN_CONFIDENCE, 0], [P.CFG_RATE_HZ, 52], [P.CFG_STATUS_PERIOD_S, 10], [P.CFG_LOW_BATTERY_PCT, 15]]
    torn = next(o for d, o in zip(inputs, out) if d == b"")
    assert torn == ["ok", [True, defaults]], "an empty (torn) file: defaults, and the reset reported"
    assert sum(o[1][0] for o in out) > len(out) // 2 and not all(o[1][0] for o in out)
    good = json.dumps({"version": 1, "min_confidence": 40, "rate_hz": 104, "status_period_s": 60, "low_battery_pct": 20})
    (o,) = run_mpy(micropython, "config", [good.encode()])
    assert o == ["ok", [False, [[P.CFG_MIN_CONFIDENCE, 40], [P.CFG_RATE_HZ, 104], [P.CFG_STATUS_PERIOD_S, 60], [P.CFG_LOW_BATTERY_PCT, 20]]]]


def test_frame_decoder_under_micropython(micropython: str) -> None:
    """Random streams of frames, noise and mutations, cut into random reads: same payloads as CPython."""
    rng = random.Random(SEED + 3)
    inputs: list[bytes] = []
    expected: list[list[Any]] = []
    for _ in range(150):
        stream = b""
        for _ in range(rng.randint(0, 6)):
            if rng.random() < 0.5:
                stream += bytes(rng.choice((P.SYNC0, P.SYNC1, 0, rng.randrange(256))) for _ in range(rng.randint(0, 20)))
            f = P.frame(fuzzkit.valid_record(rng) if rng.random() < 0.8 else rng.randbytes(rng.randint(0, 255)))
            stream += fuzzkit.mutate(f, rng, max_len=300) if rng.random() < 0.3 else f
        dec = P.FrameDecoder()
        inputs.append(b"")
        expected.append(["ok", "reset"])
        i = 0
        while i < len(stream):
            step = rng.randint(1, 80)
            inputs.append(stream[i : i + step])
            expected.append(["ok", [p.hex() for p in dec.feed(stream[i : i + step])]])
            i += step
    out = run_mpy(micropython, "frames", inputs)
    assert crashes(inputs, out) == []
    assert out == expected
