"""Filters as parameterised SQL for SQLite and PostgreSQL, answering exactly as :func:`predicate`.

:func:`to_sql` checks the filter against a schema (:func:`skillfilter.semantics.validate.check`: every
literal is
converted to its field's type), then writes one SQL condition over the tables of a
:class:`~skillfilter.backends.sql.mapping.SchemaMapping`.  Identifiers come only from the mapping and are
always quoted; every value travels as a parameter in the driver's style (``?`` for sqlite3, ``%s`` for
psycopg 3).

Semantics (``LANGUAGE.md`` section 3), and how the SQL keeps them:

- **Two-valued logic.**  A comparison under an odd number of ``not`` is guarded (``x IS NOT NULL AND ...``)
  so that SQL's NULL never leaks into a ``NOT``; elsewhere NULL already acts as false.
- **Scopes.**  The comparisons of one scope that go through the same to-many prefix (a to-many relation,
  a ``list[text]`` field, a custom property holding a list) refer to one element: they are grouped into one
  ``EXISTS`` per prefix, nested along the path.  The operand of a ``not`` is a scope of its own for the
  prefixes not chosen outside it.  An empty relation offers one all-null element:
  ``EXISTS (some element ...) OR (NOT EXISTS (any element) AND <the condition with nulls>)``, where the
  second part is worked out while writing the SQL (usually it vanishes).
- **Text.**  Equality and ordering by code point: ``COLLATE BINARY`` on SQLite, ``COLLATE "C"`` on
  PostgreSQL whatever the database's collation.  ``contains``/``startswith``/``endswith`` on SQLite use
  ``instr``/``substr`` over the UTF-8 bytes (SQLite's ``LIKE`` ignores ASCII case); on PostgreSQL ``LIKE``
  with ``\\``, ``%`` and ``_`` escaped and an explicit ``ESCAPE``.
- **Case-insensitive operators** map both sides with rule 5's simple case mapping, through the function
  ``skillfilter_fold``: registered on a sqlite3 connection by :func:`register_functions`, created in a
  PostgreSQL database by :func:`install_functions` (PostgreSQL's own ``upper()`` depends on the collation and
  maps ``ß`` to ``SS``).
- **Typed values.**  Numbers compare exactly (PostgreSQL ``numeric``; floats as their shortest decimal
  form), dates and datetimes by time, booleans as booleans.  See ``docs/sql.md`` for the storage of each
  type (the loader in :mod:`skillfilter.backends.sql.load` writes it).
"""

from __future__ import annotations

import datetime as _dt
import decimal
import json
import math
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass
from typing import Any

from ...errors import FilterError
from ...language.ast import And, Comparison, Expr, Not, Or
from ...plan.atoms import Test, make_test
from ...semantics.operators import Precedence, simple_fold
from ...semantics.schema import Schema
from .mapping import (
    ListMapping,
    MappingError,
    Node,
    PropertyTable,
    SchemaMapping,
    TableMapping,
    check_identifier,
)

__all__ = [
    "DIALECTS",
    "FOLD_FUNCTION",
    "MissingFunctionError",
    "canonical_datetime",
    "detect_dialect",
    "execute",
    "fold_table",
    "install_functions",
    "register_functions",
    "select_keys",
    "to_sql",
]

DIALECTS = ("sqlite", "postgresql")
#: The SQL function applying LANGUAGE.md rule 5 (simple case mapping).
FOLD_FUNCTION = "skillfilter_fold"

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


class MissingFunctionError(FilterError, RuntimeError):
    """The database lacks ``skillfilter_fold``: call :func:`register_functions` (SQLite) or
    :func:`install_functions` (PostgreSQL) first."""


