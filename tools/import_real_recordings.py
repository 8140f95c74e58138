#!/usr/bin/env python3
"""Import short real IMU recordings shipped inside PyPI releases as replay CSVs.

The recordings are genuine body-worn sensor data that other projects ship as
examples or test inputs. They show ordinary adult movement (walking, turning,
sit-to-stand, simulated daily living) with the sensor on the trunk, and serve
spasmwatch as false-alarm fixtures: a correct detector raises no cluster on
them.

What the script does, reproducibly:

1. Downloads each pinned release file (exact file name + sha256) from PyPI.
   The file's URL is looked up in PyPI's simple index (PEP 691 JSON, what pip
   itself reads). ``pip download --no-binary :all:`` is not used because it
   builds the sdist to read its metadata, and scikit-digital-health's sdist
   needs a compiler toolchain (meson, patchelf) to build; only the archive is
   wanted here. The sha256 pin makes the input byte-identical every run.
2. Reads the recording out of the archive in memory (nothing is installed, and
   none of these packages becomes a spasmwatch dependency).
3. Converts to the replay contract (docs/engineering.md, "Design notes"): header
   ``t,ax,ay,az,gx,gy,gz`` (gyro columns omitted when the source has none),
   t in seconds from 0 at a constant rate, acceleration in g, angular rate in
   deg/s. Units are converted from the source's documented units.
4. Writes ``tests/data/real/*.csv``, ``tests/data/real/SOURCES.md`` and the
   packages' licence/notice files under ``tests/data/real/licenses/`` (the
   MIT, BSD and Apache licences ask that they travel with the data).

Time base: when the source timestamps are regular to within a quarter sample
(timestamp quantisation only), the samples are kept as they are and
``t = i / rate`` with the rate fitted to the timestamps. When they are not,
the signal is linearly interpolated onto a uniform grid (documented per file).
A source with a gap is cut to its longest gap-free stretch (documented).

Usage::

    python tools/import_real_recordings.py [--out tests/data/real] [--cache DIR]

Needs only the standard library and numpy. Network access to PyPI is needed
unless ``--cache`` already holds the pinned files.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import io
import json
import sys
import tarfile
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO_ROOT / "tests" / "data" / "real"
SIMPLE_INDEX = "https://pypi.org/simple/{name}/"

STANDARD_GRAVITY_MS2 = 9.80665  # m/s^2 per g (CGPM 1901 conventional value)
HEADER_6 = ["t", "ax", "ay", "az", "gx", "gy", "gz"]
HEADER_3 = ["t", "ax", "ay", "az"]

# A step between timestamps larger than this many median steps is a gap.
GAP_FACTOR = 1.5
# Timestamps within this fraction of a sample period of a straight line are
# "regular": the deviation is timestamp quantisation, not a rate change.
REGULAR_RESIDUAL_FRACTION = 0.25


@dataclass(frozen=True)
class Release:
    """One pinned file of one PyPI release."""

    name: str
    version: str
    filename: str
    sha256: str
    licence: str  # licence of the package and thus of the files it ships
    licence_members: tuple[str, ...]  # licence/notice files copied next to the data


@dataclass(frozen=True)
class Signal:
    """A recording in contract units before the time base is made uniform."""

    t_s: np.ndarray | None  # source timestamps in seconds, or None
    rate_hz: float | None  # stated rate, used when there are no timestamps
    acc_g: np.ndarray  # (n, 3)
    gyr_dps: np.ndarray | None  # (n, 3) or None
    resample_hz: float | None = None  # target rate if timestamps are irregular


@dataclass(frozen=True)
class Recording:
    out_name: str
    release: Release
    member: str  # path inside the archive
    load: Callable[[bytes], Signal]
    # Documentation, copied into SOURCES.md.
    data_licence: str
    position: str
    device: str
    source_units: str
    conversion: str
    activity: str


MOBGAP = Release(
    "mobgap", "1.2.0", "mobgap-1.2.0.tar.gz",
    "26f3ec1173f74ad873d13dabe0fd75dde8554720595ebc39159ee18dbea31351",
    "Apache-2.0",
    ("mobgap-1.2.0/LICENSE", "mobgap-1.2.0/NOTICE"),
)
SKDH = Release(
    "scikit-digital-health", "0.17.18", "scikit_digital_health-0.17.18.tar.gz",
    "fd591a452f0e94cbda7e47d68827c9f3a7aa34c1268ad1b2dd187c8366db4c25",
    "MIT",
    ("scikit_digital_health-0.17.18/LICENSE",),
)
SKDH_DATA_LICENCE = "MIT (scikit-digital-health LICENSE, Copyright (c) 2021. Pfizer Inc.)"
GAITPY = Release(
    "gaitpy", "1.6.1", "gaitpy-1.6.1.tar.gz",
    "a027ac8c11576f6c7ba70a426e3144cbe9c7a84c0339079f05e9a6c18fe9edb5",
    "MIT",
    ("gaitpy-1.6.1/LICENSE",),
)
AEON = Release(
    "aeon", "1.6.0", "aeon-1.6.0-py3-none-any.whl",
    "d05227086706f80111ac5fee8de4d5d3115bb3bcfd1c786c8629393055816409",
    "BSD-3-Clause",
    ("aeon-1.6.0.dist-info/licenses/LICENSE",),
)


# ---------------------------------------------------------------- loaders


def load_mobgap_csv(raw: bytes) -> Signal:
    """mobgap example_data/data_csv: acc in g, gyr in deg/s, 100 Hz, no time column.

    mobgap's scripts/prepare_csv_example_data.py wrote these files from its
    lab example data dividing acc (m/s^2) by GRAV_MS2, and its docs state gyr
    is in deg/s; examples/data/_05_custom_datasets.py states 100 Hz.
    """
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    header, body = rows[0], rows[1:]
    expected = ["samples", "acc_x", "acc_y", "acc_z", "gyr_x", "gyr_y", "gyr_z"]
    if header != expected:
        raise ValueError(f"unexpected mobgap header {header}")
    data = np.array(body, dtype=float)
    samples = data[:, 0]
    if not np.array_equal(samples, np.arange(len(samples))):
        raise ValueError("mobgap sample index is not contiguous")
    return Signal(t_s=None, rate_hz=100.0, acc_g=data[:, 1:4], gyr_dps=data[:, 4:7])


def _npz(raw: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def load_skdh_npz_gyro_rad(raw: bytes) -> Signal:
    """skdh test input with time (s), accel (g), gyro (rad/s)."""
    d = _npz(raw)
    return Signal(t_s=d["time"], rate_hz=None, acc_g=d["accel"], gyr_dps=np.degrees(d["gyro"]))


def load_skdh_npz_accel(raw: bytes, resample_hz: float | None = None) -> Signal:
    """skdh test input with time (s) and accel (g) only."""
    d = _npz(raw)
    return Signal(t_s=d["time"], rate_hz=None, acc_g=d["accel"], gyr_dps=None, resample_hz=resample_hz)


def load_gaitpy_geneactiv(raw: bytes) -> Signal:
    """GENEActiv CSV export: 99 header lines, then time,x,y,z (g),lux,button,temp."""
    rows = [r for r in csv.reader(io.StringIO(raw.decode("latin-1")))][99:]
    rows = [r for r in rows if len(r) >= 4]
    fmt = "%Y-%m-%d %H:%M:%S:%f"
    t = np.array(
        [dt.datetime.strptime(r[0], fmt).replace(tzinfo=dt.timezone.utc).timestamp() for r in rows]
    )
    acc = np.array([[float(v) for v in r[1:4]] for r in rows])
    return Signal(t_s=t, rate_hz=None, acc_g=acc, gyr_dps=None)


def load_aeon_daphnet_trunk(raw: bytes) -> Signal:
    """TimeEval-format Daphnet excerpt; trunk (hip) sensor columns in milli-g."""
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    header, body = rows[0], rows[1:]
    cols = ["trunk_horiz_fwd", "trunk_vert", "trunk_horiz_lateral"]
    idx = [header.index(c) for c in cols]
    t = np.array(
        [dt.datetime.fromisoformat(r[0]).replace(tzinfo=dt.timezone.utc).timestamp() for r in body]
    )
    acc_mg = np.array([[float(r[i]) for i in idx] for r in body])
    return Signal(t_s=t, rate_hz=None, acc_g=acc_mg / 1000.0, gyr_dps=None)


# ---------------------------------------------------------------- catalogue

RECORDINGS: list[Recording] = [
    Recording(
        out_name=f"mobgap_{cohort.lower()}{pid}_lowerback_daily_living.csv",
        release=MOBGAP,
        member=f"mobgap-1.2.0/example_data/data_csv/{cohort}/{pid}/TimeMeasure1_Test11_Trial1.csv",
        load=load_mobgap_csv,
        data_licence=(
            "Apache-2.0 (the mobgap sdist's LICENSE; the example data has no separate licence; "
            "NOTICE: Copyright 2024 - Björn Eskofier as head of the MaDLab FAU in the name of the "
            "Moblise-D consortium)"
        ),
        position="lower back (Mobilise-D single wearable, 'SU' 'LowerBack')",
        device="McRoberts MoveMonitor+ (MM+), 6-axis",
        source_units="acc in g, gyr in deg/s, 100 Hz, no time column (sample index)",
        conversion="none needed (already g and deg/s); t = sample / 100 Hz; whole file kept",
        activity=(
            f"Mobilise-D technical validation study lab protocol, Test 11 'simulated activities "
            f"of daily living' (mobgap examples/data/_04_tvs_data_no_exc.py), participant "
            f"{cohort}/{pid} ({'healthy adult' if cohort == 'HA' else 'adult with multiple sclerosis'})"
        ),
    )
    for cohort, pid in (("HA", "001"), ("HA", "002"), ("MS", "001"))
] + [
    Recording(
        out_name="skdh_lumbar_walking_turns_128hz.csv",
        release=SKDH,
        member="scikit_digital_health-0.17.18/tests/gait/data/gait_input2.npz",
        load=load_skdh_npz_gyro_rad,
        data_licence=SKDH_DATA_LICENCE,
        position="lumbar (input to skdh's GaitLumbar tests 'test_with_turns')",
        device="6-axis IMU at 128 Hz (device not stated in the file)",
        source_units="time in s (unix), accel in g, gyro in rad/s, 128 Hz",
        conversion="gyro rad/s -> deg/s (x 180/pi); timestamps regular, t = i / fitted rate; whole file kept",
        activity="walking with turns",
    ),
    Recording(
        out_name="skdh_lumbar_walking_200hz.csv",
        release=SKDH,
        member="scikit_digital_health-0.17.18/tests/gait/data/gait_input.npz",
        load=lambda raw: load_skdh_npz_accel(raw, resample_hz=200.0),
        data_licence=SKDH_DATA_LICENCE,
        position=(
            "lumbar (input to skdh's GaitLumbar tests); samples 38000-54999 of skdh's "
            "tests/io/data/ax3_data.npz (decoded from its ax3_sample.cwa)"
        ),
        device="Axivity AX3 (3-axis accelerometer), nominal 200 Hz",
        source_units="time in s (unix), accel in g; effective rate ~197.1 Hz with timestamps drifting up to ~8 ms from a constant rate",
        conversion=(
            "timestamps irregular (more than a quarter sample from a straight line), so accel was linearly "
            "interpolated onto a uniform 200 Hz grid (slight upsampling, no aliasing); accel already in g; "
            "no gyro in source; whole file kept"
        ),
        activity=(
            "about 4 s still, about 9 s of trunk posture shifts (tilt changes of ~20 deg), "
            "then walking until the last few seconds"
        ),
    ),
    Recording(
        out_name="skdh_lowerback_sit_to_stand_128hz.csv",
        release=SKDH,
        member="scikit_digital_health-0.17.18/tests/sit2stand/data/s2s_input_data.npz",
        load=load_skdh_npz_accel,
        data_licence=SKDH_DATA_LICENCE,
        position=(
            "lower back (input to skdh's Sit2Stand tests; that method is 'Sit-to-Stand Transitions ... "
            "Using an Accelerometer on the Lower Back'); the file itself does not name the placement"
        ),
        device="3-axis accelerometer at 128 Hz (device not stated in the file)",
        source_units="time in s (unix), accel in g, 128 Hz",
        conversion="none needed (g); timestamps regular, t = i / fitted rate; no gyro in source; whole file kept",
        activity="sit-to-stand / stand-to-sit transitions with sitting and standing",
    ),
    Recording(
        out_name="gaitpy_lumbar_walking_50hz.csv",
        release=GAITPY,
        member="gaitpy-1.6.1/gaitpy/demo/demo_data.csv",
        load=load_gaitpy_geneactiv,
        data_licence="MIT (gaitpy LICENSE, Copyright (c) 2019 Matt)",
        position="lower back ('Device Location Code,back'; gaitpy is for a lumbar sensor)",
        device="GENEActiv 1.1 (3-axis accelerometer, +-8 g), 50 Hz",
        source_units="timestamps to the ms, accel in g, 50 Hz",
        conversion=(
            "the timestamps jump 0.52 s after the first 300 samples (first GENEActiv page), so those first "
            "6 s were dropped and the remaining gap-free 8100 samples (162 s) kept; t = i / fitted rate; "
            "accel already in g; no gyro in source"
        ),
        activity="gaitpy's demo recording: walking (gait bouts) with standing",
    ),
    Recording(
        out_name="aeon_daphnet_s06r02_hip_64hz.csv",
        release=AEON,
        member="aeon/datasets/data/Daphnet_S06R02E0/S06R02E0.csv",
        load=load_aeon_daphnet_trunk,
        data_licence=(
            "aeon wheel: BSD-3-Clause. Underlying data: Daphnet Freezing of Gait dataset (Roggen, Plotnik, "
            "Hausdorff 2013, UCI Machine Learning Repository, doi:10.24432/C56K78), which UCI distributes "
            "under CC BY 4.0 (attribution required; not verifiable offline from the package). The original "
            "release's README 'LICENCE' section asks that publications cite Bachlin et al., IEEE TITB 14(2) "
            "2010, 436-446"
        ),
        position="hip / lower trunk (Daphnet 'trunk' columns; the dataset README says the sensor is on the hip)",
        device="Daphnet wireless 3-axis acceleration sensor, 64 Hz",
        source_units="accel in milli-g (mg), 64 Hz, timestamps rounded to the ms",
        conversion=(
            "mg -> g (/ 1000); only the trunk sensor kept (columns trunk_horiz_fwd, trunk_vert, "
            "trunk_horiz_lateral -> ax, ay, az); timestamps regular to the ms, t = i / fitted rate "
            "(64 Hz); whole excerpt kept"
        ),
        activity=(
            "adult with Parkinson's disease (subject 06, run 02) during the Daphnet lab protocol "
            "(straight walking, walking with turns, a daily-living task; which part is not stated), "
            "mostly walking after the first ~15 s; aeon states this excerpt contains no "
            "freezing-of-gait episode"
        ),
    ),
]


# ---------------------------------------------------------------- download


def fetch_release(rel: Release, cache: Path) -> bytes:
    """Return the pinned file's bytes, from the cache or from PyPI, hash-checked."""
    path = cache / rel.filename
    if path.is_file():
        cached = path.read_bytes()
        if hashlib.sha256(cached).hexdigest() == rel.sha256:
            return cached
    req = urllib.request.Request(
        SIMPLE_INDEX.format(name=rel.name),
        headers={"Accept": "application/vnd.pypi.simple.v1+json"},
    )
    with urllib.request.urlopen(req, timeout=120) as resp:
        index = json.load(resp)
    files = [f for f in index["files"] if f["filename"] == rel.filename]
    if not files:
        raise RuntimeError(f"{rel.filename} not found in the PyPI index of {rel.name}")
    with urllib.request.urlopen(files[0]["url"], timeout=300) as resp:
        data: bytes = resp.read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != rel.sha256:
        raise RuntimeError(f"{rel.filename}: sha256 {digest} != pinned {rel.sha256}")
    cache.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return data


