"""A band's firmware older or newer than this computer's, from the checkout's git history
(spasmwatch/fwhistory.py, docs/firmware.md "Build id"): real git repositories made here, their
firmware trees hashed from git's objects against fwbuild.tree_build of the same commit checked out."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

import pytest
from gitrepo import commit, git, init, owned_by_another

from spasmwatch import fwbuild, fwhistory

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A checkout whose history has a commit without firmware, then the firmware as shipped."""
    repo = tmp_path / "checkout"
    repo.mkdir()
    init(repo)
    (repo / "README.md").write_text("spasmwatch\n")
    commit(repo, "no firmware yet")
    shutil.copytree(ROOT / "firmware", repo / "firmware", ignore=shutil.ignore_patterns("__pycache__"))
    commit(repo, "firmware")
    return repo


def _changed(fw: Path) -> None:
    """A change that puts every rule of fwbuild.files to the test: a byte more in a module, a new
    subpackage whose path sorts before a sibling file by its parts (band/a/x.py before band/a-b.py),
    a file with CRLF line ends, a __pycache__ .py file (left out), a file outside the packages."""
    bonds = fw / "band" / "bonds.py"
    bonds.write_bytes(bonds.read_bytes() + b"\n")
    (fw / "band" / "a").mkdir()
    (fw / "band" / "a" / "x.py").write_bytes(b"X = 1\r\nY = 2\r\n")
    (fw / "band" / "a-b.py").write_bytes(b"Z = 3\n")
    (fw / "swcore" / "__pycache__").mkdir()
    (fw / "swcore" / "__pycache__" / "stale.py").write_bytes(b"left out\n")
    (fw / "notes.txt").write_text("not the band's\n")


def test_the_build_of_each_commit_s_tree_in_git_is_the_build_of_its_checkout(checkout: Path) -> None:
    """Hashed from git's objects (one cat-file process) with fwbuild's rules: the id tree_build gives
    the same commit checked out, at each commit; none where a commit has no firmware."""
    fw = checkout / "firmware"
    first = git(checkout, "rev-parse", "HEAD~1")
    shipped = git(checkout, "rev-parse", "HEAD")
    _changed(fw)
    changed = commit(checkout, "a change")
    (checkout / "README.md").write_text("spasmwatch, a monitor\n")
    same_tree = commit(checkout, "no firmware change")
    builds = {}
    with fwhistory._Objects(fw) as objects:
        for c in (first, shipped, changed, same_tree):
            tree = objects.tree_id(f"{c}:firmware/")
            builds[c] = None if tree is None else objects.build(tree)
    for c in (first, shipped, changed, same_tree):
        git(checkout, "checkout", "-q", c)
        assert builds[c] == fwbuild.tree_build(fw), c
    assert builds[first] is None and builds[shipped] is not None
    assert builds[changed] not in (builds[shipped], None) and builds[same_tree] == builds[changed]


def _two_builds(checkout: Path) -> tuple[Path, str | None, str, str | None]:
    """The checkout's firmware changed and committed: its directory, its build before and that
    commit, its build after."""
    fw = checkout / "firmware"
    old = fwbuild.tree_build(fw)
    old_commit = git(checkout, "rev-parse", "HEAD")
    _changed(fw)
    commit(checkout, "a change")
    return fw, old, old_commit, fwbuild.tree_build(fw)


def test_a_band_from_head_s_history_is_older_one_from_past_head_newer(checkout: Path) -> None:
    """A band flashed at the commit before is older (flash it); with HEAD checked out at that commit
    and the band flashed from the branch's tip it is newer (update this computer); a band flashed
    from a branch not merged is outside HEAD's history: newer too. A build in no commit, or a band
    with no build id (flashed before build ids: older), as fwhistory says."""
    fw, old, old_commit, new = _two_builds(checkout)
    assert old is not None and new not in (old, None)
    assert fwhistory.firmware_age(fw, old) == "older"
    assert fwhistory.firmware_age(fw, "0123456789ab") is None  # (a changed copy's: in no commit)
    assert fwhistory.firmware_age(fw, None) == "older"

    git(checkout, "checkout", "-q", old_commit)  # this computer taken back; main still has the change
    assert fwbuild.tree_build(fw) == old
    assert fwhistory.firmware_age(fw, new) == "newer"

    git(checkout, "checkout", "-q", "-b", "side")
    (fw / "band" / "side.py").write_text("S = 1\n")
    commit(checkout, "side")
    side = fwbuild.tree_build(fw)
    git(checkout, "checkout", "-q", "main")
    assert fwhistory.firmware_age(fw, side) == "newer" and fwhistory.firmware_age(fw, old) == "older"