# --------------------------------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------------------------------
def canonical_datetime(value: _dt.datetime) -> str:
    """The stored text of a datetime where the database has no time zone aware type (SQLite, JSON):
    UTC, microseconds, fixed width (``2024-01-31T09:30:00.000000+00:00``): text order is time order."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    try:
        return value.astimezone(_dt.timezone.utc).isoformat(timespec="microseconds")
    except OverflowError:
        pass
    # In UTC the instant lies just before year 1 or just after year 9999, which Python cannot hold: write
    # it as a day of year 0 or as "December 32nd" of 9999, which sort before and after every other value.
    offset = value.utcoffset() or _dt.timedelta(0)
    naive = value.replace(tzinfo=None)
    if offset > _dt.timedelta(0):  # before 0001-01-01T00:00 UTC
        shifted = naive + (_dt.timedelta(days=1) - offset)  # the same clock time, one day later
        return "0000-12-31" + shifted.isoformat(timespec="microseconds")[10:] + "+00:00"
    shifted = naive - _dt.timedelta(days=1) - offset
    return "9999-12-32" + shifted.isoformat(timespec="microseconds")[10:] + "+00:00"


def _decimal(value: float) -> decimal.Decimal:
    """A float as PostgreSQL ``numeric``: its shortest decimal form (what JSON text holds for it)."""
    return decimal.Decimal(repr(value))


# --------------------------------------------------------------------------------------------------
# SQL fragments
# --------------------------------------------------------------------------------------------------
_ATOM = int(Precedence.ATOM)
_NOT = int(Precedence.NOT)
_AND = int(Precedence.AND)
_OR = int(Precedence.OR)


@dataclass(frozen=True, slots=True)
class _Frag:
    """A piece of SQL with its parameters (in text order), how tightly it binds, and its truth if constant."""

    sql: str
    params: tuple[Any, ...] = ()
    prec: int = _ATOM
    const: bool | None = None
    #: Rough nesting depth (parentheses and subqueries), used to keep SQLite's parser stack shallow.
    depth: int = 0
    #: For ``NOT x``: ``x`` (so that ``NOT NOT x`` folds to ``x``).
    negated: _Frag | None = None


#: Operands nested at least this deep go first in SQLite (see ``_Dialect.deep_first``); shallower ones keep
#: the filter's order.
_DEEP = 8

_TRUE = _Frag("TRUE", const=True)
_FALSE = _Frag("FALSE", const=False)


def _wrap(f: _Frag, prec: int) -> tuple[str, int]:
    if f.prec < prec:
        return "(" + f.sql + ")", f.depth + 1
    return f.sql, f.depth


# --------------------------------------------------------------------------------------------------
# dialects
# --------------------------------------------------------------------------------------------------
class _Dialect:
    name = ""
    placeholder = "?"
    #: Long AND/OR chains are split into parenthesised groups of this size (SQLite limits the depth of an
    #: expression tree to 1000, and a chain is as deep as it is long).
    chain_limit = 0
    #: Put the most deeply nested operand first (SQLite's parser stack is about 100 entries deep).
    deep_first = False
    #: ``cp_x=value`` as JSON containment (``cp_contains``).
    json_contains = False
    #: The collation comparing text by code point.
    binary = "BINARY"
    #: A custom property alone in its scope is read in place (``cp_get``, ``json_value``), not as rows.
    inline_cp = False

    def ident(self, name: str) -> str:
        """``name`` quoted, for SQL run with parameters (psycopg reads ``%`` as a placeholder there)."""
        return self.quote(name)

    def quote(self, name: str) -> str:
        """``name`` quoted, for SQL run without parameters (as the loader runs its statements)."""
        check_identifier(name)
        return '"' + name.replace('"', '""') + '"'

    def param(self, value: Any, vtype: str) -> Any:
        raise NotImplementedError

    # value kinds -> comparisons
    def text(self, x: str, kind: str, value: str, ci: bool) -> _Frag:
        raise NotImplementedError

    def number(self, x: str, kind: str, value: int | float) -> _Frag:
        return _Frag(f"{x} {_SQL_OPS[kind]} {self.placeholder}", (self.param(value, "number"),))

    def boolean(self, x: str, value: bool) -> _Frag:
        return _Frag(f"{x} = {self.placeholder}", (value,))

    def temporal(self, x: str, kind: str, value: Any, vtype: str) -> _Frag:
        return _Frag(f"{x} {_SQL_OPS[kind]} {self.placeholder}", (self.param(value, vtype),))

    # custom properties (JSON)
    def cp_domain(self, owner: str, column: str, name: str, *, alias: str, aux: str,
                  listy: bool) -> tuple[str, tuple[Any, ...]]:
        """The elements of custom property ``name`` as rows of ``alias``; a list value (when ``listy``)
        gives its elements, an empty list or a missing value one null element, anything else itself."""
        raise NotImplementedError

    def cp_value(self, alias: str, vtype: str) -> str:
        raise NotImplementedError

    def cp_isnull(self, alias: str) -> str:
        raise NotImplementedError

    def cp_contains(self, owner: str, column: str, documents: list[str]) -> _Frag:
        """``owner.column`` contains one of the JSON ``documents`` (where ``json_contains``)."""
        raise NotImplementedError

    def cp_text_equals(self, col: str, name: str, value: str) -> _Frag:
        """The JSON object ``col`` maps ``name`` to the string ``value`` (where ``json_contains``)."""
        raise NotImplementedError

    # custom properties read in place (where ``inline_cp``)
    def cp_get(self, owner: str, column: str) -> str:
        raise NotImplementedError

    def cp_get_text(self, owner: str, column: str) -> str:
        raise NotImplementedError

    def json_cast(self, v: str, vtype: str) -> str:
        raise NotImplementedError

    # a JSON value in a column (custom properties in a table)
    def json_value(self, v: str, vtype: str) -> str:
        """The JSON value ``v`` as SQL of ``vtype`` when it is a JSON value of that kind, else NULL."""
        raise NotImplementedError

    def json_isnull(self, v: str) -> str:
        raise NotImplementedError


_SQL_OPS = {"exact": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


def _like_pattern(kind: str, value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if kind == "contains":
        return "%" + escaped + "%"
    if kind == "startswith":
        return escaped + "%"
    return "%" + escaped


def _paren(x: str) -> str:
    return x if x.startswith('"') and x.endswith('"') and "(" not in x else "(" + x + ")"


class _SQLite(_Dialect):
    name = "sqlite"
    placeholder = "?"
    chain_limit = 32
    deep_first = True

    def param(self, value: Any, vtype: str) -> Any:
        if vtype == "datetime":
            return canonical_datetime(value)
        if vtype == "date":
            return value.isoformat()
        return value

    def text(self, x: str, kind: str, value: str, ci: bool) -> _Frag:
        x = f"{FOLD_FUNCTION}({x})" if ci else _paren(x)
        if kind in _SQL_OPS:
            return _Frag(f"{x} COLLATE BINARY {_SQL_OPS[kind]} ?", (value,))
        # Byte-wise on UTF-8: a byte substring/prefix/suffix that is a whole UTF-8 text is a character one.
        # The byte 0xFF (never in UTF-8) closes the text: SQLite's substr() of an empty blob is NULL, and
        # a text with NUL has a character length that stops at the NUL.
        blob = f"CAST({x} || x'FF' AS BLOB)"
        if kind == "contains":
            return _Frag(f"instr({blob}, CAST(? AS BLOB)) > 0", (value,))
        if kind == "startswith":  # the first occurrence is at the start
            return _Frag(f"instr({blob}, CAST(? AS BLOB)) = 1", (value,))
        # endswith: the last bytes are the value's and the closing 0xFF
        size = len(value.encode("utf-8"))
        return _Frag(f"substr({blob}, ?) = CAST(? || x'FF' AS BLOB)", (-size - 1, value))

    def number(self, x: str, kind: str, value: int | float) -> _Frag:
        """``x <op> value`` by decimal value (docs/semantics.md, "Numbers"): a stored real stands for its
        shortest form, as a float does in Python.  SQLite compares integers and reals by binary value, which
        agrees except near literals whose double's shortest form is another number; those get a form of
        their own for each storage class."""
        if isinstance(value, int):
            real = _real_side(kind, value)
            if not _INT64_MIN <= value <= _INT64_MAX:
                # Stored integers (64 bits) all lie on one side of it.
                truth = "TRUE" if {"exact": False, "gt": value < 0, "gte": value < 0, "lt": value > 0,
                                   "lte": value > 0}[kind] else "FALSE"
                return _typed(x, truth, (), real)
            if real[1] == (float(value),) and real[0] == f"{_SQL_OPS[kind]} ?" and int(real[1][0]) == value:
                # The nearest double is the integer itself and stands for it: one comparison serves both.
                return _Frag(f"{x} {_SQL_OPS[kind]} ?", (value,))
            return _typed(x, f"{x} {_SQL_OPS[kind]} ?", (value,), real)
        meaning = decimal.Decimal(repr(value))
        if not math.isfinite(value) or abs(value) < 2**53 or meaning == decimal.Decimal(value):
            return _Frag(f"{x} {_SQL_OPS[kind]} ?", (value,))
        # A float beyond 2**53 whose shortest form is another integer (1e23 stands for 10**23): stored
        # integers compare with that integer, stored reals with the float.
        n = int(meaning)
        int_sql = f"{x} {_SQL_OPS[kind]} ?"
        int_params: tuple[Any, ...] = (n,)
        if not _INT64_MIN <= n <= _INT64_MAX:
            int_sql = "TRUE" if {"exact": False, "gt": n < 0, "gte": n < 0, "lt": n > 0, "lte": n > 0}[kind] \
                else "FALSE"
            int_params = ()
        return _typed(x, int_sql, int_params, (f"{_SQL_OPS[kind]} ?", (value,)))

    def temporal(self, x: str, kind: str, value: Any, vtype: str) -> _Frag:
        return _Frag(f"{_paren(x)} COLLATE BINARY {_SQL_OPS[kind]} ?", (self.param(value, vtype),))

    def cp_domain(self, owner: str, column: str, name: str, *, alias: str, aux: str,
                  listy: bool) -> tuple[str, tuple[Any, ...]]:
        p, e = f'"{aux}p"', f'"{aux}e"'
        if not listy:
            sql = (
                f'(SELECT {p}.value AS v, {p}.type AS t FROM (SELECT 1) AS "{aux}d" '
                f"LEFT JOIN json_each({owner}.{self.ident(column)}) AS {p} ON {p}.key = ?) AS {alias}"
            )
            return sql, (name,)
        sql = (
            f"(SELECT CASE WHEN {p}.type = 'array' THEN {e}.value ELSE {p}.value END AS v, "
            f"CASE WHEN {p}.type = 'array' THEN {e}.type ELSE {p}.type END AS t "
            f'FROM (SELECT 1) AS "{aux}d" '
            f"LEFT JOIN json_each({owner}.{self.ident(column)}) AS {p} ON {p}.key = ? "
            f"LEFT JOIN json_each(CASE WHEN {p}.type = 'array' THEN {p}.value END) AS {e}) AS {alias}"
        )
        return sql, (name,)

    def cp_value(self, alias: str, vtype: str) -> str:
        types = {"number": "'integer', 'real'", "boolean": "'true', 'false'"}.get(vtype, "'text'")
        return f"CASE WHEN {alias}.t IN ({types}) THEN {alias}.v END"

    def cp_isnull(self, alias: str) -> str:
        return f"coalesce({alias}.t, 'null') = 'null'"

    def json_value(self, v: str, vtype: str) -> str:
        types = {"number": "'integer', 'real'", "boolean": "'true', 'false'"}.get(vtype, "'text'")
        return f"CASE WHEN json_type({v}) IN ({types}) THEN json_extract({v}, '$') END"

    def json_isnull(self, v: str) -> str:
        return f"coalesce(json_type({v}), 'null') = 'null'"


def _real_side(kind: str, value: int) -> tuple[str, tuple[Any, ...]]:
    """The comparison of a stored real with the integer ``value`` by decimal value, as ``(op ?, params)``
    or a constant ``("", ())`` meaning false.

    Rounding is monotonic and distinct doubles stand for distinct decimals, so only the double ``f`` nearest
    to ``value`` needs care: it stands for ``m = Decimal(repr(f))``, which may be above or below ``value``.
    """
    try:
        f = float(value)
    except OverflowError:
        f = math.inf if value > 0 else -math.inf
    m = decimal.Decimal(repr(f))
    if m == value:
        return f"{_SQL_OPS[kind]} ?", (f,)
    if kind == "exact":
        return "", ()
    if m > value:  # f stands for more than value: x > value <=> x >= f
        return {"gt": ">=", "gte": ">=", "lt": "<", "lte": "<"}[kind] + " ?", (f,)
    return {"gt": ">", "gte": ">", "lt": "<=", "lte": "<="}[kind] + " ?", (f,)


def _typed(x: str, int_sql: str, int_params: tuple[Any, ...], real: tuple[str, tuple[Any, ...]]) -> _Frag:
    """``CASE`` on SQLite's storage class: integers by ``int_sql``, reals by ``x <real>`` (or false)."""
    real_sql = f"{x} {real[0]}" if real[0] else "FALSE"
    sql = f"CASE WHEN typeof({x}) = 'integer' THEN {int_sql} ELSE {real_sql} END"
    return _Frag(sql, int_params + real[1])


