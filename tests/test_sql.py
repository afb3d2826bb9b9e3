"""The SQL backend: API, mapping, loader, database functions, engine-specific exactness, the CLI command.

The broad equality with ``predicate()`` is tested in ``test_sql_differential.py``; here are the pieces that
need a test of their own: the mapping and its overrides (also with hostile identifiers), the missing-function
errors, the case mapping on PostgreSQL (every code point against Python), code-point order on a database
whose collation is ICU's, NUL on both engines, integers beyond 64 bits on SQLite, index use on PostgreSQL,
deep filters on SQLite, and ``skillfilter sql``.
"""

from __future__ import annotations

import io
import json
import re
import sqlite3
import sys
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillfilter import And, Comparison, CustomProperty, FieldRef, Not, Or, parse
from skillfilter.backends.python import predicate
from skillfilter.backends.sql import (
    MissingFunctionError,
    execute,
    fold_table,
    install_functions,
    register_functions,
    select_keys,
    to_sql,
)
from skillfilter.backends.sql.load import LoadError, create_tables, load_records, table_definitions
from skillfilter.backends.sql.mapping import (
    ListMapping,
    MappingError,
    PropertyTable,
    SchemaMapping,
    TableMapping,
)
from skillfilter.cli import main
from skillfilter.errors import FilterSyntaxError, FilterValidationError
from skillfilter.semantics.operators import simple_fold
from skillfilter.semantics.schema import Schema

# The export's tables with the API's (untyped) custom properties on employees: the documented export records
# have none (the built-in `export` schema neither), but these tests exercise custom-property SQL too.
EXPORT = Schema.builtin("export").extend({"entities": {"employees": {"merge": True, "custom_properties": True}}})
RECORDS = [
    {"external_id": "1", "skill_clusters": [
        {"skill_cluster_name": "DevOps", "proficiency_level": 3, "sources": ["learning"],
         "current_skills": [{"name": "Git", "skill_sources": ["resume"]}, {"name": "Java"}]},
        {"skill_cluster_name": "Finance", "proficiency_level": 1, "current_skills": []},
    ], "custom_properties": {"language": "de", "tags": ["a", "b"]}},
    {"external_id": "2", "skill_clusters": [], "custom_properties": [
        {"property_name": "language", "property_value": "fr"}]},
    {"external_id": "3", "skill_clusters": [{"skill_cluster_name": "devops", "proficiency_level": None}]},
    {"external_id": "Straße", "custom_properties": {"language": None, "tags": []}},
]


def sqlite_db(records: list[dict[str, Any]] = RECORDS, schema: Any = EXPORT, entity: str = "employees",
              mapping: Any = None) -> tuple[sqlite3.Connection, list[Any]]:
    conn = sqlite3.connect(":memory:")
    register_functions(conn)
    create_tables(conn, schema, entity, mapping)
    keys = load_records(conn, records, schema, entity, mapping)
    return conn, keys


def expected(expr: Any, records: list[dict[str, Any]], keys: list[Any], schema: Any = EXPORT,
             entity: str = "employees") -> set[Any]:
    test = predicate(expr, schema=schema, entity=entity)
    return {k for k, r in zip(keys, records) if test(r)}


@pytest.fixture(scope="module")
def pg(pg_connect: Callable[..., Any]) -> Callable[..., Any]:
    """Connections in fresh PostgreSQL schemas (tests/conftest.py)."""
    return pg_connect


# --------------------------------------------------------------------------------------------------
# to_sql: shapes and parameters
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dialect,mark", [("sqlite", "?"), ("postgresql", "%s")])
def test_placeholders_match_parameters(dialect: str, mark: str) -> None:
    sql, params = to_sql("external_id__startswith='1' or (active=true and last_updated__gte='2024-01-01')",
                         dialect=dialect)
    assert isinstance(sql, str) and isinstance(params, list)
    assert sql.count(mark) == len(params)
    if dialect == "postgresql":
        assert "%" not in sql.replace("%s", "")
        assert params[-1].tzinfo is not None  # typed: an aware datetime
    if dialect == "sqlite":
        assert params[-1] == "2024-01-01T00:00:00.000000+00:00"


