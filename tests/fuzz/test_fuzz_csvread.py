"""Property tests of the replay CSV reader (spasmwatch.io): random bytes and mutated valid
files give InputError and nothing else; whatever is accepted is sane (finite, plausible,
evenly spaced, every row once); random valid files round-trip.

Bounded (max_examples, no deadline); bench/fuzz.py runs the long version.
"""

from __future__ import annotations

import random
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import fuzzkit
from spasmwatch.errors import InputError
from spasmwatch.io import InputWarning, _pieces, open_recording

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextmanager
def small_pieces() -> Iterator[Path]:
    """A scratch dir, 4 KiB parse pieces (so small files cross piece boundaries), warnings as errors
    except the reader's own InputWarning."""
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp, warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", InputWarning)
        mp.setattr(_pieces, "PIECE_BYTES", 4096)
        yield Path(tmp)


def read_or_input_error(data: bytes, chunk_rows: int) -> tuple[np.ndarray, float, bool] | None:
    """All samples of a file holding data (checked sane), or None after an InputError; anything else propagates."""
    with small_pieces() as tmp:
        return fuzzkit.check_csv(data, tmp / "rec.csv", chunk_rows)


def _valid(seed: int) -> tuple[str, int, bool]:
    return fuzzkit.valid_csv(random.Random(seed), max_rows=200)


@FUZZ
@given(st.binary(max_size=600), st.integers(1, 50))
@example(b"t,ax,ay,az\n0,0,0,1\n0.01,0,0,1", 1)
@example(b"t,ax,ay,az\n0,0,0,1\n1e308,0,0,1\n", 1)
@example(b"t,ax,ay,az\n-1e308,0,0,1\n1e308,0,0,1\n", 1)
@example(b"t,ax,ay,az\n0,0,0,1\n5e-324,0,0,1\n", 1)
@example(b"\xef\xbb\xbf", 1)
@example(b"t,ax,ay,az\n" + b"\x00" * 30, 1)
def test_random_bytes_give_input_error_only(data: bytes, chunk_rows: int) -> None:
    read_or_input_error(data, chunk_rows)


@FUZZ
@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.integers(1, 120))
# 100 Hz to 10 ms with 2 of 150 rows dropped: read as times rounded coarser than the samples
# (its long steps look like 98.7 Hz rounded), within the widened limits.
@example(191139, 15, 1)
def test_mutated_valid_files_give_input_error_only(seed: int, mseed: int, chunk_rows: int) -> None:
    text, _, _ = _valid(seed)
    data = fuzzkit.mutate_csv(text, random.Random(mseed), [_valid(seed + 1)[0]])
    read_or_input_error(data, chunk_rows)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 500))
def test_random_valid_files_round_trip(seed: int, chunk_rows: int) -> None:
    text, rows, has_gyro = _valid(seed)
    got = read_or_input_error(text.encode("utf-8"), chunk_rows)
    assert got is not None, text[:300]
    values, _, gyro = got
    assert gyro == has_gyro and len(values) == rows


@pytest.mark.parametrize(
    ("times", "rate"),
    [(("0", "5e-324"), "inf"), (("0", "1e-300", "2e-300"), "1e+300"), (("0", "1e300", "2e300"), "1e-300"), (("0", "1e6", "2e6"), "1e-06")],
)
def test_implausible_rates_are_input_errors(times: tuple[str, ...], rate: str) -> None:
    """Regression (found by the examples above): such times passed open_recording with a rate of
    inf or 1e300 Hz, then chunks() raised ZeroDivisionError and the replay's detector OverflowError."""
    data = ("t,ax,ay,az\n" + "".join(f"{t},0,0,1\n" for t in times)).encode()
    with small_pieces() as tmp:
        path = tmp / "rec.csv"
        path.write_bytes(data)
        with pytest.raises(InputError) as info:
            open_recording(path)
    assert (info.value.line, info.value.field) == (2, "t")
    assert f"sample rate of {rate} Hz, outside 10..100000 Hz (times must be in seconds)" in str(info.value)


def test_times_whose_difference_overflows_are_an_input_error_without_numpy_warnings() -> None:
    with small_pieces() as tmp:  # warnings are errors here
        path = tmp / "rec.csv"
        path.write_bytes(b"t,ax,ay,az\n-1e308,0,0,1\n1e308,0,0,1\n")
        with pytest.raises(InputError, match="gap of inf s"):
            open_recording(path)
