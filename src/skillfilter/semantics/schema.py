"""Schemas: entities, fields, types, relations, custom properties, and the operators each type takes.

A schema is plain data (JSON; see ``docs/schema.md``).  Two ship with the package:

- ``skillengine``: the SkillEngine API's filterable entities, derived from its public documentation;
- ``export``: the records of the skill-cluster export endpoint (``employees`` with ``skill_clusters``).

:meth:`Schema.resolve` is the one place where a comparison meets a schema: it walks the relations, finds
the field or custom property, picks the operator (a schema may add operators) and reports what does not
fit.  The validator turns its errors into diagnostics; the backends use its result to compile.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ..errors import FilterError, FilterTypeError, type_name
from ..language.ast import Comparison, CustomProperty
from ..language.parser import float_value, inexact_float_hint
from .operators import BOOLEAN, BUILTIN_OPERATORS, NUMBER, TEMPORAL, TEXT, FieldType, Operator, OpKind
from .values import MAX_DIGITS, as_date, as_datetime, float_decimal, parse_datetime

if TYPE_CHECKING:
    from ..language.ast import Literal

__all__ = [
    "FIELD_TYPES",
    "ConversionError",
    "CustomProperties",
    "Entity",
    "Field",
    "Relation",
    "Resolution",
    "ResolveError",
    "Schema",
    "SchemaError",
    "UnknownSchemaError",
    "convert_literal",
    "parse_datetime",
    "show_literal",
    "type_kind",
]

#: The field types a schema may declare.
FIELD_TYPES = tuple(t.value for t in FieldType)
_KIND = {t.value: t.kind for t in FieldType}
#: Types of custom properties the API knows.
CUSTOM_PROPERTY_TYPES = ("number", "text", "boolean", "datetime", "list[text]")
_OPERATOR_KINDS = tuple(k.value for k in OpKind)
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def type_kind(type_name: str) -> str:
    """``text``, ``number``, ``boolean`` or ``temporal``: what an operator's ``kinds`` are matched with."""
    return _KIND[type_name]


