"""The planner: from a checked expression to the plan (:mod:`skillfilter.plan.nodes`).

This is the one room where LANGUAGE.md section 3 is decided for every backend.  Every comparison walks a path
of *steps*; a step that may hold a list (a to-many relation, a ``list[text]``; without a schema, every step)
ends a *prefix*.  Rule 3 asks, per scope, for *some choice* of one element per prefix chosen in that scope.
The planner turns each scope into a plan where every such choice is an existential (:class:`PExists`) placed
as deep as exactness allows (mini-scoping): an existential distributes over ``or``, and over ``and`` it only
covers the conjuncts that share its prefix.  So ``a__x=1 and b__y=2`` costs two separate existentials, never
a cartesian product, while ``a__x=1 and a__y=2`` tests both conditions on the same element of ``a``.  Rules
2 and 7 (null and kind) are decided by :func:`~skillfilter.plan.atoms.make_test`; constants are folded last,
and each :class:`PExists` learns whether its body is false for a null element (``skip_null``).

Stages: :class:`_Formulas` (an AST :class:`~skillfilter.language.ast.Visitor`) resolves each comparison once
and builds the formula tree with each node's prefixes computed bottom-up; :meth:`_Planner.scope` and
:meth:`_Planner.exists` place the existentials; :func:`_simplify` folds constants.  Planning is linear in the
filter's size but for the unions of prefix sets (tests/test_hardening_cost.py checks the growth).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple

from ..errors import FilterError
from ..language.ast import And, Comparison, CustomProperty, Expr, Not, Or, Visitor
from ..language.parser import parse
from ..semantics.operators import BUILTIN_OPERATORS
from ..semantics.schema import Field, Relation, Schema
from .atoms import Test, make_test
from .nodes import (
    ROOT,
    CPKey,
    Key,
    ListKind,
    PAnd,
    PAtom,
    PConst,
    PExists,
    PNode,
    PNot,
    POr,
    null_truth,
)

__all__ = ["compile_plan"]

Prefix = tuple[Key, ...]


def compile_plan(
    expr: Expr | str,
    *,
    schema: Schema | str | None = None,
    entity: str | None = None,
    checked: bool = False,
) -> tuple[PNode, Expr]:
    """The plan for ``expr`` and the (validated, converted) expression it was made from.

    Without ``schema`` and ``entity`` the filter is schemaless (every step of a path may hold a list);
    with an ``entity`` (of ``schema``, by default the built-in SkillEngine schema) it is validated first
    (:class:`~skillfilter.errors.FilterValidationError`) and its literals converted to the field types.
    With ``checked=True``, ``expr`` is what :func:`~skillfilter.semantics.validate.check` returned for this
    schema and entity: it is planned as it is, not validated again.

    >>> from skillfilter.plan.nodes import dump
    >>> plan, tree = compile_plan("not cp_language='de'")
    >>> print(dump(plan))
    not:
      exists e1 in r.cp['language'] [maybe-list, skip null]:
        e1 exact 'de'
    """
    planner = _Planner()
    if schema is None and entity is None:
        tree = parse(expr) if isinstance(expr, str) else expr
        if not isinstance(tree, Expr):
            raise TypeError(f"expected filter text or an expression, not {type(expr).__name__}")
        formula = _Formulas(planner, _schemaless_steps).visit(tree)
    else:
        if entity is None:
            raise TypeError("predicate(): a schema needs an entity, as in entity='employees'")
        sch = Schema.coerce(schema)
        if checked:
            if not isinstance(expr, Expr):
                raise TypeError(f"checked=True takes a checked expression, not {type(expr).__name__}")
            tree = expr
        else:
            from ..semantics.validate import check

            tree = check(expr, entity, schema=sch, max_logical_operators=None)
        formula = _Formulas(planner, partial(_schema_steps, sch, entity)).visit(tree)
    plan = planner.scope(formula, frozenset(), {})
    return _simplify(plan), tree


class _Step(NamedTuple):
    """One key of a comparison's path, and what it stands for."""

    key: Key
    #: The kind of list the step may hold; ``None``: never a list.
    kind: ListKind | None
    relation: Relation | None = None
    field: Field | None = None


