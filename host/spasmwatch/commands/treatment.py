"""The caregiver's log from the command line, written through the store.

``spasmwatch treatment add vigabatrin --dose 50 --unit mg/kg/day --action start [--at ISO]``,
``spasmwatch treatment list``, and ``spasmwatch note "video taken" --kind video``
(this module registers both ``treatment`` and ``note``).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import tzinfo
from typing import Any

from spasmwatch.clock import said_zone_of, wall_text
from spasmwatch.commands._args import zone
from spasmwatch.commands._daemon import add_store_args, store_path_of
from spasmwatch.errors import SpasmwatchError
from spasmwatch.export.timeline import parse_iso
from spasmwatch.words import visible
from spasmwatch.store import KnownStores, Store, StoreMissing
from spasmwatch.store.rows import (
    NOTE_KINDS,
    SAME_TREATMENT_S,
    TREATMENT_ACTIONS,
    FieldError,
    TreatmentRow,
    check_plausible,
    normalise_drug,
)

# The option that carries each field the store may refuse (FieldError.field): its rules are shared
# with the web API and name the field; here the user typed the option ('--dose -5').
OPTION_OF_FIELD = {"dose": "--dose", "unit": "--unit", "note": "--note", "device": "--device"}
AT_HELP = "when, ISO 8601; without an offset (+01:00) in the --tz zone; default now"
TZ_HELP = "time zone of --at without an offset and of the times printed, e.g. Europe/Berlin (default: this computer's)"


def register(sub: Any) -> None:
    t = sub.add_parser(
        "treatment", help="record medication start / dose change / stop; list them",
        description="The child's treatments, for the report's before/after and the exports (written to the daemon's store).",
    )  # fmt: skip
    tsub = t.add_subparsers(dest="treatment_command", metavar="add|list", required=True)
    a = tsub.add_parser("add", help="record a treatment change", description="Record a treatment start, dose change or stop.")
    a.add_argument("drug", help="medication (e.g. vigabatrin, ACTH, prednisolone)")
    a.add_argument("--action", choices=TREATMENT_ACTIONS, required=True, help="what changed")
    a.add_argument("--dose", type=float, help="dose (number; needs --unit)")
    a.add_argument("--unit", help="dose unit, e.g. mg/kg/day")
    a.add_argument("--at", help=AT_HELP)
    a.add_argument("--tz", help=TZ_HELP)
    a.add_argument("--note", help="free text")
    a.add_argument("--by", help="who recorded it")
    a.add_argument("--again", action="store_true",
                   help=f"record it even if the same change is already recorded within {SAME_TREATMENT_S / 3600:g} h of it")
    add_store_args(a)
    a.set_defaults(func=run_add)
    ls = tsub.add_parser("list", help="list recorded treatment changes", description="Every recorded treatment change, oldest first.")
    ls.add_argument("--tz", help="time zone of the times printed, e.g. Europe/Berlin (default: this computer's)")
    add_store_args(ls)
    ls.set_defaults(func=run_list)

    n = sub.add_parser(
        "note", help="add a caregiver note (video taken, medication given, anything)",
        description="A caregiver note, shown beside the clusters in 'events', the report and the exports.",
    )  # fmt: skip
    n.add_argument("text", help="what happened, e.g. \"video taken\"")
    n.add_argument("--kind", choices=NOTE_KINDS, default="note", help="the kind of note (default note)")
    n.add_argument("--device", help="the band the note is about (its name or device id)")
    n.add_argument("--at", help=AT_HELP)
    n.add_argument("--tz", help=TZ_HELP)
    n.add_argument("--by", help="who wrote it")
    add_store_args(n)
    n.set_defaults(func=run_note)


def _when(at: str | None, tz: tzinfo) -> float:
    now = time.time()
    if not at:
        return now
    try:
        t = parse_iso(at, "--at", tz)
        check_plausible(t, now)  # '--at 2062-...' or '2016-...' for 2026: a typo
    except FieldError as exc:
        raise SpasmwatchError(f"--at {at}: {exc}") from exc
    except ValueError as exc:
        raise SpasmwatchError(str(exc)) from exc
    return t


def _refused(exc: ValueError) -> SpasmwatchError:
    """The store's refusal, with the option in front when it names a field one carries."""
    option = OPTION_OF_FIELD.get(exc.field) if isinstance(exc, FieldError) else None
    return SpasmwatchError(f"{option}: {exc}" if option else str(exc))