def test_select_and_alias_forms() -> None:
    conn, keys = sqlite_db()
    sql, params = to_sql("external_id='1'", schema="export", select=True)
    assert sql.startswith('SELECT "employees"."id" FROM "employees" WHERE ')
    assert [r[0] for r in conn.execute(sql, params)] == [keys[0]]
    cond, params = to_sql("skill_clusters__skill_cluster_name='DevOps'", schema="export", alias="e")
    assert '"e"."id"' in cond and '"employees".' not in cond
    rows = conn.execute(f'SELECT e.external_id FROM employees AS e WHERE {cond} ORDER BY 1', params).fetchall()
    assert rows == [("1",)]
    sql, params = to_sql("external_id='1'", schema="export", select=True, alias="emp")
    assert 'FROM "employees" AS "emp"' in sql
    assert conn.execute(sql, params).fetchall() == [(keys[0],)]


def test_text_input_cap_and_errors() -> None:
    many = " or ".join(f"external_id='{i}'" for i in range(10))
    assert to_sql(many)[1] == [str(i) for i in range(10)]  # the cap is off by default
    with pytest.raises(FilterValidationError) as exc:
        to_sql(many, max_logical_operators=5)
    assert exc.value.diagnostics[0].code == "SF240"
    with pytest.raises(FilterSyntaxError):
        to_sql("external_id=")
    with pytest.raises(FilterValidationError):
        to_sql("nope='x'")
    with pytest.raises(ValueError, match="unknown SQL dialect"):
        to_sql("external_id='x'", dialect="oracle")
    assert to_sql("external_id='x'", dialect="duckdb")[1] == ["x"]  # a dialect since the BIGINT/DOUBLE fix
    with pytest.raises(MappingError, match="unknown entity"):
        to_sql("external_id='x'", entity="nope")


def test_constant_filters() -> None:
    # PostgreSQL text cannot hold NUL: nothing stored equals a text holding it, whatever the data
    nul = Comparison(FieldRef(("external_id",)), "exact", "a\x00")
    sql, params = to_sql(nul, dialect="postgresql", select=True)
    assert sql.endswith("WHERE FALSE") and params == []
    sql, params = to_sql(Not(nul), dialect="postgresql", select=True)
    assert sql == 'SELECT "employees"."id" FROM "employees"' and params == []


def test_schema_added_operators_work_by_kind() -> None:
    schema = Schema.from_dict({
        "entities": {"employees": {"fields": {"name": "text"}}},
        "operators": {"has": {"kind": "contains", "case_insensitive": True, "types": ["text"]},
                      "above": {"kind": "gt", "types": ["text"]}},
    })
    records = [{"name": "Straße"}, {"name": "STRASSE"}, {"name": "xyz"}, {}]
    conn, keys = sqlite_db(records, schema)
    for text in ("name__has='straß'", "name__above='Z'", "not name__has='S'"):
        sql, params = to_sql(text, schema=schema, select=True)
        assert {r[0] for r in conn.execute(sql, params)} == expected(text, records, keys, schema)


# --------------------------------------------------------------------------------------------------
# the mapping
# --------------------------------------------------------------------------------------------------
def test_default_mapping_of_export() -> None:
    m = SchemaMapping("export")
    assert m.root == TableMapping("employees", "id", {"external_id": "external_id"},
                                  custom_properties=None)  # the documented export records have none
    assert SchemaMapping(EXPORT).root.custom_properties == "custom_properties"
    # the `skills` entity under three relations: one table each
    tables = {m.table(f"skill_clusters__{r}").table for r in ("current_skills", "related_skills", "rejected_skills")}
    assert len(tables) == 3
    assert m.node("skill_clusters__current_skills__skill_sources") == ListMapping(
        "employees__skill_clusters__current_skills__skill_sources")
    jobs = SchemaMapping("skillengine", "jobs")
    assert jobs.table("job_family").table == "job_families"
    assert jobs.table("job_family").link == "job_family_id_"  # `job_family_id` is a field of jobs
    names = [t.name for t in table_definitions(jobs)]
    assert names == ["jobs", "job_families"]


def test_overrides_piece_by_piece() -> None:
    m = SchemaMapping(EXPORT, "employees", {
        "": {"table": "people", "key": "pk", "columns": {"external_id": "ext"}, "custom_properties": "props"},
        "skill_clusters": {"table": "clusters", "link": "person"},
        "skill_clusters__sources": ListMapping("cluster_sources", link="cluster", value="source"),
    })
    assert m.root.table == "people" and m.root.column("external_id") == "ext"
    assert m.table("skill_clusters").link == "person"
    assert m.table("skill_clusters__current_skills").table == "clusters__current_skills"  # derived
    sql, _ = to_sql("skill_clusters__sources='x' and external_id='1' and cp_a='b'", schema=EXPORT,
                         mapping=m, select=True)
    for name in ('"people"', '"pk"', '"ext"', '"clusters"', '"person"', '"cluster_sources"', '"cluster"',
                 '"source"', '"props"'):
        assert name in sql
    m2 = m.with_overrides({"skill_clusters": {"key": "cid"}})
    assert m2.table("skill_clusters").key == "cid" and m2.table("skill_clusters").table == "clusters"
    # a dict of overrides can be passed to to_sql directly
    sql, _ = to_sql("external_id='1'", schema=EXPORT, mapping={"": {"table": "t"}}, select=True)
    assert 'FROM "t"' in sql