class _Atom(NamedTuple):
    """What a comparison tests, once its path is known (the plan's :class:`PAtom` without ``var``)."""

    steps: tuple[_Step, ...]
    test: Test
    field: Field | None = None
    field_type: str | None = None
    entity: str | None = None


_MAYBE = ListKind.MAYBE


def _schemaless_steps(node: Comparison) -> _Atom:
    operator = BUILTIN_OPERATORS.get(node.op)
    if operator is None:
        raise FilterError(
            f"unknown operator `{node.op}` (without a schema only the built-in operators exist)"
        )
    if operator.kind == "is_null" and not isinstance(node.value, bool):
        raise FilterError(f"`{node.op}` takes true or false, not {node.value!r}")
    target = node.target
    steps: list[_Step]
    if isinstance(target, CustomProperty):
        if not isinstance(target.name, str) or not target.name:
            raise FilterError(f"a custom property needs a name, not {target.name!r}")
        steps = [_Step(CPKey(target.name), _MAYBE)]
    else:
        path = getattr(target, "path", None)
        if not path or not all(isinstance(seg, str) and seg for seg in path):
            raise FilterError(f"a field reference needs one or more non-empty names, not {path!r}")
        steps = [_Step(seg, _MAYBE) for seg in path]
    return _Atom(tuple(steps), make_test(operator.kind, operator.case_insensitive, node.value))


def _schema_steps(schema: Schema, entity: str, node: Comparison) -> _Atom:
    res = schema.resolve(entity, node)
    steps = [_Step(rel.name, ListKind.RELATION if rel.many else None, rel) for rel in res.relations]
    owner = res.relations[-1].target if res.relations else res.entity.name
    if res.custom_property is not None:
        # An untyped custom property is schemaless: it may hold a list.
        kind: ListKind | None = ListKind.MAYBE if res.type is None else None
        if res.type == "list[text]":
            kind = ListKind.TEXT_LIST
        steps.append(_Step(CPKey(res.custom_property), kind))
    else:
        assert res.field is not None
        kind = ListKind.TEXT_LIST if res.field.is_list else None
        steps.append(_Step(res.field.name, kind, field=res.field))
    operator = res.operator
    test = make_test(operator.kind, operator.case_insensitive, node.value)
    return _Atom(tuple(steps), test, res.field, res.type, owner)


# --------------------------------------------------------------------------------------------------
# planning: scopes and mini-scoping
# --------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Prefix:
    """A list-holding end of some comparison's path: the list one :class:`PExists` ranges over."""

    parent: Prefix | None
    #: First-seen order, to break ties between equally good prefixes deterministically.
    order: int
    #: The keys from the parent prefix (or the record) to the list, and what the list is.
    keys: tuple[Key, ...]
    kind: ListKind
    relation: Relation | None
    field: Field | None
    relations: tuple[Relation, ...]


@dataclass(slots=True)
class _Info:
    """A comparison, placed: the prefixes it goes through, and its atom less the variable."""

    #: The prefixes (ends of list-holding steps) the comparison goes through, outermost first.
    prefixes: tuple[Prefix, ...]
    #: Keys after the last prefix, down to the compared value, and the relations they walk.
    tail: tuple[Key, ...]
    tail_relations: tuple[Relation, ...]
    path: tuple[Key, ...]
    atom: _Atom


@dataclass(eq=False, slots=True)
class _F:
    """A formula: ``atom`` (info), ``and``/``or`` (items), ``not`` (items: the operand, a scope of its own).

    ``fv``: every prefix a comparison anywhere inside goes through.  Built once per expression node,
    bottom-up (:class:`_Formulas`), so nothing needs to be looked up again by node.
    """

    kind: str
    fv: frozenset[Prefix]
    items: list[_F] = field(default_factory=list)
    info: _Info | None = None


