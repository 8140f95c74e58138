import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import course  # noqa: E402


@pytest.fixture(scope="session")
def course_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, course.Expected]:
    path = tmp_path_factory.mktemp("course") / "spasmwatch.db"
    return path, course.build(path)
