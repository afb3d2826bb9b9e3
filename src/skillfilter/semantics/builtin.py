"""The schemas shipped with the package (``skillfilter/data/<name>.schema.json``), read once per process.

Their data comes from :mod:`.builtin_data`, the same data as Python literals (so no ``json`` and no file at
start; ``tests/test_schema.py`` checks it against the JSON files).

``skillfilter lint`` reads one at every start, so the plain shape the shipped files use is read here
directly: top-level ``name``, ``description``, ``source``, ``default_entity``, ``entities``; per entity
``description``, ``fields`` (a type name, or an object with ``type``, ``nullable``, ``description``),
``relations`` (``entity``, ``many``, ``description``) and ``custom_properties`` (``true``/``false``).
Anything else (a file edited to use more of the format) goes to the checking reader of
:mod:`.schema_loading`, which otherwise does not load.  ``tests/test_schema.py`` checks that both readers
give the same schema for every shipped file.
"""

from __future__ import annotations

from functools import cache
from types import MappingProxyType
from typing import Any

from .model import CustomProperties, Entity, Field, Relation, Schema, UnknownSchemaError

__all__ = ["BUILTIN_SCHEMAS", "builtin_schema", "read_builtin"]

#: The schemas shipped with the package.
BUILTIN_SCHEMAS = ("skillengine", "export")

_TOP = frozenset({"name", "description", "source", "default_entity", "entities", "$schema"})
_ENTITY = frozenset({"description", "fields", "relations", "custom_properties"})
_FIELD = frozenset({"type", "nullable", "description"})
_RELATION = frozenset({"entity", "many", "description"})


def read_builtin(name: str) -> Any:
    """The data of built-in schema ``name`` (as decoded from its JSON file, which
    ``scripts/make_builtin_data.py`` turned into :mod:`.builtin_data`); :class:`UnknownSchemaError` when
    there is none."""
    from .builtin_data import SCHEMAS

    data = SCHEMAS.get(name) if name in BUILTIN_SCHEMAS else None
    if data is None:
        known = ", ".join(BUILTIN_SCHEMAS)
        raise UnknownSchemaError(f"no built-in schema `{name}`; built-in schemas: {known}")
    return data


@cache
def builtin_schema(name: str) -> Schema:
    """Built-in schema ``name``, read once per process."""
    data = read_builtin(name)
    schema = _plain_schema(data)
    if schema is None:
        from .schema_loading import schema_from_dict

        return schema_from_dict(data, source=f"built-in schema {name}")
    return schema


def _plain_schema(data: Any) -> Schema | None:
    """``data`` read when it has the plain shape described above (with the checking reader's defaults);
    ``None`` otherwise."""
    if type(data) is not dict or not data.keys() <= _TOP or type(data.get("entities")) is not dict:
        return None
    entities: dict[str, Entity] = {}
    for ename, edata in data["entities"].items():
        if type(edata) is not dict or not edata.keys() <= _ENTITY:
            return None
        fields: dict[str, Field] = {}
        for fname, fdata in edata.get("fields", {}).items():
            if type(fdata) is str:
                fdata = {"type": fdata}
            if type(fdata) is not dict or not fdata.keys() <= _FIELD:
                return None
            fields[fname] = Field(fname, fdata["type"], fdata.get("nullable", True), None,
                                  str(fdata.get("description", "")))
        relations: dict[str, Relation] = {}
        for rname, rdata in edata.get("relations", {}).items():
            if type(rdata) is not dict or not rdata.keys() <= _RELATION:
                return None
            relations[rname] = Relation(rname, rdata["entity"], rdata.get("many", False),
                                        str(rdata.get("description", "")))
        cp = edata.get("custom_properties", False)
        if cp not in (True, False, None):
            return None
        entities[ename] = Entity(
            ename,
            MappingProxyType(fields),
            MappingProxyType(relations),
            CustomProperties() if cp is True else None,
            description=str(edata.get("description", "")),
        )
    return Schema(
        str(data.get("name", "schema")),
        MappingProxyType(entities),
        description=str(data.get("description", "")),
        default_entity=data.get("default_entity"),
    )
