"""The SQLite dialect (:mod:`sqlite3`; parameters ``?``).

Text compares by code point with ``COLLATE BINARY``; ``contains``/``startswith``/``endswith`` use
``instr``/``substr`` over the UTF-8 bytes (SQLite's ``LIKE`` ignores ASCII case).  Numbers: SQLite compares
integers and reals by binary value, which agrees with the language's decimal value except near literals whose
nearest double's shortest form is another number; those get a ``CASE`` on the storage class.  Dates and
datetimes are text in one fixed format.  ``skillfilter_fold`` is a Python function registered on the
connection.
"""

from __future__ import annotations

import contextlib
import decimal
import math
from collections.abc import Iterator
from typing import Any, ClassVar

from ...semantics.values import EXACT_FLOAT_INTS, float_decimal, in_int64
from .dialect import FOLD_FUNCTION, SQL_OPS, Dialect, beyond_int64, real_side, register_dialect
from .fragments import Frag, paren

__all__ = ["SQLite", "json_each_domain"]


class SQLite(Dialect):
    name = "sqlite"
    aliases = ("sqlite3",)
    connection_modules = ("sqlite3", "_sqlite3")
    label = "SQLite"
    temporal_as_text = frozenset({"date", "datetime"})
    description = "sqlite (parameters `?`)"
    placeholder = "?"
    chain_limit = 32  # SQLite limits the depth of an expression tree; a chain is as deep as it is long
    deep_first = True  # SQLite's parser stack is about 100 entries deep
    storage_types: ClassVar[dict[str, str]] = {
        "text": "TEXT", "integer": "INTEGER", "number": "NUMERIC", "boolean": "BOOLEAN", "date": "TEXT",
        "datetime": "TEXT", "json": "TEXT", "key": "INTEGER",
    }

    def text(self, x: str, kind: str, value: str, ci: bool) -> Frag:
        x = f"{FOLD_FUNCTION}({x})" if ci else paren(x)
        if kind in SQL_OPS:
            return Frag(f"{x} COLLATE BINARY {SQL_OPS[kind]} ?", (value,))
        # Byte-wise on UTF-8: a byte substring/prefix/suffix that is a whole UTF-8 text is a character one.
        # The byte 0xFF (never in UTF-8) closes the text: SQLite's substr() of an empty blob is NULL, and
        # a text with NUL has a character length that stops at the NUL.
        blob = f"CAST({x} || x'FF' AS BLOB)"
        if kind == "contains":
            return Frag(f"instr({blob}, CAST(? AS BLOB)) > 0", (value,))
        if kind == "startswith":  # the first occurrence is at the start
            return Frag(f"instr({blob}, CAST(? AS BLOB)) = 1", (value,))
        # endswith: the last bytes are the value's and the closing 0xFF
        size = len(value.encode("utf-8"))
        return Frag(f"substr({blob}, ?) = CAST(? || x'FF' AS BLOB)", (-size - 1, value))

    def number(self, x: str, kind: str, value: Any, storage: str = "number") -> Frag:
        """``x <op> value`` by decimal value (docs/semantics.md, "Numbers"): a stored real stands for its
        shortest form, as a float does in Python."""
        if isinstance(value, int):
            real = real_side(kind, value)
            if not in_int64(value):
                # Stored integers (64 bits) all lie on one side of it.
                return _typed(x, beyond_int64(kind, value), (), real)
            if real[1] == (float(value),) and real[0] == f"{SQL_OPS[kind]} ?" and int(real[1][0]) == value:
                # The nearest double is the integer itself and stands for it: one comparison serves both.
                return Frag(f"{x} {SQL_OPS[kind]} ?", (value,))
            return _typed(x, f"{x} {SQL_OPS[kind]} ?", (value,), real)
        meaning = float_decimal(value)
        if not math.isfinite(value) or abs(value) < EXACT_FLOAT_INTS or meaning == decimal.Decimal(value):
            return Frag(f"{x} {SQL_OPS[kind]} ?", (value,))
        # A float beyond 2**53 whose shortest form is another integer (1e23 stands for 10**23): stored
        # integers compare with that integer, stored reals with the float.
        n = int(meaning)
        int_sql = f"{x} {SQL_OPS[kind]} ?"
        int_params: tuple[Any, ...] = (n,)
        if not in_int64(n):
            int_sql = beyond_int64(kind, n)
            int_params = ()
        return _typed(x, int_sql, int_params, (f"{SQL_OPS[kind]} ?", (value,)))

    def temporal(self, x: str, kind: str, value: Any, vtype: str) -> Frag:
        return Frag(f"{paren(x)} COLLATE BINARY {SQL_OPS[kind]} ?", (self.param(value, vtype),))

    def cp_domain(self, owner: str, column: str, name: str, *, alias: str, aux: str,
                  listy: bool) -> tuple[str, tuple[Any, ...]]:
        source = f"{owner}.{self.ident(column)}"
        return json_each_domain(source, alias=alias, aux=aux, listy=listy, array="array"), (name,)

    def cp_value(self, alias: str, vtype: str) -> str:
        return f"CASE WHEN {alias}.t IN ({_json_types(vtype)}) THEN {alias}.v END"

    def cp_isnull(self, alias: str) -> str:
        return f"coalesce({alias}.t, 'null') = 'null'"

    def json_value(self, v: str, vtype: str) -> str:
        return f"CASE WHEN json_type({v}) IN ({_json_types(vtype)}) THEN json_extract({v}, '$') END"

    def json_isnull(self, v: str) -> str:
        return f"coalesce(json_type({v}), 'null') = 'null'"

    # -- functions ----------------------------------------------------------------------------------
    def install_functions(self, conn: Any) -> None:
        from .functions import register_functions

        register_functions(conn)

    def prepare_connection(self, conn: Any) -> None:
        self.install_functions(conn)

    def missing_function_hint(self) -> str:
        return "skillfilter.backends.sql.register_functions(conn) on this sqlite3 connection"

    # -- loading ------------------------------------------------------------------------------------
    def store_float(self, value: float) -> Any:
        if value.is_integer() and abs(value) >= EXACT_FLOAT_INTS:
            # NUMERIC affinity would keep the binary value as an integer (2**62 for 4.611686018427388e18);
            # store the integer the float stands for (semantics.md, "Numbers").
            meaning = int(float_decimal(value))
            if in_int64(meaning):
                return meaning
        return value

    def json_int_limit(self) -> bool:
        return True

    def database_errors(self) -> tuple[type[BaseException], ...]:
        import sqlite3

        return (sqlite3.Error, *super().database_errors())

    @contextlib.contextmanager
    def atomic(self, conn: Any) -> Iterator[None]:
        autocommit = getattr(conn, "autocommit", None) is True or (
            getattr(conn, "isolation_level", "") is None and not conn.in_transaction
        )
        # Python's sqlite3 (legacy transaction control): a SAVEPOINT outside a transaction would start one
        # that RELEASE commits; BEGIN first, so that the caller commits.
        if not autocommit and not getattr(conn, "in_transaction", True):
            conn.execute("BEGIN")
        with super().atomic(conn):
            yield