def test_a_build_committed_after_a_look_is_found_once_head_moves(checkout: Path) -> None:
    """Looks are kept per (HEAD, refs, band build): a band flashed from a tree not committed yet is not
    told; once that tree is committed (HEAD moved), it is found."""
    fw = checkout / "firmware"
    _changed(fw)
    edited = fwbuild.tree_build(fw)
    assert fwhistory.firmware_age(fw, edited) is None
    commit(checkout, "the edit")
    assert fwhistory.firmware_age(fw, edited) == "older"


def test_no_git_no_checkout_or_past_the_bound_tells_nothing(checkout: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The safe side (the words stay 'flash it'): a firmware directory that is no checkout's, git
    not on the PATH, the band's build past TREES_MAX trees (and then not 'newer' either: an older
    tree may lie deeper in HEAD's history)."""
    fw, old, old_commit, new = _two_builds(checkout)
    copy = tmp_path / "copy"
    shutil.copytree(fw, copy)
    assert fwbuild.tree_build(copy) == new and fwhistory.firmware_age(copy, old) is None

    monkeypatch.setattr(fwhistory, "TREES_MAX", 1)
    assert fwhistory.firmware_age(fw, new) == "older"  # HEAD's own tree: the first
    assert fwhistory.firmware_age(fw, old) is None  # the second
    git(checkout, "checkout", "-q", old_commit)
    assert fwhistory.firmware_age(fw, new) is None
    monkeypatch.setattr(fwhistory, "TREES_MAX", 5000)
    fwhistory._age.cache_clear()  # (the looks above were kept under the bound of one)
    assert fwhistory.firmware_age(fw, new) == "newer"

    monkeypatch.setenv("PATH", str(tmp_path / "no-git-here"))
    fwhistory._age.cache_clear()
    assert fwhistory.firmware_age(fw, new) is None


def test_a_fetch_that_brings_a_newer_build_is_seen_at_the_next_look_head_unmoved(checkout: Path, tmp_path: Path) -> None:
    """Review h50: a band flashed from a newer checkout (another computer's clone, a commit more),
    looked up here before this checkout fetched it: not told. A 'git fetch' brings that commit on
    origin/main without moving HEAD: the next look finds it newer. Looks are kept per state of the
    refs too; old code kept them per HEAD alone and said 'not told' until HEAD moved."""
    fw = checkout / "firmware"
    upstream = tmp_path / "upstream"
    git(tmp_path, "clone", "-q", str(checkout), str(upstream))
    _changed(upstream / "firmware")
    commit(upstream, "a change upstream")
    newer = fwbuild.tree_build(upstream / "firmware")
    head = git(checkout, "rev-parse", "HEAD")
    assert newer not in (None, fwbuild.tree_build(fw))
    assert fwhistory.firmware_age(fw, newer) is None  # (not fetched yet: in no commit here)

    git(checkout, "fetch", "-q", str(upstream), "main:refs/remotes/origin/main")
    assert git(checkout, "rev-parse", "HEAD") == head
    assert fwhistory.firmware_age(fw, newer) == "newer"


def test_a_checkout_git_refuses_for_its_owner_is_logged_once_with_git_s_fix(
    checkout: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Review h50: a checkout owned by another user than the daemon's, which git refuses (its
    safe.directory check, a security check spasmwatch leaves as it is): not told, as before, but
    logged once, at the change, with git's own fix (``refused``: for 'board info'); the fix run as
    logged, the next look tells the age and logs that git reads the checkout again. Old code:
    nothing said, the age silently not told."""
    fw, old, _, _ = _two_builds(checkout)
    owned_by_another(checkout, monkeypatch)
    fix = f"git config --global --add safe.directory {checkout}"
    with caplog.at_level(logging.INFO, logger="spasmwatch.fwhistory"):
        assert fwhistory.firmware_age(fw, old) is None and fwhistory.firmware_age(fw, old) is None
        assert fwhistory.refused(fw) == fix
        said = [r for r in caplog.records if r.name == "spasmwatch.fwhistory"]
        assert len(said) == 1 and said[0].levelno == logging.WARNING and fix in said[0].getMessage()

        subprocess.run(fix.split(), check=True)
        assert fwhistory.firmware_age(fw, old) == "older" and fwhistory.refused(fw) is None
        said = [r for r in caplog.records if r.name == "spasmwatch.fwhistory"]
        assert len(said) == 2 and "reads" in said[1].getMessage()
        assert fwhistory.firmware_age(fw, old) == "older"
        assert len([r for r in caplog.records if r.name == "spasmwatch.fwhistory"]) == 2
