"""Every command's --help says what it does and lists every option it takes. Found by the docs
run: 'config init --help' hid the --config its own next step names ('spasmwatch config add-ntfy
new --config band.toml'), and 'config path', 'board', 'board list', 'board power' and 'board info'
printed no sentence of what they do; 'demo --help' and ten more showed their module docstring's
reStructuredText quotes ("Time runs ``--speed`` times faster")."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from spasmwatch.cli import build_parser


def _parsers(parser: argparse.ArgumentParser) -> Iterator[argparse.ArgumentParser]:
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from _parsers(child)


def _hidden_options(parser: argparse.ArgumentParser) -> list[str]:
    """The options the parser accepts that its --help does not show."""
    return [a.option_strings[0] for a in parser._actions if a.option_strings and a.help == argparse.SUPPRESS]


def test_every_command_says_what_it_does_and_shows_every_option_it_takes() -> None:
    parsers = list(_parsers(build_parser([])))
    assert len(parsers) > 40  # every command and action was walked
    assert [p.prog for p in parsers if not p.description] == []
    assert [(p.prog, _hidden_options(p)) for p in parsers if _hidden_options(p)] == []


def test_no_help_shows_restructuredtext_quotes() -> None:
    shown = {p.prog: p.format_help() for p in _parsers(build_parser([]))}
    assert [prog for prog, text in shown.items() if "``" in text] == []


def test_every_option_with_a_default_value_says_it() -> None:
    """Found by the docs run (researcher): 'evaluate --seeds' and '--jobs' did not say they default to
    3 and 2 (README's 'evaluate --seeds 3' read as needed), nor 'export --kinds' that it exports all."""
    unsaid = [(p.prog, a.option_strings[0]) for p in _parsers(build_parser([])) for a in p._actions
              if a.option_strings and a.help != argparse.SUPPRESS and a.default not in (None, False, True, [], argparse.SUPPRESS)
              and "default" not in (a.help or "")]  # fmt: skip
    assert unsaid == []
