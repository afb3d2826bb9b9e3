"""The planner: from a checked expression to the plan (:mod:`skillfilter.plan.nodes`).

This is the one room where LANGUAGE.md section 3 is decided for every backend.  Every comparison walks a path
of *steps*; a step that may hold a list (a to-many relation, a ``list[text]``; without a schema, every step)
ends a *prefix*.  Rule 3 asks, per scope, for *some choice* of one element per prefix chosen in that scope.
The planner turns each scope into a plan where every such choice is an existential (:class:`PExists`) placed
as deep as exactness allows (mini-scoping): an existential distributes over ``or``, and over ``and`` it only
covers the conjuncts that share its prefix.  So ``a__x=1 and b__y=2`` costs two separate existentials, never
a cartesian product, while ``a__x=1 and a__y=2`` tests both conditions on the same element of ``a``.  Rules
2 and 7 (null and kind) are decided by :func:`~skillfilter.plan.atoms.make_test`; constants are folded last.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import FilterError
from ..language.ast import And, Comparison, CustomProperty, Expr, Not, Or
from ..language.parser import parse
from ..semantics.operators import BUILTIN_OPERATORS
from ..semantics.schema import Schema
from .atoms import Test, make_test
from .nodes import CPKey, Key, PAnd, PAtom, PConst, PExists, PNode, PNot, POr, null_truth

__all__ = ["compile_plan"]

Prefix = tuple[Key, ...]


def compile_plan(
    expr: Expr | str,
    *,
    schema: Schema | str | None = None,
    entity: str | None = None,
) -> tuple[PNode, Expr]:
    """The plan for ``expr`` and the (validated, converted) expression it was made from."""
    planner = _Planner()
    if schema is None and entity is None:
        tree = parse(expr) if isinstance(expr, str) else expr
        if not isinstance(tree, Expr):
            raise TypeError(f"expected filter text or an expression, not {type(expr).__name__}")
        for node in tree.comparisons():
            planner.add(node, *_schemaless_steps(node))
    else:
        if entity is None:
            raise TypeError("predicate(): a schema needs an entity, as in entity='employees'")
        from ..semantics.validate import check

        sch = Schema.coerce(schema)
        tree = check(expr, entity, schema=sch, max_logical_operators=None)
        for node in tree.comparisons():
            planner.add(node, *_schema_steps(sch, entity, node))
    plan = planner.scope(tree, frozenset(), {})
    return _simplify(plan), tree


# A step: (key, may hold a list, normally holds a list).
_Step = tuple[Key, bool, bool]


def _schemaless_steps(node: Comparison) -> tuple[list[_Step], Test]:
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
        steps = [(CPKey(target.name), True, False)]
    else:
        path = getattr(target, "path", None)
        if not path or not all(isinstance(seg, str) and seg for seg in path):
            raise FilterError(f"a field reference needs one or more non-empty names, not {path!r}")
        steps = [(seg, True, False) for seg in path]
    return steps, make_test(operator.kind, operator.case_insensitive, node.value)


def _schema_steps(schema: Schema, entity: str, node: Comparison) -> tuple[list[_Step], Test]:
    res = schema.resolve(entity, node)
    steps: list[_Step] = [(rel.name, rel.many, rel.many) for rel in res.relations]
    if res.custom_property is not None:
        # An untyped custom property is schemaless: it may hold a list.
        listy = res.type is None or res.type == "list[text]"
        steps.append((CPKey(res.custom_property), listy, res.type == "list[text]"))
    else:
        assert res.field is not None
        steps.append((res.field.name, res.field.is_list, res.field.is_list))
    operator = res.operator
    return steps, make_test(operator.kind, operator.case_insensitive, node.value)


# --------------------------------------------------------------------------------------------------
# planning: scopes and mini-scoping
# --------------------------------------------------------------------------------------------------
@dataclass(slots=True)
class _Info:
    #: The prefixes (ends of list-holding steps) the comparison goes through, outermost first.
    prefixes: tuple[Prefix, ...]
    #: Keys after the last prefix, down to the compared value.
    tail: tuple[Key, ...]
    test: Test


@dataclass(eq=False, slots=True)
class _F:
    """A scope's formula: ``atom`` (info), ``and``/``or`` (items), ``not`` (expr: a scope of its own)."""

    kind: str
    fv: frozenset[Prefix]
    items: list[_F] = field(default_factory=list)
    info: _Info | None = None
    expr: Expr | None = None