def read_member(archive: bytes, filename: str, member: str) -> bytes:
    if filename.endswith(".whl") or filename.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            return zf.read(member)
    with tarfile.open(fileobj=io.BytesIO(archive), mode="r:*") as tf:
        f = tf.extractfile(member)
        if f is None:
            raise RuntimeError(f"{member} is not a regular file in {filename}")
        return f.read()


# ---------------------------------------------------------------- time base


@dataclass(frozen=True)
class Uniform:
    t_s: np.ndarray
    acc_g: np.ndarray
    gyr_dps: np.ndarray | None
    rate_hz: float
    note: str


def longest_gap_free(t_s: np.ndarray) -> tuple[int, int]:
    """Index range [start, stop) of the longest stretch without a gap."""
    step = np.diff(t_s)
    median = float(np.median(step))
    if np.any(step <= 0):
        raise ValueError("timestamps are not strictly increasing")
    breaks = np.flatnonzero(step > GAP_FACTOR * median) + 1
    edges = np.concatenate(([0], breaks, [len(t_s)]))
    lengths = np.diff(edges)
    k = int(np.argmax(lengths))
    return int(edges[k]), int(edges[k + 1])


def make_uniform(sig: Signal) -> Uniform:
    if sig.t_s is None:
        assert sig.rate_hz is not None
        n = len(sig.acc_g)
        return Uniform(np.arange(n) / sig.rate_hz, sig.acc_g, sig.gyr_dps, sig.rate_hz,
                       f"no timestamps; stated rate {sig.rate_hz:g} Hz")
    start, stop = longest_gap_free(sig.t_s)
    t = sig.t_s[start:stop] - sig.t_s[start]
    acc = sig.acc_g[start:stop]
    gyr = None if sig.gyr_dps is None else sig.gyr_dps[start:stop]
    cut = "" if (start, stop) == (0, len(sig.t_s)) else f"kept samples {start}..{stop - 1} of {len(sig.t_s)} (gap); "
    i = np.arange(len(t))
    slope, intercept = np.polyfit(i, t, 1)
    rate = 1.0 / slope
    residual = float(np.max(np.abs(t - (intercept + slope * i))))
    if residual <= REGULAR_RESIDUAL_FRACTION / rate:
        return Uniform(i / rate, acc, gyr, rate,
                       f"{cut}regular timestamps (max deviation {residual * 1e3:.2f} ms), rate {rate:.4f} Hz")
    if sig.resample_hz is None:
        raise ValueError(f"irregular timestamps (max deviation {residual * 1e3:.2f} ms) and no resample rate")
    grid = np.arange(0.0, t[-1], 1.0 / sig.resample_hz)
    acc_u = np.column_stack([np.interp(grid, t, acc[:, k]) for k in range(3)])
    gyr_u = None if gyr is None else np.column_stack([np.interp(grid, t, gyr[:, k]) for k in range(3)])
    return Uniform(grid, acc_u, gyr_u, sig.resample_hz,
                   f"{cut}irregular timestamps (max deviation {residual * 1e3:.2f} ms, mean rate {rate:.3f} Hz); "
                   f"linearly interpolated to {sig.resample_hz:g} Hz")


