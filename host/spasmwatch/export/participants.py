"""The BIDS participant of an export (``spasmwatch export --format bids --patient LABEL``): its
``participant_id`` ('sub-<label>', the label letters and digits only, as BIDS defines it), the
events file's name checked to carry it, and its row in the dataset's ``participants.tsv``.

Without ``--patient`` nothing here runs: the export has no participant, as before.
"""

from __future__ import annotations

import re
from pathlib import Path

from spasmwatch.errors import SpasmwatchError
from spasmwatch.outfile import whole_file

# BIDS: an entity's label is alphanumeric (https://bids-specification.readthedocs.io, "Entities").
_LABEL = re.compile(r"[A-Za-z0-9]+")
PARTICIPANTS = "participants.tsv"
PARTICIPANT_COLUMN = "participant_id"


def participant_id(text: str) -> str:
    """'01' or 'sub-01' -> 'sub-01'; anything else is refused naming the option: a name with a space
    or a comma ('Mia, born 2026-05-02', what report --patient takes) is no BIDS label."""
    label = text[4:] if text.startswith("sub-") else text
    if not _LABEL.fullmatch(label):
        raise SpasmwatchError(
            f"--patient {text!r}: a BIDS participant label is letters and digits only (participant_id "
            f"'sub-<label>', e.g. --patient 01 for sub-01); give the study's pseudonym, not the child's name"
        )
    return f"sub-{label}"


def check_name(out: Path, pid: str) -> None:
    """A BIDS file of participant ``pid`` is named '<pid>_..._events.tsv' (BIDS filenames begin with
    the subject): an export of sub-02 named sub-01_... would put one child's events under another's."""
    if not out.name.startswith(f"{pid}_"):
        raise SpasmwatchError(f"--out {out.name}: the events of participant {pid} (--patient) are named '{pid}_<entities>_events.tsv' "
                              f"(e.g. {pid}_task-sleep_events.tsv)")  # fmt: skip


def dataset_root(out: Path, pid: str) -> Path:
    """Where the dataset's participants.tsv is: above the '<pid>' folder the events file is in
    (root/sub-01/[ses-1/]eeg/...), else beside the events file."""
    for folder in out.absolute().parents:
        if folder.name == pid:
            return folder.parent
    return out.absolute().parent


def _rows(path: Path) -> list[list[str]] | None:
    """The existing participants.tsv's rows (None: none there); one that is not a participants
    table (its first column not participant_id) is refused, naming the file."""
    if not path.exists():
        return None
    try:
        # utf-8-sig: a spreadsheet saving 'UTF-8' puts a byte-order mark first, which hid the
        # participant_id column (researcher review); the table is written back without it.
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SpasmwatchError(f"{path}: cannot read it to add the participant (--patient): {exc}") from exc
    rows = [line.split("\t") for line in lines if line.strip()]
    if not rows or rows[0][0] != PARTICIPANT_COLUMN:
        raise SpasmwatchError(f"{path}: is not a BIDS participants table (its first column is not '{PARTICIPANT_COLUMN}'): "
                              "not changed; choose another --out folder, or fix the file")  # fmt: skip
    return rows


def check_participants(out: Path, pid: str) -> None:
    """Before anything is written: the events file's name, and a participants.tsv we may add to."""
    check_name(out, pid)
    _rows(dataset_root(out, pid) / PARTICIPANTS)


def add_participant(out: Path, pid: str) -> Path:
    """``pid``'s row in the dataset's participants.tsv: the file made if there is none, the row added
    (its other columns 'n/a', BIDS' missing value) if the file does not list it yet, else left as it is."""
    path = dataset_root(out, pid) / PARTICIPANTS
    rows = _rows(path)
    if rows is None:
        rows = [[PARTICIPANT_COLUMN]]
    elif any(r[0] == pid for r in rows[1:]):
        return path
    rows.append([pid] + ["n/a"] * (len(rows[0]) - 1))
    with whole_file(path, "the participants.tsv") as f:
        f.write("".join("\t".join(r) + "\n" for r in rows).encode("utf-8"))
    return path