@pytest.mark.parametrize("overrides,message", [
    ({"nope": {"table": "x"}}, "unknown"),
    ({"external_id": {"table": "x"}}, "plain field"),
    ({"skill_clusters__sources": {"table": "x", "key": "k"}}, "unknown attributes"),
    ({"skill_clusters__sources": TableMapping("x")}, "ListMapping"),
    ({"": {"table": "bad\x00name"}}, "NUL"),
    ({"": {"table": ""}}, "empty"),
    ({"": {"table": "x" * 64}}, "longer than 63"),
    ({"": {"columns": {"nope": "x"}}}, "no plain fields"),
    ({"": {"key": 5}}, "must be a string"),
    ({"": 5}, "must be a TableMapping"),
])
def test_bad_mappings(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(MappingError, match=message):
        SchemaMapping("export", "employees", overrides)


HOSTILE_IDENTIFIERS = {
    "": {"table": 'emp"loyees; DROP TABLE x; --', "key": "k%s?", "columns": {"external_id": "ext'ernal %(x)s"},
         "custom_properties": "cp /* */"},
    "skill_clusters": {"table": "clu\"st?ers", "link": "own%er"},
    "skill_clusters__sources": {"table": "src ;--", "link": "l\\i", "value": "v\"a'l"},
    "skill_clusters__current_skills": {"table": "日本 skills", "key": "ĸey"},
}
HOSTILE_FILTERS = [
    "external_id='1' or external_id__iendswith='SSE'",
    "skill_clusters__sources='learning'",
    "not skill_clusters__current_skills__name='Git'",
    "skill_clusters__current_skills__skill_sources__is_null=true",
    "cp_language='de' or cp_tags='b'",
]


def test_hostile_identifiers_sqlite() -> None:
    conn, keys = sqlite_db(mapping=HOSTILE_IDENTIFIERS)
    for text in HOSTILE_FILTERS:
        sql, params = to_sql(text, schema=EXPORT, mapping=HOSTILE_IDENTIFIERS, select=True)
        assert {r[0] for r in conn.execute(sql, params)} == expected(text, RECORDS, keys), text


@pytest.mark.postgres
def test_hostile_identifiers_postgresql(pg: Callable[..., Any]) -> None:
    conn = pg()
    create_tables(conn, EXPORT, "employees", HOSTILE_IDENTIFIERS)
    keys = load_records(conn, RECORDS, EXPORT, "employees", HOSTILE_IDENTIFIERS)
    for text in HOSTILE_FILTERS:
        sql, params = to_sql(text, dialect="postgresql", schema=EXPORT, mapping=HOSTILE_IDENTIFIERS, select=True)
        assert {r[0] for r in conn.execute(sql, params)} == expected(text, RECORDS, keys), text


# --------------------------------------------------------------------------------------------------
# the loader
# --------------------------------------------------------------------------------------------------
def test_loader_keys_continue_and_records_must_fit() -> None:
    conn, keys = sqlite_db()
    assert keys == [1, 2, 3, 4]
    more = load_records(conn, RECORDS[:2], "export")
    assert more == [5, 6]
    typed = Schema.from_dict({"entities": {"t": {"fields": {"n": "integer", "d": "date", "w": "datetime",
                                                              "b": "boolean", "s": "text", "l": "list[text]"}}}})
    lite = sqlite3.connect(":memory:")
    create_tables(lite, typed, "t")
    for bad, message in [({"n": 1.5}, "not an integer"), ({"n": "1"}, "expected a number"),
                         ({"n": 2**64}, "64 bits"), ({"d": "2024-02-30"}, "expected a date"),
                         ({"w": "yesterday"}, "date-time"), ({"b": 1}, "true or false"), ({"s": 5}, "text"),
                         ({"l": [1]}, "text")]:
        with pytest.raises(LoadError, match=message):
            load_records(lite, [bad], typed, "t")
    with pytest.raises(LoadError, match="not a JSON object"):
        load_records(lite, [5], typed, "t")  # type: ignore[list-item]
    assert load_records(lite, [{"n": 2.0, "w": "2024-01-31T10:30:00+01:00", "d": "2024-01-31"}], typed, "t") == [1]
    assert lite.execute("SELECT n, w, d FROM t").fetchall() == [(2, "2024-01-31T09:30:00.000000+00:00", "2024-01-31")]


@pytest.mark.postgres
def test_loader_postgresql_refuses_nul(pg: Callable[..., Any]) -> None:
    conn = pg(install=False)
    create_tables(conn, EXPORT, "employees")
    with pytest.raises(LoadError, match="NUL"):
        load_records(conn, [{"external_id": "a\x00b"}], EXPORT, "employees")
    with pytest.raises(LoadError, match="NUL"):
        load_records(conn, [{"external_id": "a", "custom_properties": {"x": "\x00"}}], EXPORT, "employees")


# --------------------------------------------------------------------------------------------------
# the case mapping function
# --------------------------------------------------------------------------------------------------
def test_missing_function_sqlite() -> None:
    conn = sqlite3.connect(":memory:")
    create_tables(conn, EXPORT)
    sql, params = to_sql("external_id__iexact='x'", schema=EXPORT, select=True)
    with pytest.raises(sqlite3.OperationalError, match="no such function: skillfilter_fold"):
        conn.execute(sql, params)
    with pytest.raises(MissingFunctionError, match=r"register_functions\(conn\)"):
        execute(conn, sql, params)
    register_functions(conn)
    assert execute(conn, sql, params) == []
    fresh = sqlite3.connect(":memory:")  # select_keys registers the function itself
    create_tables(fresh, EXPORT)
    load_records(fresh, RECORDS, EXPORT)
    assert select_keys(fresh, "external_id__iexact='STRASSE'", schema=EXPORT) == []  # ß is not SS
    assert select_keys(fresh, "external_id__iexact='strAßE'", schema=EXPORT) == [4]


@pytest.mark.postgres
def test_missing_function_postgresql(pg: Callable[..., Any]) -> None:
    conn = pg(install=False)
    create_tables(conn, EXPORT)
    sql, params = to_sql("external_id__icontains='x'", dialect="postgresql", schema=EXPORT, select=True)
    with pytest.raises(MissingFunctionError, match=r"install_functions\(conn\)"):
        execute(conn, sql, params)
    install_functions(conn)
    assert execute(conn, sql, params) == []


def test_fold_table_is_rule_5() -> None:
    src, dst = fold_table()
    assert len(src) == len(dst) > 1000
    assert "ß" not in src and "ǆ" in src and "ᾳ" not in src and "ı" in src
    for a, b in zip(src, dst):
        assert simple_fold(a) == b


@pytest.mark.postgres
def test_postgresql_fold_is_exact_for_every_code_point(pg: Callable[..., Any]) -> None:
    conn = pg()
    chars = [chr(cp) for cp in range(1, sys.maxunicode + 1) if not 0xD800 <= cp <= 0xDFFF]
    chunks = ["".join(chars[i:i + 2000]) for i in range(0, len(chars), 2000)]
    rows = conn.execute("SELECT skillfilter_fold(x) FROM unnest(%s::text[]) WITH ORDINALITY AS t(x, n) ORDER BY n",
                        [chunks]).fetchall()
    for chunk, (folded,) in zip(chunks, rows):
        assert folded == simple_fold(chunk)


@pytest.mark.postgres
@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), max_size=12),
                min_size=1, max_size=20))
