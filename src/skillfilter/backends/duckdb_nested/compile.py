"""The plan as one DuckDB condition over nested records: one row per record, lists of structs.

Rows are what ``read_json``/``read_ndjson`` (with ``columns=duckdb_columns(schema, entity)``) or Parquet give:
a column per field of the entity, a ``STRUCT`` per to-one relation, a ``STRUCT[]`` per to-many relation,
``VARCHAR[]`` per ``list[text]``, and one ``custom_properties`` struct of the declared custom properties.

How each plan node is written (:mod:`skillfilter.plan.nodes`):

- ``PExists`` (rule 3): ``len(list_filter(L, lambda e: body)) > 0``; the lambda sees the outer elements.  An
  empty or null list offers one all-null element: ``CASE WHEN len(L) > 0 THEN L ELSE [NULL] END`` (left out
  when the body is false for a null element anyway).
- ``PNot``: ``NOT coalesce(x, false)`` (two-valued); ``and``/``or`` let NULL act as false by themselves.
- ``PAtom``: one typed test, values as bound parameters (``?``):

  - text: ``=``, ``<``..., ``contains``/``starts_with``/``ends_with`` (byte order of UTF-8 is code point
    order).  Rule 5: ``upper()`` maps each character as the simple case mapping does except for the
    characters whose full upper case is more than one character (``ß``, ``ᾳ``...: ``upper()`` gives
    ``ẞ``, ``ᾼ``, the mapping keeps them); a string holding one of those (:data:`KEEP`, computed from
    :func:`~skillfilter.semantics.operators.simple_fold` at import) is mapped one character at a time.
  - ``integer`` (``HUGEINT``): compared as integers with the literal; a literal beyond 128 bits decides
    alone.  ``number`` (``DOUBLE``): a double's value is its shortest decimal form (as ``predicate()``
    reads it), which orders the same way as the doubles, so every test becomes a double comparison with
    the double nearest the literal (``>=`` or ``>`` depending on which side of the literal it falls); NaN
    matches nothing.
  - ``date`` and ``datetime`` are read as text: a date is ISO ``YYYY-MM-DD`` text (compared as text, which
    orders as the dates), a date-time is taken apart by the same pattern as
    :func:`~skillfilter.semantics.schema.parse_datetime` and compared as microseconds since 1970 UTC.
    Text that is no date matches nothing but ``is_null=false``, as in ``predicate()``.

Custom properties must be declared in the schema (a FilterError says so otherwise), in the mapping shape
``{"name": value}``.
"""

from __future__ import annotations

import datetime as _dt
import math
import sys
from array import array
from decimal import Decimal
from typing import Any

from ...errors import FilterError
from ...language.ast import Expr
from ...plan.atoms import BOOLEAN, DATE, DATETIME, NUMBER, Test
from ...plan.nodes import CPKey, PAnd, PConst, PExists, PNode, PNot, POr
from ...semantics.operators import simple_fold
from ...semantics.schema import Entity, Schema

__all__ = ["KEEP", "Use", "duckdb_columns", "fold_sql", "to_sql_nested"]


def _keep_set() -> str:
    """Characters rule 5 keeps although ``str.upper()`` changes them (full upper case of 2+ characters).

    A block of code points whose upper case is longer than itself holds such a character; only those
    blocks are looked at one character at a time.
    """
    points = array("I", range(0xD800))  # every code point but the surrogates, decoded in one go
    points.extend(range(0xE000, sys.maxunicode + 1))
    every = points.tobytes().decode("utf-32-le" if sys.byteorder == "little" else "utf-32-be")
    out: list[str] = []
    step = 1024
    for start in range(0, len(every), step):
        block = every[start : start + step]
        if len(block.upper()) != len(block):
            out.extend(c for c in block if c.upper() != c and simple_fold(c) == c)
    return "".join(out)


#: Characters ``upper()`` must not touch (computed once, at import, from the simple case mapping).
KEEP = _keep_set()


#: Strings that hold one of these are mapped one character at a time; the others by ``upper()``.
_KEEP_PATTERN = "[" + KEEP + "]"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def fold_sql(x: str) -> str:
    """``x`` (a VARCHAR expression) mapped by rule 5."""
    slow = (f"array_to_string(list_transform(string_split({x}, ''), lambda _sf_c: CASE WHEN "
            f"contains('{KEEP}', _sf_c) THEN _sf_c ELSE upper(_sf_c) END), '')")
    return f"(CASE WHEN regexp_matches({x}, '{_KEEP_PATTERN}') THEN {slow} ELSE upper({x}) END)"


# --------------------------------------------------------------------------------------------------
# column types
# --------------------------------------------------------------------------------------------------
_TYPES = {
    "text": "VARCHAR", "integer": "HUGEINT", "number": "DOUBLE", "boolean": "BOOLEAN", "date": "VARCHAR",
    "datetime": "VARCHAR", "list[text]": "VARCHAR[]",
}


