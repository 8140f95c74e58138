import argparse
import importlib.util
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import course  # noqa: E402


@pytest.fixture(scope="session")
def course_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, course.Expected]:
    path = tmp_path_factory.mktemp("course") / "spasmwatch.db"
    return path, course.build(path)


def run_cli(*argv: str) -> int:
    """Run one of this issue's subcommands through its own register(), as cli.main would."""
    import importlib

    mods = [importlib.import_module(f"spasmwatch.commands.{m}") for m in ("export", "report", "treatment")
            if importlib.util.find_spec(f"spasmwatch.commands.{m}") is not None]

    parser = argparse.ArgumentParser(prog="spasmwatch")
    sub = parser.add_subparsers(dest="command")
    for mod in mods:
        mod.register(sub)
    args = parser.parse_args(list(argv))
    code: int = args.func(args)
    return code
