"""Command-line entry point: a table of subcommands, one error type.

Each subcommand lives in its own module exposing ``register(sub)`` which adds
its parser and sets ``func`` (``args -> int`` exit code). A command line that
names a command imports that command's module alone, so ``spasmwatch replay``
does not pay for the daemon's web stack (measured: 0.16 s of imports) and a
broken optional dependency only affects its own command; ``--help`` imports
them all to list them.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from functools import partial
from collections.abc import Sequence

# numpy's OpenBLAS starts a thread per core at its import, and they spin: ~40 ms of CPU on every
# command (measured 2026-12-05: 0.09 s against 0.05 s for `import numpy` on 2 cores; a Pi has 4),
# for linear algebra spasmwatch does not do (elementwise numpy; evaluate's workers are processes,
# each with its own pool). Set before any command imports numpy; a user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from spasmwatch.errors import SpasmwatchError

# name -> module providing register(subparsers). Order is the help order.
COMMANDS: dict[str, str] = {
    "demo": "spasmwatch.commands.demo",
    "run": "spasmwatch.commands.run",
    "status": "spasmwatch.commands.status",
    "events": "spasmwatch.commands.events",
    "clusters": "spasmwatch.commands.clusters",
    "summary": "spasmwatch.commands.summary",
    "ack": "spasmwatch.commands.ack",
    "mute": "spasmwatch.commands.mute",
    "test-alarm": "spasmwatch.commands.test_alarm",
    "reload": "spasmwatch.commands.reload",
    "scan": "spasmwatch.commands.scan",
    "bonds": "spasmwatch.commands.bonds",
    "service": "spasmwatch.commands.service",
    "store": "spasmwatch.commands.store",
    "config": "spasmwatch.commands.config",
    "treatment": "spasmwatch.commands.treatment",  # also registers "note"
    "export": "spasmwatch.commands.export",
    "report": "spasmwatch.commands.report",
    "replay": "spasmwatch.commands.replay",
    "simulate": "spasmwatch.sim.cli",
    "evaluate": "spasmwatch.commands.evaluate",
    "truth": "spasmwatch.commands.truth",
    "taps": "spasmwatch.commands.taps",
    "flash": "spasmwatch.flashing.flash_command",
    "board": "spasmwatch.flashing.board_command",
}
# Commands registered by another command's module.
ALSO: dict[str, str] = {"note": "treatment"}


class _Parser(argparse.ArgumentParser):
    """Its subcommands' parsers are of its class (argparse's default), so all of them show their
    descriptions, module docstrings in reStructuredText (``spasmwatch run``), with plain quotes: a
    terminal showed the markup ("Time runs ``--speed`` times faster")."""

    def format_help(self) -> str:
        return super().format_help().replace("``", "'")


class _Version(argparse.Action):
    """--version: the version with the digest of the code (codeid.version_line: the version is 0.1.0
    whatever the code), taken only when asked, not at every command's start."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from spasmwatch.codeid import version_line

        print(version_line())
        parser.exit()


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; with ``argv`` naming a command, for that command alone."""
    parser = _Parser(
        prog="spasmwatch",
        description="Monitor for infantile spasms (a screening and logging aid, not a diagnosis).",
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="the version, the code's digest and, in a git checkout, its 'git describe'")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = _command(argv)
    for name, module_name in COMMANDS.items():
        if chosen is None or name == chosen:
            importlib.import_module(module_name).register(sub)
    return parser


def _warning(command: str, message: Warning | str, category: type[Warning], *_: object, **__: object) -> None:
    """A warning as one line for a person (an ignored column, a torn raw chunk), not Python's two."""
    print(f"spasmwatch {command}: warning: {message}", file=sys.stderr)


def _command(argv: Sequence[str] | None) -> str | None:
    """The command ``argv`` names (its first word, the options before it being
    ``--version``/``--help`` alone), or None: then every command is registered."""
    words = [w for w in (sys.argv[1:] if argv is None else argv) if not w.startswith("-")]
    if not words:
        return None
    name = ALSO.get(words[0], words[0])
    return name if name in COMMANDS else None


def _innermost(parser: argparse.ArgumentParser, args: argparse.Namespace) -> argparse.ArgumentParser:
    """The parser of the command ``args`` ran ('config set' within 'config'): the one to say an
    unknown option with its usage."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen = action.choices.get(getattr(args, action.dest, None) or "")
            if chosen is not None:
                return _innermost(chosen, args)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser(argv)
    args, extra = parser.parse_known_args(argv)
    if extra:  # said by the command's parser: the top-level usage named no option of it (family review)
        _innermost(parser, args).error(f"unrecognized arguments: {' '.join(extra)}")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    warnings.showwarning = partial(_warning, args.command)
    try:
        code: int = args.func(args)
    except SpasmwatchError as exc:
        print(f"spasmwatch {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # ^C, or SIGTERM where a command takes it as one (outfile.term_as_interrupt)
        notes = "; ".join(getattr(exc, "__notes__", ()))  # an output not written (outfile.whole_path)
        print(f"spasmwatch {args.command}: interrupted{': ' + notes if notes else ''}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    return code
