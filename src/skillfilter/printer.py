"""Expression tree to text: the canonical form, and an indented multi-line form.

Parentheses come from :class:`skillfilter.operators.Precedence` alone: an operand is wrapped when it binds
more weakly than the node that holds it.
"""

from __future__ import annotations

import datetime as _dt
import math

from .ast import And, Comparison, CustomProperty, Expr, Literal, Not, Or
from .operators import OPERATOR_NAMES, Precedence

__all__ = ["format_literal", "format_lookup", "to_text"]


def format_literal(value: Literal) -> str:
    """A literal in canonical form: single-quoted strings escaping only ``\\`` and ``'``."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be written in a filter")
        return repr(value)
    if isinstance(value, (_dt.date, _dt.datetime)):
        return "'" + value.isoformat() + "'"
    raise TypeError(f"{type(value).__name__} is not a filter literal")


def format_lookup(node: Comparison) -> str:
    """The left-hand side: ``path__op``; ``exact`` is written only where it would otherwise be misread."""
    target = node.target
    text = target.text()
    if node.op != "exact":
        return f"{text}__{node.op}"
    if not isinstance(target, CustomProperty) and len(target.path) >= 2 and target.path[-1] in OPERATOR_NAMES:
        return f"{text}__exact"
    return text


def _wrap(node: Expr, parent: int) -> str:
    inner = _canonical(node)
    return f"({inner})" if node.precedence < parent else inner


def _canonical(node: Expr) -> str:
    if isinstance(node, Comparison):
        return f"{format_lookup(node)}={format_literal(node.value)}"
    if isinstance(node, (And, Or)):
        sep = f" {node.keyword} "
        return sep.join(_wrap(op, node.precedence) for op in node.operands)
    if isinstance(node, Not):
        return "not " + _wrap(node.operand, Precedence.NOT)
    raise TypeError(f"{type(node).__name__} is not an expression")


def _pretty(node: Expr, indent: int, width: int) -> str:
    flat = _canonical(node)
    if indent + len(flat) <= width or isinstance(node, Comparison):
        return flat
    pad = " " * indent
    if isinstance(node, (And, Or)):
        lines = [_pretty_operand(op, node.precedence, indent, width) for op in node.operands]
        return f"\n{pad}{node.keyword} ".join(lines)
    if isinstance(node, Not):
        return "not " + _pretty_operand(node.operand, Precedence.NOT, indent, width)
    raise TypeError(f"{type(node).__name__} is not an expression")


def _pretty_operand(node: Expr, parent: int, indent: int, width: int) -> str:
    if node.precedence >= parent:
        return _pretty(node, indent, width)
    pad = " " * indent
    inner = _pretty(node, indent + 2, width)
    if "\n" not in inner and indent + len(inner) + 2 <= width:
        return f"({inner})"
    return f"(\n{pad}  {inner}\n{pad})"


def to_text(expr: Expr, *, pretty: bool = False, width: int = 80) -> str:
    """Canonical text of ``expr``; ``pretty=True`` breaks long ``and``/``or`` chains over indented lines.

    Both forms parse back to an equal tree.
    """
    if not isinstance(expr, Expr):
        raise TypeError(f"to_text() takes an expression, not {type(expr).__name__}")
    if pretty:
        return _pretty(expr, 0, width)
    return _canonical(expr)
