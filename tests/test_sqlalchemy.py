"""The SQLAlchemy integration with the ORM, with the application's own tables, and on bad input.

Answers are checked against ``predicate()`` over the same records (run through SQLite and PostgreSQL engines);
the generated-filter differential tests are in tests/test_sqlalchemy_differential.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillfilter import predicate
from skillfilter.backends.sql import SchemaMapping, create_tables, load_records, register_functions
from skillfilter.backends.sql.dialect import DialectError
from skillfilter.backends.sql.mapping import MappingError
from skillfilter.errors import FilterError, FilterSyntaxError, FilterValidationError
from test_sql_differential import EXPORT_WITH_CP as EXPORT
from test_sql_differential import comparisons, filters, make_dataset

sa = pytest.importorskip("sqlalchemy")

from sqlalchemy import orm  # noqa: E402
from sqlalchemy.dialects import mysql, postgresql, sqlite  # noqa: E402
from sqlalchemy.pool import StaticPool  # noqa: E402

from skillfilter.integrations.sqlalchemy import (  # noqa: E402
    FilterCondition,
    build_tables,
    install_functions,
    to_sqlalchemy,
)

RECORDS = make_dataset("export", "employees", 60, seed=99)
#: The application's names: its own tables, not the mapping's defaults.
OVERRIDES = {"": {"table": "staff"}, "skill_clusters": {"table": "staff clusters", "link": "staff_id"}}


class Base(orm.DeclarativeBase):
    pass


class Staff(Base):
    __tablename__ = "staff"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    external_id: orm.Mapped[str | None]
    custom_properties: orm.Mapped[str | None]
    clusters: orm.Mapped[list[StaffCluster]] = orm.relationship(back_populates="staff")


class StaffCluster(Base):
    __tablename__ = "staff clusters"
    id: orm.Mapped[int] = orm.mapped_column(primary_key=True)
    staff_id: orm.Mapped[int] = orm.mapped_column(sa.ForeignKey("staff.id"))
    skill_cluster_id: orm.Mapped[str | None]
    skill_cluster_name: orm.Mapped[str | None]
    domain_name: orm.Mapped[str | None]
    proficiency_level: orm.Mapped[int | None]
    validation_state: orm.Mapped[str | None]
    staff: orm.Mapped[Staff] = orm.relationship(back_populates="clusters")


ORM_TABLES = {"employees": Staff, "employees__skill_clusters": StaffCluster}
#: What differs from the default mapping other than the names of the tables given (the ORM classes say those).
LINKS = {"skill_clusters": {"link": "staff_id"}}


def _load(conn: Any) -> list[Any]:
    create_tables(conn, EXPORT, "employees", OVERRIDES)
    keys = load_records(conn, RECORDS, EXPORT, "employees", OVERRIDES)
    conn.commit()
    return keys


@pytest.fixture(scope="module")
def sqlite_engine() -> Iterator[tuple[Any, list[Any]]]:
    conn = sqlite3.connect(":memory:", check_same_thread=False)
    register_functions(conn)
    keys = _load(conn)
    yield sa.create_engine("sqlite://", creator=lambda: conn, poolclass=StaticPool), keys
    conn.close()


@pytest.fixture(scope="module")
def pg_engine(pg_connect: Callable[..., Any]) -> tuple[Any, list[Any]]:
    conn = pg_connect()
    keys = _load(conn)
    return sa.create_engine("postgresql+psycopg://", creator=lambda: conn, poolclass=StaticPool), keys


def expected(expr: Any, keys: list[Any]) -> set[Any]:
    test = predicate(expr, schema=EXPORT, entity="employees")
    return {k for k, r in zip(keys, RECORDS, strict=True) if test(r)}


def _engines(request: pytest.FixtureRequest, which: str) -> tuple[Any, list[Any]]:
    return request.getfixturevalue(f"{which}_engine")  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------------
# the ORM and the application's tables
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def test_orm_select_entities(request: pytest.FixtureRequest, which: str) -> None:
    engine, keys = _engines(request, which)

    @settings(max_examples=60, deadline=None)
    @given(filters(SchemaMapping(EXPORT, "employees").schema, "employees", max_leaves=6))
    def run(expr: Any) -> None:
        cond = to_sqlalchemy(expr, schema=EXPORT, entity="employees", mapping=LINKS,
                            tables=ORM_TABLES)
        with orm.Session(engine) as session:
            people = session.scalars(sa.select(Staff).where(cond)).all()
            assert {p.id for p in people} == expected(expr, keys)
            # combined with the application's own conditions and relationships
            both = session.scalars(sa.select(Staff).where(cond, Staff.id > 10)).all()
            assert {p.id for p in both} == {k for k in expected(expr, keys) if k > 10}

    run()


@pytest.mark.parametrize("which", ["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def test_orm_alias_and_join(request: pytest.FixtureRequest, which: str) -> None:
    """An aliased ORM class as the filtered table, and the filter inside a join the application writes."""
    engine, keys = _engines(request, which)
    text = "skill_clusters__skill_cluster_name__istartswith='d' and not cp_language='de'"
    want = expected(text, keys)
    assert want and want != set(keys)
    s = orm.aliased(Staff, name="s")
    cond = to_sqlalchemy(text, schema=EXPORT, mapping=LINKS, tables={**ORM_TABLES, "employees": s})
    with orm.Session(engine) as session:
        got = set(session.scalars(sa.select(s.id).where(cond)))
        assert got == want
        anonymous = orm.aliased(Staff)
        cond2 = to_sqlalchemy(text, schema=EXPORT, mapping=LINKS,
                              tables={**ORM_TABLES, "employees": anonymous})
        assert set(session.scalars(sa.select(anonymous.id).where(cond2))) == want
        joined = session.execute(
            sa.select(Staff.id, StaffCluster.id).join(StaffCluster, Staff.clusters)
            .where(to_sqlalchemy(text, schema=EXPORT, mapping=LINKS, tables=ORM_TABLES))
        ).all()
        assert {sid for sid, _ in joined} <= want


@pytest.mark.parametrize("which", ["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def test_negation_and_combination(request: pytest.FixtureRequest, which: str) -> None:
    engine, keys = _engines(request, which)
    schema = SchemaMapping(EXPORT, "employees").schema

    @settings(max_examples=40, deadline=None)
    @given(comparisons(schema, "employees"), comparisons(schema, "employees"))
    def run(a: Any, b: Any) -> None:
        ca = to_sqlalchemy(a, schema=EXPORT, mapping=LINKS, tables=ORM_TABLES)
        cb = to_sqlalchemy(b, schema=EXPORT, mapping=LINKS, tables=ORM_TABLES)
        ea, eb = expected(a, keys), expected(b, keys)
        with engine.connect() as conn:
            def ids(cond: Any) -> set[Any]:
                return set(conn.scalars(sa.select(Staff.id).where(cond)))

            assert ids(~ca) == set(keys) - ea
            assert ids(~~ca) == ea
            assert ids(sa.and_(ca, cb)) == ea & eb
            assert ids(sa.or_(ca, ~cb)) == ea | (set(keys) - eb)

    run()


def test_build_tables_create_all_and_load() -> None:
    """``build_tables`` + ``create_all`` makes the tables ``create_tables`` makes: ``load_records`` fills them
    and the answers are predicate()'s."""
    mapping = SchemaMapping(EXPORT, "employees")
    metadata = sa.MetaData()
    tables = build_tables(mapping, metadata)
    assert set(tables) == {t.name for t in _defs(mapping)}
    conn = sqlite3.connect(":memory:")
    register_functions(conn)
    engine = sa.create_engine("sqlite://", creator=lambda: conn, poolclass=StaticPool)
    metadata.create_all(engine)
    keys = load_records(conn, RECORDS, mapping.schema, "employees")
    conn.commit()
    for text in ["skill_clusters__current_skills__name__icontains='a'", "not cp_tags='a'",
                 "skill_clusters__sources='learning' or external_id__endswith='1'"]:
        cond = to_sqlalchemy(text, mapping=mapping, tables=tables)
        with engine.connect() as c:
            got = set(c.scalars(sa.select(tables["employees"].c.id).where(cond)))
        assert got == expected(text, keys)
    assert {i.name for i in tables["employees__skill_clusters"].indexes} == {"employees__skill_clusters__parent_id__idx"}


