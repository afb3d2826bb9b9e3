"""End to end on the bundled sample export: three implementations, one answer.

For realistic queries over ``examples/sample_export.jsonl`` (2,500 employees with nulls, empty lists, both
custom-property shapes, non-ASCII and hostile strings), the records that ``skillfilter filter`` writes, the
records ``predicate()`` selects, and the rows the SQL selects on SQLite and on PostgreSQL are the same.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from skillfilter import predicate, to_sql
from skillfilter.backends.sql import register_functions
from skillfilter.backends.sql.load import create_tables, load_records

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample_export.jsonl"
RECORDS = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]

QUERIES = [
    "skill_clusters__proficiency_level__gte=3 and skill_clusters__current_skills__name='Python' "
    "and skill_clusters__current_skills__validation_state='validated'",
    "not skill_clusters__current_skills__name__icontains='java'",
    "skill_clusters__current_skills__name='Deutsch' or skill_clusters__skill_cluster_name__istartswith='STRASS'"
    " or skill_clusters__skill_cluster_name__istartswith='straß'",
    "skill_clusters__sources='learning' and not skill_clusters__skill_cluster_name=null",
    "external_id__contains='%' or external_id__contains='_' or external_id__endswith='\\\\'",
    "skill_clusters__current_skills__skill_sources__is_null=true",
    "skill_clusters__related_skills__name__gt='M' and not skill_clusters__rejected_skills__name__lt='M'",
]


def expected(text: str) -> list[str]:
    test = predicate(text, schema="export", entity="employees")
    return [r["external_id"] for r in RECORDS if test(r)]


def test_sample_is_rich_enough() -> None:
    answers = [len(expected(q)) for q in QUERIES]
    # Each query selects some records and leaves some out: none of them is trivially true or false here.
    assert all(0 < n < len(RECORDS) for n in answers), answers


@pytest.mark.parametrize("text", QUERIES)
def test_cli_filter_writes_what_predicate_selects(text: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "skillfilter", "filter", "--schema", "export", "--entity", "employees", text,
         str(SAMPLE)],
        capture_output=True, text=True, check=False, timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert [json.loads(line)["external_id"] for line in out.stdout.splitlines()] == expected(text)


def _keys_to_ids(conn: Any) -> dict[Any, str]:
    return dict(conn.execute('SELECT "id", "external_id" FROM "employees"').fetchall())


@pytest.fixture(scope="module")
def sqlite_conn() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    register_functions(conn)
    create_tables(conn, "export", "employees", dialect="sqlite")
    load_records(conn, RECORDS, "export", "employees", dialect="sqlite")
    yield conn
    conn.close()


@pytest.fixture(scope="module")
def pg_conn(pg_connect: Callable[..., Any]) -> Any:
    conn = pg_connect()
    create_tables(conn, "export", "employees", dialect="postgresql")
    load_records(conn, RECORDS, "export", "employees", dialect="postgresql")
    return conn


@pytest.mark.parametrize("text", QUERIES)
def test_sqlite_selects_what_predicate_selects(sqlite_conn: sqlite3.Connection, text: str) -> None:
    sql, params = to_sql(text, dialect="sqlite", schema="export", entity="employees", select=True)
    ids = _keys_to_ids(sqlite_conn)
    got = sorted(ids[k] for (k,) in sqlite_conn.execute(sql, params))
    assert got == sorted(expected(text))


@pytest.mark.postgres
@pytest.mark.parametrize("text", QUERIES)
def test_postgresql_selects_what_predicate_selects(pg_conn: Any, text: str) -> None:
    sql, params = to_sql(text, dialect="postgresql", schema="export", entity="employees", select=True)
    ids = _keys_to_ids(pg_conn)
    got = sorted(ids[k] for (k,) in pg_conn.execute(sql, params).fetchall())
    assert got == sorted(expected(text))
