"""Helpers shared by the commands."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TextIO


def filters_from(arguments: Sequence[str], stdin: TextIO) -> Iterator[str]:
    """The filters given as arguments, or else one per non-blank line of standard input."""
    if arguments:
        yield from arguments
        return
    for line in stdin:
        line = line.rstrip("\r\n")
        if line.strip():
            yield line
