"""The replay CSV reader: values, chunking, line numbers, rate, and every input fault."""

from __future__ import annotations

import re
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from spasmwatch.errors import InputError
from spasmwatch.io import Chunk, GyroUnitsWarning, InputWarning, Recording, estimate_rate_hz, open_recording
from spasmwatch.io import _pieces
from spasmwatch.io.limits import MIN_RATE_HZ, RATE_CHECK_ROWS, RATE_SPAN_ROWS

FIELDS = ("t", "ax", "ay", "az", "gx", "gy", "gz")
HEADER = ",".join(FIELDS) + "\n"


def sample(i: int, rate_hz: float = 100.0) -> list[float]:
    """A plausible sample: gravity mostly on z, small rates; distinct per row."""
    return [i / rate_hz, 0.01 * (i % 7), -0.02 * (i % 5), 0.98 + 0.001 * (i % 3), 1.5 * (i % 11), -2.0, 0.25 * (i % 4)]


def line(values: Sequence[float]) -> str:
    return ",".join(repr(v) for v in values) + "\n"


def body(n: int, rate_hz: float = 100.0, replace: dict[int, str] | None = None) -> str:
    """n sample lines; replace maps a 0-based sample index to a raw line put there instead."""
    replace = replace or {}
    return "".join(replace.get(i, line(sample(i, rate_hz))) for i in range(n))