def _json_types(vtype: str) -> str:
    return {"number": "'integer', 'real'", "boolean": "'true', 'false'"}.get(vtype, "'text'")


def _typed(x: str, int_sql: str, int_params: tuple[Any, ...], real: tuple[str, tuple[Any, ...]]) -> Frag:
    """``CASE`` on SQLite's storage class: integers by ``int_sql``, reals by ``x <real>`` (or false)."""
    real_sql = f"{x} {real[0]}" if real[0] else "FALSE"
    sql = f"CASE WHEN typeof({x}) = 'integer' THEN {int_sql} ELSE {real_sql} END"
    return Frag(sql, int_params + real[1])


register_dialect(SQLite.name, SQLite)


def json_each_domain(source: str, *, alias: str, aux: str, listy: bool, array: str, on: str = "") -> str:
    """The domain of a custom property for SQLite and the dialects with its ``json_each`` (rows
    with ``key``, ``value`` and ``type``): a derived table ``alias(v, t)`` over the property ``?`` of the
    JSON object ``source``, one row with null where it is missing; with ``listy``, one row per element
    of a JSON array (whose ``type`` the dialect spells ``array``; ``on`` is the join condition its second
    ``json_each`` needs, if any) and the value itself otherwise.  ``aux`` prefixes the inner aliases."""
    p, e = f'"{aux}p"', f'"{aux}e"'
    if not listy:
        return (
            f'(SELECT {p}.value AS v, {p}.type AS t FROM (SELECT 1) AS "{aux}d" '
            f"LEFT JOIN json_each({source}) AS {p} ON {p}.key = ?) AS {alias}"
        )
    return (
        f"(SELECT CASE WHEN {p}.type = '{array}' THEN {e}.value ELSE {p}.value END AS v, "
        f"CASE WHEN {p}.type = '{array}' THEN {e}.type ELSE {p}.type END AS t "
        f'FROM (SELECT 1) AS "{aux}d" '
        f"LEFT JOIN json_each({source}) AS {p} ON {p}.key = ? "
        f"LEFT JOIN json_each(CASE WHEN {p}.type = '{array}' THEN {p}.value END) AS {e}{on}) AS {alias}"
    )
