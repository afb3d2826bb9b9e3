"""What ``--engine duckdb`` asks DuckDB of each line, and how Python checks a line DuckDB passes on.

:func:`query` builds the statement (from the filter's plan, through :mod:`.compile` in raw mode): each line is
turned into a row of only what the filter reads, leaves as JSON text, and given a status: 0 (no match), 2
(a match DuckDB answers for exactly) or 1 (Python must read it: see :mod:`.engine`).  :func:`misfit` is the
same fit check in Python, on a decoded record.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from ...language.ast import Expr
from ...semantics.schema import Schema
from .compile import Use, _Compiler, _quote

__all__ = ["TARGET", "misfit", "query", "rows_query"]

_REC = "_sf_rec"
#: Where the COPY form of the query writes its lines (replaced by a temporary file's name).
TARGET = "@target@"


# --------------------------------------------------------------------------------------------------
# SQL pieces from what the filter reads
# --------------------------------------------------------------------------------------------------
def _structure(use: Use) -> Any:
    out: dict[str, Any] = {}
    for key, child in use.children.items():
        if child.kind == "leaf":
            out[key] = "JSON"
        elif child.kind == "list":
            out[key] = ["JSON"]
        elif child.kind == "many":
            out[key] = [_structure(child)]
        else:
            out[key] = _structure(child)
    return out


def _field(x: str, key: str) -> str:
    return f"({x}).{_quote(key)}"


_NUMBER_TOKEN = r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]{1,2})?"  # noqa: S105 - a pattern


def _kind_ok(j: str, type_name: str) -> str:
    v = f"CAST({j} AS VARCHAR)"
    if type_name == "integer":
        # DuckDB writes an integer it read as its digits, a double with `.` or `e`; HUGEINT bounds the rest
        test = (f"(left({v}, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9') "
                f"AND NOT contains({v}, '.') AND NOT contains(lower({v}), 'e') "
                f"AND TRY_CAST({v} AS HUGEINT) IS NOT NULL)")
    elif type_name == "number":
        test = (f"(regexp_full_match({v}, '{_NUMBER_TOKEN}') AND length(regexp_replace(regexp_replace("
                f"{v}, '[eE].*', ''), '[^0-9]', '', 'g')) <= 15)")
    elif type_name == "boolean":
        test = f"({v} IN ('true', 'false'))"
    else:
        test = f"(left({v}, 1) = '\"')"
    return f"({j} IS NULL OR {test})"


class _Checks:
    def __init__(self) -> None:
        self.n = 0
        self.number_leaves = False
        #: JSON paths (with ``[*]``) of the lists the filter reads, and whether a path has a wildcard.
        self.list_paths: list[str] = []
        self.cp_read = False

    def var(self) -> str:
        self.n += 1
        return f"_sf_v{self.n}"

    def valid(self, use: Use, x: str) -> str:
        """Every leaf the filter reads holds a value of its declared kind (or null)."""
        parts = []
        for key, child in use.children.items():
            fx = _field(x, key)
            if child.kind == "leaf":
                if child.type == "number":
                    self.number_leaves = True
                parts.append(_kind_ok(fx, child.type))
            elif child.kind == "list":
                v = self.var()
                ok = _kind_ok(v, "text")
                parts.append(f"coalesce(list_bool_and(list_transform({fx}, lambda {v}: {ok})), true)")
            elif child.kind == "many":
                v = self.var()
                inner = self.valid(child, v)
                parts.append(f"coalesce(list_bool_and(list_transform({fx}, lambda {v}: {inner})), true)")
            else:
                parts.append(self.valid(child, fx))
        return "(" + " AND ".join(parts) + ")" if parts else "true"

    def some_null_list(self, use: Use, x: str, path: str) -> str:
        """Some list the filter reads came out NULL (null, missing, or not a list: the raw text decides)."""
        parts = []
        for key, child in use.children.items():
            fx = _field(x, key)
            p = f"{path}.{key}"
            if child.kind in ("list", "many"):
                self.list_paths.append(p)
                parts.append(f"({fx} IS NULL)")
                if child.kind == "many":
                    v = self.var()
                    inner = self.some_null_list(child, v, p + "[*]")
                    if inner != "false":
                        parts.append(
                            f"coalesce(list_bool_or(list_transform({fx}, lambda {v}: {inner})), false)")
            elif child.kind == "one":
                if key == "custom_properties" and path == "$":
                    self.cp_read = True  # the API's list shape: DuckDB reads a struct of nulls from it
                inner = self.some_null_list(child, fx, p)
                if inner != "false":
                    parts.append(inner)
        return "(" + " OR ".join(parts) + ")" if parts else "false"

    def lists_are_lists(self, line: str) -> str:
        parts = []
        for p in self.list_paths:
            if "[*]" in p:
                parts.append(f"coalesce(list_bool_and(list_transform(json_type({line}, '{p}'), "
                             f"lambda _sf_t: _sf_t IN ('ARRAY', 'NULL'))), true)")
            else:
                parts.append(f"(coalesce(json_type({line}, '{p}'), 'NULL') IN ('ARRAY', 'NULL'))")
        return "(" + " AND ".join(parts) + ")" if parts else "true"


def query(expr: Expr | str, schema: Schema, entity: str) -> tuple[str, list[Any], Use]:
    from ...plan.planner import compile_plan

    plan, _ = compile_plan(expr, schema=schema, entity=entity)
    comp = _Compiler(schema, entity, raw=True, root=_REC)
    cond = comp.node(plan)
    checks = _Checks()
    valid = checks.valid(comp.used, _REC)
    null_list = checks.some_null_list(comp.used, _REC, "$")
    lists_ok = checks.lists_are_lists("line")
    structure = json.dumps(_structure(comp.used)) if comp.used.children else "{}"
    number_check = (
        "WHEN regexp_matches(line, '[:\\[,]\\s*-?(?:[0-9]\\.?){16}|[0-9][eE][+-]?[0-9]{3}') THEN 1 "
        if checks.number_leaves else ""
    )
    if checks.cp_read:
        number_check += "WHEN regexp_matches(line, '\"custom_properties\"\\s*:\\s*\\[') THEN 1 "
    status = (
        "CASE WHEN rest IS NOT NULL THEN error('a line with a control character') "
        "WHEN left(line, 1) <> '{' THEN 1 "
        "WHEN regexp_matches(line, '^[{]\\s*\"(?:has_next|records|next_starting_after)\"') THEN 1 "
        # a trailing comma (DuckDB accepts it): one regular expression, not four `contains` scans of the line
        "WHEN regexp_matches(line, ',[ \\t]*[}\\]]') THEN 1 "
        "WHEN contains(line, '\\u00') AND regexp_matches(line, '\\\\u00[0-7]') THEN 1 "
        f"{number_check}"
        f"WHEN {_REC} IS NULL THEN 1 "
        f"WHEN NOT coalesce({valid}, false) THEN 1 "
        f"WHEN coalesce({null_list}, false) AND NOT coalesce({lists_ok}, false) THEN 1 "
        f"WHEN {cond} THEN 2 ELSE 0 END"
    )
    source = (
        "read_csv(?, columns={'line': 'VARCHAR', 'rest': 'VARCHAR'}, delim=chr(1), quote='', escape='', "
        "header=false, auto_detect=false, strict_mode=false, null_padding=true)"
    )
    # One column: a matching line as it is, a line for Python behind the marker \x01 (no valid line of
    # JSON starts with a control character); a line that held the reader's delimiter stops the query.
    sql = (
        "COPY (SELECT CASE WHEN status = 2 THEN line ELSE chr(1) || line END FROM ("
        f"SELECT line, {status} AS status FROM ("
        f"SELECT line, rest, TRY(json_transform(line, '{structure.replace(chr(39), chr(39) * 2)}')) "
        f"AS {_REC} FROM {source})) WHERE status > 0) TO '{TARGET}' "
        "(FORMAT csv, DELIMITER chr(2), QUOTE '', ESCAPE '', HEADER false)"
    )
    return sql, comp.params, comp.used


def rows_query(copy_sql: str) -> str:
    """The status (0, 1 Python, 2 match) and length in bytes of every line, in file order."""
    inner = copy_sql[copy_sql.index("SELECT line, "): copy_sql.index(") WHERE status > 0) TO '")]
    return f"SELECT status, strlen(line) FROM ({inner})"


# --------------------------------------------------------------------------------------------------
# Python's side: does a record fit where the filter reads it?
# --------------------------------------------------------------------------------------------------
def _leaf_misfit(v: Any, type_name: str) -> str | None:
    if v is None:
        return None
    t = type(v)
    if type_name in ("text", "date", "datetime"):
        ok = t is str
    elif type_name == "integer":
        ok = t is int
    elif type_name == "number":
        ok = t in (int, float) or isinstance(v, Decimal)
    else:
        ok = t is bool
    if ok:
        return None
    number = t in (int, float) or isinstance(v, Decimal)
    kind = ("text" if t is str else "a boolean" if t is bool else "a number" if number
            else "a list" if t is list else "an object" if t is dict else t.__name__)
    return f"{kind} where {'an' if type_name[0] in 'aeiou' else 'a'} {type_name} is declared"


def _cp_mapping(props: Any) -> Any:
    if type(props) is list:
        out: dict[str, Any] = {}
        for item in props:
            if type(item) is dict and isinstance(item.get("property_name"), str):
                out.setdefault(item["property_name"], item.get("property_value"))
        return out
    return props


def misfit(record: Any, use: Use, path: str = "") -> str | None:
    """Where and how ``record`` does not fit the schema in what the filter reads, else ``None``."""
    if type(record) is not dict:
        return None  # read as null by both engines
    for key, child in use.children.items():
        v = record.get(key)
        where = f"{path}.{key}" if path else key
        if v is None:
            continue
        if child.kind == "leaf":
            why = _leaf_misfit(v, child.type)
            if why:
                return f"{where}: {why}"
        elif child.kind == "list":
            if type(v) is not list:
                return f"{where}: not a list where a list of text is declared"
            for i, item in enumerate(v):
                if item is not None and type(item) is not str:
                    return f"{where}[{i}]: {_leaf_misfit(item, 'text')}"
        elif child.kind == "many":
            if type(v) is not list:
                return f"{where}: {'an object' if type(v) is dict else 'a scalar'} where a list is declared"
            for i, item in enumerate(v):
                why = misfit(item, child, f"{where}[{i}]")
                if why:
                    return why
        else:
            if key == "custom_properties" and not path:
                v = _cp_mapping(v)
            why = misfit(v, child, where)
            if why:
                return why
    return None
