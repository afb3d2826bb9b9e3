"""The PostgreSQL dialect (psycopg 3; parameters ``%s``).

Text compares by code point with ``COLLATE "C"`` whatever the database's collation; ``contains``/
``startswith``/``endswith`` are ``LIKE`` with ``\\``, ``%`` and ``_`` escaped and an explicit ``ESCAPE``.
Numbers are ``numeric`` (a float as its shortest decimal form); custom properties are ``jsonb``, compared by
containment (``@>``, which a GIN index serves) or read in place.  ``skillfilter_fold`` is an SQL function
created by :meth:`PostgreSQL.install_functions`.
"""

from __future__ import annotations

import contextlib
import decimal
import math
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from ...semantics.values import float_decimal
from .dialect import FOLD_FUNCTION, SQL_OPS, Dialect, like_pattern, register_dialect
from .fragments import AND, ATOM, FALSE, OR, Frag, paren

__all__ = ["PostgreSQL"]

#: Digits PostgreSQL's ``numeric`` holds before the decimal point.
_NUMERIC_DIGITS = 131_072
#: libc collations tried for PostgreSQL's fast ``upper()`` (per character ``towupper``), best first.
_LIBC_COLLATIONS = ("C.utf8", "C.UTF-8", "en_US.utf8", "en_US.UTF-8")


