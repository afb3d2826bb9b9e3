"""DuckDB in its combined shape (the tests through each relation prefix as columns of one subquery:
``Dialect.combine_exists_from``, :mod:`skillfilter.backends.sql.combine`), forced on every filter, over the
differential suite's data sets and generated filters: DuckDB's keys equal ``predicate()``'s.

By default DuckDB is written in that shape only from 8 subqueries on (tests/test_sql_differential.py covers
the plain shape, and large filters); here every filter, small ones included, goes through it.  DuckDB only
(no PostgreSQL needed)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest

from skillfilter import And, Or, parse
from skillfilter.language.ast import Expr
from test_sql_differential import (
    DATASETS,
    SCOPE_FILTERS,
    STYLED,
    Loaded,
    load_duckdb,
    load_sqlite,
    make_dataset,
    over_generated_filters,
    random_comparison,
    schema_of,
    targets,
)

pytest.importorskip("duckdb")


@pytest.fixture(scope="module")
def combined() -> Iterator[None]:
    from skillfilter.backends.sql.duckdb import DuckDB

    before = DuckDB.combine_exists_from
    DuckDB.combine_exists_from = 1
    try:
        yield
    finally:
        DuckDB.combine_exists_from = before


@pytest.fixture(scope="module")
def loaded(combined: None) -> dict[tuple[str, str, str], Loaded]:
    from test_sql_differential import CP_STYLES

    out = {}
    for schema_name, entity, style in STYLED:
        schema = schema_of(schema_name)
        records = make_dataset(schema_name, entity, DATASETS[(schema_name, entity)])
        lite, keys = load_sqlite(schema, entity, records, CP_STYLES[style])
        duck = load_duckdb(schema, entity, records, CP_STYLES[style])
        assert duck is not None and duck[1] == keys
        out[(schema_name, entity, style)] = Loaded(schema, entity, records, keys, lite, None, style, duck[0])
    return out


def check(data: Loaded, expr: Expr) -> str:
    sql, params = data.sql("duckdb", expr)
    got = data.run("duckdb", expr)
    want = data.expected(expr)
    assert got == want, f"extra {sorted(got - want)[:10]}, missing {sorted(want - got)[:10]}\nSQL: {sql}\n{params!r}"
    return sql


@pytest.mark.parametrize("dataset", STYLED, ids="-".join)
def test_combined_selects_what_predicate_selects(loaded: dict[tuple[str, str, str], Loaded],
                                                 dataset: tuple[str, str, str]) -> None:
    over_generated_filters(loaded[dataset], check)


@pytest.mark.parametrize("style", sorted({s for _, _, s in STYLED}))
@pytest.mark.parametrize("text", SCOPE_FILTERS)
def test_combined_scope_examples(loaded: dict[tuple[str, str, str], Loaded], text: str, style: str) -> None:
    check(loaded[("export", "employees", style)], parse(text))


@pytest.mark.parametrize("dataset", STYLED, ids="-".join)
def test_combined_hundreds_of_comparisons(loaded: dict[tuple[str, str, str], Loaded],
                                          dataset: tuple[str, str, str]) -> None:
    """300 comparisons, the typed data sets included (in the plain shape DuckDB takes minutes to plan
    them; tests/test_sql_differential.py leaves DuckDB out there)."""
    data = loaded[dataset]
    rnd = random.Random(11)
    choices = targets(data.schema, data.entity)
    picks: list[Any] = [random_comparison(rnd, data.schema, choices) for _ in range(300)]
    expr = Or.of(*(And.of(*picks[i:i + 3]) for i in range(0, 300, 3)))
    check(data, expr)  # (entangled scopes, as in the export's, stay one joint subquery: no combining)
