"""The ``skillfilter`` command line: ``lint``, ``fmt``, ``filter``, ``sql``.

Exit status: 0 success, 1 a filter has problems (or a command's own failure), 2 usage error, or input or
output that fails (unreadable or closed input; output to a full disk or a closed stream).  A reader of the
output that goes away (``| head``) ends the command quietly with status 0.  Each command lives in
:mod:`skillfilter.cli.commands` and is imported only when it runs.
"""

from __future__ import annotations

import contextlib
import errno
import importlib
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO, cast

from .. import _lazy_getattr
from . import _startup  # noqa: F401  (first: lazy standard-library modules for a fast start)

if TYPE_CHECKING:
    import argparse

__all__ = ["main"]

#: Names of :mod:`._argparse` (the argparse reading, loaded only when a command line needs it) that
#: callers may still look up here.
_ARGPARSE_NAMES = frozenset({"_ArgumentError", "_parser_class", "build_parser", "_usage_message",
                             "_extras_message", "_optional_positionals"})


__getattr__ = _lazy_getattr(dict.fromkeys(_ARGPARSE_NAMES, "_argparse"), globals())

COMMANDS = {
    "lint": "lint filters against a schema: every problem, with its position, code and hint",
    "fmt": "print filters in canonical form",
    "filter": "filter JSON records (array, JSON Lines or export pages) and write the matches as JSON Lines",
    "sql": "print the parameterised SQL for a filter",
    "split": "split a filter into API requests within the cap of logical operators",
    "export-request": "the body of an export request (POST /export/employees/skill_clusters) for a filter",
    "playground": "serve a local page to write a filter and see it checked, translated and run",
}


def _module(name: str):  # type: ignore[no-untyped-def]
    module = {"filter": "filter_", "export-request": "export_request"}.get(name, name)
    return importlib.import_module(f"skillfilter.cli.commands.{module}")


def _version() -> str:
    from .. import __version__

    return __version__


# --------------------------------------------------------------------------------------------------
# standard streams that fail
# --------------------------------------------------------------------------------------------------
def _closed(which: str) -> OSError:
    from ._failures import StreamClosed

    return StreamClosed(errno.EBADF, f"standard {which} is closed")


class _Output:
    """Standard output, passed through; remembers the first error writing or flushing raised, so that
    an output failure is told apart from an input one (and from one argparse swallows)."""

    def __init__(self, stream: Any, error: list[OSError] | None = None, *, binary: bool = False) -> None:
        self._stream = stream
        self._binary = binary
        self.errors: list[OSError] = [] if error is None else error

    def _fail(self, exc: OSError) -> OSError:
        if not self.errors:
            self.errors.append(exc)
        return exc

    def write(self, data: Any) -> int:
        if self._stream is None:
            raise self._fail(_closed("output"))
        try:
            return int(self._stream.write(data))
        except OSError as exc:
            raise self._fail(exc) from None

    def flush(self) -> None:
        if self._stream is None:
            return
        try:
            self._stream.flush()
        except OSError as exc:
            raise self._fail(exc) from None
        except ValueError:  # closed by the command itself
            pass

    @property
    def buffer(self) -> Any:
        if self._binary:
            raise AttributeError("buffer")
        inner = getattr(self._stream, "buffer", None) if self._stream is not None else None
        if self._stream is not None and inner is None:
            raise AttributeError("buffer")
        return _Output(inner, self.errors, binary=True)

    def fileno(self) -> int:
        if self._stream is None:
            raise _closed("output")
        return int(self._stream.fileno())

    def isatty(self) -> bool:
        try:
            return self._stream is not None and bool(self._stream.isatty())
        except (AttributeError, OSError, ValueError):
            return False

    def writable(self) -> bool:
        return True

    def __getattr__(self, name: str) -> Any:
        if self._stream is None:
            raise AttributeError(name)
        return getattr(self._stream, name)


