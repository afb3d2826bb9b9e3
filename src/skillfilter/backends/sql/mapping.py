"""Where each part of a schema lives in a database: the mapping :func:`~skillfilter.backends.sql.to_sql` uses.

A filter path walks from the filtered entity through relations to a field.  Each node of that walk is stored
somewhere:

- the entity itself, a **to-one** relation's target and a **to-many** relation's elements are tables
  (:class:`TableMapping`): a table name, a key column, a column per field, and the ``link`` that joins the
  table to its parent (for a to-many relation a column of the child table that refers to the parent's
  ``link_to`` column, by default its key; for a to-one relation a column of the *parent* table that refers to
  the target's ``link_to`` column, by default the target's key);
- a ``list[text]`` field is a table of ``(link, value)`` rows (:class:`ListMapping`), one row per element;
- custom properties are a JSON object column of the entity's table (``{"language": "de", ...}``), or
  rows ``(link, name, value)`` of a table of their own (:class:`PropertyTable`).

:class:`SchemaMapping` derives every node from the schema (names below) and takes overrides piece by piece,
keyed by the path from the filtered entity (``""`` for the entity itself, ``"skill_clusters"``,
``"skill_clusters__current_skills"``, ``"skill_clusters__sources"`` for a list field, ...).  An override is a
full :class:`TableMapping`/:class:`ListMapping` or a dict of the attributes to change (``columns`` merges into
the default columns).

Default names: the filtered entity's table is named after the entity; a to-one relation's target table after
its entity; a to-many relation's table and a list field's table after the parent table and the relation or
field (``employees__skill_clusters``), so that an entity reached under several relations (the export schema's
``skills``) gets one table per relation.  Key columns are ``id``, links ``parent_id`` (to-many, list tables)
and ``<relation>_id`` (to-one), list values ``value``, custom properties ``custom_properties``; each name is
changed (a ``_`` appended) where a field already uses it.

Identifiers are validated here (non-empty text without NUL, at most 63 characters) and always quoted in SQL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from ...errors import FilterError
from ...semantics.schema import Entity, Schema

__all__ = [
    "MAX_IDENTIFIER_LENGTH",
    "ListMapping",
    "MappingError",
    "Node",
    "PropertyTable",
    "SchemaMapping",
    "TableMapping",
    "check_identifier",
]

#: PostgreSQL truncates longer identifiers (silently making two names one); refused everywhere.
MAX_IDENTIFIER_LENGTH = 63


class MappingError(FilterError, ValueError):
    """A mapping that cannot be used: a bad identifier, an override for a path the schema lacks, ..."""


def check_identifier(name: object, what: str = "identifier") -> str:
    """``name`` if it can be a quoted SQL identifier; else :class:`MappingError`."""
    if not isinstance(name, str):
        raise MappingError(f"{what} must be a string, not {type(name).__name__}")
    if not name:
        raise MappingError(f"{what} must not be empty")
    if "\x00" in name:
        raise MappingError(f"{what} {name!r} contains NUL")
    if len(name) > MAX_IDENTIFIER_LENGTH:
        raise MappingError(f"{what} {name!r} is longer than {MAX_IDENTIFIER_LENGTH} characters")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise MappingError(f"{what} {name!r} is not valid Unicode text") from None
    return name


@dataclass(frozen=True, slots=True)
class PropertyTable:
    """Custom properties stored as rows ``(link, name, value)`` of a table of their own, rather than as a
    JSON column.

    ``link`` refers to the owner's ``link_to`` column (by default the owner's key); ``value`` holds one
    JSON value (PostgreSQL ``jsonb``, SQLite JSON text).  A property that may hold a list (untyped, or
    ``list[text]``) has one row per element (an empty list none: it reads as a missing property); a
    property of another type one row holding its whole value.
    """

    table: str
    link: str = "owner_id"
    link_to: str | None = None
    name: str = "name"
    value: str = "value"

    def __post_init__(self) -> None:
        check_identifier(self.table, "table name")
        for attr in ("link", "name", "value"):
            check_identifier(getattr(self, attr), f"{attr} column of {self.table!r}")
        if self.link_to is not None:
            check_identifier(self.link_to, f"link_to of {self.table!r}")
        if len({self.link, self.name, self.value}) < 3:
            raise MappingError(f"the link, name and value columns of {self.table!r} must differ")


@dataclass(frozen=True, slots=True)
class TableMapping:
    """A table holding an entity: the filtered one, a to-one target, or a to-many relation's elements.

    ``columns`` maps field names to column names (a field not listed is stored in a column of its own
    name).  ``link``/``link_to``: see the module description (unused for the filtered entity).
    ``custom_properties`` names the JSON column of the entity's custom properties (``None``: none), or is a
    :class:`PropertyTable` (given as one or as a dict of its attributes) where they are rows of a table.
    """

    table: str
    key: str = "id"
    columns: AbcMapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    link: str | None = None
    link_to: str | None = None
    custom_properties: str | PropertyTable | None = None
    #: The custom-properties column has a GIN index (PostgreSQL): ``cp_x='text'`` is written as JSON
    #: containment, which the index serves, rather than as the faster unindexed ``->>`` comparison.
    custom_properties_indexed: bool = False

    def __post_init__(self) -> None:
        check_identifier(self.table, "table name")
        check_identifier(self.key, f"key column of {self.table!r}")
        if not isinstance(self.columns, AbcMapping):
            raise MappingError(f"columns of {self.table!r} must map field names to column names")
        for name, column in self.columns.items():
            check_identifier(column, f"column for field {name!r} of {self.table!r}")
        for attr in ("link", "link_to"):
            value = getattr(self, attr)
            if value is not None:
                check_identifier(value, f"{attr} of {self.table!r}")
        cp = self.custom_properties
        if isinstance(cp, AbcMapping):
            allowed = {f.name for f in dataclasses.fields(PropertyTable)}
            unknown = sorted(str(k) for k in set(cp) - allowed)
            if unknown or "table" not in cp:
                raise MappingError(
                    f"custom_properties of {self.table!r}: a table of rows takes `table` and optionally "
                    f"{', '.join(f'`{a}`' for a in sorted(allowed - {'table'}))}"
                    + (f"; unknown: {', '.join(unknown)}" if unknown else "")
                )
            object.__setattr__(self, "custom_properties", PropertyTable(**cp))
        elif cp is not None and not isinstance(cp, PropertyTable):
            check_identifier(cp, f"custom_properties of {self.table!r}")
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))

    def column(self, field_name: str) -> str:
        """The column holding ``field_name``."""
        return self.columns.get(field_name, field_name)


@dataclass(frozen=True, slots=True)
class ListMapping:
    """A ``list[text]`` field stored as rows ``(link, value)`` of its own table, one per element.

    ``link`` refers to the owner's ``link_to`` column (by default the owner's key).
    """

    table: str
    link: str = "parent_id"
    link_to: str | None = None
    value: str = "value"

    def __post_init__(self) -> None:
        check_identifier(self.table, "table name")
        check_identifier(self.link, f"link of {self.table!r}")
        check_identifier(self.value, f"value column of {self.table!r}")
        if self.link_to is not None:
            check_identifier(self.link_to, f"link_to of {self.table!r}")


Node = TableMapping | ListMapping
Path = tuple[str, ...]


def _fresh(base: str, taken: set[str]) -> str:
    name = base
    while name in taken:
        name += "_"
    return name


def _path_key(path: str | tuple[str, ...]) -> Path:
    if isinstance(path, tuple):
        return path
    if not isinstance(path, str):
        raise MappingError(f"a mapping path is a string such as 'skill_clusters__sources', not {path!r}")
    return tuple(path.split("__")) if path else ()


class SchemaMapping:
    """The storage of ``entity`` of ``schema`` and of everything a filter can reach from it.

    >>> m = SchemaMapping("export", "employees", {"": {"table": "people"}})
    >>> m.node("skill_clusters").table
    'people__skill_clusters'
    >>> m.node("skill_clusters__sources")
    ListMapping(table='people__skill_clusters__sources', link='parent_id', link_to=None, value='value')
    """

    def __init__(
        self,
        schema: Schema | str | None = None,
        entity: str | None = None,
        overrides: AbcMapping[Any, Any] | None = None,
    ) -> None:
        self.schema = Schema.coerce(schema)
        if entity is None:
            entity = self.schema.implied_entity() or "employees"
        if entity not in self.schema.entities:
            raise MappingError(
                f"unknown entity `{entity}`; entities of schema `{self.schema.name}`: "
                + ", ".join(f"`{n}`" for n in sorted(self.schema.entities))
            )
        self.entity = entity
        self._overrides: dict[Path, Node | AbcMapping[str, Any]] = {}
        for key, value in (overrides or {}).items():
            path = _path_key(key)
            self._walk(path)  # raises for a path the schema lacks
            if not isinstance(value, (TableMapping, ListMapping, AbcMapping)):
                raise MappingError(
                    f"override for {'__'.join(path) or 'the entity'!r} must be a TableMapping, a ListMapping "
                    f"or a dict of attributes, not {type(value).__name__}"
                )
            self._overrides[path] = value
        self._cache: dict[Path, Node] = {}
        for path in self._overrides:
            self.node(path)  # validate eagerly

    def with_overrides(self, overrides: AbcMapping[Any, Any]) -> SchemaMapping:
        """A new mapping with more overrides: attributes given as dicts are merged into those given before
        for the same path (``columns`` too); a :class:`TableMapping`/:class:`ListMapping` replaces them."""
        merged: dict[Any, Any] = dict(self._overrides)
        for key, value in overrides.items():
            path = _path_key(key)
            old = merged.get(path)
            if isinstance(old, AbcMapping) and isinstance(value, AbcMapping):
                both = {**old, **value}
                old_columns, new_columns = old.get("columns"), value.get("columns")
                if isinstance(old_columns, AbcMapping) and isinstance(new_columns, AbcMapping):
                    both["columns"] = {**old_columns, **new_columns}
                value = both
            elif isinstance(old, (TableMapping, ListMapping)) and isinstance(value, AbcMapping):
                value = dataclasses.replace(old, **value)
            merged[path] = value
        return SchemaMapping(self.schema, self.entity, merged)

    # -- walking the schema -----------------------------------------------------------------------
    def _walk(self, path: Path) -> tuple[Entity, str]:
        """The entity at ``path`` and what the last step is: ``root``, ``one``, ``many`` or ``list``."""
        current = self.schema.entities[self.entity]
        kind = "root"
        for i, seg in enumerate(path):
            if kind == "list":
                raise MappingError(
                    f"{'__'.join(path)!r}: `{path[i - 1]}` is a list field, nothing follows it"
                )
            rel = current.relations.get(seg)
            if rel is not None:
                current = self.schema.entities[rel.target]
                kind = "many" if rel.many else "one"
                continue
            fld = current.fields.get(seg)
            if fld is not None and fld.is_list:
                kind = "list"
                continue
            what = "a plain field, not a relation or list field" if fld is not None else "unknown"
            raise MappingError(f"mapping path {'__'.join(path)!r}: `{seg}` of `{current.name}` is {what}")
        return current, kind

    @property
    def root(self) -> TableMapping:
        node = self.node(())
        assert isinstance(node, TableMapping)
        return node

    def table(self, path: str | tuple[str, ...]) -> TableMapping:
        node = self.node(path)
        if not isinstance(node, TableMapping):
            raise MappingError(f"{path!r} is a list field, not a table of an entity")
        return node

    def node(self, path: str | tuple[str, ...]) -> Node:
        """The storage of the node at ``path`` (relations, or relations and a list field)."""
        key = _path_key(path)
        found = self._cache.get(key)
        if found is not None:
            return found
        entity, kind = self._walk(key)
        default = self._default(key, entity, kind)
        override = self._overrides.get(key)
        node: Node
        if override is None:
            node = default
        elif isinstance(override, (TableMapping, ListMapping)):
            node = override
        else:
            changes = dict(override)
            unknown = set(changes) - {f.name for f in dataclasses.fields(default)}
            if unknown:
                raise MappingError(
                    f"override for {'__'.join(key) or 'the entity'!r}: unknown attributes {sorted(unknown)}"
                )
            if "columns" in changes and isinstance(default, TableMapping):
                columns = changes["columns"]
                if not isinstance(columns, AbcMapping):
                    raise MappingError("`columns` must map field names to column names")
                changes["columns"] = {**default.columns, **columns}
            node = dataclasses.replace(default, **changes)
        if kind == "list" and not isinstance(node, ListMapping):
            raise MappingError(f"{'__'.join(key)!r} is a list field: its override must be a ListMapping")
        if kind != "list" and not isinstance(node, TableMapping):
            raise MappingError(
                f"{'__'.join(key) or 'the entity'!r} is a table: its override must be a TableMapping"
            )
        if isinstance(node, TableMapping):
            fields_here = {f for f, v in entity.fields.items() if not v.is_list}
            unknown_fields = set(node.columns) - fields_here
            if unknown_fields:
                raise MappingError(
                    f"columns of {'__'.join(key) or entity.name!r}: `{entity.name}` has no plain fields "
                    f"{sorted(unknown_fields)}"
                )
        self._cache[key] = node
        return node

    def _default(self, path: Path, entity: Entity, kind: str) -> Node:
        if kind == "list":
            owner = self.table(path[:-1])
            return ListMapping(table=f"{owner.table}__{path[-1]}")
        plain = [name for name, f in entity.fields.items() if not f.is_list]
        taken = set(plain)
        key = _fresh("id", taken)
        taken.add(key)
        if kind == "root":
            cp = _fresh("custom_properties", taken) if entity.custom_properties is not None else None
            return TableMapping(table=entity.name, key=key, columns={f: f for f in plain},
                                custom_properties=cp)
        parent = self.table(path[:-1])
        if kind == "many":
            link = _fresh("parent_id", taken)
            return TableMapping(table=f"{parent.table}__{path[-1]}", key=key, columns={f: f for f in plain},
                                link=link)
        # to-one: the link is a column of the parent's table
        parent_entity, _ = self._walk(path[:-1])
        parent_taken = self._parent_columns(path[:-1], parent, parent_entity, before=path[-1])
        link = _fresh(f"{path[-1]}_id", parent_taken)
        return TableMapping(table=entity.name, key=key, columns={f: f for f in plain}, link=link)

    def _parent_columns(self, path: Path, table: TableMapping, entity: Entity, before: str) -> set[str]:
        taken = {table.column(f) for f, v in entity.fields.items() if not v.is_list}
        taken.add(table.key)
        if isinstance(table.custom_properties, str):
            taken.add(table.custom_properties)
        if table.link:
            taken.add(table.link)
        for rel in entity.relations.values():
            if rel.name == before:
                break
            if not rel.many:
                other = self.table((*path, rel.name))
                if other.link:
                    taken.add(other.link)
        return taken

    # -- the whole tree (for the loader and for documentation) -------------------------------------
    def tree(self, max_depth: int = 8) -> Iterator[tuple[Path, str, Node]]:
        """Every node reachable from the entity, parents first: ``(path, kind, node)``.

        ``kind`` is ``root``, ``one``, ``many`` or ``list``.  The walk does not go through an entity that
        is already on the path (a schema with cycles maps only its acyclic part), nor deeper than
        ``max_depth`` relations.
        """
        stack: list[tuple[Path, tuple[str, ...]]] = [((), (self.entity,))]
        while stack:
            path, seen = stack.pop(0)
            entity, kind = self._walk(path)
            yield path, kind, self.node(path)
            if kind == "list" or len(path) >= max_depth:
                continue
            for fname, fld in entity.fields.items():
                if fld.is_list:
                    stack.append(((*path, fname), seen))
            for rname, rel in entity.relations.items():
                if rel.target in seen:
                    continue
                stack.append(((*path, rname), (*seen, rel.target)))

    def fields(self, path: str | tuple[str, ...]) -> dict[str, str]:
        """``{field: type}`` of the plain (non-list) fields of the entity at ``path``."""
        entity, kind = self._walk(_path_key(path))
        if kind == "list":
            raise MappingError(f"{path!r} is a list field")
        return {n: f.type for n, f in entity.fields.items() if not f.is_list}

    def __repr__(self) -> str:
        return f"SchemaMapping({self.schema.name!r}, {self.entity!r}, overrides={len(self._overrides)})"
