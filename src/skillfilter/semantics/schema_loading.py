"""Reading schemas: the JSON data format (``docs/schema.md``) into the model of :mod:`.model`, checking
everything (the shipped schemas are read by :mod:`.builtin`).

Every problem with the data is a :class:`~.model.SchemaError` naming where it is (``entities.x.fields.y``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..errors import FilterTypeError, type_name
from .model import (
    CUSTOM_PROPERTY_TYPES,
    FIELD_TYPES,
    CustomProperties,
    Entity,
    Field,
    Relation,
    Schema,
    SchemaError,
)
from .operators import BUILTIN_OPERATORS, FIELD_KIND, Operator, OpKind, ValueKind

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["check_references", "extend", "load_schema", "schema_from_dict"]

_OPERATOR_KINDS = tuple(k.value for k in OpKind)
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PROPERTY_RE = re.compile(r"[A-Za-z0-9_]+\Z")


def load_schema(path: str | Path) -> Schema:
    """Read a schema from a JSON file (format: ``docs/schema.md``)."""
    from pathlib import Path

    if not isinstance(path, (str, Path)):
        raise FilterTypeError(f"Schema.load() takes a path (str or Path), not {type_name(path)}")
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SchemaError(f"cannot read schema {p}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise SchemaError(f"{p}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise SchemaError(f"{p}: not JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    return schema_from_dict(data, source=str(p))


# --------------------------------------------------------------------------------------------------
# the data format
# --------------------------------------------------------------------------------------------------
def _err(source: str, where: str, message: str) -> SchemaError:
    return SchemaError(f"{source}: {where}: {message}")


def _operator_from(source: str, where: str, name: str, data: Any) -> Operator:
    if not _NAME_RE.match(name):
        raise _err(source, where, f"`{name}` is not a valid operator name")
    if not isinstance(data, Mapping):
        raise _err(source, where, "an operator is an object with `kind` (and `case_insensitive`, `types`)")
    kind = data.get("kind")
    if kind not in _OPERATOR_KINDS:
        raise _err(source, where, f"`kind` must be one of {', '.join(_OPERATOR_KINDS)}")
    types = data.get("types")
    if types is None:
        kinds = frozenset(ValueKind)
    else:
        if not isinstance(types, list) or any(t not in FIELD_TYPES for t in types):
            raise _err(source, where, f"`types` must list field types from: {', '.join(FIELD_TYPES)}")
        kinds = frozenset(FIELD_KIND[t] for t in types)
    ci = data.get("case_insensitive", False)
    if not isinstance(ci, bool):
        raise _err(source, where, "`case_insensitive` must be true or false")
    if ci and kinds - {ValueKind.TEXT}:
        raise _err(source, where, "a case-insensitive operator applies to text only")
    return Operator(name, OpKind(kind), ci, kinds, str(data.get("description", "")))


def _field_from(source: str, where: str, name: str, data: Any) -> Field:
    if isinstance(data, str):
        data = {"type": data}
    if not isinstance(data, Mapping):
        raise _err(source, where, "a field is a type name or an object with `type`")
    type_name = data.get("type")
    if type_name not in FIELD_TYPES:
        raise _err(source, where, f"`type` must be one of {', '.join(FIELD_TYPES)}")
    nullable = data.get("nullable", True)
    if not isinstance(nullable, bool):
        raise _err(source, where, "`nullable` must be true or false")
    ops = data.get("operators")
    if ops is not None and (not isinstance(ops, list) or not all(isinstance(o, str) for o in ops)):
        raise _err(source, where, "`operators` must be a list of operator names")
    return Field(name, type_name, nullable, frozenset(ops) if ops is not None else None,
                 str(data.get("description", "")))


def schema_from_dict(data: Any, source: str = "schema", *, base: Schema | None = None) -> Schema:
    """Read the data format; with ``base``, read an extension of ``base`` (see :meth:`Schema.extend`)."""
    if not isinstance(data, Mapping):
        raise SchemaError(f"{source}: a schema is a JSON object")
    known_keys = {"name", "description", "entities", "operators", "$schema", "source", "default_entity"}
    unknown = set(data) - known_keys
    if unknown:
        raise SchemaError(f"{source}: unknown keys {sorted(unknown)}")
    entities_data = data.get("entities")
    if base is not None and entities_data is None:
        entities_data = {}
    if not isinstance(entities_data, Mapping) or (not entities_data and base is None):
        raise SchemaError(f"{source}: `entities` must be a non-empty object")
    operators_data = data.get("operators") or {}
    if not isinstance(operators_data, Mapping):
        raise SchemaError(f"{source}: `operators` must be an object")
    schema_ops = {n: _operator_from(source, f"operators.{n}", n, d) for n, d in operators_data.items()}
    base_ops = set(base.operators) if base is not None else set()
    entities: dict[str, Entity] = {}
    for ename, edata in entities_data.items():
        where = f"entities.{ename}"
        if not isinstance(ename, str) or not _NAME_RE.match(ename):
            raise _err(source, where, "not a valid entity name")
        if not isinstance(edata, Mapping):
            raise _err(source, where, "an entity is an object with `fields`")
        unknown = set(edata) - {"description", "fields", "relations", "custom_properties", "operators",
                                "type_operators", "merge"}
        if unknown:
            raise _err(source, where, f"unknown keys {sorted(unknown)}")
        merge = edata.get("merge", False)
        if not isinstance(merge, bool):
            raise _err(source, where, "`merge` must be true or false")
        merge_into: Entity | None = None
        if merge:
            if base is None or ename not in base.entities:
                raise _err(source, where, "`merge` needs an entity of that name in the schema being extended")
            merge_into = base.entities[ename]
        fields_data = edata.get("fields") or {}
        if not isinstance(fields_data, Mapping):
            raise _err(source, where, "`fields` must be an object")
        fields = {}
        for fname, fdata in fields_data.items():
            if not _NAME_RE.match(fname) or "__" in fname or fname.startswith("cp_"):
                raise _err(source, f"{where}.fields.{fname}", "not a valid field name")
            fields[fname] = _field_from(source, f"{where}.fields.{fname}", fname, fdata)
        relations = {}
        relations_data = edata.get("relations") or {}
        if not isinstance(relations_data, Mapping):
            raise _err(source, where, "`relations` must be an object")
        for rname, rdata in relations_data.items():
            rwhere = f"{where}.relations.{rname}"
            if not _NAME_RE.match(rname) or "__" in rname or rname.startswith("cp_"):
                raise _err(source, rwhere, "not a valid relation name")
            if rname in fields:
                raise _err(source, rwhere, "a relation and a field share this name")
            if not isinstance(rdata, Mapping) or not isinstance(rdata.get("entity"), str):
                raise _err(source, rwhere, "a relation is an object with `entity` (and `many`)")
            many = rdata.get("many", False)
            if not isinstance(many, bool):
                raise _err(source, rwhere, "`many` must be true or false")
            relations[rname] = Relation(rname, rdata["entity"], many, str(rdata.get("description", "")))
        cp_data = edata.get("custom_properties", False)
        cp: CustomProperties | None
        if cp_data is False or cp_data is None:
            cp = None
        elif cp_data is True:
            cp = CustomProperties()
        elif isinstance(cp_data, Mapping):
            defs = cp_data.get("definitions") or {}
            if not isinstance(defs, Mapping) or any(t not in CUSTOM_PROPERTY_TYPES for t in defs.values()):
                raise _err(source, f"{where}.custom_properties",
                           f"`definitions` maps names to one of {', '.join(CUSTOM_PROPERTY_TYPES)}")
            for cname in defs:
                if not isinstance(cname, str) or not _PROPERTY_RE.match(cname) or "__" in cname:
                    raise _err(
                        source, f"{where}.custom_properties", f"`{cname}` is not a valid property name"
                    )
            strict = cp_data.get("strict", False)
            if not isinstance(strict, bool):
                raise _err(source, f"{where}.custom_properties", "`strict` must be true or false")
            cp = CustomProperties(strict, MappingProxyType(dict(defs)))
        else:
            raise _err(source, f"{where}.custom_properties", "must be true, false or an object")
        ent_ops_data = edata.get("operators") or {}
        type_ops_data = edata.get("type_operators") or {}
        if not isinstance(ent_ops_data, Mapping) or not isinstance(type_ops_data, Mapping):
            raise _err(source, where, "`operators` and `type_operators` must be objects")
        ent_ops = {n: _operator_from(source, f"{where}.operators.{n}", n, d) for n, d in ent_ops_data.items()}
        type_ops: dict[str, frozenset[str]] = {}
        for tname, names in type_ops_data.items():
            if (
                tname not in FIELD_TYPES
                or not isinstance(names, list)
                or not all(isinstance(n, str) for n in names)
            ):
                raise _err(source, f"{where}.type_operators", "maps a field type to a list of operator names")
            type_ops[tname] = frozenset(names)
        known_ops = set(BUILTIN_OPERATORS) | base_ops | set(schema_ops) | set(ent_ops)
        if merge_into is not None:
            known_ops |= set(merge_into.operators)
        for tname, names in type_ops.items():
            for n in names:
                if n not in known_ops:
                    raise _err(source, f"{where}.type_operators.{tname}", f"unknown operator `{n}`")
        for f in fields.values():
            for n in f.operators or ():
                if n not in known_ops:
                    raise _err(source, f"{where}.fields.{f.name}", f"unknown operator `{n}`")
        description = str(edata.get("description", ""))
        if merge_into is not None:
            fields = {**merge_into.fields, **fields}
            relations = {**merge_into.relations, **relations}
            clash = sorted(set(fields) & set(relations))
            if clash:
                raise _err(source, where, f"`{clash[0]}` would be both a field and a relation")
            if "custom_properties" not in edata:
                cp = merge_into.custom_properties
            ent_ops = {**merge_into.operators, **ent_ops}
            type_ops = {**merge_into.type_operators, **type_ops}
            description = description or merge_into.description
        entities[ename] = Entity(
            ename,
            MappingProxyType(fields),
            MappingProxyType(relations),
            cp,
            MappingProxyType(ent_ops),
            description,
            MappingProxyType(type_ops),
        )
    default_entity = data.get("default_entity")
    if default_entity is not None and not isinstance(default_entity, str):
        raise SchemaError(f"{source}: `default_entity` must be an entity name")
    schema = Schema(
        str(data.get("name", "schema")),
        MappingProxyType(entities),
        MappingProxyType(schema_ops),
        str(data.get("description", "")),
        default_entity,
    )
    if base is None:
        check_references(schema)
    return schema




def extend(schema: Schema, other: Schema | Mapping[str, Any]) -> Schema:
    """``Schema.extend``: a new schema with ``other``'s operators and entities added."""
    if not isinstance(other, Schema):
        other = schema_from_dict({"name": schema.name, **other}, "extension", base=schema)
    merged = Schema(
        schema.name,
        MappingProxyType({**schema.entities, **other.entities}),
        MappingProxyType({**schema.operators, **other.operators}),
        schema.description,
        other.default_entity or schema.default_entity,
    )
    check_references(merged)
    return merged


def check_references(schema: Schema) -> None:
    """Raise :class:`SchemaError` for a ``default_entity`` or a relation naming an unknown entity."""
    if schema.default_entity is not None and schema.default_entity not in schema.entities:
        raise SchemaError(f"`default_entity` names an unknown entity `{schema.default_entity}`")
    for entity in schema.entities.values():
        for rel in entity.relations.values():
            if rel.target not in schema.entities:
                raise SchemaError(f"{entity.name}.{rel.name}: relation to unknown entity `{rel.target}`")