# ---------------------------------------------------------------- output


def write_csv(path: Path, u: Uniform) -> None:
    cols = [u.t_s, u.acc_g[:, 0], u.acc_g[:, 1], u.acc_g[:, 2]]
    fmt = ["%.6f", "%.5f", "%.5f", "%.5f"]
    header = HEADER_3
    if u.gyr_dps is not None:
        cols += [u.gyr_dps[:, 0], u.gyr_dps[:, 1], u.gyr_dps[:, 2]]
        fmt += ["%.4f", "%.4f", "%.4f"]
        header = HEADER_6
    # Round first, then add 0.0 so that tiny negatives print as 0, not -0.
    decimals = [int(f[2]) for f in fmt]
    table = np.column_stack([np.round(c, d) + 0.0 for c, d in zip(cols, decimals)])
    buf = io.StringIO()
    # Explicit "\n" keeps the fixture byte-identical across platforms.
    np.savetxt(buf, table, fmt=fmt, delimiter=",", header=",".join(header), comments="", newline="\n")
    path.write_text(buf.getvalue(), encoding="utf-8", newline="\n")


def summary(u: Uniform) -> dict[str, str]:
    mag = np.linalg.norm(u.acc_g, axis=1)
    out = {
        "samples": str(len(u.t_s)),
        "duration": f"{u.t_s[-1]:.1f} s",
        "rate": f"{u.rate_hz:.4g} Hz",
        "|acc| median": f"{np.median(mag):.3f} g",
        "|acc| 1st-99th pct": f"{np.percentile(mag, 1):.2f}-{np.percentile(mag, 99):.2f} g",
    }
    if u.gyr_dps is not None:
        out["|gyro| 99th pct"] = f"{np.percentile(np.linalg.norm(u.gyr_dps, axis=1), 99):.0f} deg/s"
    return out


