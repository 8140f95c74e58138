"""Run a subcommand in-process, for the export tests."""

from spasmwatch.cli import build_parser


def run_cli(*argv: str) -> int:
    """Run a subcommand as cli.main would, but let its SpasmwatchError reach the test."""
    args = build_parser().parse_args(list(argv))
    code: int = args.func(args)
    return code