def test_postgresql_fold_matches_python(pg: Callable[..., Any], texts: list[str]) -> None:
    conn = _fold_conn(pg)
    rows = conn.execute("SELECT skillfilter_fold(x) FROM unnest(%s::text[]) WITH ORDINALITY AS t(x, n) ORDER BY n",
                        [texts]).fetchall()
    assert [r[0] for r in rows] == [simple_fold(t) for t in texts]


_FOLD_CONN: list[Any] = []


def _fold_conn(pg: Callable[..., Any]) -> Any:
    if not _FOLD_CONN:
        _FOLD_CONN.append(pg())
    return _FOLD_CONN[0]


# --------------------------------------------------------------------------------------------------
# engine specifics
# --------------------------------------------------------------------------------------------------
ORDER_TEXTS = ["a", "B", "b", "é", "z", "Z", "ß", "SS", "ẞ", "a b", "ab", "a%", "a_", "_", "%", "\\", "日本",
               "😀", "", " ", "İ", "i", "I", "ı", "~"]


@pytest.mark.postgres
def test_code_point_order_on_an_icu_database(postgres_dsn: str) -> None:
    """A database whose collation is ICU's (linguistic order, ``upper('ß') = 'SS'``), and columns of the
    default collation (not the loader's): the SQL still compares by code point."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    name = "sf_icu_" + uuid.uuid4().hex[:10]
    with psycopg.connect(postgres_dsn, autocommit=True) as admin:
        try:
            admin.execute(f"CREATE DATABASE {name} LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C' "
                          "TEMPLATE template0 ENCODING 'UTF8'")
        except psycopg.Error as exc:  # a server built without ICU
            pytest.skip(f"no ICU collation: {exc}")
    try:
        dsn = make_conninfo(**{**conninfo_to_dict(postgres_dsn), "dbname": name})
        with psycopg.connect(dsn, autocommit=True) as conn:
            assert conn.execute("SELECT 'a' < 'B'").fetchone() == (True,)  # linguistic order here
            install_functions(conn)
            conn.execute("CREATE TABLE employees (id bigint PRIMARY KEY, external_id text, custom_properties jsonb)")
            records = [{"external_id": t} for t in ORDER_TEXTS] + [{}]
            for i, t in enumerate(ORDER_TEXTS, 1):
                conn.execute("INSERT INTO employees VALUES (%s, %s, NULL)", [i, t])
            conn.execute("INSERT INTO employees VALUES (%s, NULL, NULL)", [len(ORDER_TEXTS) + 1])
            keys = list(range(1, len(records) + 1))
            for op in ("gt", "gte", "lt", "lte", "exact", "iexact", "startswith", "istartswith", "contains",
                       "iendswith"):
                for lit in ("b", "B", "ß", "SS", "a", "é", "_", "%", "I", "İ"):
                    expr = Comparison(FieldRef(("external_id",)), op, lit)
                    sql, params = to_sql(expr, dialect="postgresql", select=True)
                    got = {r[0] for r in conn.execute(sql, params)}
                    assert got == expected(expr, records, keys, None), (op, lit)
    finally:
        with psycopg.connect(postgres_dsn, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name}")


NUL_RECORDS = [{"external_id": s} for s in ["a\x00b", "a", "a\x00", "\x00", "b\x00a", "ab", ""]] + [{}]


@pytest.mark.parametrize("op", ["exact", "iexact", "contains", "icontains", "startswith", "istartswith",
                                "endswith", "iendswith", "gt", "gte", "lt", "lte"])
def test_nul_in_text_on_sqlite(op: str) -> None:
    conn, keys = sqlite_db(NUL_RECORDS)
    for lit in ["a\x00b", "\x00", "a", "", "b", "a\x00", "\x00a"]:
        expr = Comparison(FieldRef(("external_id",)), op, lit)
        sql, params = to_sql(expr, schema=EXPORT, select=True)
        assert {r[0] for r in conn.execute(sql, params)} == expected(expr, NUL_RECORDS, keys), (op, lit)


@pytest.mark.postgres
def test_nul_in_literals_on_postgresql(pg: Callable[..., Any]) -> None:
    """PostgreSQL text cannot hold NUL; a literal with one still gets its exact answer."""
    conn = pg()
    records = [{"external_id": s} for s in ["a", "ab", "a\x01", "", "b", "Z"]] + [{}]
    create_tables(conn, EXPORT)
    keys = load_records(conn, records, EXPORT)
    for op in ("exact", "iexact", "contains", "startswith", "endswith", "gt", "gte", "lt", "lte"):
        for lit in ("a\x00", "a\x00b", "\x00", "ab\x00"):
            for expr in (Comparison(FieldRef(("external_id",)), op, lit),
                         Not(Comparison(FieldRef(("external_id",)), op, lit))):
                sql, params = to_sql(expr, dialect="postgresql", schema=EXPORT, select=True)
                assert {r[0] for r in conn.execute(sql, params)} == expected(expr, records, keys), (op, lit)


NUMBER_SCHEMA = Schema.from_dict({"entities": {"n": {"fields": {"x": "number", "i": "integer"}}}})


def test_integers_beyond_64_bits_on_sqlite() -> None:
    """As ``predicate()``: a float means its shortest decimal form (the double 2**63 is 9223372036854776000,
    not the integer 2**63), whatever SQLite's binary comparison of an INTEGER with a REAL says."""
    values = [0, 1, -1, 2**63 - 1, -(2**63), 1e19, -1e19, 9.223372036854776e18, 1.8446744073709552e19, 1e308,
              float("inf"), -float("inf"), 0.5, 2.0**60, -(2.0**63), 9.223372036854775e18, 2**60,
              1152921504606847000, 9223372036854775000, 1e23]
    records = [{"x": v, "i": v if isinstance(v, int) else None} for v in values] + [{}]
    conn, keys = sqlite_db(records, NUMBER_SCHEMA, "n")
    for lit in [2**63, 2**63 + 1, -(2**63) - 1, 2**64, 2**64 + 1, 10**19, 10**30, 2**1024, 2**1024 + 1, -(10**400),
                18446744073709551616, 9223372036854776000, -9223372036854776000, 10**23, 2**60,
                1152921504606847000, -(2**63), 9223372036854775000, 2.0**60, 9.223372036854775e18, 1e23]:
        for op in ("exact", "gt", "gte", "lt", "lte"):
            for field in ("x", "i"):
                for expr in (Comparison(FieldRef((field,)), op, lit), Not(Comparison(FieldRef((field,)), op, lit))):
                    sql, params = to_sql(expr, schema=NUMBER_SCHEMA, entity="n", select=True)
                    got = {r[0] for r in conn.execute(sql, params)}
                    assert got == expected(expr, records, keys, NUMBER_SCHEMA, "n"), (field, op, lit)