SOURCES_HEAD = """# Real recordings used as false-alarm fixtures

Genuine body-worn IMU recordings of adults, taken from files that other open
projects ship inside their PyPI releases, converted to the replay CSV contract
(`t,ax,ay,az[,gx,gy,gz]`, seconds from 0 at a constant rate, g, deg/s).
None of them contains an infantile spasm; ordinary adult movement must raise
no cluster (`tests/test_real_recordings.py`). They are adults, not infants,
and mostly lower-back rather than chest placements: a first, honest
false-alarm check, not a validation of sensitivity.

Generated by `python tools/import_real_recordings.py` (do not edit by hand;
change the catalogue in the script and rerun). Each source file is pinned by
release file name and sha256. The packages are not spasmwatch dependencies.

Considered and left out:
- scikit-digital-health `tests/io/data/apdm_sample.h5` (APDM Opal, labelled
  Lumbar, Sternum, wrists, feet): all six sensors show the same signal (still,
  then moved together), i.e. the sensors were not worn on a body.
- scikit-digital-health `tests/io/data/ax6_data.npz` / `examples/example_data_2min.csv`:
  placement not stated, angular rates up to ~1240 deg/s suggest a limb.
- kielmat / ngmt `example_lower_back_acc.csv`: no rate or units stated, the
  values are not consistent with g (median |acc| ~97), licence NPOSL-3.0.
- mobgap Test 5 trials (straight walking, 8-15 s each): too short to add much.
- pyActigraphy, actipy, agcounts, sensormotion: no raw trunk IMU recordings
  in their releases (epoch counts, or nothing).

Axis order is the source's; spasmwatch must not depend on mounting.
"""


