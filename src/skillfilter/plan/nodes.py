"""The plan: the backend-neutral form of a checked filter, which every backend compiles.

A plan is a tree of :class:`PAtom` (one :class:`~skillfilter.plan.atoms.Test` on the value reached from a
variable through mapping keys), :class:`PAnd`, :class:`POr`, :class:`PNot`, :class:`PConst` and
:class:`PExists` ("some element of this list makes the body true", with the empty-relation element of
LANGUAGE.md rule 3 made explicit: an empty or missing list offers one null element).  The planner
(:mod:`skillfilter.plan.planner`) decides every rule of section 3 when it builds the plan; a backend only
says how its engine spells each node.  The variable of the record itself is ``"r"``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from .atoms import Test

__all__ = [
    "ROOT", "CPKey", "Key", "PAnd", "PAtom", "PConst", "PExists", "PNode", "PNot", "POr",
    "null_truth", "walk",
]

#: The variable that stands for the record.
ROOT = "r"


# --------------------------------------------------------------------------------------------------
# keys and tests
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CPKey:
    """The step from a record to its custom property ``name`` (both shapes of rule 9)."""

    name: str


Key = str | CPKey

# --------------------------------------------------------------------------------------------------
# plan nodes
# --------------------------------------------------------------------------------------------------
@dataclass(eq=False, slots=True)
class PConst:
    value: bool


@dataclass(eq=False, slots=True)
class PAtom:
    """``test`` on the value reached from variable ``var`` through ``keys`` (mappings only)."""

    var: str
    keys: tuple[Key, ...]
    test: Test


@dataclass(eq=False, slots=True)
class PAnd:
    items: list[PNode]


@dataclass(eq=False, slots=True)
class POr:
    items: list[PNode]


@dataclass(eq=False, slots=True)
class PNot:
    item: PNode


@dataclass(eq=False, slots=True)
class PExists:
    """Some element ``var`` of the list reached from ``parent`` through ``keys`` makes ``body`` true.

    A value that is not a list is its only element; an empty list offers one null element (rule 3).
    ``skip_null``: the body is false whenever ``var`` is null, so null elements need not be tried.
    ``expect_list``: the data normally holds a list here (a to-many relation, a ``list[text]``), not a
    scalar that may turn out to be a list.
    """

    var: str
    parent: str
    keys: tuple[Key, ...]
    body: PNode
    skip_null: bool = False
    expect_list: bool = False
    #: Filled in by the code generator: how the body uses ``var``.
    used_direct: bool = field(default=False)
    used_map: bool = field(default=False)


PNode = PConst | PAtom | PAnd | POr | PNot | PExists


def walk(node: PNode) -> Iterator[PNode]:
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, (PAnd, POr)):
            stack.extend(reversed(n.items))
        elif isinstance(n, PNot):
            stack.append(n.item)
        elif isinstance(n, PExists):
            stack.append(n.body)




# --------------------------------------------------------------------------------------------------
# static evaluation: is a body false whenever a variable is null?
# --------------------------------------------------------------------------------------------------
def null_truth(node: PNode, nulls: set[str]) -> bool | None:
    """The value of ``node`` when the variables in ``nulls`` are null (``None``: it depends)."""
    if isinstance(node, PConst):
        return node.value
    if isinstance(node, PAtom):
        return node.test.null_truth if node.var in nulls else None
    if isinstance(node, PNot):
        v = null_truth(node.item, nulls)
        return None if v is None else not v
    if isinstance(node, PExists):
        if node.parent in nulls:
            # A null parent offers one null element, whose own fields are null in turn.
            return null_truth(node.body, nulls | {node.var})
        return None
    values = [null_truth(i, nulls) for i in node.items]
    if isinstance(node, PAnd):
        if False in values:
            return False
        return True if all(v is True for v in values) else None
    if True in values:
        return True
    return False if all(v is False for v in values) else None


