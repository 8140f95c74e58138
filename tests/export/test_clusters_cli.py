"""'spasmwatch clusters' on a store named by --db, as 'events', 'summary' and 'report' take one;
and a mistyped option said with the command's own usage."""

from __future__ import annotations

from pathlib import Path

import pytest
from course import Expected

from spasmwatch import cli


def test_clusters_lists_the_store_named_by_db(course_db: tuple[Path, Expected], tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Family review: 'clusters' had no --db while 'events', 'summary' and 'report' do, so the
    clusters of a copied store (or the demo's) could not be listed. Old code: exit 2,
    'unrecognized arguments: --db ...'. No config file exists here: --db needs none."""
    db, _ = course_db
    monkeypatch.setenv("SPASMWATCH_CONFIG", str(tmp_path / "absent.toml"))
    rc = cli.main(["clusters", "--db", str(db), "--since", "2024-03-01T00:00:00Z", "--until", "2024-03-20T00:00:00Z"])
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert out.splitlines()[0].split() == ["id", "start", "band", "spasm-like", "minutes", "after", "waking", "label"], out
    assert out.splitlines()[-1].endswith(" cluster(s)") and not out.splitlines()[-1].startswith("0 "), out


def test_clusters_refuses_db_with_label(course_db: tuple[Path, Expected], capsys: pytest.CaptureFixture[str]) -> None:
    """A label goes through the daemon, to its own store: a --db with it would be ignored."""
    db, _ = course_db
    assert cli.main(["clusters", "--db", str(db), "--label", "1", "confirmed"]) == 2
    assert "spasmwatch clusters: error: --db lists a store's clusters; --label goes through the daemon" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["clusters", "--bogus"], ["config", "show", "--bogus"]])
def test_a_mistyped_option_is_said_with_the_commands_own_usage(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Family review: 'clusters --db x' (before it had --db) printed the top-level usage,
    'usage: spasmwatch [-h] [--version] COMMAND ...', and 'spasmwatch: error: unrecognized
    arguments', not the command's options. Old code: that top-level usage."""
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    err = capsys.readouterr().err
    prog = " ".join(["spasmwatch", *argv[:-1]])
    assert exit_.value.code == 2 and err.startswith(f"usage: {prog} ") and f"{prog}: error: unrecognized arguments: --bogus" in err, err
