"""Expected SQL of the DuckDB dialect: each filter of the battery -> the exact SQL text and parameters, and
each run on DuckDB over the battery's records, selecting exactly the records ``predicate()`` accepts."""

from __future__ import annotations

import datetime
import math
from typing import Any

import pytest
from battery import FILTERS, RECORDS, SCHEMA, expected_keys

from skillfilter.backends.sql import create_tables, install_functions, load_records, select_keys, to_sql

EXPECTED: list[tuple[str, str, list[Any]]] = [
    ("name='a'",
     '"people"."name" COLLATE "binary" = ?',
     ['a']),
    ("name__iexact='straße'",
     'skillfilter_fold("people"."name") COLLATE "binary" = ?',
     ['STRAßE']),
    ("name__contains='%_'",
     'contains("people"."name", ?)',
     ['%_']),
    ('name__startswith="O\'B"',
     'starts_with("people"."name", ?)',
     ["O'B"]),
    ("name__endswith='ß'",
     'suffix("people"."name", ?)',
     ['ß']),
    ("not name='a'",
     'NOT ("people"."name" IS NOT NULL AND "people"."name" COLLATE "binary" = ?)',
     ['a']),
    ('name__is_null=true',
     '"people"."name" IS NULL',
     []),
    ("name='and' or name='or'",
     '("people"."name" COLLATE "binary" = ? OR "people"."name" COLLATE "binary" = ?)',
     ['and', 'or']),
    ('age=3',
     '"people"."age" = ?',
     [3]),
    ('age__gt=9007199254740992',
     '"people"."age" > ?',
     [9007199254740992]),
    ('age__lt=9223372036854775808',
     '"people"."age" IS NOT NULL',
     []),
    ('not age__gte=0',
     'NOT ("people"."age" IS NOT NULL AND "people"."age" >= ?)',
     [0]),
    ('score__gte=0.1',
     'CASE union_tag("people"."score") WHEN \'i\' THEN union_extract("people"."score", \'i\') > ? WHEN \'f\' THEN union_extract("people"."score", \'f\') >= ? END',
     [0, 0.1]),
    ('score=1e23',
     'CASE union_tag("people"."score") WHEN \'i\' THEN FALSE WHEN \'f\' THEN union_extract("people"."score", \'f\') = ? END',
     [1e+23]),
    ('active=true',
     '"people"."active" = ?',
     [True]),
    ('not active=true',
     'NOT ("people"."active" IS NOT NULL AND "people"."active" = ?)',
     [True]),
    ("born__lt='2024-01-31'",
     '"people"."born" < ?',
     [datetime.date(2024, 1, 31)]),
    ("seen__gte='2024-01-31T10:30:00+01:00'",
     '"people"."seen" >= ?',
     ['2024-01-31T09:30:00.000000+00:00']),
    ("tags='x'",
     'EXISTS (SELECT 1 FROM "people__tags" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND "_sf1"."value" COLLATE "binary" = ?)',
     ['x']),
    ("not tags='x'",
     'NOT EXISTS (SELECT 1 FROM "people__tags" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND "_sf1"."value" COLLATE "binary" = ?)',
     ['x']),
    ('tags__is_null=true',
     '(EXISTS (SELECT 1 FROM "people__tags" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND "_sf1"."value" IS NULL) OR NOT EXISTS (SELECT 1 FROM "people__tags" AS "_sf2" WHERE "_sf2"."parent_id" = "people"."id"))',
     []),
    ("team__name='a'",
     'EXISTS (SELECT 1 FROM "teams" AS "_sf1" WHERE "_sf1"."id" = "people"."team_id" AND "_sf1"."name" COLLATE "binary" = ?)',
     ['a']),
    ('team__name__is_null=true',
     '(EXISTS (SELECT 1 FROM "teams" AS "_sf1" WHERE "_sf1"."id" = "people"."team_id" AND "_sf1"."name" IS NULL) OR NOT EXISTS (SELECT 1 FROM "teams" AS "_sf2" WHERE "_sf2"."id" = "people"."team_id"))',
     []),
    ("pets__name='Rex' and pets__age=3",
     'EXISTS (SELECT 1 FROM "people__pets" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND "_sf1"."name" COLLATE "binary" = ? AND "_sf1"."age" = ?)',
     ['Rex', 3]),
    ("pets__name='Rex' and not pets__age=3",
     'EXISTS (SELECT 1 FROM "people__pets" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND "_sf1"."name" COLLATE "binary" = ? AND NOT ("_sf1"."age" IS NOT NULL AND "_sf1"."age" = ?))',
     ['Rex', 3]),
    ("pets__vet__name='Vet'",
     'EXISTS (SELECT 1 FROM "people__pets" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND EXISTS (SELECT 1 FROM "vets" AS "_sf2" WHERE "_sf2"."id" = "_sf1"."vet_id" AND "_sf2"."name" COLLATE "binary" = ?))',
     ['Vet']),
    ("pets__toys='ball'",
     'EXISTS (SELECT 1 FROM "people__pets" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND EXISTS (SELECT 1 FROM "people__pets__toys" AS "_sf2" WHERE "_sf2"."parent_id" = "_sf1"."id" AND "_sf2"."value" COLLATE "binary" = ?))',
     ['ball']),
    ("not (pets__name='a' or pets__name__is_null=true)",
     'NOT (EXISTS (SELECT 1 FROM "people__pets" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND ("_sf1"."name" COLLATE "binary" = ? OR "_sf1"."name" IS NULL)) OR NOT EXISTS (SELECT 1 FROM "people__pets" AS "_sf2" WHERE "_sf2"."parent_id" = "people"."id"))',
     ['a']),
    ("(pets__name='a' or tags='b') and (pets__name='c' or tags='d')",
     'EXISTS (SELECT 1 FROM (SELECT DISTINCT COALESCE(("_sf2"."name" COLLATE "binary" = ?), FALSE) AS "c1", COALESCE(("_sf2"."name" COLLATE "binary" = ?), FALSE) AS "c2" FROM (SELECT 1) AS "_sf1" LEFT JOIN "people__pets" AS "_sf2" ON "_sf2"."parent_id" = "people"."id") AS "_sf3" CROSS JOIN (SELECT DISTINCT COALESCE(("_sf5"."value" COLLATE "binary" = ?), FALSE) AS "c1", COALESCE(("_sf5"."value" COLLATE "binary" = ?), FALSE) AS "c2" FROM (SELECT 1) AS "_sf4" LEFT JOIN "people__tags" AS "_sf5" ON "_sf5"."parent_id" = "people"."id") AS "_sf6" WHERE ("_sf3"."c1" OR "_sf6"."c1") AND ("_sf3"."c2" OR "_sf6"."c2"))',
     ['a', 'c', 'b', 'd']),
    ("cp_language='de'",
     'EXISTS (SELECT 1 FROM (SELECT "_sf1p".value AS v, "_sf1p".type AS t FROM (SELECT 1) AS "_sf1d" LEFT JOIN json_each("people"."custom_properties") AS "_sf1p" ON "_sf1p".key = ?) AS "_sf1" WHERE (CASE WHEN "_sf1".t = \'VARCHAR\' THEN "_sf1".v ->> \'$\' END) COLLATE "binary" = ?)',
     ['language', 'de']),
    ("cp_language__iexact='de'",
     'EXISTS (SELECT 1 FROM (SELECT "_sf1p".value AS v, "_sf1p".type AS t FROM (SELECT 1) AS "_sf1d" LEFT JOIN json_each("people"."custom_properties") AS "_sf1p" ON "_sf1p".key = ?) AS "_sf1" WHERE skillfilter_fold(CASE WHEN "_sf1".t = \'VARCHAR\' THEN "_sf1".v ->> \'$\' END) COLLATE "binary" = ?)',
     ['language', 'DE']),
    ('cp_level__gt=2',
     'EXISTS (SELECT 1 FROM (SELECT "_sf1p".value AS v, "_sf1p".type AS t FROM (SELECT 1) AS "_sf1d" LEFT JOIN json_each("people"."custom_properties") AS "_sf1p" ON "_sf1p".key = ?) AS "_sf1" WHERE CASE union_tag((CASE WHEN "_sf1".t IN (\'BIGINT\', \'UBIGINT\') THEN CAST(TRY_CAST("_sf1".v AS BIGINT) AS UNION(i BIGINT, f DOUBLE)) WHEN "_sf1".t = \'DOUBLE\' THEN CAST(TRY_CAST("_sf1".v AS DOUBLE) AS UNION(i BIGINT, f DOUBLE)) END)) WHEN \'i\' THEN union_extract((CASE WHEN "_sf1".t IN (\'BIGINT\', \'UBIGINT\') THEN CAST(TRY_CAST("_sf1".v AS BIGINT) AS UNION(i BIGINT, f DOUBLE)) WHEN "_sf1".t = \'DOUBLE\' THEN CAST(TRY_CAST("_sf1".v AS DOUBLE) AS UNION(i BIGINT, f DOUBLE)) END), \'i\') > ? WHEN \'f\' THEN union_extract((CASE WHEN "_sf1".t IN (\'BIGINT\', \'UBIGINT\') THEN CAST(TRY_CAST("_sf1".v AS BIGINT) AS UNION(i BIGINT, f DOUBLE)) WHEN "_sf1".t = \'DOUBLE\' THEN CAST(TRY_CAST("_sf1".v AS DOUBLE) AS UNION(i BIGINT, f DOUBLE)) END), \'f\') > ? END)',
     ['level', 2, 2.0]),
    ("not cp_language='de'",
     'NOT EXISTS (SELECT 1 FROM (SELECT "_sf1p".value AS v, "_sf1p".type AS t FROM (SELECT 1) AS "_sf1d" LEFT JOIN json_each("people"."custom_properties") AS "_sf1p" ON "_sf1p".key = ?) AS "_sf1" WHERE (CASE WHEN "_sf1".t = \'VARCHAR\' THEN "_sf1".v ->> \'$\' END) COLLATE "binary" = ?)',
     ['language', 'de']),
    ("cp_tags='a' and cp_tags='b'",
     'EXISTS (SELECT 1 FROM (SELECT CASE WHEN "_sf1p".type = \'ARRAY\' THEN "_sf1e".value ELSE "_sf1p".value END AS v, CASE WHEN "_sf1p".type = \'ARRAY\' THEN "_sf1e".type ELSE "_sf1p".type END AS t FROM (SELECT 1) AS "_sf1d" LEFT JOIN json_each("people"."custom_properties") AS "_sf1p" ON "_sf1p".key = ? LEFT JOIN json_each(CASE WHEN "_sf1p".type = \'ARRAY\' THEN "_sf1p".value END) AS "_sf1e" ON TRUE) AS "_sf1" WHERE (CASE WHEN "_sf1".t = \'VARCHAR\' THEN "_sf1".v ->> \'$\' END) COLLATE "binary" = ? AND (CASE WHEN "_sf1".t = \'VARCHAR\' THEN "_sf1".v ->> \'$\' END) COLLATE "binary" = ?)',
     ['tags', 'a', 'b']),
    ("cp_other='x'",
     'EXISTS (SELECT 1 FROM (SELECT CASE WHEN "_sf1p".type = \'ARRAY\' THEN "_sf1e".value ELSE "_sf1p".value END AS v, CASE WHEN "_sf1p".type = \'ARRAY\' THEN "_sf1e".type ELSE "_sf1p".type END AS t FROM (SELECT 1) AS "_sf1d" LEFT JOIN json_each("people"."custom_properties") AS "_sf1p" ON "_sf1p".key = ? LEFT JOIN json_each(CASE WHEN "_sf1p".type = \'ARRAY\' THEN "_sf1p".value END) AS "_sf1e" ON TRUE) AS "_sf1" WHERE (CASE WHEN "_sf1".t = \'VARCHAR\' THEN "_sf1".v ->> \'$\' END) COLLATE "binary" = ?)',
     ['other', 'x']),
    ('cp_other__is_null=true',
     'EXISTS (SELECT 1 FROM (SELECT CASE WHEN "_sf1p".type = \'ARRAY\' THEN "_sf1e".value ELSE "_sf1p".value END AS v, CASE WHEN "_sf1p".type = \'ARRAY\' THEN "_sf1e".type ELSE "_sf1p".type END AS t FROM (SELECT 1) AS "_sf1d" LEFT JOIN json_each("people"."custom_properties") AS "_sf1p" ON "_sf1p".key = ? LEFT JOIN json_each(CASE WHEN "_sf1p".type = \'ARRAY\' THEN "_sf1p".value END) AS "_sf1e" ON TRUE) AS "_sf1" WHERE coalesce("_sf1".t, \'NULL\') = \'NULL\')',
     ['other']),
]


