"""Running filters: :func:`execute`, :func:`detect_dialect`, :func:`select_keys`."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping as AbcMapping
from typing import Any

from ...errors import FilterError
from ...language.ast import Expr
from ...semantics.schema import Schema
from .dialect import FOLD_FUNCTION, DialectError, dialect, dialect_names
from .mapping import SchemaMapping

__all__ = ["MissingFunctionError", "detect_dialect", "execute", "select_keys"]


class MissingFunctionError(FilterError, RuntimeError):
    """The database lacks ``skillfilter_fold``: call :func:`register_functions` (SQLite) or
    :func:`install_functions` (PostgreSQL) first."""

    __module__ = "skillfilter.backends.sql"


def detect_dialect(conn: Any) -> str:
    """The name of the dialect of a connection object, from its type's module (``sqlite``, ``postgresql``,
    ...)."""
    module = type(conn).__module__.split(".")[0]
    for name in dialect_names():
        if module in dialect(name).connection_modules:
            return name
    raise DialectError(f"cannot tell the SQL dialect of a {type(conn).__name__}; pass dialect=...")


def execute(conn: Any, sql: str, params: Iterable[Any] = (), *, dialect: str | None = None) -> list[Any]:
    """Run ``sql`` on ``conn`` and return all rows; a missing ``skillfilter_fold`` becomes
    :class:`MissingFunctionError` saying what to call."""
    d = _dialect_of(conn, dialect)
    try:
        cursor = conn.execute(sql, list(params))
        rows: list[Any] = cursor.fetchall()
        return rows
    except Exception as exc:
        text = str(exc)
        if FOLD_FUNCTION in text and ("no such function" in text or "does not exist" in text
                                      or "not found" in text.lower()):
            raise MissingFunctionError(
                f"the database has no function {FOLD_FUNCTION} (used by case-insensitive operators): "
                f"call {d.missing_function_hint()}"
            ) from exc
        raise


def _dialect_of(conn: Any, name: str | None) -> Any:
    return dialect(name or detect_dialect(conn))


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
    from .compiler import to_sql

    d = _dialect_of(conn, dialect)
    sql, params = to_sql(expr, dialect=d.name, schema=schema, entity=entity, mapping=mapping, select=True)
    d.prepare_connection(conn)
    return [row[0] for row in execute(conn, sql, params, dialect=d.name)]