def test_deep_filters_on_sqlite() -> None:
    """SQLite's parser stack is small: the SQL keeps the deepest operand first, so deep filters parse."""
    conn, keys = sqlite_db()
    expr: Any = Comparison(FieldRef(("external_id",)), "exact", "1")
    for i in range(60):
        leaf = Comparison(FieldRef(("skill_clusters", "skill_cluster_name")), "contains", str(i % 3))
        expr = And.of(expr, leaf) if i % 2 else Or.of(expr, Not(leaf))
    sql, params = to_sql(expr, schema=EXPORT, select=True)
    assert {r[0] for r in conn.execute(sql, params)} == expected(expr, RECORDS, keys)
    nested: Any = Comparison(FieldRef(("skill_clusters", "current_skills", "name")), "exact", "Git")
    for _ in range(20):
        nested = Not(And.of(nested, Comparison(FieldRef(("skill_clusters", "sources")), "exact", "learning")))
    sql, params = to_sql(nested, schema=EXPORT, select=True)
    assert {r[0] for r in conn.execute(sql, params)} == expected(nested, RECORDS, keys)


@pytest.mark.postgres
def test_postgresql_indexes_serve_exact_and_startswith(pg: Callable[..., Any]) -> None:
    conn = pg()
    create_tables(conn, EXPORT)
    load_records(conn, [{"external_id": f"id-{i}"} for i in range(200)], EXPORT)
    conn.execute('CREATE INDEX ON employees (external_id)')  # the loader's text columns are COLLATE "C"
    conn.execute("ANALYZE employees")
    conn.execute("SET enable_seqscan = off")
    for text in ("external_id='id-7'", "external_id__startswith='id-1'"):
        sql, params = to_sql(text, dialect="postgresql", schema=EXPORT, select=True)
        plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql, params))
        assert re.search(r"Index (Only )?Scan", plan), plan
        assert "Filter" not in plan or "Index Cond" in plan, plan
    # child tables are reached through the index on their link
    sql, params = to_sql("skill_clusters__skill_cluster_name='x'", dialect="postgresql", schema=EXPORT, select=True)
    plan = "\n".join(r[0] for r in conn.execute("EXPLAIN " + sql, params))
    assert "parent_id" in plan and "Index" in plan, plan


