"""What :func:`split` and :func:`simplify` need to know of LANGUAGE.md section 3: each comparison's to-many
*prefixes*, and which prefixes a part of a filter chooses in its own scope (``direct``), refers to under a
``not`` (``under_not``) or refers to at all (``refs``).

A prefix is a path that may hold a list: without a schema every step of a path; with one, to-many relations,
``list[text]`` fields and untyped custom properties (the planner's rule, :mod:`skillfilter.plan.planner`).
A boolean rewrite inside one scope is exact when the set of prefixes that scope chooses stays the same for
every ``not`` that refers to them; the functions here decide that conservatively.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ..language.ast import And, Comparison, CustomProperty, Expr, Not, Or

if TYPE_CHECKING:
    from ..semantics.schema import Schema

__all__ = ["Prefixes"]

Prefix = tuple[str, ...]


class Prefixes:
    """Prefixes of comparisons, without a schema (every step) or with one (``schema`` and ``entity``)."""

    def __init__(self, schema: Schema | None = None, entity: str | None = None) -> None:
        self.schema = schema
        self.entity = entity
        self._cache: dict[Comparison, frozenset[Prefix]] = {}

    def of(self, node: Comparison) -> frozenset[Prefix]:
        found = self._cache.get(node)
        if found is None:
            found = self._compute(node)
            self._cache[node] = found
        return found

    def _compute(self, node: Comparison) -> frozenset[Prefix]:
        target = node.target
        if self.schema is None or self.entity is None:
            if isinstance(target, CustomProperty):
                return frozenset({("cp_" + target.name,)})
            path = target.path
            return frozenset(path[: i + 1] for i in range(len(path)))
        res = self.schema.resolve(self.entity, node)
        out: list[Prefix] = []
        walked: list[str] = []
        for rel in res.relations:
            walked.append(rel.name)
            if rel.many:
                out.append(tuple(walked))
        if res.custom_property is not None:
            if res.type is None or res.type == "list[text]":
                out.append((*walked, "cp_" + res.custom_property))
        elif res.field is not None and res.field.is_list:
            out.append((*walked, res.field.name))
        return frozenset(out)

    # -- sets over a part of a filter --------------------------------------------------------------
    def direct(self, expr: Expr) -> frozenset[Prefix]:
        """Prefixes chosen in ``expr``'s own scope: those of its comparisons not under a ``not``."""
        out: set[Prefix] = set()
        stack = [expr]
        while stack:
            node = stack.pop()
            if isinstance(node, Comparison):
                out |= self.of(node)
            elif isinstance(node, (And, Or)):
                stack.extend(node.operands)
        return frozenset(out)

    def refs(self, expr: Expr) -> frozenset[Prefix]:
        out: set[Prefix] = set()
        for node in expr.comparisons():
            out |= self.of(node)
        return frozenset(out)

    def under_not(self, expr: Expr) -> frozenset[Prefix]:
        """Prefixes referred to by comparisons under some ``not`` in ``expr``."""
        out: set[Prefix] = set()
        stack: list[tuple[Expr, bool]] = [(expr, False)]
        while stack:
            node, negated = stack.pop()
            if isinstance(node, Comparison):
                if negated:
                    out |= self.of(node)
            elif isinstance(node, Not):
                stack.append((node.operand, True))
            elif isinstance(node, (And, Or)):
                stack.extend((op, negated) for op in node.operands)
        return frozenset(out)

    def counts(self, expr: Expr) -> Counter[Prefix]:
        """How many comparisons of ``expr`` refer to each prefix."""
        out: Counter[Prefix] = Counter()
        for node in expr.comparisons():
            out.update(self.of(node))
        return out
