"""Injection: values and custom-property names made of quotes, comments, semicolons, backslashes, ``%``
and ``_`` travel only as parameters, never change the statement (the SQL text is the same for every value),
and select exactly what ``predicate()`` selects, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillfilter import Comparison, CustomProperty, Expr, FieldRef, Not, Or
from skillfilter.backends.python import predicate
from skillfilter.backends.sql import register_functions, to_sql
from skillfilter.backends.sql.load import create_tables, load_records
from skillfilter.semantics.schema import Schema

# The export's tables with the API's untyped custom properties on employees (the documented export records
# have none, and neither has the built-in schema): hostile custom-property names and values are tested too.
EXPORT = Schema.builtin("export").extend({"entities": {"employees": {"merge": True, "custom_properties": True}}})
SETTINGS = settings(max_examples=max(60, (settings.default.max_examples or 25) * 2), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

PAYLOADS = [
    "'; DROP TABLE employees; --", "' OR '1'='1", "\" OR 1=1 --", "'/*", "*/'", "/* */", "--", ";", "';",
    "\\'", "\\", "\\\\", "%", "_", "%_", "\\%", "\\_", "a%b_c", "%'--", "$$", "$sf$", "?", "%s", "%%s",
    "%(name)s", ":name", "@p", "); DELETE FROM employees; (", "' UNION SELECT 1 --", "'||'", "\x1a", "\u2019",
    "ß'", "and", "or", "not", "null", "NULL", "E'\\\\'", "ESCAPE",
]
HOSTILE = st.one_of(
    st.sampled_from(PAYLOADS),
    st.text(st.sampled_from(list("'\";-/*\\%_ ?$:@()\n\tßSsé")), min_size=1, max_size=12),
    st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=1, max_size=8),
)
TEXT_OPS = ["exact", "iexact", "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith",
            "gt", "lte"]


def variants(value: str) -> list[str]:
    return [value, value + "x", "x" + value, value.upper(), value.lower(), value[:-1], value[1:], "x"]


def records_for(value: str, name: str = "language") -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for v in variants(value):
        out.append({"external_id": v, "custom_properties": {name: v},
                    "skill_clusters": [{"skill_cluster_name": v, "current_skills": [{"name": v}]}]})
    out.append({"custom_properties": {name: [value, "y"]}})
    out.append({})
    return out


def shapes(value: str, name: str = "language") -> list[Expr]:
    out: list[Expr] = []
    for op in TEXT_OPS:
        out.append(Comparison(FieldRef(("external_id",)), op, value))
        out.append(Not(Comparison(FieldRef(("skill_clusters", "current_skills", "name")), op, value)))
        out.append(Or.of(Comparison(CustomProperty(name), op, value),
                         Comparison(FieldRef(("skill_clusters", "skill_cluster_name")), op, value)))
    return out


#: Custom properties as a JSON column (the default) or as rows of a table with a hostile name.
CP_STYLES: dict[str, dict[str, Any] | None] = {
    "json": None,
    "table": {"": {"custom_properties": {"table": "props'; --", "name": "n;%", "value": 'v"'}}},
}


class Engines:
    def __init__(self, pg: Any, mapping: dict[str, Any] | None = None) -> None:
        self.mapping = mapping
        self.lite = sqlite3.connect(":memory:")
        register_functions(self.lite)
        create_tables(self.lite, EXPORT, mapping=mapping)
        self.pg = pg
        if pg is not None:
            create_tables(pg, EXPORT, mapping=mapping)

    def reload(self, records: list[dict[str, Any]]) -> list[Any]:
        tables = [r[0] for r in self.lite.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for t in tables:
            self.lite.execute('DELETE FROM "' + t.replace('"', '""') + '"')
        keys = load_records(self.lite, records, EXPORT, mapping=self.mapping)
        if self.pg is not None:
            self.pg.execute("TRUNCATE " + ", ".join('"' + t.replace('"', '""') + '"' for t in tables))
            assert load_records(self.pg, records, EXPORT, mapping=self.mapping) == keys
        return keys

    def check(self, expr: Expr, records: list[dict[str, Any]], keys: list[Any]) -> None:
        test = predicate(expr, schema=EXPORT, entity="employees")
        want = {k for k, r in zip(keys, records) if test(r)}
        sql, params = to_sql(expr, schema=EXPORT, mapping=self.mapping, select=True)
        assert {r[0] for r in self.lite.execute(sql, params)} == want, (sql, params)
        if self.pg is not None:
            sql, params = to_sql(expr, dialect="postgresql", schema=EXPORT, mapping=self.mapping, select=True)
            assert {r[0] for r in self.pg.execute(sql, params)} == want, (sql, params)


@pytest.fixture(scope="module", params=list(CP_STYLES))
def engines(pg_connect: Callable[..., Any], request: pytest.FixtureRequest) -> Engines:
    return Engines(pg_connect(), CP_STYLES[request.param])


@settings(max_examples=200, deadline=None)
@given(HOSTILE, st.sampled_from(["sqlite", "postgresql"]), st.sampled_from(list(CP_STYLES.values())))
def test_values_never_change_the_statement(value: str, dialect: str, mapping: dict[str, Any] | None) -> None:
    for hostile, plain in zip(shapes(value), shapes("plain")):
        sql, params = to_sql(hostile, dialect=dialect, schema=EXPORT, mapping=mapping)
        assert sql == to_sql(plain, dialect=dialect, schema=EXPORT, mapping=mapping)[0]
        assert len(params) == sql.count("?" if dialect == "sqlite" else "%s")
    marked = "ZQ" + value
    sql, params = to_sql(Comparison(FieldRef(("external_id",)), "exact", marked), dialect=dialect, schema=EXPORT)
    assert marked not in sql and params == [marked]


@settings(max_examples=200, deadline=None)
@given(HOSTILE, st.sampled_from(["sqlite", "postgresql"]), st.sampled_from(list(CP_STYLES.values())))
def test_custom_property_names_never_change_the_statement(name: str, dialect: str,
                                                          mapping: dict[str, Any] | None) -> None:
    expr = Or.of(Comparison(CustomProperty(name), "exact", "v"), Not(Comparison(CustomProperty(name), "is_null", True)))
    plain = Or.of(Comparison(CustomProperty("x"), "exact", "v"), Not(Comparison(CustomProperty("x"), "is_null", True)))
    sql, params = to_sql(expr, dialect=dialect, mapping=mapping)
    assert sql == to_sql(plain, dialect=dialect, mapping=mapping)[0]
    assert name in params and ("ZQ" + name) not in sql


@pytest.mark.postgres
def test_payloads_select_what_predicate_selects(engines: Engines) -> None:
    for value in PAYLOADS:
        records = records_for(value)
        keys = engines.reload(records)
        for expr in shapes(value):
            engines.check(expr, records, keys)


@pytest.mark.postgres
@SETTINGS
@given(HOSTILE)
def test_hostile_values_select_what_predicate_selects(engines: Engines, value: str) -> None:
    records = records_for(value)
    keys = engines.reload(records)
    for expr in shapes(value):
        engines.check(expr, records, keys)


@pytest.mark.postgres
@SETTINGS
@given(HOSTILE, HOSTILE)
def test_hostile_custom_property_names(engines: Engines, name: str, value: str) -> None:
    records = records_for(value, name)
    keys = engines.reload(records)
    for expr in shapes(value, name):
        engines.check(expr, records, keys)
    for expr in (Comparison(CustomProperty(name), "is_null", True), Comparison(CustomProperty(name + "'"), "exact", value)):
        engines.check(expr, records, keys)


@pytest.mark.postgres
def test_tables_survive(engines: Engines) -> None:
    records = records_for("'; DROP TABLE employees; --")
    keys = engines.reload(records)
    for expr in shapes("'; DROP TABLE employees; --"):
        engines.check(expr, records, keys)
    assert engines.lite.execute("SELECT count(*) FROM employees").fetchone() == (len(records),)
    assert engines.pg.execute("SELECT count(*) FROM employees").fetchone() == (len(records),)

