"""Django integration: a skillfilter expression as a Django ``Q`` object.

``to_q(expr, model)`` maps each comparison to the Django lookup of the same name (``is_null`` becomes
``isnull``, ``=null`` becomes ``isnull=True``) and ``and``/``or``/``not`` to ``&``/``|``/``~``.  Custom
properties (``cp_<name>``) need a model of (owner, name, value) rows: pass the name of its reverse relation
as ``custom_properties``; each comparison becomes an ``Exists`` subquery on that model.

The filter is first checked against a schema, the entities, fields and relations the application exposes
(default: the built-in SkillEngine schema; pass ``schema=`` and ``entity=``): a path to anything else is
refused with :class:`~skillfilter.errors.FilterValidationError` and the diagnostics of
:func:`skillfilter.validate` (``SF201`` unknown field or relation, ``SF202`` ...), so a
user-supplied
filter cannot walk relations to fields the application never meant to expose.  ``unchecked=True`` skips
the check and turns any path into a Django lookup: only for filters the application wrote itself.

Use it with one ``filter()`` call:
``Model.objects.filter(to_q(text, Model, entity="employees")).distinct()``.  Django's answers
differ from LANGUAGE.md in a few documented cases (``docs/semantics.md``, "Where Django differs").
Requires the ``django`` extra.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import FilterError, FilterTypeError
from ..language.ast import And, Comparison, CustomProperty, Expr, Not, Or
from ..language.visitor import Visitor
from ..semantics.operators import BUILTIN_OPERATORS, Operator, OpKind
from ..semantics.schema import Schema
from ..semantics.validate import DEFAULT_MAX_LOGICAL_OPERATORS

__all__ = ["to_q"]

# Django's lookup for an operator's kind: the name of the built-in operator of that kind, as Django spells
# it (`isnull`, not `is_null`); custom operators of a schema are one of these kinds.
_KIND_LOOKUP = {(op.kind, op.case_insensitive): op.name.replace("_", "") for op in BUILTIN_OPERATORS.values()}


def _lookup(op: Operator) -> str:
    try:
        return _KIND_LOOKUP[(op.kind, op.case_insensitive)]
    except KeyError:  # pragma: no cover - operators are validated
        raise FilterError(f"operator `{op.name}` has no Django lookup") from None


def to_q(
    expr: Expr | str,
    model: Any = None,
    *,
    schema: Schema | str | None = None,
    entity: str | None = None,
    unchecked: bool = False,
    max_logical_operators: int | None = DEFAULT_MAX_LOGICAL_OPERATORS,
    custom_properties: str | None = None,
    name_field: str = "name",
    value_field: str = "value",
    operators: dict[str, Operator] | None = None,
) -> Any:
    """``expr`` (an expression or filter text) as a ``django.db.models.Q``, after checking it.

    The filter is checked as :func:`skillfilter.check` does against ``entity`` of ``schema`` (a
    :class:`Schema`, a built-in schema's name, or ``None`` for the built-in SkillEngine schema; ``entity``
    defaults to the schema's default entity): :class:`~skillfilter.errors.FilterSyntaxError` for text that
    does not parse, :class:`~skillfilter.errors.FilterValidationError` with the diagnostics of
    :func:`skillfilter.validate` for a path the schema does not expose (and every other problem), and its
    literals are converted to the field types.  ``max_logical_operators`` is the cap on ``and``/``or``/``not``
    (default 5, as :func:`~skillfilter.validate`; ``None`` switches it off).

    ``unchecked=True`` skips the check: every path becomes a Django lookup, whatever it reaches.  Use it
    only for filters that do not come from users.

    ``model`` and ``custom_properties`` are needed only when ``expr`` uses custom properties.
    ``operators`` adds operators (name -> :class:`Operator`) to the built-in ones and the schema's.
    """
    from ..language.parser import parse

    schema_operators: dict[str, Operator] = {}
    if unchecked:
        if isinstance(expr, str):
            expr = parse(expr)
    else:
        from ..semantics.validate import check

        resolved = Schema.coerce(schema)
        if entity is None:
            entity = resolved.implied_entity()
            if entity is None:
                raise FilterTypeError(
                    f"to_q() needs entity= (the schema has the entities {resolved.entity_list()}),"
                    " or unchecked=True to accept any path"
                )
        expr = check(expr, entity, schema=resolved, max_logical_operators=max_logical_operators)
        schema_operators = dict(resolved.operators)
    return _convert(
        expr,
        model,
        custom_properties=custom_properties,
        name_field=name_field,
        value_field=value_field,
        operators={**schema_operators, **(operators or {})},
    )


def _convert(
    expr: Expr,
    model: Any,
    *,
    custom_properties: str | None,
    name_field: str,
    value_field: str,
    operators: dict[str, Operator],
) -> Any:
    if not isinstance(expr, Expr):
        raise FilterTypeError(f"{type(expr).__name__} is not an expression")

    def cp_exists(name: str, lookup: str, value: Any) -> Any:
        """An ``Exists`` on the custom-property model: a row named ``name`` (whose value passes
        ``lookup``, when given) for the record."""
        from django.db.models import Exists, OuterRef

        if model is None or custom_properties is None:
            raise FilterError("custom properties need to_q(..., model, custom_properties='<related name>')")
        rel = model._meta.get_field(custom_properties)
        conditions: dict[str, Any] = {rel.field.name: OuterRef("pk"), name_field: name}
        if lookup:
            conditions[f"{value_field}__{lookup}"] = value
        return Exists(rel.related_model.objects.filter(**conditions))

    return _ToQ({**BUILTIN_OPERATORS, **operators}, cp_exists).fold(expr)


class _ToQ(Visitor[Any]):
    """The tree as a ``Q``, bottom-up: each comparison a lookup (or, through ``cp_exists``, an ``Exists``
    on the custom-property model), ``and``/``or``/``not`` as ``&``/``|``/``~``."""

    def __init__(self, operators: dict[str, Operator], cp_exists: Callable[[str, str, Any], Any]) -> None:
        from django.db.models import Q

        self.Q = Q
        self.operators = operators
        self._cp_exists = cp_exists

    def leave_Comparison(self, node: Comparison) -> Any:
        Q = self.Q
        op = self.operators.get(node.op)
        if op is None:
            raise FilterError(f"unknown operator `{node.op}`")
        lookup = _lookup(op)
        value: Any = node.value
        if op.kind == OpKind.EXACT and value is None:
            lookup, value = "isnull", True
        if isinstance(node.target, CustomProperty):
            if lookup == "isnull":
                exists = self._cp_exists(node.target.name, "", None)
                return ~Q(exists) if value else Q(exists)
            return Q(self._cp_exists(node.target.name, lookup, value))
        return Q(**{"__".join(node.target.path) + "__" + lookup: value})

    def leave_And(self, node: And, operands: list[Any]) -> Any:
        q = operands[0]
        for operand in operands[1:]:
            q &= operand
        return q

    def leave_Or(self, node: Or, operands: list[Any]) -> Any:
        q = operands[0]
        for operand in operands[1:]:
            q |= operand
        return q

    def leave_Not(self, node: Not, operand: Any) -> Any:
        return ~operand

    def generic_leave(self, node: Expr, *children: Any) -> Any:
        raise FilterTypeError(f"{type(node).__name__} is not an expression")
