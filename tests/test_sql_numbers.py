"""Numbers in SQL answer exactly as ``predicate()``: by the decimal value each number means.

A ``float`` means its shortest ``repr`` (``Decimal(repr(f))``), an ``int`` itself (docs/semantics.md,
"Numbers").  SQLite compares INTEGER with REAL by binary value, so the double 2**63 (which means
9223372036854776000) would equal the integer 2**63 there; the SQL must not.  Data and literals here are the
hostile kinds: integers around 2**53, 2**63, 2**64 and far beyond, 17-digit doubles, integral doubles whose
meaning differs from their binary value, the extremes of the doubles' range, -0.0 and infinities; in typed
number and integer fields and in typed and untyped custom properties, stored in a JSON column and in a table
of rows, on SQLite and on a real PostgreSQL server (``postgres_dsn`` fixture, tests/conftest.py).
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillfilter import And, Comparison, CustomProperty, Expr, FieldRef, Not, Or
from skillfilter.backends.python import predicate
from skillfilter.backends.sql import register_functions, to_sql
from skillfilter.backends.sql.load import LoadError, create_tables, load_records
from skillfilter.errors import FilterError
from skillfilter.semantics.schema import Schema

SCHEMA = Schema.from_dict({"entities": {"n": {
    "fields": {"x": "number", "i": "integer"},
    "relations": {"parts": {"entity": "p", "many": True}},
    "custom_properties": {"definitions": {"t": "number"}},
}, "p": {"fields": {"w": "number"}}}})
ENTITY = "n"
TABLE_STYLE = {"": {"custom_properties": {"table": "cp rows", "link": "owner", "name": "prop", "value": "val"}}}

INTS = [
    0, 1, -1, 7, 2**53 - 1, 2**53, 2**53 + 1, -(2**53) - 1, 2**60, 2**60 + 24, 1152921504606847000,
    1152921504606846990, 2**63 - 1, -(2**63), -(2**63) + 1, 9223372036854775000, 9223372036854774784,
    9223372036854776000, 2**63, -(2**63) - 1, 2**64, 2**64 + 1, -(2**64), 10**19, 10**23, 99999999999999991611392,
    10**30, 2**1024, 2**1024 + 1, -(10**400), 10**308, 17976931348623157 * 10**292,
]
FLOATS = [
    0.0, -0.0, 0.5, -0.5, 0.1, 0.30000000000000004, 123456789.12345679, 1e16, 2.0**53, 2.0**53 + 2,
    9007199254740993.0, 2.0**60, 1.152921504606847e18, 9.223372036854775e18, 2.0**63, -(2.0**63), 2.0**64,
    1e19, -1e19, 1.2345678901234567e19, 1e23, -1e23, 1e308, 1.7976931348623157e308, -1.7976931348623157e308,
    5e-324, -5e-324, 2.2250738585072014e-308, math.inf, -math.inf,
]
VALUES: list[Any] = INTS + FLOATS
EXTRA_LITERALS: list[Any] = [2**63 + 1, 10**400, -(2**1024) - 1, 4.0, 3]


def slots(v: Any) -> list[dict[str, Any]]:
    """One record per place a number can be: each engine keeps those its loader accepts."""
    return [
        {"x": v}, {"i": v}, {"parts": [{"w": v}, {"w": None}]},
        {"custom_properties": {"t": v}}, {"custom_properties": {"u": v}},
        {"custom_properties": {"u": [v, "a"]}}, {"custom_properties": [{"property_name": "t", "property_value": v}]},
    ]


RECORDS = [r for v in VALUES for r in slots(v)] + [{}, {"x": None, "custom_properties": {"t": None}}]


class Db:
    """Records loaded into one engine (those the loader accepts), with their keys."""

    def __init__(self, engine: str, conn: Any, mapping: dict[str, Any] | None, indexed: bool = False) -> None:
        self.engine, self.conn, self.mapping = engine, conn, mapping
        if indexed:
            self.mapping = {"": {"custom_properties_indexed": True}}
        create_tables(conn, SCHEMA, ENTITY, mapping)
        self.records: list[dict[str, Any]] = []
        self.keys: list[Any] = []
        self.refused = 0

    def load(self, records: list[dict[str, Any]]) -> None:
        for r in records:
            try:
                (key,) = load_records(self.conn, [r], SCHEMA, ENTITY, self.mapping)
            except LoadError:
                self.refused += 1
                continue
            self.records.append(r)
            self.keys.append(key)

    def check(self, expr: Expr) -> None:
        try:
            test = predicate(expr, schema=SCHEMA, entity=ENTITY)
        except FilterError:
            with pytest.raises(FilterError):
                to_sql(expr, dialect=self.engine, schema=SCHEMA, entity=ENTITY, mapping=self.mapping)
            return
        want = {k for k, r in zip(self.keys, self.records, strict=True) if test(r)}
        sql, params = to_sql(expr, dialect=self.engine, schema=SCHEMA, entity=ENTITY, mapping=self.mapping,
                             select=True)
        got = [row[0] for row in self.conn.execute(sql, params).fetchall()]
        assert len(got) == len(set(got))
        assert set(got) == want, (self.engine, self.mapping, expr, sql, params)


def sqlite_conn() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    register_functions(conn)
    return conn


@pytest.fixture(scope="module")
def dbs(pg_connect: Callable[..., Any]) -> list[Db]:
    out = [Db("sqlite", sqlite_conn(), None), Db("sqlite", sqlite_conn(), TABLE_STYLE),
           Db("postgresql", pg_connect(), None), Db("postgresql", pg_connect(), TABLE_STYLE)]
    for db in out:
        db.load(RECORDS)
    # the same data, with `cp_t=...` written as JSON containment (the GIN-indexed form)
    indexed = Db("postgresql", pg_connect(), None, indexed=True)
    indexed.load(RECORDS)
    return [*out, indexed]


# --------------------------------------------------------------------------------------------------
# literals and filters
# --------------------------------------------------------------------------------------------------
def neighbours(v: Any) -> st.SearchStrategy[Any]:
    """Numbers next to ``v``: the next integers, the adjacent doubles, ``v`` as the other type."""
    if isinstance(v, int):
        near: list[Any] = [v - 1, v + 1, v - 1000, v + 1000]
        try:
            f = float(v)
            near += [f, math.nextafter(f, math.inf), math.nextafter(f, -math.inf)]
        except OverflowError:
            pass
        return st.sampled_from(near)
    near = [math.nextafter(v, math.inf), math.nextafter(v, -math.inf)]
    if math.isfinite(v):
        near += [int(v), int(v) + 1, int(v) - 1, int(repr_int(v))]
    return st.sampled_from(near)


def repr_int(f: float) -> int:
    """The integer a double's shortest form means (its integer part)."""
    from decimal import Decimal

    return int(Decimal(repr(f)))


