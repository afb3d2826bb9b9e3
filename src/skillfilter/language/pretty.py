"""The printer's forms that are :class:`~skillfilter.language.visitor.Visitor` classes, loaded on first use:
the indented layout (``to_text(..., pretty=True)``) and the canonical text of a deep tree.

The canonical text's ``leave_*`` methods live in :mod:`skillfilter.language.printer`, which prints a shallow
tree (the common case) by calling them directly; this module runs the same methods as a ``Visitor``.
"""

from __future__ import annotations

from ..semantics.operators import Precedence
from .ast import And, Comparison, Expr, Not, Or
from .printer import _CANONICAL, _Canonical
from .visitor import Visitor

__all__ = ["CanonicalFold", "Pretty"]


class CanonicalFold(_Canonical, Visitor[str]):
    """The canonical text by :meth:`Visitor.fold` (explicit stacks, no recursion): for deep trees."""


class Pretty(Visitor[str]):
    """The indented layout, top-down: a node that does not fit the width in its canonical form breaks
    its ``and``/``or`` chain over lines, one operand per line, at the current indentation."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.indent = 0

    def visit_Comparison(self, node: Comparison) -> str:
        return _CANONICAL.text(node)

    def visit_And(self, node: And | Or) -> str:
        flat = _CANONICAL.text(node)
        if self.indent + len(flat) <= self.width:
            return flat
        lines = [self._operand(op, node.precedence) for op in node.operands]
        return f"\n{' ' * self.indent}{node.keyword} ".join(lines)

    visit_Or = visit_And

    def visit_Not(self, node: Not) -> str:
        flat = _CANONICAL.text(node)
        if self.indent + len(flat) <= self.width:
            return flat
        return "not " + self._operand(node.operand, Precedence.NOT)

    def generic_visit(self, node: Expr) -> str:
        raise TypeError(f"{type(node).__name__} is not an expression")

    def _operand(self, node: Expr, parent: int) -> str:
        if node.precedence >= parent:
            return self.visit(node)
        pad = " " * self.indent
        self.indent += 2
        try:
            inner = self.visit(node)
        finally:
            self.indent -= 2
        if "\n" not in inner and self.indent + len(inner) + 2 <= self.width:
            return f"({inner})"
        return f"(\n{pad}  {inner}\n{pad})"
