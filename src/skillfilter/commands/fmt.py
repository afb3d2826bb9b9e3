"""``skillfilter fmt [--pretty] [FILTER ...]``: canonical text, one filter per argument or input line."""

from __future__ import annotations

import argparse
from typing import TextIO

from ..errors import FilterSyntaxError
from ..parser import parse
from ..printer import to_text
from ._common import filters_from


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("filters", nargs="*", metavar="FILTER", help="filters; without any, one per line on standard input")
    p.add_argument("--pretty", action="store_true", help="indented multi-line layout for long filters")


def run(args: argparse.Namespace, *, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    status = 0
    for text in filters_from(args.filters, stdin):
        try:
            expr = parse(text)
        except FilterSyntaxError as exc:
            stderr.write(f"{exc}\n")
            status = 1
            continue
        stdout.write(to_text(expr, pretty=args.pretty) + "\n")
    return status
