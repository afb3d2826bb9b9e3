"""SQLAlchemy Core integration: a filter as a ``ColumnElement[bool]``, answering exactly as :func:`predicate`.

``to_sqlalchemy(expr, ...)`` checks the filter against a schema, builds its plan
(:func:`skillfilter.plan.planner.compile_plan`, which decides LANGUAGE.md section 3) and returns a
:class:`FilterCondition`: one SQLAlchemy clause over the tables of a
:class:`~skillfilter.backends.sql.mapping.SchemaMapping`, usable as ``select(t).where(cond)`` and with the ORM
(``select(Employee).where(cond)``).  The tables are built from the mapping (:func:`build_tables`), or are the
application's own ``Table`` objects or ORM classes (``tables={"employees": Employee, ...}``, keyed by the
mapping's table names).

How it stays exact.  The plan is compiled when SQLAlchemy compiles the statement, for the engine it runs on
(``sqlite``, ``postgresql``, or any dialect registered with the SQL backend), by the SQL backend's own
:func:`~skillfilter.backends.sql.compile_condition`: the same spelling of every plan node ``to_sql`` uses and
the differential suite checks.  SQLAlchemy's own helpers are wrong for this language in several places, and
none of them is used:

- ``~(x == v)`` renders ``x != ?`` and drops rows where ``x`` is NULL: the filter's ``not`` is guarded
  (``x IS NOT NULL AND ...``, ``coalesce(..., FALSE)``) so that NULL never reaches a ``NOT``; ``~cond`` of a
  :class:`FilterCondition` is the filter's own ``not`` (a new plan), not SQL's three-valued one;
- ``startswith(..., autoescape=True)`` is case-blind for ASCII on SQLite (``LIKE``): string operators are
  byte-wise ``instr``/``substr`` on SQLite and ``LIKE ... ESCAPE`` under ``COLLATE "C"`` on PostgreSQL;
- ``ilike()`` maps case with ``lower()``, not rule 5: case-insensitive operators use ``skillfilter_fold``
  (:func:`install_functions` makes it available to an engine);
- ``collate('C')`` does not exist on SQLite: text compares under ``COLLATE BINARY`` there;
- integers beyond 64 bits overflow SQLite's binding: they are never bound (every stored integer lies on one
  side of them); on PostgreSQL they travel as ``NUMERIC``.

Every value travels as a bound parameter (:func:`sqlalchemy.bindparam` with an explicit type); identifiers
come only from the mapping and the tables.  Requires the ``sqlalchemy`` extra.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
from collections.abc import Callable
from collections.abc import Mapping as AbcMapping
from decimal import Decimal
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause
from sqlalchemy.sql.visitors import InternalTraversal

from ..backends.sql.compiler import compile_condition, resolve_mapping
from ..backends.sql.ddl import table_definitions
from ..backends.sql.dialect import Dialect, DialectError
from ..backends.sql.dialect import dialect as get_dialect
from ..backends.sql.functions import register_functions
from ..backends.sql.mapping import MappingError, PropertyTable, SchemaMapping, TableMapping
from ..language.ast import Expr
from ..plan.nodes import PNode, PNot
from ..plan.planner import compile_plan
from ..semantics.schema import Schema
from ..semantics.values import in_int64

__all__ = ["FilterCondition", "build_tables", "install_functions", "to_sqlalchemy"]

#: Tables as the application gives them: a ``Table`` (or another named ``FromClause``), or an ORM class.
TableLike = Any


# --------------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------------
def _storage_type(type_name: str) -> sa.types.TypeEngine[Any]:
    """The SQLAlchemy type of a storage type name of :func:`~skillfilter.backends.sql.ddl.table_definitions`,
    as ``create_tables`` stores it on SQLite and PostgreSQL (docs/sql.md)."""
    from sqlalchemy.dialects import postgresql

    if type_name in ("text", "list[text]"):
        return sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")
    if type_name in ("integer", "key"):
        return sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    if type_name == "number":
        return sa.Numeric()
    if type_name == "boolean":
        return sa.Boolean()
    if type_name == "date":
        return sa.Date().with_variant(sa.Text(), "sqlite")
    if type_name == "datetime":
        return sa.DateTime(timezone=True).with_variant(sa.Text(), "sqlite")
    return sa.Text().with_variant(postgresql.JSONB(), "postgresql")  # json


def _index_name(table: str, column: str) -> str:
    name = f"{table}__{column}__idx"
    if len(name) <= 63:
        return name
    return name[:54] + "_" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]  # noqa: S324 - a name


def build_tables(
    mapping: SchemaMapping, metadata: sa.MetaData, *, indexes: bool = True
) -> dict[str, sa.Table]:
    """``Table`` objects (in ``metadata``) for every table ``mapping`` needs, keyed by table name: the tables
    :func:`~skillfilter.backends.sql.create_tables` creates, with the same columns, types and indexes (so
    ``metadata.create_all(engine)`` makes them, and :func:`~skillfilter.backends.sql.load_records` fills
    them)."""
    out: dict[str, sa.Table] = {}
    for t in table_definitions(mapping):
        columns = [sa.Column(name, _storage_type(type_name), primary_key=name == t.primary_key,
                             autoincrement=False)
                   for name, type_name in t.columns.items()]
        table = sa.Table(t.name, metadata, *columns)
        if indexes:
            for col in t.indexes:
                sa.Index(_index_name(t.name, col), table.c[col])
        out[t.name] = table
    return out


def _selectable(obj: TableLike, key: str) -> FromClause:
    """The ``FromClause`` of a ``Table``, an alias, or an ORM class (or its alias)."""
    if isinstance(obj, FromClause):
        return obj
    try:
        found = sa.inspect(obj).selectable
    except sa.exc.NoInspectionAvailable:
        found = None
    if not isinstance(found, FromClause):
        raise MappingError(f"tables[{key!r}] is {type(obj).__name__}: give a Table or an ORM class")
    return found


def _name_of(fc: FromClause, key: str) -> str:
    name = getattr(fc, "name", None)
    if not isinstance(name, str):
        raise MappingError(f"tables[{key!r}] has no name (give a Table, a named alias or an ORM class)")
    return name


def _with_tables(m: SchemaMapping, tables: AbcMapping[str, TableLike]) -> tuple[SchemaMapping, FromClause]:
    """The mapping with each table renamed as the application's (keys: the mapping's table names), and the
    filtered entity's table."""
    given = {k: _selectable(v, k) for k, v in tables.items()}
    overrides: dict[tuple[str, ...], dict[str, Any]] = {}
    known: set[str] = set()
    for path, _kind, node in m.tree():
        known.add(node.table)
        fc = given.get(node.table)
        if fc is not None and path and _name_of(fc, node.table) != node.table:
            # (the filtered entity's table is referred to as SQLAlchemy renders it)
            overrides.setdefault(path, {})["table"] = _name_of(fc, node.table)
        if isinstance(node, TableMapping) and isinstance(node.custom_properties, PropertyTable):
            cp = node.custom_properties
            known.add(cp.table)
            fc = given.get(cp.table)
            if fc is not None and _name_of(fc, cp.table) != cp.table:
                fields = {"table": _name_of(fc, cp.table), "link": cp.link, "link_to": cp.link_to,
                          "name": cp.name, "value": cp.value}
                overrides.setdefault(path, {})["custom_properties"] = fields
    unknown = sorted(set(given) - known)
    if unknown:
        raise MappingError(f"tables: {', '.join(map(repr, unknown))} not among the mapping's tables "
                           f"({', '.join(map(repr, sorted(known)))})")
    root_name = m.root.table
    if overrides:
        m = m.with_overrides({"__".join(p): v for p, v in overrides.items()})
    root = given.get(root_name)
    if root is None:
        root = build_tables(m, sa.MetaData(), indexes=False)[m.root.table]
    _check_columns(root, m.root, root_name)
    return m, root


