"""The dialect base class and the registry of dialects.

A dialect states only what is specific to its engine: quoting, parameters, collation, string tests, the
case-fold function and its installation, storage types for the loader, how it stores values, and how its
errors read.  Everything else (the compiler, DDL, loading, running) asks the dialect.

Dialects register by name (:func:`register_dialect`).  A dialect is a module of this package named after it
(``sqlite.py``, ``postgresql.py``, ...) that registers itself when imported: :func:`dialect` imports it on
first use, so adding one touches no other module.
"""

from __future__ import annotations

import contextlib
import importlib
import math
import pkgutil
from collections.abc import Iterator
from typing import Any, ClassVar

from ...errors import FilterError
from ...semantics.values import canonical_datetime, float_decimal
from .fragments import FALSE, Frag
from .mapping import check_identifier

__all__ = [
    "FOLD_FUNCTION", "SQL_OPS", "Dialect", "DialectError", "beyond_int64", "dialect", "dialect_names",
    "like_pattern", "real_side", "register_dialect",
]

#: The SQL function applying LANGUAGE.md rule 5 (simple case mapping).
FOLD_FUNCTION = "skillfilter_fold"

SQL_OPS = {"exact": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}


class DialectError(FilterError, ValueError):
    """An unknown (or refused) SQL dialect, or a connection whose dialect cannot be told."""