class _Messages:
    """Standard error that never fails: when it cannot be written (closed, a full disk), messages go
    nowhere, and its descriptor to the null device, so that the interpreter's final flush succeeds too."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, data: str) -> int:
        if self._stream is not None:
            try:
                self._stream.write(data)
            except (OSError, ValueError):
                self._give_up()
        return len(data)

    def flush(self) -> None:
        if self._stream is not None:
            try:
                self._stream.flush()
            except (OSError, ValueError):
                self._give_up()

    def _give_up(self) -> None:
        from ._failures import silence

        stream, self._stream = self._stream, None
        silence(stream)

    def isatty(self) -> bool:
        try:
            return self._stream is not None and bool(self._stream.isatty())
        except (AttributeError, OSError, ValueError):
            return False

    def __getattr__(self, name: str) -> Any:
        if self._stream is None:
            raise AttributeError(name)
        return getattr(self._stream, name)


# --------------------------------------------------------------------------------------------------
# arguments
# --------------------------------------------------------------------------------------------------
# The common forms of `fmt` and `lint` are read without argparse (importing and building it is most of
# what these commands cost at start-up).  Only exact option names are taken, each with a value that does
# not start with `-`, and only positionals that do not start with `-`; anything else (`--help`, `--`, an
# abbreviation, a bad value, ...) returns None and goes to argparse, which gives its usual answer.
# tests/test_startup.py checks that both readings agree.
#: command -> option string -> (dest, takes a value); the values' defaults are in _FAST_DEFAULTS.
_FAST_OPTIONS: dict[str, dict[str, tuple[str, bool]]] = {
    "fmt": {"--pretty": ("pretty", False)},
    "lint": {
        "--entity": ("entity", True),
        "-e": ("entity", True),
        "--schema": ("schema", True),
        "-s": ("schema", True),
        "--max-logical-operators": ("max_logical_operators", True),
        "--format": ("format", True),
        "-f": ("format", True),
        "--color": ("color", True),
    },
}
_FAST_DEFAULTS: dict[str, dict[str, object]] = {
    "fmt": {"pretty": False, "to_form": "text", "from_form": "text"},
    "lint": {"entity": None, "schema": "skillengine", "max_logical_operators": 5, "format": "text",
             "color": "auto"},
}
_FAST_CHOICES = {"format": ("text", "json"), "color": ("auto", "always", "never")}


class _Arguments:
    """The parsed command line when argparse was not needed: attributes as argparse's Namespace has them."""

    def __init__(self, **values: object) -> None:
        self.__dict__.update(values)

    def __eq__(self, other: object) -> bool:
        return vars(self) == vars(other) if hasattr(other, "__dict__") else NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "Namespace(" + ", ".join(f"{k}={v!r}" for k, v in vars(self).items()) + ")"


def _fast_parse(command: str, argv: list[str]) -> _Arguments | None:
    """``argv`` read as argparse reads it, for the common forms of ``fmt`` and ``lint``; None otherwise."""
    options = _FAST_OPTIONS.get(command)
    if options is None:
        return None
    values = dict(_FAST_DEFAULTS[command])
    filters: list[str] = []
    i = 0
    while i < len(argv):
        token = argv[i]
        i += 1
        if not token.startswith("-"):
            filters.append(token)
            continue
        name, eq, attached = token.partition("=")
        spec = options.get(name)
        if spec is None or (eq and not (spec[1] and name.startswith("--"))):
            return None
        dest, takes_value = spec
        if not takes_value:
            values[dest] = True
            continue
        if eq:
            value = attached
        elif i < len(argv) and not argv[i].startswith("-"):
            value = argv[i]
            i += 1
        else:
            return None
        if dest in _FAST_CHOICES and value not in _FAST_CHOICES[dest]:
            return None
        if dest == "max_logical_operators":
            from .commands.lint import _cap

            try:
                values[dest] = _cap(value)
            except Exception:  # argparse's message for a bad value
                return None
            continue
        values[dest] = value
    return _Arguments(filters=filters, **values, command=command)


def _parse(command: str, argv: list[str], stderr: TextIO) -> argparse.Namespace | int:
    fast = _fast_parse(command, argv)
    if fast is not None:
        return cast("argparse.Namespace", fast)
    from ._argparse import parse_with_argparse  # anything but the common forms of fmt and lint

    return parse_with_argparse(command, argv, stderr)


# --------------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None, *, stdin: TextIO | None = None,
         stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run one command; the exit status.  Failing input and output end in one line on standard error."""
    in_stream: Any = stdin if stdin is not None else sys.stdin
    if in_stream is None:
        from ._failures import ClosedInput

        in_stream = ClosedInput()
    out = _Output(stdout if stdout is not None else sys.stdout)
    err = _Messages(stderr if stderr is not None else sys.stderr)
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        status = _run(argv, cast(TextIO, in_stream), cast(TextIO, out), cast(TextIO, err))
        out.flush()
        if out.errors:  # a write that argparse (--help, --version) swallowed
            raise out.errors[0]
        return status
    except (OSError, UnicodeEncodeError, UnicodeDecodeError, KeyboardInterrupt) as exc:
        from ._failures import report

        return report(exc, _prog(argv), out, err)


def _prog(argv: list[str]) -> str:
    return f"skillfilter {argv[0]}" if argv and argv[0] in COMMANDS else "skillfilter"


def _run(argv: list[str], stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
        try:
            if argv and argv[0] in COMMANDS:
                parsed = _parse(argv[0], argv[1:], stderr)
                if isinstance(parsed, int):
                    return parsed
                args = parsed
            else:
                from ._argparse import build_parser

                args = build_parser().parse_args(argv)
        except SystemExit as exc:  # argparse: --help is 0, a usage error is 2
            return int(exc.code or 0)
    return int(_module(args.command).run(args, stdin=stdin, stdout=stdout, stderr=stderr))