#: The tables used last, most recent first: ``(mapping, the tables given, the result)`` (found by identity).
_RECENT: list[tuple[SchemaMapping, tuple[tuple[str, Any], ...], tuple[SchemaMapping, FromClause]]] = []


def _with_tables_cached(
    m: SchemaMapping, tables: AbcMapping[str, TableLike]
) -> tuple[SchemaMapping, FromClause]:
    items = tuple(tables.items())
    for mm, given, found in list(_RECENT):
        if mm is m and len(given) == len(items) and all(
                a[0] == b[0] and a[1] is b[1] for a, b in zip(given, items, strict=True)):
            return found
    found = _with_tables(m, tables)
    _RECENT.insert(0, (m, items, found))
    del _RECENT[8:]
    return found


def _check_columns(fc: FromClause, node: TableMapping, key: str) -> None:
    missing = [c for c in (node.key, *node.columns.values()) if c not in fc.c]
    if missing:
        raise MappingError(f"tables[{key!r}] lacks the mapped column(s) {', '.join(map(repr, missing))}")


# --------------------------------------------------------------------------------------------------
# the condition
# --------------------------------------------------------------------------------------------------
class FilterCondition(ColumnElement[bool]):
    """A filter as a SQLAlchemy boolean clause over ``table`` (the filtered entity's table), compiled from
    its plan for the engine the statement runs on.  ``~cond`` is the filter's own ``not``."""

    __visit_name__ = "skillfilter_condition"
    type = sa.Boolean()
    # SQLAlchemy's statement cache: the compiled SQL (parameter values included) depends on the plan (its
    # text, values and their types spelled out), the mapping (by identity) and the filtered table.
    inherit_cache = True
    _cache_key_traversal = [("cache_key", InternalTraversal.dp_plain_obj),  # noqa: RUF012 - SQLAlchemy's type
                            ("table", InternalTraversal.dp_clauseelement)]

    def __init__(self, plan: PNode, mapping: SchemaMapping, table: FromClause) -> None:
        self.plan = plan
        self.mapping = mapping
        self.table = table
        self._key: tuple[str, SchemaMapping] | None = None

    @property
    def cache_key(self) -> tuple[str, SchemaMapping]:
        if self._key is None:
            self._key = (repr(self.plan), self.mapping)
        return self._key

    @property
    def _from_objects(self) -> list[FromClause]:
        return [self.table]

    def _negate(self) -> ColumnElement[Any]:
        return FilterCondition(PNot(self.plan), self.mapping, self.table)

    def self_group(self, against: Any = None) -> ColumnElement[Any]:
        return self  # always rendered in parentheses unless atomic

    def __repr__(self) -> str:
        return f"<FilterCondition on {getattr(self.table, 'name', '?')!r}>"


