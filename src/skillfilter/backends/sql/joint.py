"""Entangled scopes: several independent lists chosen together, as one ``EXISTS``.

A plan existential that holds (through ``and``/``or``, not through ``not``) another existential over a list
that does not hang off its own element (``(a__x=1 or b__x=1) and (a__x=2 or b__x=2)``) chooses elements of
both lists together.  Nesting one ``EXISTS`` per list would be exact, but deep (SQLite's parser takes about a
dozen levels) and slow; instead all of them are chosen in one ``EXISTS``:

- **vectors**, when every part of the condition (a comparison, a ``not``) depends on the elements of one
  list only: each list's rows (with its chosen sub-lists) become a derived table of the DISTINCT truth values
  of the parts that depend on it (elements giving the same values are interchangeable): its size is bounded
  by the filter, not the data.  The tables are cross-joined, the condition on top;
- **product** otherwise: every list ``LEFT JOIN``ed (an empty one gives its null element), the condition on
  top.

Pulling the existentials out through ``and``/``or`` is exact because every list offers at least one element.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...plan.nodes import PAnd, PAtom, PConst, PExists, PNode, POr, walk
from .fragments import ATOM, FALSE, TRUE, Frag

if TYPE_CHECKING:
    from .compiler import Compiler, Env

__all__ = ["chosen_together", "joint"]


def chosen_together(n: PExists) -> list[PExists]:
    """``n`` and the existentials its body holds through ``and``/``or``/existentials (parents first)."""
    out: list[PExists] = []
    stack: list[PNode] = [n]
    while stack:
        node = stack.pop()
        if isinstance(node, PExists):
            out.append(node)
            stack.append(node.body)
        elif isinstance(node, (PAnd, POr)):
            stack.extend(reversed(node.items))
    return out


def _free(node: PNode) -> set[str]:
    used: set[str] = set()
    bound: set[str] = set()
    for n in walk(node):
        if isinstance(n, PAtom):
            used.add(n.var)
        elif isinstance(n, PExists):
            used.add(n.parent)
            bound.add(n.var)
    return used - bound


def joint(c: Compiler, n: PExists, group: list[PExists], env: Env) -> Frag:
    """Some choice of elements for every list of ``group`` (``n`` first) makes ``n``'s body true."""
    names = {e.var: e for e in group}

    def root_of(var: str) -> str:
        while names[var].parent in names:
            var = names[var].parent
        return var

    roots = [e.var for e in group if e.parent not in names]

    def owner(unit: PNode) -> set[str]:
        if isinstance(unit, PAtom):
            return {root_of(unit.var)} if unit.var in names else set()
        if isinstance(unit, PConst):
            return set()
        return {root_of(v) for v in _free(unit) if v in names}

    def units(node: PNode) -> list[PNode]:
        if isinstance(node, (PAnd, POr)):
            return [u for i in node.items for u in units(i)]
        if isinstance(node, PExists) and node.var in names:
            return units(node.body)
        return [node]

    if all(len(owner(u)) <= 1 for u in units(n)):
        return _vector(c, n, group, env, roots=roots, root_of=root_of, owner=owner)
    return _product(c, n, group, env)


def _left_joins(c: Compiler, ordered: list[PExists], env: Env) -> tuple[list[str], list[Any]]:
    """One row per choice of elements for ``ordered`` (parents first), each list LEFT JOINed so that an
    empty one offers its all-null element; binds each variable in ``env``."""
    _, dummy = c.alias()
    joins = [f'(SELECT 1) AS "{dummy}"']
    params: list[Any] = []
    for e in ordered:
        parent = env[e.parent]
        if parent is None:
            env[e.var] = None
            continue
        alias, raw = c.alias()
        steps, bind = c.steps(parent, e.keys, alias, raw, True)
        for s in steps:
            on = s.on
            joins.append(f"LEFT JOIN {s.source} ON {on}" if on else f"CROSS JOIN {s.source}")
            params.extend(s.params)
            params.extend(s.on_params)
        env[e.var] = bind
    return joins, params


def _product(c: Compiler, n: PExists, group: list[PExists], env: Env) -> Frag:
    inner_env = dict(env)
    joins, params = _left_joins(c, group, inner_env)
    where = c.node(n, inner_env, False)
    if where.const is not None:
        return TRUE if where.const else FALSE  # the product of the domains is never empty
    return Frag(f"EXISTS (SELECT 1 FROM {' '.join(joins)} WHERE {where.sql})", (*params, *where.params),
                ATOM, depth=where.depth + 4 + sum(j.count("(") for j in joins))


def _vector(c: Compiler, n: PExists, group: list[PExists], env: Env, *, roots: list[str], root_of: Any,
            owner: Any) -> Frag:
    inner_env = dict(env)
    tables: dict[str, tuple[str, list[str], list[Any], list[str], list[Any]]] = {}
    for r in roots:
        joins, params = _left_joins(c, [e for e in group if root_of(e.var) == r], inner_env)
        table_alias, _ = c.alias()
        tables[r] = (table_alias, joins, params, [], [])

    def unit(node: PNode) -> Frag:
        found = owner(node)
        f = c.node(node, inner_env, False)
        if not found or f.const is not None:
            return f
        table_alias, _joins, _params, cols, select_params = tables[next(iter(found))]
        name = f"c{len(cols) + 1}"
        cols.append(f'COALESCE(({f.sql}), FALSE) AS "{name}"')
        select_params.extend(f.params)
        return Frag(f'{table_alias}."{name}"', (), ATOM, depth=f.depth)

    def build(node: PNode) -> Frag:
        if isinstance(node, (PAnd, POr)):
            return c.join("and" if isinstance(node, PAnd) else "or", [build(i) for i in node.items])
        if isinstance(node, PExists) and node.var in inner_env and node.var in {e.var for e in group}:
            return build(node.body)
        return unit(node)

    where = build(n)
    if where.const is not None:
        return TRUE if where.const else FALSE  # the product of the domains is never empty
    froms: list[str] = []
    params_all: list[Any] = []
    depth = where.depth
    for r in roots:
        table_alias, joins, params, cols, select_params = tables[r]
        if not cols:
            continue  # nothing depends on this list: it offers at least one element
        froms.append(f"(SELECT DISTINCT {', '.join(cols)} FROM {' '.join(joins)}) AS {table_alias}")
        params_all.extend(select_params)
        params_all.extend(params)
        depth = max(depth, sum(j.count("(") for j in joins) + 4)
    if not froms:
        return where  # no list's own condition is left: each offers an element, so the rest decides
    return Frag(f"EXISTS (SELECT 1 FROM {' CROSS JOIN '.join(froms)} WHERE {where.sql})",
                (*params_all, *where.params), ATOM, depth=depth + 4)
