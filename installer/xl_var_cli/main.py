"""``xl-var`` console entry point: one sub-command module per job.

Each module in :data:`COMMANDS` exposes ``add_parser(subparsers)``, which registers its
sub-command and sets ``func(args) -> int`` as the parser default. Errors that users can
fix (:class:`~xl_var_cli.errors.CliError`, :class:`xl_var.XlVarError`) print one line
to stderr and exit 2; Ctrl-C exits 130; neither prints a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

import xl_var
from xl_var_cli.errors import CliError

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS = ["var", "mc", "addin", "refresh", "report", "demo"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="xl-var", description="Portfolio Value-at-Risk without Excel.")
    parser.add_argument("--version", action="version", version=f"xl-var {xl_var.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"xl_var_cli.{name}").add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except (CliError, xl_var.XlVarError) as exc:
        print(f"xl-var {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"xl-var {args.command}: cancelled", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