# --------------------------------------------------------------------------------------------------
# skillfilter sql
# --------------------------------------------------------------------------------------------------
def cli(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(["sql", *argv], stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def test_cli_prints_sql_then_parameters() -> None:
    status, out, err = cli("--dialect", "sqlite", "--schema", "export", "--select",
                           "skill_clusters__skill_cluster_name__iexact='devops' and not external_id='2'")
    assert status == 0 and err == ""
    sql, params_line = out.splitlines()
    params = json.loads(params_line)
    assert sql == to_sql("skill_clusters__skill_cluster_name__iexact='devops' and not external_id='2'",
                         schema="export", select=True)[0]
    conn, keys = sqlite_db()
    assert {r[0] for r in conn.execute(sql, params)} == {keys[0], keys[2]}


def test_cli_postgresql_parameters_as_json() -> None:
    status, out, _ = cli("-d", "postgresql", "--entity", "employees",
                         "last_updated__gt='2024-01-31T10:30:00+01:00' and active=true")
    assert status == 0
    sql, params_line = out.splitlines()
    assert sql.count("%s") == 2
    assert json.loads(params_line) == ["2024-01-31T10:30:00+01:00", True]


def test_cli_stdin_mapping_and_alias(tmp_path: Any) -> None:
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"": {"table": "people", "columns": {"external_id": "ext"}}}))
    status, out, _ = cli("-d", "sqlite", "--mapping", str(mapping), "--alias", "p", "-", stdin="external_id='1'\n")
    assert status == 0
    assert out.splitlines()[0] == '"p"."ext" COLLATE BINARY = ?'


