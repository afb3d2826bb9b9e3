"""``load_records`` on a DuckDB connection: bulk (column lists ``unnest``-ed, see
``DuckDB.insert_rows``), exact (integers stay integers, floats floats, NUL and non-ASCII text as given), and
a record that does not fit is a ``LoadError`` naming the record and the field, nothing of the call kept."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillfilter.backends.sql.load import LoadError, create_tables, load_records
from test_hardening_load import GOOD, HOSTILE, JSON_COLUMN, KEYED, PROPERTY_ROWS, SCHEMA, _id, _records

duckdb = pytest.importorskip("duckdb")


def _count(conn: Any, table: str = "t") -> int:
    return int(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])


def _fresh(mapping: dict[str, Any]) -> Any:
    conn = duckdb.connect()
    create_tables(conn, SCHEMA, "t", mapping)
    return conn


@pytest.mark.parametrize("mapping", [JSON_COLUMN, PROPERTY_ROWS], ids=["json-column", "property-table"])
@pytest.mark.parametrize(("record", "field"), HOSTILE, ids=[_id(r) for r, _ in HOSTILE])
def test_refuses_with_load_error(mapping: dict[str, Any], record: dict[str, Any], field: str) -> None:
    conn = _fresh(mapping)
    with pytest.raises(LoadError) as info:
        load_records(conn, [GOOD, {**GOOD, **record}], SCHEMA, "t", mapping)
    message = str(info.value)
    assert message.startswith("record 2"), message
    assert field in message, message
    assert _count(conn) == 0
    assert len(load_records(conn, [GOOD], SCHEMA, "t", mapping)) == 1
    assert _count(conn) == 1


def test_colliding_keys() -> None:
    conn = duckdb.connect()
    create_tables(conn, SCHEMA, "t", KEYED)
    with pytest.raises(LoadError, match=r"record 3.*'a'.*record 1"):
        load_records(conn, [{"s": "a"}, {"s": "b"}, {"s": "a"}], SCHEMA, "t", KEYED)
    assert _count(conn) == 0
    assert load_records(conn, [{"s": "a"}], SCHEMA, "t", KEYED) == ["a"]
    with pytest.raises(LoadError, match=r"record 2.*'a'.*already in table"):
        load_records(conn, [{"s": "c"}, {"s": "a"}], SCHEMA, "t", KEYED)
    assert _count(conn) == 1


#: Values DuckDB holds as given (NUL in VARCHAR, infinities and both zeros in DOUBLE, the int64 ends).
EXACT = [
    {"s": "x\x00y", "n": 2**63 - 1, "i": -(2**63), "l": ["\x00", "ß", "𝔘"]},
    {"s": "'\"\\%_$1?", "n": 2**53 + 1, "i": 2**53 + 1, "l": []},
    {"s": "and", "n": 2.0**53, "i": 0, "l": ["or", "not"]},
    {"s": "", "n": float("inf"), "i": None},
    {"s": None, "n": float("-inf")},
    {"n": -0.0},
    {"n": 0.1},
    {"n": 1e308},
    {"n": 5e-324},
    {},
]


def _rows(conn: Any) -> list[tuple[Any, ...]]:
    return conn.execute('SELECT "s", union_tag("n"), "n", "i" FROM "t" ORDER BY "id"').fetchall()


def test_values_stored_as_given() -> None:
    conn = _fresh(JSON_COLUMN)
    keys = load_records(conn, EXACT, SCHEMA, "t")
    assert keys == list(range(1, len(EXACT) + 1))
    rows = _rows(conn)
    for record, (s, tag, n, i) in zip(EXACT, rows):
        assert s == record.get("s")
        assert i == record.get("i")
        want = record.get("n")
        if want is None:
            assert n is None
            continue
        assert tag == ("i" if isinstance(want, int) else "f")
        assert type(n) is type(want) and n == want
        if isinstance(want, float):
            assert math.copysign(1, n) == math.copysign(1, want)
    lists = conn.execute('SELECT "parent_id", "value" FROM "t__l" ORDER BY rowid').fetchall()
    assert lists == [(k, v) for k, r in zip(keys, EXACT) for v in r.get("l", [])]


def test_many_rows_in_more_than_one_statement(monkeypatch: pytest.MonkeyPatch) -> None:
    from skillfilter.backends.sql import duckdb as dialect_module

    monkeypatch.setattr(dialect_module, "_BULK_ROWS", 7)
    records = [{"s": f"r{n}", "n": n if n % 2 else n + 0.5, "i": n, "l": [str(n)] * (n % 3),
                "kids": [{"name": f"k{n}"}]} for n in range(50)]
    conn = _fresh(PROPERTY_ROWS)
    keys = load_records(conn, records, SCHEMA, "t", PROPERTY_ROWS, batch=20)
    assert keys == list(range(1, 51))
    got = conn.execute('SELECT "s", "n", "i" FROM "t" ORDER BY "id"').fetchall()
    assert got == [(r["s"], r["n"], r["i"]) for r in records]
    assert _count(conn, "t__kids") == 50
    assert _count(conn, "t__l") == sum(n % 3 for n in range(50))


def test_same_rows_as_sqlite() -> None:
    import sqlite3

    records = [GOOD, *EXACT[1:3], {"custom_properties": [{"property_name": "lang", "property_value": "fr"}]}]
    lite = sqlite3.connect(":memory:")
    create_tables(lite, SCHEMA, "t", PROPERTY_ROWS)
    duck = _fresh(PROPERTY_ROWS)
    assert load_records(lite, records, SCHEMA, "t", PROPERTY_ROWS) == load_records(
        duck, records, SCHEMA, "t", PROPERTY_ROWS)
    for table in ("t", "t__kids", "t__l", "t_props"):
        query = f'SELECT * FROM "{table}" ORDER BY 1, 2'
        want = [tuple(r) for r in lite.execute(query).fetchall()]  # numbers compare by value
        got = [tuple(r) for r in duck.execute(query).fetchall()]
        assert got == want, table


@settings(max_examples=100, deadline=None)
@given(records=st.lists(_records, min_size=1, max_size=3), rows=st.booleans())
def test_hostile_values(records: list[dict[str, Any]], rows: bool) -> None:
    mapping = PROPERTY_ROWS if rows else JSON_COLUMN
    conn = _fresh(mapping)
    try:
        keys = load_records(conn, records, SCHEMA, "t", mapping)
    except LoadError as exc:
        assert re.match(r"records? \d+", str(exc)), str(exc)
        assert _count(conn) == 0
    else:
        assert len(keys) == len(records)
        assert _count(conn) == len(records)
    load_records(conn, [GOOD], SCHEMA, "t", mapping)  # still usable