def write(tmp_path: Path, text: str, name: str = "rec.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def read_all(path: Path, chunk_rows: int = 1_000_000) -> tuple[Recording, list[Chunk]]:
    rec = open_recording(path, chunk_rows=chunk_rows)
    return rec, list(rec.chunks())


def stacked(chunks: list[Chunk]) -> NDArray[np.float64]:
    """All samples as an (n, 7) or (n, 4) array in header order."""
    parts = [np.column_stack([c.t, c.acc] + ([c.gyro] if c.gyro is not None else [])) for c in chunks]
    return np.concatenate(parts)


def fault(path: Path, chunk_rows: int = 1_000_000) -> InputError:
    with pytest.raises(InputError) as info:
        read_all(path, chunk_rows)
    return info.value


def assert_fault(err: InputError, path: Path, line: int, field: str | None, words: str) -> None:
    """The message names file, line and field, in the CLI's format, and says what is wrong."""
    where = f"{path}:{line}: " + (f"field '{field}': " if field else "")
    assert str(err).startswith(where), str(err)
    assert words in str(err), str(err)
    assert (err.path, err.line, err.field) == (str(path), line, field)


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parse pieces of 4 KiB (~90 lines): small files then cross many piece boundaries."""
    monkeypatch.setattr(_pieces, "PIECE_BYTES", 4096)


# --- values and chunks ---------------------------------------------------------------


def test_values_round_trip_with_gyro(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + body(250))
    rec, chunks = read_all(path)
    assert (rec.path, rec.rate_hz, rec.has_gyro, rec.t0, rec.columns) == (str(path), 100.0, True, 0.0, FIELDS)
    assert np.array_equal(stacked(chunks), np.array([sample(i) for i in range(250)]))
    assert chunks[0].t.dtype == np.float64 and chunks[0].acc.shape == (250, 3)


def test_no_gyro(tmp_path: Path) -> None:
    text = "t,ax,ay,az\n" + "".join(line(sample(i)[:4]) for i in range(50))
    rec, chunks = read_all(write(tmp_path, text))
    assert not rec.has_gyro and all(c.gyro is None for c in chunks)
    assert np.array_equal(stacked(chunks), np.array([sample(i)[:4] for i in range(50)]))


@pytest.mark.parametrize("chunk_rows", [1, 7, 100, 999, 1000, 1001, 5000])
def test_chunk_boundaries(tmp_path: Path, small_blocks: None, chunk_rows: int) -> None:
    n = 1000
    _, chunks = read_all(write(tmp_path, HEADER + body(n)), chunk_rows)
    sizes = [len(c) for c in chunks]
    assert sizes == [chunk_rows] * (n // chunk_rows) + ([n % chunk_rows] if n % chunk_rows else [])
    assert [c.start_index for c in chunks] == list(range(0, n, chunk_rows))
    # Header is line 1, so sample i is on line i + 2 in every chunk.
    assert all(c.first_line == c.start_index + 2 for c in chunks)
    assert np.array_equal(stacked(chunks), np.array([sample(i) for i in range(n)]))


def test_chunks_can_be_read_twice(tmp_path: Path) -> None:
    rec = open_recording(write(tmp_path, HEADER + body(300)), chunk_rows=64)
    assert np.array_equal(stacked(list(rec.chunks())), stacked(list(rec.chunks())))


def test_stopping_early_ends_the_reader_thread(tmp_path: Path, small_blocks: None) -> None:
    rec = open_recording(write(tmp_path, HEADER + body(5000)), chunk_rows=10)
    before = threading.active_count()
    chunks = rec.chunks()
    next(chunks)
    assert threading.active_count() > before  # the reader runs ahead in its own threads
    chunks.close()
    assert threading.active_count() == before


@pytest.mark.parametrize("ending", ["\r\n", "\r"])
def test_line_endings(tmp_path: Path, small_blocks: None, ending: str) -> None:
    text = (HEADER + body(400)).replace("\n", ending)
    _, chunks = read_all(write(tmp_path, text), 150)
    assert np.array_equal(stacked(chunks), np.array([sample(i) for i in range(400)]))
    assert [c.first_line for c in chunks] == [2, 152, 302]


def test_no_trailing_newline_and_blank_lines_at_end(tmp_path: Path) -> None:
    expected = np.array([sample(i) for i in range(20)])
    for tail in ("", "\n", "\n\n", "\r\n \r\n\t\n"):
        text = (HEADER + body(20)).rstrip("\n") + tail
        assert np.array_equal(stacked(read_all(write(tmp_path, text))[1]), expected), repr(tail)


def test_many_blank_lines_at_end_span_pieces(tmp_path: Path, small_blocks: None) -> None:
    _, chunks = read_all(write(tmp_path, HEADER + body(300) + "\n" * 10_000))
    assert np.array_equal(stacked(chunks), np.array([sample(i) for i in range(300)]))


def test_lines_longer_than_a_piece(tmp_path: Path, small_blocks: None) -> None:
    """An ignored column holding 10 kB of text: piece cuts fall inside lines, some pieces are empty."""
    rows = "".join(f"{i / 10},{'n' * 10_000 if i % 3 == 0 else 'x'},0,0,1\n" for i in range(40))
    with pytest.warns(InputWarning):
        rec, chunks = read_all(write(tmp_path, "t,note,ax,ay,az\n" + rows), chunk_rows=16)
    assert rec.rate_hz == 10.0
    assert stacked(chunks)[:, 0].tolist() == [i / 10 for i in range(40)]
    assert [c.first_line for c in chunks] == [2, 18, 34]


def test_piece_cut_never_splits_a_crlf(tmp_path: Path, small_blocks: None) -> None:
    """The cut search reads 4 KiB at a time; here one read ends between a \r and its \n."""
    header = "t,note,ax,ay,az\r\n"
    cut = len(header) + 4096  # the first cut; the search reads [cut, cut + 4096)
    note = "n" * (cut + 4095 - len(header) - len("0,") - len(",0,0,1"))
    rows = f"0,{note},0,0,1\r\n" + "".join(f"{i / 10},x,0,0,1\r\n" for i in range(1, 30))
    assert (header + rows)[cut + 4095 : cut + 4097] == "\r\n"
    with pytest.warns(InputWarning):
        _, chunks = read_all(write(tmp_path, header + rows))
    assert stacked(chunks)[:, 0].tolist() == [i / 10 for i in range(30)]


def test_bom_whitespace_case_quotes_and_column_order(tmp_path: Path) -> None:
    order = [3, 0, 6, 1, 5, 2, 4]
    header = "\ufeff" + ", ".join(f'" {FIELDS[k].upper()} "' if k % 2 else f"\t{FIELDS[k]} " for k in order) + "\n"
    rows = "".join(" , ".join(repr(sample(i)[k]) for k in order) + "\n" for i in range(30))
    rec, chunks = read_all(write(tmp_path, header + rows))
    assert rec.columns == tuple(FIELDS[k] for k in order)
    assert np.array_equal(stacked(chunks), np.array([sample(i) for i in range(30)]))


def test_extra_columns_are_ignored_with_a_warning(tmp_path: Path) -> None:
    text = "t,temp,ax,ay,az,\n" + "".join(f"{i / 50},warm,0,0,1,\n" for i in range(10))
    path = write(tmp_path, text)
    with pytest.warns(InputWarning, match=r"rec\.csv:1: ignoring column\(s\) 'temp', ''"):
        rec, chunks = read_all(path)
    assert rec.ignored_columns == ("temp", "") and rec.rate_hz == 50.0
    assert np.array_equal(stacked(chunks)[:, 1:], np.tile([0.0, 0.0, 1.0], (10, 1)))


def test_numbers_in_every_accepted_spelling(tmp_path: Path) -> None:
    text = "t,ax,ay,az\n0,+1,.5,0.\n0.01,1e-3,-5E-1, 1E+0 \n"
    _, chunks = read_all(write(tmp_path, text))
    assert stacked(chunks).tolist() == [[0.0, 1.0, 0.5, 0.0], [0.01, 0.001, -0.5, 1.0]]


# --- rate -----------------------------------------------------------------------------


# Times written to whole ms, to us, or in full (repr); ms cannot carry 833.3 Hz.
RATE_CASES = [(r, d) for r in (50.0, 100.0, 104.0, 25.6, 833.3) for d in (3, 6, None) if r < 500 or d != 3]


@pytest.mark.parametrize(("rate_hz", "decimals"), RATE_CASES)
def test_rate_estimation(tmp_path: Path, rate_hz: float, decimals: int | None) -> None:
    """The rate comes back as the round number, however finely the times are written."""
    t = np.arange(6000) / rate_hz + 12.5
    cells = [repr(float(x)) if decimals is None else f"{x:.{decimals}f}" for x in t]
    text = "t,ax,ay,az\n" + "".join(f"{c},0,0,1\n" for c in cells)
    rec = open_recording(write(tmp_path, text))
    assert rec.rate_hz == pytest.approx(rate_hz, rel=1e-12)
    assert rec.t0 == 12.5


def test_rate_with_clock_jitter() -> None:
    rng = np.random.default_rng(3)
    t = np.arange(4096) / 104.0 + rng.uniform(-0.002, 0.002, 4096)
    assert estimate_rate_hz(t) == pytest.approx(104.0, rel=1e-4)


def coarse_times(tmp_path: Path, rate_hz: float, n: int, drop: int | None = None) -> Path:
    """Samples at rate_hz with their times written to 10 ms (optionally one dropped)."""
    idx = [i for i in range(n) if i != drop]
    text = "t,ax,ay,az\n" + "".join(f"{i / rate_hz:.2f},0,0,1\n" for i in idx)
    return write(tmp_path, text)


def test_times_rounded_coarser_than_the_samples_are_read(tmp_path: Path) -> None:
    # 104 Hz written to 10 ms: steps of 0, 10 and 20 ms; every sample is there.
    rec, chunks = read_all(coarse_times(tmp_path, 104.0, 6000))
    assert rec.rate_hz == pytest.approx(104.0, rel=2e-4)
    assert sum(len(c) for c in chunks) == 6000


def test_a_dropped_sample_on_a_coarse_grid_is_still_a_gap(tmp_path: Path) -> None:
    # 100 Hz written to 10 ms is on the grid: nothing to widen, a missing sample is named.
    path = coarse_times(tmp_path, 100.0, 6000, drop=3000)
    assert_fault(fault(path), path, 3002, "t", "gap of 0.02 s")


def test_rate_from_two_samples() -> None:
    assert estimate_rate_hz(np.array([3.0, 3.04])) == 25.0


# --- faults: each names file, line and field ---------------------------------------------

# Each case: a bad line put in place of sample i, the field named, words of the
# message. {T} is the time sample i should have, {P} the previous line's time,
# {t:+x} that time shifted by x seconds (formatted like a logger would).
CASES = [
    ("not a number", "{T},abc,0,1,0,0,0", "ax", "not a number: 'abc'"),
    ("empty cell", "{T},0,,1,0,0,0", "ay", "empty cell"),
    ("blank cell", "{T},0,0, ,0,0,0", "az", "empty cell"),
    ("quoted", '{T},0,0,1,"0",0,0', "gx", "not a number: '\"0\"'"),
    ("nan", "{T},0,nan,1,0,0,0", "ay", "nan is not a finite number"),
    ("inf", "{T},0,0,1,0,0,-Infinity", "gz", "-inf is not a finite number"),
    ("nan time", "NaN,0,0,1,0,0,0", "t", "nan is not a finite number"),
    ("too few cells", "{T},0,0,1,0,0", None, "expected 7 comma-separated cells as in the header, found 6"),
    ("too many cells", "{T},0,0,1,0,0,0,0", None, "found 8"),
    ("blank line", "", None, "empty line; every line after the header must be a sample"),
    ("repeated time", "{P},0,0,1,0,0,0", "t", "time {P} repeats the previous line's time"),
    ("time backwards", "{P-0.01},0,0,1,0,0,0", "t", "time {P-0.01} is earlier than {P} on the previous line"),
    ("gap", "{P+0.03},0,0,1,0,0,0", "t", "gap of 0.03 s from the previous line ({P} -> {P+0.03}); the sample interval is 0.01 s (100 Hz)"),
    ("gap 1.6x", "{P+0.016},0,0,1,0,0,0", "t", "gap of 0.016 s"),
    ("short step", "{P+0.004},0,0,1,0,0,0", "t", "time step of 0.004 s from the previous line ({P} -> {P+0.004}) is under half"),
    ("acc too large", "{T},0,-32.5,1,0,0,0", "ay", "-32.5 g is beyond the +-32 g"),
    ("gyro too large", "{T},0,0,1,0,4000.5,0", "gy", "4000.5 deg/s is beyond the +-4000 deg/s"),
    ("not utf-8", "{T},0,0,1,0\udcff,0,0", "gx", "not a number: '0\ufffd'"),
]


def fill(template: str, i: int) -> str:
    """Put sample i's times into a case template."""
    prev = i / 100 - 0.01
    out = template.replace("{T}", repr(i / 100)).replace("{P}", repr((i - 1) / 100))
    for shift in ("-0.01", "+0.03", "+0.016", "+0.004"):
        out = out.replace(f"{{P{shift}}}", repr(round(prev + float(shift), 6)))
    return out


@pytest.mark.parametrize("i", [3, 5003], ids=["at-open", "while-iterating"])
@pytest.mark.parametrize(("name", "bad", "field", "words"), CASES, ids=[c[0] for c in CASES])
def test_fault_names_line_and_field(
    tmp_path: Path, small_blocks: None, i: int, name: str, bad: str, field: str | None, words: str
) -> None:
    """A fault in the first rows fails open_recording; one 5000 samples (~60 blocks) in fails
    iteration. Either way the message names the same line, field and fault."""
    text = HEADER + body(i + 20, replace={i: fill(bad, i) + "\n"})
    path = tmp_path / "rec.csv"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))  # \udcff -> the byte 0xff
    rec = None
    with pytest.raises(InputError) as info:
        rec = open_recording(path, chunk_rows=700)
        list(rec.chunks())
    assert (rec is None) == (i < 4096), "faults in the first rows are found at open"
    assert_fault(info.value, path, i + 2, field, fill(words, i))


