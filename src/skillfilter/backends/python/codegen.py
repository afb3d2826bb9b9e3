"""The code generator: a plan (:mod:`skillfilter.plan.nodes`) written as the source of a Python function.

:func:`generate` writes the plan as the source of a Python function, ``compile()``\\ d once.  The only things
taken from the filter into that source are ``repr()`` of keys (always ``str``) and of literals of the exact
types ``str``, ``int`` (at most 18 digits) and finite ``float``; every other literal (dates, datetimes, big
integers, ...) is passed in as a named constant.  No text of the filter is ever executed.  The generated
code calls the helpers of :mod:`.runtime`; :mod:`.interpret` is its slow, simple twin.

Generated code for ``external_id__startswith='1'`` over a schema where ``external_id`` is text::

    def _pred(r):
        try:
            if type(r) is not dict and not isinstance(r, _Mapping):
                return False
            return (type((t1 := r.get('external_id'))) is str and t1.startswith('1'))
        except Exception:
            return False

Lists become ``for`` loops that ``return True`` as soon as an element makes the rest true; parts that cannot
sit inline (a loop under ``not``, a loop beside another loop, nesting deeper than Python likes) become helper
functions of the same module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ...plan.atoms import BOOLEAN, DATE, DATETIME, NUMBER, TEXT, Test, TestKind
from ...plan.nodes import CPKey, Key, PAnd, PAtom, PConst, PExists, PNode, PNot, POr, binders, walk
from ...semantics.values import as_decimal
from .interpret import interpret  # noqa: F401 - still importable from here (tests of other backends)
from .runtime import (
    NULL1,
    as_date,
    as_datetime,
    as_map,
    custom_property,
    direct_type,
    fold,
    get,
    number_compare,
)

__all__ = ["MAX_EXPR_DEPTH", "MAX_LOOPS", "generate"]


#: Deepest nesting of loops in one generated function, and of parentheses in one expression; deeper
#: parts go into helper functions of their own (Python limits both).
MAX_LOOPS = 8
MAX_EXPR_DEPTH = 24
_IND = "    "


def _key_repr(key: str) -> str:
    """A key as a Python string literal: ``str``'s own ``repr``, whatever a subclass says of itself."""
    if not isinstance(key, str):
        raise TypeError(f"a key must be a str, not {type(key).__name__}")
    return str.__repr__(key)


def _safe_repr(value: Any) -> str | None:
    """``repr(value)`` where that is a plain Python literal of the same value, else ``None``."""
    t = type(value)
    if t is str:
        return repr(value)
    if t is int and -(10**18) < value < 10**18:
        return repr(value)
    if t is float and math.isfinite(value):
        return repr(value)
    return None