@pytest.mark.parametrize("argv,status,message", [
    (["-d", "sqlite", "external_id="], 1, "missing value"),
    (["-d", "sqlite", "nope='x'"], 1, "SF201"),
    (["-d", "sqlite", "--entity", "nope", "a=1"], 2, "unknown entity"),
    (["-d", "mysql", "a=1"], 2, "invalid choice"),
    (["a=1"], 2, "--dialect"),
    (["-d", "sqlite", "--schema", "/nonexistent.json", "a=1"], 2, "cannot read schema"),
    (["-d", "sqlite", "--mapping", "/nonexistent.json", "a=1"], 2, "cannot read mapping"),
])
def test_cli_errors(argv: list[str], status: int, message: str, capsys: pytest.CaptureFixture[str]) -> None:
    got, out, err = cli(*argv)
    captured = capsys.readouterr()
    assert got == status
    assert message in err + captured.err
    assert "Traceback" not in err + captured.err
    assert out == ""


def test_cli_bad_mapping_file(tmp_path: Any) -> None:
    bad = tmp_path / "m.json"
    bad.write_text('{"": {"table": ""}}')
    status, _, err = cli("-d", "sqlite", "--mapping", str(bad), "external_id='x'")
    assert status == 2 and "empty" in err
    bad.write_text("[1]")
    assert cli("-d", "sqlite", "--mapping", str(bad), "external_id='x'")[0] == 2


def test_parsed_or_built_expressions_give_one_sql() -> None:
    a = parse("external_id='1' or not cp_language='de'")
    b = Or.of(Comparison(FieldRef(("external_id",)), "exact", "1"),
              Not(Comparison(CustomProperty("language"), "exact", "de")))
    assert to_sql(a) == to_sql(b)


DATETIME_SCHEMA = Schema.from_dict({"entities": {"e": {"fields": {"w": "datetime", "d": "date"}}}})
EXTREME_TIMES = ["0001-01-01T00:30:00+01:00", "0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z",
                 "9999-12-31T23:59:59.999999-05:00", "9999-12-31T20:00:00-12:00", "9999-12-31T23:59:00Z",
                 "2024-01-31T10:30:00+01:00", "2024-01-31T09:30:00Z", "2024-01-31"]


def _datetime_cases() -> list[Any]:
    cases = []
    for lit in EXTREME_TIMES:
        for op in ("exact", "gt", "gte", "lt", "lte"):
            cases.append(Comparison(FieldRef(("w",)), op, lit))
            cases.append(Not(Comparison(FieldRef(("w",)), op, lit)))
    return cases


def test_datetimes_at_the_ends_of_the_calendar_on_sqlite() -> None:
    """SQLite stores datetimes as fixed-width UTC text; instants that fall outside years 1-9999 in UTC still
    sort where they belong."""
    records = [{"w": t} for t in EXTREME_TIMES] + [{}]
    conn, keys = sqlite_db(records, DATETIME_SCHEMA, "e")
    for expr in _datetime_cases():
        sql, params = to_sql(expr, schema=DATETIME_SCHEMA, entity="e", select=True)
        assert {r[0] for r in conn.execute(sql, params)} == expected(expr, records, keys, DATETIME_SCHEMA, "e")


@pytest.mark.postgres
def test_datetimes_at_the_ends_of_the_calendar_on_postgresql(pg: Callable[..., Any]) -> None:
    conn = pg()
    records = [{"w": t, "d": t[:10]} for t in EXTREME_TIMES] + [{}]
    create_tables(conn, DATETIME_SCHEMA, "e")
    keys = load_records(conn, records, DATETIME_SCHEMA, "e")
    cases = _datetime_cases() + [Comparison(FieldRef(("d",)), op, "2024-01-31") for op in ("gt", "lte", "exact")]
    for expr in cases:
        sql, params = to_sql(expr, dialect="postgresql", schema=DATETIME_SCHEMA, entity="e", select=True)
        assert {r[0] for r in conn.execute(sql, params)} == expected(expr, records, keys, DATETIME_SCHEMA, "e")


