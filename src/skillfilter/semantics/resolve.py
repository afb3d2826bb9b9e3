"""Resolution: where a comparison leads in a schema, or why it does not fit.

:func:`resolve` (``Schema.resolve``) is the one place where a comparison meets a schema: it walks the
relations, finds the field or custom property, picks the operator (a schema may add operators) and raises
:class:`ResolveError`, carrying its diagnostic code, where something does not fit.  The validator turns
those into diagnostics; the planner uses the :class:`~.model.Resolution` to compile.  What each problem
says (codes, positions, hints) is worked out by :mod:`.diagnose`, loaded only when there is one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NoReturn

from ..errors import FilterError
from ..language.ast import CustomProperty
from .model import Entity, Field, Relation, Resolution, Schema
from .operators import BUILTIN_OPERATORS, FIELD_KIND, Operator, OpKind, ValueKind

if TYPE_CHECKING:
    from ..language.ast import Comparison, Literal

__all__ = ["ResolveError", "resolve"]


class ResolveError(FilterError):
    """A comparison that does not fit the schema; ``code`` is the diagnostic code (set where the problem is
    found), ``start``/``end`` the span of the text at fault, ``hint`` a suggestion.

    A :class:`~skillfilter.errors.FilterError` (and so an ``Exception``, as before)."""

    def __init__(self, code: str, message: str, start: int, end: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.start = start
        self.end = end
        self.hint = hint

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.code, self.message, self.start, self.end, self.hint))


def resolve(schema: Schema, entity_name: str, node: Comparison) -> Resolution:
    """Check one comparison against ``entity_name``; raise :class:`ResolveError` where it does not fit.

    A last path segment naming an operator the schema adds (the parser knows only the built-ins) is
    taken as that operator.
    """
    entity = schema.entities.get(entity_name)
    if entity is None:
        _fail("unknown_entity_error", schema, entity_name)
    target = node.target
    if isinstance(target, CustomProperty):
        cp = entity.custom_properties
        type_name = None if cp is None else cp.definitions.get(target.name)
        if cp is None or (type_name is None and cp.strict):
            _fail("custom_property_error", schema, entity, node)
        operator = _operator(schema, entity, node, node.op, type_name, None)
        return Resolution(entity, (), None, target.name, type_name, operator)
    path = target.path
    last = len(path) - 1
    relations: list[Relation] = []
    current = entity
    for i, seg in enumerate(path):
        rel = current.relations.get(seg)
        if rel is not None:
            if i == last:
                _fail("path_error", schema, current, node, i)
            relations.append(rel)
            current = schema.entities[rel.target]
            continue
        fld = current.fields.get(seg)
        op_name = node.op
        if fld is not None and i < last:
            # `field__added_op=value` parsed with the built-in operator names only: the last segment is
            # an operator the schema adds.  Anything else after a field is a problem.
            op_name = path[last]
            if i + 1 < last or node.op != "exact" or op_name in BUILTIN_OPERATORS or \
                    op_name not in schema.operators_for(current):
                fld = None
        if fld is None:
            _fail("path_error", schema, current, node, i)
        operator = _operator(schema, current, node, op_name, fld.type, fld)
        return Resolution(entity, tuple(relations), fld, None, fld.type, operator)
    raise AssertionError("unreachable")  # pragma: no cover


def _fail(problem: str, *args: object) -> NoReturn:
    """Raise the :class:`ResolveError` that :mod:`.diagnose` writes for ``problem``."""
    from . import diagnose

    raise getattr(diagnose, problem)(*args)


def _operator(  # noqa: PLR0917
    schema: Schema, entity: Entity, node: Comparison, op_name: str, type_name: str | None, fld: Field | None
) -> Operator:
    operator = schema.operators_for(entity).get(op_name)
    if operator is None or not _takes(entity, operator, type_name, fld, node.value):
        _fail("operator_error", schema, entity, node, op_name, type_name, fld, operator)
    return operator


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
        kind = literal_kind(value)
        return kind is None or operator.kind == OpKind.IS_NULL or kind in operator.kinds
    if type_name in entity.type_operators:
        return operator.name in entity.type_operators[type_name]
    return FIELD_KIND[type_name] in operator.kinds


def literal_kind(value: Literal) -> str | None:
    """The :class:`~.operators.ValueKind` of a literal (``None`` for ``null``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return ValueKind.BOOLEAN
    if isinstance(value, (int, float)):
        return ValueKind.NUMBER
    if isinstance(value, str):
        return ValueKind.TEXT
    return ValueKind.TEMPORAL
