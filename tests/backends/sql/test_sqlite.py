"""Expected SQL of the SQLite dialect: each filter of the battery -> the exact SQL text and parameters, and
each run on SQLite over the battery's records, selecting exactly the records ``predicate()`` accepts."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from battery import FILTERS, RECORDS, SCHEMA, expected_keys

from skillfilter.backends.sql import create_tables, load_records, register_functions, select_keys, to_sql

EXPECTED: list[tuple[str, str, list[Any]]] = [
    ("name='a'",
     '"people"."name" COLLATE BINARY = ?',
     ['a']),
    ("name__iexact='straße'",
     'skillfilter_fold("people"."name") COLLATE BINARY = ?',
     ['STRAßE']),
    ("name__contains='%_'",
     'instr(CAST("people"."name" || x\'FF\' AS BLOB), CAST(? AS BLOB)) > 0',
     ['%_']),
    ('name__startswith="O\'B"',
     'instr(CAST("people"."name" || x\'FF\' AS BLOB), CAST(? AS BLOB)) = 1',
     ["O'B"]),
    ("name__endswith='ß'",
     'substr(CAST("people"."name" || x\'FF\' AS BLOB), ?) = CAST(? || x\'FF\' AS BLOB)',
     [-3, 'ß']),
    ("not name='a'",
     'NOT ("people"."name" IS NOT NULL AND "people"."name" COLLATE BINARY = ?)',
     ['a']),
    ('name__is_null=true',
     '"people"."name" IS NULL',
     []),
    ("name='and' or name='or'",
     '("people"."name" COLLATE BINARY = ? OR "people"."name" COLLATE BINARY = ?)',
     ['and', 'or']),
    ('age=3',
     '"people"."age" = ?',
     [3]),
    ('age__gt=9007199254740992',
     '"people"."age" > ?',
     [9007199254740992]),
    ('age__lt=9223372036854775808',
     'CASE WHEN typeof("people"."age") = \'integer\' THEN TRUE ELSE "people"."age" < ? END',
     [9.223372036854776e+18]),
    ('not age__gte=0',
     'NOT ("people"."age" IS NOT NULL AND "people"."age" >= ?)',
     [0]),
    ('score__gte=0.1',
     '"people"."score" >= ?',
     [0.1]),
    ('score=1e23',
     'CASE WHEN typeof("people"."score") = \'integer\' THEN FALSE ELSE "people"."score" = ? END',
     [1e+23]),
    ('active=true',
     '"people"."active" = ?',
     [True]),
    ('not active=true',
     'NOT ("people"."active" IS NOT NULL AND "people"."active" = ?)',
     [True]),
    ("born__lt='2024-01-31'",
     '"people"."born" COLLATE BINARY < ?',
     ['2024-01-31']),
    ("seen__gte='2024-01-31T10:30:00+01:00'",
     '"people"."seen" COLLATE BINARY >= ?',
     ['2024-01-31T09:30:00.000000+00:00']),
    ("tags='x'",
     'EXISTS (SELECT 1 FROM "people__tags" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND "_sf1"."value" COLLATE BINARY = ?)',
     ['x']),
    ("not tags='x'",
     'NOT EXISTS (SELECT 1 FROM "people__tags" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND "_sf1"."value" COLLATE BINARY = ?)',
     ['x']),
    ('tags__is_null=true',
     '(EXISTS (SELECT 1 FROM "people__tags" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND "_sf1"."value" IS NULL) OR NOT EXISTS (SELECT 1 FROM "people__tags" AS "_sf2" WHERE "_sf2"."parent_id" = "people"."id"))',
     []),
    ("team__name='a'",
     'EXISTS (SELECT 1 FROM "teams" AS "_sf1" WHERE "_sf1"."id" = "people"."team_id" AND "_sf1"."name" COLLATE BINARY = ?)',
     ['a']),
    ('team__name__is_null=true',
     '(EXISTS (SELECT 1 FROM "teams" AS "_sf1" WHERE "_sf1"."id" = "people"."team_id" AND "_sf1"."name" IS NULL) OR NOT EXISTS (SELECT 1 FROM "teams" AS "_sf2" WHERE "_sf2"."id" = "people"."team_id"))',
     []),
    ("pets__name='Rex' and pets__age=3",
     'EXISTS (SELECT 1 FROM "people__pets" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND "_sf1"."name" COLLATE BINARY = ? AND "_sf1"."age" = ?)',
     ['Rex', 3]),
    ("pets__name='Rex' and not pets__age=3",
     'EXISTS (SELECT 1 FROM "people__pets" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND "_sf1"."name" COLLATE BINARY = ? AND NOT ("_sf1"."age" IS NOT NULL AND "_sf1"."age" = ?))',
     ['Rex', 3]),
    ("pets__vet__name='Vet'",
     'EXISTS (SELECT 1 FROM "people__pets" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND EXISTS (SELECT 1 FROM "vets" AS "_sf2" WHERE "_sf2"."id" = "_sf1"."vet_id" AND "_sf2"."name" COLLATE BINARY = ?))',
     ['Vet']),
    ("pets__toys='ball'",
     'EXISTS (SELECT 1 FROM "people__pets" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND EXISTS (SELECT 1 FROM "people__pets__toys" AS "_sf2" WHERE "_sf2"."parent_id" = "_sf1"."id" AND "_sf2"."value" COLLATE BINARY = ?))',
     ['ball']),
    ("not (pets__name='a' or pets__name__is_null=true)",
     'NOT (EXISTS (SELECT 1 FROM "people__pets" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND ("_sf1"."name" COLLATE BINARY = ? OR "_sf1"."name" IS NULL)) OR NOT EXISTS (SELECT 1 FROM "people__pets" AS "_sf2" WHERE "_sf2"."parent_id" = "people"."id"))',
     ['a']),
    ("(pets__name='a' or tags='b') and (pets__name='c' or tags='d')",
     'EXISTS (SELECT 1 FROM (SELECT DISTINCT COALESCE(("_sf2"."name" COLLATE BINARY = ?), FALSE) AS "c1", COALESCE(("_sf2"."name" COLLATE BINARY = ?), FALSE) AS "c2" FROM (SELECT 1) AS "_sf1" LEFT JOIN "people__pets" AS "_sf2" ON "_sf2"."parent_id" = "people"."id") AS "_sf3" CROSS JOIN (SELECT DISTINCT COALESCE(("_sf5"."value" COLLATE BINARY = ?), FALSE) AS "c1", COALESCE(("_sf5"."value" COLLATE BINARY = ?), FALSE) AS "c2" FROM (SELECT 1) AS "_sf4" LEFT JOIN "people__tags" AS "_sf5" ON "_sf5"."parent_id" = "people"."id") AS "_sf6" WHERE ("_sf3"."c1" OR "_sf6"."c1") AND ("_sf3"."c2" OR "_sf6"."c2"))',
     ['a', 'c', 'b', 'd']),
    ("cp_language='de'",
     'EXISTS (SELECT 1 FROM (SELECT "_sf1p".value AS v, "_sf1p".type AS t FROM (SELECT 1) AS "_sf1d" LEFT JOIN json_each("people"."custom_properties") AS "_sf1p" ON "_sf1p".key = ?) AS "_sf1" WHERE (CASE WHEN "_sf1".t IN (\'text\') THEN "_sf1".v END) COLLATE BINARY = ?)',
     ['language', 'de']),
    ("cp_language__iexact='de'",
     'EXISTS (SELECT 1 FROM (SELECT "_sf1p".value AS v, "_sf1p".type AS t FROM (SELECT 1) AS "_sf1d" LEFT JOIN json_each("people"."custom_properties") AS "_sf1p" ON "_sf1p".key = ?) AS "_sf1" WHERE skillfilter_fold(CASE WHEN "_sf1".t IN (\'text\') THEN "_sf1".v END) COLLATE BINARY = ?)',
     ['language', 'DE']),
    ('cp_level__gt=2',
     'EXISTS (SELECT 1 FROM (SELECT "_sf1p".value AS v, "_sf1p".type AS t FROM (SELECT 1) AS "_sf1d" LEFT JOIN json_each("people"."custom_properties") AS "_sf1p" ON "_sf1p".key = ?) AS "_sf1" WHERE (CASE WHEN "_sf1".t IN (\'integer\', \'real\') THEN "_sf1".v END) > ?)',
     ['level', 2]),
    ("not cp_language='de'",
     'NOT EXISTS (SELECT 1 FROM (SELECT "_sf1p".value AS v, "_sf1p".type AS t FROM (SELECT 1) AS "_sf1d" LEFT JOIN json_each("people"."custom_properties") AS "_sf1p" ON "_sf1p".key = ?) AS "_sf1" WHERE (CASE WHEN "_sf1".t IN (\'text\') THEN "_sf1".v END) COLLATE BINARY = ?)',
     ['language', 'de']),
    ("cp_tags='a' and cp_tags='b'",
     'EXISTS (SELECT 1 FROM (SELECT CASE WHEN "_sf1p".type = \'array\' THEN "_sf1e".value ELSE "_sf1p".value END AS v, CASE WHEN "_sf1p".type = \'array\' THEN "_sf1e".type ELSE "_sf1p".type END AS t FROM (SELECT 1) AS "_sf1d" LEFT JOIN json_each("people"."custom_properties") AS "_sf1p" ON "_sf1p".key = ? LEFT JOIN json_each(CASE WHEN "_sf1p".type = \'array\' THEN "_sf1p".value END) AS "_sf1e") AS "_sf1" WHERE (CASE WHEN "_sf1".t IN (\'text\') THEN "_sf1".v END) COLLATE BINARY = ? AND (CASE WHEN "_sf1".t IN (\'text\') THEN "_sf1".v END) COLLATE BINARY = ?)',
     ['tags', 'a', 'b']),
    ("cp_other='x'",
     'EXISTS (SELECT 1 FROM (SELECT CASE WHEN "_sf1p".type = \'array\' THEN "_sf1e".value ELSE "_sf1p".value END AS v, CASE WHEN "_sf1p".type = \'array\' THEN "_sf1e".type ELSE "_sf1p".type END AS t FROM (SELECT 1) AS "_sf1d" LEFT JOIN json_each("people"."custom_properties") AS "_sf1p" ON "_sf1p".key = ? LEFT JOIN json_each(CASE WHEN "_sf1p".type = \'array\' THEN "_sf1p".value END) AS "_sf1e") AS "_sf1" WHERE (CASE WHEN "_sf1".t IN (\'text\') THEN "_sf1".v END) COLLATE BINARY = ?)',
     ['other', 'x']),
    ('cp_other__is_null=true',
     'EXISTS (SELECT 1 FROM (SELECT CASE WHEN "_sf1p".type = \'array\' THEN "_sf1e".value ELSE "_sf1p".value END AS v, CASE WHEN "_sf1p".type = \'array\' THEN "_sf1e".type ELSE "_sf1p".type END AS t FROM (SELECT 1) AS "_sf1d" LEFT JOIN json_each("people"."custom_properties") AS "_sf1p" ON "_sf1p".key = ? LEFT JOIN json_each(CASE WHEN "_sf1p".type = \'array\' THEN "_sf1p".value END) AS "_sf1e") AS "_sf1" WHERE coalesce("_sf1".t, \'null\') = \'null\')',
     ['other']),
]


def test_the_table_covers_the_battery() -> None:
    assert [t for t, _, _ in EXPECTED] == FILTERS
    assert len(EXPECTED) >= 25


@pytest.mark.parametrize(("text", "sql", "params"), EXPECTED, ids=[t for t, _, _ in EXPECTED])
def test_sql_text(text: str, sql: str, params: list[Any]) -> None:
    assert to_sql(text, schema=SCHEMA, dialect="sqlite") == (sql, params)


@pytest.fixture(scope="module")
def db() -> Any:
    conn = sqlite3.connect(":memory:")
    register_functions(conn)
    create_tables(conn, SCHEMA, "people")
    keys = load_records(conn, RECORDS, SCHEMA, "people")
    conn.commit()
    return conn, keys


@pytest.mark.parametrize(("text", "sql", "params"), EXPECTED, ids=[t for t, _, _ in EXPECTED])
def test_runs_as_predicate(db: Any, text: str, sql: str, params: list[Any]) -> None:
    conn, keys = db
    want = expected_keys(text, keys)
    got = sorted(r[0] for r in conn.execute(f'SELECT "people"."id" FROM "people" WHERE {sql}', params))
    assert got == sorted(want), text
    assert sorted(select_keys(conn, text, schema=SCHEMA)) == sorted(want)