def _dialect_for(name: str) -> Dialect:
    try:
        return get_dialect(name)
    except DialectError as exc:
        raise DialectError(f"to_sqlalchemy: SQLAlchemy dialect {name!r} is not one skillfilter writes "
                           f"({exc})") from None


_TYPES: dict[str, sa.types.TypeEngine[Any]] = {
    "bool": sa.Boolean(), "int": sa.BigInteger(), "bigint": sa.Numeric(), "float": sa.Float(),
    "decimal": sa.Numeric(asdecimal=True), "str": sa.String(), "datetime": sa.DateTime(timezone=True),
    "naive": sa.DateTime(), "date": sa.Date(), "bytes": sa.LargeBinary(),
}


def _bind_type(value: Any) -> sa.types.TypeEngine[Any]:
    """The explicit SQLAlchemy type of a parameter the SQL backend binds."""
    if isinstance(value, bool):
        return _TYPES["bool"]
    if isinstance(value, int):
        return _TYPES["int" if in_int64(value) else "bigint"]
    if isinstance(value, float):
        return _TYPES["float"]
    if isinstance(value, Decimal):
        return _TYPES["decimal"]
    if isinstance(value, str):
        return _TYPES["str"]
    if isinstance(value, _dt.datetime):
        return _TYPES["datetime" if value.tzinfo is not None else "naive"]
    if isinstance(value, _dt.date):
        return _TYPES["date"]
    if isinstance(value, bytes):
        return _TYPES["bytes"]
    raise TypeError(f"unexpected parameter {value!r}")  # pragma: no cover - the SQL backend binds no other


def _split(sql: str, placeholder: str) -> list[str]:
    """``sql`` cut at each parameter placeholder (outside quoted names and strings); for ``%s`` placeholders
    ``%%`` is read as ``%``."""
    pieces: list[str] = []
    cur: list[str] = []
    quote = ""
    i = 0
    n = len(sql)
    while i < n:
        c = sql[i]
        if placeholder == "%s" and c == "%" and i + 1 < n and sql[i + 1] in "%s":
            if sql[i + 1] == "%":
                cur.append("%")
            elif quote:  # pragma: no cover - placeholders are never quoted
                cur.append("%s")
            else:
                pieces.append("".join(cur))
                cur = []
            i += 2
            continue
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"":
            quote = c
        elif placeholder == "?" and c == "?":
            pieces.append("".join(cur))
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    pieces.append("".join(cur))
    return pieces


def _root_ref(element: FilterCondition, compiler: SQLCompiler, **kw: Any) -> str:
    """How the statement names the filtered entity's table (its name, alias or schema-qualified name)."""
    table = element.table
    col = next(iter(table.c))
    rendered = compiler.process(col, **kw)
    suffix = "." + compiler.preparer.quote(col.name)
    if rendered.endswith(suffix):
        ref = rendered[: -len(suffix)]
        if ref == getattr(table, "name", None) and "." not in ref:  # SQLAlchemy quotes only where needed
            return _dialect_for(compiler.dialect.name).ident(ref)
        return ref.replace("%%", "%") if compiler.preparer._double_percents else ref
    return _dialect_for(compiler.dialect.name).ident(_name_of(table, "root"))  # pragma: no cover


