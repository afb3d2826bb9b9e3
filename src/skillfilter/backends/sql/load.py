"""Load JSON records into the tables of a :class:`~skillfilter.backends.sql.mapping.SchemaMapping`.

The tables (:mod:`skillfilter.backends.sql.ddl`) hold the records the way
:func:`~skillfilter.backends.sql.to_sql` expects them; how each value is stored is the dialect's
(:class:`~skillfilter.backends.sql.dialect.Dialect`: ``store_*``): SQLite datetimes are text in one fixed
format (:func:`~skillfilter.backends.sql.canonical_datetime`), so that text order is time order; PostgreSQL
numbers are ``numeric``.  Custom properties are stored as a JSON object (the API's list form
``[{"property_name": ..., "property_value": ...}]`` is turned into one, the first entry of a name winning);
values of custom properties the schema declares ``datetime`` are stored in the same canonical text.

Records must fit the schema: a value of the wrong type for its field raises :class:`LoadError` rather than
being stored as something else (a filter would then answer differently from :func:`predicate`).
"""

from __future__ import annotations

import datetime as _dt
import json
import math
from collections.abc import Iterable
from collections.abc import Mapping as AbcMapping
from typing import Any

from ...semantics.schema import Schema
from ...semantics.values import (
    as_date,
    as_datetime,
    canonical_datetime,
    float_decimal,
    in_int64,
    parse_datetime,
)
from .ddl import LoadError, TableDef, as_mapping, create_tables, table_definitions
from .dialect import Dialect, dialect
from .mapping import ListMapping, PropertyTable, SchemaMapping, TableMapping

__all__ = ["LoadError", "TableDef", "create_tables", "load_records", "table_definitions"]

#: Digits of an integer in a JSON value (Python's default limit on converting integers to text).
_JSON_DIGITS = 4_300
_NUMERIC_DIGITS = 131_072