def _store(args: argparse.Namespace, table: str) -> Store:
    """The daemon's store, to write a row of ``table`` into: its open reads that table through, not
    every page (the daemon's own open does: store/_db.py ``_check_sound``)."""
    if args.db is not None and not args.db.is_file():  # a typo must not start a store of its own for the note
        raise SpasmwatchError(f"--db: no such store {args.db}")
    # Nor a file of 0 bytes: SQLite makes it a store, and the note lands where no daemon reads it. The
    # daemon's store never has 0 bytes (its tables are written when it opens it); readers refuse one.
    if args.db is not None and args.db.stat().st_size == 0:
        raise SpasmwatchError(
            f"--db: {args.db} is an empty file (0 bytes), not a spasmwatch store: give the daemon's store "
            "(without --db: the one the config names); nothing was saved"
        )
    # The daemon's check too (known.py): a store it opened that is not there now (its disk not
    # mounted yet) is not made again beneath the mount point, and a different store at its path
    # (another family's disk) is not written into.
    try:
        return Store(store_path_of(args), known=KnownStores.default(), writes=(table,))
    except StoreMissing as e:
        raise SpasmwatchError(f"{e}; nothing was saved") from e


def _local(t: float, tz: tzinfo) -> str:
    """``t`` in ``tz`` with the zone's name, the zone --at was read in: an abbreviation (the old
    '%Z') did not say whether '23:30' was Berlin's or this computer's UTC (report review)."""
    return f"{wall_text(t, '%Y-%m-%d %H:%M', tz)} {said_zone_of(tz, t)}"


def treatment_line(r: TreatmentRow, tz: tzinfo) -> str:
    dose = f" {r.dose:g}" if r.dose is not None else ""
    unit = f" {r.unit}" if r.unit else ""
    note = f"  ({r.note})" if r.note else ""
    return visible(f"{r.id:4d}  {_local(r.wall_s, tz)}  {r.drug} {r.action}{dose}{unit}{note}")  # typed, or posted to the web API


def run_add(args: argparse.Namespace) -> int:
    tz = zone(args.tz)
    when = _when(args.at, tz)
    with _store(args, "treatments") as store:
        if not args.again:
            _not_twice(store, when, args, tz)
        try:
            row = store.add_treatment(when, args.drug, args.action, args.dose, args.unit, args.note, args.by)
        except ValueError as exc:
            raise _refused(exc) from exc
    print(treatment_line(row, tz))
    return 0


def _not_twice(store: Store, when: float, args: argparse.Namespace, tz: tzinfo) -> None:
    """Refuse the change already recorded near ``when`` (SAME_TREATMENT_S): typed twice, it was kept
    twice, with no way to remove it, and the report listed the start twice."""
    try:
        drug = normalise_drug(args.drug)
    except ValueError:
        return  # the store refuses it, in its words
    same = (drug.casefold(), args.action, args.dose, (args.unit or "").strip().casefold())  # 'Keto diet', 'keto diet'
    for r in store.treatments(when - SAME_TREATMENT_S, when + SAME_TREATMENT_S):
        if (r.drug.casefold(), r.action, r.dose, (r.unit or "").casefold()) == same:
            raise SpasmwatchError(
                f"already recorded as #{r.id}: {treatment_line(r, tz).split(maxsplit=1)[1]}; nothing was added (each entry counts in the report "
                f"and the daily summary). If this is another change of its own, add --again"
            )


def run_list(args: argparse.Namespace) -> int:
    path = store_path_of(args)
    if not path.exists():
        raise SpasmwatchError(f"{path}: no such store")
    tz = zone(args.tz)
    with Store.open_readonly(path) as store:
        for r in store.treatments():
            sys.stdout.write(treatment_line(r, tz) + "\n")
    return 0


def run_note(args: argparse.Namespace) -> int:
    tz = zone(args.tz)
    with _store(args, "notes") as store:
        try:
            row = store.add_note(_when(args.at, tz), args.kind, args.text, args.device, args.by)
        except ValueError as exc:
            raise _refused(exc) from exc
    print(f"{row.id:4d}  {_local(row.wall_s, tz)}  {row.kind}: {visible(row.text)}")
    return 0