@pytest.mark.parametrize("at", [10, 5000])
def test_a_header_line_again_is_named_as_two_recordings_joined(tmp_path: Path, small_blocks: None, at: int) -> None:
    """Found by the researcher's hostile review of 2026-12-07: two recordings joined into one file
    (cat night1.csv night2.csv) said only "field 't': not a number: 't'" at the second header,
    in the first rows or far in (its case and spaces as a header's may have them)."""
    path = write(tmp_path, HEADER + body(at) + " T, ax,AY,az,gx,gy,gz\n" + body(at))
    assert_fault(fault(path, chunk_rows=700), path, at + 2, "t", "the header line again: two recordings joined into one file")


def test_good_samples_before_a_late_fault_are_delivered(tmp_path: Path, small_blocks: None) -> None:
    path = write(tmp_path, HEADER + body(6000, replace={5345: "53.45,0,zz,1,0,0,0\n"}))
    got: list[Chunk] = []
    with pytest.raises(InputError) as info:
        for chunk in open_recording(path, chunk_rows=1000).chunks():
            got.append(chunk)
    assert_fault(info.value, path, 5347, "ay", "not a number: 'zz'")
    assert [len(c) for c in got] == [1000] * 5 + [345]
    assert np.array_equal(stacked(got), np.array([sample(i) for i in range(5345)]))


