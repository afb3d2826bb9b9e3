"""Helpers shared by the commands."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from ...semantics.model import Schema

#: Names that `--schema` takes besides a file path.
BUILTIN_SCHEMAS = ("skillengine", "export")


class UsageError(Exception):
    """A command-line mistake: reported in one line, exit status 2."""


def load_schema(spec: str) -> Schema:
    """A built-in schema by name, else a schema file; :class:`UsageError` when that fails."""
    from ...semantics.model import Schema, SchemaError

    if spec in BUILTIN_SCHEMAS:
        return Schema.builtin(spec)
    try:
        return Schema.load(spec)
    except SchemaError as exc:
        raise UsageError(str(exc)) from None
    except (ValueError, TypeError, AttributeError, KeyError) as exc:  # a malformed file the loader missed
        raise UsageError(f"{spec}: not a valid schema ({type(exc).__name__}: {exc})") from None


def filters_from(arguments: Sequence[str], stdin: TextIO) -> Iterator[str]:
    """The filters given as arguments, or else one per non-blank line of standard input."""
    if arguments:
        yield from arguments
        return
    for line in stdin:
        line = line.rstrip("\r\n")
        if line.strip():
            yield line