def test_the_table_covers_the_battery() -> None:
    assert [t for t, _, _ in EXPECTED] == FILTERS
    assert len(EXPECTED) >= 25
    assert datetime  # used by the table


@pytest.mark.parametrize(("text", "sql", "params"), EXPECTED, ids=[t for t, _, _ in EXPECTED])
def test_sql_text(text: str, sql: str, params: list[Any]) -> None:
    assert to_sql(text, schema=SCHEMA, dialect="duckdb") == (sql, params)


@pytest.fixture(scope="module")
def db() -> Any:
    duckdb = pytest.importorskip("duckdb")
    conn = duckdb.connect()
    install_functions(conn)
    create_tables(conn, SCHEMA, "people")
    keys = load_records(conn, RECORDS, SCHEMA, "people")
    return conn, keys


@pytest.mark.parametrize(("text", "sql", "params"), EXPECTED, ids=[t for t, _, _ in EXPECTED])
def test_runs_as_predicate(db: Any, text: str, sql: str, params: list[Any]) -> None:
    conn, keys = db
    want = expected_keys(text, keys)
    got = sorted(r[0] for r in conn.execute(f'SELECT "people"."id" FROM "people" WHERE {sql}', params).fetchall())
    assert got == sorted(want), text
    assert sorted(select_keys(conn, text, schema=SCHEMA)) == sorted(want)