def test_earlier_implausible_value_wins_over_later_parse_fault(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + body(40, replace={10: "0.1,0,0,99,0,0,0\n", 12: "0.12,x,0,1,0,0,0\n"}))
    assert_fault(fault(path), path, 12, "az", "99.0 g is beyond")


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_parse_fault_lines_across_piece_boundaries(tmp_path: Path, small_blocks: None, ending: str) -> None:
    """A parse fault anywhere around several 4 KiB pieces is named exactly."""
    for bad_row in range(5000, 5300, 7):
        text = (HEADER + body(5400, replace={bad_row: f"{bad_row / 100},0,0,1,0,?,0\n"})).replace("\n", ending)
        path = write(tmp_path, text)
        assert_fault(fault(path, chunk_rows=333), path, bad_row + 2, "gy", "not a number: '?'")


def test_checked_faults_at_every_row_of_a_piece(tmp_path: Path, small_blocks: None) -> None:
    """Gaps and bad values on each row of a whole piece (so also its first, checked
    against the previous piece's last time) are named exactly."""
    faults = [
        (lambda i: f"{(i + 1) / 100},0,0,1,0,0,0\n", "t", "gap of 0.02 s"),
        (lambda i: f"{(i - 1) / 100},0,0,1,0,0,0\n", "t", "repeats the previous line's time"),
        (lambda i: f"{i / 100},0,0,1,0,0,inf\n", "gz", "inf is not a finite number"),
    ]
    for bad_row in range(5000, 5100):
        bad, field, words = faults[bad_row % 3]
        path = write(tmp_path, HEADER + body(5200, replace={bad_row: bad(bad_row)}))
        assert_fault(fault(path, chunk_rows=333), path, bad_row + 2, field, words)