class _PostgreSQL(_Dialect):
    name = "postgresql"
    placeholder = "%s"
    binary = '"C"'
    json_contains = True
    inline_cp = True
    _ESCAPE = "ESCAPE E'\\\\'"

    def ident(self, name: str) -> str:
        # psycopg reads `%` as the start of a placeholder anywhere in the text run with parameters.
        return self.quote(name).replace("%", "%%")

    def param(self, value: Any, vtype: str) -> Any:
        if vtype == "number" and isinstance(value, float):
            return _decimal(value)
        return value

    def text(self, x: str, kind: str, value: str, ci: bool) -> _Frag:
        x = f"{FOLD_FUNCTION}({x})" if ci else _paren(x)
        if "\x00" in value:
            # PostgreSQL text cannot hold NUL: nothing stored equals or contains it; in code point order
            # a stored text is above p + NUL + r exactly when it is above p.
            prefix = value[: value.index("\x00")]
            if kind in ("gt", "gte"):
                return _Frag(f'{x} COLLATE "C" > %s', (prefix,))
            if kind in ("lt", "lte"):
                return _Frag(f'{x} COLLATE "C" <= %s', (prefix,))
            return _FALSE
        if kind in _SQL_OPS:
            return _Frag(f'{x} COLLATE "C" {_SQL_OPS[kind]} %s', (value,))
        return _Frag(f'{x} COLLATE "C" LIKE %s {self._ESCAPE}', (_like_pattern(kind, value),))

    def cp_domain(self, owner: str, column: str, name: str, *, alias: str, aux: str,
                  listy: bool) -> tuple[str, tuple[Any, ...]]:
        d = f'"{aux}d"'
        j = f"{d}.j"
        if not listy:
            sql = (
                f"(SELECT {owner}.{self.ident(column)} -> CAST(%s AS text) AS j) AS {d} "
                f"CROSS JOIN LATERAL jsonb_array_elements(jsonb_build_array({j})) AS {alias}(v)"
            )
            return sql, (name,)
        sql = (
            f"(SELECT {owner}.{self.ident(column)} -> CAST(%s AS text) AS j) AS {d} "
            f"CROSS JOIN LATERAL jsonb_array_elements(CASE jsonb_typeof({j}) WHEN 'array' THEN "
            f"CASE WHEN {j} = '[]'::jsonb THEN '[null]'::jsonb ELSE {j} END "
            f"ELSE jsonb_build_array({j}) END) AS {alias}(v)"
        )
        return sql, (name,)

    def cp_value(self, alias: str, vtype: str) -> str:
        return self.json_value(f"{alias}.v", vtype)

    def json_value(self, v: str, vtype: str) -> str:
        """The ``jsonb`` value ``v`` as SQL of ``vtype`` when it is a JSON value of that kind, else NULL."""
        if vtype in ("number", "boolean"):
            return f"CASE WHEN jsonb_typeof({v}) = '{vtype}' THEN {self.json_cast(v, vtype)} END"
        return f"CASE WHEN jsonb_typeof({v}) = 'string' THEN {v} #>> '{{}}' END"

    def json_cast(self, v: str, vtype: str) -> str:
        """The ``jsonb`` number or boolean ``v`` as SQL ``numeric``/``boolean`` (PostgreSQL 11 and later)."""
        return f"CAST({v} AS {'numeric' if vtype == 'number' else 'boolean'})"

    def cp_isnull(self, alias: str) -> str:
        return self.json_isnull(f"{alias}.v")

    def json_isnull(self, v: str) -> str:
        return f"coalesce(jsonb_typeof({v}), 'null') = 'null'"

    def cp_text_equals(self, col: str, name: str, value: str) -> _Frag:
        """The JSON object ``col`` maps ``name`` to the string ``value``: ``col ->> name = value``, and the
        value is a string unless ``value`` is a text no other kind of JSON value reads as (a number reads
        as ``-`` or a digit first, then ``true``, ``false``, ``[...]``, ``{...}``; null as NULL).  That test
        is on the parameter only, so the statement's shape does not depend on the value, and PostgreSQL
        folds it while planning with the parameters: for most texts only ``->>`` remains."""
        return _Frag(
            f'({col} ->> CAST(%s AS text)) COLLATE "C" = %s AND (CAST(%s AS text) !~ \'^[-0-9[{{]\' '
            f"AND CAST(%s AS text) NOT IN ('true', 'false') "
            f"OR jsonb_typeof({col} -> CAST(%s AS text)) = 'string')",
            (name, value, value, value, name), _AND)

    def cp_get(self, owner: str, column: str) -> str:
        """The value of one custom property (its name the one parameter), as ``jsonb``."""
        return f"({owner}.{self.ident(column)} -> CAST(%s AS text))"

    def cp_get_text(self, owner: str, column: str) -> str:
        """The value of one custom property (its name the one parameter) that is a string, as ``text``."""
        return f"({owner}.{self.ident(column)} ->> CAST(%s AS text))"

    def cp_contains(self, owner: str, column: str, documents: list[str]) -> _Frag:
        col = f"{owner}.{self.ident(column)}"
        return _Frag(" OR ".join(f"{col} @> %s::jsonb" for _ in documents), tuple(documents),
                     _OR if len(documents) > 1 else _ATOM)


_DIALECTS: dict[str, _Dialect] = {"sqlite": _SQLite(), "postgresql": _PostgreSQL()}
_DIALECT_ALIASES = {
    "postgres": "postgresql", "pg": "postgresql", "psycopg": "postgresql", "sqlite3": "sqlite",
}


def _dialect(name: str) -> _Dialect:
    found = _DIALECTS.get(_DIALECT_ALIASES.get(name, name))
    if found is None:
        if name == "duckdb":
            raise ValueError(
                "DuckDB is not supported: it compares BIGINT with DOUBLE through doubles, so numbers would "
                f"not compare exactly as the language says; dialects: {', '.join(DIALECTS)}"
            )
        raise ValueError(f"unknown SQL dialect {name!r}; dialects: {', '.join(DIALECTS)}")
    return found


# --------------------------------------------------------------------------------------------------
# tests (what one comparison asks of one value)
# --------------------------------------------------------------------------------------------------
_STORAGE_KIND = {
    "text": "text",
    "list[text]": "text",
    "integer": "number",
    "number": "number",
    "boolean": "boolean",
    "date": "date",
    "datetime": "datetime",
}


# --------------------------------------------------------------------------------------------------
# the compiler
# --------------------------------------------------------------------------------------------------
VarKey = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Var:
    """A prefix whose element a scope chooses: a relation (``one``/``many``), a list field, a custom
    property."""

    key: VarKey
    parent: VarKey | None
    kind: str  # one many list cp (a JSON column) cprow (a table of rows)
    node: Node | None
    parent_table: TableMapping
    cp_name: str = ""
    #: A custom property that may hold a list (untyped, or ``list[text]``).
    listy: bool = False


@dataclass(frozen=True, slots=True)
class _Leaf:
    chain: tuple[VarKey, ...]
    holder: VarKey | None  # the variable holding the value; None: the filtered row itself
    column: str  # column of the holder's table (or list value column); "" for a custom property
    storage: str  # a schema type, or "json"
    test: Test


