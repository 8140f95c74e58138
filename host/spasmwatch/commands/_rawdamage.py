"""What the commands that read .swraw files say of damage they read past (``io.rawfile.RawReader``).

The reader warns of each damaged record (``RawDamageWarning``); a command reads a file several
times (its first chunk, the samples, the dating) and a bad card may damage hundreds of chunks, so
a command quiets those warnings and says the damage once per file, in plain words, when it has read
the samples (``damage_notes``). A torn last chunk is still warned of as before.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

from spasmwatch.io.csvread import Recording
from spasmwatch.io.rawfile import RawDamage, RawDamageWarning, RawRecording

# Damaged records a note names one by one; more are counted.
NAMED = 3
STRICT = "--strict refuses the file instead"


@contextlib.contextmanager
def reading_past_damage() -> Iterator[None]:
    """Within: the reader's per-record damage warnings are held back (``damage_notes`` says them)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RawDamageWarning)
        yield


def damage_notes(rec: Recording | RawRecording, held: str) -> list[str]:
    """One line per file of ``rec`` that its last read found damaged; ``held``: what became of the
    lost samples ('replayed as a gap')."""
    if not isinstance(rec, RawRecording):
        return []
    by_file: dict[str, list[RawDamage]] = {}
    for d in rec.damage:
        by_file.setdefault(d.path, []).append(d)
    return [_note(path, ds, rec.rate_hz, held) for path, ds in by_file.items()]


def _note(path: str, ds: list[RawDamage], rate_hz: float, held: str) -> str:
    # Several damaged records in one stretch (a chunk and a dating record under one bad sector) share its samples.
    spans = {(d.after, d.before) if d.after is not None and d.before is not None else d.offset: d.lost for d in ds}
    lost = sum(n for n in spans.values() if n is not None)
    unknown = any(n is None for n in spans.values())
    tail = next((d for d in ds if d.before is None), None)
    if len(ds) == 1:
        d = ds[0]
        head = f"{path}: {d.where()}"
        whose = "its" if d.lost == d.claimed else "the"
    else:
        named = "; ".join(d.where().replace(" is damaged (", " (") for d in ds[:NAMED])
        more = f"; and {len(ds) - NAMED} more" if len(ds) > NAMED else ""
        head = f"{path}: {len(ds)} damaged chunks or dating records ({named}{more})"
        whose = "their"
    parts = []
    if lost:
        parts.append(f"{whose} {lost} samples ({lost / rate_hz:.1f} s) are {held}")
    elif not unknown:
        parts.append("no sample is lost (the dating records around it date the samples)")
    if tail is not None:
        parts.append(f"nothing readable follows {tail.what}: the file's last {tail.resumed_at - tail.offset} bytes are lost")
    elif unknown:
        parts.append("the samples before the first good chunk are lost")
    return f"{head}: {'; '.join(parts)}; {STRICT}"