# --- faults in the file as a whole -------------------------------------------------------

EXPECTED = "expected the header t,ax,ay,az,gx,gy,gz"


@pytest.mark.parametrize(
    ("text", "line", "field", "words"),
    [
        ("", 1, None, f"the file is empty; {EXPECTED}"),
        ("\n", 1, None, "line 1 is empty"),
        (HEADER, 2, None, "no samples after the header; at least 2 are needed"),
        (HEADER.strip(), 2, None, "no samples after the header"),
        (HEADER + "\n\n", 2, None, "no samples after the header"),
        (HEADER + line(sample(0)), 3, None, "only 1 sample; at least 2 are needed to know the sample rate"),
        ("t,ax,ay\n0,0,0\n", 1, "az", "missing from the header 't,ax,ay' (missing: az)"),
        ("time,ax,ay,az\n", 1, "t", "(missing: t)"),
        ("ax,ay,az\n", 1, "t", "missing"),
        ("t,ax,ay,az,gx,gy\n", 1, "gz", "the gyro columns come as a set"),
        ("t,ax,ay,az,gy\n", 1, "gx", "the gyro columns come as a set"),
        ("t,ax,ay,AX,az\n", 1, "ax", "appears twice in the header (columns 2 and 4)"),
        ("t;ax;ay;az\n0;0;0;1\n", 1, "t", "';'- or tab-separated"),
        ("x" * 70000, 1, None, "not a CSV recording"),
    ],
)
def test_file_faults(tmp_path: Path, text: str, line: int, field: str | None, words: str) -> None:
    path = write(tmp_path, text)
    assert_fault(fault(path), path, line, field, words)


def test_binary_and_utf16_files(tmp_path: Path) -> None:
    utf16 = tmp_path / "u16.csv"
    utf16.write_bytes((HEADER + body(3)).encode("utf-16"))
    assert_fault(fault(utf16), utf16, 1, None, "UTF-16")
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    assert_fault(fault(binary), binary, 1, None, "not UTF-8 text")


def test_gzip_and_zip_files_are_named_as_such(tmp_path: Path) -> None:
    """Found by the input audit: a rec.csv.gz (or an .xlsx, a zip) was only 'the header is not
    UTF-8 text: not a CSV recording'."""
    import gzip
    import zipfile

    packed = tmp_path / "rec.csv.gz"
    packed.write_bytes(gzip.compress((HEADER + body(3)).encode()))
    assert_fault(fault(packed), packed, 1, None, "the file is gzip-compressed: decompress it first (gunzip)")
    book = tmp_path / "rec.xlsx"
    with zipfile.ZipFile(book, "w") as z:
        z.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    assert_fault(fault(book), book, 1, None, "the file is a zip archive (an Excel .xlsx workbook?)")


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(InputError, match=r"nope\.csv: cannot open the file: No such file or directory"):
        open_recording(path)


# --- property: any valid file round-trips ------------------------------------------------

finite = st.floats(min_value=-30.0, max_value=30.0, allow_nan=False)
rates = st.floats(min_value=MIN_RATE_HZ, max_value=1000.0, allow_nan=False)


@st.composite
def recordings(draw: st.DrawFn) -> tuple[str, NDArray[np.float64], float, bool]:
    """A valid file's text, the values it holds (header order), its rate, gyro or not."""
    n = draw(st.integers(min_value=2, max_value=400))
    rate_hz = draw(rates)
    has_gyro = draw(st.booleans())
    fields = FIELDS if has_gyro else FIELDS[:4]
    t0 = draw(st.floats(min_value=-1e5, max_value=1e5, allow_nan=False))
    values = np.empty((n, len(fields)))
    values[:, 0] = t0 + np.arange(n) / rate_hz
    limits = [30.0, 30.0, 30.0, 3999.0, 3999.0, 3999.0]
    for k in range(1, len(fields)):
        cells = draw(st.lists(st.floats(-limits[k - 1], limits[k - 1], allow_nan=False), min_size=n, max_size=n))
        values[:, k] = cells
    # Gravity: three rows in four read about 1 g (any value within the limits in the fourth), so
    # the first rows' median is gravity in g, as the reader asks of a band's accelerometer.
    axis = draw(st.integers(min_value=1, max_value=3))
    calm = np.arange(n) % 4 != 3
    values[calm, 1:4] = np.clip(values[calm, 1:4], -0.3, 0.3)
    values[calm, axis] = np.where(values[calm, axis] < 0, -1.0, 1.0)
    order = draw(st.permutations(range(len(fields))))
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    lines = [",".join(fields[k] for k in order)] + [",".join(repr(float(r[k])) for k in order) for r in values]
    text = bom + ending.join(lines) + draw(st.sampled_from(["", ending, ending * 2]))
    return text, values, rate_hz, has_gyro


