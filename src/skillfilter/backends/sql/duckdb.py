"""The DuckDB dialect (the ``duckdb`` package; parameters ``?``), over the same mapped tables as SQLite and
PostgreSQL.

DuckDB compares a ``BIGINT`` with a ``DOUBLE`` through doubles (``2^53 + 1 > 2.0^53`` is false there), so a
``number`` field is stored as ``UNION(i BIGINT, f DOUBLE)`` (an integer stays an integer, a float a float)
and each comparison is exact on each side: integers with integers (a float literal by the integer bounds of
the decimal it stands for), doubles with doubles (an integer literal through its nearest double, except where
that double stands for another number: then as that number, decided while writing the SQL).  ``integer``
fields are ``BIGINT``.  Text compares by code point (``COLLATE "binary"``, whatever the database's default
collation); ``contains``,
``starts_with`` and ``suffix`` are exact.  Dates are ``DATE``; datetimes are text in one fixed format (UTC,
microseconds), so that text order is time order.  Custom properties are ``JSON``, read with ``json_each``.

``skillfilter_fold`` is a macro created by :meth:`DuckDB.install_functions`: DuckDB's ``upper()`` except on
the code points where it differs from rule 5 (``ß`` to ``ẞ`` among them, checked one by one against this
Python), where ``translate()`` over the whole table applies (slow, exact, only for text holding one).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any, ClassVar

from ...semantics.values import float_decimal, fold_table, in_int64
from .dialect import FOLD_FUNCTION, SQL_OPS, Dialect, beyond_int64, real_side, register_dialect
from .fragments import FALSE, Frag, paren
from .sqlite import json_each_domain

__all__ = ["DuckDB"]

#: The storage of a ``number`` field (and of a number read from JSON): integers and doubles apart.
NUMBER = "UNION(i BIGINT, f DOUBLE)"
#: Rows per ``INSERT`` of :meth:`DuckDB.insert_rows`.
_BULK_ROWS = 100_000
#: ``json_type`` names of JSON integers.
_JSON_INTS = "'BIGINT', 'UBIGINT'"
#: The body of ``skillfilter_fold`` for this DuckDB version (checking ``upper()`` takes a moment).
_FOLD_BODIES: dict[str, str] = {}


class DuckDB(Dialect):
    name = "duckdb"
    connection_modules = ("duckdb", "_duckdb")
    label = "DuckDB"
    temporal_as_text = frozenset({"datetime"})
    description = "duckdb (parameters `?`)"
    placeholder = "?"
    binary = '"binary"'
    #: DuckDB plans n correlated ``EXISTS`` in about n^3 time (0.5 s at 50 filter comparisons, 30 s at 200);
    #: one subquery per relation prefix is planned in linear time.
    combine_exists_from = 8
    storage_types: ClassVar[dict[str, str]] = {
        "text": "VARCHAR", "integer": "BIGINT", "number": NUMBER, "boolean": "BOOLEAN", "date": "DATE",
        "datetime": "VARCHAR", "json": "JSON", "key": "BIGINT",
    }

    # -- comparisons ---------------------------------------------------------------------------------
    def text(self, x: str, kind: str, value: str, ci: bool) -> Frag:
        x = f"{FOLD_FUNCTION}({x})" if ci else paren(x)
        if kind in SQL_OPS:  # by code point whatever the database's default collation
            return Frag(f'{x} COLLATE "binary" {SQL_OPS[kind]} ?', (value,))
        function = {"contains": "contains", "startswith": "starts_with", "endswith": "suffix"}[kind]
        return Frag(f"{function}({x}, ?)", (value,))

    def number(self, x: str, kind: str, value: Any, storage: str = "number") -> Frag:
        """``x <kind> value`` by decimal value; ``x`` a ``BIGINT`` (``integer``) or a :data:`NUMBER`."""
        if storage == "integer":
            sql, params = _integer_side(x, kind, value)
            if sql == "TRUE":  # every integer: every value that is not null
                return Frag(f"{x} IS NOT NULL")
            return FALSE if sql == "FALSE" else Frag(sql, params)
        i, f = f"union_extract({x}, 'i')", f"union_extract({x}, 'f')"
        int_sql, int_params = _integer_side(i, kind, value)
        if isinstance(value, int):
            op, real_params = real_side(kind, value)
            real_sql = f"{f} {op}" if op else "FALSE"
        else:
            real_sql, real_params = f"{f} {SQL_OPS[kind]} ?", (value,)
        return Frag(f"CASE union_tag({x}) WHEN 'i' THEN {int_sql} WHEN 'f' THEN {real_sql} END",
                    (*int_params, *real_params))

    def temporal(self, x: str, kind: str, value: Any, vtype: str) -> Frag:
        return Frag(f"{paren(x)} {SQL_OPS[kind]} ?", (self.param(value, vtype),))

    # -- custom properties (JSON) ----------------------------------------------------------------------
    def cp_domain(self, owner: str, column: str, name: str, *, alias: str, aux: str,
                  listy: bool) -> tuple[str, tuple[Any, ...]]:
        source = f"{owner}.{self.ident(column)}"
        sql = json_each_domain(source, alias=alias, aux=aux, listy=listy, array="ARRAY", on=" ON TRUE")
        return sql, (name,)

    def cp_value(self, alias: str, vtype: str) -> str:
        return _json_as(f"{alias}.v", f"{alias}.t", vtype)

    def cp_isnull(self, alias: str) -> str:
        return f"coalesce({alias}.t, 'NULL') = 'NULL'"

    def json_value(self, v: str, vtype: str) -> str:
        return _json_as(v, f"json_type({v})", vtype)

    def json_isnull(self, v: str) -> str:
        return f"coalesce(json_type({v}), 'NULL') = 'NULL'"

    # -- functions ----------------------------------------------------------------------------------
    def install_functions(self, conn: Any) -> None:
        """Create the macro ``skillfilter_fold`` in the database."""
        conn.execute(f"CREATE OR REPLACE MACRO {FOLD_FUNCTION}(s) AS {_fold_body(conn)}")

    def prepare_connection(self, conn: Any) -> None:
        found = conn.execute("SELECT count(*) FROM duckdb_functions() WHERE function_name = ?",
                             [FOLD_FUNCTION]).fetchone()
        if not found or not found[0]:
            self.install_functions(conn)

    def missing_function_hint(self) -> str:
        return "skillfilter.backends.sql.install_functions(conn) once for this database"

    # -- loading ------------------------------------------------------------------------------------
    def json_int_limit(self) -> bool:
        return True

    def insert_rows(self, conn: Any, table: str, columns: list[str], rows: list[list[Any]]) -> None:
        """Column by column: each column one list parameter, ``unnest``-ed (one statement per
        :data:`_BULK_ROWS` rows; binding a parameter per value, or ``executemany``, runs at about 1,000 rows
        a second).  A ``number`` column (:data:`NUMBER`) goes as two lists, its integers and its floats, so
        that an integer stays an integer and a float a float."""
        types = {str(r[0]): str(r[1]) for r in conn.execute(f"DESCRIBE {self.quote(table)}").fetchall()}
        cols = ", ".join(self.quote(c) for c in columns)
        for start in range(0, len(rows), _BULK_ROWS):
            chunk = rows[start:start + _BULK_ROWS]
            sources: list[str] = []
            values: list[str] = []
            params: list[list[Any]] = []
            for n, column in enumerate(columns):
                ctype = types.get(column, "VARCHAR")
                data = [r[n] for r in chunk]
                if ctype.replace(" ", "") == NUMBER.replace(" ", ""):
                    ints = [v if isinstance(v, int) else None for v in data]
                    floats = [v if isinstance(v, float) else None for v in data]
                    sources += [f"unnest(?::BIGINT[]) AS c{n}i", f"unnest(?::DOUBLE[]) AS c{n}f"]
                    params += [ints, floats]
                    values.append(f"CASE WHEN c{n}i IS NOT NULL THEN CAST(c{n}i AS {NUMBER}) "
                                  f"WHEN c{n}f IS NOT NULL THEN CAST(c{n}f AS {NUMBER}) END")
                else:
                    sources.append(f"unnest(?::{ctype}[]) AS c{n}")
                    params.append(data)
                    values.append(f"c{n}")
            conn.execute(f"INSERT INTO {self.quote(table)} ({cols}) SELECT {', '.join(values)} "
                         f"FROM (SELECT {', '.join(sources)})", params)

    def database_errors(self) -> tuple[type[BaseException], ...]:
        import duckdb

        return (duckdb.Error, *super().database_errors())

    @contextlib.contextmanager
    def atomic(self, conn: Any) -> Iterator[None]:
        """A transaction of its own, committed at the end (DuckDB has no savepoints); inside a transaction
        of the caller's, that one (and undoing a failed load is the caller's rollback)."""
        import duckdb

        try:
            conn.execute("BEGIN TRANSACTION")
        except duckdb.TransactionException:
            yield
            return
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")


def _json_as(v: str, t: str, vtype: str) -> str:
    """The JSON value ``v`` (of ``json_type`` ``t``) as SQL of ``vtype`` when of that kind, else NULL."""
    if vtype == "number":
        return (f"CASE WHEN {t} IN ({_JSON_INTS}) THEN CAST(TRY_CAST({v} AS BIGINT) AS {NUMBER}) "
                f"WHEN {t} = 'DOUBLE' THEN CAST(TRY_CAST({v} AS DOUBLE) AS {NUMBER}) END")
    if vtype == "boolean":
        return f"CASE WHEN {t} = 'BOOLEAN' THEN TRY_CAST({v} AS BOOLEAN) END"
    return f"CASE WHEN {t} = 'VARCHAR' THEN {v} ->> '$' END"


def _integer_side(x: str, kind: str, value: Any) -> tuple[str, tuple[Any, ...]]:
    """``x <kind> value`` for a 64-bit integer ``x``, exactly: by integers only."""
    if isinstance(value, float):
        if math.isinf(value):
            holds = {"exact": False, "gt": value < 0, "gte": value < 0, "lt": value > 0, "lte": value > 0}
            return ("TRUE" if holds[kind] else "FALSE"), ()
        meaning = float_decimal(value)
        if meaning != meaning.to_integral_value():
            # x is an integer, the literal is not: x > m <=> x > floor(m); x < m <=> x <= floor(m)
            if kind == "exact":
                return "FALSE", ()
            floor = int(meaning.to_integral_value(rounding="ROUND_FLOOR"))
            kind = "gt" if kind in ("gt", "gte") else "lte"
            value = floor
        else:
            value = int(meaning)
    elif isinstance(value, Decimal):  # pragma: no cover - literals are int or float
        value = int(value) if value == value.to_integral_value() else float(value)
        return _integer_side(x, kind, value)
    if not in_int64(value):
        return beyond_int64(kind, value), ()
    return f"{x} {SQL_OPS[kind]} ?", (value,)


def _regex_class(chars: Iterable[str]) -> str:
    return "[" + "".join(f"\\x{{{ord(c):04X}}}" for c in sorted(chars)) + "]"


def _fold_body(conn: Any) -> str:
    import duckdb

    from .functions import fold_differences

    found = _FOLD_BODIES.get(duckdb.__version__)
    if found is not None:
        return found
    src, dst = fold_table()
    assert "'" not in src + dst
    rows = conn.execute(
        "SELECT cp, u FROM (SELECT cp, chr(CAST(cp AS INTEGER)) AS c, upper(chr(CAST(cp AS INTEGER))) AS u "
        "FROM (SELECT * FROM range(1, 55296) UNION ALL SELECT * FROM range(57344, 1114112)) AS t(cp)) "
        "WHERE u <> c"
    ).fetchall()
    differ = fold_differences({chr(int(cp)): u for cp, u in rows})
    body = "upper(s)"
    if differ:
        body = (f"CASE WHEN regexp_matches(s, '{_regex_class(differ)}') THEN translate(s, '{src}', '{dst}') "
                "ELSE upper(s) END")
    _FOLD_BODIES[duckdb.__version__] = body
    return body


register_dialect(DuckDB.name, DuckDB)
