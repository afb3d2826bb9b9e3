"""The fragment algebra: pieces of SQL with their parameters, combined by ``AND``/``OR``/``NOT``.

A :class:`Frag` is SQL text, its parameters in text order, how tightly it binds (so that parentheses are
written only where needed), and its truth when it is a constant (``TRUE``/``FALSE`` fold away as they are
combined).  :func:`join` and :func:`negate` are the only places where fragments are combined; a dialect
may ask for long chains to be split (:attr:`~skillfilter.backends.sql.dialect.Dialect.chain_limit`) and for
the deepest operand first (:attr:`~skillfilter.backends.sql.dialect.Dialect.deep_first`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ...semantics.operators import Precedence

__all__ = ["AND", "ATOM", "DEEP", "FALSE", "NOT", "OR", "TRUE", "Frag", "join", "negate", "paren", "wrap"]

ATOM = int(Precedence.ATOM)
NOT = int(Precedence.NOT)
AND = int(Precedence.AND)
OR = int(Precedence.OR)

#: Operands nested at least this deep go first where the dialect asks for it; shallower ones keep the
#: filter's order.
DEEP = 8


@dataclass(frozen=True, slots=True)
class Frag:
    """A piece of SQL with its parameters (in text order), how tightly it binds, and its truth if constant."""

    sql: str
    params: tuple[Any, ...] = ()
    prec: int = ATOM
    const: bool | None = None
    #: Rough nesting depth (parentheses and subqueries), used to keep SQLite's parser stack shallow.
    depth: int = 0
    #: For ``NOT x``: ``x`` (so that ``NOT NOT x`` folds to ``x``).
    negated: Frag | None = None


TRUE = Frag("TRUE", const=True)
FALSE = Frag("FALSE", const=False)


def wrap(f: Frag, prec: int) -> tuple[str, int]:
    """``f``'s text, parenthesised when it binds less tightly than ``prec``; and its depth then."""
    if f.prec < prec:
        return "(" + f.sql + ")", f.depth + 1
    return f.sql, f.depth


def paren(x: str) -> str:
    """A value expression, parenthesised unless it is a plain quoted column reference."""
    return x if x.startswith('"') and x.endswith('"') and "(" not in x else "(" + x + ")"


def join(kind: str, parts: Sequence[Frag], *, chain_limit: int = 0, deep_first: bool = False) -> Frag:
    """``parts`` joined by ``AND`` (``kind == "and"``) or ``OR``, constants folded."""
    prec = AND if kind == "and" else OR
    absorbing = kind != "and"  # TRUE absorbs an OR, FALSE an AND
    kept: list[Frag] = []
    for p in parts:
        if p.const is absorbing:
            return TRUE if absorbing else FALSE
        if p.const is not None:
            continue
        kept.append(p)
    if not kept:
        return FALSE if absorbing else TRUE
    if len(kept) == 1:
        return kept[0]
    if deep_first and max(k.depth for k in kept) >= DEEP:
        kept.sort(key=lambda f: -f.depth)
    if chain_limit and len(kept) > chain_limit:
        size = -(-len(kept) // chain_limit)
        kept = [join(kind, kept[i : i + size], chain_limit=chain_limit, deep_first=deep_first)
                for i in range(0, len(kept), size)]
        kept = [Frag(f"({k.sql})", k.params, ATOM, depth=k.depth + 1) if k.prec == prec else k for k in kept]
    texts: list[str] = []
    params: list[Any] = []
    depth = 0
    for k in kept:
        text, dep = wrap(k, prec)
        texts.append(text)
        params.extend(k.params)
        depth = max(depth, dep)
    return Frag(f" {kind.upper()} ".join(texts), tuple(params), prec, depth=depth)


def negate(f: Frag) -> Frag:
    """``NOT f`` (constants folded, ``NOT NOT x`` is ``x``)."""
    if f.const is not None:
        return FALSE if f.const else TRUE
    if f.negated is not None:
        return f.negated
    text, depth = wrap(f, NOT)
    return Frag("NOT " + text, f.params, NOT, depth=depth + 1, negated=f)