class PostgreSQL(Dialect):
    name = "postgresql"
    aliases = ("postgres", "pg", "psycopg")
    connection_modules = ("psycopg", "psycopg_pool")
    label = "PostgreSQL"
    description = "postgresql (psycopg's `%%s`)"
    placeholder = "%s"
    binary = '"C"'
    json_contains = True
    inline_cp = True
    text_holds_nul = False
    storage_types: ClassVar[dict[str, str]] = {
        "text": 'TEXT COLLATE "C"', "integer": "BIGINT", "number": "NUMERIC", "boolean": "BOOLEAN",
        "date": "DATE", "datetime": "TIMESTAMPTZ", "json": "JSONB", "key": "BIGINT",
    }
    _ESCAPE = "ESCAPE E'\\\\'"

    def ident(self, name: str) -> str:
        # psycopg reads `%` as the start of a placeholder anywhere in the text run with parameters.
        return self.quote(name).replace("%", "%%")

    def param(self, value: Any, vtype: str) -> Any:
        if vtype == "number" and isinstance(value, float):
            return float_decimal(value)
        return value

    def text(self, x: str, kind: str, value: str, ci: bool) -> Frag:
        x = f"{FOLD_FUNCTION}({x})" if ci else paren(x)
        if "\x00" in value:
            # PostgreSQL text cannot hold NUL: nothing stored equals or contains it; in code point order
            # a stored text is above p + NUL + r exactly when it is above p.
            prefix = value[: value.index("\x00")]
            if kind in ("gt", "gte"):
                return Frag(f'{x} COLLATE "C" > %s', (prefix,))
            if kind in ("lt", "lte"):
                return Frag(f'{x} COLLATE "C" <= %s', (prefix,))
            return FALSE
        if kind in SQL_OPS:
            return Frag(f'{x} COLLATE "C" {SQL_OPS[kind]} %s', (value,))
        return Frag(f'{x} COLLATE "C" LIKE %s {self._ESCAPE}', (like_pattern(kind, value),))

    # -- custom properties ---------------------------------------------------------------------------
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

    def json_equals(self, column: str, document: str) -> Frag:
        """Equality of ``jsonb`` keeps kinds apart and compares numbers as numbers, as the language does."""
        return Frag(f"{column} = CAST(%s AS jsonb)", (document,))

    def cp_text_equals(self, col: str, name: str, value: str) -> Frag:
        """The JSON object ``col`` maps ``name`` to the string ``value``: ``col ->> name = value``, and the
        value is a string unless ``value`` is a text no other kind of JSON value reads as (a number reads
        as ``-`` or a digit first, then ``true``, ``false``, ``[...]``, ``{...}``; null as NULL).  That test
        is on the parameter only, so the statement's shape does not depend on the value, and PostgreSQL
        folds it while planning with the parameters: for most texts only ``->>`` remains."""
        return Frag(
            f'({col} ->> CAST(%s AS text)) COLLATE "C" = %s AND (CAST(%s AS text) !~ \'^[-0-9[{{]\' '
            f"AND CAST(%s AS text) NOT IN ('true', 'false') "
            f"OR jsonb_typeof({col} -> CAST(%s AS text)) = 'string')",
            (name, value, value, value, name), AND)

    def cp_get(self, owner: str, column: str) -> str:
        return f"({owner}.{self.ident(column)} -> CAST(%s AS text))"

    def cp_get_text(self, owner: str, column: str) -> str:
        return f"({owner}.{self.ident(column)} ->> CAST(%s AS text))"

    def cp_contains(self, owner: str, column: str, documents: list[str]) -> Frag:
        col = f"{owner}.{self.ident(column)}"
        return Frag(" OR ".join(f"{col} @> %s::jsonb" for _ in documents), tuple(documents),
                    OR if len(documents) > 1 else ATOM)

    def cp_array_exists(self, source: str, alias: str, where: str) -> str:
        return f"EXISTS (SELECT 1 FROM jsonb_array_elements({source}) AS {alias}(v) WHERE {where})"

    def cp_empty_as_null(self, get: str) -> str:
        return f"CASE WHEN {get} = '[]'::jsonb THEN '[null]'::jsonb ELSE {get} END"

    def cp_kind(self, get: str) -> str:
        return f"jsonb_typeof({get})"

    # -- functions ----------------------------------------------------------------------------------
    def install_functions(self, conn: Any) -> None:
        """Create ``skillfilter_fold`` in the database (the first schema of the search path)."""
        for statement in _fold_statements(conn):
            conn.execute(statement)
        if not getattr(conn, "autocommit", False):
            conn.commit()

    # -- loading ------------------------------------------------------------------------------------
    def store_big_integer(self, value: int) -> Any:
        exact = decimal.Decimal(value)  # psycopg writes an int through str(): limited to 4,300 digits
        if exact.adjusted() + 1 > _NUMERIC_DIGITS:
            return (f"a number of {exact.adjusted() + 1} digits does not fit in PostgreSQL's numeric "
                    f"(at most {_NUMERIC_DIGITS:,} before the point)")
        return exact

    def store_float(self, value: float) -> Any:
        if math.isinf(value):
            return f"{value!r} cannot be stored as a number"
        return float_decimal(value)

    def store_json(self, value: Any, text: str) -> Any:
        from psycopg.types.json import Jsonb

        return Jsonb(value)

    def insert_rows(self, conn: Any, table: str, columns: list[str], rows: list[list[Any]]) -> None:
        cols = ", ".join(self.quote(c) for c in columns)
        statement = f"COPY {self.quote(table)} ({cols}) FROM STDIN"
        with conn.cursor() as cur, cur.copy(statement) as copy:
            for v in rows:
                copy.write_row(v)

    def database_errors(self) -> tuple[type[BaseException], ...]:
        import sqlite3

        import psycopg

        return (psycopg.Error, sqlite3.Error, *super().database_errors())

    @contextlib.contextmanager
    def atomic(self, conn: Any) -> Iterator[None]:
        if getattr(conn, "autocommit", False):
            with conn.transaction():
                yield
            return
        with super().atomic(conn):
            yield


def _regex_class(chars: Iterable[str]) -> str:
    """A regular expression bracket expression of ``chars`` (``\\uXXXX`` escapes, for PostgreSQL)."""
    escaped = (f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}" for c in sorted(chars))
    return "[" + "".join(escaped) + "]"


def _fold_statements(conn: Any) -> list[str]:
    """``CREATE FUNCTION skillfilter_fold``: ``upper()`` under a libc UTF-8 collation (C code, fast) for
    text without the characters where that differs from rule 5 (checked here, one by one, against this
    Python), and ``translate()`` over the whole table for text with them (slow, exact, rare)."""
    from .functions import fold_differences, fold_table

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
        differ = fold_differences({chr(cp): u for cp, u in changed})
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


register_dialect(PostgreSQL.name, PostgreSQL)
