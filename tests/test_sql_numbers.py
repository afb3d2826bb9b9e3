"""Numbers on SQL engines answer as ``predicate()`` does: by the decimal value written (docs/semantics.md,
"Numbers"), where a float stands for its shortest form.

SQLite compares integers and reals by binary value; near integers beyond 2**53 the two rules part (the float
``9.223372036854776e18`` is exactly ``2**63`` in binary, but stands for 9223372036854776000), so the SQL has a
form of its own there.  Data and literals are drawn from numbers around those edges.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillfilter import predicate, to_sql
from skillfilter.ast import Comparison, CustomProperty, Expr, FieldRef, Not
from skillfilter.backends.sql import execute
from skillfilter.backends.sql_load import create_tables, load_records
from skillfilter.schema import Schema
from test_sql import sqlite_db

SCHEMA = Schema.from_dict({"entities": {"n": {"fields": {"x": "number", "i": "integer"},
                                              "custom_properties": True}}})
EDGES = [2**53, 2**53 + 1, 2**62, 2**63 - 1, 2**63, 2**64, 10**16, 10**19, 10**22, 10**23, 10**30]
INTS = st.one_of(
    st.sampled_from([0, 1, -1, *EDGES, *(-e for e in EDGES)]),
    st.sampled_from(EDGES).flatmap(lambda e: st.integers(e - 3, e + 3)),
    st.integers(-(2**70), 2**70),
)
FLOATS = st.one_of(
    st.sampled_from([0.0, -0.0, 0.1, 0.5, 1e16, 1e19, 1e22, 1e23, 9.223372036854776e18, 1.8446744073709552e19,
                     9007199254740993.0, 1e308, 5e-324]),
    INTS.map(float),
    st.floats(allow_nan=False, allow_infinity=False),
)
NUMBERS = st.one_of(INTS.filter(lambda n: -(2**63) <= n < 2**63), FLOATS)
OPS = ("exact", "gt", "gte", "lt", "lte")


def _records(values: list[Any]) -> list[dict[str, Any]]:
    return [{"x": v, "i": v if isinstance(v, int) else None, "custom_properties": {"n": v}} for v in values] + [{}]


def _filters(literal: Any, op: str) -> list[Expr]:
    out: list[Expr] = []
    for target in (FieldRef(("x",)), FieldRef(("i",)), CustomProperty("n")):
        if target == FieldRef(("i",)) and isinstance(literal, float) and not literal.is_integer():
            continue  # not an integer: a validation error, not a comparison
        c = Comparison(target, op, literal)
        out += [c, Not(c)]
    return out


def _expected(expr: Expr, records: list[dict[str, Any]], keys: list[Any]) -> set[Any]:
    test = predicate(expr, schema=SCHEMA, entity="n")
    return {k for k, r in zip(keys, records) if test(r)}


_PG: dict[str, Any] = {}
SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@SETTINGS
@given(values=st.lists(NUMBERS, min_size=1, max_size=6), literal=st.one_of(INTS, FLOATS),
       op=st.sampled_from(OPS))
def test_sqlite_numbers_answer_as_predicate(values: list[Any], literal: Any, op: str) -> None:
    records = _records(values)
    conn, keys = sqlite_db(records, SCHEMA, "n")
    for expr in _filters(literal, op):
        sql, params = to_sql(expr, schema=SCHEMA, entity="n", select=True)
        assert {r[0] for r in conn.execute(sql, params)} == _expected(expr, records, keys), (expr, sql, params)


@pytest.mark.postgres
@SETTINGS
@given(values=st.lists(NUMBERS.filter(lambda v: v == v and abs(v) < 1e300), min_size=1, max_size=6),
       literal=st.one_of(INTS, FLOATS), op=st.sampled_from(OPS))
def test_postgresql_numbers_answer_as_predicate(pg_connect: Callable[..., Any], values: list[Any], literal: Any,
                                                op: str) -> None:
    records = _records(values)
    if "conn" not in _PG:
        _PG["conn"] = pg_connect(install=False)  # one connection: a fresh schema of its own per example
    conn = _PG["conn"]
    conn.execute("DROP SCHEMA IF EXISTS sf_numbers CASCADE")
    conn.execute("CREATE SCHEMA sf_numbers")
    conn.execute("SET search_path TO sf_numbers")
    create_tables(conn, SCHEMA, "n")
    keys = load_records(conn, records, SCHEMA, "n")
    for expr in _filters(literal, op):
        sql, params = to_sql(expr, dialect="postgresql", schema=SCHEMA, entity="n", select=True)
        got = {r[0] for r in execute(conn, sql, params)}
        assert got == _expected(expr, records, keys), (expr, sql, params)


@pytest.mark.parametrize(("datum", "literal", "op", "holds"), [
    (9.223372036854776e18, 2**63, "exact", False),   # the float stands for 9223372036854776000
    (9.223372036854776e18, 9223372036854776000, "exact", True),
    (9.223372036854776e18, 2**63, "gt", True),
    (1e23, 10**23, "exact", True),                   # binary 99999999999999991611392, decimal 10**23
    (2**63 - 1, 9.223372036854776e18, "lt", True),  # the float literal stands for 9223372036854776000
    (4611686018427387904, 4.611686018427388e18, "exact", False),  # 2**62 in binary, 4611686018427388000
])
def test_edges_on_sqlite(datum: Any, literal: Any, op: str, holds: bool) -> None:
    records = _records([datum])
    conn, keys = sqlite_db(records, SCHEMA, "n")
    expr = Comparison(FieldRef(("x",)), op, literal)
    assert predicate(expr, schema=SCHEMA, entity="n")(records[0]) is holds
    sql, params = to_sql(expr, schema=SCHEMA, entity="n", select=True)
    assert ({r[0] for r in conn.execute(sql, params)} == {keys[0]}) is holds
