"""The schemas shipped with the package (``skillfilter/data/<name>.schema.json``), built once per process.

``skillfilter lint`` builds one at every start, so it is not read from its JSON file here: the checking
reader of :mod:`.schema_loading` read it when ``scripts/make_builtin_data.py`` ran, and :mod:`.builtin_data`
holds what it made as plain tuples (the arguments of the model's constructors), from which
:func:`builtin_schema` builds the same schema with no checks, no ``json`` and no file.
``tests/test_schema.py`` checks that both give the same schema for every shipped file, and that the module
is what the script writes.
"""

from __future__ import annotations

from functools import cache
from types import MappingProxyType
from typing import Any

from .model import CustomProperties, Entity, Field, Relation, Schema, UnknownSchemaError

__all__ = ["BUILTIN_SCHEMAS", "builtin_schema", "decode", "read_builtin"]

#: The schemas shipped with the package.
BUILTIN_SCHEMAS = ("skillengine", "export")


def read_builtin(name: str) -> Any:
    """The data of built-in schema ``name``, as decoded from its JSON file; :class:`UnknownSchemaError`
    when there is none."""
    if name not in BUILTIN_SCHEMAS:
        known = ", ".join(BUILTIN_SCHEMAS)
        raise UnknownSchemaError(f"no built-in schema `{name}`; built-in schemas: {known}")
    import json
    from importlib.resources import files

    path = files("skillfilter").joinpath("data").joinpath(f"{name}.schema.json")
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def builtin_schema(name: str) -> Schema:
    """Built-in schema ``name``, built once per process."""
    from .builtin_data import SCHEMAS

    data = SCHEMAS.get(name) if name in BUILTIN_SCHEMAS else None
    if data is None:
        read_builtin(name)  # raises UnknownSchemaError
    return decode(data)


def decode(data: Any) -> Schema:
    """The schema of the tuples ``scripts/make_builtin_data.py`` writes (``encode`` there)."""
    name, description, default_entity, operators, entities = data
    built = {}
    for ename, edescription, fields, relations, cp, eoperators, type_operators in entities:
        built[ename] = Entity(
            ename,
            MappingProxyType({f: Field(f, t, n, None if o is None else frozenset(o), d)
                              for f, t, n, o, d in fields}),
            MappingProxyType({r[0]: Relation(*r) for r in relations}),
            None if cp is None else CustomProperties(cp[0], MappingProxyType(cp[1])),
            _operators(eoperators),
            edescription,
            MappingProxyType({t: frozenset(names) for t, names in type_operators}),
        )
    return Schema(name, MappingProxyType(built), _operators(operators), description, default_entity)


def _operators(data: Any) -> MappingProxyType[str, Any]:
    if not data:
        return MappingProxyType({})
    from .operators import Operator, OpKind, ValueKind

    return MappingProxyType({n: Operator(n, OpKind(k), ci, frozenset(map(ValueKind, kinds)), d)
                             for n, k, ci, kinds, d in data})
