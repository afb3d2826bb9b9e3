"""``skillfilter split [--entity E] [--schema S] [--max-logical-operators N] FILTER``: one query string per
API request, each within the cap of logical operators, whose matches together are exactly the filter's.

Exit status: 0, 1 for a filter that does not parse, does not fit the schema or cannot be split exactly,
2 for a usage error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

from ...errors import FilterError
from ._common import UsageError, load_schema

if TYPE_CHECKING:
    import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("filter", metavar="FILTER", help="the filter (text, or a query string `$employees=...`)")
    p.add_argument("--entity", "-e", default=None, help="the filtered entity (default: employees)")
    p.add_argument("--schema", "-s", default="skillengine", metavar="FILE",
                   help="schema file (JSON), or a built-in schema: skillengine (default), export")
    p.add_argument("--max-logical-operators", type=int, default=5, metavar="N",
                   help="the cap per request (default 5, the API's)")


def run(args: argparse.Namespace, *, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    from ...authoring.split import split
    from ...language.parser import parse
    from ...language.querystring import parse_query_string, to_query_string

    if args.max_logical_operators < 0:
        stderr.write("skillfilter split: --max-logical-operators is at least 0\n")
        return 2
    try:
        schema = load_schema(args.schema)
    except UsageError as exc:
        stderr.write(f"skillfilter split: {exc}\n")
        return 2
    text: str = args.filter
    entity = args.entity
    try:
        if text.lstrip().startswith(("$", "?$")):
            filters = parse_query_string(text)
            if len(filters) != 1:
                stderr.write("skillfilter split: give one entity's filter\n")
                return 2
            (entity, expr), = filters.items()
        else:
            expr = parse(text)
        entity = entity or schema.implied_entity() or "employees"
        if entity not in schema.entities:
            stderr.write(f"skillfilter split: unknown entity `{entity}`\n")
            return 2
        pieces = split(expr, max_logical_operators=args.max_logical_operators, schema=schema, entity=entity)
    except FilterError as exc:
        stderr.write(f"{exc}\n")
        return 1
    for piece in pieces:
        stdout.write(to_query_string({entity: piece}) + "\n")
    return 0
