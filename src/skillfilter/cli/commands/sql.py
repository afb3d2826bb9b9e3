"""``skillfilter sql``: the parameterised SQL of a filter, then its parameters.

Usage::

    skillfilter sql --dialect sqlite|postgresql|... [--entity E] [--schema FILE|skillengine|export]
                    [--mapping FILE] [--select] [--alias NAME] [--layout tables|nested] FILTER

Prints the SQL (a condition on the entity's table, or with ``--select`` a whole ``SELECT`` of the keys of the
matching rows) on one line, then the parameters as one JSON array: numbers as JSON numbers of exactly the
parameter's value (:func:`json_param`), dates and datetimes as ISO 8601 text.
``--mapping`` is a JSON file of overrides of the default table mapping (``docs/sql.md``).  ``FILTER`` ``-``
reads the filter from standard input.

Exit status: 0, 1 for a filter that does not parse or does not fit the schema, 2 for a usage error (bad
option, unknown entity, unreadable schema or mapping file) or input or output that fails.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import decimal
import json
import math
from typing import Any, TextIO

from ...errors import FilterError
from ._common import UsageError, load_schema


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("filter", metavar="FILTER", help="the filter (`-`: read it from standard input)")
    from ...backends.sql.dialect import dialect, dialect_names

    names = dialect_names()  # every registered dialect, plug-ins included
    p.add_argument(
        "--dialect", "-d", required=True, choices=[*names, "spark"],
        help="SQL dialect: " + ", ".join(dialect(n).description or n for n in names)
        + ", spark (Spark SQL over nested records: spark.sql(query, args=...); the `spark` extra)",
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
    p.add_argument(
        "--layout", choices=("tables", "nested"), default="tables",
        help="tables (default: the mapping's tables) or nested (DuckDB only: one row per record, as "
        "read_json or Parquet give it; see docs/engines.md)",
    )


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


def _json_string(text: str) -> str:
    out = json.dumps(text, ensure_ascii=False)
    try:
        out.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: keep it as the JSON escape `\\udXXX`
        out = json.dumps(text)
    return out


def _decimal_text(value: decimal.Decimal) -> str:
    """A finite decimal as a JSON number with exactly its value (``1E+300``, ``1E-7``, ``0.5``)."""
    text = str(value)
    return text if text[:1] != "+" else text[1:]


def json_param(value: Any) -> str:
    """One parameter as JSON text whose value is exactly the parameter's.

    Numbers (``int``, ``float``, :class:`~decimal.Decimal`) are JSON numbers of exactly their decimal
    value, where a float's decimal value is its shortest form (``0.1``, ``1e+16``), as everywhere in
    skillfilter (``docs/semantics.md``, "Numbers"); booleans ``true``/``false``; ``None`` ``null``; dates and
    datetimes ISO 8601 text; text a JSON string (a lone surrogate as its ``\\u`` escape); lists arrays.
    A number JSON cannot write (NaN, an infinity) is its name as a string.

    >>> [json_param(v) for v in (1, 2.5, 1e16, decimal.Decimal("1E+300"), True, None)]
    ['1', '2.5', '1e+16', '1E+300', 'true', 'null']
    >>> json_param(0.1)
    '0.1'
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return _decimal_text(decimal.Decimal(value))  # exact, and not bound by int's digit limit
    if isinstance(value, float):
        if not math.isfinite(value):
            return json.dumps(repr(value))
        return repr(value)  # the shortest form: the float's decimal value (docs/semantics.md, "Numbers")
    if isinstance(value, decimal.Decimal):
        return _decimal_text(value) if value.is_finite() else json.dumps(str(value))
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, (_dt.date, _dt.datetime)):
        return json.dumps(value.isoformat())
    if isinstance(value, (bytes, bytearray)):
        return _json_string(bytes(value).decode("utf-8", "replace"))
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(json_param(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_json_string(str(k))}: {json_param(v)}" for k, v in value.items()) + "}"
    return _json_string(str(value))


def json_params(params: list[Any]) -> str:
    """The parameters as one JSON array, each as :func:`json_param` writes it."""
    return "[" + ", ".join(json_param(p) for p in params) + "]"


def run(args: argparse.Namespace, *, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    from ...backends.sql import to_sql
    from ...backends.sql.dialect import DialectError
    from ...backends.sql.mapping import MappingError, SchemaMapping

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
    if getattr(args, "layout", "tables") == "nested" or args.dialect == "spark":
        return _nested(text, schema, args, stdout=stdout, stderr=stderr)
    try:
        sql, params = to_sql(
            text, dialect=args.dialect, mapping=mapping, select=args.select, alias=args.alias
        )
    except (MappingError, DialectError) as exc:
        stderr.write(f"skillfilter sql: {exc}\n")
        return 2
    except FilterError as exc:
        stderr.write(f"{exc}\n")
        return 1
    stdout.write(sql + "\n")
    stdout.write(json_params(params) + "\n")
    return 0


def _nested(text: str, schema: Any, args: argparse.Namespace, *, stdout: TextIO, stderr: TextIO) -> int:
    """``--layout nested`` (DuckDB) and ``--dialect spark``: a condition over one row per record, as
    ``read_json``, Parquet or ``spark.read.json`` give it (``docs/engines.md``)."""
    if args.dialect not in ("duckdb", "spark"):
        stderr.write("skillfilter sql: --layout nested is for --dialect duckdb or spark\n")
        return 2
    entity = args.entity or schema.implied_entity() or "employees"
    try:
        if args.dialect == "spark":
            from ...backends.spark import to_spark_sql

            sql, named = to_spark_sql(text, schema=schema, entity=entity)
            params: Any = list(named.values())
        else:
            from ...backends.duckdb_nested import to_sql_nested

            sql, params = to_sql_nested(text, schema=schema, entity=entity)
    except FilterError as exc:
        stderr.write(f"{exc}\n")
        return 1
    if args.select:
        name = (args.alias or entity).replace('"', '""')
        sql = f'SELECT * FROM "{name}" WHERE {sql}'
    stdout.write(sql + "\n")
    stdout.write(json_params(params) + "\n")
    return 0
