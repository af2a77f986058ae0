"""``xl-var`` console entry point: one sub-command module per job, imported only when it runs.

:data:`COMMANDS` names each sub-command and its one-line help. Parsing takes two passes: the
first, with a placeholder per command, finds which command was asked for (and answers
``--version`` and ``--help`` at once); the second imports that command's module only, whose
``add_parser(subparsers)`` registers its options and sets ``func(args) -> int``. So starting
``xl-var`` costs a bare Python start plus argparse, and numpy, scipy, pandas and ``formulas``
are imported by the command that needs them.

Errors that users can fix (:class:`~xl_var_cli.errors.CliError`, :class:`xl_var.XlVarError`)
print one line to stderr and exit 2. Ctrl-C at any moment, imports included, prints one line
and exits 130; neither prints a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from collections.abc import Sequence
from typing import Any

from xl_var_cli.errors import CliError

__all__ = ["COMMANDS", "build_parser", "main", "parse_args", "plain_text"]

COMMANDS = {
    "var": "VaR and ES by every method, and the component table",
    "mc": "Monte Carlo VaR and ES with standard errors and components",
    "greeks": "a book's value and Greeks per underlying or position, with a Total row",
    "margin": "a book's portfolio margin (Deribit or SPAN) and its scenario grid",
    "stress": "a book's P&L in the bundled crypto crises or your scenarios",
    "addin": "build, install, uninstall or check the Excel add-in",
    "refresh": "recalculate a workbook's formulas (xl-var and Excel's) without Excel",
    "report": "build a risk report workbook (and PDF) from a template",
    "demo": "build the sample risk report into out/ and print its headline numbers",
}


_ROLE = re.compile(r":[a-z]+:`(~(?:[\w.]*\.)?)?([^`]+)`")  # :mod:`a.b` -> a.b, :func:`~a.b.c` -> c
_LITERAL = re.compile(r"``(.+?)``")


def plain_text(text: str) -> str:
    """``text`` without reStructuredText markup (roles, literals, ``::`` blocks), for help screens."""
    text = _LITERAL.sub(r"\1", _ROLE.sub(r"\2", text))
    text = re.sub(r"^[ \t]*::[ \t]*\n\n?", "", text, flags=re.MULTILINE)
    return re.sub(r"::$", ":", text, flags=re.MULTILINE)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose help screens are plain text (descriptions come from docstrings)."""

    def format_help(self) -> str:
        return plain_text(super().format_help())


class _Version(argparse.Action):
    """``--version``: the installed distribution's version, read without importing the engine."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        from importlib import metadata

        try:
            version = metadata.version("xl-var")
        except metadata.PackageNotFoundError:  # a source checkout that is not installed
            import xl_var

            version = xl_var.__version__
        print(f"xl-var {version}")
        parser.exit()


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``xl-var`` parser with ``command``'s options; every other command is a placeholder."""
    parser = _Parser(prog="xl-var", description="Portfolio Value-at-Risk without Excel.")
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")  # _Parser all the way down
    for name, text in COMMANDS.items():
        if name == command:
            importlib.import_module(f"xl_var_cli.{name}").add_parser(sub)
        else:
            sub.add_parser(name, help=text, add_help=False)
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse ``argv`` (default ``sys.argv[1:]``), importing the module of the chosen command only."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = build_parser().parse_known_args(args)[0].command
    return build_parser(command).parse_args(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``xl-var`` command; the exit code: 0 done, 2 a problem to fix, 130 cancelled."""
    command = "xl-var"
    try:
        args = parse_args(argv)
        command = f"xl-var {args.command}"
        code: int = args.func(args)
    except KeyboardInterrupt:
        print(f"{command}: cancelled", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`xl-var var | head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at interpreter exit
        return 141
    except Exception as exc:
        if isinstance(exc, CliError) or _is_engine_error(exc):
            print(f"{command}: error: {exc}", file=sys.stderr)
            return 2
        raise
    return code


def _is_engine_error(exc: Exception) -> bool:
    """Whether ``exc`` is an :class:`xl_var.XlVarError` (without importing the engine to ask)."""
    errors = sys.modules.get("xl_var.errors")
    return errors is not None and isinstance(exc, errors.XlVarError)


if __name__ == "__main__":
    sys.exit(main())
