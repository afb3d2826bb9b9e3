"""The ``skillfilter`` command line: ``lint``, ``fmt``, ``filter``, ``sql``.

Exit status: 0 success, 1 a filter has problems (or a command's own failure), 2 usage error or unreadable
input.  Each command lives in :mod:`skillfilter.commands` and is imported only when it runs.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn, TextIO

from . import _startup  # noqa: F401  (first: lazy standard-library modules for a fast start)

__all__ = ["main"]

COMMANDS = {
    "lint": "lint filters against a schema: every problem, with its position, code and hint",
    "fmt": "print filters in canonical form",
    "filter": "filter JSON records (array, JSON Lines or export pages) and write the matches as JSON Lines",
    "sql": "print the parameterised SQL for a filter",
}


class _ArgumentError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """Raises on a usage error, so that a second way of reading the arguments can be tried."""

    def error(self, message: str) -> NoReturn:
        raise _ArgumentError(message)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; only ``command``'s module is imported (all of them when ``None``)."""
    parser = argparse.ArgumentParser(
        prog="skillfilter",
        description="The filter language of the TechWolf SkillEngine API: lint, format, filter, translate.",
    )
    parser.add_argument("--version", action="version", version="skillfilter " + _version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, help_text in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        if command is None or command == name:
            _module(name).add_arguments(p)
    return parser


def _module(name: str):  # type: ignore[no-untyped-def]
    return importlib.import_module(f"skillfilter.commands.{name if name != 'filter' else 'filter_'}")


def _version() -> str:
    from . import __version__

    return __version__


def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None,
         stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
            if argv and argv[0] in COMMANDS:
                # Options may stand anywhere among the arguments: `filter FILTER --schema export FILE`.
                command = argv[0]
                sub = _Parser(prog=f"skillfilter {command}", description=COMMANDS[command])
                _module(command).add_arguments(sub)
                try:
                    args = sub.parse_args(argv[1:])
                except _ArgumentError as plain:
                    try:
                        args = sub.parse_intermixed_args(argv[1:])
                    except _ArgumentError:
                        sub.print_usage(stderr)
                        stderr.write(f"{sub.prog}: error: {plain}\n")
                        return 2
                args.command = command
            else:
                args = build_parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help is 0, a usage error is 2
        return int(exc.code or 0)
    try:
        return int(_module(args.command).run(args, stdin=stdin, stdout=stdout, stderr=stderr))
    except BrokenPipeError:
        return 0
    except UnicodeDecodeError as exc:
        reason = f"{exc.reason} at byte {exc.start}"
        stderr.write(f"skillfilter {args.command}: input is not UTF-8 text ({reason})\n")
        return 2
    except KeyboardInterrupt:
        stderr.write("interrupted\n")
        return 130