def like_pattern(kind: str, value: str) -> str:
    """A ``LIKE`` pattern (escape character ``\\``) for ``contains``/``startswith``/``endswith``."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if kind == "contains":
        return "%" + escaped + "%"
    if kind == "startswith":
        return escaped + "%"
    return "%" + escaped


def beyond_int64(kind: str, value: int) -> str:
    """``x <kind> value`` for every 64-bit integer ``x``, where ``value`` is beyond 64 bits."""
    holds = {"exact": False, "gt": value < 0, "gte": value < 0, "lt": value > 0, "lte": value > 0}[kind]
    return "TRUE" if holds else "FALSE"


def real_side(kind: str, value: int) -> tuple[str, tuple[Any, ...]]:
    """The comparison of a stored real with the integer ``value`` by decimal value, as ``(op ?, params)``
    or a constant ``("", ())`` meaning false.

    Rounding is monotonic and distinct doubles stand for distinct decimals, so only the double ``f`` nearest
    to ``value`` needs care: it stands for ``m = Decimal(repr(f))``, which may be above or below ``value``.
    """
    try:
        f = float(value)
    except OverflowError:
        f = math.inf if value > 0 else -math.inf
    m = float_decimal(f)
    if m == value:
        return f"{SQL_OPS[kind]} ?", (f,)
    if kind == "exact":
        return "", ()
    if m > value:  # f stands for more than value: x > value <=> x >= f
        return {"gt": ">=", "gte": ">=", "lt": "<", "lte": "<"}[kind] + " ?", (f,)
    return {"gt": ">", "gte": ">", "lt": "<=", "lte": "<="}[kind] + " ?", (f,)


class Dialect:
    """What one SQL engine needs said its own way.  Subclasses override what differs."""

    #: The registered name.
    name: ClassVar[str] = ""
    #: Other names accepted for it (``pg`` for ``postgresql``, ...).
    aliases: ClassVar[tuple[str, ...]] = ()
    #: Top-level modules of the connection objects of this engine (for :func:`detect_dialect`).
    connection_modules: ClassVar[tuple[str, ...]] = ()
    #: The engine's name as people write it (in messages); default: the registered name.
    label: ClassVar[str] = ""
    #: Value types whose literals (and stored values) travel as canonical text: ``date`` (ISO 8601) and
    #: ``datetime`` (UTC, microseconds), for engines that store them as text.
    temporal_as_text: ClassVar[frozenset[str]] = frozenset()
    #: One line for ``--help``: the style of its parameters.
    description: ClassVar[str] = ""
    placeholder: ClassVar[str] = "?"
    #: Long AND/OR chains are split into parenthesised groups of this size (0: never).
    chain_limit: ClassVar[int] = 0
    #: Put the most deeply nested operand first (for parsers with a small stack).
    deep_first: ClassVar[bool] = False
    #: ``cp_x=value`` as JSON containment (``cp_contains``, ``cp_text_equals``, ``json_equals``).
    json_contains: ClassVar[bool] = False
    #: A custom property alone in its scope is read in place (``cp_get``, ``json_value``), not as rows.
    inline_cp: ClassVar[bool] = False
    #: From this many subqueries in a filter on (0: never), the tests through each relation prefix are one
    #: subquery (``coalesce(bool_or(<test>), FALSE)`` per test, over the rows of that prefix), for engines
    #: whose planner takes more than linear time in the number of correlated subqueries.
    combine_exists_from: ClassVar[int] = 0
    #: The collation comparing text by code point.
    binary: ClassVar[str] = "BINARY"
    #: Storage types of the loader's columns, by schema type (and ``json``, ``key``).
    storage_types: ClassVar[dict[str, str]] = {}
    #: Text can hold NUL (U+0000).
    text_holds_nul: ClassVar[bool] = True

    # -- identifiers and parameters ---------------------------------------------------------------
    def ident(self, name: str) -> str:
        """``name`` quoted, for SQL run with parameters."""
        return self.quote(name)

    def quote(self, name: str) -> str:
        """``name`` quoted, for SQL run without parameters (as the loader runs its statements)."""
        check_identifier(name)
        return '"' + name.replace('"', '""') + '"'

    def param(self, value: Any, vtype: str) -> Any:
        """A literal of value type ``vtype`` as the driver's parameter (and a stored value of that type, as
        the loader stores it)."""
        if vtype in self.temporal_as_text:
            return canonical_datetime(value) if vtype == "datetime" else value.isoformat()
        return value

    # -- comparisons by value type -----------------------------------------------------------------
    def text(self, x: str, kind: str, value: str, ci: bool) -> Frag:
        raise NotImplementedError

    def number(self, x: str, kind: str, value: Any, storage: str = "number") -> Frag:
        """``x <kind> value`` by decimal value, ``x`` stored as ``storage`` (``integer``, ``number`` or
        ``json``: a number read from a JSON value)."""
        return Frag(f"{x} {SQL_OPS[kind]} {self.placeholder}", (self.param(value, "number"),))

    def boolean(self, x: str, value: bool) -> Frag:
        return Frag(f"{x} = {self.placeholder}", (value,))

    def temporal(self, x: str, kind: str, value: Any, vtype: str) -> Frag:
        return Frag(f"{x} {SQL_OPS[kind]} {self.placeholder}", (self.param(value, vtype),))

    # -- custom properties in a JSON column ----------------------------------------------------------
    def cp_domain(self, owner: str, column: str, name: str, *, alias: str, aux: str,
                  listy: bool) -> tuple[str, tuple[Any, ...]]:
        """The elements of custom property ``name`` as rows of ``alias``; a list value (when ``listy``)
        gives its elements, an empty list or a missing value one null element, anything else itself."""
        raise NotImplementedError

    def cp_value(self, alias: str, vtype: str) -> str:
        raise NotImplementedError

    def cp_isnull(self, alias: str) -> str:
        raise NotImplementedError

    def cp_contains(self, owner: str, column: str, documents: list[str]) -> Frag:
        """``owner.column`` contains one of the JSON ``documents`` (where ``json_contains``)."""
        raise NotImplementedError

    def cp_text_equals(self, col: str, name: str, value: str) -> Frag:
        """The JSON object ``col`` maps ``name`` to the string ``value`` (where ``json_contains``)."""
        raise NotImplementedError

    def cp_get(self, owner: str, column: str) -> str:
        """The value of one custom property (its name the one parameter) read in place (``inline_cp``)."""
        raise NotImplementedError

    def cp_get_text(self, owner: str, column: str) -> str:
        raise NotImplementedError

    def cp_array_exists(self, source: str, alias: str, where: str) -> str:
        """``EXISTS`` over the elements (as ``alias``) of the JSON array ``source`` (``inline_cp``)."""
        raise NotImplementedError

    def cp_empty_as_null(self, get: str) -> str:
        """The JSON value ``get``, an empty array replaced by an array of one null (``inline_cp``)."""
        raise NotImplementedError

    def cp_kind(self, get: str) -> str:
        """The JSON kind of ``get`` (``number``, ``string``, ``boolean``, ``object``, ``array``, NULL)."""
        raise NotImplementedError

    def json_cast(self, v: str, vtype: str) -> str:
        raise NotImplementedError

    # -- a JSON value in a column (custom properties in a table) ---------------------------------------
    def json_value(self, v: str, vtype: str) -> str:
        """The JSON value ``v`` as SQL of ``vtype`` when it is a JSON value of that kind, else NULL."""
        raise NotImplementedError

    def json_isnull(self, v: str) -> str:
        raise NotImplementedError

    def json_equals(self, column: str, document: str) -> Frag:
        """The JSON value ``column`` equals the JSON text ``document`` (where ``json_contains``)."""
        raise NotImplementedError

    # -- functions in the database ---------------------------------------------------------------
    def install_functions(self, conn: Any) -> None:
        """Make ``skillfilter_fold`` available on ``conn``."""
        raise NotImplementedError

    def prepare_connection(self, conn: Any) -> None:
        """What :func:`~skillfilter.backends.sql.select_keys` does before running (per connection)."""

    def missing_function_hint(self) -> str:
        return "skillfilter.backends.sql.install_functions(conn) once"

    # -- loading ---------------------------------------------------------------------------------------
    def store_text(self, value: str) -> str | None:
        """A reason the database cannot store the text ``value``, or None."""
        if "\x00" in value and not self.text_holds_nul:
            return f"{self.title()} text cannot hold NUL (U+0000)"
        return None

    def store_big_integer(self, value: int) -> Any:
        """An integer beyond 64 bits in a ``number`` column: what to store, or a :class:`str` reason."""
        return f"{self.title()} stores integers of at most 64 bits"

    def store_float(self, value: float) -> Any:
        """A float in a ``number`` column: what to store, or a :class:`str` reason it cannot be."""
        return value

    def store_json(self, value: Any, text: str) -> Any:
        """A JSON value (``text`` its JSON text) as the parameter of a ``json`` column."""
        return text

    def json_int_limit(self) -> bool:
        """Whether JSON integers are limited to 64 bits."""
        return False

    def insert_rows(self, conn: Any, table: str, columns: list[str], rows: list[list[Any]]) -> None:
        cols = ", ".join(self.quote(c) for c in columns)
        marks = ", ".join(self.placeholder for _ in columns)
        conn.executemany(f"INSERT INTO {self.quote(table)} ({cols}) VALUES ({marks})", rows)

    def database_errors(self) -> tuple[type[BaseException], ...]:
        """The exceptions the driver raises for a row the database refuses."""
        return (UnicodeError, ValueError, OverflowError)

    @contextlib.contextmanager
    def atomic(self, conn: Any) -> Iterator[None]:
        """Everything inside, or nothing (a savepoint); the caller's transaction stays open."""
        conn.execute("SAVEPOINT skillfilter_load")
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):
                conn.execute("ROLLBACK TO SAVEPOINT skillfilter_load")
                conn.execute("RELEASE SAVEPOINT skillfilter_load")
            raise
        conn.execute("RELEASE SAVEPOINT skillfilter_load")

    def title(self) -> str:
        return self.label or self.name

    # -- constants ---------------------------------------------------------------------------------
    def never(self) -> Frag:
        return FALSE


