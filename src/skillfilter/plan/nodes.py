"""The plan: the backend-neutral form of a checked filter, which every backend compiles.

A plan is a tree of six node types:

- :class:`PAtom`: one :class:`~skillfilter.plan.atoms.Test` on the value reached from a *variable* through
  mapping keys;
- :class:`PAnd`, :class:`POr`, :class:`PNot`: two-valued logic (a plan is never "unknown": rule 2's null
  answers are already inside each atom's :class:`~skillfilter.plan.atoms.Test`);
- :class:`PConst`: true or false (only ever the whole plan: constants are folded away elsewhere);
- :class:`PExists`: "some element ``var`` of the list reached from variable ``parent`` through ``keys``
  makes ``body`` true", with the empty-relation element of LANGUAGE.md rule 3 made explicit: an empty or
  missing (null) list offers one null element, and a value that is not a list is its own only element.

Variables: ``"r"`` (:data:`ROOT`) is the record; every :class:`PExists` binds a fresh ``var`` (unique in
the plan) that its ``body`` may read, and only its body.  Keys are ``str`` (a key of a mapping) or
:class:`CPKey` (rule 9: the custom property of a record, in either of its two shapes).

The planner (:mod:`skillfilter.plan.planner`) decides every rule of section 3 when it builds the plan
(scopes and mini-scoping, the null element, null and kind rules, case mapping of literals, constant
folding); a backend only says how its engine spells each node.  Besides the fields a backend needs to
run the plan (``var``, ``keys``, ``test``, ...) each node carries what it *stands for* when the filter
was checked against a schema (``path``, ``kind``, ``relation``, ``field``, ``field_type``): enough for a
backend that stores records in tables or typed columns to find them, never needed to decide an answer.

>>> from skillfilter.plan.planner import compile_plan
>>> plan, _ = compile_plan("skill_clusters__sources='cv' and not skill_clusters__current_skills__name='Java'",
...                        schema="export", entity="employees")
>>> print(dump(plan))
exists e1 in r.skill_clusters [relation, skip null]:
  and:
    exists e2 in e1.sources [list[text], skip null]:
      e2 exact 'cv'
    not:
      exists e3 in e1.current_skills [relation, skip null]:
        e3.name exact 'Java'
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Generic, TypeVar

from .atoms import Test

if TYPE_CHECKING:
    from ..semantics.schema import Field, Relation

__all__ = [
    "ROOT", "CPKey", "Key", "ListKind", "PAnd", "PAtom", "PConst", "PExists", "PNode", "PNot", "POr",
    "PlanVisitor", "binders", "dump", "null_truth", "walk",
]

#: The variable that stands for the record.
ROOT = "r"


# --------------------------------------------------------------------------------------------------
# keys
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CPKey:
    """The step from a record to its custom property ``name`` (both shapes of rule 9: a mapping
    ``{"name": value}`` or the API's list ``[{"property_name": "name", "property_value": value}]``, first
    entry of that name; anything else, or no entry, is null)."""

    name: str


Key = str | CPKey


class ListKind(str, Enum):
    """What the list of a :class:`PExists` is (a ``str`` enum: compares equal to its value)."""

    #: A to-many relation of the schema: a list of mappings (``PExists.relation`` says which).
    RELATION = "relation"
    #: A ``list[text]`` field or typed custom property: a list of strings.
    TEXT_LIST = "list[text]"
    #: Schemaless (no schema, or an untyped custom property): a value that may turn out to be a list.
    MAYBE = "maybe-list"


# --------------------------------------------------------------------------------------------------
# plan nodes
# --------------------------------------------------------------------------------------------------
@dataclass(eq=False, slots=True)
class PConst:
    """A constant: the whole filter is always (``value``) true or false."""

    value: bool


@dataclass(eq=False, slots=True)
class PAtom:
    """``test`` on the value reached from variable ``var`` through ``keys`` (mappings only).

    Following a key of a value that is not a mapping gives null; ``test`` decides what null (and every
    value of the wrong kind) answers.  With ``keys == ()`` the atom tests the variable itself (an element
    of a ``list[text]``, or of a schemaless list).

    The rest describes, and does not change, the meaning:

    - ``path``: every key from the record to the value, through the lists of the enclosing
      :class:`PExists` nodes (``("skill_clusters", "current_skills", "name")``);
    - ``field``: the schema's :class:`~skillfilter.semantics.schema.Field` compared (``None`` without a
      schema and for a custom property);
    - ``field_type``: the declared type (``"text"``, ``"integer"``, ``"number"``, ``"boolean"``,
      ``"date"``, ``"datetime"``, ``"list[text]"`` -- then the atom tests one element, a text); ``None``
      when not known (no schema, an untyped custom property);
    - ``relations``: the schema relations (all to-one) that ``keys`` walk from ``var`` to the field;
    - ``entity``: the name of the schema entity the field belongs to (``None`` without a schema).
    """

    var: str
    keys: tuple[Key, ...]
    test: Test
    path: tuple[Key, ...] = ()
    field: Field | None = None
    field_type: str | None = None
    relations: tuple[Relation, ...] = ()
    entity: str | None = None


@dataclass(eq=False, slots=True)
class PAnd:
    """All ``items`` hold (at least two of them)."""

    items: list[PNode]


@dataclass(eq=False, slots=True)
class POr:
    """Some item of ``items`` holds (at least two of them)."""

    items: list[PNode]


@dataclass(eq=False, slots=True)
class PNot:
    """``item`` does not hold (two-valued: the atoms already answered for null)."""

    item: PNode


@dataclass(eq=False, slots=True)
class PExists:
    """Some element ``var`` of the list reached from ``parent`` through ``keys`` makes ``body`` true.

    A value that is not a list is its only element; an empty list (and null, and a missing key) offers one
    null element (rule 3).  ``var`` is fresh (unique in the plan) and read only inside ``body``.

    - ``skip_null``: the body is false whenever ``var`` is null, so null elements need not be tried (an
      empty list then simply has no element that makes the body true).
    - ``expect_list``: the data normally holds a list here (``kind`` is not :attr:`ListKind.MAYBE`).
    - ``path``: every key from the record to the list (``keys`` are only the last ones, from ``parent``).
    - ``kind``: a to-many relation, a ``list[text]``, or a schemaless value that may be a list
      (:class:`ListKind`).
    - ``relation``: for :attr:`ListKind.RELATION`, the schema's to-many
      :class:`~skillfilter.semantics.schema.Relation` (its ``target`` is the entity of the elements).
    - ``field``: for :attr:`ListKind.TEXT_LIST`, the schema's ``list[text]``
      :class:`~skillfilter.semantics.schema.Field` (``None`` for a custom property: the last key is a
      :class:`CPKey` then).
    - ``relations``: the schema relations ``keys`` walk, in order: to-one relations, then ``relation``.
    """

    var: str
    parent: str
    keys: tuple[Key, ...]
    body: PNode
    skip_null: bool = False
    expect_list: bool = False
    path: tuple[Key, ...] = ()
    kind: ListKind = ListKind.MAYBE
    relation: Relation | None = None
    field: Field | None = None
    relations: tuple[Relation, ...] = ()


PNode = PConst | PAtom | PAnd | POr | PNot | PExists


# --------------------------------------------------------------------------------------------------
# walking
# --------------------------------------------------------------------------------------------------
def walk(node: PNode) -> Iterator[PNode]:
    """Every node of the plan, parents before children, in order."""
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


def binders(node: PNode) -> dict[str, PExists]:
    """Each variable of the plan (but ``"r"``) and the :class:`PExists` that binds it."""
    return {n.var: n for n in walk(node) if isinstance(n, PExists)}


T = TypeVar("T")


class PlanVisitor(Generic[T]):
    """Dispatch on plan node type: define ``visit_PAtom``, ``visit_PAnd``, ``visit_POr``, ``visit_PNot``,
    ``visit_PConst`` and ``visit_PExists`` (each takes the node and returns a ``T``).

    A backend's compiler is typically one such visitor: ``MyCompiler().visit(plan)``.  Plans are at most
    as deep as the expressions they come from (:data:`skillfilter.language.ast.MAX_DEPTH` bounds those).
    """

    def visit(self, node: PNode) -> T:
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            raise NotImplementedError(f"no visit_{type(node).__name__} on {type(self).__name__}")
        result: T = method(node)
        return result


# --------------------------------------------------------------------------------------------------
# rendering (for people: debugging, docs)
# --------------------------------------------------------------------------------------------------
def _key_text(key: Key) -> str:
    return f"cp[{key.name!r}]" if isinstance(key, CPKey) else key if key.isidentifier() else repr(key)


def _ref(var: str, keys: tuple[Key, ...]) -> str:
    return ".".join([var, *(_key_text(k) for k in keys)])


def dump(node: PNode) -> str:
    """The plan as indented text, one node a line (not a format to parse: it may change)."""
    lines: list[str] = []

    def emit(n: PNode, ind: int) -> None:
        pad = "  " * ind
        if isinstance(n, PConst):
            lines.append(f"{pad}{'true' if n.value else 'false'}")
        elif isinstance(n, PAtom):
            t = n.test
            ci = " (case-insensitive)" if t.ci else ""
            value = "" if t.kind in ("isnull", "notnull", "false") else f" {t.value!r}"
            lines.append(f"{pad}{_ref(n.var, n.keys)} {t.kind}{value}{ci}")
        elif isinstance(n, PNot):
            lines.append(f"{pad}not:")
            emit(n.item, ind + 1)
        elif isinstance(n, PExists):
            skip = ", skip null" if n.skip_null else ""
            lines.append(f"{pad}exists {n.var} in {_ref(n.parent, n.keys)} [{n.kind.value}{skip}]:")
            emit(n.body, ind + 1)
        else:
            lines.append(f"{pad}{'and' if isinstance(n, PAnd) else 'or'}:")
            for item in n.items:
                emit(item, ind + 1)

    emit(node, 0)
    return "\n".join(lines)


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
