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
from spasmwatch.io.rawfile import DamageTotals, RawDamageWarning, RawRecording

# Damaged records a note names one by one; more are counted.
NAMED = 3
STRICT = "--strict refuses the file instead"


@contextlib.contextmanager
def reading_past_damage() -> Iterator[None]:
    """Within: the reader's per-record damage warnings are held back (``damage_notes`` says them)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RawDamageWarning)  # RawDamageLeftOutWarning too
        yield


def damage_notes(rec: Recording | RawRecording, held: str) -> list[str]:
    """One line per file of ``rec`` that its last read found damaged; ``held``: what became of the
    lost samples ('replayed as a gap')."""
    if not isinstance(rec, RawRecording):
        return []
    return [_note(t, rec.rate_hz, held) for t in rec.damage_totals]


def _note(t: DamageTotals, rate_hz: float, held: str) -> str:
    # The totals are exact however many stretches there are; the reader lists the first ones only
    # (io.limits.MAX_LISTED_DAMAGE), of which the note names NAMED.
    if t.count == 1:
        d = t.listed[0]
        head = f"{t.path}: {d.where()}"
        whose = "its" if d.lost == d.claimed else "the"
    else:
        named = "; ".join(d.where().replace(" is damaged (", " (") for d in t.listed[:NAMED])
        more = f"; and {t.count - NAMED} more, {t.damaged_bytes} bytes in all" if t.count > NAMED else ""
        head = f"{t.path}: {t.count} damaged chunks or dating records ({named}{more})"
        whose = "their"
    parts = []
    if t.lost:
        parts.append(f"{whose} {t.lost} samples ({t.lost / rate_hz:.1f} s) are {held}")
    elif not t.unknown:
        parts.append("no sample is lost (the dating records around it date the samples)")
    if t.tail is not None:
        parts.append(f"nothing readable follows {t.tail.what}: the file's last {t.tail.resumed_at - t.tail.offset} bytes are lost")
    elif t.unknown:
        parts.append("the samples before the first good chunk are lost")
    return f"{head}: {'; '.join(parts)}; {STRICT}"