def _defs(mapping: SchemaMapping) -> list[Any]:
    from skillfilter.backends.sql import table_definitions

    return table_definitions(mapping)


# --------------------------------------------------------------------------------------------------
# values as bound parameters
# --------------------------------------------------------------------------------------------------
@given(st.text(max_size=12))
@settings(max_examples=60, deadline=None)
def test_values_never_enter_the_sql(value: str) -> None:
    cond = to_sqlalchemy(f"external_id__icontains={_quoted(value)} or cp_x={_quoted(value)}", schema=EXPORT)
    for dialect in (sqlite.dialect(), postgresql.psycopg.dialect()):
        compiled = sa.select(cond.table.c.id).where(cond).compile(dialect=dialect)
        sql = str(compiled)
        assert all(p.type is not None and not isinstance(p.type, sa.types.NullType)
                   for p in compiled.binds.values())
        if len(value) > 2 and value not in ("employees", "external_id", "custom_properties"):
            assert value not in sql.replace("skillfilter_fold", "")


def _quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def test_parameters_have_explicit_types() -> None:
    cond = to_sqlalchemy("external_id='a' or cp_n__gt=18446744073709551617 or cp_n=2.5 or active=true",
                         schema="skillengine")
    compiled = sa.select(cond.table.c.id).where(cond).compile(dialect=postgresql.psycopg.dialect())
    types = {type(b.type).__name__ for b in compiled.binds.values()}
    assert "NullType" not in types and {"String", "Boolean"} <= types


