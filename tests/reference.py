"""A brute-force reference evaluator of LANGUAGE.md section 3, written from the spec's words.

For each scope it enumerates every choice of one element per to-many prefix chosen in that scope and asks
whether some choice makes the scope true: slow and obviously correct.  The property tests of
``predicate()`` and the Django differential test use it as the independent judge.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from skillfilter import And, Comparison, CustomProperty, Expr, Not, Or
from skillfilter.semantics.operators import BUILTIN_OPERATORS

CP = "\x00cp"  # marks the custom-property step in a key path


def ref_fold(s: str) -> str:
    """Rule 5: each character to its upper case where that is a single character."""
    out = []
    for c in s:
        u = c.upper()
        out.append(u if len(u) == 1 else c)
    return "".join(out)


def ref_kind(v: Any) -> str | None:
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "text"
    return None


def ref_test(kind: str, ci: bool, lit: Any, v: Any) -> bool:
    """One comparison on one value (rules 2, 5, 6, 7)."""
    if kind == "is_null":
        return (v is None) == lit
    if lit is None:  # `=null`
        return v is None
    if v is None:
        return False
    k = ref_kind(lit)
    if ref_kind(v) != k:
        return False
    if k == "boolean":  # booleans take only exact (iexact is a string operator)
        return kind == "exact" and not ci and v == lit
    if k == "number" and (ci or kind in ("contains", "startswith", "endswith")):
        return False
    if ci:
        v, lit = ref_fold(v), ref_fold(lit)
    return bool(_REF_TESTS[kind](v, lit))


#: The reference's own table of the operators' tests (the library dispatches with ``if``s: written apart).
_REF_TESTS: dict[str, Callable[[Any, Any], Any]] = {
    "exact": operator.eq, "contains": lambda v, lit: lit in v, "startswith": lambda v, lit: v.startswith(lit),
    "endswith": lambda v, lit: v.endswith(lit), "gt": operator.gt, "gte": operator.ge, "lt": operator.lt,
    "lte": operator.le,
}


def keys_of(node: Comparison) -> tuple[Any, ...]:
    t = node.target
    if isinstance(t, CustomProperty):
        return ((CP, t.name),)
    return t.path


def lookup(parent: Any, key: Any) -> Any:
    """Rule 1 and rule 9: one step through a mapping; anything else gives null."""
    if not isinstance(parent, Mapping):
        return None
    if isinstance(key, tuple):  # custom property
        props = parent.get("custom_properties")
        if isinstance(props, Mapping):
            return props.get(key[1])
        if isinstance(props, list):
            for item in props:
                if isinstance(item, Mapping) and item.get("property_name") == key[1]:
                    return item.get("property_value")
        return None
    return parent.get(key)


def elements(raw: Any) -> list[Any]:
    """A list offers its elements (an empty one: one null element); anything else is its only element."""
    if isinstance(raw, list):
        return raw if raw else [None]
    return [raw]


class Reference:
    """``listy(keys)`` says whether the value at that key path is a to-many prefix (schemaless: always)."""

    def __init__(self, listy: Callable[[tuple[Any, ...]], bool] = lambda keys: True,
                 test: Callable[[Comparison], Callable[[Any], bool]] | None = None) -> None:
        self.listy = listy
        self.test = test or (lambda node: lambda v: ref_test(
            BUILTIN_OPERATORS[node.op].kind, BUILTIN_OPERATORS[node.op].case_insensitive, node.value, v))

    def prefixes(self, node: Comparison) -> list[tuple[Any, ...]]:
        keys = keys_of(node)
        return [keys[: i + 1] for i in range(len(keys)) if self.listy(keys[: i + 1])]

    def value(self, record: Any, keys: tuple[Any, ...], env: dict[tuple[Any, ...], Any]) -> Any:
        x = record
        for i in range(len(keys)):
            p = keys[: i + 1]
            x = env[p] if p in env else lookup(x, keys[i])
        return x

    def direct(self, expr: Expr) -> Iterator[Comparison]:
        if isinstance(expr, Comparison):
            yield expr
        elif isinstance(expr, (And, Or)):
            for o in expr.operands:
                yield from self.direct(o)

    def choices(self, record: Any, new: list[tuple[Any, ...]], env: dict[tuple[Any, ...], Any]) -> Iterator[dict[tuple[Any, ...], Any]]:
        if not new:
            yield env
            return
        p = new[0]
        # The parent value: walk to p's parent through the elements already chosen.
        parent = self.value(record, p[:-1], env)
        for e in elements(lookup(parent, p[-1])):
            yield from self.choices(record, new[1:], {**env, p: e})

    def scope(self, expr: Expr, record: Any, outer: dict[tuple[Any, ...], Any]) -> bool:
        chosen = {p for c in self.direct(expr) for p in self.prefixes(c)}
        new = sorted(chosen - set(outer), key=len)
        return any(self.holds(expr, record, env) for env in self.choices(record, new, outer))

    def holds(self, expr: Expr, record: Any, env: dict[tuple[Any, ...], Any]) -> bool:
        if isinstance(expr, Comparison):
            return self.test(expr)(self.value(record, keys_of(expr), env))
        if isinstance(expr, And):
            return all(self.holds(o, record, env) for o in expr.operands)
        if isinstance(expr, Or):
            return any(self.holds(o, record, env) for o in expr.operands)
        assert isinstance(expr, Not)
        return not self.scope(expr.operand, record, env)

    def __call__(self, expr: Expr, record: Any) -> bool:
        if not isinstance(record, Mapping):
            return False
        return self.scope(expr, record, {})