class _Generator:
    def __init__(self, max_loops: int, max_expr_depth: int) -> None:
        self.max_loops = max(max_loops, 1)
        self.max_expr_depth = max_expr_depth
        self.namespace: dict[str, Any] = {
            "_Mapping": Mapping,
            "_as_map": as_map,
            "_get": get,
            "_cp": custom_property,
            "_fold": fold,
            "_NULL1": NULL1,
            "_as_dt": as_datetime,
            "_as_date": as_date,
            "_Dec": Decimal,
            "_ncmp": number_compare,
        }
        #: For the ``rest`` of a number test: what it is for data that is neither ``int`` nor ``float``.
        self.number_slow: dict[str, str] = {}
        self.functions: list[str] = []
        self.counter = 0
        #: variable -> the name holding it as a mapping (itself once normalised, or a `d` view).
        self.map_name: dict[str, str] = {"r": "r"}
        #: Loop variables whose body reads them as a mapping (`used_map`) or as a value (`used_direct`).
        self.used_map: set[str] = set()
        self.used_direct: set[str] = set()
        #: Loops with no loop inside, over values that are rarely lists: written as expressions.
        self.leaf: set[str] = set()
        #: While set, custom-property values are computed by statements collected here (relative
        #: indentation) instead of inline expressions: see :meth:`item`.
        self.prelude: list[str] | None = None
        #: Element variables whose value already sits in another name (no rebinding needed).
        self.alias: dict[str, str] = {}

    # -- names -------------------------------------------------------------------------------------
    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def literal(self, value: Any) -> str:
        text = _safe_repr(value)
        if text is not None:
            return text
        name = self.fresh("_k")
        self.namespace[name] = value
        return name

    # -- analysis ----------------------------------------------------------------------------------
    def analyse(self, plan: PNode) -> None:
        """Record how each loop's body uses its element: as a value, as a mapping, or both."""
        exists = binders(plan)
        for n in walk(plan):
            if isinstance(n, PAtom) and n.var in exists:
                (self.used_map if n.keys else self.used_direct).add(n.var)
            elif isinstance(n, PExists) and n.parent in exists:
                self.used_map.add(n.parent)
        for var in exists:
            if var in self.used_map:
                self.map_name[var] = self.fresh("d") if var in self.used_direct else var
        for var, n in exists.items():
            if (
                var not in self.used_map
                and not n.expect_list
                and not any(isinstance(m, PExists) for m in walk(n.body))
            ):
                self.leaf.add(var)

    def is_leaf(self, node: PExists) -> bool:
        return node.var in self.leaf

    def exprable(self, node: PNode) -> bool:
        if isinstance(node, PExists):
            return self.is_leaf(node)
        if isinstance(node, (PAnd, POr)):
            return all(self.exprable(i) for i in node.items)
        return True

    # -- values and tests --------------------------------------------------------------------------
    def value(self, var: str, keys: tuple[Key, ...]) -> str:
        """Source of the value reached from ``var`` through ``keys``."""
        if not keys:
            return self.alias.get(var, var)
        src = self.map_name[var]
        first = True
        for k in keys:
            if isinstance(k, CPKey):
                assert first, "custom properties hang off the record"
                src = self.custom_property(src, k.name)
            elif first:
                src = f"{src}.get({_key_repr(k)})"
            else:
                t = self.fresh("t")
                key = _key_repr(k)
                src = f"({t}.get({key}) if type({t} := {src}) is dict else _get({t}, {key}))"
            first = False
        return src

    def custom_property(self, record: str, name: str) -> str:
        """Source of custom property ``name`` of ``record`` (a mapping): rule 9, both shapes."""
        c = self.fresh("c")
        key = _key_repr(name)
        if self.prelude is None:
            return (
                f"({c}.get({key}) if type({c} := {record}.get('custom_properties')) is dict "
                f"else None if {c} is None else _cp({c}, {key}))"
            )
        p, i = self.fresh("p"), self.fresh("i")
        self.prelude += [
            f"{c} = {record}.get('custom_properties')",
            f"if type({c}) is dict:",
            f"{_IND}{p} = {c}.get({key})",
            f"elif {c} is None:",
            f"{_IND}{p} = None",
            f"elif type({c}) is list:",
            f"{_IND}{p} = None",
            f"{_IND}for {i} in {c}:",
            f"{_IND * 2}if type({i}) is not dict:",
            f"{_IND * 3}{p} = _cp({c}, {key})",
            f"{_IND * 3}break",
            f"{_IND * 2}if {i}.get('property_name') == {key}:",
            f"{_IND * 3}{p} = {i}.get('property_value')",
            f"{_IND * 3}break",
            "else:",
            f"{_IND}{p} = _cp({c}, {key})",
        ]
        return p

    def test(self, test: Test, value: str, name: str | None = None) -> tuple[str | None, str, str, str]:
        """``(guard, first, rest, name)`` for ``test`` on ``value``.

        The test is ``first`` when ``guard`` is ``None``; else it is ``rest`` once the type of the value
        (``first``, which computes it and binds it to ``name``) passed ``guard`` (``"str"`` or ``"num"``).
        """
        kind, vtype, ci = test.kind, test.vtype, test.ci
        if kind == TestKind.ISNULL:
            return None, f"{value} is None", "", ""
        if kind == TestKind.NOTNULL:
            return None, f"{value} is not None", "", ""
        if kind == TestKind.FALSE:
            return None, "False", "", ""
        lit = self.literal(test.value)
        if vtype == BOOLEAN:
            return None, f"{value} is {lit}", "", ""
        if kind == "exact" and not ci and vtype == TEXT:
            return None, f"{value} == {lit}", "", ""
        if name is not None or value.isidentifier():
            name = name or value
            first = value
        else:
            name = self.fresh("t")
            first = f"({name} := {value})"
        op = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}.get(kind)
        if vtype in (DATE, DATETIME):
            conv = "_as_date" if vtype == DATE else "_as_dt"
            if kind == "exact":
                return None, f"{conv}({first}) == {lit}", "", ""
            x = self.fresh("x")
            return None, f"(({x} := {conv}({first})) is not None and {x} {op} {lit})", "", ""
        if vtype == NUMBER:
            return "num", first, *self.number_test(kind, test.value, lit, name)
        subject = f"({name}.upper() if {name}.isascii() else _fold({name}))" if ci else name
        if kind == "exact":
            rest = f"{subject} == {lit}"
        elif kind == "contains":
            rest = f"{lit} in {subject}"
        elif kind in ("startswith", "endswith"):
            rest = f"{subject}.{kind}({lit})"
        else:
            rest = f"{subject} {op} {lit}"
        return "str", first, rest, name

    def number_test(self, kind: str, value: Any, lit: str, name: str) -> tuple[str, str]:
        """``(rest, name)`` of a number test (LANGUAGE.md: by decimal value; docs/semantics.md).

        ``rest`` is for ``int`` and ``float`` data, which compare with Python's operators where that is
        exact (a literal within 2**53, or data of the literal's own type); the rest goes through
        ``_ncmp`` with the literal as a ``Decimal``.  :attr:`number_slow` keeps the test for data of other
        types (a ``Decimal`` is a number; anything else is not).
        """
        op = {"exact": "==", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}[kind]
        exact = as_decimal(value)
        assert exact is not None  # make_test turned a NaN literal into "false"
        k = self.literal(exact)
        call = f"_ncmp({name}, {kind!r}, {k})"
        direct = direct_type(value)
        if direct is None:
            rest = f"{name} {op} {lit}"
        elif direct is Decimal:
            rest = call
        else:
            rest = f"({name} {op} {lit} if type({name}) is {direct.__name__} else {call})"
        self.number_slow[rest] = f"(type({name}) is _Dec and {call})"
        return rest, name

    def guarded(self, guard: str | None, first: str, rest: str, name: str) -> str:
        if guard is None:
            return first
        if guard == "str":
            return f"(type({first}) is str and {rest})"
        return f"({rest} if (type({first}) is int or type({name}) is float) else {self.number_slow[rest]})"

    # -- expressions -------------------------------------------------------------------------------
    def expr(self, node: PNode, depth: int = 0) -> str:
        if depth > self.max_expr_depth and not isinstance(node, (PAtom, PConst)):
            return self.call(node)
        if isinstance(node, PConst):
            return "True" if node.value else "False"
        if isinstance(node, PAtom):
            return self.guarded(*self.test(node.test, self.value(node.var, node.keys)))
        if isinstance(node, PNot):
            return f"(not {self.expr(node.item, depth + 1)})"
        if isinstance(node, (PAnd, POr)):
            joiner = " and " if isinstance(node, PAnd) else " or "
            return "(" + joiner.join(self.expr(i, depth + 1) for i in node.items) + ")"
        if self.is_leaf(node):
            return self.leaf_expr(node, depth)
        return self.call(node)

    def leaf_expr(self, node: PExists, depth: int) -> str:
        """``B(e) if e is not a list else <some element of e makes B true>``, ``e`` the raw value."""
        var = node.var
        raw = self.value(node.parent, node.keys)
        helper = self.leaf_helper(node)
        args = [self.alias.get(f, f) for f in self.free_names(node.body, exclude={var})]
        if raw.isidentifier():
            # Already in a name (a custom property computed beforehand): test it there.
            name, bound = raw, raw
        else:
            name, bound = var, f"({var} := {raw})"
        call = f"{helper}({', '.join([name, *args])})"
        body = node.body
        self.alias[var] = name
        try:
            if isinstance(body, PAtom) and body.var == var and not body.keys:
                guard, _first, rest, _name = self.test(body.test, name, name=name)
                if guard == "str":
                    return f"({rest} if type({bound}) is str else (type({name}) is list and {call}))"
                if guard == "num":
                    return (
                        f"({rest} if (type({bound}) is int or type({name}) is float) "
                        f"else ({call} if type({name}) is list else {self.number_slow[rest]}))"
                    )
            test = self.expr(body, depth + 1)
            return f"({test} if type({bound}) is not list else {call})"
        finally:
            del self.alias[var]

    def leaf_helper(self, node: PExists) -> str:
        saved, self.prelude = self.prelude, None
        aliases, self.alias = self.alias, {}
        try:
            return self._leaf_helper(node)
        finally:
            self.prelude, self.alias = saved, aliases

    def _leaf_helper(self, node: PExists) -> str:
        name = self.fresh("_h")
        var = node.var
        free = self.free_names(node.body, exclude={var})
        lst = self.fresh("l")
        elements = lst if node.skip_null else f"({lst} or _NULL1)"
        lines = [
            f"def {name}({', '.join([lst, *free])}):",
            f"{_IND}for {var} in {elements}:",
            f"{_IND * 2}if {self.expr(node.body)}:",
            f"{_IND * 3}return True",
            f"{_IND}return False",
        ]
        self.functions.append("\n".join(lines))
        return name

    def call(self, node: PNode) -> str:
        """A helper function evaluating ``node``; returns the call's source."""
        saved, self.prelude = self.prelude, None
        aliases, self.alias = self.alias, {}
        try:
            name = self.fresh("_h")
            free = self.free_names(node)
            lines = [f"def {name}({', '.join(free)}):"]
            lines += self.function_body(node, 1)
            self.functions.append("\n".join(lines))
        finally:
            self.prelude, self.alias = saved, aliases
        return f"{name}({', '.join(self.alias.get(f, f) for f in free)})"

    def function_body(self, node: PNode, ind: int) -> list[str]:
        if self.exprable(node) and not any(
            isinstance(n, (PAtom, PExists)) and any(isinstance(k, CPKey) for k in n.keys) for n in walk(node)
        ):
            return [f"{_IND * ind}return {self.expr(node)}"]
        lines = self.mono(node, ind, 0)
        pad = _IND * ind
        if len(lines) >= 2 and lines[-1] == f"{pad}{_IND}return True" and lines[-2].startswith(f"{pad}if "):
            # `if X: return True` then `return False` is `return X`.
            return [*lines[:-2], f"{pad}return {lines[-2][len(pad) + 3:-1]}"]
        return [*lines, f"{pad}return False"]

    @staticmethod
    def single_value(node: PNode) -> bool:
        """Whether evaluating ``node`` always reads its one value (so it may be read beforehand)."""
        while isinstance(node, PNot):
            node = node.item
        return isinstance(node, (PAtom, PExists))

    def item(self, node: PNode) -> tuple[list[str], str]:
        """``(prelude, condition)`` for an expression-like ``node`` at a statement position: the prelude
        (relative indentation) computes custom-property values the condition then reads."""
        if not self.single_value(node):
            return [], self.expr(node)
        saved, self.prelude = self.prelude, []
        try:
            condition = self.expr(node)
            return self.prelude, condition
        finally:
            self.prelude = saved

    def free_names(self, node: PNode, exclude: set[str] | None = None) -> list[str]:
        """Names a helper evaluating ``node`` must receive (in a stable order)."""
        defined: set[str] = set(exclude or ())
        used: list[str] = []
        for n in walk(node):
            if isinstance(n, PExists):
                defined.add(n.var)
                defined.add(self.map_name.get(n.var, n.var))
                used.append(self.map_name[n.parent])
            elif isinstance(n, PAtom):
                used.append(self.map_name[n.var] if n.keys else n.var)
        out: list[str] = []
        for u in used:
            if u not in defined and u not in out:
                out.append(u)
        return out

    # -- statements: "return True as soon as the node is known true" --------------------------------
    def mono(self, node: PNode, ind: int, loops: int) -> list[str]:
        pad = _IND * ind
        if isinstance(node, PConst):
            return [f"{pad}return True"] if node.value else []
        if self.exprable(node) and not isinstance(node, (PAnd, POr)):
            pre, condition = self.item(node)
            return [pad + line for line in pre] + [f"{pad}if {condition}:", f"{pad}{_IND}return True"]
        if isinstance(node, POr):
            lines: list[str] = []
            simple: list[str] = []

            def flush() -> None:
                if simple:
                    lines.extend([f"{pad}if {' or '.join(simple)}:", f"{pad}{_IND}return True"])
                    simple.clear()

            for item in node.items:
                if not self.exprable(item):
                    flush()
                    lines += self.mono(item, ind, loops)
                    continue
                pre, condition = self.item(item)
                if pre:
                    flush()
                    lines += [pad + line for line in pre]
                simple.append(condition)
            flush()
            return lines
        if isinstance(node, PAnd):
            lines = []
            level = ind
            conditions: list[str] = []
            for item in node.items:
                if not self.exprable(item):
                    continue
                pre, condition = self.item(item)
                if pre:
                    if conditions:
                        lines.append(f"{_IND * level}if {' and '.join(conditions)}:")
                        level += 1
                        conditions = []
                    lines += [_IND * level + line for line in pre]
                conditions.append(condition)
            loops_ = [i for i in node.items if not self.exprable(i)]
            conditions += [self.call(i) for i in loops_[:-1]]
            if not loops_:
                return [
                    *lines,
                    f"{_IND * level}if {' and '.join(conditions)}:",
                    f"{_IND * (level + 1)}return True",
                ]
            if conditions:
                lines.append(f"{_IND * level}if {' and '.join(conditions)}:")
                level += 1
            return lines + self.mono(loops_[-1], level, loops)
        if isinstance(node, PNot):  # pragma: no cover - a not is always an expression
            return [f"{pad}if {self.expr(node)}:", f"{pad}{_IND}return True"]
        assert isinstance(node, PExists)
        if loops >= self.max_loops:
            return [f"{pad}if {self.call(node)}:", f"{pad}{_IND}return True"]
        return self.loop(node, ind, loops)

    def loop(self, node: PExists, ind: int, loops: int) -> list[str]:
        pad = _IND * ind
        var = node.var
        v = self.fresh("v")
        lines = [f"{pad}{v} = {self.value(node.parent, node.keys)}"]
        if node.skip_null:
            lines += [f"{pad}if type({v}) is not list:", f"{pad}{_IND}{v} = () if {v} is None else ({v},)"]
        else:
            lines += [
                f"{pad}if type({v}) is not list:",
                f"{pad}{_IND}{v} = ({v},)",
                f"{pad}elif not {v}:",
                f"{pad}{_IND}{v} = _NULL1",
            ]
        lines.append(f"{pad}for {var} in {v}:")
        inner = pad + _IND
        if var in self.used_map:
            d = self.map_name[var]
            if d == var:
                if node.skip_null:
                    lines += [
                        f"{inner}if type({var}) is not dict and not isinstance({var}, _Mapping):",
                        f"{inner}{_IND}continue",
                    ]
                else:
                    lines += [f"{inner}if type({var}) is not dict:", f"{inner}{_IND}{var} = _as_map({var})"]
            else:
                lines.append(f"{inner}{d} = {var} if type({var}) is dict else _as_map({var})")
        body = self.mono(node.body, ind + 1, loops + 1)
        return lines + (body or [f"{inner}pass"])


