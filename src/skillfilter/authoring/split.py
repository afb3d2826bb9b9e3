"""``split``: a filter over the API's cap of logical operators as several filters within it, whose matches,
united, are exactly the original's under LANGUAGE.md section 3.

A request's matches are united by the entity's key, so a split is a disjunction: the filter is rewritten as
``P1 or P2 or ...`` and the pieces are packed into as few requests as fit the cap.  The rewrites:

- a top-level ``or`` is the union of its operands' matches (``some choice`` distributes over ``or``);
- ``R and (B1 or B2)`` is ``(R and B1) or (R and B2)`` within one scope;
- ``not (A or B)`` is ``not A and not B``; ``not (A and B)`` is ``not A or not B`` only when ``A`` and ``B``
  share no to-many prefix (de Morgan does not hold over one list element); ``not not A`` is ``A``.

Taking an operand of an ``or`` out of its scope is exact only when no ``not`` inside it refers to a to-many
prefix that the other operands choose in that scope (``a__x=1 or not a__y=2`` tests one element of ``a``):
such operands stay together in one request.  Where no exact union within the cap exists, a
:class:`~skillfilter.errors.FilterError` names the part that cannot be split.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import FilterArgumentError, FilterError
from ..language.ast import And, Comparison, Expr, Not, Or
from .scopes import Prefixes
from .simplify import _prefixes, _tree, simplify

if TYPE_CHECKING:
    from ..semantics.schema import Schema

__all__ = ["split"]

#: How many candidate ``or`` operands of an ``and`` are tried for distribution.
_TRIES = 4


def split(
    expr: Expr | str,
    *,
    max_logical_operators: int = 5,
    schema: Schema | str | None = None,
    entity: str | None = None,
) -> list[Expr]:
    """Filters, each with at most ``max_logical_operators`` logical operators, whose matches together are
    exactly ``expr``'s (by the entity's key).  ``[expr]`` (simplified) when it fits already.  ``expr`` may
    be filter text."""
    if isinstance(max_logical_operators, bool) or not isinstance(max_logical_operators, int) \
            or max_logical_operators < 0:
        raise FilterArgumentError(
            f"max_logical_operators is a non-negative int, not {max_logical_operators!r}"
        )
    expr = _tree(expr)
    prefixes = _prefixes(expr, schema, entity)
    small = simplify(expr, schema=schema, entity=entity)
    if small.logical_operator_count() <= max_logical_operators:
        return [small]
    splitter = _Splitter(prefixes, max_logical_operators)
    return splitter.pack(splitter.pieces(small))


class _Splitter:
    def __init__(self, prefixes: Prefixes, cap: int) -> None:
        self.p = prefixes
        self.cap = cap

    def fits(self, expr: Expr) -> bool:
        return expr.logical_operator_count() <= self.cap

    def fail(self, part: Expr, why: str) -> FilterError:
        from ..language.printer import to_text

        text = to_text(part)
        if len(text) > 200:
            text = text[:197] + "…"
        return FilterError(
            f"cannot split `{text}` into filters of at most {self.cap} logical operators: {why}"
        )

    # -- pieces: disjuncts whose union is exact ----------------------------------------------------
    def pieces(self, expr: Expr) -> list[Expr]:
        if self.fits(expr):
            return [expr]
        if isinstance(expr, Or):
            return self.union(list(expr.operands))
        if isinstance(expr, Not):
            alt = self.push_not(expr)
            if alt is None:
                raise self.fail(expr, "`not` over comparisons that share a to-many prefix "
                                "(or over a single part) cannot be turned into a union")
            return self.pieces(alt)
        assert isinstance(expr, And)
        return self.distribute(expr)

    def push_not(self, node: Not) -> Expr | None:
        """An exact rewrite of ``not X`` with the negation moved inwards, or ``None``."""
        inner = node.operand
        if isinstance(inner, Not):  # at the top of a filter `not not A` is A
            return inner.operand
        if isinstance(inner, Or):
            return And.of(*(Not(op) for op in inner.operands))
        if isinstance(inner, And):
            groups = self.independent(list(inner.operands))
            if len(groups) < 2:
                return None
            return Or.of(*(Not(And.of(*g) if len(g) > 1 else g[0]) for g in groups))
        return None

    def independent(self, operands: list[Expr]) -> list[list[Expr]]:
        """Operands of an ``and`` grouped so that no two groups share a to-many prefix."""
        refs = [self.p.refs(op) for op in operands]
        holders: dict[object, int] = {}  # prefix -> the first operand that refers to it
        links = [(i, j) for i, referred in enumerate(refs) for prefix in referred
                 if (j := holders.setdefault(prefix, i)) != i]
        return _grouped(operands, links)

    def union(self, operands: list[Expr]) -> list[Expr]:
        """Pieces of ``op1 or op2 or ...`` at the top of a filter: operands that must share their scope
        (a ``not`` in one refers to a prefix another chooses) stay together."""
        direct = [self.p.direct(op) for op in operands]
        negated = [self.p.under_not(op) for op in operands]
        choosers: dict[object, list[int]] = {}  # prefix -> the operands that choose it
        for j, chosen in enumerate(direct):
            for prefix in chosen:
                choosers.setdefault(prefix, []).append(j)
        links = [(i, j) for i in range(len(operands))
                 for prefix in negated[i] - direct[i]  # operand i sees it chosen only with the others
                 for j in choosers.get(prefix, ())]
        out: list[Expr] = []
        for group in _grouped(operands, links):
            if len(group) == 1:
                out.extend(self.pieces(group[0]))
                continue
            joined = Or.of(*group)
            if not self.fits(joined):
                raise self.fail(joined, "a `not` in one operand tests a to-many element the others choose, "
                                "so they must stay in one filter")
            out.append(joined)
        return out

    def distribute(self, expr: And) -> list[Expr]:
        operands = list(expr.operands)
        options: list[tuple[int, list[Expr]]] = []
        for i, op in enumerate(operands):
            if isinstance(op, Or):
                options.append((i, list(op.operands)))
            elif isinstance(op, Not) and not isinstance(op.operand, Not):  # `not not A` inside a scope: no
                alt = self.push_not(op)
                if isinstance(alt, Or):
                    options.append((i, list(alt.operands)))
        if not options:
            raise self.fail(expr, "an `and` of parts without any `or` to distribute cannot be a union")
        options.sort(key=lambda o: -sum(x.logical_operator_count() + 1 for x in o[1]))
        best: list[Expr] | None = None
        error: FilterError | None = None
        for index, disjuncts in options[:_TRIES]:
            rest = operands[:index] + operands[index + 1:]
            for chunked in (True, False):
                candidates = self.chunks(rest, disjuncts) if chunked else [[d] for d in disjuncts]
                try:
                    pieces = self.union([And.of(*rest, Or.of(*c) if len(c) > 1 else c[0])
                                         for c in candidates])
                except FilterError as exc:
                    error = error or exc
                    continue
                packed = self.pack(pieces)
                if best is None or len(packed) < len(best):
                    best = packed
        if best is None:
            assert error is not None
            raise error
        return best

    def chunks(self, rest: list[Expr], disjuncts: list[Expr]) -> list[list[Expr]]:
        """``disjuncts`` in groups that, joined with ``or`` and put next to ``rest``, fit the cap:
        ``R and (B1 or B2 or B3)`` needs fewer requests than one ``R and Bi`` each."""
        rest_cost = sum(op.logical_operator_count() for op in rest) + len(rest)  # its `and`s, and one more
        room = self.cap - rest_cost + 1
        return _first_fit(disjuncts, room)

    # -- packing: as few requests as fit ----------------------------------------------------------
    def pack(self, pieces: list[Expr]) -> list[Expr]:
        """First-fit decreasing: an ``or`` of k pieces costs their operators plus k - 1."""
        bins = _first_fit(list(dict.fromkeys(pieces)), self.cap + 1)
        return [Or.of(*b) if len(b) > 1 else b[0] for b in bins]


def _first_fit(items: list[Expr], capacity: int) -> list[list[Expr]]:
    """First-fit decreasing: ``items``, largest first, in bins of ``capacity``, where an item costs its
    logical operators plus one (the ``or`` that joins it to the others of its bin)."""
    bins: list[list[Expr]] = []
    free: list[int] = []
    for item in sorted(items, key=lambda e: -e.logical_operator_count()):
        size = item.logical_operator_count() + 1
        for b, left in enumerate(free):
            if size <= left:
                bins[b].append(item)
                free[b] -= size
                break
        else:
            bins.append([item])
            free.append(capacity - size)
    return bins


def _grouped(operands: list[Expr], links: list[tuple[int, int]]) -> list[list[Expr]]:
    """The operands in groups, each operand ``i`` with ``j`` for every link ``(i, j)`` (union-find), in
    the operands' order."""
    parent = list(range(len(operands)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j in links:
        parent[find(i)] = find(j)
    groups: dict[int, list[Expr]] = {}
    for i, op in enumerate(operands):
        groups.setdefault(find(i), []).append(op)
    return list(groups.values())


def naive_bound(expr: Expr) -> int:
    """The requests a split into one comparison per request would need after full distribution (the
    number of disjuncts of the disjunctive normal form, counting each ``not`` part as one)."""
    if isinstance(expr, (Comparison, Not)):
        return 1
    if isinstance(expr, Or):
        return sum(naive_bound(op) for op in expr.operands)
    assert isinstance(expr, And)
    total = 1
    for op in expr.operands:
        total *= naive_bound(op)
    return total
