import sys
from pathlib import Path

import pytest

from spasmwatch.cli import build_parser

sys.path.insert(0, str(Path(__file__).resolve().parent))

import course  # noqa: E402


@pytest.fixture(scope="session")
def course_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, course.Expected]:
    path = tmp_path_factory.mktemp("course") / "spasmwatch.db"
    return path, course.build(path)


def run_cli(*argv: str) -> int:
    """Run a subcommand as cli.main would, but let its SpasmwatchError reach the test."""
    args = build_parser().parse_args(list(argv))
    code: int = args.func(args)
    return code
