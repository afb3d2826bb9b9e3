"""The LALR(1) driver: runs the tables of :mod:`skillfilter.language.tables` over a filter's tokens.

One compiled regular expression (the tables' scanner) finds the tokens, and the nodes of
:mod:`skillfilter.language.ast` are built on each reduction by the builders below, so no lark token or
parse tree is ever made.  The same builders serve lark's own parser (:func:`skillfilter.language.parser.
_parse_reference`), which the tests run as a second implementation.  A token the automaton cannot take
raises :class:`Stuck`, which :mod:`skillfilter.language.hints` turns into a
:class:`~skillfilter.errors.FilterSyntaxError` with the position, what was expected and a hint.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

from ..errors import FilterError, FilterSyntaxError
from ..semantics.operators import lookup_value_problem
from .ast import And, Comparison, Expr, Not, Or, Span
from .lexer import DEPTH_HINT, literal_value
from .lookups import builtin_lookup, lookup_value_error, parse_lookup
from .tables import END, Rule, Tables

__all__ = ["HANDLERS", "Context", "Stuck", "drive"]


class Context:
    """One parse: the text, the depth limit and the operator names (``None``: the built-in ones)."""

    __slots__ = ("max_depth", "operators", "text")

    def __init__(self, text: str, max_depth: int, operators: Collection[str] | None) -> None:
        self.text = text
        self.max_depth = max_depth
        self.operators = operators


# --------------------------------------------------------------------------------------------------
# the builders run on each reduction; a token is seen through the `re.Match` interface
# --------------------------------------------------------------------------------------------------
def _build_comparison(ctx: Context, children: list[Any]) -> Comparison:
    ftok, _eq, vtok = children
    field_text: str = ftok.group()
    fstart: int = ftok.start()
    fend = fstart + len(field_text)
    text = ctx.text
    if ctx.operators is None:
        target, op = builtin_lookup(field_text, text, fstart)
    else:
        target, op = parse_lookup(field_text, operators=ctx.operators, source=text, offset=fstart)
    raw: str = vtok.group()
    vstart: int = vtok.start()
    vend = vstart + len(raw)
    value = literal_value(vtok.lastgroup, raw, text, vstart)
    problem = lookup_value_problem(op, value)
    if problem is not None:
        raise lookup_value_error(problem, op, target, field_text, text, start=vstart, end=vend)
    return Comparison(target, op, value, Span(fstart, vend), Span(fstart, fend), Span(vstart, vend))


def _too_deep(ctx: Context, position: int) -> FilterSyntaxError:
    return FilterSyntaxError(
        f"filter nested deeper than {ctx.max_depth} levels", ctx.text, position, hint=DEPTH_HINT
    )


def _build_nary(cls: type[And] | type[Or], ctx: Context, children: list[Any]) -> Expr:
    operands = children[0::2]
    keywords = children[1::2]
    spans = [Span(k.start(), k.end()) for k in keywords]
    if any(o.__class__ is cls for o in operands):  # `(a or b) or c`: flatten
        flat: list[Expr] = []
        for o in operands:
            if o.__class__ is cls:
                flat.extend(o.operands)
                spans.extend(o.keyword_spans or ())
            else:
                flat.append(o)
        operands = flat
        spans.sort(key=lambda s: s.start)
    try:
        node = cls(tuple(operands), tuple(spans), Span(children[0].span.start, children[-1].span.end))
    except FilterError:
        raise _too_deep(ctx, spans[0].start) from None
    if node.depth > ctx.max_depth:
        raise _too_deep(ctx, spans[0].start)
    return node


def _build_and(ctx: Context, children: list[Any]) -> Expr:
    return _build_nary(And, ctx, children)


def _build_or(ctx: Context, children: list[Any]) -> Expr:
    return _build_nary(Or, ctx, children)


def _build_not(ctx: Context, children: list[Any]) -> Expr:
    tok, operand = children
    start = tok.start()
    try:
        node = Not(operand, Span(start, operand.span.end))
    except FilterError:
        raise _too_deep(ctx, start) from None
    if node.depth > ctx.max_depth:
        raise _too_deep(ctx, start)
    return node


def _build_group(ctx: Context, children: list[Any]) -> Expr:
    lpar, rpar = children[0], children[2]
    inner: Expr = children[1]
    # The node was just built by this parse and is not shared yet: record the parentheses in its span.
    # Comparisons keep their own span.
    if inner.__class__ is not Comparison:
        object.__setattr__(inner, "span", Span(lpar.start(), rpar.end()))
    return inner


#: Grammar rule (or alias) -> the builder of its node.
HANDLERS: dict[str, Callable[[Context, list[Any]], Any]] = {
    "comparison": _build_comparison,
    "and_expr": _build_and,
    "or_expr": _build_or,
    "not_": _build_not,
    "group": _build_group,
}


# --------------------------------------------------------------------------------------------------
# the driver
# --------------------------------------------------------------------------------------------------
class Stuck(Exception):
    """The parser cannot go on: internal, turned into a FilterSyntaxError by ``hints.translate``.

    ``span`` is where the offending token stands (at the end: an empty span after the last token),
    ``kind`` its terminal (``$END``, or ``_error`` for a character no terminal matches), ``previous``
    the ``(start, end, kind, text)`` of the token before it.
    """

    def __init__(self, span: tuple[int, int], kind: str, found: str, expected: Collection[str],
                 previous: tuple[int, int, str, str] | None) -> None:
        super().__init__(span)
        self.position, self.end = span
        self.kind = kind
        self.found = found
        self.expected = set(expected)
        self.previous = previous


def _reduce(rule: Rule, children: list[Any], ctx: Context) -> Any:
    _origin, _size, _passthrough, inline, handler, keep, expand, expand1 = rule
    if keep is None:
        return children if inline else HANDLERS[handler](ctx, children)
    out: list[Any] = []
    for j, i in enumerate(keep):
        child = children[i]
        if expand[j]:
            if out:
                out.extend(child)
            else:
                out = child  # left recursion: grow the list in place (linear time)
        else:
            out.append(child)
    if inline:
        return out
    if expand1 and len(out) == 1:
        return out[0]
    return HANDLERS[handler](ctx, out)


def drive(tables: Tables, ctx: Context) -> Expr:
    """The tree of ``ctx.text``; raises :class:`Stuck` where it is not a filter, and the builders'
    :class:`FilterSyntaxError` for a bad lookup or literal.

    One loop over the tokens, the scanner's matches and then ``tables.end_token`` (of kind ``$END``), so
    the final reductions run in the same loop as all others.  Only ``$END`` is ever looked up
    in the accepting state, which has no actions: there the tree is complete.
    """
    actions = tables.actions
    rules = tables.rules
    retype = tables.retype
    kinds = tables.kinds
    accept = tables.end
    states = [tables.start]
    values: list[Any] = []
    previous: Any = None
    # Two runs of one loop (not a chain of the two: that would cost every token a step), so that the
    # final reductions, at the end of the text, are the loop's own.
    runs: tuple[Iterable[Any], ...] = (tables.scanner.finditer(ctx.text), (tables.end_token,))
    for tokens in runs:
        for m in tokens:
            kind = kinds[m.lastindex]
            if kind is None:  # white space
                continue
            words = retype.get(kind)
            if words is not None:
                kind = words.get(m.group(), kind)
            while True:
                code = actions[states[-1]].get(kind)
                if code is None:
                    if states[-1] == accept:
                        result: Expr = values[-1]
                        return result
                    raise _stuck(tables, states[-1], m, kind, previous)
                if code >= 0:
                    states.append(code)
                    values.append(m)
                    break
                rule = rules[~code]
                if rule[2]:  # passthrough: the value stays on the stack
                    del states[-1]
                else:
                    size = rule[1]
                    children = values[-size:] if size else []
                    if size:
                        del values[-size:]
                        del states[-size:]
                    values.append(_reduce(rule, children, ctx))
                states.append(actions[states[-1]][rule[0]])
            previous = m
    raise AssertionError("the tokens end with tables.end_token")  # pragma: no cover


def _stuck(tables: Tables, state: int, token: Any, kind: str, previous: Any) -> Stuck:
    """``token`` (a match) could not be shifted in ``state``; ``kind`` ``$END``: the end of the text."""
    prev = None
    if previous is not None:
        ptext = previous.group()
        pkind = previous.lastgroup
        words = tables.retype.get(pkind)
        if words is not None:
            pkind = words.get(ptext, pkind)
        prev = (previous.start(), previous.end(), pkind, ptext)
    if kind == END:
        end = prev[1] if prev is not None else 0
        return Stuck((end, end), kind, "", tables.expected[state], prev)
    return Stuck((token.start(), token.end()), kind, token.group(), tables.expected[state], prev)
