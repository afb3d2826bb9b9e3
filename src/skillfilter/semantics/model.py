"""The schema model: :class:`Schema`, :class:`Entity`, :class:`Field`, :class:`Relation`,
:class:`CustomProperties`, and :class:`Resolution` (where a comparison leads).

A schema is plain data (JSON; see ``docs/schema.md``): :mod:`.schema_loading` reads it, :mod:`.resolve`
checks a comparison against it, :mod:`.literals` converts a literal to a field's type.  Those modules load
on first use (``Schema.builtin``, ``Schema.resolve``), so that importing the model costs little.

The classes are immutable, slotted, and compare, hash and print by their fields, as
``@dataclass(frozen=True, slots=True)`` classes would (:class:`~.frozen.Frozen`; a dataclass costs about a
millisecond to build at every start of the command line).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..errors import FilterError, FilterTypeError, type_name
from .frozen import Frozen
from .operators import BUILTIN_OPERATORS, FieldType, Operator

if TYPE_CHECKING:
    from pathlib import Path

    from ..language.ast import Comparison

__all__ = [
    "CUSTOM_PROPERTY_TYPES",
    "FIELD_TYPES",
    "CustomProperties",
    "Entity",
    "Field",
    "Relation",
    "Resolution",
    "Schema",
    "SchemaError",
    "UnknownSchemaError",
]

#: The field types a schema may declare.
FIELD_TYPES: tuple[str, ...] = tuple(t.value for t in FieldType)
#: Types of custom properties the API knows.
CUSTOM_PROPERTY_TYPES: tuple[str, ...] = (
    FieldType.NUMBER.value, FieldType.TEXT.value, FieldType.BOOLEAN.value, FieldType.DATETIME.value,
    FieldType.LIST_TEXT.value,
)

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class UnknownSchemaError(FilterError, KeyError):
    """No built-in schema has that name (a ``KeyError`` too, for callers that look schemas up)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown schema"


class SchemaError(FilterError, ValueError):
    """A schema file or dictionary that is not a valid schema."""


class Field(Frozen):
    """A field of an entity: its name and type."""

    __slots__ = __match_args__ = _fields = ("name", "type", "nullable", "operators", "description")

    name: str
    type: str
    nullable: bool
    #: Operators this field takes, when it narrows or extends those of its type.
    operators: frozenset[str] | None
    description: str

    def __init__(
        self,
        name: str,
        type: str,
        nullable: bool = True,
        operators: frozenset[str] | None = None,
        description: str = "",
    ) -> None:
        self._set_fields(name, type, nullable, operators, description)

    @property
    def is_list(self) -> bool:
        return self.type == FieldType.LIST_TEXT


class Relation(Frozen):
    """A relation of an entity to another entity."""

    __slots__ = __match_args__ = _fields = ("name", "target", "many", "description")

    name: str
    target: str
    many: bool
    description: str

    def __init__(self, name: str, target: str, many: bool = False, description: str = "") -> None:
        self._set_fields(name, target, many, description)


class CustomProperties(Frozen):
    """Whether and which custom properties an entity has.

    With ``strict`` only the ``definitions`` may be used; otherwise an undeclared property is untyped
    (compared as in a schemaless filter).
    """

    __slots__ = __match_args__ = _fields = ("strict", "definitions")

    strict: bool
    definitions: Mapping[str, str]

    def __init__(self, strict: bool = False, definitions: Mapping[str, str] | None = None) -> None:
        self._set_fields(strict, _EMPTY if definitions is None else definitions)