def _union(sets: Iterable[frozenset[Prefix]]) -> frozenset[Prefix]:
    # One set, filled in place: `frozenset |= ...` in a loop would copy it each time (quadratic).
    out: set[Prefix] = set()
    for s in sets:
        out.update(s)
    return frozenset(out)


class _Formulas(Visitor[_F]):
    """The expression as a tree of :class:`_F`, each comparison resolved once."""

    def __init__(self, planner: _Planner, resolve: Callable[[Comparison], _Atom]) -> None:
        self.planner = planner
        self.resolve = resolve

    def visit_Comparison(self, node: Comparison) -> _F:
        info = self.planner.add(self.resolve(node))
        return _F("atom", frozenset(info.prefixes), info=info)

    def visit_Not(self, node: Not) -> _F:
        item = self.visit(node.operand)
        return _F("not", item.fv, [item])

    def visit_And(self, node: And) -> _F:
        items = [self.visit(o) for o in node.operands]
        return _F("and", _union(i.fv for i in items), items)

    def visit_Or(self, node: Or) -> _F:
        items = [self.visit(o) for o in node.operands]
        return _F("or", _union(i.fv for i in items), items)

    def generic_visit(self, node: Expr) -> _F:
        raise TypeError(f"{type(node).__name__} is not an expression")


def _direct(f: _F, out: set[Prefix]) -> None:
    """Adds to ``out`` the prefixes chosen in ``f``'s own scope (those of comparisons not under a not)."""
    if f.kind == "atom":
        assert f.info is not None
        out.update(f.info.prefixes)
    elif f.kind != "not":
        for item in f.items:
            _direct(item, out)


def _relations(steps: tuple[_Step, ...]) -> tuple[Relation, ...]:
    return tuple([s.relation for s in steps if s.relation is not None])


