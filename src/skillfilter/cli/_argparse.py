"""The argparse reading of the command line: for anything but the common forms of ``fmt`` and ``lint``
(``--help``, abbreviations, bad values, the other commands), which :func:`skillfilter.cli._fast_parse`
reads without argparse.  Loaded only when needed, so that those commands neither import argparse nor
compile this module."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn, TextIO

from . import COMMANDS, _module, _version

__all__ = ["build_parser", "parse_with_argparse"]


class _ArgumentError(Exception):
    pass


def _parser_class() -> type[argparse.ArgumentParser]:
    """An argument parser that raises on a usage error, so that a second way of reading the arguments
    can be tried."""

    class _Parser(argparse.ArgumentParser):
        def error(self, message: str) -> NoReturn:
            raise _ArgumentError(message)

    return _Parser


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


def _optional_positionals(parser: argparse.ArgumentParser) -> set[str]:
    return {
        a.metavar if isinstance(a.metavar, str) else a.dest
        for a in parser._actions
        if not a.option_strings and a.nargs in ("*", "?")
    }


def _usage_message(parser: argparse.ArgumentParser, message: str) -> str:
    """argparse's message, without what misleads: optional FILE/FILTER arguments named as required."""
    prefix = "the following arguments are required: "
    if message.startswith(prefix):
        optional = _optional_positionals(parser)
        names = [n for n in message[len(prefix):].split(", ") if n not in optional]
        missing = [n for n in names if not n.startswith("-")]
        options = [n for n in names if n.startswith("-")]
        parts = []
        if missing:
            parts.append("missing " + " and ".join(missing))
        if options:
            parts.append("the option " + " and ".join(options) + " is required")
        return "; ".join(parts) if parts else message
    return message


def _extras_message(extras: list[str], argv: list[str]) -> str:
    before = argv[: argv.index("--")] if "--" in argv else argv  # after `--` nothing is an option
    options = [x for x in extras if x.startswith("-") and x != "-" and x in before]
    if options:
        word = "option" if len(options) == 1 else "options"
        return f"unknown {word}: " + " ".join(options)
    word = "argument" if len(extras) == 1 else "arguments"
    listed = " ".join(repr(x) for x in extras)
    return f"unexpected {word}: {listed} (quote a filter that contains spaces)"


def parse_with_argparse(command: str, argv: list[str], stderr: TextIO) -> argparse.Namespace | int:
    """``argv`` (after the command's name) read by argparse; an exit status after a usage error."""
    sub = _parser_class()(prog=f"skillfilter {command}", description=COMMANDS[command])
    _module(command).add_arguments(sub)
    # Options may stand anywhere among the arguments: `filter FILTER --schema export FILE`.
    plain_error: _ArgumentError | None = None
    extras: list[str] = []
    try:
        args, extras = sub.parse_known_args(argv)
    except _ArgumentError as exc:
        plain_error = exc
    if plain_error is not None or extras:
        try:
            args, extras = sub.parse_known_intermixed_args(argv)
        except (_ArgumentError, TypeError) as exc:
            message = str(plain_error if plain_error is not None else exc)
            sub.print_usage(sys.stderr)
            stderr.write(f"{sub.prog}: error: {_usage_message(sub, message)}\n")
            return 2
    if extras:
        sub.print_usage(sys.stderr)
        stderr.write(f"{sub.prog}: error: {_extras_message(extras, argv)}\n")
        return 2
    args.command = command
    return args
