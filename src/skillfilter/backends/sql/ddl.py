"""The tables a :class:`~skillfilter.backends.sql.mapping.SchemaMapping` needs, and ``CREATE TABLE`` for them.

Column types come from the dialect (:attr:`~skillfilter.backends.sql.dialect.Dialect.storage_types`): for
SQLite and PostgreSQL

========== ======================= ================================
type        SQLite                   PostgreSQL
========== ======================= ================================
text        ``TEXT``                 ``TEXT COLLATE "C"``
integer     ``INTEGER``              ``BIGINT``
number      ``NUMERIC``              ``NUMERIC``
boolean     ``BOOLEAN`` (0/1)        ``BOOLEAN``
date        ``TEXT`` ``YYYY-MM-DD``  ``DATE``
datetime    ``TEXT`` (UTC, fixed)    ``TIMESTAMPTZ``
custom p.   ``TEXT`` (JSON object)   ``JSONB``
========== ======================= ================================
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass, field
from typing import Any

from ...errors import FilterError
from ...semantics.schema import Schema
from .dialect import Dialect, dialect
from .mapping import ListMapping, PropertyTable, SchemaMapping, TableMapping

__all__ = ["LoadError", "TableDef", "create_tables", "ddl_statements", "table_definitions"]


class LoadError(FilterError, ValueError):
    """A record that does not fit the schema (or cannot be stored by the database)."""

    __module__ = "skillfilter.backends.sql.load"


@dataclass(slots=True)
class TableDef:
    """One table the mapping needs: its columns (name -> storage type name: a schema type, ``json`` or
    ``key``), in order."""

    name: str
    columns: dict[str, str] = field(default_factory=dict)
    primary_key: str | None = None
    #: Columns to index (links to the parent).
    indexes: list[str] = field(default_factory=list)

    def add(self, column: str, type_name: str) -> None:
        existing = self.columns.get(column)
        if existing is not None and existing != type_name:
            raise LoadError(f"table {self.name!r}: column {column!r} is used for two things")
        self.columns[column] = type_name


def _column_type(mapping: SchemaMapping, path: tuple[str, ...], table: TableMapping, column: str) -> str:
    for name, type_name in mapping.fields(path).items():
        if table.column(name) == column:
            return type_name
    if column == table.key:
        return "key"
    raise LoadError(f"table {table.table!r}: {column!r} is neither its key nor a field's column")


def table_definitions(mapping: SchemaMapping) -> list[TableDef]:
    """The tables (and columns) a mapping needs, parents first; a table reached twice is defined once."""
    tables: dict[str, TableDef] = {}

    def table_def(name: str) -> TableDef:
        if name not in tables:
            tables[name] = TableDef(name)
        return tables[name]

    for path, kind, node in mapping.tree():
        if isinstance(node, ListMapping):
            owner_path = path[:-1]
            owner = mapping.table(owner_path)
            t = table_def(node.table)
            t.add(node.link, _column_type(mapping, owner_path, owner, node.link_to or owner.key))
            t.add(node.value, "text")
            t.indexes.append(node.link)
            continue
        t = table_def(node.table)
        fields = mapping.fields(path)
        if node.key not in {node.column(f) for f in fields}:
            t.add(node.key, "key")
        t.primary_key = node.key
        for name, type_name in fields.items():
            t.add(node.column(name), type_name)
        if kind == "many":
            parent_path = path[:-1]
            parent = mapping.table(parent_path)
            assert node.link is not None
            t.add(node.link, _column_type(mapping, parent_path, parent, node.link_to or parent.key))
            t.indexes.append(node.link)
        elif kind == "one":
            parent = mapping.table(path[:-1])
            assert node.link is not None
            link_type = _column_type(mapping, path, node, node.link_to or node.key)
            table_def(parent.table).add(node.link, link_type)
        if kind == "root" and isinstance(node.custom_properties, PropertyTable):
            cp = node.custom_properties
            pt = table_def(cp.table)
            pt.add(cp.link, _column_type(mapping, path, node, cp.link_to or node.key))
            pt.add(cp.name, "text")
            pt.add(cp.value, "json")
            pt.indexes.append(cp.link)
        elif kind == "root" and isinstance(node.custom_properties, str):
            t.add(node.custom_properties, "json")
    return list(tables.values())


def _short(name: str) -> str:
    if len(name) <= 63:
        return name
    return name[:54] + "_" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:8]  # noqa: S324 - a name


def ddl_statements(defs: list[TableDef], d: Dialect, indexes: bool, drop: bool) -> list[str]:
    """``CREATE TABLE`` (and ``CREATE INDEX``, ``DROP TABLE``) statements for ``defs`` in dialect ``d``."""
    types = d.storage_types
    out: list[str] = []
    for t in defs:
        if drop:
            out.append(f"DROP TABLE IF EXISTS {d.quote(t.name)}")
        cols = []
        for name, type_name in t.columns.items():
            spec = f"{d.quote(name)} {types[type_name]}"
            if name == t.primary_key:
                spec += " PRIMARY KEY"
            cols.append(spec)
        out.append(f"CREATE TABLE {d.quote(t.name)} ({', '.join(cols)})")
        if indexes:
            for col in t.indexes:
                index = _short(f"{t.name}__{col}__idx")
                out.append(f"CREATE INDEX {d.quote(index)} ON {d.quote(t.name)} ({d.quote(col)})")
    return out


def as_mapping(schema: Schema | str | None, entity: str | None,
               mapping: SchemaMapping | AbcMapping[str, Any] | None) -> SchemaMapping:
    if isinstance(mapping, SchemaMapping):
        return mapping
    return SchemaMapping(schema, entity, mapping)


def create_tables(
    conn: Any,
    schema: Schema | str | None = None,
    entity: str | None = None,
    mapping: SchemaMapping | AbcMapping[str, Any] | None = None,
    *,
    dialect: str | None = None,
    indexes: bool = True,
    drop: bool = False,
) -> list[str]:
    """Create the tables of the mapping (``drop=True``: drop them first); returns the statements run.

    ``indexes`` adds an index on every link to a parent (what the ``EXISTS`` subqueries look up).
    """
    from .run import detect_dialect

    d = _get(dialect or detect_dialect(conn))
    statements = ddl_statements(table_definitions(as_mapping(schema, entity, mapping)), d, indexes, drop)
    for statement in statements:
        conn.execute(statement)
    conn.commit()
    return statements


_get = dialect