# --------------------------------------------------------------------------------------------------
# bad input: our own errors
# --------------------------------------------------------------------------------------------------
def test_bad_filters_raise_filter_errors() -> None:
    with pytest.raises(FilterSyntaxError):
        to_sqlalchemy("external_id=", schema=EXPORT)
    with pytest.raises(FilterValidationError):
        to_sqlalchemy("nope=1", schema=EXPORT)


def test_bad_tables_raise_mapping_errors() -> None:
    with pytest.raises(MappingError, match="not among the mapping's tables"):
        to_sqlalchemy("external_id='1'", schema=EXPORT, tables={"people": Staff})
    with pytest.raises(MappingError, match="give a Table or an ORM class"):
        to_sqlalchemy("external_id='1'", schema=EXPORT, tables={"employees": 42})
    lacking = sa.Table("employees", sa.MetaData(), sa.Column("key", sa.Integer))
    with pytest.raises(MappingError, match="lacks the mapped column"):
        to_sqlalchemy("external_id='1'", schema=EXPORT, tables={"employees": lacking})
    with pytest.raises(MappingError):
        to_sqlalchemy("external_id='1'", schema=EXPORT, mapping=3)  # type: ignore[arg-type]
    with pytest.raises(MappingError):
        to_sqlalchemy("external_id='1'", schema="skillengine", mapping=SchemaMapping(EXPORT, "employees"))
    assert issubclass(MappingError, FilterError)


def test_engine_without_a_dialect_is_a_filter_error() -> None:
    cond = to_sqlalchemy("external_id='1'", schema=EXPORT)
    with pytest.raises(DialectError, match="mysql"):
        str(sa.select(cond.table.c.id).where(cond).compile(dialect=mysql.dialect()))


