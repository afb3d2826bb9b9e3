"""Differential tests of the SQLAlchemy integration: rows selected through SQLAlchemy engines == ``predicate()``.

The data sets, their loading into SQLite and PostgreSQL, and the filter generators are those of the SQL
backend's differential suite (tests/test_sql_differential.py, imported): the same records and filters, the
statements built with :func:`to_sqlalchemy` and run through SQLAlchemy ``Engine`` objects (``pysqlite`` and
``psycopg``) over the very connections ``to_sql`` is checked on.  On SQLite the condition brings its own
table (``cond.table``); on PostgreSQL the tables are the application's (:func:`build_tables`, passed as
``tables=``).
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given

from skillfilter import And, Comparison, CustomProperty, Expr, FieldRef, Not, Or, parse
from skillfilter.backends.sql.mapping import SchemaMapping
from test_sql_differential import (  # noqa: F401 - `loaded` and `pg_schema` are fixtures used here
    BIG_INTS,
    INT_POOL,
    SCOPE_FILTERS,
    SETTINGS,
    STYLED,
    Loaded,
    comparisons,
    filters,
    loaded,
    pg_schema,
    random_comparison,
    targets,
)

sa = pytest.importorskip("sqlalchemy")

from sqlalchemy.pool import StaticPool  # noqa: E402

from skillfilter.integrations.sqlalchemy import build_tables, to_sqlalchemy  # noqa: E402

pytestmark = pytest.mark.postgres


class Engines:
    """SQLAlchemy engines over one loaded data set's SQLite and PostgreSQL connections."""

    def __init__(self, data: Loaded) -> None:
        self.data = data
        lite, pg = data.sqlite, data.pg
        self.sqlite = sa.create_engine("sqlite://", creator=lambda: lite, poolclass=StaticPool)
        self.pg = sa.create_engine("postgresql+psycopg://", creator=lambda: pg, poolclass=StaticPool)
        self.mapping = SchemaMapping(data.schema, data.entity, data.mapping)
        self.indexed = self.mapping.with_overrides({"": {"custom_properties_indexed": True}})
        self.tables = build_tables(self.mapping, sa.MetaData())

    def statement(self, engine: str, expr: Expr) -> Any:
        if engine == "sqlite":
            cond = to_sqlalchemy(expr, mapping=self.mapping)
            return sa.select(cond.table.c[self.mapping.root.key]).where(cond)
        mapping = self.indexed if engine == "postgresql-indexed" else self.mapping
        root = self.tables[mapping.root.table]
        cond = to_sqlalchemy(expr, mapping=mapping, tables=self.tables)
        return sa.select(root.c[mapping.root.key]).where(cond)

    def run(self, engine: str, expr: Expr) -> set[Any]:
        stmt = self.statement(engine, expr)
        with (self.sqlite if engine == "sqlite" else self.pg).connect() as conn:
            keys = [r[0] for r in conn.execute(stmt)]
        assert len(keys) == len(set(keys)), "a key selected twice"
        return set(keys)

    def check(self, expr: Expr) -> None:
        want = self.data.expected(expr)
        engines = ["sqlite", "postgresql"]
        if self.data.style == "json" and any(isinstance(c.target, CustomProperty) for c in expr.comparisons()):
            engines.append("postgresql-indexed")
        for engine in engines:
            got = self.run(engine, expr)
            if got != want:
                stmt = self.statement(engine, expr)
                dialect = (self.sqlite if engine == "sqlite" else self.pg).dialect
                compiled = stmt.compile(dialect=dialect)
                raise AssertionError(f"{engine}: extra {sorted(got - want)[:10]}, missing "
                                     f"{sorted(want - got)[:10]}\nSQL: {compiled}\nparams: {compiled.params!r}")


@pytest.fixture(scope="module")
def engines(loaded: dict[tuple[str, str, str], Loaded]) -> dict[tuple[str, str, str], Engines]:  # noqa: F811
    return {k: Engines(v) for k, v in loaded.items()}


@pytest.mark.parametrize("dataset", STYLED, ids="-".join)
def test_sqlalchemy_selects_what_predicate_selects(engines: dict[tuple[str, str, str], Engines],
                                                   dataset: tuple[str, str, str]) -> None:
    e = engines[dataset]

    @SETTINGS
    @given(filters(e.data.schema, e.data.entity))
    def run(expr: Expr) -> None:
        e.check(expr)

    run()


