"""Expression tree to text: the canonical form, and an indented multi-line form.

Parentheses come from :class:`skillfilter.semantics.operators.Precedence` alone: an operand is wrapped when
it binds
more weakly than the node that holds it.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import TYPE_CHECKING

from ..errors import FilterSyntaxError
from ..semantics.operators import OPERATOR_NAMES, Precedence
from .ast import And, Comparison, CustomProperty, Expr, FieldRef, Not, Or
from .lexer import MAX_DIGITS as _MAX_DIGITS
from .lookups import parse_lookup

if TYPE_CHECKING:
    from .ast import Literal

#: Integers with more digits than this are refused by the parser, so the printer refuses them too.
MAX_DIGITS = _MAX_DIGITS
_INT_LIMIT = 10**MAX_DIGITS

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
        if -_INT_LIMIT < value < _INT_LIMIT:
            return int.__repr__(value)  # also for int subclasses such as IntEnum
        raise ValueError(f"an integer with more than {MAX_DIGITS} digits cannot be written in a filter")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be written in a filter")
        return float.__repr__(value)
    if isinstance(value, (_dt.date, _dt.datetime)):
        return "'" + value.isoformat() + "'"
    raise TypeError(f"{type(value).__name__} is not a filter literal")


def format_lookup(node: Comparison) -> str:
    """The left-hand side: ``path__op``; ``exact`` is written only where it would otherwise be misread.

    Raises :class:`ValueError` for a comparison no filter text can express, so that ``to_text`` never
    writes text that parses into a different tree: a name that is not ``[A-Za-z_][A-Za-z0-9_]*``, a
    name ending in ``_`` before ``__`` (``a_`` + ``gt`` would read back as ``a`` + ``_gt``), a
    ``FieldRef`` that reads back as a custom property or a keyword, ``is_null`` without a boolean, or
    ``null`` with another operator than ``exact``.
    """
    found = _LOOKUP_TEXT.get((node.target, node.op))
    if found is None:
        found = _lookup_text(node)
        if len(_LOOKUP_TEXT) >= 4096:
            _LOOKUP_TEXT.clear()
        _LOOKUP_TEXT[(node.target, node.op)] = found
    value = node.value
    if node.op == "is_null" and value is not True and value is not False:
        raise ValueError(f"`{found}` takes true or false, not {value!r}")
    if value is None and node.op != "exact":
        raise ValueError(f"`{found}` cannot take null: only `exact` can")
    return found


_LOOKUP_TEXT: dict[tuple[object, str], str] = {}


def _lookup_text(node: Comparison) -> str:
    target, op = node.target, node.op
    if not isinstance(target, CustomProperty) and not target.path:
        raise ValueError("a field reference needs at least one name")
    text = target.text()
    if op != "exact":
        text = f"{text}__{op}"
    elif isinstance(target, FieldRef) and len(target.path) >= 2 and target.path[-1] in OPERATOR_NAMES:
        text = f"{text}__exact"
    operators = OPERATOR_NAMES if op in OPERATOR_NAMES else OPERATOR_NAMES | {op}
    try:
        back = parse_lookup(text, operators=operators)
    except FilterSyntaxError as exc:
        why = exc.reason
        raise ValueError(f"{target!r} with operator `{op}` cannot be written in a filter: {why}") from None
    if back != (target, op):
        raise ValueError(
            f"{target!r} with operator `{op}` cannot be written in a filter: `{text}` reads back as "
            f"{back[0]!r} with operator `{back[1]}`"
        )
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