class Entity(Frozen):
    """An entity: its fields, relations and custom properties."""

    __slots__ = __match_args__ = _fields = (
        "name", "fields", "relations", "custom_properties", "operators", "description", "type_operators"
    )

    name: str
    fields: Mapping[str, Field]
    relations: Mapping[str, Relation]
    custom_properties: CustomProperties | None
    #: Operators this entity adds to (or redefines in) the schema's table.
    operators: Mapping[str, Operator]
    description: str
    #: Operator names allowed per field type, when the entity narrows or extends the defaults.
    type_operators: Mapping[str, frozenset[str]]

    def __init__(  # noqa: PLR0917 - positional, as the dataclass it replaces
        self,
        name: str,
        fields: Mapping[str, Field],
        relations: Mapping[str, Relation] | None = None,
        custom_properties: CustomProperties | None = None,
        operators: Mapping[str, Operator] | None = None,
        description: str = "",
        type_operators: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        self._set_fields(name, fields, _EMPTY if relations is None else relations, custom_properties,
                         _EMPTY if operators is None else operators, description,
                         _EMPTY if type_operators is None else type_operators)

    def names(self) -> list[str]:
        """The field and relation names, sorted."""
        return sorted([*self.fields, *self.relations])


class Resolution(Frozen):
    """Where a comparison leads, once checked against an entity.

    ``relations`` are the relations walked, in order (``many`` tells which are to-many); ``field`` is the
    field compared (``None`` for a custom property); ``type`` is the declared type, or ``None`` for an
    untyped custom property.  ``path`` is the data path of the field relative to the record, relation
    names first.
    """

    __slots__ = __match_args__ = _fields = (
        "entity", "relations", "field", "custom_property", "type", "operator"
    )

    entity: Entity
    relations: tuple[Relation, ...]
    field: Field | None
    custom_property: str | None
    type: str | None
    operator: Operator

    def __init__(  # noqa: PLR0917 - positional, as the dataclass it replaces
        self,
        entity: Entity,
        relations: tuple[Relation, ...],
        field: Field | None,
        custom_property: str | None,
        type: str | None,
        operator: Operator,
    ) -> None:
        self._set_fields(entity, relations, field, custom_property, type, operator)

    @property
    def path(self) -> tuple[str, ...]:
        last = self.field.name if self.field is not None else "cp_" + (self.custom_property or "")
        return (*(r.name for r in self.relations), last)


class Schema(Frozen):
    """The entities a filter may name, their fields, relations and operators."""

    __match_args__ = _fields = ("name", "entities", "operators", "description", "default_entity")
    __slots__ = ("_names", *_fields)

    name: str
    entities: Mapping[str, Entity]
    #: Operators the whole schema adds to the built-in ones.
    operators: Mapping[str, Operator]
    description: str
    #: The entity a filter is checked against when none is named (``skillfilter lint`` without
    #: ``--entity``); ``None``: the only entity of a one-entity schema, else none.
    default_entity: str | None
    #: ``operator_names`` per entity name, computed once (a schema is immutable).
    _names: dict[str, frozenset[str]]

    def __init__(
        self,
        name: str,
        entities: Mapping[str, Entity],
        operators: Mapping[str, Operator] | None = None,
        description: str = "",
        default_entity: str | None = None,
    ) -> None:
        operators = _EMPTY if operators is None else operators
        self._set_fields(name, entities, operators, description, default_entity)
        object.__setattr__(self, "_names", {})

    # -- loading (in .builtin and .schema_loading) --------------------------------------------------
    @classmethod
    def builtin(cls, name: str = "skillengine") -> Schema:
        """A schema shipped with the package: ``skillengine`` or ``export``."""
        if not isinstance(name, str):
            raise FilterTypeError(f"a built-in schema's name is a str, not {type_name(name)}")
        from .builtin import builtin_schema

        return builtin_schema(name)

    @classmethod
    def coerce(cls, schema: Schema | str | None) -> Schema:
        """A schema from a :class:`Schema`, a built-in schema's name, or ``None`` (the SkillEngine schema)."""
        if schema is None:
            return cls.builtin("skillengine")
        if isinstance(schema, str):
            return cls.builtin(schema)
        if not isinstance(schema, Schema):
            raise FilterTypeError(
                f"schema must be a Schema, a built-in schema name or None, not {type_name(schema)}"
            )
        return schema

    @classmethod
    def load(cls, path: str | Path) -> Schema:
        """Read a schema from a JSON file (format: ``docs/schema.md``)."""
        from .schema_loading import load_schema

        return load_schema(path)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "schema") -> Schema:
        """A schema from the data format (``docs/schema.md``) as decoded from JSON."""
        from .schema_loading import schema_from_dict

        return schema_from_dict(data, source)

    def extend(self, other: Schema | Mapping[str, Any]) -> Schema:
        """A new schema with ``other``'s operators and entities added.

        An entity of the same name is replaced, unless (in a dictionary) it says ``"merge": true``: then
        its fields, relations, operators and type operators are added to the existing entity's, and its
        ``custom_properties`` (when given) replace the existing setting.  ``other`` may consist of
        ``operators`` alone.
        """
        from .schema_loading import extend

        return extend(self, other)

    def check_references(self) -> None:
        """Raise :class:`SchemaError` for a ``default_entity`` or a relation naming an unknown entity."""
        from .schema_loading import check_references

        check_references(self)

    # -- queries -----------------------------------------------------------------------------------
    def entity(self, name: str) -> Entity:
        """The entity ``name``; an unknown name is a :class:`~skillfilter.errors.FilterError`."""
        found = self.entities.get(name) if isinstance(name, str) else None
        if found is None:
            known = self.entity_list()
            raise FilterError(f"unknown entity `{name}` in schema `{self.name}` (known: {known})")
        return found

    def entity_list(self) -> str:
        """The names of the entities, sorted and separated by ``, `` (for messages)."""
        return ", ".join(sorted(self.entities))

    def implied_entity(self) -> str | None:
        """``default_entity``, else the only entity of a one-entity schema, else ``None``."""
        if self.default_entity is not None:
            return self.default_entity
        if len(self.entities) == 1:
            return next(iter(self.entities))
        return None

    def operators_for(self, entity: Entity) -> Mapping[str, Operator]:
        """Every operator known on ``entity``: the built-ins, the schema's, then the entity's own."""
        if not self.operators and not entity.operators:
            return BUILTIN_OPERATORS
        return {**BUILTIN_OPERATORS, **self.operators, **entity.operators}

    def operator_names(self, entity_name: str) -> frozenset[str]:
        """The names that end a field reference as its operator in a filter on ``entity_name``: the
        built-ins, the schema's, and those of the entity and of every entity reachable through its
        relations (an entity's own operators apply to its fields also when reached through a relation).
        """
        found = self._names.get(entity_name)
        if found is not None:
            return found
        names = set(BUILTIN_OPERATORS) | set(self.operators)
        seen: set[str] = set()
        todo = [entity_name] if entity_name in self.entities else []
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            entity = self.entities[name]
            names.update(entity.operators)
            todo.extend(r.target for r in entity.relations.values() if r.target in self.entities)
        found = frozenset(names)
        if len(self._names) < 1024:  # bounded: entity names come from callers
            self._names[entity_name] = found
        return found

    def allowed_operators(self, entity: Entity, type_name: str | None, fld: Field | None = None) -> list[str]:
        """Operator names a value of ``type_name`` takes on ``entity`` (all of them when untyped)."""
        from .diagnose import allowed_operators

        return allowed_operators(self, entity, type_name, fld)

    def resolve(self, entity_name: str, node: Comparison) -> Resolution:
        """Check one comparison against ``entity_name``; raise :class:`~.resolve.ResolveError` where it
        does not fit (see :func:`.resolve.resolve`)."""
        from .resolve import resolve

        return resolve(self, entity_name, node)