class _Planner:
    def __init__(self) -> None:
        self.prefixes: dict[Prefix, _Prefix] = {}
        self.counter = 0

    def add(self, atom: _Atom) -> _Info:
        steps = atom.steps
        path = tuple([s.key for s in steps])
        prefixes: list[Prefix] = []
        parent: Prefix | None = None
        start = 0  # where the steps after the last prefix begin
        for i, step in enumerate(steps):
            if step.kind is None:
                continue
            prefix = path[: i + 1]
            if prefix not in self.prefixes:
                self.prefixes[prefix] = _Prefix(
                    parent,
                    len(self.prefixes),
                    path[start : i + 1],
                    step.kind,
                    step.relation if step.kind is ListKind.RELATION else None,
                    step.field,
                    _relations(steps[start : i + 1]),
                )
            prefixes.append(prefix)
            parent = prefix
            start = i + 1
        return _Info(tuple(prefixes), path[start:], _relations(steps[start:]), path, atom)

    def scope(self, f: _F, outer: frozenset[Prefix], env: dict[Prefix, str]) -> PNode:
        """The plan of a scope: some choice of elements for the prefixes it chooses (rule 3)."""
        direct: set[Prefix] = set()
        _direct(f, direct)
        new = frozenset(direct) - outer
        return self.exists(new, f, env, outer | new)

    def exists(self, q: frozenset[Prefix], f: _F, env: dict[Prefix, str], chosen: frozenset[Prefix]) -> PNode:
        """Some choice of elements for the prefixes ``q`` makes ``f`` true (mini-scoped)."""
        q = q & f.fv
        if not q:
            return self.build(f, env, chosen)
        if f.kind in ("and", "or"):
            parts = self.components(f.items, q)
            if len(parts) > 1:
                nodes: list[PNode] = []
                for part in parts:
                    if isinstance(part, _F):
                        nodes.append(self.build(part, env, chosen))
                    else:
                        sub = part[0] if len(part) == 1 else _F(f.kind, _union(i.fv for i in part), part)
                        nodes.append(self.exists(q, sub, env, chosen))
                return PAnd(nodes) if f.kind == "and" else POr(nodes)
        root = self.root(q, f)
        self.counter += 1
        var = f"e{self.counter}"
        info = self.prefixes[root]
        parent_var = ROOT if info.parent is None else env[info.parent]
        body = self.exists(q - {root}, f, {**env, root: var}, chosen)
        return PExists(
            var, parent_var, info.keys, body, False, info.kind is not ListKind.MAYBE, root, info.kind,
            info.relation, info.field, info.relations,
        )

    def components(self, items: list[_F], q: frozenset[Prefix]) -> list[_F | list[_F]]:
        """``items`` grouped: those sharing a prefix of ``q`` (transitively) together, in order."""
        owner: dict[Prefix, int] = {}
        group_of: list[int] = list(range(len(items)))

        def find(i: int) -> int:
            while group_of[i] != i:
                group_of[i] = group_of[group_of[i]]
                i = group_of[i]
            return i

        for i, item in enumerate(items):
            for p in item.fv & q:
                if p in owner:
                    a, b = find(owner[p]), find(i)
                    if a != b:
                        group_of[max(a, b)] = min(a, b)
                else:
                    owner[p] = i
        parts: list[_F | list[_F]] = []
        slot: dict[int, list[_F]] = {}
        for i, item in enumerate(items):
            if not item.fv & q:
                parts.append(item)
                continue
            g = find(i)
            if g not in slot:
                slot[g] = []
                parts.append(slot[g])
            slot[g].append(item)
        return parts

    def root(self, q: frozenset[Prefix], f: _F) -> Prefix:
        roots = [p for p in q if self.prefixes[p].parent not in q]
        items = f.items if f.kind in ("and", "or") else [f]

        def score(p: Prefix) -> tuple[int, int]:
            return (-sum(1 for i in items if p in i.fv), self.prefixes[p].order)

        return min(roots, key=score)

    def build(self, f: _F, env: dict[Prefix, str], chosen: frozenset[Prefix]) -> PNode:
        if f.kind == "atom":
            assert f.info is not None
            info = f.info
            atom = info.atom
            var = env[info.prefixes[-1]] if info.prefixes else ROOT
            return PAtom(
                var, info.tail, atom.test, info.path, atom.field, atom.field_type, info.tail_relations,
                atom.entity,
            )
        if f.kind == "not":
            return PNot(self.scope(f.items[0], chosen, env))
        items = [self.build(i, env, chosen) for i in f.items]
        return PAnd(items) if f.kind == "and" else POr(items)


# --------------------------------------------------------------------------------------------------
# simplification
# --------------------------------------------------------------------------------------------------
def _simplify(node: PNode) -> PNode:
    if isinstance(node, PAtom):
        return PConst(False) if node.test.kind == "false" else node
    if isinstance(node, PConst):
        return node
    if isinstance(node, PNot):
        item = _simplify(node.item)
        if isinstance(item, PConst):
            return PConst(not item.value)
        if isinstance(item, PNot):
            return item.item
        return PNot(item)
    if isinstance(node, PExists):
        body = _simplify(node.body)
        if isinstance(body, PConst):
            # Every list offers at least one element.
            return body
        node.body = body
        node.skip_null = null_truth(body, {node.var}) is False
        return node
    is_and = isinstance(node, PAnd)
    items: list[PNode] = []
    for item in node.items:
        s = _simplify(item)
        if isinstance(s, PConst):
            if s.value is not is_and:
                return PConst(not is_and)
            continue
        if type(s) is type(node):
            assert isinstance(s, (PAnd, POr))
            items.extend(s.items)
        else:
            items.append(s)
    if not items:
        return PConst(is_and)
    if len(items) == 1:
        return items[0]
    return PAnd(items) if is_and else POr(items)