HOSTILE = st.one_of(st.sampled_from(VALUES + EXTRA_LITERALS), st.sampled_from(VALUES).flatmap(neighbours))
NUMBERS = st.one_of(
    HOSTILE,
    HOSTILE,
    st.floats(allow_nan=False),
    st.integers(-(2**70), 2**70),
    st.integers(-(2**64), 2**64).map(lambda n: n * 1000),
)
TARGETS = [FieldRef(("x",)), FieldRef(("i",)), FieldRef(("parts", "w")), CustomProperty("t"), CustomProperty("u")]
OPS = ["exact", "gt", "gte", "lt", "lte"]


@st.composite
def comparisons(draw: st.DrawFn, numbers: st.SearchStrategy[Any] = NUMBERS) -> Comparison:
    return Comparison(draw(st.sampled_from(TARGETS)), draw(st.sampled_from(OPS)), draw(numbers))


def filters(numbers: st.SearchStrategy[Any] = NUMBERS) -> st.SearchStrategy[Expr]:
    return st.recursive(
        comparisons(numbers),
        lambda children: st.one_of(
            st.lists(children, min_size=2, max_size=3).map(lambda xs: And.of(*xs)),
            st.lists(children, min_size=2, max_size=3).map(lambda xs: Or.of(*xs)),
            children.map(Not),
        ),
        max_leaves=4,
    )


@st.composite
def data_and_filters(draw: st.DrawFn) -> tuple[list[Any], Expr]:
    data = draw(st.lists(st.one_of(HOSTILE, HOSTILE, HOSTILE, st.floats(allow_nan=False), st.integers()),
                         min_size=1, max_size=6))
    near = st.sampled_from(data).flatmap(lambda v: st.one_of(st.just(v), neighbours(v)))
    expr = draw(filters(st.one_of(near, near, near, NUMBERS)))
    literal = draw(near)
    # and the literal next to the data in every comparison
    single = [Comparison(t, op, literal) for t in TARGETS for op in OPS]
    return data, And.of(expr, Or.of(*single)) if draw(st.booleans()) else Or.of(expr, *single)


