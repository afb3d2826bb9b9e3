"""The interpreter: a plan evaluated by closures, the slow and simple twin of the generated code.

:func:`interpret` is the fallback where generated source would be unreasonable (Python refuses it), and
the yardstick the tests hold the generated code to; :func:`test_function` is one atom's test, shared with
the joint evaluation (:mod:`.joint`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ...plan.atoms import BOOLEAN, DATE, DATETIME, NUMBER, Test, TestKind
from ...plan.nodes import ROOT, PAnd, PAtom, PExists, PNode, PNot, POr
from ...semantics.values import as_decimal, simple_fold
from .runtime import as_date, as_datetime, direct_type, elements, follow, number_compare

__all__ = ["interpret", "test_function"]


def test_function(test: Test) -> Callable[[Any], bool]:
    """``test`` as a function of one value (any data: the wrong kind of value is simply false)."""
    kind, vtype, lit, ci = test.kind, test.vtype, test.value, test.ci
    if kind == TestKind.ISNULL:
        return lambda v: v is None
    if kind == TestKind.NOTNULL:
        return lambda v: v is not None
    if kind == TestKind.FALSE:
        return lambda v: False
    if vtype == BOOLEAN:
        return lambda v: v is lit
    if vtype in (DATE, DATETIME):
        conv = as_date if vtype == DATE else as_datetime

        def temporal(v: Any) -> bool:
            x = conv(v)
            return x is not None and _compare(kind, x, lit)

        return temporal
    if vtype == NUMBER:
        return _number_function(kind, lit)

    def text(v: Any) -> bool:
        if type(v) is not str:
            return False
        return _compare(kind, simple_fold(v) if ci else v, lit)

    return text


def _number_function(kind: str, lit: Any) -> Callable[[Any], bool]:
    """A number test, exact by decimal value (the interpreter's twin of the generated code)."""
    exact = as_decimal(lit)
    assert exact is not None  # make_test turned a NaN literal into "false"
    direct = direct_type(lit)

    def number(v: Any) -> bool:
        t = type(v)
        if (t is int or t is float) and (direct is None or t is direct):
            return _compare(kind, v, lit)
        return number_compare(v, kind, exact)

    return number


def _compare(kind: str, v: Any, lit: Any) -> bool:
    if kind == "exact":
        return bool(v == lit)
    if kind == "contains":
        return bool(lit in v)
    if kind == "startswith":
        return bool(v.startswith(lit))
    if kind == "endswith":
        return bool(v.endswith(lit))
    if kind == "gt":
        return bool(v > lit)
    if kind == "gte":
        return bool(v >= lit)
    if kind == "lt":
        return bool(v < lit)
    return bool(v <= lit)


def interpret(plan: PNode) -> Callable[[Any], bool]:
    """A test on records evaluating ``plan`` by closures (the slow, simple twin of generated code)."""
    run = _closure(plan)

    def predicate(record: Any) -> bool:
        if not isinstance(record, Mapping):
            return False
        try:
            return run({ROOT: record})
        except Exception:  # a value whose own methods raise: the record does not match
            return False

    return predicate


Env = dict[str, Any]


def _closure(node: PNode) -> Callable[[Env], bool]:
    """``node`` as a function of the variables' values."""
    if isinstance(node, PAtom):
        test, var, keys = test_function(node.test), node.var, node.keys
        return lambda env: test(follow(env[var], keys))
    if isinstance(node, PExists):
        body, var, parent, keys = _closure(node.body), node.var, node.parent, node.keys

        def exists(env: Env) -> bool:
            for e in elements(follow(env[parent], keys)):
                env[var] = e
                if body(env):
                    return True
            return False

        return exists
    if isinstance(node, (PAnd, POr)):
        items = [_closure(i) for i in node.items]
        if isinstance(node, PAnd):
            return lambda env: all(i(env) for i in items)
        return lambda env: any(i(env) for i in items)
    if isinstance(node, PNot):
        item = _closure(node.item)
        return lambda env: not item(env)
    value = node.value
    return lambda env: value
