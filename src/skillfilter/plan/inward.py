"""Push quantifiers inward: a plan where no ``PExists`` body refers to a variable bound outside it.

Some engines evaluate an existential over a list in a context that sees only the current element (Polars'
``list.eval``).  The planner's plan may test, inside ``exists e2 in e1.skills``, a field of the outer element
``e1`` (one scope over two levels: rule 3).  This pass rewrites the plan, keeping its meaning, so that each
``PExists`` body mentions only its own variable and the variables bound inside it.

How: bottom-up, for each ``PExists`` ``E`` over variable ``v``, every maximal part ``U`` of its body that does
not mention ``v`` (a comparison on an outer element, an existential over an outer list) is constant while
``v`` ranges over the list.  Since every list offers at least one element (rule 3's null element),
``E = (U and E[U:=true]) or (not U and E[U:=false])`` (Shannon expansion), and ``U`` now sits outside
``E``.  Constants are folded at once, which keeps most filters small; but entangled comparisons double the
plan per outer part, so the result is bounded: past :data:`MAX_NODES` nodes the pass raises a
:class:`~skillfilter.errors.FilterError` rather than grow (or run) without end.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import FilterError
from .nodes import PAnd, PAtom, PConst, PExists, PNode, PNot, POr, null_truth, walk

__all__ = ["MAX_NODES", "free_vars", "push_inward", "size"]

#: The largest plan :func:`push_inward` builds (nodes, shared parts counted at each use).
MAX_NODES = 5000


def size(node: PNode) -> int:
    """The number of nodes of ``node``."""
    return sum(1 for _ in walk(node))


def free_vars(node: PNode) -> set[str]:
    """The variables ``node`` refers to that are bound outside it."""
    if isinstance(node, PConst):
        return set()
    if isinstance(node, PAtom):
        return {node.var}
    if isinstance(node, PNot):
        return free_vars(node.item)
    if isinstance(node, PExists):
        inner = free_vars(node.body)
        inner.discard(node.var)
        inner.add(node.parent)
        return inner
    out: set[str] = set()
    for i in node.items:
        out |= free_vars(i)
    return out


@dataclass
class _Budget:
    max_nodes: int
    nodes: int = 0
    steps: int = 0

    def spend(self, nodes: int) -> None:
        self.nodes += nodes
        self.steps += 1
        if self.nodes > self.max_nodes or self.steps > 20 * self.max_nodes:
            raise FilterError(
                f"this filter compares the fields of outer and inner list elements in too entangled a way "
                f"for an engine whose list expressions cannot see the outer element (the rewritten plan "
                f"would exceed {self.max_nodes} nodes): split it into simpler conditions, or use another "
                f"backend (predicate(), SQL, DuckDB, Spark)"
            )


def push_inward(plan: PNode, *, max_nodes: int = MAX_NODES) -> PNode:
    """``plan`` rewritten so that every ``PExists`` body refers only to variables bound inside the
    ``PExists`` (its own and deeper); the meaning is unchanged.  Raises
    :class:`~skillfilter.errors.FilterError` when the result would exceed ``max_nodes`` nodes."""
    return _Pass(_Budget(max_nodes)).node(plan)


class _Pass:
    def __init__(self, budget: _Budget) -> None:
        self.budget = budget

    def node(self, node: PNode) -> PNode:
        if isinstance(node, (PConst, PAtom)):
            return node
        if isinstance(node, PNot):
            return _not(self.node(node.item))
        if isinstance(node, PExists):
            return self.expand(node, self.node(node.body))
        items = [self.node(i) for i in node.items]
        return _join(isinstance(node, PAnd), items)

    def expand(self, e: PExists, body: PNode) -> PNode:
        """``exists e: body`` with every part of ``body`` that does not mention ``e.var`` taken out."""
        if isinstance(body, PConst):
            return body  # every list offers at least one element
        units: list[PNode] = []
        _units(body, e.var, units)
        if not units:
            self.budget.spend(size(body) + 1)
            return PExists(
                e.var, e.parent, e.keys, body,
                skip_null=null_truth(body, {e.var}) is False, expect_list=e.expect_list,
            )
        # Parts found again after each assignment: one part may hold another (shared) part.
        u = units[0]
        self.budget.spend(1)
        when_true = self.expand(e, _assign(body, u, True))
        when_false = self.expand(e, _assign(body, u, False))
        if isinstance(when_true, PConst) and isinstance(when_false, PConst):
            if when_true.value == when_false.value:
                return when_true
            return u if when_true.value else _not(u)
        return _join(False, [_join(True, [u, when_true]), _join(True, [_not(u), when_false])])


def _units(node: PNode, var: str, out: list[PNode]) -> None:
    """Collect the maximal parts of ``node`` that do not mention ``var`` (constants aside)."""
    if isinstance(node, PConst):
        return
    if var not in free_vars(node):
        out.append(node)
        return
    if isinstance(node, PNot):
        _units(node.item, var, out)
    elif isinstance(node, (PAnd, POr)):
        for i in node.items:
            _units(i, var, out)
    # an atom on ``var``, or an existential over a list of ``var``: nothing to take out


def _assign(node: PNode, part: PNode, value: bool) -> PNode:
    """``node`` with ``part`` (found by identity, outside any existential) replaced by ``value``, folded."""
    if node is part:
        return PConst(value)
    if isinstance(node, PNot):
        return _not(_assign(node.item, part, value))
    if isinstance(node, (PAnd, POr)):
        # No flattening here: the other parts still to be taken out are found by identity.
        return _join(isinstance(node, PAnd), [_assign(i, part, value) for i in node.items], flatten=False)
    return node


def _not(node: PNode) -> PNode:
    if isinstance(node, PConst):
        return PConst(not node.value)
    if isinstance(node, PNot):
        return node.item
    return PNot(node)


def _join(is_and: bool, items: list[PNode], *, flatten: bool = True) -> PNode:
    """``and``/``or`` of ``items``, constants folded (and nested nodes of the same kind merged with
    ``flatten``)."""
    if any(isinstance(i, PConst) and i.value is not is_and for i in items):
        return PConst(not is_and)
    kind = PAnd if is_and else POr
    out = [
        part for i in items if not isinstance(i, PConst)
        for part in (i.items if flatten and isinstance(i, kind) else (i,))
    ]
    if len(out) > 1:
        return kind(out)
    return out[0] if out else PConst(is_and)
