"""Django integration: a skillfilter expression as a Django ``Q`` object.

``to_q(expr, model)`` maps each comparison to the Django lookup of the same name (``is_null`` becomes
``isnull``, ``=null`` becomes ``isnull=True``) and ``and``/``or``/``not`` to ``&``/``|``/``~``.  Custom
properties (``cp_<name>``) need a model of (owner, name, value) rows: pass the name of its reverse relation
as ``custom_properties``; each comparison becomes an ``Exists`` subquery on that model.

Use it with one ``filter()`` call: ``Model.objects.filter(to_q(expr, Model)).distinct()``.  Django's answers
differ from LANGUAGE.md in a few documented cases (``docs/semantics.md``, "Where Django differs").
Requires the ``django`` extra.
"""

from __future__ import annotations

from typing import Any

from ..ast import And, Comparison, CustomProperty, Expr, Not, Or
from ..errors import FilterError
from ..operators import BUILTIN_OPERATORS, Operator

__all__ = ["to_q"]

_KIND_LOOKUP = {
    ("exact", False): "exact",
    ("exact", True): "iexact",
    ("contains", False): "contains",
    ("contains", True): "icontains",
    ("startswith", False): "startswith",
    ("startswith", True): "istartswith",
    ("endswith", False): "endswith",
    ("endswith", True): "iendswith",
    ("gt", False): "gt",
    ("gte", False): "gte",
    ("lt", False): "lt",
    ("lte", False): "lte",
    ("is_null", False): "isnull",
}


def _lookup(op: Operator) -> str:
    try:
        return _KIND_LOOKUP[(op.kind, op.case_insensitive)]
    except KeyError:  # pragma: no cover - operators are validated
        raise FilterError(f"operator `{op.name}` has no Django lookup") from None


def to_q(
    expr: Expr,
    model: Any = None,
    *,
    custom_properties: str | None = None,
    name_field: str = "name",
    value_field: str = "value",
    operators: dict[str, Operator] | None = None,
) -> Any:
    """``expr`` as a ``django.db.models.Q``.

    ``model`` and ``custom_properties`` are needed only when ``expr`` uses custom properties.
    ``operators`` adds schema-defined operators (name -> :class:`Operator`) to the built-in ones.
    """
    from django.db.models import Exists, OuterRef, Q

    table = {**BUILTIN_OPERATORS, **(operators or {})}

    def cp_exists(node: Comparison, name: str, lookup: str, value: Any) -> Any:
        if model is None or custom_properties is None:
            raise FilterError("custom properties need to_q(..., model, custom_properties='<related name>')")
        rel = model._meta.get_field(custom_properties)
        related_model = rel.related_model
        fk_name = rel.field.name
        conditions: dict[str, Any] = {fk_name: OuterRef("pk"), name_field: name}
        if lookup:
            conditions[f"{value_field}__{lookup}"] = value
        return Exists(related_model.objects.filter(**conditions))

    def convert(node: Expr) -> Any:
        if isinstance(node, Comparison):
            op = table.get(node.op)
            if op is None:
                raise FilterError(f"unknown operator `{node.op}`")
            lookup = _lookup(op)
            value: Any = node.value
            if op.kind == "exact" and value is None:
                lookup, value = "isnull", True
            if isinstance(node.target, CustomProperty):
                if lookup == "isnull":
                    exists = cp_exists(node, node.target.name, "", None)
                    return ~Q(exists) if value else Q(exists)
                return Q(cp_exists(node, node.target.name, lookup, value))
            return Q(**{"__".join(node.target.path) + "__" + lookup: value})
        if isinstance(node, And):
            q = convert(node.operands[0])
            for operand in node.operands[1:]:
                q &= convert(operand)
            return q
        if isinstance(node, Or):
            q = convert(node.operands[0])
            for operand in node.operands[1:]:
                q |= convert(operand)
            return q
        if isinstance(node, Not):
            return ~convert(node.operand)
        raise TypeError(f"{type(node).__name__} is not an expression")

    return convert(expr)