def test_condition_is_a_column_element() -> None:
    cond = to_sqlalchemy("external_id='1'", schema=EXPORT)
    assert isinstance(cond, FilterCondition) and isinstance(cond, sa.ColumnElement)
    assert isinstance(cond.type, sa.Boolean)
    assert repr(cond) == "<FilterCondition on 'employees'>"
    with pytest.raises(TypeError):
        install_functions(object())


@pytest.mark.postgres
def test_install_functions_on_a_postgresql_engine(pg_connect: Callable[..., Any]) -> None:
    """``install_functions(engine)`` creates ``skillfilter_fold`` in the database: a case-insensitive filter
    then runs, and answers with rule 5 (``ß`` maps to itself, not to ``SS``; ``ﬁ`` likewise)."""
    conn = pg_connect(install=False)
    words = ["Straße", "STRASSE", "ﬁsh", "FISH", "İstanbul", "istanbul"]
    records = [{"external_id": w} for w in words]
    create_tables(conn, EXPORT, "employees")
    keys = load_records(conn, records, EXPORT, "employees")
    engine = sa.create_engine("postgresql+psycopg://", creator=lambda: conn, poolclass=StaticPool)
    install_functions(engine)
    for text in ["external_id__iexact='straße'", "external_id__istartswith='fi'", "external_id__icontains='STAN'"]:
        cond = to_sqlalchemy(text, schema=EXPORT)
        with engine.connect() as c:
            got = set(c.scalars(sa.select(cond.table.c.id).where(cond)))
        test = predicate(text, schema=EXPORT, entity="employees")
        assert got == {k for k, r in zip(keys, records, strict=True) if test(r)}


def test_install_functions_on_a_sqlite_engine() -> None:
    engine = sa.create_engine("sqlite://", poolclass=StaticPool)
    install_functions(engine)
    mapping = SchemaMapping(EXPORT, "employees")
    metadata = sa.MetaData()
    tables = build_tables(mapping, metadata)
    metadata.create_all(engine)
    words = ["Straße", "STRASSE", "ǅ", "ǆ", "Ǆ"]
    with engine.begin() as c:
        c.execute(tables["employees"].insert(), [{"id": i, "external_id": w} for i, w in enumerate(words)])
    for text in ["external_id__iexact='STRASSE'", "external_id__iexact='ǆ'", "not external_id__iexact='Ǆ'"]:
        cond = to_sqlalchemy(text, mapping=mapping, tables=tables)
        with engine.connect() as c:
            got = set(c.scalars(sa.select(tables["employees"].c.id).where(cond)))
        test = predicate(text, schema=EXPORT, entity="employees")
        assert got == {i for i, w in enumerate(words) if test({"external_id": w})}


def test_statement_cache_keeps_values_apart() -> None:
    """SQLAlchemy's statement cache: a filter run again is a cache hit; the same filter with other values, or
    values of other types that compare equal in Python (1, 1.0, true, '1'), never reuses another's SQL."""
    mapping = SchemaMapping("skillengine", "employees")
    metadata = sa.MetaData()
    tables = build_tables(mapping, metadata)
    engine = sa.create_engine("sqlite://", poolclass=StaticPool)
    install_functions(engine)
    metadata.create_all(engine)
    rows = [{"id": 1, "external_id": "1", "active": True}, {"id": 2, "external_id": "x", "active": False},
            {"id": 3, "external_id": "X", "active": None}]
    with engine.begin() as c:
        c.execute(tables["employees"].insert(), rows)
    records = [{"external_id": r["external_id"], "active": r["active"]} for r in rows]
    texts = ["external_id='1'", "external_id='x'", "external_id__iexact='x'", "active=true", "active=false",
             "not active=true", "external_id='1'", "active=true", "not active=true"]
    hits = []
    with engine.connect() as c:
        for text in texts:
            cond = to_sqlalchemy(text, mapping=mapping, tables=tables)
            result = c.execute(sa.select(tables["employees"].c.id).where(cond))
            got = {r[0] for r in result}
            hits.append(result.context.cache_hit.name)
            test = predicate(text, schema="skillengine", entity="employees")
            assert got == {r["id"] for r, rec in zip(rows, records, strict=True) if test(rec)}, text
    assert hits[:6] == ["CACHE_MISS"] * 6 and hits[6:] == ["CACHE_HIT"] * 3


