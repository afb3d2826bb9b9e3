"""Expected SQL of the PostgreSQL dialect: each filter of the battery -> the exact SQL text and parameters,
and each run on the suite's PostgreSQL server over the battery's records, selecting exactly the records
``predicate()`` accepts."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from battery import FILTERS, RECORDS, SCHEMA, expected_keys

from skillfilter.backends.sql import create_tables, load_records, select_keys, to_sql

EXPECTED: list[tuple[str, str, list[Any]]] = [
    ("name='a'",
     '"people"."name" COLLATE "C" = %s',
     ['a']),
    ("name__iexact='straße'",
     'skillfilter_fold("people"."name") COLLATE "C" = %s',
     ['STRAßE']),
    ("name__contains='%_'",
     '"people"."name" COLLATE "C" LIKE %s ESCAPE E\'\\\\\'',
     ['%\\%\\_%']),
    ('name__startswith="O\'B"',
     '"people"."name" COLLATE "C" LIKE %s ESCAPE E\'\\\\\'',
     ["O'B%"]),
    ("name__endswith='ß'",
     '"people"."name" COLLATE "C" LIKE %s ESCAPE E\'\\\\\'',
     ['%ß']),
    ("not name='a'",
     'NOT ("people"."name" IS NOT NULL AND "people"."name" COLLATE "C" = %s)',
     ['a']),
    ('name__is_null=true',
     '"people"."name" IS NULL',
     []),
    ("name='and' or name='or'",
     '("people"."name" COLLATE "C" = %s OR "people"."name" COLLATE "C" = %s)',
     ['and', 'or']),
    ('age=3',
     '"people"."age" = %s',
     [3]),
    ('age__gt=9007199254740992',
     '"people"."age" > %s',
     [9007199254740992]),
    ('age__lt=9223372036854775808',
     '"people"."age" < %s',
     [9223372036854775808]),
    ('not age__gte=0',
     'NOT ("people"."age" IS NOT NULL AND "people"."age" >= %s)',
     [0]),
    ('score__gte=0.1',
     '"people"."score" >= %s',
     [Decimal('0.1')]),
    ('score=1e23',
     '"people"."score" = %s',
     [Decimal('1E+23')]),
    ('active=true',
     '"people"."active" = %s',
     [True]),
    ('not active=true',
     'NOT ("people"."active" IS NOT NULL AND "people"."active" = %s)',
     [True]),
    ("born__lt='2024-01-31'",
     '"people"."born" < %s',
     [datetime.date(2024, 1, 31)]),
    ("seen__gte='2024-01-31T10:30:00+01:00'",
     '"people"."seen" >= %s',
     [datetime.datetime(2024, 1, 31, 10, 30, tzinfo=datetime.timezone(datetime.timedelta(seconds=3600)))]),
    ("tags='x'",
     'EXISTS (SELECT 1 FROM "people__tags" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND "_sf1"."value" COLLATE "C" = %s)',
     ['x']),
    ("not tags='x'",
     'NOT EXISTS (SELECT 1 FROM "people__tags" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND "_sf1"."value" COLLATE "C" = %s)',
     ['x']),
    ('tags__is_null=true',
     '(EXISTS (SELECT 1 FROM "people__tags" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND "_sf1"."value" IS NULL) OR NOT EXISTS (SELECT 1 FROM "people__tags" AS "_sf2" WHERE "_sf2"."parent_id" = "people"."id"))',
     []),
    ("team__name='a'",
     'EXISTS (SELECT 1 FROM "teams" AS "_sf1" WHERE "_sf1"."id" = "people"."team_id" AND "_sf1"."name" COLLATE "C" = %s)',
     ['a']),
    ('team__name__is_null=true',
     '(EXISTS (SELECT 1 FROM "teams" AS "_sf1" WHERE "_sf1"."id" = "people"."team_id" AND "_sf1"."name" IS NULL) OR NOT EXISTS (SELECT 1 FROM "teams" AS "_sf2" WHERE "_sf2"."id" = "people"."team_id"))',
     []),
    ("pets__name='Rex' and pets__age=3",
     'EXISTS (SELECT 1 FROM "people__pets" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND "_sf1"."name" COLLATE "C" = %s AND "_sf1"."age" = %s)',
     ['Rex', 3]),
    ("pets__name='Rex' and not pets__age=3",
     'EXISTS (SELECT 1 FROM "people__pets" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND "_sf1"."name" COLLATE "C" = %s AND NOT ("_sf1"."age" IS NOT NULL AND "_sf1"."age" = %s))',
     ['Rex', 3]),
    ("pets__vet__name='Vet'",
     'EXISTS (SELECT 1 FROM "people__pets" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND EXISTS (SELECT 1 FROM "vets" AS "_sf2" WHERE "_sf2"."id" = "_sf1"."vet_id" AND "_sf2"."name" COLLATE "C" = %s))',
     ['Vet']),
    ("pets__toys='ball'",
     'EXISTS (SELECT 1 FROM "people__pets" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND EXISTS (SELECT 1 FROM "people__pets__toys" AS "_sf2" WHERE "_sf2"."parent_id" = "_sf1"."id" AND "_sf2"."value" COLLATE "C" = %s))',
     ['ball']),
    ("not (pets__name='a' or pets__name__is_null=true)",
     'NOT (EXISTS (SELECT 1 FROM "people__pets" AS "_sf1" WHERE "_sf1"."parent_id" = "people"."id" AND ("_sf1"."name" COLLATE "C" = %s OR "_sf1"."name" IS NULL)) OR NOT EXISTS (SELECT 1 FROM "people__pets" AS "_sf2" WHERE "_sf2"."parent_id" = "people"."id"))',
     ['a']),
    ("(pets__name='a' or tags='b') and (pets__name='c' or tags='d')",
     'EXISTS (SELECT 1 FROM (SELECT DISTINCT COALESCE(("_sf2"."name" COLLATE "C" = %s), FALSE) AS "c1", COALESCE(("_sf2"."name" COLLATE "C" = %s), FALSE) AS "c2" FROM (SELECT 1) AS "_sf1" LEFT JOIN "people__pets" AS "_sf2" ON "_sf2"."parent_id" = "people"."id") AS "_sf3" CROSS JOIN (SELECT DISTINCT COALESCE(("_sf5"."value" COLLATE "C" = %s), FALSE) AS "c1", COALESCE(("_sf5"."value" COLLATE "C" = %s), FALSE) AS "c2" FROM (SELECT 1) AS "_sf4" LEFT JOIN "people__tags" AS "_sf5" ON "_sf5"."parent_id" = "people"."id") AS "_sf6" WHERE ("_sf3"."c1" OR "_sf6"."c1") AND ("_sf3"."c2" OR "_sf6"."c2"))',
     ['a', 'c', 'b', 'd']),
    ("cp_language='de'",
     '("people"."custom_properties" ->> CAST(%s AS text)) COLLATE "C" = %s AND (CAST(%s AS text) !~ \'^[-0-9[{]\' AND CAST(%s AS text) NOT IN (\'true\', \'false\') OR jsonb_typeof("people"."custom_properties" -> CAST(%s AS text)) = \'string\')',
     ['language', 'de', 'de', 'de', 'language']),
    ("cp_language__iexact='de'",
     'CASE jsonb_typeof(("people"."custom_properties" -> CAST(%s AS text))) WHEN \'string\' THEN skillfilter_fold(("people"."custom_properties" ->> CAST(%s AS text))) COLLATE "C" = %s ELSE FALSE END',
     ['language', 'language', 'DE']),
    ('cp_level__gt=2',
     'CASE jsonb_typeof(("people"."custom_properties" -> CAST(%s AS text))) WHEN \'number\' THEN (CAST(("people"."custom_properties" -> CAST(%s AS text)) AS numeric)) > %s ELSE FALSE END',
     ['level', 'level', 2]),
    ("not cp_language='de'",
     'NOT coalesce(("people"."custom_properties" ->> CAST(%s AS text)) COLLATE "C" = %s AND (CAST(%s AS text) !~ \'^[-0-9[{]\' AND CAST(%s AS text) NOT IN (\'true\', \'false\') OR jsonb_typeof("people"."custom_properties" -> CAST(%s AS text)) = \'string\'), FALSE)',
     ['language', 'de', 'de', 'de', 'language']),
    ("cp_tags='a' and cp_tags='b'",
     'CASE jsonb_typeof(("people"."custom_properties" -> CAST(%s AS text))) WHEN \'array\' THEN EXISTS (SELECT 1 FROM jsonb_array_elements(("people"."custom_properties" -> CAST(%s AS text))) AS "_sf1"(v) WHERE (CASE WHEN jsonb_typeof("_sf1".v) = \'string\' THEN "_sf1".v #>> \'{}\' END) COLLATE "C" = %s AND (CASE WHEN jsonb_typeof("_sf1".v) = \'string\' THEN "_sf1".v #>> \'{}\' END) COLLATE "C" = %s) WHEN \'string\' THEN ((("people"."custom_properties" ->> CAST(%s AS text))) COLLATE "C" = %s AND (("people"."custom_properties" ->> CAST(%s AS text))) COLLATE "C" = %s) ELSE FALSE END',
     ['tags', 'tags', 'a', 'b', 'tags', 'a', 'tags', 'b']),
    ("cp_other='x'",
     '(("people"."custom_properties" ->> CAST(%s AS text)) COLLATE "C" = %s AND (CAST(%s AS text) !~ \'^[-0-9[{]\' AND CAST(%s AS text) NOT IN (\'true\', \'false\') OR jsonb_typeof("people"."custom_properties" -> CAST(%s AS text)) = \'string\') OR "people"."custom_properties" @> %s::jsonb)',
     ['other', 'x', 'x', 'x', 'other', '{"other": ["x"]}']),
    ('cp_other__is_null=true',
     'CASE jsonb_typeof(("people"."custom_properties" -> CAST(%s AS text))) WHEN \'array\' THEN EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN ("people"."custom_properties" -> CAST(%s AS text)) = \'[]\'::jsonb THEN \'[null]\'::jsonb ELSE ("people"."custom_properties" -> CAST(%s AS text)) END) AS "_sf1"(v) WHERE coalesce(jsonb_typeof("_sf1".v), \'null\') = \'null\') WHEN \'number\' THEN FALSE WHEN \'string\' THEN FALSE WHEN \'boolean\' THEN FALSE WHEN \'object\' THEN FALSE ELSE TRUE END',
     ['other', 'other', 'other']),
]


def test_the_table_covers_the_battery() -> None:
    assert [t for t, _, _ in EXPECTED] == FILTERS
    assert len(EXPECTED) >= 25
    assert Decimal and datetime  # used by the table


@pytest.mark.parametrize(("text", "sql", "params"), EXPECTED, ids=[t for t, _, _ in EXPECTED])
def test_sql_text(text: str, sql: str, params: list[Any]) -> None:
    assert to_sql(text, schema=SCHEMA, dialect="postgresql") == (sql, params)


@pytest.fixture(scope="module")
def db(pg_connect: Callable[..., Any]) -> Any:
    conn = pg_connect()
    create_tables(conn, SCHEMA, "people")
    keys = load_records(conn, RECORDS, SCHEMA, "people")
    return conn, keys


@pytest.mark.postgres
@pytest.mark.parametrize(("text", "sql", "params"), EXPECTED, ids=[t for t, _, _ in EXPECTED])
def test_runs_as_predicate(db: Any, text: str, sql: str, params: list[Any]) -> None:
    conn, keys = db
    want = expected_keys(text, keys)
    got = sorted(r[0] for r in conn.execute(f'SELECT "people"."id" FROM "people" WHERE {sql}', params))
    assert got == sorted(want), text
    assert sorted(select_keys(conn, text, schema=SCHEMA)) == sorted(want)