def _entity_type(schema: Schema, ent: Entity, seen: tuple[str, ...]) -> dict[str, str]:
    out = {name: _TYPES[f.type] for name, f in ent.fields.items()}
    for name, rel in ent.relations.items():
        if rel.target in seen:
            raise FilterError(
                f"relation `{name}` of `{ent.name}` leads back to `{rel.target}`: recursive records have "
                "no DuckDB column type"
            )
        inner = _entity_type(schema, schema.entity(rel.target), (*seen, rel.target))
        struct = "STRUCT(" + ", ".join(f"{_quote(k)} {v}" for k, v in inner.items()) + ")"
        out[name] = struct + "[]" if rel.many else struct
    cp = ent.custom_properties
    if cp is not None and cp.definitions and "custom_properties" not in out:
        out["custom_properties"] = "STRUCT(" + ", ".join(
            f"{_quote(k)} {_TYPES[v]}" for k, v in cp.definitions.items()) + ")"
    return out


def duckdb_columns(schema: Schema | str, entity: str) -> dict[str, str]:
    """Column name -> DuckDB type of the records of ``entity``: pass it to ``read_json(..., columns=...)``.

    ``integer`` is ``HUGEINT`` (128 bits), ``number`` ``DOUBLE``, ``date`` and ``datetime`` ``VARCHAR`` (ISO
    8601 text, compared as :func:`to_sql_nested` says), ``list[text]`` ``VARCHAR[]``.
    """
    sch = Schema.coerce(schema)
    return _entity_type(sch, sch.entity(entity), (entity,))


# --------------------------------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------------------------------
_INT128 = 2**127
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_DT_PATTERN = (
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?"
    r"(?:([Zz])|([+-])([0-9]{2})(?::?([0-9]{2}))?)?)?"
)
_DATE_PATTERN = "[0-9]{4}-[0-9]{2}-[0-9]{2}"


def _datetime_micros(x: str) -> str:
    """Microseconds since 1970 UTC of ISO 8601 text ``x`` as :func:`parse_datetime` reads it, else NULL."""
    m = "_sf_m"
    g = f"regexp_extract({x}, '^{_DT_PATTERN}$', ['y','mo','d','h','mi','s','f','z','sg','oh','om'])"
    day = f"TRY_CAST({m}.y || '-' || {m}.mo || '-' || {m}.d AS DATE)"
    h, mi, s = (f"coalesce(TRY_CAST(nullif({m}.{k}, '') AS BIGINT), 0)" for k in ("h", "mi", "s"))
    off = (f"(coalesce(TRY_CAST(nullif({m}.oh, '') AS BIGINT), 0) * 60"
           f" + coalesce(TRY_CAST(nullif({m}.om, '') AS BIGINT), 0))")
    frac = f"coalesce(TRY_CAST(rpad(left({m}.f, 6), 6, '0') AS BIGINT), 0)"
    valid = (f"{m}.y <> '' AND {m}.y <> '0000' AND {day} IS NOT NULL AND {h} < 24 AND {mi} < 60 AND {s} < 60"
             f" AND {off} < 1440 AND regexp_full_match({m}.f, '[0-9]{{0,6}}0*')")
    micros = (f"date_diff('day', DATE '1970-01-01', {day})::BIGINT * 86400000000 + "
              f"(({h} * 60 + {mi}) * 60 + {s}) * 1000000 + {frac} - "
              f"(CASE WHEN {m}.sg = '-' THEN -1 ELSE 1 END) * {off} * 60000000")
    return f"list_transform([{g}], lambda {m}: CASE WHEN {valid} THEN {micros} END)[1]"


def _date_valid(x: str) -> str:
    return (f"(regexp_full_match({x}, '{_DATE_PATTERN}') AND left({x}, 4) <> '0000' "
            f"AND TRY_CAST({x} AS DATE) IS NOT NULL)")