@compiles(FilterCondition)
def _compile_condition(element: FilterCondition, compiler: SQLCompiler, **kw: Any) -> str:
    d = _dialect_for(compiler.dialect.name)
    root_ref = _root_ref(element, compiler, **kw)
    if d.placeholder == "%s":
        root_ref = root_ref.replace("%", "%%")
    cond = compile_condition(element.plan, dialect=d, mapping=element.mapping, root_ref=root_ref)
    if cond.const is not None:
        return compiler.process(sa.true() if cond.const else sa.false(), **kw)
    pieces = _split(cond.text("atom"), d.placeholder)
    if len(pieces) != len(cond.params) + 1:  # pragma: no cover - a placeholder inside a quoted name
        raise DialectError("to_sqlalchemy: could not place the parameters")
    post = cast(Callable[[str], str], compiler.post_process_text)  # `%` doubled where the driver needs it
    out = [post(pieces[0])]
    for value, piece in zip(cond.params, pieces[1:], strict=True):
        bind = sa.bindparam(None, value, type_=_bind_type(value), unique=True)
        out.append(compiler.process(bind, **kw))
        out.append(post(piece))
    return "".join(out)


# --------------------------------------------------------------------------------------------------
# the public function
# --------------------------------------------------------------------------------------------------
def to_sqlalchemy(
    expr: Expr | str,
    *,
    schema: Schema | str | None = None,
    entity: str | None = None,
    mapping: SchemaMapping | AbcMapping[str, Any] | None = None,
    tables: AbcMapping[str, TableLike] | None = None,
) -> FilterCondition:
    """The filter as a SQLAlchemy ``ColumnElement[bool]`` on the filtered entity's table.

    ``schema``/``entity``/``mapping`` as for :func:`~skillfilter.backends.sql.to_sql`.  ``tables``: the
    application's ``Table`` objects or ORM classes, keyed by the mapping's table names (``"employees"``,
    ``"employees__skill_clusters"``, ...); a table not given is referred to by the mapping's name.  Without
    ``tables`` the condition brings its own ``Table`` of the filtered entity (``cond.table``).

    Raises :class:`~skillfilter.errors.FilterSyntaxError` or
    :class:`~skillfilter.errors.FilterValidationError` for a bad filter, and
    :class:`~skillfilter.backends.sql.mapping.MappingError` for a bad mapping or tables.

    >>> import sqlalchemy as sa
    >>> from sqlalchemy.dialects.postgresql import psycopg
    >>> cond = to_sqlalchemy("external_id__startswith='1' or active=true")
    >>> sql = str(sa.select(cond.table.c.id).where(cond).compile(dialect=psycopg.dialect()))
    >>> print(sql.split("WHERE ")[1].replace(" OR ", "\\nOR "))
    ("employees"."external_id" COLLATE "C" LIKE %(param_1)s::VARCHAR ESCAPE E'\\\\'
    OR "employees"."active" = %(param_2)s)
    """
    m = resolve_mapping(mapping, schema, entity)
    m, root = _with_tables_cached(m, tables or {})
    plan, _ = compile_plan(expr, schema=m.schema, entity=m.entity)
    return FilterCondition(plan, m, root)


# --------------------------------------------------------------------------------------------------
# the case-fold function on engines
# --------------------------------------------------------------------------------------------------
def install_functions(bind: Any) -> None:
    """Make ``skillfilter_fold`` (rule 5's case mapping, used by ``iexact``, ``icontains``, ...) available to
    an ``Engine`` or ``AsyncEngine``: registered on every new connection of a SQLite engine (``pysqlite``
    or ``aiosqlite``; call it before the first connection), created in the database of a PostgreSQL engine
    (a sync ``Engine`` with psycopg; once per database, see
    :func:`skillfilter.backends.sql.install_functions`)."""
    from sqlalchemy import event

    engine = getattr(bind, "sync_engine", bind)
    if not isinstance(engine, sa.engine.Engine):
        raise TypeError(f"install_functions takes an Engine or AsyncEngine, not {type(bind).__name__}")
    if engine.dialect.name == "sqlite":

        def on_connect(dbapi_connection: Any, _record: Any) -> None:
            register_functions(dbapi_connection)

        event.listen(engine, "connect", on_connect)
        return
    from ..backends.sql.functions import install_functions as install

    with engine.begin() as conn:
        install(conn.connection.dbapi_connection, engine.dialect.name)