def generate(
    plan: PNode,
    *,
    description: str = "",
    max_loops: int | None = None,
    max_expr_depth: int | None = None,
) -> tuple[Callable[[Any], bool], str]:
    """The compiled predicate for ``plan`` and its source.

    ``max_loops`` (default :data:`MAX_LOOPS`) and ``max_expr_depth`` (default :data:`MAX_EXPR_DEPTH`)
    bound the nesting of loops in one function and of parentheses in one expression; deeper parts
    become helper functions (``0`` makes every loop and every compound part a helper: the tests use
    that to exercise helper calls).
    """
    gen = _Generator(
        MAX_LOOPS if max_loops is None else max_loops,
        MAX_EXPR_DEPTH if max_expr_depth is None else max_expr_depth,
    )
    gen.analyse(plan)
    # A value whose own methods raise (a hostile mapping, an `==` that raises) makes the record not match;
    # the `try` costs nothing while nothing is raised.
    main = "\n".join([
        "def _pred(r):",
        f"{_IND}try:",
        f"{_IND * 2}if type(r) is not dict and not isinstance(r, _Mapping):",
        f"{_IND * 3}return False",
        *gen.function_body(plan, 2),
        f"{_IND}except Exception:",
        f"{_IND * 2}return False",
    ])
    source = "\n\n".join([*gen.functions, main]) + "\n"
    namespace = gen.namespace
    code = compile(source, "<skillfilter predicate>", "exec")
    exec(code, namespace)  # noqa: S102 - generated from the plan; no filter text but repr() of literals
    fn: Callable[[Any], bool] = namespace["_pred"]
    if description:
        fn.__doc__ = description
    return fn, source