# The shape for filters with many subqueries (Dialect.combine_exists_from): the tests through each relation
# prefix as columns of one subquery, nested prefixes as LATERAL subqueries of their parent's.
EXPECTED_COMBINED: list[tuple[str, str, list[Any]]] = [
    ("tags='x'",
     'EXISTS (SELECT 1 FROM (SELECT coalesce(bool_or("_sf1"."value" COLLATE "binary" = ?), FALSE) AS "c1" FROM "people__tags" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id") AS "_sf2" WHERE "_sf2"."c1")',
     ['x']),
    ('team__name__is_null=true',
     'EXISTS (SELECT 1 FROM (SELECT coalesce(bool_or("_sf1"."name" IS NULL), FALSE) AS "c1", coalesce(bool_or(TRUE), FALSE) AS "c2" FROM "teams" AS "_sf1" WHERE "_sf1"."id" = "people"."team_id") AS "_sf2" WHERE "_sf2"."c1" OR NOT "_sf2"."c2")',
     []),
    ("not pets__name='a' and not pets__name='b' and not pets__toys='t'",
     'EXISTS (SELECT 1 FROM (SELECT coalesce(bool_or("_sf1"."name" COLLATE "binary" = ?), FALSE) AS "c1", coalesce(bool_or("_sf1"."name" COLLATE "binary" = ?), FALSE) AS "c2", coalesce(bool_or("_sf4"."c1"), FALSE) AS "c3" FROM "people__pets" AS "_sf1" CROSS JOIN LATERAL (SELECT coalesce(bool_or("_sf3"."value" COLLATE "binary" = ?), FALSE) AS "c1" FROM "people__pets__toys" AS "_sf3" WHERE "_sf3"."parent_id" = "_sf1"."id") AS "_sf4" WHERE "_sf1"."parent_id" = "people"."id") AS "_sf2" WHERE NOT "_sf2"."c1" AND NOT "_sf2"."c2" AND NOT "_sf2"."c3")',
     ['a', 'b', 't']),
]


