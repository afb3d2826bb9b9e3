"""Tests combined per relation prefix: one subquery over the rows of each prefix, each test one column.

For engines whose planner takes more than linear time in the number of correlated subqueries (DuckDB:
:attr:`~skillfilter.backends.sql.dialect.Dialect.combine_exists_from`), "some row of this prefix makes
``body`` true" is not one ``EXISTS`` each but a column ``coalesce(bool_or(<body>), FALSE)`` of one subquery
over that prefix's rows (``bool_or`` is true exactly when some row makes the body true, as ``EXISTS`` is;
over no rows it is NULL, hence the ``coalesce``).  Without ``GROUP BY`` such a subquery is one row, so the
whole condition becomes ``EXISTS (SELECT 1 FROM <the subqueries> WHERE <condition on their columns>)``.
The tests through a prefix nested in another are columns of a ``LATERAL`` subquery of the outer prefix's
rows, and so on down.  A prefix is combined only from the scope whose row it hangs off (the
:class:`Scope` on top of the compiler's stack); inside a subquery written whole (several lists chosen
together, a custom property read in place, a plain ``EXISTS``) nothing is combined.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...plan.nodes import Key, PAnd, PAtom, PExists, PNode, PNot, POr
from .fragments import ATOM, FALSE, Frag

if TYPE_CHECKING:
    from .compiler import Bind, Compiler, Step

__all__ = ["Group", "Scope", "close", "column", "subqueries"]


@dataclass(eq=False, slots=True)
class Scope:
    """Where a condition on the row ``owner`` (a SQL reference; ``None``: no combining here) is evaluated,
    and the :class:`Group` subqueries over rows reached from it, by (parent, keys, listy)."""

    owner: str | None
    groups: dict[tuple[Any, ...], Group] = field(default_factory=dict)


@dataclass(eq=False, slots=True)
class Group:
    """One subquery over the rows reached from a parent row through some keys, its columns each "some row
    makes this body true" (``coalesce(bool_or(body), FALSE)``): every test of a filter through that prefix in
    one place (:attr:`~skillfilter.backends.sql.dialect.Dialect.combine_exists_from`)."""

    ref: str
    steps: list[Step]
    bind: Bind
    inner: Scope
    columns: dict[tuple[str, tuple[Any, ...]], str] = field(default_factory=dict)
    column_frags: list[Frag] = field(default_factory=list)


def column(c: Compiler, parent: Bind, keys: tuple[Key, ...], listy: bool,
           body: Callable[[Bind], Frag]) -> Frag:
    """"Some row reached from ``parent`` (the row of the innermost scope) through ``keys`` makes ``body``
    true", as a column of the group of that prefix (made on first use)."""
    scope = c.scopes[-1]
    group_key = (tuple(keys), listy)
    group = scope.groups.get(group_key)
    if group is None:
        alias, raw = c.alias()
        steps, bind = c.steps(parent, keys, alias, raw, listy)
        group = Group(c.alias()[0], steps, bind, Scope(bind.ref))
        scope.groups[group_key] = group
    c.scopes.append(group.inner)
    try:
        where = body(group.bind)
    finally:
        c.scopes.pop()
    if where.const is False:
        return FALSE
    seen = (where.sql, where.params)
    name = group.columns.get(seen)
    if name is None:
        name = group.columns[seen] = f'"c{len(group.columns) + 1}"'
        text = "TRUE" if where.const is True else where.sql
        group.column_frags.append(Frag(f"coalesce(bool_or({text}), FALSE) AS {name}", where.params,
                                       depth=where.depth + 2))
    return Frag(f"{group.ref}.{name}")


def close(scope: Scope, cond: Frag) -> Frag:
    """``cond`` with the groups of ``scope`` in reach: ``EXISTS (SELECT 1 FROM <groups> WHERE cond)``
    (each group is one row: an aggregate without ``GROUP BY``)."""
    if not scope.groups or cond.const is not None:
        return cond
    sources, params, depth = group_sources(scope)
    if not sources:  # every test through them folded to false: no column, nothing to read
        return cond
    return Frag(f"EXISTS (SELECT 1 FROM {' CROSS JOIN '.join(sources)} WHERE {cond.sql})",
                (*params, *cond.params), ATOM, depth=max(depth, cond.depth) + 4)


def group_sources(scope: Scope, lateral: str = "") -> tuple[list[str], list[Any], int]:
    """The ``FROM`` items of the groups of ``scope`` that have columns (their own nested groups as
    ``LATERAL`` items of theirs), their parameters in text order, and their depth."""
    sources: list[str] = []
    params: list[Any] = []
    depth = 0
    for group in scope.groups.values():
        if not group.column_frags:
            continue
        first = group.steps[0]
        columns = ", ".join(f.sql for f in group.column_frags)
        for f in group.column_frags:
            params.extend(f.params)
            depth = max(depth, f.depth)
        source = first.source + "".join(f" JOIN {s.source} ON {s.on}" for s in group.steps[1:])
        params.extend(first.params)
        for s in group.steps[1:]:
            params.extend(s.params)
            params.extend(s.on_params)
        inner, inner_params, inner_depth = group_sources(group.inner, "LATERAL ")
        if inner:
            source += "".join(f" CROSS JOIN {i}" for i in inner)
            params.extend(inner_params)
            depth = max(depth, inner_depth)
        where = f" WHERE {first.on}" if first.on else ""
        params.extend(first.on_params)
        sources.append(f"{lateral}(SELECT {columns} FROM {source}{where}) AS {group.ref}")
    return sources, params, depth + 4


def subqueries(plan: PNode, enough: int) -> int:
    """How many subqueries the plain shape of ``plan`` writes, roughly (counting stops at ``enough``)."""
    count = 0
    todo = [plan]
    while todo and count < enough:
        n = todo.pop()
        if isinstance(n, PExists):
            count += 1
            todo.append(n.body)
        elif isinstance(n, PAtom):
            count += len(n.keys) > 1
        elif isinstance(n, PNot):
            todo.append(n.item)
        elif isinstance(n, (PAnd, POr)):
            todo.extend(n.items)
    return count