def _union(sets: Iterable[frozenset[Prefix]]) -> frozenset[Prefix]:
    # One set, filled in place: `frozenset |= ...` in a loop would copy it each time (quadratic).
    out: set[Prefix] = set()
    for s in sets:
        out.update(s)
    return frozenset(out)


class _Planner:
    def __init__(self) -> None:
        self.infos: dict[int, _Info] = {}
        self.parent: dict[Prefix, Prefix | None] = {}
        self.step_keys: dict[Prefix, tuple[Key, ...]] = {}
        self.expect: dict[Prefix, bool] = {}
        self.order: dict[Prefix, int] = {}
        self.all_memo: dict[int, frozenset[Prefix]] = {}
        self.counter = 0
        # The trees whose node ids key the memos above stay alive as long as the planner.
        self.keep: list[Any] = []

    def add(self, node: Comparison, steps: list[_Step], test: Test) -> None:
        self.keep.append(node)
        prefixes: list[Prefix] = []
        path: list[Key] = []
        pending: list[Key] = []
        parent: Prefix | None = None
        for key, listy, expect in steps:
            path.append(key)
            pending.append(key)
            if listy:
                prefix = tuple(path)
                if prefix not in self.parent:
                    self.parent[prefix] = parent
                    self.step_keys[prefix] = tuple(pending)
                    self.expect[prefix] = expect
                    self.order[prefix] = len(self.order)
                prefixes.append(prefix)
                parent = prefix
                pending = []
        self.infos[id(node)] = _Info(tuple(prefixes), tuple(pending), test)

    # -- formulas ----------------------------------------------------------------------------------
    def all_prefixes(self, expr: Expr) -> frozenset[Prefix]:
        """Every prefix a comparison anywhere inside ``expr`` goes through."""
        key = id(expr)
        memo = self.all_memo.get(key)
        if memo is not None:
            return memo
        if isinstance(expr, Comparison):
            result = frozenset(self.infos[key].prefixes)
        elif isinstance(expr, Not):
            result = self.all_prefixes(expr.operand)
        elif isinstance(expr, (And, Or)):
            result = _union(self.all_prefixes(o) for o in expr.operands)
        else:
            raise TypeError(f"{type(expr).__name__} is not an expression")
        self.all_memo[key] = result
        return result

    def formula(self, expr: Expr, direct: set[Prefix]) -> _F:
        """``expr`` as a formula of its scope; adds to ``direct`` the prefixes chosen in the scope."""
        if isinstance(expr, Comparison):
            info = self.infos[id(expr)]
            direct.update(info.prefixes)
            return _F("atom", frozenset(info.prefixes), info=info)
        if isinstance(expr, Not):
            return _F("not", self.all_prefixes(expr.operand), expr=expr.operand)
        if isinstance(expr, (And, Or)):
            items = [self.formula(o, direct) for o in expr.operands]
            kind = "and" if isinstance(expr, And) else "or"
            return _F(kind, _union(i.fv for i in items), items)
        raise TypeError(f"{type(expr).__name__} is not an expression")

    def scope(self, expr: Expr, outer: frozenset[Prefix], env: dict[Prefix, str]) -> PNode:
        """The plan of a scope: some choice of elements for the prefixes it chooses (rule 3)."""
        direct: set[Prefix] = set()
        f = self.formula(expr, direct)
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
        up = self.parent[root]
        parent_var = "r" if up is None else env[up]
        body = self.exists(q - {root}, f, {**env, root: var}, chosen)
        return PExists(var, parent_var, self.step_keys[root], body, expect_list=self.expect[root])

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
        roots = [p for p in q if self.parent[p] not in q]
        items = f.items if f.kind in ("and", "or") else [f]

        def score(p: Prefix) -> tuple[int, int]:
            return (-sum(1 for i in items if p in i.fv), self.order[p])

        return min(roots, key=score)

    def build(self, f: _F, env: dict[Prefix, str], chosen: frozenset[Prefix]) -> PNode:
        if f.kind == "atom":
            assert f.info is not None
            info = f.info
            var = env[info.prefixes[-1]] if info.prefixes else "r"
            return PAtom(var, info.tail, info.test)
        if f.kind == "not":
            assert f.expr is not None
            return PNot(self.scope(f.expr, chosen, env))
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
