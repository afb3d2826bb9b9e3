"""``skillfilter sql``: the parameterised SQL of a filter, then its parameters.

Usage::

    skillfilter sql --dialect sqlite|postgresql [--entity E] [--schema FILE|skillengine|export]
                    [--mapping FILE] [--select] [--alias NAME] FILTER

Prints the SQL (a condition on the entity's table, or with ``--select`` a whole ``SELECT`` of the keys of the
matching rows) on one line, then the parameters as one JSON array (dates and datetimes as ISO 8601 text).
``--mapping`` is a JSON file of overrides of the default table mapping (``docs/sql.md``).  ``FILTER`` ``-``
reads the filter from standard input.

Exit status: 0, 1 for a filter that does not parse or does not fit the schema, 2 for a usage error (bad
option, unknown entity, unreadable schema or mapping file).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import decimal
import json
from typing import Any, TextIO

from ..errors import FilterError
from ._common import UsageError, load_schema


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("filter", metavar="FILTER", help="the filter (`-`: read it from standard input)")
    p.add_argument(
        "--dialect", "-d", required=True, choices=("sqlite", "postgresql"),
        help="SQL dialect: sqlite (parameters `?`) or postgresql (psycopg's `%%s`)",
    )
    p.add_argument("--entity", "-e", help="the filtered entity (default: the schema's default entity, "
                   "else `employees`)")
    p.add_argument("--schema", "-s", default="skillengine", metavar="FILE",
                   help="schema file (JSON), or a built-in schema: skillengine (default), export")
    p.add_argument("--mapping", "-m", metavar="FILE",
                   help="JSON file of table-mapping overrides, keyed by path (see docs/sql.md)")
    p.add_argument("--select", action="store_true",
                   help="a whole SELECT of the entity's keys, not just the condition")
    p.add_argument("--alias", help="the name the condition uses for the entity's table")


def _mapping_file(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise UsageError(f"cannot read mapping {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: not a JSON mapping ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: a mapping file is a JSON object keyed by path (\"\" for the entity)")
    return data


def _json_value(value: Any) -> Any:
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        as_float = float(value)
        return as_float if repr(as_float) == str(value) or not value.is_finite() else str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"{type(value).__name__} is not JSON")


def run(args: argparse.Namespace, *, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    from ..backends.sql import to_sql
    from ..backends.sql_mapping import MappingError, SchemaMapping

    text = args.filter
    if text == "-":
        text = stdin.read().strip("\r\n")
    try:
        schema = load_schema(args.schema)
        overrides = _mapping_file(args.mapping) if args.mapping else None
        try:
            mapping = SchemaMapping(schema, args.entity, overrides)
        except MappingError as exc:
            raise UsageError(str(exc)) from None
    except UsageError as exc:
        stderr.write(f"skillfilter sql: {exc}\n")
        return 2
    try:
        sql, params = to_sql(
            text, dialect=args.dialect, mapping=mapping, select=args.select, alias=args.alias
        )
    except MappingError as exc:
        stderr.write(f"skillfilter sql: {exc}\n")
        return 2
    except FilterError as exc:
        stderr.write(f"{exc}\n")
        return 1
    stdout.write(sql + "\n")
    stdout.write(json.dumps(params, ensure_ascii=False, default=_json_value) + "\n")
    return 0