@settings(max_examples=150, deadline=None)
@given(recordings(), st.integers(min_value=1, max_value=120))
def test_any_valid_file_round_trips(case: tuple[str, NDArray[np.float64], float, bool], chunk_rows: int) -> None:
    text, values, rate_hz, has_gyro = case
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        warnings.simplefilter("error")  # a valid file gives no warning
        # ... but for the units check: random gyro columns beside random posture changes are no
        # band's (a drawn all-zero gyro was told it looks like rad/s); tests/test_units_check.py
        warnings.simplefilter("ignore", GyroUnitsWarning)
        mp.setattr(_pieces, "PIECE_BYTES", 4096)
        rec, chunks = read_all(write(Path(tmp), text), chunk_rows)
    assert rec.has_gyro == has_gyro
    assert rec.rate_hz == pytest.approx(rate_hz, rel=1e-4)  # rounding moves it by at most 0.01 %
    got = stacked(chunks)
    assert got.shape == values.shape
    assert np.allclose(got, values, rtol=0, atol=1e-9)
    assert [c.start_index for c in chunks] == list(range(0, len(values), chunk_rows))
    assert all(c.first_line == c.start_index + 2 and len(c) <= chunk_rows for c in chunks)


@pytest.mark.parametrize("rate_hz", [100.0, 104.0])
def test_times_in_milliseconds_are_refused(tmp_path: Path, rate_hz: float) -> None:
    """Found by review: a logger's millisecond times at 100 or 104 Hz read as 0.1 Hz, inside
    the old 0.1 Hz bar, and replayed as 8 h of 'not worn' without a word."""
    path = tmp_path / "ms.csv"
    path.write_text("t,ax,ay,az\n" + "".join(f"{i * 1000 / rate_hz:.0f},0,0,1\n" for i in range(2000)))
    with pytest.raises(InputError, match=r"times must be in seconds"):
        open_recording(path)


@pytest.mark.parametrize("has_gyro", [True, False])
def test_acceleration_in_m_per_s2_is_refused(tmp_path: Path, has_gyro: bool) -> None:
    """Found by review: phone and logger apps write m/s^2. Gravity then reads 9.8 'g', inside the
    +-32 g range, and the file replayed without a word: on the accelerometer alone every turn of
    the trunk became a spasm (a simulated hour with no spasm gave a 24-spasm false cluster) and a
    band lying on a table was never 'not worn'."""
    rows = [sample(i) for i in range(3000)]
    ncols = 7 if has_gyro else 4
    text = ",".join(FIELDS[:ncols]) + "\n" + "".join(line([r[0], *(9.80665 * v for v in r[1:4]), *r[4:ncols]]) for r in rows)
    path = write(tmp_path, text)
    err = fault(path)
    assert_fault(err, path, 2, None, "m/s^2")
    assert "samples reads 9.6" in str(err) and "by 9.80665" in str(err)


def test_acceleration_without_gravity_is_refused(tmp_path: Path) -> None:
    """'Linear acceleration' (gravity taken out by a phone's sensor fusion) cannot be replayed: the
    detector reads posture and off-body stillness from gravity."""
    text = "t,ax,ay,az\n" + "".join(f"{i / 100:.2f},{0.01 * (i % 3)},-0.02,0.0{i % 5}\n" for i in range(3000))
    path = write(tmp_path, text)
    assert_fault(fault(path), path, 2, None, "gravity")


def test_gravity_is_judged_on_the_first_rows_by_their_median(tmp_path: Path) -> None:
    """A few large or small readings (a knock, a drop) among the first rows are no fault."""
    rows = [sample(i) for i in range(3000)]
    for i in range(0, 3000, 5):
        rows[i][1:4] = [0.0, 0.0, 0.01] if i % 10 else [12.0, -9.0, 20.0]
    rec, chunks = read_all(write(tmp_path, HEADER + "".join(line(r) for r in rows)))
    assert sum(len(c) for c in chunks) == 3000


