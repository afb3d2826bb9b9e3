"""The canonical text with the span of every node: what :func:`skillfilter.language.printer.
to_text_with_spans` and :func:`~skillfilter.language.printer.respan` run (loaded on first use).

One pass over an explicit stack writes the text as the printer's canonical form does (parentheses from
:class:`~skillfilter.semantics.operators.Precedence` alone) and records where each node, its lookup and
value, and its keywords stand; a fold then copies the tree with those spans.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..semantics.operators import Precedence
from .ast import And, Comparison, Expr, Not, Or, Span
from .printer import NodeSpans
from .visitor import Visitor

if TYPE_CHECKING:
    from .ast import Literal

__all__ = ["spanned_copy", "write"]


def spanned_copy(
    expr: Expr, write_lookup: Callable[[Comparison], str], write_literal: Callable[[Literal], str]
) -> tuple[str, Expr]:
    """The text and a copy of ``expr`` with its spans in that text."""
    text, spans, post = write(expr, write_lookup, write_literal)
    return text, _Respan(spans, post).fold(expr)


class _Respan(Visitor[Expr]):
    """A copy of the tree with the printed spans; nodes are left in post-order, which ``post`` lists."""

    def __init__(self, spans: list[NodeSpans], post: list[int]) -> None:
        self.spans = spans
        self.order = iter(post)

    def _next(self) -> NodeSpans:
        return self.spans[next(self.order)]

    def leave_Comparison(self, node: Comparison) -> Expr:
        span, (lookup, value) = self._next()
        return node.replace(span=span, target_span=lookup, value_span=value)

    def leave_And(self, node: And | Or, operands: list[Expr]) -> Expr:
        span, keywords = self._next()
        return type(node)(tuple(operands), keywords, span)

    leave_Or = leave_And

    def leave_Not(self, node: Not, operand: Expr) -> Expr:
        span, _keyword = self._next()
        return Not(operand, span)


def write(
    expr: Expr,
    write_lookup: Callable[[Comparison], str],
    write_literal: Callable[[Literal], str],
) -> tuple[str, list[NodeSpans], list[int]]:
    """Text, spans in pre-order, and the pre-order indices in post-order."""
    writer = _SpanWriter(write_lookup, write_literal)
    writer.run(expr)
    spans = [(Span(s, e), tuple(p)) for s, e, p in zip(writer.starts, writer.ends, writer.parts, strict=True)]
    return "".join(writer.out), spans, writer.post


class _SpanWriter(Visitor[None]):
    """Writes the canonical text and records spans, over an explicit stack (no recursion): ``visit_*``
    writes what opens a node and pushes the rest: its children (``("node", node, parent precedence)``),
    the keywords between them (``("keyword", index, word)``) and its end (``("end", index, wrapped)``)."""

    def __init__(
        self, write_lookup: Callable[[Comparison], str], write_literal: Callable[[Literal], str]
    ) -> None:
        self.write_lookup = write_lookup
        self.write_literal = write_literal
        self.out: list[str] = []
        self.pos = 0
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.parts: list[list[Span]] = []
        self.post: list[int] = []
        self.todo: list[tuple[str, Any, Any]] = []
        #: The node being opened: its pre-order index, and whether it stands in parentheses.
        self.index = 0
        self.wrapped = False

    def write(self, piece: str) -> None:
        self.out.append(piece)
        self.pos += len(piece)

    def run(self, expr: Expr) -> None:
        todo = self.todo
        todo.append(("node", expr, 0))
        while todo:
            action, item, extra = todo.pop()
            if action == "keyword":
                self.parts[item].append(Span(self.pos + 1, self.pos + 1 + len(extra)))
                self.write(f" {extra} ")
            elif action == "end":
                if extra:
                    self.write(")")
                self.ends[item] = self.pos
                self.post.append(item)
            else:
                self.index = len(self.starts)
                self.starts.append(self.pos)
                self.ends.append(self.pos)
                self.parts.append([])
                self.wrapped = item.precedence < extra
                if self.wrapped:
                    self.write("(")
                self.visit(item)

    def visit_Comparison(self, node: Comparison) -> None:
        start = self.pos
        self.write(self.write_lookup(node))
        middle = self.pos
        self.write("=")
        self.write(self.write_literal(node.value))
        self.parts[self.index] += [Span(start, middle), Span(middle + 1, self.pos)]
        self.todo.append(("end", self.index, self.wrapped))

    def visit_And(self, node: And | Or) -> None:
        index = self.index
        todo = self.todo
        todo.append(("end", index, self.wrapped))
        operands = node.operands
        for i in range(len(operands) - 1, -1, -1):
            todo.append(("node", operands[i], node.precedence))
            if i:
                todo.append(("keyword", index, node.keyword))

    visit_Or = visit_And

    def visit_Not(self, node: Not) -> None:
        self.parts[self.index].append(Span(self.pos, self.pos + 3))
        self.write("not ")
        self.todo.append(("end", self.index, self.wrapped))
        self.todo.append(("node", node.operand, Precedence.NOT))

    def generic_visit(self, node: Expr) -> None:
        raise TypeError(f"{type(node).__name__} is not an expression")
