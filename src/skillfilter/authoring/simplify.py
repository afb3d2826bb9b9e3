"""``simplify``: an equivalent filter under LANGUAGE.md section 3, never larger.

Rewrites, bottom-up: repeated operands of ``and``/``or`` go; ``A or (A and B)`` and ``A and (A or B)``
become ``A``; ``not not A`` becomes ``A``; an ``and`` holding two comparisons that no one value satisfies
(``x=1 and x=2``, ``x__is_null=true and x='a'``) is false, and a false operand of an ``or`` goes; a comparison
that holds for no value (``x__contains=1``: text operators on a number) is false too.

Scopes (rule 3) limit each rewrite: removing a part of a scope must not change which to-many prefixes that
scope chooses for a ``not`` that refers to them, and ``not not A`` only becomes ``A`` when the prefixes ``A``
chooses are referred to nowhere else.  Where that cannot be shown, the filter is left as it is.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from ..language.ast import And, Comparison, Expr, Not, Or
from .scopes import Prefix, Prefixes

if TYPE_CHECKING:
    from ..semantics.schema import Schema

__all__ = ["simplify"]


def simplify(expr: Expr | str, *, schema: Schema | str | None = None, entity: str | None = None) -> Expr:
    """An equivalent filter (same matches as ``expr`` under ``predicate()`` for every record) that has at most
    as many logical operators; with ``schema``/``entity`` the filter is checked and the schema decides which
    paths may hold lists.  ``expr`` may be filter text."""
    expr = _tree(expr)
    prefixes = _prefixes(expr, schema, entity)
    work = _Simplifier(prefixes, prefixes.counts(expr))
    result = work.visit(expr)
    if result is None or result.logical_operator_count() > expr.logical_operator_count():
        return expr
    return result


def _tree(expr: Expr | str) -> Expr:
    if isinstance(expr, str):
        from ..language.parser import parse

        return parse(expr)
    return expr


def _prefixes(expr: Expr, schema: Schema | str | None, entity: str | None) -> Prefixes:
    from ..errors import FilterTypeError

    if not isinstance(expr, Expr):
        raise FilterTypeError(f"expected an expression, not {type(expr).__name__}")
    if schema is None and entity is None:
        return Prefixes()
    from ..semantics.schema import Schema
    from ..semantics.validate import check

    sch = Schema.coerce(schema)
    name = entity if entity is not None else sch.implied_entity()
    if name is None:
        raise FilterTypeError("a schema needs an entity, as in entity='employees'")
    check(expr, name, schema=sch, max_logical_operators=None)  # raises FilterValidationError
    return Prefixes(sch, name)


class _Simplifier:
    """``visit`` returns the simplified node, or ``None`` for a part that holds for no record."""

    def __init__(self, prefixes: Prefixes, total: Counter[Prefix]) -> None:
        self.p = prefixes
        self.total = total

    def removable(self, part: Expr, keep: Expr | None = None) -> bool:
        """Whether ``part`` may leave its scope: each prefix it chooses there is chosen by ``keep`` too, or is
        referred to nowhere outside ``part``."""
        direct = self.p.direct(part)
        if not direct:
            return True
        kept = self.p.direct(keep) if keep is not None else frozenset()
        inside = self.p.counts(part)
        return all(p in kept or inside[p] >= self.total[p] for p in direct)

    def visit(self, node: Expr) -> Expr | None:
        if isinstance(node, Comparison):
            return None if self.p.schema is None and _never(node) else node
        if isinstance(node, Not):
            inner = self.visit(node.operand)
            if inner is None:
                return node  # `not <false>` holds always; no filter text says so: keep it
            if isinstance(inner, Not) and self._lift(inner.operand):
                return inner.operand
            return node if inner is node.operand else Not(inner)
        assert isinstance(node, (And, Or))
        is_and = isinstance(node, And)
        items: list[Expr] = []
        for op in node.operands:
            s = self.visit(op)
            if s is None:
                if is_and:
                    return None
                if not self.removable(op):
                    items.append(op)
                continue
            if isinstance(s, (And, Or)) and type(s) is type(node):
                items.extend(s.operands)
            else:
                items.append(s)
        items = list(dict.fromkeys(items))
        if is_and and _contradicts([i for i in items if self._plain_value(i)]):
            return None
        items = self._absorb(items, is_and)
        if not items:
            return None
        if len(items) == 1:
            return items[0]
        if items == list(node.operands):
            return node
        return (And if is_and else Or).of(*items)

    def _plain_value(self, item: Expr) -> bool:
        """Literals compared as they are written (not dates, which a schema converts)."""
        if not isinstance(item, Comparison) or self.p.schema is None or self.p.entity is None:
            return True
        res = self.p.schema.resolve(self.p.entity, item)
        return res.type not in ("date", "datetime")

    def _lift(self, inner: Expr) -> bool:
        """``not not inner`` -> ``inner``: when no prefix ``inner`` refers to is referred to outside it."""
        inside = self.p.counts(inner)
        return all(n >= self.total[p] for p, n in inside.items())

    def _absorb(self, items: list[Expr], is_and: bool) -> list[Expr]:
        """In an ``or`` drop ``A and B`` when ``A`` is an operand; in an ``and``, ``A or B`` likewise."""
        inner_kind = Or if is_and else And
        out = list(items)
        for x in items:
            if not isinstance(x, inner_kind):
                continue
            parts = set(x.operands)
            for a in out:
                if a is x:
                    continue
                a_parts = set(a.operands) if isinstance(a, inner_kind) else {a}
                if a_parts < parts and self.removable(x, a):
                    out = [y for y in out if y is not x]
                    break
        return out


_KINDS = {bool: "boolean", int: "number", float: "number", str: "text"}


def _never(node: Comparison) -> bool:
    """A comparison no value satisfies (schemaless kinds, rule 7): a text operator with a non-text literal,
    an ordering on a boolean."""
    from ..semantics.operators import BUILTIN_OPERATORS

    op = BUILTIN_OPERATORS.get(node.op)
    if op is None or node.value is None:
        return False
    kind = _KINDS.get(type(node.value))
    if kind is None:
        return False
    if op.kind in ("contains", "startswith", "endswith") or op.case_insensitive:
        return kind != "text"
    if op.kind in ("gt", "gte", "lt", "lte"):
        return kind == "boolean"
    return False


def _contradicts(items: list[Expr]) -> bool:
    """Two comparisons of one ``and`` on the same path (so, in one scope, on the same value) that no value
    satisfies together: ``exact`` with two different values, or ``is_null=true`` with a test of a value."""
    seen: dict[object, list[Comparison]] = {}
    for item in items:
        if isinstance(item, Comparison) and item.op in ("exact", "is_null"):
            seen.setdefault(item.target, []).append(item)
    for group in seen.values():
        if len(group) < 2:
            continue
        nulls = {c.value for c in group if c.op == "is_null"}
        nulls |= {True for c in group if c.op == "exact" and c.value is None}
        values = [c.value for c in group if c.op == "exact" and c.value is not None]
        if True in nulls and (values or False in nulls):
            return True
        keys = {(_KINDS.get(type(v)), v) for v in values}
        if len(keys) > 1:
            return True
    return False