def test_an_extra_column_named_in_a_legacy_code_page_is_ignored_like_any_other(tmp_path: Path) -> None:
    """Found by review: a logger on Windows names its extra column 'temp (°C)' in cp1252. The file
    was refused as 'not a CSV recording' for a column the reader ignores; now it is read past with
    the usual warning (its name shown with a replacement character)."""
    path = tmp_path / "cp.csv"
    path.write_bytes((",".join(FIELDS) + ",temp (°C)\n").encode("cp1252") + "".join(line([*sample(i), 36.6]) for i in range(50)).encode())
    with pytest.warns(InputWarning, match=r"ignoring column\(s\) 'temp \(\ufffdc\)'"):
        rec, chunks = read_all(path)
    assert rec.has_gyro and stacked(chunks).tolist() == [sample(i) for i in range(50)]
    # A header whose own columns are not UTF-8 is still refused as before.
    bad = tmp_path / "bad.csv"
    bad.write_bytes("t,\xe4x,ay,az\n0,0,0,1\n0.01,0,0,1\n".encode("latin-1"))
    assert_fault(fault(bad), bad, 1, None, "not UTF-8 text")


def test_a_rate_that_changes_partway_is_refused_though_each_step_is_within_bounds(tmp_path: Path) -> None:
    """Found by review: each step may jitter by half an interval, so a logger that switched from
    100 to 120 Hz partway (steps 0.83x) was read on as 100 Hz: every later time and duration 17% off."""
    first = 60_000  # 10 min at 100 Hz: the rate read at open; then 5 min at 120 Hz
    t = np.concatenate([np.arange(first) / 100.0, (first - 1) / 100.0 + np.arange(1, 36_000) / 120.0])
    lines = [line([float(x), *sample(i)[1:]]) for i, x in enumerate(t)]
    rec = open_recording(write(tmp_path, HEADER + "".join(lines)))
    assert rec.rate_hz == 100.0
    err = fault(tmp_path / "rec.csv")
    assert err.field == "t" and err.line is not None and err.line <= first + 2 < err.line + 40_000
    assert "the sample rate must be constant" in str(err) and "first samples give 100 Hz" in str(err)
    # Named where it changed, within a run of RATE_CHECK_ROWS steps, not somewhere in the next block.
    assert first + 2 - RATE_CHECK_ROWS <= err.line <= first + 2, err.line
    # Jitter of +-40% of an interval on every time (a logging clock) is no change of rate.
    jitter = np.random.default_rng(5).uniform(-0.2, 0.2, len(t)) / 100.0
    steady = np.arange(len(t)) / 100.0 + jitter
    path = write(tmp_path, HEADER + "".join(line([float(x), *sample(i)[1:]]) for i, x in enumerate(steady)), "steady.csv")
    rec, chunks = read_all(path)
    assert sum(len(c) for c in chunks) == len(t) and abs(rec.rate_hz - 100.0) < 0.01


def test_a_short_recording_whose_rate_changes_is_refused_where_it_changes(tmp_path: Path) -> None:
    """Found by the researcher review: a recording of one parse block (here 25 s) that ran at 100 Hz,
    then at 66.7 Hz, was replayed as 80 Hz throughout without a word: its rate is read from its
    first RATE_ROWS samples (all of it), each step is within 0.5-1.5 of that interval (0.8x, 1.2x),
    and the block's mean step is that interval. Each run of RATE_CHECK_ROWS steps is checked too."""
    t = np.concatenate([np.arange(1001) / 100.0, 10.0 + np.arange(1, 1001) * 0.015])
    path = write(tmp_path, HEADER + "".join(line([float(x), *sample(i)[1:]]) for i, x in enumerate(t)))
    err = fault(path)
    assert_fault(err, path, 2, "t", "lines 2-1002 run at 100 Hz, but the file's first samples give 80 Hz")
    assert "the sample rate must be constant" in str(err)
    # 104 Hz with times rounded to 10 ms (steps of 0, 10 and 20 ms) is one rate: a run's ends are
    # each up to a resolution off, which its mean step allows for.
    rounded = np.round(np.arange(2500) / 104.0, 2)
    path = write(tmp_path, HEADER + "".join(line([float(x), *sample(i)[1:]]) for i, x in enumerate(rounded)), "rounded.csv")
    rec, chunks = read_all(path)
    assert sum(len(c) for c in chunks) == 2500 and rec.rate_hz == 104.0