def sources_entry(rec: Recording, u: Uniform, size: int) -> str:
    rel = rec.release
    stats = summary(u)
    lines = [
        f"## {rec.out_name}",
        "",
        f"- Source: PyPI `{rel.name}=={rel.version}`, file `{rel.filename}` (sha256 `{rel.sha256}`)",
        f"- Path inside it: `{rec.member}`",
        f"- Licence: {rec.data_licence}; text in "
        + ", ".join(f"`licenses/{rel.name}-{rel.version}-{Path(m).name}`" for m in rel.licence_members),
        f"- Sensor position: {rec.position}",
        f"- Device: {rec.device}",
        f"- Original rate and units: {rec.source_units}",
        f"- Conversion / excerpt: {rec.conversion}",
        f"- Time base: {u.note}",
        f"- Activity: {rec.activity}",
        f"- Result: {stats['samples']} samples, {stats['duration']} at {stats['rate']}, "
        f"columns `{'t,ax,ay,az,gx,gy,gz' if u.gyr_dps is not None else 't,ax,ay,az'}`, "
        f"{size / 1e6:.2f} MB; |acc| median {stats['|acc| median']}, "
        f"1st-99th percentile {stats['|acc| 1st-99th pct']}"
        + (f"; |gyro| 99th percentile {stats['|gyro| 99th pct']}" if "|gyro| 99th pct" in stats else ""),
        "",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: %(default)s)")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "spasmwatch-real-recordings",
                        help="download cache (default: %(default)s)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    archives: dict[str, bytes] = {}
    entries: list[str] = []
    total = 0
    licence_dir = args.out / "licenses"
    licence_dir.mkdir(exist_ok=True)
    for rec in RECORDINGS:
        rel = rec.release
        if rel.filename not in archives:
            archives[rel.filename] = fetch_release(rel, args.cache)
            for member in rel.licence_members:
                text = read_member(archives[rel.filename], rel.filename, member)
                (licence_dir / f"{rel.name}-{rel.version}-{Path(member).name}").write_bytes(text)
        raw = read_member(archives[rel.filename], rel.filename, rec.member)
        uniform = make_uniform(rec.load(raw))
        path = args.out / rec.out_name
        write_csv(path, uniform)
        size = path.stat().st_size
        total += size
        entries.append(sources_entry(rec, uniform, size))
        stats = summary(uniform)
        print(f"{rec.out_name}: {stats['samples']} samples, {stats['duration']}, {stats['rate']}, "
              f"|acc| median {stats['|acc| median']}, {size / 1e6:.2f} MB; {uniform.note}")
    (args.out / "SOURCES.md").write_text(SOURCES_HEAD + "\n" + "\n".join(entries), encoding="utf-8")
    print(f"total {total / 1e6:.2f} MB in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
