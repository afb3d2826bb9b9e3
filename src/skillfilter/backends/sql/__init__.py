"""Filters as parameterised SQL, answering exactly as :func:`predicate`: SQLite, PostgreSQL, and any dialect
registered as a plug-in (:mod:`~skillfilter.backends.sql.dialect`).

:func:`to_sql` checks the filter against a schema, builds its plan (:func:`skillfilter.plan.planner.
compile_plan`, which decides LANGUAGE.md section 3), and writes one SQL condition over the tables of a
:class:`~skillfilter.backends.sql.mapping.SchemaMapping`.  Identifiers come only from the mapping and are
always quoted; every value travels as a parameter in the driver's style (``?`` for sqlite3, ``%s`` for
psycopg 3).

The package, in pipeline order:

- :mod:`.fragments`: pieces of SQL with their parameters, and ``AND``/``OR``/``NOT`` over them;
- :mod:`.compiler` (and :mod:`.joint` for entangled scopes): the plan as SQL, and :func:`to_sql`;
- :mod:`.dialect`: the dialect base class and registry; :mod:`.sqlite`, :mod:`.postgresql`: the dialects;
- :mod:`.mapping`: where each part of a schema is stored; :mod:`.ddl`, :mod:`.load`: tables and records;
- :mod:`.functions`: ``skillfilter_fold`` (rule 5's case mapping) in the database;
- :mod:`.run`: :func:`execute`, :func:`detect_dialect`, :func:`select_keys`.

How the SQL keeps the semantics:

- **Two-valued logic.**  A comparison under an odd number of ``not`` is guarded (``x IS NOT NULL AND ...``)
  so that SQL's NULL never leaks into a ``NOT``; elsewhere NULL already acts as false.
- **Scopes** are the plan's existentials: one ``EXISTS`` each, with the empty-relation element as
  ``OR (NOT EXISTS (any element) AND <the condition with nulls>)`` where it matters.
- **Text.**  Equality and ordering by code point (``COLLATE BINARY`` on SQLite, ``COLLATE "C"`` on
  PostgreSQL); string operators byte-wise (SQLite) or ``LIKE`` with an explicit ``ESCAPE`` (PostgreSQL).
- **Case-insensitive operators** map both sides with rule 5 through the function ``skillfilter_fold``
  (:func:`register_functions`, :func:`install_functions`).
- **Typed values.**  Numbers compare exactly, dates and datetimes by time, booleans as booleans.  See
  ``docs/sql.md`` for the storage of each type.
"""

from __future__ import annotations

from typing import Any

from ...semantics.values import canonical_datetime
from .compiler import Condition, compile_condition, resolve_mapping, to_sql
from .ddl import LoadError, TableDef, create_tables, table_definitions
from .dialect import (
    FOLD_FUNCTION,
    Dialect,
    DialectError,
    dialect,
    dialect_names,
    register_dialect,
)
from .functions import fold_table, install_functions, register_functions
from .load import load_records
from .mapping import ListMapping, MappingError, PropertyTable, SchemaMapping, TableMapping
from .postgresql import PostgreSQL
from .run import MissingFunctionError, detect_dialect, execute, select_keys
from .sqlite import SQLite

__all__ = [
    "DIALECTS",
    "FOLD_FUNCTION",
    "Condition",
    "Dialect",
    "DialectError",
    "ListMapping",
    "LoadError",
    "MappingError",
    "MissingFunctionError",
    "PostgreSQL",
    "PropertyTable",
    "SQLite",
    "SchemaMapping",
    "TableDef",
    "TableMapping",
    "canonical_datetime",
    "compile_condition",
    "create_tables",
    "detect_dialect",
    "dialect",
    "dialect_names",
    "execute",
    "fold_table",
    "install_functions",
    "load_records",
    "register_dialect",
    "register_functions",
    "resolve_mapping",
    "select_keys",
    "table_definitions",
    "to_sql",
]


def __getattr__(name: str) -> Any:
    if name == "DIALECTS":  # every registered dialect (plug-ins included), as the old constant was
        return tuple(dialect_names())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