def test_a_rate_that_wanders_a_few_percent_over_seconds_but_holds_over_minutes_is_read(tmp_path: Path) -> None:
    """A phone logger's delivered rate wanders by a few percent over seconds (its sensor shares a busy
    CPU) and averages out over minutes: read as one rate. With the 1% bar on each 10 s run (the
    researcher review's first form), this file was refused at its second run."""
    n = 30_000  # 5 min at 100 Hz; the step is 3% long and short in turn, 8 s at a time
    steps = np.where((np.arange(n - 1) // 800) % 2 == 0, 1.03, 0.97) / 100.0
    t = np.concatenate([[0.0], np.cumsum(steps)])
    path = write(tmp_path, HEADER + "".join(line([float(x), *sample(i)[1:]]) for i, x in enumerate(t)))
    rec, chunks = read_all(path)
    assert sum(len(c) for c in chunks) == n and abs(rec.rate_hz - 100.0) < 3.5


def _times_file(tmp_path: Path, t: NDArray[np.float64], name: str) -> Path:
    return write(tmp_path, HEADER + "".join(line([float(x), *sample(i)[1:]]) for i, x in enumerate(t)), name)


def _assert_run_named(err: InputError, changed_line: int) -> None:
    """The fault names a run of RATE_CHECK_ROWS steps that holds the step into ``changed_line``, at its first line."""
    found = re.search(r"lines (\d+)-(\d+) run at", str(err))
    assert found is not None and err.field == "t", str(err)
    first, last = int(found[1]), int(found[2])
    assert err.line == first and first < changed_line <= last and last - first == RATE_CHECK_ROWS, str(err)


def test_a_rate_change_in_a_files_last_steps_or_across_small_parse_blocks_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the hostile review (2026-12-06): the runs of RATE_CHECK_ROWS steps began anew at each
    parse block and left out its last partial run and any block under RATE_CHECK_ROWS rows. A file
    that went from 100 to 120 Hz for its last 5 s (499 steps, one block) was read as 100 Hz
    throughout (the block's mean 0.9% off); one whose lines are long (a logger's many extra
    columns: blocks of ~70 lines here) was not checked for its rate at all."""
    change = 9001  # rows 0-9000 at 100 Hz, then 120 Hz to row 9499; the step into row 9001 is the first short one
    t = np.concatenate([np.arange(change) / 100.0, 90.0 + np.arange(1, 500) / 120.0])
    err = fault(_times_file(tmp_path, t, "tail.csv"))
    _assert_run_named(err, change + 2)
    assert "the sample rate must be constant" in str(err) and "first samples give 100 Hz" in str(err)
    monkeypatch.setattr(_pieces, "PIECE_BYTES", 4096)
    change = 4501
    t = np.concatenate([np.arange(change) / 100.0, 45.0 + np.arange(1, 1500) / 120.0])
    _assert_run_named(fault(_times_file(tmp_path, t, "long-lines.csv")), change + 2)


def test_a_wander_at_a_files_end_is_judged_as_in_its_middle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Found by the hostile review (2026-12-06): the 1% bar held each parse block (1 MiB of lines,
    ~21 500 here) but also a file's last, short one: 15 s at 3% slow (a phone logger's wander, which
    a run may have) was refused at the file's end, in a last block of 1500 lines, and read in its
    middle, averaged over a whole block. Where 1 MiB boundaries fall must not decide: each span of
    RATE_SPAN_ROWS steps is held to 1%, and the file's last."""
    n = 23_056
    for piece_bytes in (_pieces.PIECE_BYTES, 4096):  # and with blocks of ~70 lines
        monkeypatch.setattr(_pieces, "PIECE_BYTES", piece_bytes)
        for where in (slice(10_000, 11_500), slice(n - 1501, n - 1)):
            steps = np.full(n - 1, 0.01)
            steps[where] = 0.0103
            rec, chunks = read_all(_times_file(tmp_path, np.concatenate([[0.0], np.cumsum(steps)]), "wander.csv"))
            assert sum(len(c) for c in chunks) == n and rec.rate_hz == 100.0
    # A file's last span is still held to 1%: its last 100 s 2.5% slow (each run within 5%) is refused.
    steps = np.full(n - 1, 0.01)
    steps[-10_000:] = 0.01025
    err = fault(_times_file(tmp_path, np.concatenate([[0.0], np.cumsum(steps)]), "slow-end.csv"))
    assert_fault(err, tmp_path / "slow-end.csv", n + 1 - RATE_SPAN_ROWS, "t", f"lines {n + 1 - RATE_SPAN_ROWS}-{n + 1} run at")


def test_a_last_line_cut_short_is_warned_of_once(tmp_path: Path) -> None:
    """Found by the hostile-input review: a recording within one parse piece (1 MiB, some 15 000 lines)
    is read for its rate and again for its samples, and both reads warned of its cut last line:
    'replay', 'taps' and 'evaluate' said it twice."""
    path = write(tmp_path, HEADER + body(300) + "3.0,0.1")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        _, chunks = read_all(path)
    assert [str(w.message) for w in seen] == [
        f"{path}:302: the last line is cut short (expected 7 comma-separated cells as in the header, found 2); read to the line before"]
    assert len(stacked(chunks)) == 300
