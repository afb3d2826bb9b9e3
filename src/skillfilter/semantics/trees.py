"""Trees for :mod:`.validate`: spans for a tree built or combined in Python, and the checked tree rebuilt
with its converted comparisons.  Loaded on first use: text never needs the first, :func:`~.validate.validate`
never the second.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..errors import FilterTypeError, type_name
from ..language.ast import And, Comparison, Expr, FieldRef, Not, Or, Target

__all__ = ["rebuild", "respan", "spanned", "without_operator"]


def spanned(expr: Expr) -> tuple[str | None, Expr]:
    """``(None, expr)`` when every node of ``expr`` has its spans, else :func:`respan`'s text and copy."""
    for node in expr.walk():
        if isinstance(node, Comparison):
            if node.span is None or node.target_span is None or node.value_span is None:
                break
        elif isinstance(node, (And, Or)):
            if node.span is None or node.keyword_spans is None:
                break
        elif isinstance(node, Not) and node.span is None:
            break
    else:
        return None, expr
    return respan(expr)


def respan(expr: Expr) -> tuple[str, Expr]:
    """The canonical text of ``expr`` and a copy of it whose spans point into that text: the printer's
    spans, with lenient writers for what the printer refuses (positions are all a diagnostic needs)."""
    from ..language.printer import respan as printer_respan

    return printer_respan(expr, write_lookup=_lookup, write_literal=_write_literal)


def _lookup(node: Comparison) -> str:
    """The left-hand side as the printer writes it; for a comparison the printer refuses (``is_null``
    without a boolean, ``null`` with another operator), the plain ``path__op``."""
    from ..language.printer import format_lookup

    try:
        return format_lookup(node)
    except ValueError:
        text = node.target.text()
        return text if node.op == "exact" else f"{text}__{node.op}"


def _write_literal(value: object) -> str:
    """A literal in the text made for a tree built in Python: canonical where possible, else described."""
    from ..language.printer import format_literal
    from .literals import show_literal

    try:
        return format_literal(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return show_literal(value)


def without_operator(target: Target, operator: str) -> Target:
    """``field__added_op`` read with the built-in operator names: the reference without its last segment,
    which is the operator a schema adds."""
    if isinstance(target, FieldRef) and target.path[-1] == operator:
        return FieldRef(target.path[:-1])
    return target


def rebuild(node: Expr, converted: Iterator[Comparison]) -> Expr:
    """``node`` with its comparisons replaced, in order, by ``converted`` (keeping ``node``'s spans)."""
    if isinstance(node, Comparison):
        new = next(converted)
        if new is node:
            return node
        if new.target == node.target and new.op == node.op and new.value is node.value:
            return node
        return node.replace(target=new.target, op=new.op, value=new.value)
    if isinstance(node, (And, Or)):
        operands = tuple(rebuild(op, converted) for op in node.operands)
        if all(a is b for a, b in zip(operands, node.operands, strict=True)):
            return node
        return type(node)(operands, node.keyword_spans, node.span)
    if isinstance(node, Not):
        operand = rebuild(node.operand, converted)
        return node if operand is node.operand else Not(operand, node.span)
    raise FilterTypeError(f"{type_name(node)} is not an expression")
