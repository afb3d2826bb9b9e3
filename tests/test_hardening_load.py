"""Issue 8, item 4: whatever a record holds, ``load_records`` ends in a ``LoadError`` that names the record
and the field (never ``UnicodeEncodeError``, ``sqlite3``/``psycopg`` errors), loads nothing of the call,
and leaves the connection usable, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillfilter.backends.sql.load import LoadError, create_tables, load_records
from skillfilter.backends.sql.mapping import PropertyTable
from skillfilter.semantics.schema import Schema

SCHEMA = Schema.from_dict(
    {
        "name": "hostile",
        "entities": {
            "t": {
                "fields": {"s": "text", "n": "number", "i": "integer", "l": "list[text]"},
                "relations": {"kids": {"entity": "kids", "many": True}},
                "custom_properties": {"definitions": {"lang": "text"}},
            },
            "kids": {"fields": {"name": "text"}},
        },
    }
)
JSON_COLUMN: dict[str, Any] = {}
PROPERTY_ROWS: dict[str, Any] = {"": {"custom_properties": PropertyTable("t_props")}}
KEYED: dict[str, Any] = {"": {"key": "s"}}  # the key is the field `s`: records can collide

GOOD = {"s": "ok", "n": 1, "i": 2, "l": ["x"], "kids": [{"name": "k"}], "custom_properties": {"lang": "de"}}

#: (record, the field the message must name)
HOSTILE: list[tuple[dict[str, Any], str]] = [
    ({"s": "a\ud800b"}, "t.s"),
    ({"s": "\udfff"}, "t.s"),
    ({"l": ["fine", "\ud83d"]}, "t.l"),
    ({"kids": [{"name": "x\udc00"}]}, "kids.name"),
    ({"custom_properties": {"lang": "\ud800"}}, "lang"),
    ({"custom_properties": {"x\ud800": "v"}}, "x"),
    ({"custom_properties": [{"property_name": "\udbff", "property_value": 1}]}, "custom property"),
    ({"custom_properties": {"tags": ["a", {"k": "\ud800"}]}}, "tags"),
    ({"custom_properties": {"a\x00b": "v"}}, "custom property"),
    ({"custom_properties": {"lang": "x\x00"}}, "lang"),
    ({"custom_properties": {"big": 10**5000}}, "big"),
    ({"i": 2**63}, "t.i"),
    ({"i": -(2**63) - 1}, "t.i"),
    ({"n": 10**200_000}, "t.n"),
]
POSTGRES_ONLY: list[tuple[dict[str, Any], str]] = [
    ({"s": "nul\x00"}, "t.s"),
    ({"l": ["\x00"]}, "t.l"),
    ({"n": float("inf")}, "t.n"),
]


def _id(record: dict[str, Any]) -> str:
    return "-".join(f"{k}:{type(v).__name__}" for k, v in record.items()) + f"-{abs(hash(str(record.keys()))) % 997}"


def _sqlite() -> Any:
    return sqlite3.connect(":memory:")


def _count(conn: Any, table: str = "t") -> int:
    return int(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])


def _check_refused(conn: Any, mapping: dict[str, Any], record: dict[str, Any], field: str) -> None:
    before = _count(conn)
    with pytest.raises(LoadError) as info:
        load_records(conn, [GOOD, {**GOOD, **record}], SCHEMA, "t", mapping)
    message = str(info.value)
    assert message.startswith("record 2"), message
    assert field in message, message
    # nothing of the call stays, and the connection goes on working
    assert _count(conn) == before
    assert len(load_records(conn, [GOOD], SCHEMA, "t", mapping)) == 1
    assert _count(conn) == before + 1


@pytest.mark.parametrize("mapping", [JSON_COLUMN, PROPERTY_ROWS], ids=["json-column", "property-table"])
@pytest.mark.parametrize(("record", "field"), HOSTILE, ids=[_id(r) for r, _ in HOSTILE])
def test_sqlite_refuses_with_load_error(mapping: dict[str, Any], record: dict[str, Any], field: str) -> None:
    conn = _sqlite()
    create_tables(conn, SCHEMA, "t", mapping)
    _check_refused(conn, mapping, record, field)


@pytest.mark.postgres
@pytest.mark.parametrize("mapping", [JSON_COLUMN, PROPERTY_ROWS], ids=["json-column", "property-table"])
@pytest.mark.parametrize(("record", "field"), HOSTILE + POSTGRES_ONLY,
                         ids=[_id(r) for r, _ in HOSTILE + POSTGRES_ONLY])
def test_postgresql_refuses_with_load_error(pg_connect: Callable[..., Any], mapping: dict[str, Any],
                                            record: dict[str, Any], field: str) -> None:
    conn = pg_connect(install=False)
    create_tables(conn, SCHEMA, "t", mapping)
    _check_refused(conn, mapping, record, field)


def _collisions(conn: Any) -> None:
    create_tables(conn, SCHEMA, "t", KEYED)
    with pytest.raises(LoadError, match=r"record 3.*'a'.*record 1"):
        load_records(conn, [{"s": "a"}, {"s": "b"}, {"s": "a"}], SCHEMA, "t", KEYED)
    assert _count(conn) == 0
    assert load_records(conn, [{"s": "a"}], SCHEMA, "t", KEYED) == ["a"]
    with pytest.raises(LoadError, match=r"record 2.*'a'.*already in table"):
        load_records(conn, [{"s": "c"}, {"s": "a"}], SCHEMA, "t", KEYED)
    with pytest.raises(LoadError, match=r"record 1.*missing"):
        load_records(conn, [{"n": 1}], SCHEMA, "t", KEYED)
    assert _count(conn) == 1


def test_sqlite_colliding_keys() -> None:
    _collisions(_sqlite())


@pytest.mark.postgres
def test_postgresql_colliding_keys(pg_connect: Callable[..., Any]) -> None:
    _collisions(pg_connect(install=False))


def test_sqlite_caller_transaction_is_left_to_the_caller() -> None:
    conn = _sqlite()  # legacy transaction control: the caller commits
    create_tables(conn, SCHEMA, "t")
    load_records(conn, [GOOD], SCHEMA, "t")
    with pytest.raises(LoadError):
        load_records(conn, [GOOD, {"s": "\ud800"}], SCHEMA, "t")
    conn.rollback()
    assert _count(conn) == 0  # the first load was not committed behind the caller's back


# --------------------------------------------------------------------------------------------------
# hostile values, generated
# --------------------------------------------------------------------------------------------------
_text = st.text(alphabet=st.characters(codec=None, categories=None), max_size=6) | st.sampled_from(
    ["\ud800", "a\udfffb", "\x00", "x\x00y", "", "é"]
)
_number = st.integers() | st.floats(allow_nan=False) | st.sampled_from([2**63, -(2**63) - 1, 10**400, 1e308])
_json: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | _number | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=6,
)
_records = st.fixed_dictionaries(
    {},
    optional={
        "s": st.none() | _text,
        "n": st.none() | _number,
        "i": st.none() | _number,
        "l": st.lists(_text, max_size=3),
        "kids": st.lists(st.fixed_dictionaries({"name": _text}), max_size=2),
        "custom_properties": st.dictionaries(_text, _json, max_size=3)
        | st.lists(st.fixed_dictionaries({"property_name": _text, "property_value": _json}), max_size=2),
    },
)


def _load_or_refuse(conn: Any, mapping: dict[str, Any], records: list[dict[str, Any]]) -> None:
    before = _count(conn)
    try:
        keys = load_records(conn, records, SCHEMA, "t", mapping)
    except LoadError as exc:
        assert re.match(r"records? \d+", str(exc)), str(exc)
        assert _count(conn) == before
    else:
        assert len(keys) == len(records)
        assert _count(conn) == before + len(records)
    load_records(conn, [GOOD], SCHEMA, "t", mapping)  # still usable


@settings(max_examples=150, deadline=None)
@given(records=st.lists(_records, min_size=1, max_size=3), rows=st.booleans())
def test_sqlite_hostile_values(records: list[dict[str, Any]], rows: bool) -> None:
    conn = _sqlite()
    mapping = PROPERTY_ROWS if rows else JSON_COLUMN
    create_tables(conn, SCHEMA, "t", mapping)
    _load_or_refuse(conn, mapping, records)


@pytest.mark.postgres
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(_records, min_size=1, max_size=3), rows=st.booleans())
def test_postgresql_hostile_values(pg_connect: Callable[..., Any], records: list[dict[str, Any]],
                                   rows: bool) -> None:
    if _PG.get("factory") is not pg_connect:  # one connection for all the examples
        _PG.update(factory=pg_connect, conn=pg_connect(install=False))
    conn = _PG["conn"]
    mapping = PROPERTY_ROWS if rows else JSON_COLUMN
    for table in ("t_props", "t__kids", "t__l"):
        conn.execute(f'DROP TABLE IF EXISTS "{table}"')
    create_tables(conn, SCHEMA, "t", mapping, drop=True)
    _load_or_refuse(conn, mapping, records)


_PG: dict[str, Any] = {}