_OPS = {"exact": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
#: The DuckDB function of each text test (``(text, pattern)``).
_TEXT_FUNCS = {"contains": "contains", "startswith": "starts_with", "endswith": "ends_with"}
#: The type a numeric leaf is read as from its JSON text (raw mode).
_LEAF_CASTS = {"integer": "HUGEINT", "number": "DOUBLE"}


def _double_threshold(kind: str, lit: Any) -> tuple[str, float] | bool:
    """A number test on a DOUBLE as one double comparison (``(op, double)``), or its constant answer.

    A double's value is its shortest decimal form; those values order as the doubles do, so the doubles
    that pass form a ray bounded by the double nearest the literal.
    """
    if isinstance(lit, Decimal):
        exact = lit
    else:
        exact = Decimal(repr(lit)) if isinstance(lit, float) else Decimal(lit)
    if exact.is_infinite():
        d = float(exact)
        return (_OPS[kind], d)
    try:
        d = float(exact)
    except OverflowError:  # pragma: no cover - float(Decimal) gives inf rather than raising
        d = math.copysign(math.inf, exact)
    value = Decimal(repr(d)) if math.isfinite(d) else Decimal(d)
    if value == exact:
        return (_OPS[kind], d)
    if kind == "exact":
        return False
    above = value > exact  # the nearest double lies above the literal
    if kind in ("gt", "gte"):
        return (">=" if above else ">", d)
    return ("<" if above else "<=", d)


# --------------------------------------------------------------------------------------------------
# the compiler
# --------------------------------------------------------------------------------------------------
class Use:
    """What a filter reads of a record: ``kind`` is ``one`` (a to-one relation or the custom properties),
    ``many`` (a to-many relation), ``list`` (a ``list[text]``) or ``leaf`` (a field of type ``type``)."""

    __slots__ = ("children", "kind", "type")

    def __init__(self, kind: str, type_name: str = "") -> None:
        self.kind = kind
        self.type = type_name
        self.children: dict[str, Use] = {}

    def child(self, key: str, kind: str, type_name: str = "") -> Use:
        found = self.children.get(key)
        if found is None:
            found = self.children[key] = Use(kind, type_name)
        return found


class _Compiler:
    def __init__(self, schema: Schema, entity: str, raw: bool = False, root: str = "") -> None:
        self.schema = schema
        self.raw = raw
        self.params: list[Any] = []
        self.used = Use("one")
        #: variable -> (its SQL, the entity its element belongs to (None: a text element), what it reads)
        self.vars: dict[str, tuple[str, Entity | None, Use]] = {"r": (root, schema.entity(entity), self.used)}
        self.last_use = self.used
        names = set(schema.entity(entity).fields) | set(schema.entity(entity).relations)
        self.prefix = "_sf_"
        while any(n.startswith(self.prefix) for n in names):
            self.prefix = "_" + self.prefix

    def param(self, value: Any, cast: str) -> str:
        self.params.append(value)
        return f"CAST(? AS {cast})"

    def path(self, var: str, keys: tuple[Any, ...], what: str) -> tuple[str, str | None, Entity | None]:
        """SQL, declared type (``None``: an entity's element) and entity at the end of ``keys``."""
        sql, ent, use = self.vars[var]
        self.last_use = use
        if ent is None:  # a list[text] element
            if keys:  # pragma: no cover - the planner never goes below a text value
                raise FilterError("a text value has no fields")
            return sql, "text", None
        type_name: str | None = None
        for i, key in enumerate(keys):
            assert ent is not None
            last = i == len(keys) - 1
            if isinstance(key, CPKey):
                cp = ent.custom_properties
                declared = cp.definitions.get(key.name) if cp is not None else None
                if declared is None:
                    raise FilterError(
                        f"custom property `cp_{key.name}` has no declared type: DuckDB reads typed columns, "
                        f"so declare it in the schema (entity `{ent.name}`, custom_properties.definitions: "
                        f"{{\"{key.name}\": \"text\"}} or number, boolean, datetime, list[text])"
                    )
                base = _quote("custom_properties") if not sql else f"({sql}).{_quote('custom_properties')}"
                sql = f"({base}).{_quote(key.name)}"
                cps = use.child("custom_properties", "one")
                self.last_use = cps.child(key.name, "list" if declared == "list[text]" else "leaf", declared)
                return sql, declared, None
            step = _quote(key) if not sql else f"({sql}).{_quote(key)}"
            sql = step
            if key in ent.relations:
                rel = ent.relations[key]
                ent = self.schema.entity(rel.target)
                use = use.child(key, "many" if rel.many else "one")
                self.last_use = use
                if last:
                    return sql, None, ent
            elif key in ent.fields:
                type_name = ent.fields[key].type
                self.last_use = use.child(key, "list" if type_name == "list[text]" else "leaf", type_name)
                return sql, type_name, None
            else:  # pragma: no cover - the planner resolved every key
                raise FilterError(f"`{key}` is not a field or relation of `{ent.name}` ({what})")
        return sql, type_name, ent

    def node(self, n: PNode) -> str:
        if isinstance(n, PConst):
            return "true" if n.value else "false"
        if isinstance(n, PAnd):
            return "(" + " AND ".join(self.node(i) for i in n.items) + ")"
        if isinstance(n, POr):
            return "(" + " OR ".join(self.node(i) for i in n.items) + ")"
        if isinstance(n, PNot):
            return f"(NOT coalesce({self.node(n.item)}, false))"
        if isinstance(n, PExists):
            sql, type_name, ent = self.path(n.parent, n.keys, "list")
            if type_name is not None and type_name != "list[text]":  # pragma: no cover
                raise FilterError(f"a field of type {type_name} is not a list")
            var = self.prefix + n.var
            self.vars[n.var] = (var, ent, self.last_use)
            body = self.node(n.body)
            lst = sql if n.skip_null else f"(CASE WHEN len({sql}) > 0 THEN {sql} ELSE [NULL] END)"
            return f"(len(list_filter({lst}, lambda {var}: {body})) > 0)"
        sql, type_name, _ = self.path(n.var, n.keys, "value")
        if type_name is None:  # pragma: no cover - atoms end at fields
            raise FilterError("a comparison needs a field")
        return self.atom(sql, type_name, n.test)

    def leaf(self, x: str, type_name: str) -> str:
        """The value of leaf ``x``: itself, or (raw mode: ``x`` is the leaf's JSON text) converted."""
        if not self.raw:
            return x
        cast = _LEAF_CASTS.get(type_name)
        if cast is not None:
            return f"TRY_CAST({x} AS {cast})"
        if type_name == "boolean":
            return f"(CAST({x} AS VARCHAR) = 'true')"
        return f"json_extract_string({x}, '$')"

    def atom(self, x: str, type_name: str, t: Test) -> str:
        kind = t.kind
        if self.raw and kind == "exact" and not t.ci and t.vtype not in (NUMBER, BOOLEAN, DATE, DATETIME):
            # Equal text is equal JSON text: DuckDB writes a string it read as to_json() writes it (no
            # leaf to decode per element).
            return f"(CAST({x} AS VARCHAR) = CAST(to_json({self.param(t.value, 'VARCHAR')}) AS VARCHAR))"
        if kind not in ("isnull", "notnull"):
            x = self.leaf(x, "text" if type_name == "list[text]" else type_name)
        if kind == "isnull":
            return f"({x} IS NULL)"
        if kind == "notnull":
            return f"({x} IS NOT NULL)"
        if kind == "false":  # pragma: no cover - folded by the planner
            return "false"
        if t.vtype == BOOLEAN:
            return f"({x} = {self.param(t.value, 'BOOLEAN')})"
        if t.vtype == NUMBER:
            return self.number(x, type_name, kind, t.value)
        if t.vtype == DATE:
            lit = t.value.isoformat()
            return f"({_date_valid(x)} AND {x} {_OPS[kind]} {self.param(lit, 'VARCHAR')})"
        if t.vtype == DATETIME:
            micros = (t.value - _EPOCH) // _dt.timedelta(microseconds=1)
            return f"({_datetime_micros(x)} {_OPS[kind]} {self.param(micros, 'BIGINT')})"
        # text
        lhs = fold_sql(x) if t.ci else x
        p = self.param(t.value, "VARCHAR")
        func = _TEXT_FUNCS.get(kind)
        if func is not None:
            return f"{func}({lhs}, {p})"
        return f"({lhs} {_OPS[kind]} {p})"

    def number(self, x: str, type_name: str, kind: str, lit: Any) -> str:
        if type_name == "integer":
            if isinstance(lit, int):
                if -_INT128 <= lit < _INT128:
                    return f"({x} {_OPS[kind]} {self.param(lit, 'HUGEINT')})"
                if kind == "exact":
                    return "false"
                below = lit < 0  # every stored value lies above the literal
                holds = kind in ("gt", "gte") if below else kind in ("lt", "lte")
                return f"({x} IS NOT NULL)" if holds else "false"
            # the validator converts every literal on an integer field to an int
            raise FilterError(f"{lit!r} is not an integer")  # pragma: no cover
        got = _double_threshold(kind, lit)
        if got is False:
            return "false"
        assert not isinstance(got, bool)
        op, d = got
        guard = f" AND NOT isnan({x})" if op in (">", ">=") else ""
        return f"({x} {op} {self.param(d, 'DOUBLE')}{guard})"


def to_sql_nested(
    expr: Expr | str,
    *,
    schema: Schema | str | None = None,
    entity: str | None = None,
) -> tuple[str, list[Any]]:
    """A DuckDB condition (``?`` parameters) over one row per record of ``entity``, and its parameters.

    The columns are those of :func:`duckdb_columns`; the condition is true exactly for the records
    ``predicate(expr, schema=schema, entity=entity)`` accepts.  A schema is required (typed columns).
    """
    from ...plan.planner import compile_plan

    if schema is None:
        raise FilterError("DuckDB nested records need a schema (their columns are typed): pass schema=...")
    sch = Schema.coerce(schema)
    if entity is None:
        entity = sch.implied_entity()
        if entity is None:
            raise FilterError("name the entity: entity='employees'")
    plan, _ = compile_plan(expr, schema=sch, entity=entity)
    comp = _Compiler(sch, entity)
    sql = comp.node(plan)
    return f"coalesce({sql}, false)", comp.params
