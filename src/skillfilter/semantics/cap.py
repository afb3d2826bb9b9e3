"""The logical-operator cap (``SF240``): the diagnostic that points at the first keyword beyond the cap.

Loaded by :mod:`.validate` only for a filter over the cap.
"""

from __future__ import annotations

from ..errors import Diagnostic
from ..language.ast import And, Expr, Not, Or, Span

__all__ = ["cap_diagnostic"]


def _span(span: Span | None) -> tuple[int, int]:
    return (span.start, span.end) if span is not None else (0, 0)


def _keywords(expr: Expr, text: str | None) -> list[tuple[Span, str]]:
    """The ``and``/``or``/``not`` keywords with their spans, in text order."""
    found: list[tuple[Span, str]] = []
    for node in expr.walk():
        if isinstance(node, (And, Or)):
            if node.keyword_spans is not None and len(node.keyword_spans) == len(node.operands) - 1:
                found.extend((span, node.keyword) for span in node.keyword_spans)
            else:  # pragma: no cover - only for hand-made nodes with inconsistent spans
                start, _ = _span(node.span)
                found.extend((Span(start, start), node.keyword) for _ in node.operands[1:])
        elif isinstance(node, Not):
            found.append((_not_keyword(node, text), "not"))
    found.sort(key=lambda item: item[0].start)
    return found


def _not_keyword(node: Not, text: str | None) -> Span:
    start, end = _span(node.span)
    if text is not None:
        # A parenthesised `not` carries its parentheses in its span: skip them.
        i = start
        while i < len(text) and text[i] in "( \t\r\n":
            i += 1
        if text.startswith("not", i):
            return Span(i, i + 3)
        return Span(start, start + 3)  # pragma: no cover - spans that do not match the text
    operand_span: Span | None = getattr(node.operand, "span", None)
    operand_end = operand_span.end if operand_span is not None else end
    if end > operand_end:  # parenthesised; without the text assume `(not`
        start += 1
    return Span(start, start + 3)


def cap_diagnostic(expr: Expr, text: str | None, count: int, cap: int, entity: str) -> Diagnostic:
    span, word = _keywords(expr, text)[cap]
    noun = "logical operator" if count == 1 else "logical operators"
    return Diagnostic(
        "SF240",
        f"{count} {noun} (`and`, `or`, `not`); at most {cap} allowed",
        span.start,
        span.end,
        hint=f"this `{word}` is number {cap + 1}: remove {count - cap} of them, or split the filter",
        entity=entity,
    )