@pytest.mark.parametrize("style", ["json", "table"])
@pytest.mark.parametrize("text", SCOPE_FILTERS)
def test_scope_examples(engines: dict[tuple[str, str, str], Engines], text: str, style: str) -> None:
    engines[("export", "employees", style)].check(parse(text))


#: Values that are SQL or driver syntax somewhere: quotes, LIKE wildcards, escapes, every placeholder style
#: (sqlite3's ``?``, psycopg's ``%s``/``%(x)s``, SQLAlchemy's ``:name``, PostgreSQL's ``$1``), non-ASCII.
HOSTILE = ["'", "''", '"', "\\", "%", "_", "%%", "%s", "%(x)s", "?", "??", ":name", ":1", "$1", "$$",
           "a'b", "E'\\\\'", "x'FF'", "--", "/*", "ß", "ẞ", "İ", "😀", "a%_\\b", "\u2028", "%\\_", "DROP"]


@pytest.mark.parametrize("dataset", [("export", "employees", "json"), ("export", "employees", "table"),
                                     ("typed", "people", "json")], ids="-".join)
def test_hostile_values(engines: dict[tuple[str, str, str], Engines], dataset: tuple[str, str, str]) -> None:
    """Every text operator with every hostile value on every text field (and custom property); integers
    beyond 2**53 and 2**63 on every number field."""
    e = engines[dataset]
    schema, entity = e.data.schema, e.data.entity
    rnd = random.Random(11)
    exprs: list[Expr] = []
    for target, type_name, (ent, fld) in targets(schema, entity):
        ops = schema.allowed_operators(ent, type_name, fld)
        if type_name in ("text", "list[text]") or (type_name is None and isinstance(target, CustomProperty)):
            text_ops = [o for o in ops if schema.operators_for(ent)[o].kind != "is_null"
                        and "text" in schema.operators_for(ent)[o].kinds]
            exprs += [Comparison(target, rnd.choice(text_ops), v) for v in HOSTILE]
        if type_name in ("integer", "number") or type_name is None:
            num_ops = [o for o in ops if schema.operators_for(ent)[o].kind in ("exact", "gt", "gte", "lt", "lte")
                       and "number" in schema.operators_for(ent)[o].kinds]
            exprs += [Comparison(target, rnd.choice(num_ops), v)
                      for v in [2**53 + 1, -(2**53) - 1, 2**63 - 1, 2**63, -(2**63) - 1, *BIG_INTS]]
    assert len(exprs) > 50
    for i in range(0, len(exprs), 6):
        group = exprs[i:i + 6]
        e.check(Or.of(*group) if len(group) > 1 else group[0])
        e.check(Not(And.of(*group) if len(group) > 1 else group[0]))


def test_big_filter(engines: dict[tuple[str, str, str], Engines]) -> None:
    """A filter of 600 comparisons (hundreds of bound parameters)."""
    e = engines[("typed", "people", "json")]
    rnd = random.Random(5)
    choices = targets(e.data.schema, e.data.entity)
    picks = [random_comparison(rnd, e.data.schema, choices) for _ in range(600)]
    expr = And.of(*(Or.of(*picks[i:i + 5]) for i in range(0, 600, 5)))
    e.check(expr)
    e.check(Not(expr))


def test_negation_is_the_filters_not(engines: dict[tuple[str, str, str], Engines]) -> None:
    """``~cond`` is the filter's own ``not`` (two-valued), not SQL's three-valued ``NOT``: the records where a
    field is null are in ``~cond`` exactly when ``not`` accepts them."""
    e = engines[("export", "employees", "json")]
    data = e.data
    leaves = comparisons(data.schema, data.entity)

    @SETTINGS
    @given(leaves)
    def run(c: Comparison) -> None:
        cond = to_sqlalchemy(c, mapping=e.mapping)
        table = cond.table
        for engine in (e.sqlite, e.pg):
            with engine.connect() as conn:
                got = {r[0] for r in conn.execute(sa.select(table.c.id).where(~cond))}
            assert got == data.expected(Not(c))

    run()
    assert INT_POOL  # the pools are shared with the SQL suite


def test_first_field_nulls(engines: dict[tuple[str, str, str], Engines]) -> None:
    for e in engines.values():
        first = FieldRef((next(iter(e.data.schema.entities[e.data.entity].fields)),))
        absent = e.data.expected(Comparison(first, "is_null", True))
        assert e.run("sqlite", Comparison(first, "is_null", True)) == absent
        assert e.run("postgresql", Not(Comparison(first, "is_null", True))) == set(e.data.keys) - absent
