"""``skillfilter fmt [--pretty] [FILTER ...]``: canonical text, one filter per argument or input line."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from ...errors import FilterSyntaxError
from ...language.parser import parse
from ...language.printer import to_text
from ._common import filters_from

if TYPE_CHECKING:
    import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "filters", nargs="*", metavar="FILTER", help="filters; without any, one per line on standard input"
    )
    p.add_argument("--pretty", action="store_true", help="indented multi-line layout for long filters")
    p.add_argument("--to", choices=("text", "json"), default="text", dest="to_form",
                   help="output: canonical text (default) or the JSON form (one document per line)")
    p.add_argument("--from", choices=("text", "json"), default="text", dest="from_form",
                   help="input: filter text (default) or JSON form documents (one per argument or line)")


def run(args: argparse.Namespace, *, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    """Print each filter's canonical form; 0 when all parse, 1 when one does not (its error on stderr),
    2 when standard input cannot be decoded."""
    status = 0
    try:
        for text in filters_from(args.filters, stdin):
            try:
                if getattr(args, "from_form", "text") == "json":
                    from ...authoring.jsonform import from_json

                    expr = from_json(text)
                else:
                    expr = parse(text)
            except FilterSyntaxError as exc:
                stderr.write(f"{exc}\n")
                status = 1
                continue
            if getattr(args, "to_form", "text") == "json":
                import json

                from ...authoring.jsonform import to_json

                out = json.dumps(to_json(expr), ensure_ascii=False) + "\n"
            else:
                out = to_text(expr, pretty=args.pretty) + "\n"
            try:
                stdout.write(out)
            except UnicodeEncodeError as exc:  # e.g. a lone surrogate from undecodable bytes in the arguments
                stderr.write(f"cannot write the filter in the output encoding: {exc.reason}\n")
                status = 1
    except UnicodeDecodeError as exc:  # standard input that is not text in its encoding: unreadable input
        stderr.write(f"cannot read standard input as {exc.encoding}: {exc.reason}\n")
        return 2
    return status