HOSTILE_NAMES = {"": {"table": "emp'%s?:x\"s", "columns": {"external_id": "ext%(a)s?'id"},
                      "custom_properties": "cp:%%?"},
                 "skill_clusters": {"table": "cl%s'?\"", "link": "p%?"}}


@pytest.mark.parametrize("which", ["sqlite", pytest.param("pg", marks=pytest.mark.postgres)])
def test_hostile_identifiers(request: pytest.FixtureRequest, which: str) -> None:
    """Names from the mapping that are SQL or driver syntax (quotes, ``%s``, ``?``, ``:x``) stay names."""
    if which == "sqlite":
        conn: Any = sqlite3.connect(":memory:")
        register_functions(conn)
    else:
        conn = request.getfixturevalue("pg_connect")()
    mapping = SchemaMapping(EXPORT, "employees", HOSTILE_NAMES)
    create_tables(conn, mapping=mapping)
    keys = load_records(conn, RECORDS, mapping=mapping)
    conn.commit()
    dialect = "sqlite" if which == "sqlite" else "postgresql+psycopg"
    engine = sa.create_engine(f"{dialect}://", creator=lambda: conn, poolclass=StaticPool)
    tables = build_tables(mapping, sa.MetaData())
    root = tables[mapping.root.table]
    for text in ["external_id__startswith='1' or not cp_language='de'",
                 "skill_clusters__skill_cluster_name__icontains='o' and skill_clusters__proficiency_level__gt=2",
                 "not skill_clusters__current_skills__name='Java'"]:
        for cond in (to_sqlalchemy(text, mapping=mapping, tables=tables), to_sqlalchemy(text, mapping=mapping)):
            with engine.connect() as c:
                got = set(c.scalars(sa.select(cond.table.c.id).where(cond)))
            assert got == expected(text, keys), text
        with engine.connect() as c:
            got = set(c.scalars(sa.select(root.c.id).where(to_sqlalchemy(text, mapping=mapping, tables=tables))))
        assert got == expected(text, keys)


@pytest.mark.postgres
def test_async_postgresql(pg_connect: Callable[..., Any], postgres_dsn: str) -> None:
    """``create_async_engine`` with psycopg's async driver: the same answers as predicate()."""
    import asyncio

    from sqlalchemy.ext.asyncio import create_async_engine

    setup = pg_connect()  # a fresh schema with skillfilter_fold, filled here
    keys = _load(setup)
    schema_name = setup.execute("SELECT current_schema()").fetchone()[0]
    parts = dict(p.split("=", 1) for p in postgres_dsn.split())
    url = f"postgresql+psycopg_async://{parts['user']}@{parts['host']}:{parts['port']}/{parts['dbname']}"
    texts = ["skill_clusters__skill_cluster_name__iexact='devops' or not cp_language='de'",
             "not skill_clusters__current_skills__name__istartswith='j'"]

    async def main() -> list[set[Any]]:
        engine = create_async_engine(url, connect_args={"options": f"-c search_path={schema_name}"})
        out = []
        try:
            async with engine.connect() as conn:
                for text in texts:
                    cond = to_sqlalchemy(text, schema=EXPORT, mapping=LINKS, tables=ORM_TABLES)
                    out.append(set((await conn.execute(sa.select(Staff.id).where(cond))).scalars()))
        finally:
            await engine.dispose()
        return out

    assert asyncio.run(main()) == [expected(t, keys) for t in texts]