SETTINGS = settings(max_examples=max(150, (settings.default.max_examples or 25) * 6), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


# --------------------------------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------------------------------
@pytest.mark.postgres
def test_loaders_store_what_numbers_mean(dbs: list[Db]) -> None:
    """Most of the data is stored (the rest refused with LoadError); an integral double is stored as the
    number it means (SQLite's NUMERIC column would keep the double 2**60 as 1152921504606846976)."""
    for db in dbs:
        assert len(db.records) > len(RECORDS) // 2, (db.engine, db.refused)
    for db in dbs[:4]:
        for v in (2.0**60, 9.223372036854775e18, 1e16):
            key = next(k for k, r in zip(db.keys, db.records, strict=True)
                       if list(r) == ["x"] and type(r["x"]) is float and r["x"] == v)  # not the int 2**60
            placeholder = "?" if db.engine == "sqlite" else "%s"
            (stored,) = db.conn.execute(f'SELECT "x" FROM "n" WHERE "id" = {placeholder}', [key]).fetchone()
            assert stored == repr_int(v) and str(int(stored)) == str(repr_int(v)), (db.engine, v, stored)


@pytest.mark.postgres
@pytest.mark.parametrize("target", TARGETS, ids=str)
@pytest.mark.parametrize("op", OPS)
def test_every_data_value_as_a_literal(dbs: list[Db], target: Any, op: str) -> None:
    """Each stored number, and each number next to it, as the literal of every operator."""
    literals: list[Any] = [*VALUES, *EXTRA_LITERALS]
    for v in VALUES:
        if isinstance(v, int):
            literals += [v - 1, v + 1]
        elif math.isfinite(v):
            literals += [math.nextafter(v, math.inf), math.nextafter(v, -math.inf), repr_int(v), int(v)]
    for lit in literals:
        for expr in (Comparison(target, op, lit), Not(Comparison(target, op, lit))):
            for db in dbs:
                db.check(expr)


@pytest.mark.postgres
@SETTINGS
@given(expr=filters())
def test_sql_agrees_with_predicate_on_numbers(dbs: list[Db], expr: Expr) -> None:
    for db in dbs:
        db.check(expr)


@pytest.mark.postgres
@settings(max_examples=max(60, (settings.default.max_examples or 25) * 3), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=data_and_filters())
def test_generated_data_and_literals(pg_connect: Callable[..., Any], case: tuple[list[Any], Expr]) -> None:
    """Numbers drawn for the data as well as for the literals (often the data's own, or next to them), on
    fresh databases."""
    data, expr = case
    records = [r for v in data for r in slots(v)]
    dbs = [Db("sqlite", sqlite_conn(), None), Db("sqlite", sqlite_conn(), TABLE_STYLE)]
    for db in dbs:
        db.load(records)
        db.check(expr)
    pg = _pg_scratch(pg_connect)
    for mapping in (None, TABLE_STYLE):
        pg.execute('DROP TABLE IF EXISTS "n", "n__parts", "cp rows" CASCADE')
        db = Db("postgresql", pg, mapping)
        db.load(records)
        db.check(expr)


_PG: list[Any] = []


def _pg_scratch(pg_connect: Callable[..., Any]) -> Any:
    if not _PG:
        _PG.append(pg_connect())
    return _PG[0]


@pytest.mark.postgres
def test_the_examples_of_the_rule(dbs: list[Db]) -> None:
    """The cases that were wrong: the double 2**63 is not the integer 2**63; the double 2**60 means
    1152921504606847000; a literal double beyond 2**53 means its shortest form against stored integers."""
    cases = [
        Comparison(FieldRef(("x",)), "exact", 2**63),
        Comparison(FieldRef(("x",)), "gt", 2**63),
        Comparison(FieldRef(("x",)), "exact", 2**60),
        Comparison(FieldRef(("x",)), "exact", 1152921504606847000),
        Comparison(FieldRef(("i",)), "exact", 1152921504606847000),
        Comparison(FieldRef(("x",)), "lt", 2.0**60),
        Comparison(FieldRef(("i",)), "gte", 9.223372036854775e18),
        Comparison(CustomProperty("u"), "exact", 2**63),
        Comparison(CustomProperty("t"), "lte", 2**60),
        Comparison(FieldRef(("x",)), "exact", 1e23),
        Comparison(FieldRef(("x",)), "lt", -(2**63)),
        Comparison(CustomProperty("u"), "gt", 10**400),
    ]
    for expr in cases:
        for db in dbs:
            db.check(expr)
    # and the answers themselves, on the records holding one number in `x`
    lite = dbs[0]
    sql, params = to_sql("x=9223372036854775808", schema=SCHEMA, entity=ENTITY, select=True)
    got = {lite.records[lite.keys.index(k)].get("x") for (k,) in lite.conn.execute(sql, params)}
    assert got == set()  # not the double 2**63 (9223372036854776000)
    sql, params = to_sql("x=9223372036854776000", schema=SCHEMA, entity=ENTITY, select=True)
    got = {lite.records[lite.keys.index(k)].get("x") for (k,) in lite.conn.execute(sql, params)}
    assert got == {2.0**63}  # the integer 9223372036854776000 does not fit SQLite
