"""Expression tree to text: the canonical form, an indented multi-line form, and the canonical form with
the span of every node.

Parentheses come from :class:`skillfilter.semantics.operators.Precedence` alone: an operand is wrapped when
it binds more weakly than the node that holds it.  Each form is a :class:`~skillfilter.language.ast.Visitor`:
the canonical text a fold (bottom-up, no recursion), the pretty layout a top-down visit (it passes the
indentation down; in :mod:`skillfilter.language.pretty`, loaded on first use), the spans one pass with an
explicit stack (:mod:`skillfilter.language.spans`).
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..errors import FilterSyntaxError
from ..semantics.operators import (
    OPERATOR_NAMES,
    SF211_IS_NULL_VALUE,
    SF212_NULL_OPERATOR,
    Precedence,
    lookup_value_problem,
)
from ..semantics.values import MAX_DIGITS
from .ast import And, Comparison, CustomProperty, Expr, FieldRef, Not, Or, Span
from .lookups import parse_lookup

if TYPE_CHECKING:
    from .ast import Literal

_INT_LIMIT = 10**MAX_DIGITS
_NOT = Precedence.NOT  # (a member read from the enum class costs more than the comparison)
#: Trees at most this deep are printed by recursion (two frames a level).
_SHALLOW = 8

__all__ = ["NodeSpans", "format_literal", "format_lookup", "respan", "to_text", "to_text_with_spans"]


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
    value = node.value
    # The lookup rule looks at the value's kind only (null, a boolean, anything else): memoised with it.
    key = (node.target, node.op, value.__class__)
    found = _LOOKUP_TEXT.get(key)
    if found is not None:
        return found
    found = _lookup_text(node)
    problem = lookup_value_problem(node.op, value)
    if problem == SF211_IS_NULL_VALUE:
        raise ValueError(f"`{found}` takes true or false, not {value!r}")
    if problem == SF212_NULL_OPERATOR:
        raise ValueError(f"`{found}` cannot take null: only `exact` can")
    if len(_LOOKUP_TEXT) >= 4096:
        _LOOKUP_TEXT.clear()
    _LOOKUP_TEXT[key] = found
    return found


#: (target, operator, the literal's class) -> the lookup's text, for lookups the rule accepts.
_LOOKUP_TEXT: dict[tuple[object, str, type], str] = {}


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


class _Canonical:
    """The canonical text, bottom-up: the ``leave_*`` methods of a
    :meth:`Visitor.fold <skillfilter.language.visitor.Visitor.fold>`.  A shallow tree (the common case)
    calls them by a short recursion, without the fold's explicit stacks (about a sixth fewer instructions
    on the API's largest filters); a deeper one is folded by :class:`~skillfilter.language.pretty.
    CanonicalFold`, these same methods on a ``Visitor``, so printing never needs more than a few frames.
    (The visitor module loads only then: ``skillfilter fmt`` does not compile it.)"""

    def leave_Comparison(self, node: Comparison) -> str:
        return f"{format_lookup(node)}={format_literal(node.value)}"

    def leave_And(self, node: And | Or, operands: list[str]) -> str:
        parent = node.precedence
        for i, op in enumerate(node.operands):  # `operands` is this call's own list
            if op.precedence < parent:
                operands[i] = f"({operands[i]})"
        return f" {node.keyword} ".join(operands)

    leave_Or = leave_And

    def leave_Not(self, node: Not, operand: str) -> str:
        return f"not ({operand})" if node.operand.precedence < _NOT else "not " + operand

    def generic_leave(self, node: Expr, *children: object) -> str:
        raise TypeError(f"{type(node).__name__} is not an expression")

    def text(self, node: Expr) -> str:
        if node.depth > _SHALLOW:
            from .pretty import CanonicalFold

            return CanonicalFold().fold(node)
        return self._shallow(node)

    def _shallow(self, node: Expr) -> str:
        if isinstance(node, Comparison):
            return self.leave_Comparison(node)
        if isinstance(node, (And, Or)):
            return self.leave_And(node, [self._shallow(op) for op in node.operands])
        if isinstance(node, Not):
            return self.leave_Not(node, self._shallow(node.operand))
        return self.generic_leave(node)


_CANONICAL = _Canonical()


def to_text(expr: Expr, *, pretty: bool = False, width: int = 80) -> str:
    """Canonical text of ``expr``; ``pretty=True`` breaks long ``and``/``or`` chains over indented lines.

    Both forms parse back to an equal tree.
    """
    if not isinstance(expr, Expr):
        raise TypeError(f"to_text() takes an expression, not {type(expr).__name__}")
    if pretty:
        from .pretty import Pretty

        return Pretty(width).visit(expr)
    return _CANONICAL.text(expr)


# --------------------------------------------------------------------------------------------------
# spans (written by skillfilter.language.spans, loaded on first use)
# --------------------------------------------------------------------------------------------------
#: Where one node stands in the printed text: its span (parentheses included, as the parser records
#: them) and its parts: ``(lookup, value)`` for a comparison, the keywords for ``and``/``or``, the
#: keyword for ``not``.
NodeSpans = tuple[Span, tuple[Span, ...]]


def to_text_with_spans(
    expr: Expr,
    *,
    write_lookup: Callable[[Comparison], str] = format_lookup,
    write_literal: Callable[[Literal], str] = format_literal,
) -> tuple[str, list[NodeSpans]]:
    """The canonical text of ``expr`` and where each node stands in it: ``spans[i]`` belongs to the
    ``i``-th node of ``expr.walk()`` (pre-order), so ``parse(text)`` has these very spans.

    ``write_lookup`` and ``write_literal`` write a comparison's two sides (default: the canonical ones,
    which raise :class:`ValueError` for what no filter text can say; a caller that only needs positions,
    such as validation's diagnostics, may pass lenient ones).
    """
    from .spans import write

    if not isinstance(expr, Expr):
        raise TypeError(f"to_text_with_spans() takes an expression, not {type(expr).__name__}")
    text, spans, _post = write(expr, write_lookup, write_literal)
    return text, spans


def respan(
    expr: Expr,
    *,
    write_lookup: Callable[[Comparison], str] = format_lookup,
    write_literal: Callable[[Literal], str] = format_literal,
) -> tuple[str, Expr]:
    """The text of :func:`to_text_with_spans` and a copy of ``expr`` whose nodes carry those spans."""
    from .spans import spanned_copy

    if not isinstance(expr, Expr):
        raise TypeError(f"respan() takes an expression, not {type(expr).__name__}")
    return spanned_copy(expr, write_lookup, write_literal)
