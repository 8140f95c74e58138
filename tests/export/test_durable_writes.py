"""Every whole-file write reaches the disk before it replaces the earlier file, and its rename
after (outfile.py ``replace_durably``): the new file's bytes synced, then the rename, then its
folder synced. Without it, a power cut just after an export could leave an empty or partial file
where the family's earlier export was (until 2026-12-05 exports and reports were renamed
unsynced, and the config's folder was never synced).

A power cut cannot be made here, so what is checked is the order of the calls the real writers
make (os.fsync and os.replace are recorded, then called as they are) and that the files written
are the same as without the recording. Real exports, a real report, a real config edit."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cli_runner import run_cli
from course import Expected

from spasmwatch.config import load_config
from spasmwatch.outfile import whole_file

RANGE = ("--since", "2024-03-04T00:00:00Z", "--until", "2024-03-18T00:00:00Z")
Call = tuple[str, int, bool]  # ("fsync", inode, is a folder) or ("replace", inode of what is renamed, False)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[Call]:
    """os.fsync and os.replace, each recorded (by inode: the part file keeps its own when renamed)
    and then done for real."""
    seen: list[Call] = []
    fsync, replace = os.fsync, os.replace

    def synced(fd: int) -> None:
        st = os.fstat(fd)
        seen.append(("fsync", st.st_ino, stat.S_ISDIR(st.st_mode)))
        fsync(fd)

    def replaced(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        seen.append(("replace", os.stat(src).st_ino, False))
        replace(src, dst)

    monkeypatch.setattr(os, "fsync", synced)
    monkeypatch.setattr(os, "replace", replaced)
    return seen


def assert_durable(seen: list[Call], out: Path) -> None:
    """``out`` was put in place by: its bytes synced, the rename, its folder synced."""
    ino = out.stat().st_ino
    i = seen.index(("replace", ino, False))
    assert seen[i - 1 : i + 2] == [("fsync", ino, False), ("replace", ino, False), ("fsync", out.parent.stat().st_ino, True)], seen
    assert not out.with_name(out.name + ".part").exists()


@pytest.mark.parametrize("fmt", ["csv", "parquet"])  # a writer given the file (csv, and its sidecar) and one given a path (pyarrow)
def test_an_export_and_its_sidecar_are_synced_before_and_after_the_rename(
    fmt: str, course_db: tuple[Path, Expected], tmp_path: Path, calls: list[Call], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, _ = course_db
    out = tmp_path / f"week.{fmt}"
    assert run_cli("export", "--db", str(db), "--format", fmt, "--out", str(out), *RANGE) == 0
    assert_durable(calls, out)
    if fmt == "csv":
        assert_durable(calls, out.with_suffix(".json"))
    monkeypatch.undo()  # the same export unrecorded: the same bytes
    plain = tmp_path / "plain" / out.name
    assert run_cli("export", "--db", str(db), "--format", fmt, "--out", str(plain), *RANGE) == 0
    assert out.read_bytes() == plain.read_bytes()


def test_a_report_is_synced_before_and_after_the_rename(course_db: tuple[Path, Expected], tmp_path: Path, calls: list[Call]) -> None:
    db, _ = course_db
    out = tmp_path / "report.html"
    assert run_cli("report", "--db", str(db), "--out", str(out), *RANGE, "--tz", "UTC") == 0
    assert_durable(calls, out)
    assert "<html" in out.read_text(encoding="utf-8")


def test_a_written_over_file_is_synced_and_holds_the_new_bytes(tmp_path: Path, calls: list[Call]) -> None:
    out = tmp_path / "truth.csv"
    out.write_bytes(b"the family's earlier file\n")
    with whole_file(out, "the truth") as f:
        f.write(b"t,kind\n1.5,spasm\n")
    assert_durable(calls, out)
    assert out.read_bytes() == b"t,kind\n1.5,spasm\n"


def test_a_config_edit_is_synced_before_and_after_the_rename(tmp_path: Path, calls: list[Call]) -> None:
    """config.py ``write_atomic`` (config set, init, add-*, the service unit) synced its file
    already, not its folder: it now uses the same helper."""
    cfg = tmp_path / "config.toml"
    assert run_cli("config", "--config", str(cfg), "init", "--band", "cot") == 0
    assert_durable(calls, cfg)
    calls.clear()
    assert run_cli("config", "--config", str(cfg), "set", "alerts.escalate_after_s", "600") == 0
    assert_durable(calls, cfg)
    assert load_config(cfg).alerts.escalate_after_s == 600
