"""Joint evaluation of *entangled* plans: linear in the record's size whatever the filter.

A plan (:mod:`skillfilter.plan.nodes`) nests existential loops.  When a loop sits inside another loop over
a list that
is not its parent (``(a__x=1 or b__x=1) and (a__x=2 or b__x=2)``: the loop over ``b`` inside the loop over
``a``), running it as nested loops costs the product of the list sizes.  Such a plan is evaluated here
instead, in two phases:

1. **Vectors** (linear in the record).  Every comparison of the plan reads one value reached from one
   variable (the record ``r`` or the element of one loop).  The *vector* of an element of loop ``v`` is
   the tuple of the truth values of the comparisons that read ``v``, together with, for each loop whose
   list hangs off ``v``, the *set* of the vectors of its elements.  Elements with equal vectors are
   interchangeable (no part of the plan can tell them apart), so a list is represented by the set of its
   distinct vectors: at most ``2**k`` of them for ``k`` comparisons, however long the list.
2. **Search** (independent of the record's size).  The plan becomes a formula over these vectors: an
   existential over a loop ranges over the distinct vectors of its list.  The formula is decided by partial
   evaluation: choosing a vector substitutes its truth values, the rest simplifies (a conjunction with a
   false part is false, and so on), and each distinct *residual* formula is decided once (memoised), so
   the search visits distinct residual states, not combinations of elements, and stops at the first
   choice that makes it true.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ...plan.nodes import PAnd, PAtom, PConst, PExists, PNode, PNot, POr, walk
from .interpret import interpret, test_function
from .runtime import elements, follow

__all__ = ["entangled", "joint_predicate"]

# A formula: True, False, ("and", items), ("or", items), ("not", item), ("atom", var, index),
# ("ex", var, body) (the list of `var` not yet known), ("set", var, vectors, body) (known).
Formula = Any
#: A vector: (truth values of the variable's comparisons, sets of vectors of its child loops).
Vector = tuple[tuple[bool, ...], tuple[frozenset[Any], ...]]


def entangled(plan: PNode) -> bool:
    """Whether some loop of ``plan`` runs inside a loop over a list that is not its parent's."""
    stack: list[tuple[PNode, str]] = [(plan, "r")]
    while stack:
        node, inner = stack.pop()
        if isinstance(node, PExists):
            if node.parent != inner:
                return True
            stack.append((node.body, node.var))
        elif isinstance(node, (PAnd, POr)):
            stack.extend((i, inner) for i in node.items)
        elif isinstance(node, PNot):
            stack.append((node.item, inner))
    return False


class _Loop:
    __slots__ = ("atoms", "children", "keys", "var")

    def __init__(self, var: str, keys: tuple[Any, ...]) -> None:
        self.var = var
        self.keys = keys
        #: (keys, test function) of each comparison reading this variable, in index order.
        self.atoms: list[tuple[tuple[Any, ...], Callable[[Any], bool]]] = []
        #: Loops whose list hangs off this variable.
        self.children: list[_Loop] = []


def joint_predicate(plan: PNode) -> Callable[[Any], bool]:
    """A test on records evaluating ``plan`` by vectors and residual search (see the module)."""
    loops: dict[str, _Loop] = {"r": _Loop("r", ())}
    order: list[PExists] = [n for n in walk(plan) if isinstance(n, PExists)]
    for n in order:
        loops[n.var] = _Loop(n.var, n.keys)
    for n in order:
        loops[n.parent].children.append(loops[n.var])
    child_index: dict[str, int] = {}
    for loop in loops.values():
        for i, child in enumerate(loop.children):
            child_index[child.var] = i

    def convert(node: PNode) -> Formula:
        if isinstance(node, PConst):
            return node.value
        if isinstance(node, PAtom):
            loop = loops[node.var]
            loop.atoms.append((node.keys, test_function(node.test)))
            return ("atom", node.var, len(loop.atoms) - 1)
        if isinstance(node, PNot):
            return ("not", convert(node.item))
        if isinstance(node, PExists):
            return ("ex", node.var, convert(node.body))
        items = tuple(convert(i) for i in node.items)
        return ("and" if isinstance(node, PAnd) else "or", items)

    formula = convert(plan)
    root = loops["r"]

    def vector(loop: _Loop, element: Any) -> Vector:
        bits = tuple(test(follow(element, keys)) for keys, test in loop.atoms)
        sets = []
        for child in loop.children:
            sets.append(frozenset([vector(child, e) for e in elements(follow(element, child.keys))]))
        return bits, tuple(sets)

    def substitute(f: Formula, var: str, vec: Vector) -> Formula:
        """``f`` with the comparisons of ``var`` replaced by ``vec``'s values, simplified."""
        if f is True or f is False:
            return f
        tag = f[0]
        if tag == "atom":
            return vec[0][f[2]] if f[1] == var else f
        if tag == "not":
            x = substitute(f[1], var, vec)
            return (not x) if (x is True or x is False) else ("not", x)
        if tag in {"and", "or"}:
            stop = tag == "or"  # the value that decides the whole
            items = []
            for item in f[1]:
                x = substitute(item, var, vec)
                if x is stop:
                    return stop
                if x is not (not stop):
                    items.append(x)
            if not items:
                return not stop
            if len(items) == 1:
                return items[0]
            return (tag, tuple(items))
        if tag == "ex":
            body = substitute(f[2], var, vec)
            if body is True or body is False:
                return body  # every list offers at least one element
            if loops[f[1]] in loops[var].children:
                return ("set", f[1], vec[1][child_index[f[1]]], body)
            return ("ex", f[1], body)
        body = substitute(f[3], var, vec)
        if body is True or body is False:
            return body
        return ("set", f[1], f[2], body)

    fallback: list[Callable[[Any], bool]] = []

    def predicate(record: Any) -> bool:
        if not isinstance(record, Mapping):
            return False
        try:
            return evaluate(record)
        except RecursionError:  # pragma: no cover - a filter nested deeper than Python's stack
            if not fallback:
                fallback.append(interpret(plan))
            return fallback[0](record)

    def evaluate(record: Any) -> bool:
        try:
            memo: dict[Formula, bool] = {}

            def decide(f: Formula) -> bool:
                if f is True or f is False:
                    return bool(f)
                tag = f[0]
                if tag == "not":
                    return not decide(f[1])
                if tag == "and":
                    return all(decide(i) for i in f[1])
                if tag == "or":
                    return any(decide(i) for i in f[1])
                assert tag == "set", f
                known = memo.get(f)
                if known is None:
                    var, body = f[1], f[3]
                    known = any(decide(substitute(body, var, vec)) for vec in f[2])
                    memo[f] = known
                return known

            return decide(substitute(formula, "r", vector(root, record)))
        except RecursionError:
            raise
        except Exception:  # a value whose own methods raise: the record does not match
            return False

    return predicate