def test_custom_properties_need_their_column() -> None:
    with pytest.raises(MappingError, match="no custom properties column"):
        to_sql("cp_language='de'", mapping={"": {"custom_properties": None}})
    assert to_sql("external_id='1'", mapping={"": {"custom_properties": None}})[1] == ["1"]


def test_custom_properties_as_a_table() -> None:
    m = SchemaMapping(EXPORT, "employees", {"": {"custom_properties": {"table": "props", "link": "emp"}}})
    assert m.root.custom_properties == PropertyTable("props", link="emp")
    defs = {t.name: t for t in table_definitions(m)}
    assert "custom_properties" not in defs["employees"].columns
    assert defs["props"].columns == {"emp": "key", "name": "text", "value": "json"}
    for bad, message in [({"table": "p", "name": "value"}, "must differ"), ({"table": ""}, "empty"),
                         ({"table": "p", "owner": "x"}, "owner")]:
        with pytest.raises(MappingError, match=message):
            SchemaMapping(EXPORT, "employees", {"": {"custom_properties": bad}})
    records = [
        {"external_id": "a", "custom_properties": {"language": "de", "tags": ["x", "y"], "n": 1}},
        {"external_id": "b", "custom_properties": [{"property_name": "language", "property_value": ["en", "de"]}]},
        {"external_id": "c", "custom_properties": {"language": None, "tags": [], "n": "1"}},
        {"external_id": "d"},
    ]
    conn = sqlite3.connect(":memory:")
    create_tables(conn, EXPORT, "employees", m)
    keys = load_records(conn, records, EXPORT, "employees", m)
    # a list is one row per element; an empty list none (it reads as a missing property)
    assert conn.execute("SELECT emp, name, value FROM props ORDER BY rowid").fetchall() == [
        (1, "language", '"de"'), (1, "tags", '"x"'), (1, "tags", '"y"'), (1, "n", "1"),
        (2, "language", '"en"'), (2, "language", '"de"'), (3, "language", "null"), (3, "n", '"1"')]
    for text in ("cp_language='de'", "not cp_language='de'", "cp_tags='x' and cp_tags='y'", "cp_tags__is_null=true",
                 "cp_n=1", "not cp_n__gte=1", "cp_language__is_null=false and not cp_language='en'"):
        test = predicate(text, schema=EXPORT, entity="employees")
        want = [k for k, r in zip(keys, records, strict=True) if test(r)]
        assert select_keys(conn, text, schema=EXPORT, mapping=m) == want, text


def test_cli_help_mentions_the_dialects() -> None:
    status, out, _ = cli("--help")
    assert status == 0 and "postgresql" in out and "%s" in out


def test_condition_can_be_anded_into_a_query_of_ones_own() -> None:
    # A condition whose top is an OR (here: the empty-relation rule) must not swallow the caller's AND.
    import sqlite3

    from skillfilter.backends.sql import register_functions, to_sql
    from skillfilter.backends.sql.load import create_tables, load_records

    conn = sqlite3.connect(":memory:")
    register_functions(conn)
    create_tables(conn, "export", "employees", dialect="sqlite")
    load_records(conn, [{"external_id": "1", "skill_clusters": []},
                        {"external_id": "2", "skill_clusters": [{"sources": []}]}], "export", "employees",
                 dialect="sqlite")
    for text in ("skill_clusters__sources__is_null=true", "external_id='1' or external_id='2'"):
        sql, params = to_sql(text, schema="export", entity="employees")
        rows = conn.execute(f"SELECT external_id FROM employees WHERE external_id = ? AND {sql}",
                            ["2", *params]).fetchall()
        assert rows == [("2",)], text


def test_compile_condition_is_what_to_sql_writes() -> None:
    """The public entry point integrations use (to_sqlalchemy): a plan over a mapping -> a condition."""
    from skillfilter.backends.sql import compile_condition, resolve_mapping
    from skillfilter.plan.planner import compile_plan

    m = resolve_mapping(None, None, None)
    for text in ["external_id='1' or active=true", "not external_id__startswith='2'", "active=true"]:
        plan, _ = compile_plan(text, schema=m.schema, entity=m.entity)
        for dialect in ("sqlite", "postgresql", "duckdb"):
            cond = compile_condition(plan, dialect=dialect, mapping=m, root_ref='"employees"')
            assert (cond.text("and"), list(cond.params)) == to_sql(text, dialect=dialect)
            assert cond.const is None
            assert cond.text("atom").startswith("(") == (" OR " in cond.sql or " AND " in cond.sql)