def _show(value: Any) -> str:
    """A short, always printable form of a value for a message."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    text = repr(value)
    return text if len(text) <= 80 else text[:60] + "..." + text[-10:]


def _check_encodable(text: str, where: str) -> None:
    """:class:`LoadError` for text no database takes: a lone surrogate (from a ``"\\ud800"`` escape)."""
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LoadError(
            f"{where}: a lone surrogate (U+{ord(text[exc.start]):04X}) at offset {exc.start} is not text "
            "a database can store"
        ) from None


# --------------------------------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------------------------------
class _Loader:
    def __init__(self, conn: Any, mapping: SchemaMapping, d: Dialect) -> None:
        self.conn = conn
        self.mapping = mapping
        self.d = d
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.next_key: dict[str, int] = {}
        self.defs = {t.name: t for t in table_definitions(mapping)}
        entity = mapping.schema.entities[mapping.entity]
        cp = entity.custom_properties
        self.cp_types = dict(cp.definitions) if cp is not None else {}
        #: The number of the record being added (1-based), for messages.
        self.record = 0
        #: Keys taken from a field, per table: key -> the record that brought it.
        self.seen: dict[str, dict[Any, int]] = {}
        #: Keys taken from a field and not yet inserted, per table: its key column and the keys.
        self.pending_keys: dict[str, tuple[str, list[Any]]] = {}

    def key_for(self, table: str, key_column: str) -> int:
        if table not in self.next_key:
            d = self.d
            row = self.conn.execute(f"SELECT max({d.quote(key_column)}) FROM {d.quote(table)}").fetchone()
            self.next_key[table] = int(row[0] or 0) + 1 if row is not None else 1
        value = self.next_key[table]
        self.next_key[table] = value + 1
        return value

    def where(self, path: tuple[str, ...]) -> str:
        return "__".join(path) or self.mapping.entity

    def text(self, value: Any, where: str) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            raise LoadError(f"{where}: expected text, found {type(value).__name__}")
        refused = self.d.store_text(value)
        if refused is not None:
            raise LoadError(f"{where}: {refused}")
        _check_encodable(value, where)
        return value

    def scalar(self, value: Any, type_name: str, where: str) -> Any:
        if value is None:
            return None
        if type_name == "text":
            return self.text(value, where)
        if type_name in ("integer", "number"):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise LoadError(f"{where}: expected a number, found {type(value).__name__}")
            if isinstance(value, float) and math.isnan(value):
                raise LoadError(f"{where}: NaN cannot be stored (SQLite would store NULL)")
            if type_name == "integer":
                if isinstance(value, float):
                    if not value.is_integer():
                        raise LoadError(f"{where}: {_show(value)} is not an integer")
                    value = int(float_decimal(value))  # what it stands for: 1e23 is 10**23
                if not isinstance(value, int) or not in_int64(value):
                    raise LoadError(f"{where}: {_show(value)} does not fit in 64 bits")
                return value
            stored: Any = value
            if isinstance(value, int) and not in_int64(value):
                stored = self.d.store_big_integer(value)
            elif isinstance(value, float):
                stored = self.d.store_float(value)
            if isinstance(stored, str):
                raise LoadError(f"{where}: {stored}")
            return stored
        if type_name == "boolean":
            if not isinstance(value, bool):
                raise LoadError(f"{where}: expected true or false, found {type(value).__name__}")
            return value
        if type_name == "date":
            d = as_date(value)
            if d is None:
                raise LoadError(f"{where}: expected a date (YYYY-MM-DD), found {_show(value)}")
            return self.d.param(d, "date")
        if type_name == "datetime":
            dt = as_datetime(value) if isinstance(value, (str, _dt.datetime)) else None
            if dt is None:
                raise LoadError(f"{where}: expected an ISO 8601 date-time, found {_show(value)}")
            return self.d.param(dt, "datetime")
        raise LoadError(f"{where}: unknown type {type_name}")  # pragma: no cover

    def custom_properties(self, props: Any) -> Any:
        out = self.property_values(props)
        if out is None:
            return None
        return self.d.store_json(out, json.dumps(out, ensure_ascii=False, allow_nan=False))

    def property_rows(self, props: Any, owner: Any, table: PropertyTable) -> None:
        """The rows ``(owner, name, value)`` of a :class:`PropertyTable`: one per element of a list where
        the property may hold one (untyped or ``list[text]``), else one holding the value."""
        values = self.property_values(props)
        if not values:
            return
        rows = self.rows.setdefault(table.table, [])
        for name, value in values.items():
            declared = self.cp_types.get(name)
            listy = declared is None or declared == "list[text]"
            elements = value if listy and isinstance(value, list) else [value]
            for element in elements:
                text = json.dumps(element, ensure_ascii=False, allow_nan=False)
                json_value = self.d.store_json(element, text)
                rows.append({table.link: owner, table.name: name, table.value: json_value})

    def property_values(self, props: Any) -> dict[str, Any] | None:
        """Custom properties in either shape as a dict (checked, datetimes canonical); None if none."""
        if isinstance(props, list):
            found: dict[str, Any] = {}
            for item in props:
                if isinstance(item, AbcMapping):
                    name = item.get("property_name")
                    if isinstance(name, str) and name not in found:
                        found[name] = item.get("property_value")
            props = found
        if not isinstance(props, AbcMapping):
            return None
        out = {}
        for name, value in props.items():
            if not isinstance(name, str):
                raise LoadError(f"custom property {name!r}: a name is text, found {type(name).__name__}")
            if "\x00" in name:
                raise LoadError(f"custom property {name!r}: a name cannot hold NUL (U+0000)")
            _check_encodable(name, f"custom property {name!r}: its name")
            if self.cp_types.get(name) == "datetime" and isinstance(value, str):
                # stored as canonical text, so that text order is time order (docs/sql.md)
                try:
                    value = canonical_datetime(parse_datetime(value))
                except (ValueError, OverflowError):
                    raise LoadError(
                        f"custom property {name!r} is a datetime: {_show(value)} is not an ISO 8601 date-time"
                    ) from None
            self.check_json(value, f"custom property {name!r}")
            out[name] = value
        return out

    def check_json(self, value: Any, where: str) -> None:
        if isinstance(value, str):
            if "\x00" in value:
                raise LoadError(f"{where}: JSON text in {self.d.name} cannot hold NUL (U+0000)")
            _check_encodable(value, where)
        elif isinstance(value, bool) or value is None:
            return
        elif isinstance(value, int):
            if self.d.json_int_limit() and not in_int64(value):
                raise LoadError(f"{where}: {self.d.title()}'s JSON reads integers of at most 64 bits")
            if value.bit_length() > 1000:
                try:
                    digits = len(str(abs(value)))
                except ValueError:  # beyond Python's limit on converting an integer to text
                    digits = _NUMERIC_DIGITS + 1
                if digits > _JSON_DIGITS:
                    raise LoadError(f"{where}: an integer of more than {_JSON_DIGITS:,} digits cannot be "
                                    "written as JSON here")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise LoadError(f"{where}: {_show(value)} is not JSON")
        elif isinstance(value, list):
            for v in value:
                self.check_json(v, where)
        elif isinstance(value, AbcMapping):
            for k, v in value.items():
                self.check_json(k, where)
                self.check_json(v, where)
        else:
            raise LoadError(f"{where}: {type(value).__name__} is not JSON")

    # -- records -------------------------------------------------------------------------------------
    def add(self, path: tuple[str, ...], kind: str, node: TableMapping, record: Any,
            link: tuple[str, Any] | None) -> dict[str, Any]:
        """Add the row of ``record`` at ``path`` (and everything below it); returns the row."""
        entity_fields = self.mapping.fields(path)
        data = record if isinstance(record, AbcMapping) else {}
        row: dict[str, Any] = {}
        for name, type_name in entity_fields.items():
            row[node.column(name)] = self.scalar(data.get(name), type_name, f"{self.where(path)}.{name}")
        if node.key not in row:
            row[node.key] = self.key_for(node.table, node.key)
        else:
            self.claim_key(node, row[node.key], self.where(path))
        if link is not None:
            row[link[0]] = link[1]
        if kind == "root" and isinstance(node.custom_properties, PropertyTable):
            cp = node.custom_properties
            self.property_rows(data.get("custom_properties"), row[cp.link_to or node.key], cp)
        elif kind == "root" and isinstance(node.custom_properties, str):
            row[node.custom_properties] = self.custom_properties(data.get("custom_properties"))
        self.rows.setdefault(node.table, []).append(row)
        entity = self.entity_at(path)
        for fname, fld in entity.fields.items():
            if fld.is_list:
                self.add_list((*path, fname), row, data.get(fname))
        for rname, rel in entity.relations.items():
            child_path = (*path, rname)
            child = self.mapping.table(child_path)
            value = data.get(rname)
            where = self.where(child_path)
            if rel.many:
                if value is None:
                    continue
                elements = value if isinstance(value, list) else [value]
                assert child.link is not None
                owner_value = row[child.link_to or node.key]
                for element in elements:
                    if isinstance(element, list):
                        raise LoadError(f"{where}: an element is a list")
                    self.add(child_path, "many", child, element, (child.link, owner_value))
            else:
                assert child.link is not None
                if value is None:
                    row[child.link] = None
                    continue
                if not isinstance(value, AbcMapping):
                    raise LoadError(
                        f"{where}: a to-one relation holds an object, found {type(value).__name__}"
                    )
                target = self.add(child_path, "one", child, value, None)
                row[child.link] = target[child.link_to or child.key]
        return row

    def claim_key(self, node: TableMapping, key: Any, where: str) -> None:
        """A key taken from a field: present, and the key of no other row of the load."""
        if key is None:
            raise LoadError(f"{where}: the key field `{node.key}` is missing or null")
        seen = self.seen.setdefault(node.table, {})
        other = seen.get(key)
        if other is not None:
            also = "an earlier row of this record" if other == self.record else f"record {other}"
            raise LoadError(f"{where}: key {_show(key)} (`{node.key}`) is also the key of {also}")
        seen[key] = self.record
        self.pending_keys.setdefault(node.table, (node.key, []))[1].append(key)

    def check_existing_keys(self) -> None:
        """:class:`LoadError` for a key from a field that a row already in the table has."""
        d = self.d
        mark = d.placeholder
        for table, (column, keys) in self.pending_keys.items():
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                marks = ", ".join(mark for _ in chunk)
                col = d.quote(column)
                found = self.conn.execute(
                    f"SELECT {col} FROM {d.quote(table)} WHERE {col} IN ({marks})", chunk
                ).fetchone()
                if found is not None:
                    key = found[0]
                    record = self.seen.get(table, {}).get(key)
                    who = f"record {record}" if record is not None else "a record"
                    raise LoadError(f"{who}: key {_show(key)} (`{column}`) is already in table {table!r}")
        self.pending_keys.clear()

    def add_list(self, path: tuple[str, ...], owner_row: dict[str, Any], value: Any) -> None:
        node = self.mapping.node(path)
        assert isinstance(node, ListMapping)
        owner = self.mapping.table(path[:-1])
        if value is None:
            return
        elements = value if isinstance(value, list) else [value]
        for element in elements:
            value_text = self.text(element, f"{self.where(path[:-1])}.{path[-1]}")
            self.rows.setdefault(node.table, []).append(
                {node.link: owner_row[node.link_to or owner.key], node.value: value_text}
            )

    def flush(self) -> None:
        self.check_existing_keys()
        for table, rows in self.rows.items():
            if not rows:
                continue
            columns = list(self.defs[table].columns)
            self.d.insert_rows(self.conn, table, columns, [[r.get(c) for c in columns] for r in rows])
        self.rows.clear()

    def entity_at(self, path: tuple[str, ...]) -> Any:
        entity = self.mapping.schema.entities[self.mapping.entity]
        for seg in path:
            entity = self.mapping.schema.entities[entity.relations[seg].target]
        return entity


def load_records(
    conn: Any,
    records: Iterable[Any],
    schema: Schema | str | None = None,
    entity: str | None = None,
    mapping: SchemaMapping | AbcMapping[str, Any] | None = None,
    *,
    dialect: str | None = None,
    batch: int = 10_000,
) -> list[Any]:
    """Insert records (JSON-decoded dicts) into the mapping's tables; returns their keys, in order.

    Keys that are not a field of the record are numbered from one past the largest key in the table.
    PostgreSQL rows go in with ``COPY``.  The caller commits (or not): on a connection in autocommit mode
    the load is one transaction of its own.

    All or nothing: a record that does not fit the schema or that the database cannot hold (a lone
    surrogate, NUL in PostgreSQL text, a number beyond its column, a key that another row already has)
    raises :class:`LoadError` naming the record (``record 3``, its number from 1) and the field, after
    undoing everything this call inserted (a savepoint); the connection stays usable.
    """
    from .run import detect_dialect

    d = dialect_of(dialect or detect_dialect(conn))
    m = as_mapping(schema, entity, mapping)
    loader = _Loader(conn, m, d)
    root = m.root
    keys: list[Any] = []
    if isinstance(records, (str, bytes)) or not isinstance(records, Iterable):
        raise LoadError(f"records are an iterable of JSON objects, not {type(records).__name__}")
    with d.atomic(conn):
        first = 1
        n = 0
        for n, record in enumerate(records, 1):
            loader.record = n
            if not isinstance(record, AbcMapping):
                raise LoadError(f"record {n} is not a JSON object")
            try:
                keys.append(loader.add((), "root", root, record, None)[root.key])
            except LoadError as exc:
                raise LoadError(f"record {n}{_key_note(root, record)}: {exc}") from None
            if n % batch == 0:
                _flush(loader, first, n)
                first = n + 1
        _flush(loader, first, n)
    return keys


def _key_note(root: TableMapping, record: AbcMapping[str, Any]) -> str:
    for field_name, column in root.columns.items():
        if column == root.key and isinstance(record.get(field_name), (str, int)):
            return f" ({field_name} {_show(record[field_name])})"
    return ""


def _flush(loader: _Loader, first: int, last: int) -> None:
    """Insert what the loader holds; an error of the database becomes a :class:`LoadError`."""
    try:
        loader.flush()
    except LoadError:
        raise
    except loader.d.database_errors() as exc:
        which = f"record {first}" if first >= last else f"records {first} to {last}"
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise LoadError(f"{which}: the database refused a row: {detail}") from None


dialect_of = dialect