class UnknownSchemaError(FilterError, KeyError):
    """No built-in schema has that name (a ``KeyError`` too, for callers that look schemas up)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown schema"


class SchemaError(FilterError, ValueError):
    """A schema file or dictionary that is not a valid schema."""


@dataclass(frozen=True, slots=True)
class Field:
    """A field of an entity: its name and type."""
    name: str
    type: str
    nullable: bool = True
    #: Operators this field takes, when it narrows or extends those of its type.
    operators: frozenset[str] | None = None
    description: str = ""

    @property
    def is_list(self) -> bool:
        return self.type == "list[text]"


@dataclass(frozen=True, slots=True)
class Relation:
    """A relation of an entity to another entity."""
    name: str
    target: str
    many: bool = False
    description: str = ""


@dataclass(frozen=True, slots=True)
class CustomProperties:
    """Whether and which custom properties an entity has.

    With ``strict`` only the ``definitions`` may be used; otherwise an undeclared property is untyped
    (compared as in a schemaless filter).
    """

    strict: bool = False
    definitions: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True, slots=True)
class Entity:
    """An entity: its fields, relations and custom properties."""
    name: str
    fields: Mapping[str, Field]
    relations: Mapping[str, Relation] = field(default_factory=lambda: MappingProxyType({}))
    custom_properties: CustomProperties | None = None
    #: Operators this entity adds to (or redefines in) the schema's table.
    operators: Mapping[str, Operator] = field(default_factory=lambda: MappingProxyType({}))
    description: str = ""
    #: Operator names allowed per field type, when the entity narrows or extends the defaults.
    type_operators: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))

    def names(self) -> list[str]:
        return sorted([*self.fields, *self.relations])


@dataclass(frozen=True, slots=True)
class Resolution:
    """Where a comparison leads, once checked against an entity.

    ``relations`` are the relations walked, in order (``many`` tells which are to-many); ``field`` is the
    field compared (``None`` for a custom property); ``type`` is the declared type, or ``None`` for an
    untyped custom property.  ``path`` is the data path of the field relative to the record, relation
    names first.
    """

    entity: Entity
    relations: tuple[Relation, ...]
    field: Field | None
    custom_property: str | None
    type: str | None
    operator: Operator

    @property
    def path(self) -> tuple[str, ...]:
        last = self.field.name if self.field is not None else "cp_" + (self.custom_property or "")
        return (*(r.name for r in self.relations), last)


class ResolveError(Exception):
    """A comparison that does not fit the schema; ``code`` is the diagnostic code."""

    def __init__(self, code: str, message: str, start: int, end: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.start = start
        self.end = end
        self.hint = hint


class ConversionError(FilterError, ValueError):
    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def _suggest(word: str, candidates: list[str]) -> str | None:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return close[0] if close else None


def _allowed_list(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names) if names else "none"


@dataclass(frozen=True, slots=True)
class Schema:
    """The entities a filter may name, their fields, relations and operators."""
    name: str
    entities: Mapping[str, Entity]
    #: Operators the whole schema adds to the built-in ones.
    operators: Mapping[str, Operator] = field(default_factory=lambda: MappingProxyType({}))
    description: str = ""
    #: The entity a filter is checked against when none is named (``skillfilter lint`` without
    #: ``--entity``); ``None``: the only entity of a one-entity schema, else none.
    default_entity: str | None = None

    # -- loading -----------------------------------------------------------------------------------
    @classmethod
    def builtin(cls, name: str = "skillengine") -> Schema:
        """A schema shipped with the package: ``skillengine`` or ``export``."""
        if not isinstance(name, str):
            raise FilterTypeError(f"a built-in schema's name is a str, not {type_name(name)}")
        return _builtin(name)

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
        return cls.from_dict(data, source=str(p))

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "schema") -> Schema:
        return _from_dict(data, source)

    def extend(self, other: Schema | Mapping[str, Any]) -> Schema:
        """A new schema with ``other``'s operators and entities added.

        An entity of the same name is replaced, unless (in a dictionary) it says ``"merge": true``: then
        its fields, relations, operators and type operators are added to the existing entity's, and its
        ``custom_properties`` (when given) replace the existing setting.  ``other`` may consist of
        ``operators`` alone.
        """
        if not isinstance(other, Schema):
            other = _from_dict({"name": self.name, **other}, "extension", base=self)
        entities = {**self.entities, **other.entities}
        operators = {**self.operators, **other.operators}
        merged = Schema(
            self.name,
            MappingProxyType(entities),
            MappingProxyType(operators),
            self.description,
            other.default_entity or self.default_entity,
        )
        merged.check_references()
        return merged

    def check_references(self) -> None:
        if self.default_entity is not None and self.default_entity not in self.entities:
            raise SchemaError(f"`default_entity` names an unknown entity `{self.default_entity}`")
        for entity in self.entities.values():
            for rel in entity.relations.values():
                if rel.target not in self.entities:
                    raise SchemaError(
                        f"{entity.name}.{rel.name}: relation to unknown entity `{rel.target}`"
                    )

    # -- queries -----------------------------------------------------------------------------------
    def implied_entity(self) -> str | None:
        """``default_entity``, else the only entity of a one-entity schema, else ``None``."""
        if self.default_entity is not None:
            return self.default_entity
        if len(self.entities) == 1:
            return next(iter(self.entities))
        return None

    def entity(self, name: str) -> Entity:
        try:
            return self.entities[name]
        except KeyError:
            raise KeyError(name) from None

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
        cached = _OPERATOR_NAMES.get((id(self), entity_name))
        if cached is not None and cached[0] is self:
            return cached[1]
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
        result = frozenset(names)
        if len(_OPERATOR_NAMES) > 256:
            _OPERATOR_NAMES.clear()
        _OPERATOR_NAMES[(id(self), entity_name)] = (self, result)
        return result

    def allowed_operators(self, entity: Entity, type_name: str | None, fld: Field | None = None) -> list[str]:
        """Operator names a value of ``type_name`` takes on ``entity`` (all of them when untyped)."""
        table = self.operators_for(entity)
        if fld is not None and fld.operators is not None:
            return sorted(fld.operators)
        if type_name is not None and type_name in entity.type_operators:
            return sorted(entity.type_operators[type_name])
        if type_name is None:
            return sorted(table)
        kind = _KIND[type_name]
        return sorted(name for name, op in table.items() if kind in op.kinds)

    def resolve(self, entity_name: str, node: Comparison) -> Resolution:
        """Check one comparison against ``entity_name``; raise :class:`ResolveError` where it does not fit.

        A last path segment naming an operator the schema adds (the parser knows only the built-ins) is
        taken as that operator.
        """
        entity = self.entities.get(entity_name)
        span = node.target_span
        base = span.start if span is not None else 0
        lhs_end = span.end if span is not None else 0
        if entity is None:
            raise ResolveError(
                "SF200",
                f"unknown entity `{entity_name}`",
                0,
                0,
                _hint_names(entity_name, sorted(self.entities), "entity"),
            )
        table = self.operators_for(entity)
        op_name = node.op
        target = node.target
        if isinstance(target, CustomProperty):
            cp = entity.custom_properties
            end = base + len(target.text())
            if cp is None:
                raise ResolveError(
                    "SF230",
                    f"`{entity.name}` has no custom properties",
                    base,
                    end,
                    f"custom properties (`cp_...`) exist on: "
                    f"{_allowed_list(sorted(e.name for e in self.entities.values() if e.custom_properties))}",
                )
            type_name = cp.definitions.get(target.name)
            if type_name is None and cp.strict:
                names = sorted(cp.definitions)
                hint = _hint_names(target.name, names, "custom property", prefix="cp_")
                raise ResolveError(
                    "SF231",
                    f"`{entity.name}` has no custom property `{target.name}`",
                    base,
                    end,
                    hint,
                )
            operator = self._operator(
                entity, op_name, type_name=type_name, fld=None, table=table, lhs_start=base,
                lhs_end=lhs_end, node=node,
            )
            return Resolution(entity, (), None, target.name, type_name, operator)

        path = list(target.path)
        relations: list[Relation] = []
        current = entity
        pos = base
        for i, seg in enumerate(path):
            seg_end = pos + len(seg)
            last = i == len(path) - 1
            if seg in current.relations:
                rel = current.relations[seg]
                relations.append(rel)
                if last:
                    target_entity = self.entities[rel.target]
                    raise ResolveError(
                        "SF203",
                        f"`{seg}` is a relation to `{rel.target}`, not a field",
                        pos,
                        seg_end,
                        f"compare one of its fields: {_allowed_list(target_entity.names()[:12])}, "
                        f"as in `{'__'.join(path)}__{_first_field(target_entity)}=...`",
                    )
                current = self.entities[rel.target]
                pos = seg_end + 2
                continue
            if seg in current.fields:
                fld = current.fields[seg]
                table = self.operators_for(current)
                if not last:
                    nxt = path[i + 1]
                    if (
                        i + 1 == len(path) - 1
                        and node.op == "exact"
                        and nxt in table
                        and nxt not in BUILTIN_OPERATORS
                    ):
                        # `field__added_op=value` parsed with the built-in operator names only: the last
                        # segment is an operator the schema adds.
                        op_name = nxt
                    else:
                        if nxt in table:
                            hint = (
                                f"`{nxt}` is an operator and comes last: write "
                                f"`{'__'.join(path[: i + 2])}=...`"
                            )
                        else:
                            hint = (
                                f"`{nxt}` is not an operator; operators are: {_allowed_list(sorted(table))}"
                            )
                        raise ResolveError(
                            "SF202",
                            f"`{seg}` is a field of `{current.name}`, not a relation: nothing can follow it",
                            pos + len(seg),
                            base + len(target.text()),
                            hint,
                        )
                operator = self._operator(
                    current, op_name, type_name=fld.type, fld=fld, table=table, lhs_start=base,
                    lhs_end=lhs_end, node=node,
                )
                return Resolution(entity, tuple(relations), fld, None, fld.type, operator)
            names = current.names()
            guess = _suggest(seg, names)
            allowed = f"`{current.name}` has: {_allowed_list(names)}"
            raise ResolveError(
                "SF201",
                f"`{seg}` is not a field or relation of `{current.name}`",
                pos,
                seg_end,
                f"did you mean `{guess}`? {allowed}" if guess is not None else allowed,
            )
        raise AssertionError("unreachable")  # pragma: no cover

    def _operator(
        self,
        entity: Entity,
        op_name: str,
        *,
        type_name: str | None,
        fld: Field | None,
        table: Mapping[str, Operator],
        lhs_start: int,
        lhs_end: int,
        node: Comparison,
    ) -> Operator:
        operator = table.get(op_name)
        if operator is not None and self._takes(entity, operator, type_name, fld, node.value):
            return operator
        allowed = self.allowed_operators(entity, type_name, fld)
        op_start = lhs_end - len(op_name) if node.op != "exact" or op_name != "exact" else lhs_start
        what = f"a `{type_name}` field" if type_name else "this field"
        if type_name is None and fld is None and operator is not None:
            kind = _literal_kind(node.value)
            what = f"a {kind} value"
            allowed = sorted(n for n, op in table.items() if kind in op.kinds or op.kind == "is_null")
        if fld is not None and fld.operators is not None:
            what = f"`{fld.name}`"
        raise ResolveError(
            "SF210",
            f"`{op_name}` does not apply to {what}",
            op_start,
            lhs_end,
            f"allowed: {_allowed_list(allowed)}",
        )

    @staticmethod
    def _takes(
        entity: Entity, operator: Operator, type_name: str | None, fld: Field | None, value: Literal = None
    ) -> bool:
        """Whether ``operator`` applies (the membership test of :meth:`allowed_operators`).

        An untyped target (an undeclared custom property) is judged by the literal's kind, as rule 7 says:
        booleans take only ``exact`` and ``is_null``, string operators apply to text only.
        """
        if fld is not None and fld.operators is not None:
            return operator.name in fld.operators
        if type_name is None:
            kind = _literal_kind(value)
            return kind is None or operator.kind == "is_null" or kind in operator.kinds
        if type_name in entity.type_operators:
            return operator.name in entity.type_operators[type_name]
        return _KIND[type_name] in operator.kinds


def _literal_kind(value: Literal) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return BOOLEAN
    if isinstance(value, (int, float)):
        return NUMBER
    if isinstance(value, str):
        return TEXT
    return TEMPORAL


_OPERATOR_NAMES: dict[tuple[int, str], tuple[Schema, frozenset[str]]] = {}


def _first_field(entity: Entity) -> str:
    return next(iter(entity.fields), "external_id")


def _hint_names(word: str, names: list[str], what: str, prefix: str = "") -> str | None:
    """``did you mean `x`?`` (when a name is close) followed by the known names."""
    guess = _suggest(word, names)
    parts = []
    if guess is not None:
        parts.append(f"did you mean `{prefix}{guess}`?")
    if names:
        shown = names if len(names) <= 30 else [*names[:30], "..."]
        listed = ", ".join(f"`{prefix}{n}`" if n != "..." else n for n in shown)
        parts.append(f"known {what} names: {listed}")
    return " ".join(parts) or None


# --------------------------------------------------------------------------------------------------
# literal conversion
# --------------------------------------------------------------------------------------------------
_INT_RE = re.compile(r"[+-]?[0-9]+\Z")
_NUM_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")


#: Integers with more digits than this are refused, as the parser and the printer refuse them.
_MAX_DIGITS = MAX_DIGITS
_INT_LIMIT = 10**_MAX_DIGITS


def _int_from_text(value: str) -> int:
    """ASCII digits (with an optional sign; checked by the caller) as an int, within :data:`_MAX_DIGITS`."""
    sign = value[:1] if value[:1] in "+-" else ""
    digits = value[len(sign):].lstrip("0")
    if len(digits) > _MAX_DIGITS:
        raise ConversionError(
            f"{_show(value)} has more than {_MAX_DIGITS} digits",
            f"an integer has at most {_MAX_DIGITS} digits",
        )
    number = int(digits or "0")
    return -number if sign == "-" else number


def _big_int(value: int) -> bool:
    return not -_INT_LIMIT < value < _INT_LIMIT


def _big_int_error() -> ConversionError:
    return ConversionError(
        f"an integer with more than {_MAX_DIGITS} digits", f"an integer has at most {_MAX_DIGITS} digits"
    )


def convert_literal(value: Literal, type_name: str | None) -> Literal:
    """A literal converted exactly to ``type_name``; raises :class:`ConversionError` where that is not
    possible.  ``None`` stays ``None``; an untyped target (``None``) keeps the literal as it is.

    Whatever the literal's size or content (huge integers, long or odd text, Unicode digits, NUL,
    surrogates), the result is a converted value or a :class:`ConversionError`, never another exception.
    Only ASCII digits count as digits; integers have at most 4000 digits; text converted to a ``number``
    that is not an integer must be held exactly by a 64-bit double (see
    :func:`skillfilter.language.parser.float_value`), as a float literal must.
    """
    if value is None or type_name is None:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and _big_int(value):
        raise _big_int_error()
    if type_name in ("text", "list[text]"):
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise ConversionError(
            f"{_show(value)} is not text", f"quote it: `'{_show(value)}'`" if value is not None else None
        )
    if type_name == "integer":
        if isinstance(value, bool):
            raise ConversionError(f"{_show(value)} is not an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            # A float literal means the decimal value written (its shortest repr): 1e23 is 10**23, not the
            # double's binary value 99999999999999991611392.
            return int(float_decimal(value))
        if isinstance(value, str) and _INT_RE.match(value):
            return _int_from_text(value)
        raise ConversionError(f"{_show(value)} is not an integer", "write a whole number such as `3`")
    if type_name == "number":
        if isinstance(value, bool):
            raise ConversionError(f"{_show(value)} is not a number")
        if isinstance(value, (int, float)):
            return value  # integers are compared exactly by every backend, whatever their size
        if isinstance(value, str) and _NUM_RE.match(value):
            if _INT_RE.match(value):
                return _int_from_text(value)
            f, exact = float_value(value)
            if exact:
                return f
            raise ConversionError(
                f"{_show(value)} cannot be held exactly by a 64-bit floating point value",
                inexact_float_hint(f),
            )
        raise ConversionError(f"{_show(value)} is not a number", "write a number such as `3` or `2.5`")
    if type_name == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        raise ConversionError(f"{_show(value)} is not a boolean", "write `true` or `false`")
    if type_name == "date":
        if isinstance(value, _dt.datetime):
            raise ConversionError(f"{_show(value)} is not a date")
        date = as_date(str.__str__(value) if isinstance(value, str) else value)
        if date is not None:
            return date
        raise ConversionError(
            f"{_show(value)} is not a date", "write an ISO 8601 date such as `'2024-01-31'`"
        )
    if type_name == "datetime":
        instant = as_datetime(str.__str__(value) if isinstance(value, str) else value)
        if instant is not None:
            return instant
        raise ConversionError(
            f"{_show(value)} is not a date-time",
            "write an ISO 8601 date-time such as `'2024-01-31T09:30:00Z'` (or a date for its midnight UTC)",
        )
    raise ConversionError(f"unknown type `{type_name}`")  # pragma: no cover


#: Longest literal shown whole in a message.
_SHOW_MAX = 60


def show_literal(value: object) -> str:
    """A literal as a message shows it: canonical form, shortened when long, invisible characters escaped.

    Never raises (a huge integer is described rather than written out).
    """
    from ..errors import visible
    from ..language.printer import format_literal

    if isinstance(value, int) and not isinstance(value, bool):
        if _big_int(value):
            return f"an integer with more than {_MAX_DIGITS} digits"
        if not -(10**_SHOW_MAX) < value < 10**_SHOW_MAX:
            digits = int.__repr__(value)
            return f"{digits[:_SHOW_MAX - 20]}… ({len(digits.lstrip('-'))} digits)"
    if isinstance(value, str) and len(value) > _SHOW_MAX:
        head = value[: _SHOW_MAX - 20]
        if head and "\ud800" <= head[-1] <= "\udbff":  # do not cut a surrogate pair
            head = head[:-1]
        return visible(format_literal(head)[:-1] + f"…' ({len(value)} characters)")
    try:
        shown = format_literal(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        try:
            shown = repr(value)
        except ValueError:  # pragma: no cover - an int subclass too big for repr
            shown = f"a {type(value).__name__}"
    return visible(shown)


def _show(value: Literal) -> str:
    return show_literal(value)


# --------------------------------------------------------------------------------------------------
# reading the data format
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
        kinds = frozenset({TEXT, NUMBER, BOOLEAN, TEMPORAL})
    else:
        if not isinstance(types, list) or any(t not in FIELD_TYPES for t in types):
            raise _err(source, where, f"`types` must list field types from: {', '.join(FIELD_TYPES)}")
        kinds = frozenset(_KIND[t] for t in types)
    ci = data.get("case_insensitive", False)
    if not isinstance(ci, bool):
        raise _err(source, where, "`case_insensitive` must be true or false")
    if ci and kinds - {TEXT}:
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


def _from_dict(data: Any, source: str, *, base: Schema | None = None) -> Schema:
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
                if not re.fullmatch(r"[A-Za-z0-9_]+", cname) or "__" in cname:
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
        schema.check_references()
    return schema


@cache
def _builtin(name: str) -> Schema:
    try:
        resource = resources.files("skillfilter").joinpath("data").joinpath(f"{name}.schema.json")
        text = resource.read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        raise UnknownSchemaError(
            f"no built-in schema `{name}`; built-in schemas: skillengine, export"
        ) from None
    return Schema.from_dict(json.loads(text), source=f"built-in schema {name}")