@pytest.fixture
def combined(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every filter in the combined shape (not only those with many subqueries)."""
    from skillfilter.backends.sql.duckdb import DuckDB

    monkeypatch.setattr(DuckDB, "combine_exists_from", 1)


@pytest.mark.parametrize(("text", "sql", "params"), EXPECTED_COMBINED, ids=[t for t, _, _ in EXPECTED_COMBINED])
def test_combined_sql_text(combined: None, text: str, sql: str, params: list[Any]) -> None:
    assert to_sql(text, schema=SCHEMA, dialect="duckdb") == (sql, params)


@pytest.mark.parametrize("text", [*FILTERS, *(t for t, _, _ in EXPECTED_COMBINED),
                                  "name__contains='' or pets__age__gt=9223372036854775808"])
def test_combined_runs_as_predicate(db: Any, combined: None, text: str) -> None:
    conn, keys = db
    sql, params = to_sql(text, schema=SCHEMA, dialect="duckdb")
    got = sorted(r[0] for r in conn.execute(f'SELECT "people"."id" FROM "people" WHERE {sql}', params).fetchall())
    assert got == sorted(expected_keys(text, keys)), text


def _many(n: int) -> str:
    """A filter of ``n`` comparisons through to-many relations, each under a `not` (a scope of its own)."""
    parts = [f"not pets__name='n{i}'" if i % 3 else f"not pets__toys='t{i}'" for i in range(n - 1)]
    return " and ".join([*parts, "not tags='x'"])


def test_many_subqueries_are_combined(db: Any) -> None:
    conn, keys = db
    text = _many(40)
    sql, params = to_sql(text, schema=SCHEMA, dialect="duckdb")
    assert sql.count("EXISTS") == 1 and sql.count("LATERAL") == 1  # one per relation prefix
    got = sorted(r[0] for r in conn.execute(f'SELECT "people"."id" FROM "people" WHERE {sql}', params).fetchall())
    assert got == sorted(expected_keys(text, keys))


def test_planning_grows_linearly(db: Any) -> None:
    """DuckDB's planning time of a filter of 4n comparisons through to-many relations over that of n: about
    4 when linear (n correlated `EXISTS` gave about 40 here: n^3 growth).  Best of three each."""
    import time

    conn, _ = db

    def plan_time(n: int) -> float:
        sql, params = to_sql(_many(n), schema=SCHEMA, dialect="duckdb", select=True)
        best = math.inf
        for _ in range(3):
            start = time.perf_counter()
            conn.execute("EXPLAIN " + sql, params).fetchall()
            best = min(best, time.perf_counter() - start)
        return best

    plan_time(5)  # warm up
    ratio = plan_time(100) / plan_time(25)
    assert ratio < 12, f"planning 4n comparisons took {ratio:.1f}x the time of n"


def test_bigint_against_double_is_exact() -> None:
    """DuckDB alone compares 2**53 + 1 with 2.0**53 through doubles; the SQL does not."""
    duckdb = pytest.importorskip("duckdb")
    conn = duckdb.connect()
    assert conn.execute("SELECT CAST(? AS BIGINT) > CAST(? AS DOUBLE)", [2**53 + 1, 2.0**53]).fetchone() == (False,)
    records = [{"score": 2**53 + 1}, {"score": 2**53}, {"score": 2.0**53}, {"score": 1e23}, {"score": -(2**63)}]
    create_tables(conn, SCHEMA, "people")
    keys = load_records(conn, records, SCHEMA, "people")
    by_score = {repr(r["score"]): k for r, k in zip(records, keys, strict=True)}
    cases = [
        ("score__gt=9007199254740992.0", ["9007199254740993", "1e+23"]),
        ("score__gte=9007199254740993", ["9007199254740993", "1e+23"]),
        ("score=9007199254740992", ["9007199254740992", "9007199254740992.0"]),
        ("score__lt=9007199254740993", ["9007199254740992", "9007199254740992.0", "-9223372036854775808"]),
        ("score=100000000000000000000000", ["1e+23"]),
        ("score__gt=99999999999999991611392", ["1e+23"]),  # the double nearest 1e23, as an integer
        ("score__lt=-9.223372036854776e+18", []),  # the double -2**63 stands for -9223372036854776000
    ]
    for text, scores in cases:
        want = sorted(by_score[s] for s in scores)
        assert sorted(expected_keys_of(text, records, keys)) == want, text  # the language's answer
        assert sorted(select_keys(conn, text, schema=SCHEMA)) == want, text


def expected_keys_of(text: str, records: list[dict[str, Any]], keys: list[Any]) -> list[Any]:
    from skillfilter.backends.python import predicate

    test = predicate(text, schema=SCHEMA, entity="people")
    return [k for k, r in zip(keys, records, strict=True) if test(r)]