# --------------------------------------------------------------------------------------------------
# the registry
# --------------------------------------------------------------------------------------------------
_REGISTRY: dict[str, type[Dialect]] = {}
_ALIASES: dict[str, str] = {}
_INSTANCES: dict[str, Dialect] = {}
#: Modules of this package that are not dialects.
_NOT_DIALECTS = frozenset({
    "combine", "compiler", "ddl", "dialect", "fragments", "functions", "load", "mapping", "run",
})


def register_dialect(name: str, cls: type[Dialect]) -> None:
    """Make ``cls`` the dialect called ``name`` (and its ``aliases``)."""
    _REGISTRY[name] = cls
    _INSTANCES.pop(name, None)
    for alias in cls.aliases:
        _ALIASES[alias] = name


def _discover() -> None:
    for info in pkgutil.iter_modules(_package_path()):
        if info.name not in _NOT_DIALECTS and not info.name.startswith("_"):
            _load_module(info.name)


def _package_path() -> list[str]:
    import os

    return [os.path.dirname(__file__)]


def _load_module(name: str) -> bool:
    if name in _NOT_DIALECTS or not name.isidentifier() or name.startswith("_"):
        return False
    try:
        importlib.import_module(f"{__package__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name == f"{__package__}.{name}":
            return False
        raise
    return True


def dialect(name: str) -> Dialect:
    """The dialect called ``name`` (or one of its aliases); :class:`DialectError` if there is none."""
    if not isinstance(name, str):
        raise DialectError(f"a dialect is named by a string, not {type(name).__name__}")
    key = _ALIASES.get(name, name)
    if key not in _REGISTRY:
        _load_module(key)
        if key not in _REGISTRY:
            _discover()  # an alias of a dialect not imported yet
            key = _ALIASES.get(name, name)
    cls = _REGISTRY.get(key)
    if cls is None:
        known = ", ".join(dialect_names())
        raise DialectError(f"unknown SQL dialect {name!r}; dialects: {known}")
    found = _INSTANCES.get(key)
    if found is None:
        found = _INSTANCES[key] = cls()
    return found


def dialect_names() -> list[str]:
    """The names of every dialect (each dialect module of this package, imported to ask it)."""
    _discover()
    return sorted(_REGISTRY)