_NULL = None  # a variable bound to the all-null element


class _Compiler:
    def __init__(self, dialect: _Dialect, mapping: SchemaMapping, root_ref: str) -> None:
        self.d = dialect
        self.mapping = mapping
        self.schema = mapping.schema
        self.entity = mapping.entity
        self.root_ref = root_ref
        self.vars: dict[VarKey, _Var] = {}
        self.order: dict[VarKey, int] = {}
        self.leaves: dict[int, _Leaf] = {}
        self.var_sets: dict[int, frozenset[VarKey]] = {}
        self.direct: dict[int, frozenset[VarKey]] = {}
        #: Custom properties read in place: token bound in the environment -> (``jsonb`` SQL, ``text`` SQL,
        #: the parameters of either, the JSON kind of the value).
        self.inline: dict[str, tuple[str, str, tuple[Any, ...], str]] = {}
        self.alias_prefix = "_sf"
        while root_ref.strip('"').startswith(self.alias_prefix):
            self.alias_prefix += "_"
        self.counter = 0

    def alias(self) -> tuple[str, str]:
        self.counter += 1
        raw = f"{self.alias_prefix}{self.counter}"
        return f'"{raw}"', raw

    # -- preparation ------------------------------------------------------------------------------
    def prepare(self, expr: Expr) -> None:
        for node in expr.comparisons():
            self.leaves[id(node)] = self._leaf_of(node)
        self._collect(expr)

    def _collect(self, expr: Expr) -> None:
        # post-order without recursion: the variables used anywhere below each node, and those used by the
        # comparisons of each node's own scope (not below a `not`)
        stack: list[tuple[Expr, bool]] = [(expr, False)]
        while stack:
            node, done = stack.pop()
            if not done:
                stack.append((node, True))
                stack.extend((c, False) for c in node.children())
                continue
            if isinstance(node, Comparison):
                chain = frozenset(self.leaves[id(node)].chain)
                self.var_sets[id(node)] = chain
                self.direct[id(node)] = chain
            elif isinstance(node, Not):
                self.var_sets[id(node)] = self.var_sets[id(node.operand)]
                self.direct[id(node)] = frozenset()
            else:
                self.var_sets[id(node)] = frozenset().union(*(self.var_sets[id(c)] for c in node.children()))
                self.direct[id(node)] = frozenset().union(*(self.direct[id(c)] for c in node.children()))

    def _var(self, key: VarKey, parent: VarKey | None, kind: str, *, node: Node | None,
             parent_table: TableMapping, cp_name: str = "", listy: bool = False) -> VarKey:
        if key not in self.vars:
            self.vars[key] = _Var(key, parent, kind, node, parent_table, cp_name, listy)
            self.order[key] = len(self.order)
        return key

    def _leaf_of(self, node: Comparison) -> _Leaf:
        res = self.schema.resolve(self.entity, node)
        test = make_test(res.operator.kind, res.operator.case_insensitive, node.value)
        root = self.mapping.root
        if res.custom_property is not None:
            if root.custom_properties is None:
                raise MappingError(f"the mapping of `{self.entity}` has no custom properties column")
            listy = res.type is None or res.type == "list[text]"
            # In a table the rows of a property are its elements, like a to-many relation's.
            var_kind = "cprow" if isinstance(root.custom_properties, PropertyTable) else "cp"
            key = self._var(("cp_" + res.custom_property,), None, var_kind, node=None, parent_table=root,
                            cp_name=res.custom_property, listy=listy)
            return _Leaf((key,), key, "", "json", test)
        chain: list[VarKey] = []
        parent: VarKey | None = None
        table = root
        path: tuple[str, ...] = ()
        for rel in res.relations:
            path = (*path, rel.name)
            child = self.mapping.table(path)
            parent = self._var(path, parent, "many" if rel.many else "one", node=child, parent_table=table)
            chain.append(parent)
            table = child
        fld = res.field
        assert fld is not None
        if fld.is_list:
            path = (*path, fld.name)
            node_map = self.mapping.node(path)
            assert isinstance(node_map, ListMapping)
            key = self._var(path, parent, "list", node=node_map, parent_table=table)
            chain.append(key)
            return _Leaf(tuple(chain), key, node_map.value, fld.type, test)
        return _Leaf(tuple(chain), parent, table.column(fld.name), fld.type, test)

    # -- scopes ---------------------------------------------------------------------------------------
    def scope(self, expr: Expr, env: dict[VarKey, str | None], neg: bool) -> _Frag:
        new = frozenset(v for v in self.direct[id(expr)] if v not in env)
        # Below an element that is null every element is null: nothing to choose.
        nulls = [v for v in new if self._null_parent(v, env)]
        if nulls:
            env = {**env, **dict.fromkeys(nulls, _NULL)}
            new = new - set(nulls)
        kind, items = _items(expr)
        return self.exists(new, kind, items, env, neg)

    def exists(self, space: frozenset[VarKey], kind: str, items: list[Expr],
               env: dict[VarKey, str | None], neg: bool) -> _Frag:
        """Some choice of elements for the variables ``space`` makes ``kind``(``items``) true."""
        kind, items = _normalise(kind, items)
        used = frozenset().union(*(self.var_sets[id(i)] for i in items)) & space
        if not used:
            return self.formula(kind, items, env, neg)
        uses = [self.var_sets[id(i)] & used for i in items]
        if kind == "and":
            plain = [self.item(i, env, neg) for i, u in zip(items, uses, strict=True) if not u]
            parts = [self.quantify(vs, "and", group, env, neg) for vs, group in _components(items, uses)]
            return self.join("and", plain + parts)
        # or: the items with one root share one quantifier; the others are quantified one by one
        groups: dict[VarKey, list[Expr]] = {}
        group_vars: dict[VarKey, frozenset[VarKey]] = {}
        frags: list[_Frag] = []
        for item, u in zip(items, uses, strict=True):
            if not u:
                frags.append(self.item(item, env, neg))
                continue
            roots = {v for v in u if self.vars[v].parent not in u}
            if len(roots) == 1:
                (r,) = roots
                groups.setdefault(r, []).append(item)
                group_vars[r] = group_vars.get(r, frozenset()) | u
            else:
                frags.append(self.exists(u, "and", [item], env, neg))
        for r, group in groups.items():
            frags.append(self.quantify(group_vars[r], "or", group, env, neg))
        return self.join("or", frags)

    def quantify(self, space: frozenset[VarKey], kind: str, items: list[Expr],
                 env: dict[VarKey, str | None], neg: bool) -> _Frag:
        roots = sorted((v for v in space if self.vars[v].parent not in space), key=self.order.__getitem__)
        if len(roots) > 1:
            # Elements of several prefixes chosen together: one EXISTS over all of them (nesting one EXISTS
            # per prefix would be exact too, but deep: SQLite's parser takes about a dozen levels).
            return self.joint(space, kind, items, env)
        r = roots[0]
        var = self.vars[r]
        if var.kind == "cp" and space == {r}:
            fast = self.cp_equals(var, kind, items, neg)
            if fast is not None:
                return fast
            if self.d.inline_cp:
                return self.cp_inline(var, kind, items, env, neg)
        alias, raw = self.alias()
        inner = self.exists(space - {r}, kind, items, {**env, r: alias}, False)
        some = self.exists_sql(var, alias, raw, env, inner)
        if var.kind == "cp":
            return some  # the domain of a custom property holds its null element itself
        subtree = {v for v in space if self._under(v, r)}
        nulls = self.exists(space - subtree, kind, items, {**env, **dict.fromkeys(subtree, _NULL)}, neg)
        if nulls.const is False:
            return some
        alias2, raw2 = self.alias()
        empty = self.not_(self.exists_sql(var, alias2, raw2, env, _TRUE))
        return self.join("or", [some, self.join("and", [empty, nulls])])

    def cp_inline(self, var: _Var, kind: str, items: list[Expr], env: dict[VarKey, str | None],
                  neg: bool) -> _Frag:
        """A custom property alone in its scope, read in place rather than as rows: one ``CASE`` on the
        value's JSON kind, each branch the condition on a value of that kind (written once the kind is
        known: ``CAST(v AS numeric) >= 7``, no NULLs, comparisons with another kind already false), and for
        a list (where the property may hold one) ``EXISTS`` over its elements."""
        d = self.d
        column = var.parent_table.custom_properties
        assert isinstance(column, str)
        get, text_get = d.cp_get(self.root_ref, column), d.cp_get_text(self.root_ref, column)
        key = (var.cp_name,)

        def on(json_kind: str) -> _Frag:
            self.counter += 1
            token = f"\x00cp{self.counter}"  # never an alias: an identifier cannot hold NUL
            self.inline[token] = (get, text_get, key, json_kind)
            return self.exists(frozenset(), kind, items, {**env, var.key: token}, neg)

        nulls = self.exists(frozenset(), kind, items, {**env, var.key: _NULL}, neg)
        branches: list[tuple[str, _Frag]] = []
        if var.listy:
            alias, _ = self.alias()
            inner = self.exists(frozenset(), kind, items, {**env, var.key: alias}, False)
            if inner.const is not None:
                arr = inner  # an array offers at least one element (its null one when empty)
            else:
                source_params: tuple[Any, ...] = key
                source = get
                if nulls.const is not False:  # an empty list offers its null element
                    source = f"CASE WHEN {get} = '[]'::jsonb THEN '[null]'::jsonb ELSE {get} END"
                    source_params = key + key
                arr = _Frag(f"EXISTS (SELECT 1 FROM jsonb_array_elements({source}) AS {alias}(v) "
                            f"WHERE {inner.sql})", (*source_params, *inner.params), _ATOM,
                            depth=inner.depth + 5)
            branches.append(("array", arr))
        other = on("other")
        branches += [("number", on("number")), ("string", on("string")), ("boolean", on("boolean")),
                     ("object", other)]
        if not var.listy:
            branches.append(("array", other))
        # missing, or JSON null: the ELSE branch
        kept = [(k, f) for k, f in branches if not (f.const is not None and f.const == nulls.const)]
        if not kept:
            return nulls
        parts: list[str] = []
        params: list[Any] = list(key)
        depth = 0
        for json_kind, f in [*kept, ("", nulls)]:
            text = (str(f.const).upper() if f.const is not None else _wrap(f, _ATOM)[0])
            parts.append(f"WHEN '{json_kind}' THEN {text}" if json_kind else f"ELSE {text}")
            params.extend(f.params)
            depth = max(depth, f.depth)
        return _Frag(f"CASE jsonb_typeof({get}) {' '.join(parts)} END", tuple(params), _ATOM, depth=depth + 2)

    def cp_equals(self, var: _Var, kind: str, items: list[Expr], neg: bool) -> _Frag | None:
        """Custom property ``=`` one of some values.  PostgreSQL, as JSON containment (``@>``, which a GIN
        index serves): ``{"name": value}`` for the value itself, ``{"name": [value]}`` for an element of a
        list (a containment one level down matches only elements, as the scope wants).  A text value
        itself is compared as ``column ->> 'name'`` instead (``cp_text_equals``), which is faster unless a GIN
        index serves the containment (the mapping's ``custom_properties_indexed``)."""
        if not self.d.json_contains or (len(items) > 1 and kind != "or"):
            return None
        column = var.parent_table.custom_properties
        assert isinstance(column, str)
        col = f"{self.root_ref}.{self.d.ident(column)}"
        texts: list[_Frag] = []
        documents: list[str] = []
        indexed = var.parent_table.custom_properties_indexed
        for item in items:
            if not isinstance(item, Comparison):
                return None
            test = self.leaves[id(item)].test
            if test.kind != "exact" or test.ci or test.vtype not in ("text", "number", "boolean", "datetime"):
                return None
            value = test.value
            if test.vtype == "datetime":
                value = canonical_datetime(value)
            elif isinstance(value, float) and not math.isfinite(value):
                return None
            elif isinstance(value, str) and "\x00" in value:
                continue  # JSON in the database cannot hold NUL: nothing equals this value
            if test.vtype == "text" and not indexed:
                texts.append(self.d.cp_text_equals(col, var.cp_name, value))
            else:
                documents.append(json.dumps({var.cp_name: value}, ensure_ascii=False))
            if var.listy:
                documents.append(json.dumps({var.cp_name: [value]}, ensure_ascii=False))
        parts = [*texts]
        if documents:
            parts.append(self.d.cp_contains(self.root_ref, column, documents))
        found = self.join("or", parts)
        if not neg or found.const is not None:
            return found
        if texts:  # `->>` is NULL for a missing property: keep the answer two-valued under `not`
            return _Frag(f"coalesce({found.sql}, FALSE)", found.params, _ATOM, depth=found.depth + 1)
        # `@>` is NULL for a NULL column
        return self.join("and", [_Frag(f"{col} IS NOT NULL"), found])

    def _null_parent(self, v: VarKey, env: dict[VarKey, str | None]) -> bool:
        parent = self.vars[v].parent
        while parent is not None:
            if parent in env:
                return env[parent] is _NULL
            parent = self.vars[parent].parent
        return False

    def _under(self, v: VarKey, r: VarKey) -> bool:
        while v is not None:
            if v == r:
                return True
            parent = self.vars[v].parent
            if parent is None:
                return False
            v = parent
        return False  # pragma: no cover

    def joint(self, space: frozenset[VarKey], kind: str, items: list[Expr],
              env: dict[VarKey, str | None]) -> _Frag:
        """Some choice of elements for all of ``space`` at once (several independent lists entangled).

        Joining every list's rows together would cost the product of their sizes.  Instead each root's
        rows (with its chosen descendants) become a derived table of the DISTINCT truth values of the
        parts of the condition that depend on it (elements giving the same values are interchangeable):
        its size is bounded by the filter, not the data.  Those tables are cross-joined, the condition on
        top."""
        roots = sorted((v for v in space if self.vars[v].parent not in space), key=self.order.__getitem__)
        units: dict[int, VarKey | None] = {}
        if len(roots) > 1 and self._units(kind, items, space, roots, units):
            return self.vector_joint(space, roots, kind, items, env=env, units=units)
        return self.product_joint(space, kind, items, env)

    def _root_of(self, v: VarKey, roots: list[VarKey]) -> VarKey:
        return next(r for r in roots if self._under(v, r))

    def _units(self, kind: str, items: list[Expr], space: frozenset[VarKey], roots: list[VarKey],
               units: dict[int, VarKey | None]) -> bool:
        """Assign each maximal part of the condition that depends on one root (a comparison, a ``not``) to
        that root (``None``: on none); ``False`` when a part depends on several."""
        for item in items:
            if isinstance(item, (And, Or)):
                k, sub = _items(item)
                if not self._units(k, sub, space, roots, units):
                    return False
                continue
            used = {self._root_of(v, roots) for v in self.var_sets[id(item)] & space}
            if len(used) > 1:
                return False
            units[id(item)] = used.pop() if used else None
        return True

    def vector_joint(self, space: frozenset[VarKey], roots: list[VarKey], kind: str, items: list[Expr], *,
                     env: dict[VarKey, str | None], units: dict[int, VarKey | None]) -> _Frag:
        inner_env = dict(env)
        tables: dict[VarKey, tuple[str, list[str], list[Any], list[str]]] = {}
        for r in roots:
            joins, params = self.left_joins(
                sorted((v for v in space if self._under(v, r)), key=lambda v: (len(v), self.order[v])),
                inner_env,
            )
            table_alias, _ = self.alias()
            tables[r] = (table_alias, joins, params, [])
        select_params: dict[VarKey, list[Any]] = {r: [] for r in roots}

        def unit(node: Expr) -> _Frag:
            owner = units[id(node)]
            f = self.item(node, inner_env, False)
            if owner is None or f.const is not None:
                return f
            table_alias, _joins, _params, cols = tables[owner]
            name = f"c{len(cols) + 1}"
            cols.append(f'COALESCE(({f.sql}), FALSE) AS "{name}"')
            select_params[owner].extend(f.params)
            return _Frag(f'{table_alias}."{name}"', (), _ATOM, depth=f.depth)

        def walk(k: str, its: list[Expr]) -> _Frag:
            parts = []
            for node in its:
                if isinstance(node, (And, Or)):
                    parts.append(walk(*_items(node)))
                else:
                    parts.append(unit(node))
            return self.join(k, parts)

        where = walk(kind, items)
        if where.const is not None:
            return _TRUE if where.const else _FALSE  # the product of the domains is never empty
        froms: list[str] = []
        params_all: list[Any] = []
        depth = where.depth
        for r in roots:
            table_alias, joins, params, cols = tables[r]
            if not cols:
                continue  # nothing depends on this list: it offers at least one element
            froms.append(f"(SELECT DISTINCT {', '.join(cols)} FROM {' '.join(joins)}) AS {table_alias}")
            params_all.extend(select_params[r])
            params_all.extend(params)
            depth = max(depth, sum(j.count("(") for j in joins) + 4)
        if not froms:
            return where  # no list's own condition is left: each offers an element, so the rest decides
        return _Frag(f"EXISTS (SELECT 1 FROM {' CROSS JOIN '.join(froms)} WHERE {where.sql})",
                     (*params_all, *where.params), _ATOM, depth=depth + 4)

    def product_joint(self, space: frozenset[VarKey], kind: str, items: list[Expr],
                      env: dict[VarKey, str | None]) -> _Frag:
        """All of ``space`` joined: ``(SELECT 1) LEFT JOIN`` each prefix's rows, so that an empty one gives
        its null element (as the rule wants), then the condition."""
        ordered = sorted(space, key=lambda v: (len(v), self.order[v]))
        inner_env = dict(env)
        joins, params = self.left_joins(ordered, inner_env)
        where = self.exists(frozenset(), kind, items, inner_env, False)
        if where.const is False:
            return _FALSE
        if where.const is True:
            return _TRUE  # the product of the domains is never empty
        return _Frag(f"EXISTS (SELECT 1 FROM {' '.join(joins)} WHERE {where.sql})", (*params, *where.params),
                     _ATOM, depth=where.depth + 4 + sum(j.count("(") for j in joins))

    def left_joins(self, ordered: Iterable[VarKey],
                   inner_env: dict[VarKey, str | None]) -> tuple[list[str], list[Any]]:
        """One row per choice of elements for ``ordered`` (parents first), each list LEFT JOINed so that an
        empty one offers its all-null element; records each variable's alias in ``inner_env``."""
        _, dummy = self.alias()
        joins = [f'(SELECT 1) AS "{dummy}"']
        params: list[Any] = []
        for v in ordered:
            var = self.vars[v]
            alias, raw = self.alias()
            parent_ref = self.root_ref if var.parent is None else inner_env[var.parent]
            assert parent_ref is not None
            source, source_params, link, link_params = self.source(var, alias, raw, parent_ref)
            joins.append(f"LEFT JOIN {source} ON {link}" if link else f"CROSS JOIN {source}")
            params.extend(source_params)
            params.extend(link_params)
            inner_env[v] = alias
        return joins, params

    def source(self, var: _Var, alias: str, raw: str,
               parent_ref: str) -> tuple[str, tuple[Any, ...], str, tuple[Any, ...]]:
        """The rows of ``var`` under ``parent_ref``: ``(FROM item, its parameters, the join condition, its
        parameters)`` (no condition for a custom property in a JSON column, whose rows already belong to
        the filtered row)."""
        d = self.d
        cp = var.parent_table.custom_properties
        if var.kind == "cp":
            assert isinstance(cp, str)
            source, params = d.cp_domain(parent_ref, cp, var.cp_name, alias=alias, aux=raw, listy=var.listy)
            return source, params, "", ()
        if var.kind == "cprow":  # the rows of the property in its table
            assert isinstance(cp, PropertyTable)
            owner_col = cp.link_to or var.parent_table.key
            link = (f"{alias}.{d.ident(cp.link)} = {parent_ref}.{d.ident(owner_col)} "
                    f"AND {alias}.{d.ident(cp.name)} COLLATE {d.binary} = {d.placeholder}")
            return f"{d.ident(cp.table)} AS {alias}", (), link, (var.cp_name,)
        node = var.node
        assert node is not None
        if var.kind == "one":
            assert isinstance(node, TableMapping) and node.link is not None
            link = f"{alias}.{d.ident(node.link_to or node.key)} = {parent_ref}.{d.ident(node.link)}"
        else:
            assert node.link is not None
            owner_col = node.link_to or var.parent_table.key
            link = f"{alias}.{d.ident(node.link)} = {parent_ref}.{d.ident(owner_col)}"
        return f"{d.ident(node.table)} AS {alias}", (), link, ()

    def exists_sql(self, var: _Var, alias: str, raw: str, env: dict[VarKey, str | None],
                   where: _Frag) -> _Frag:
        if where.const is False:
            return _FALSE
        parent_ref = self.root_ref if var.parent is None else env[var.parent]
        assert parent_ref is not None
        source, params, link, link_params = self.source(var, alias, raw, parent_ref)
        if var.kind == "cp":
            if where.const is True:
                return _TRUE  # the domain is never empty
            conds = [where]
        else:
            conds = [_Frag(link, link_params, _AND), where]
        body = self.join("and", conds)
        depth = _wrap(body, _AND)[1]
        where_sql = "" if body.const is True else f" WHERE {body.sql}"
        return _Frag(f"EXISTS (SELECT 1 FROM {source}{where_sql})", (*params, *body.params), _ATOM,
                     depth=depth + 4 + source.count("("))

    # -- formulas over bound variables ---------------------------------------------------------------
    def formula(self, kind: str, items: list[Expr], env: dict[VarKey, str | None], neg: bool) -> _Frag:
        return self.join(kind, [self.item(i, env, neg) for i in items])

    def item(self, node: Expr, env: dict[VarKey, str | None], neg: bool) -> _Frag:
        if isinstance(node, Comparison):
            return self.leaf(self.leaves[id(node)], env, neg)
        if isinstance(node, Not):
            return self.not_(self.scope(node.operand, env, not neg))
        kind, items = _items(node)
        return self.formula(kind, items, env, neg)

    def leaf(self, leaf: _Leaf, env: dict[VarKey, str | None], neg: bool) -> _Frag:
        test = leaf.test
        if any(env[v] is _NULL for v in leaf.chain):
            return _TRUE if test.kind == "isnull" else _FALSE
        if test.kind == "false":
            return _FALSE
        d = self.d
        holder = self.root_ref if leaf.holder is None else env[leaf.holder]
        assert holder is not None
        if leaf.storage == "json":
            inline = self.inline.get(holder)
            if inline is not None:
                return self.inline_leaf(inline, test)
            row = leaf.holder is not None and self.vars[leaf.holder].kind == "cprow"
            if row:
                cp = self.mapping.root.custom_properties
                assert isinstance(cp, PropertyTable)
                column = f"{holder}.{d.ident(cp.value)}"
            if test.kind in ("isnull", "notnull"):
                null = _Frag(d.json_isnull(column) if row else d.cp_isnull(holder))
                return null if test.kind == "isnull" else self.not_(null)
            if row and d.json_contains and test.kind == "exact" and not test.ci:
                equal = self.json_equals(column, test)
                if equal is not None:
                    return equal if not neg else self.join("and", [_Frag(f"{column} IS NOT NULL"), equal])
            vtype = test.vtype if test.vtype in ("number", "boolean") else "text"
            x = d.json_value(column, vtype) if row else d.cp_value(holder, vtype)
            if test.vtype in ("date", "datetime"):
                value: Any = (canonical_datetime(test.value) if test.vtype == "datetime"
                              else test.value.isoformat())
                cmp = d.text(x, test.kind, value, False)
            else:
                cmp = self.compare(x, test)
        else:
            x = f"{holder}.{d.ident(leaf.column)}"
            if test.kind in ("isnull", "notnull"):
                return _Frag(f"{x} IS NULL" if test.kind == "isnull" else f"{x} IS NOT NULL")
            if _STORAGE_KIND[leaf.storage] != test.vtype:
                return _FALSE
            cmp = self.compare(x, test)
        if cmp.const is not None or not neg:
            return cmp
        return self.join("and", [_Frag(f"{_paren(x)} IS NOT NULL"), cmp])

    def json_equals(self, column: str, test: Test) -> _Frag | None:
        """``column`` (``jsonb``) is the literal, as ``column = CAST(%s AS jsonb)``: equality of ``jsonb``
        keeps kinds apart and compares numbers as numbers, as the language does."""
        value = test.value
        if test.vtype == "datetime":
            value = canonical_datetime(value)
        elif test.vtype == "date" or (isinstance(value, float) and not math.isfinite(value)):
            return None
        elif isinstance(value, str) and "\x00" in value:
            return _FALSE  # JSON in the database cannot hold NUL: nothing equals this value
        document = json.dumps(value, ensure_ascii=False)
        return _Frag(f"{column} = CAST({self.d.placeholder} AS jsonb)", (document,))

    def inline_leaf(self, inline: tuple[str, str, tuple[Any, ...], str], test: Test) -> _Frag:
        """A comparison on a custom property read in place, whose value is known (by the enclosing ``CASE``)
        to be a JSON value of ``json_kind`` (``other``: an object, or a list that offers no elements)."""
        get, text_get, key, json_kind = inline
        if test.kind in ("isnull", "notnull"):
            return _FALSE if test.kind == "isnull" else _TRUE
        wanted = {"number": "number", "boolean": "boolean"}.get(test.vtype, "string")
        if wanted != json_kind:
            return _FALSE
        d = self.d
        if json_kind == "string":
            x, uses = text_get, key
        else:
            x, uses = d.json_cast(get, json_kind), key
        if test.vtype in ("date", "datetime"):
            value: Any = (canonical_datetime(test.value) if test.vtype == "datetime"
                          else test.value.isoformat())
            cmp = d.text(x, test.kind, value, False)
        else:
            cmp = self.compare(x, test)
        if cmp.const is not None:
            return cmp
        # `x` (holding the placeholder of `key` once) starts every comparison, before its own placeholders
        return _Frag(cmp.sql, (*uses, *cmp.params), cmp.prec, depth=cmp.depth)

    def compare(self, x: str, test: Test) -> _Frag:
        d = self.d
        if test.vtype == "text":
            return d.text(x, test.kind, test.value, test.ci)
        if test.vtype == "number":
            return d.number(_paren(x), test.kind, test.value)
        if test.vtype == "boolean":
            return d.boolean(_paren(x), test.value)
        return d.temporal(x, test.kind, test.value, test.vtype)

    # -- boolean algebra on fragments ----------------------------------------------------------------
    def join(self, kind: str, parts: Sequence[_Frag]) -> _Frag:
        prec = _AND if kind == "and" else _OR
        absorbing = kind != "and"  # TRUE absorbs an OR, FALSE an AND
        kept: list[_Frag] = []
        for p in parts:
            if p.const is absorbing:
                return _TRUE if absorbing else _FALSE
            if p.const is not None:
                continue
            kept.append(p)
        if not kept:
            return _FALSE if absorbing else _TRUE
        if len(kept) == 1:
            return kept[0]
        if self.d.deep_first and max(k.depth for k in kept) >= _DEEP:
            kept.sort(key=lambda f: -f.depth)
        limit = self.d.chain_limit
        if limit and len(kept) > limit:
            size = -(-len(kept) // limit)
            kept = [self.join(kind, kept[i : i + size]) for i in range(0, len(kept), size)]
            kept = [_Frag(f"({k.sql})", k.params, _ATOM, depth=k.depth + 1) if k.prec == prec else k
                    for k in kept]
        texts: list[str] = []
        params: list[Any] = []
        depth = 0
        for k in kept:
            text, dep = _wrap(k, prec)
            texts.append(text)
            params.extend(k.params)
            depth = max(depth, dep)
        return _Frag(f" {kind.upper()} ".join(texts), tuple(params), prec, depth=depth)

    def not_(self, f: _Frag) -> _Frag:
        if f.const is not None:
            return _FALSE if f.const else _TRUE
        if f.negated is not None:
            return f.negated
        text, depth = _wrap(f, _NOT)
        return _Frag("NOT " + text, f.params, _NOT, depth=depth + 1, negated=f)


def _items(node: Expr) -> tuple[str, list[Expr]]:
    if isinstance(node, And):
        return "and", list(node.operands)
    if isinstance(node, Or):
        return "or", list(node.operands)
    return "and", [node]


def _normalise(kind: str, items: list[Expr]) -> tuple[str, list[Expr]]:
    while len(items) == 1 and isinstance(items[0], (And, Or)):
        kind, items = _items(items[0])
    return kind, items


def _components(
    items: list[Expr], uses: list[frozenset[VarKey]]
) -> list[tuple[frozenset[VarKey], list[Expr]]]:
    """The items that use variables, grouped by sharing one (transitively); with each group's variables."""
    groups: list[tuple[set[VarKey], list[Expr]]] = []
    for item, u in zip(items, uses, strict=True):
        if not u:
            continue
        merged_vars, merged_items = set(u), [item]
        rest = []
        for vs, its in groups:
            if vs & merged_vars:
                merged_vars |= vs
                merged_items = its + merged_items
            else:
                rest.append((vs, its))
        groups = [*rest, (merged_vars, merged_items)]
    # keep the items' original order within a group
    position = {id(i): n for n, i in enumerate(items)}
    return [(frozenset(vs), sorted(its, key=lambda i: position[id(i)])) for vs, its in groups]


# --------------------------------------------------------------------------------------------------
# the public function
# --------------------------------------------------------------------------------------------------
#: Default mappings already derived: ``(id(schema), entity) -> (schema, mapping)`` (schemas are immutable).
_DEFAULT_MAPPINGS: dict[tuple[int, str | None], tuple[Schema, SchemaMapping]] = {}


def _mapping_for(
    mapping: SchemaMapping | AbcMapping[str, Any] | None, schema: Schema | str | None, entity: str | None
) -> SchemaMapping:
    if isinstance(mapping, SchemaMapping):
        if schema is not None and Schema.coerce(schema) is not mapping.schema:
            raise ValueError("`schema` differs from the mapping's schema: pass one of them")
        if entity is not None and entity != mapping.entity:
            raise ValueError(f"the mapping is for entity `{mapping.entity}`, not `{entity}`")
        return mapping
    if mapping:
        return SchemaMapping(schema, entity, mapping)
    resolved = Schema.coerce(schema)
    key = (id(resolved), entity)
    found = _DEFAULT_MAPPINGS.get(key)
    if found is not None and found[0] is resolved:
        return found[1]
    made = SchemaMapping(resolved, entity)
    if len(_DEFAULT_MAPPINGS) >= 64:
        _DEFAULT_MAPPINGS.clear()
    _DEFAULT_MAPPINGS[key] = (resolved, made)
    return made


def to_sql(
    expr: Expr | str,
    *,
    dialect: str = "sqlite",
    schema: Schema | str | None = None,
    entity: str | None = None,
    mapping: SchemaMapping | AbcMapping[str, Any] | None = None,
    select: bool = False,
    alias: str | None = None,
    max_logical_operators: int | None = None,
) -> tuple[str, list[Any]]:
    """The filter as SQL and its parameters: a condition on the entity's table, or (``select=True``) a
    whole ``SELECT`` of the keys of the matching rows.

    ``dialect``: ``sqlite`` (parameters ``?``) or ``postgresql`` (psycopg's ``%s``).
    ``schema``: a :class:`Schema` or a built-in schema's name (default ``skillengine``); ``entity``: the
    filtered entity (default: the schema's default entity, else ``employees``).  ``mapping``: a
    :class:`SchemaMapping`, or a dict of overrides of the default one (see ``docs/sql.md``).  ``alias``: the
    name the condition uses for the entity's table (default: the table's name).  The cap on logical
    operators is off unless ``max_logical_operators`` is given.

    Raises :class:`~skillfilter.errors.FilterSyntaxError` or
    :class:`~skillfilter.errors.FilterValidationError` for a bad filter.

    >>> sql, params = to_sql("external_id__startswith='1' or active=true", dialect="postgresql")
    >>> print(sql)
    ("employees"."external_id" COLLATE "C" LIKE %s ESCAPE E'\\\\' OR "employees"."active" = %s)
    >>> params
    ['1%', True]
    """
    from ...semantics.validate import check

    d = _dialect(dialect)
    m = _mapping_for(mapping, schema, entity)
    typed = check(expr, m.entity, schema=m.schema, max_logical_operators=max_logical_operators)
    root = m.root
    root_ref = d.ident(alias if alias is not None else root.table)
    compiler = _Compiler(d, m, root_ref)
    compiler.prepare(typed)
    frag = compiler.scope(typed, {}, False)
    if not select:
        # A condition that is an OR at its top is parenthesised, so that `... AND <condition>` in the
        # caller's own query means what it says.
        sql = frag.sql if frag.prec >= _AND else f"({frag.sql})"
        return sql, list(frag.params)
    table = d.ident(root.table) + (f" AS {root_ref}" if alias is not None else "")
    where = "" if frag.const is True else f" WHERE {frag.sql}"
    return f"SELECT {root_ref}.{d.ident(root.key)} FROM {table}{where}", list(frag.params)


# --------------------------------------------------------------------------------------------------
# functions in the database
# --------------------------------------------------------------------------------------------------
def _fold_value(value: Any) -> Any:
    return simple_fold(value) if isinstance(value, str) else value


def register_functions(conn: Any) -> None:
    """Register ``skillfilter_fold`` (rule 5's simple case mapping) on a :mod:`sqlite3` connection.

    Needed on every connection that runs SQL with a case-insensitive operator (``iexact``, ``icontains``,
    ...); without it SQLite says ``no such function: skillfilter_fold``.
    """
    conn.create_function(FOLD_FUNCTION, 1, _fold_value, deterministic=True)


def fold_table() -> tuple[str, str]:
    """``(from, to)``: every character whose ``upper()`` is one other character, and that character."""
    src: list[str] = []
    dst: list[str] = []
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        u = c.upper()
        if len(u) == 1 and u != c:
            src.append(c)
            dst.append(u)
    return "".join(src), "".join(dst)


def _regex_class(chars: Iterable[str]) -> str:
    """A regular expression bracket expression of ``chars`` (``\\uXXXX`` escapes, for PostgreSQL)."""
    escaped = (f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}" for c in sorted(chars))
    return "[" + "".join(escaped) + "]"


#: libc collations tried for PostgreSQL's fast ``upper()`` (per character ``towupper``), best first.
_LIBC_COLLATIONS = ("C.utf8", "C.UTF-8", "en_US.utf8", "en_US.UTF-8")


def _pg_fold_statements(conn: Any) -> list[str]:
    """``CREATE FUNCTION skillfilter_fold``: ``upper()`` under a libc UTF-8 collation (C code, fast) for
    text without the characters where that differs from rule 5 (checked here, one by one, against this
    Python), and ``translate()`` over the whole table for text with them (slow, exact, rare)."""
    src, dst = fold_table()
    assert not set("'$%\\") & set(src + dst)
    translate = f"translate($1, '{src}', '{dst}')"
    body = translate
    rows = conn.execute(
        "SELECT collname FROM pg_collation WHERE collprovider = 'c' AND collname = ANY(%s) "
        "AND collencoding IN (-1, pg_char_to_encoding('UTF8'))",
        [list(_LIBC_COLLATIONS)],
    ).fetchall()
    available = {r[0] for r in rows}
    collation = next((c for c in _LIBC_COLLATIONS if c in available), None)
    if collation is not None:
        quoted = '"' + collation + '"'
        changed = conn.execute(
            f"SELECT cp, upper(chr(cp) COLLATE {quoted}) FROM generate_series(1, 1114111) AS cp "
            f"WHERE (cp < 55296 OR cp > 57343) AND upper(chr(cp) COLLATE {quoted}) <> chr(cp)"
        ).fetchall()
        theirs = {chr(cp): u for cp, u in changed}
        ours = dict(zip(src, dst, strict=True))
        differ = {c for c in set(theirs) | set(ours) if theirs.get(c) != ours.get(c)}
        fast = f"upper($1 COLLATE {quoted})"
        if not differ:
            body = fast
        elif len(differ) <= 2000:
            pattern = _regex_class(differ)
            body = f"CASE WHEN $1 COLLATE \"C\" ~ E'{pattern}' THEN {translate} ELSE {fast} END"
    return [
        f"CREATE OR REPLACE FUNCTION {FOLD_FUNCTION}(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT "
        f"PARALLEL SAFE AS $sf$ SELECT {body} $sf$",
        f"COMMENT ON FUNCTION {FOLD_FUNCTION}(text) IS 'skillfilter: simple case mapping (LANGUAGE.md "
        f"rule 5), Unicode {unicodedata.unidata_version}, libc collation {collation or 'none'}'",
    ]


def install_functions(conn: Any, dialect: str | None = None) -> None:
    """Create ``skillfilter_fold`` in a PostgreSQL database (a psycopg connection; needs the right to create
    functions; the function goes into the first schema of the search path), or register it on a sqlite3
    connection.

    On PostgreSQL the function is exactly rule 5 as this Python computes it, whatever the database's
    collation: ``upper()`` under the libc ``C.utf8`` collation, checked here character by character against
    Python, with ``translate()`` over the exact table for text holding one of the characters where they differ
    (such as ``ᾳ``, which ``upper()`` maps but rule 5 keeps).  Run it again after upgrading the operating
    system's C library or Python (their Unicode versions may change).
    """
    name = _dialect(dialect or detect_dialect(conn)).name
    if name == "sqlite":
        register_functions(conn)
        return
    for statement in _pg_fold_statements(conn):
        conn.execute(statement)
    if not getattr(conn, "autocommit", False):
        conn.commit()


# --------------------------------------------------------------------------------------------------
# running
# --------------------------------------------------------------------------------------------------
def detect_dialect(conn: Any) -> str:
    """``sqlite`` or ``postgresql`` from a connection object's type."""
    module = type(conn).__module__.split(".")[0]
    if module in ("sqlite3", "_sqlite3"):
        return "sqlite"
    if module in ("psycopg", "psycopg_pool"):
        return "postgresql"
    raise ValueError(f"cannot tell the SQL dialect of a {type(conn).__name__}; pass dialect=...")


def execute(conn: Any, sql: str, params: Iterable[Any] = (), *, dialect: str | None = None) -> list[Any]:
    """Run ``sql`` on ``conn`` and return all rows; a missing ``skillfilter_fold`` becomes
    :class:`MissingFunctionError` saying what to call."""
    name = _dialect(dialect or detect_dialect(conn)).name
    try:
        cursor = conn.execute(sql, list(params))
        rows: list[Any] = cursor.fetchall()
        return rows
    except Exception as exc:
        text = str(exc)
        if FOLD_FUNCTION in text and ("no such function" in text or "does not exist" in text
                                      or "not found" in text.lower()):
            how = ("skillfilter.backends.sql.register_functions(conn) on this sqlite3 connection"
                   if name == "sqlite" else "skillfilter.backends.sql.install_functions(conn) once")
            raise MissingFunctionError(
                f"the database has no function {FOLD_FUNCTION} (used by case-insensitive operators): "
                f"call {how}"
            ) from exc
        raise


def select_keys(
    conn: Any,
    expr: Expr | str,
    *,
    dialect: str | None = None,
    schema: Schema | str | None = None,
    entity: str | None = None,
    mapping: SchemaMapping | AbcMapping[str, Any] | None = None,
) -> list[Any]:
    """The keys of the rows of the entity's table that match the filter (SQLite: registers the functions)."""
    name = _dialect(dialect or detect_dialect(conn)).name
    sql, params = to_sql(expr, dialect=name, schema=schema, entity=entity, mapping=mapping, select=True)
    if name == "sqlite":
        register_functions(conn)
    return [row[0] for row in execute(conn, sql, params, dialect=name)]

