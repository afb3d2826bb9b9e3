"""A toy backend, written only against the plan's public interface, proves the recipe of
docs/architecture.md ("How to add a backend"): it decides no semantics of its own, and yet gives exactly
``predicate()``'s answers on generated filters and records (schemaless, the export schema, and a schema with
every field type, numbers beyond 2**53 and 2**63, dates and date-times in text).

The toy evaluates a plan directly over records: one closure per node (:class:`Toy`), the value rules from
:mod:`skillfilter.semantics.values`.  A second toy renders the plan as text and is checked for covering every
node.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from skillfilter import And, Comparison, CustomProperty, Expr, FieldRef, Not, Or, predicate
from skillfilter.plan.atoms import DATE, DATETIME, NUMBER, TEXT, Test, TestKind
from skillfilter.plan.nodes import (
    ROOT,
    CPKey,
    Key,
    ListKind,
    PAnd,
    PAtom,
    PConst,
    PExists,
    PlanVisitor,
    PNode,
    PNot,
    POr,
    binders,
    walk,
)
from skillfilter.plan.planner import compile_plan
from skillfilter.semantics.schema import Schema
from skillfilter.semantics.values import as_date, as_datetime, as_decimal, simple_fold
from test_predicate_properties import (
    EXPORT,
    SETTINGS,
    comparisons,
    employees,
    export_comparisons,
    filters,
    records,
    records_for,
    shared_comparisons,
)

# ==================================================================================================
# the toy backend: plan -> a function of records (only the plan's public interface)
# ==================================================================================================
Env = dict[str, Any]
OPS: dict[str, Callable[[Any, Any], bool]] = {
    "exact": operator.eq, "gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le,
    "contains": lambda v, lit: lit in v, "startswith": str.startswith, "endswith": str.endswith,
}


def follow(x: Any, keys: tuple[Key, ...]) -> Any:
    """Rule 1 and rule 9: through mappings by key; anything else on the way is null."""
    for k in keys:
        if not isinstance(x, Mapping):
            return None
        if isinstance(k, CPKey):
            props = x.get("custom_properties")
            if isinstance(props, list):
                found = [p.get("property_value") for p in props
                         if isinstance(p, Mapping) and p.get("property_name") == k.name]
                x = found[0] if found else None
            else:
                x = props.get(k.name) if isinstance(props, Mapping) else None
        else:
            x = x.get(k)
    return x


def value_test(t: Test) -> Callable[[Any], bool]:
    """One atom's test: the plan decided null and kind; the value rules are semantics.values'."""
    if t.kind == TestKind.ISNULL:
        return lambda v: v is None
    if t.kind == TestKind.NOTNULL:
        return lambda v: v is not None
    if t.kind == TestKind.FALSE:
        return lambda v: False
    cmp = OPS[t.kind]
    if t.vtype == NUMBER:
        lit = as_decimal(t.value)
        return lambda v: (d := as_decimal(v)) is not None and cmp(d, lit)
    if t.vtype in (DATE, DATETIME):
        conv = as_date if t.vtype == DATE else as_datetime
        return lambda v: (x := conv(v)) is not None and cmp(x, t.value)
    if t.vtype == TEXT:
        return lambda v: type(v) is str and cmp(simple_fold(v) if t.ci else v, t.value)
    return lambda v: v is t.value  # boolean: exact only


class Toy(PlanVisitor[Callable[[Env], bool]]):
    def visit_PConst(self, n: PConst) -> Callable[[Env], bool]:
        return lambda env: n.value

    def visit_PAtom(self, n: PAtom) -> Callable[[Env], bool]:
        test = value_test(n.test)
        return lambda env: test(follow(env[n.var], n.keys))

    def visit_PAnd(self, n: PAnd) -> Callable[[Env], bool]:
        items = [self.visit(i) for i in n.items]
        return lambda env: all(i(env) for i in items)

    def visit_POr(self, n: POr) -> Callable[[Env], bool]:
        items = [self.visit(i) for i in n.items]
        return lambda env: any(i(env) for i in items)

    def visit_PNot(self, n: PNot) -> Callable[[Env], bool]:
        item = self.visit(n.item)
        return lambda env: not item(env)

    def visit_PExists(self, n: PExists) -> Callable[[Env], bool]:
        body = self.visit(n.body)

        def exists(env: Env) -> bool:
            raw = follow(env[n.parent], n.keys)
            elements = (raw or [None]) if isinstance(raw, list) else [raw]  # rule 3: the null element
            return any(body({**env, n.var: e}) for e in elements)

        return exists


def toy_predicate(expr: Expr | str, **kw: Any) -> Callable[[Any], bool]:
    run = Toy().visit(compile_plan(expr, **kw)[0])
    return lambda record: isinstance(record, Mapping) and run({ROOT: record})


# ==================================================================================================
# a second toy: the plan as text, one line per node
# ==================================================================================================
class Text(PlanVisitor[list[str]]):
    def visit_PConst(self, n: PConst) -> list[str]:
        return [str(n.value).lower()]

    def visit_PAtom(self, n: PAtom) -> list[str]:
        return [f"{n.var}{''.join(f'[{k!r}]' for k in n.keys)} {n.test.kind} {n.test.value!r}"]

    def visit_PAnd(self, n: PAnd) -> list[str]:
        return ["and", *("  " + line for i in n.items for line in self.visit(i))]

    def visit_POr(self, n: POr) -> list[str]:
        return ["or", *("  " + line for i in n.items for line in self.visit(i))]

    def visit_PNot(self, n: PNot) -> list[str]:
        return ["not", *("  " + line for line in self.visit(n.item))]

    def visit_PExists(self, n: PExists) -> list[str]:
        return [f"exists {n.var} in {n.parent}{list(n.keys)} ({n.kind.value})",
                *("  " + line for line in self.visit(n.body))]


# ==================================================================================================
# a schema with every field type, and data that tests the value rules
# ==================================================================================================
TYPED = Schema.from_dict({
    "name": "typed",
    "entities": {
        "people": {
            "fields": {"s": "text", "n": "integer", "x": "number", "b": "boolean", "d": "date",
                       "t": "datetime", "tags": "list[text]"},
            "relations": {"team": {"entity": "teams"}, "projects": {"entity": "projects", "many": True}},
            "custom_properties": {"definitions": {"since": "datetime", "score": "number", "labels": "list[text]"}},
        },
        "teams": {"fields": {"size": "integer", "title": "text"}},
        "projects": {"fields": {"code": "text", "budget": "number", "due": "date"},
                     "relations": {"lead": {"entity": "teams"}}},
    },
})
BIG = [2**53, 2**53 + 1, 2**63, -(2**63) - 1, 10**20, 10**23]
NUMBERS: list[Any] = [0, 1, -1, 3, 0.1, 0.5, 1e23, 2.0, -0.0, float(2**53), *BIG]
DATES: list[Any] = [dt.date(2020, 1, 1), dt.date(2020, 1, 2), dt.date(1999, 12, 31)]
TIMES: list[Any] = [dt.datetime(2020, 1, 1, tzinfo=dt.timezone.utc), dt.datetime(2020, 1, 1, 1, 30),
                    dt.datetime(2020, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=2)))]
TEXTS = ["x", "X", "ß", "SS", "straße", "STRASSE", "ǅ", "", "and", "'", "%_", "2020-01-01"]
#: Data of every kind, for any field.
JUNK: list[Any] = [None, True, False, 1, "x", [], ["x"], {"a": 1}]
#: Data near each kind of literal (the value rules' hard cases).
NEAR_NUMBERS: list[Any] = [*NUMBERS, Decimal("0.1"), Decimal("1E+23"), Decimal("NaN"), float("nan"),
                           float("inf"), 0.30000000000000004, True, "1"]
NEAR_DATES: list[Any] = [*DATES, *TIMES, "2020-01-01", "2020-01-02", "2020-1-1", "2020-01-01T00:00:00Z",
                         "2019-12-31", "20200101", dt.datetime(2020, 1, 1)]
NEAR_TIMES: list[Any] = [*TIMES, *DATES, "2020-01-01", "2020-01-01T00:00:00Z", "2020-01-01T01:30:00",
                         "2020-01-01T02:00:00+02:00", "2019-12-31 23:59", "2020-01-01T00:00:00.0000001Z",
                         "not a date", "2020-01-01T25:00"]
NEAR_TEXTS: list[Any] = [*TEXTS, "xx", "ẞ", "Straße", 1, True]
TARGETS: list[tuple[tuple[str, ...], list[Any], list[str]]] = [
    (("s",), TEXTS, ["exact", "iexact", "contains", "icontains", "startswith", "iendswith", "gt", "lte"]),
    (("n",), [v for v in NUMBERS if isinstance(v, int)], ["exact", "gt", "gte", "lt", "lte"]),
    (("x",), NUMBERS, ["exact", "gt", "gte", "lt", "lte"]),
    (("b",), [True, False], ["exact"]),
    (("d",), [*DATES, "2020-01-01"], ["exact", "gt", "gte", "lt", "lte"]),
    (("t",), [*TIMES, "2020-01-01T00:00:00Z", "2020-01-01"], ["exact", "gt", "gte", "lt", "lte"]),
    (("tags",), TEXTS, ["exact", "iexact", "contains", "istartswith"]),
    (("team", "size"), [0, 3, 2**63], ["exact", "gt", "lt"]),
    (("projects", "code"), TEXTS, ["exact", "iexact", "contains"]),
    (("projects", "budget"), NUMBERS, ["exact", "gte", "lt"]),
    (("projects", "due"), DATES, ["exact", "gt", "lte"]),
    (("projects", "lead", "title"), TEXTS, ["exact", "icontains"]),
    (("cp_since",), TIMES, ["exact", "gte", "lt"]),
    (("cp_score",), NUMBERS, ["exact", "gt", "lte"]),
    (("cp_labels",), TEXTS, ["exact", "iexact"]),
]


@st.composite
def typed_comparisons(draw: st.DrawFn) -> Comparison:
    path, values, ops = draw(st.sampled_from(TARGETS))
    target: Any = FieldRef(path)
    if path[0].startswith("cp_"):
        target = CustomProperty(path[0][3:])
    roll = draw(st.integers(0, 9))
    if roll == 0:
        return Comparison(target, "is_null", draw(st.booleans()))
    if roll == 1:
        return Comparison(target, "exact", None)
    return Comparison(target, draw(st.sampled_from(ops)), draw(st.sampled_from(values)))


NEAR: dict[str, list[Any]] = {
    "s": NEAR_TEXTS, "n": NEAR_NUMBERS, "x": NEAR_NUMBERS, "b": [True, False, 1, 0, "true"], "d": NEAR_DATES,
    "t": NEAR_TIMES, "tags": NEAR_TEXTS, "size": NEAR_NUMBERS, "title": NEAR_TEXTS, "code": NEAR_TEXTS,
    "budget": NEAR_NUMBERS, "due": NEAR_DATES, "since": NEAR_TIMES, "score": NEAR_NUMBERS, "labels": NEAR_TEXTS,
}


def neighbours(lit: Any) -> list[Any]:
    """Data equal to ``lit`` in another form, or just beside it: where the value rules are exact or not."""
    out = [lit]
    if isinstance(lit, (int, float)) and not isinstance(lit, bool):
        out += [Decimal(repr(lit)) if isinstance(lit, float) else Decimal(lit), lit + 1, -lit]
        out += [float(lit)] if abs(lit) < 1e300 else []
        out += [int(lit)] if isinstance(lit, float) and lit.is_integer() else []
    elif isinstance(lit, dt.datetime):
        out += [lit.isoformat(), lit.date(), lit.replace(tzinfo=None), lit + dt.timedelta(microseconds=1),
                lit.astimezone(dt.timezone(dt.timedelta(hours=-5))).isoformat(), lit.isoformat() + "junk"]
    elif isinstance(lit, dt.date):
        out += [lit.isoformat(), dt.datetime(lit.year, lit.month, lit.day), lit + dt.timedelta(days=1),
                lit.isoformat() + "T00:00:00Z"]
    elif isinstance(lit, str):
        out += [lit.upper(), lit.lower(), simple_fold(lit), lit + "x", "x" + lit, lit[:-1]]
    return out


@st.composite
def typed_records_for(draw: st.DrawFn, expr: Expr) -> dict[str, Any]:
    """A person whose values are the filter's own literals, their hard neighbours, and junk."""
    literals: dict[str, list[Any]] = {}
    for c in expr.comparisons():
        name = c.target.path[-1] if isinstance(c.target, FieldRef) else c.target.name
        if (c.value is not None and not isinstance(c.value, bool)) or name == "b":
            literals.setdefault(name, []).append(c.value)

    def value(name: str) -> Any:
        roll = draw(st.integers(0, 9))
        if roll == 0:
            return draw(st.sampled_from(JUNK))
        if roll < 5 and literals.get(name):
            return draw(st.sampled_from(neighbours(draw(st.sampled_from(literals[name])))))
        return draw(st.sampled_from(NEAR[name]))

    def listy(name: str) -> Any:
        return [value(name) for _ in range(draw(st.integers(0, 3)))] if draw(st.booleans()) else value(name)

    def mapping(names: list[str]) -> dict[str, Any]:
        return {n: value(n) for n in names if draw(st.integers(0, 5))}

    def team() -> Any:
        return mapping(["size", "title"]) if draw(st.integers(0, 5)) else value("size")

    def project() -> Any:
        if not draw(st.integers(0, 5)):
            return draw(st.sampled_from(JUNK))
        out = mapping(["code", "budget", "due"])
        if draw(st.booleans()):
            out["lead"] = team()
        return out

    person = mapping(["s", "n", "x", "b", "d", "t"])
    person["tags"] = listy("tags")
    person["team"] = team()
    person["projects"] = [project() for _ in range(draw(st.integers(0, 3)))] if draw(st.integers(0, 5)) else None
    props = {"since": value("since"), "score": value("score"), "labels": listy("labels")}
    if draw(st.booleans()):
        person["custom_properties"] = props
    else:
        person["custom_properties"] = [{"property_name": k, "property_value": v} for k, v in props.items()]
    return person


# ==================================================================================================
# the toy gives predicate()'s answers
# ==================================================================================================
def agree(expr: Expr, recs: list[Any], **kw: Any) -> None:
    toy, real = toy_predicate(expr, **kw), predicate(expr, **kw)
    for rec in recs:
        assert toy(rec) is real(rec), (str(expr), rec)


@SETTINGS
@given(filters(st.one_of(comparisons(), shared_comparisons())), st.lists(records(), min_size=1, max_size=4))
def test_toy_equals_predicate_schemaless(expr: Expr, recs: list[Any]) -> None:
    agree(expr, recs)


@SETTINGS
@given(st.data(), filters(st.one_of(comparisons(), shared_comparisons())))
def test_toy_equals_predicate_on_targeted_records(data: st.DataObject, expr: Expr) -> None:
    agree(expr, [data.draw(records_for(expr)) for _ in range(3)])


@SETTINGS
@given(filters(export_comparisons()), st.lists(employees, min_size=1, max_size=4))
def test_toy_equals_predicate_export_schema(expr: Expr, recs: list[Any]) -> None:
    agree(expr, recs, schema=EXPORT, entity="employees")


@SETTINGS
@given(st.data(), filters(typed_comparisons()))
def test_toy_equals_predicate_typed_values(data: st.DataObject, expr: Expr) -> None:
    agree(expr, [data.draw(typed_records_for(expr)) for _ in range(4)], schema=TYPED, entity="people")


@pytest.mark.parametrize("text", [
    "x=1 and not x=1",  # folds to a constant
    "x__is_null=true or not x__is_null=true",
    "b=true and b__gt=1",
])
def test_toy_handles_constant_plans(text: str) -> None:
    plan = compile_plan(text)[0]
    recs: list[dict[str, Any]] = [{}, {"x": 1}, {"x": None}, {"b": True}]
    for rec in recs:
        assert toy_predicate(text)(rec) is predicate(text)(rec)
    assert Text().visit(plan)  # every node type renders


# ==================================================================================================
# what the plan tells a backend that stores records by schema
# ==================================================================================================
def test_plan_describes_schema_nodes() -> None:
    plan, _ = compile_plan("projects__lead__title='a' and tags__iexact='x' and cp_since__gte='2020-01-01'"
                           " and team__size=3 and cp_labels='y'", schema=TYPED, entity="people")
    exists = binders(plan)
    by_path = {n.path: n for n in exists.values()}
    assert set(by_path) == {("projects",), ("tags",), (CPKey("labels"),)}
    projects = by_path[("projects",)]
    assert projects.kind is ListKind.RELATION and projects.relation is not None
    assert (projects.relation.name, projects.relation.target, projects.expect_list) == ("projects", "projects", True)
    tags = by_path[("tags",)]
    assert tags.kind is ListKind.TEXT_LIST and tags.field is not None and tags.field.type == "list[text]"
    assert by_path[(CPKey("labels"),)].kind is ListKind.TEXT_LIST and by_path[(CPKey("labels"),)].field is None
    atoms = {n.path: n for n in walk(plan) if isinstance(n, PAtom)}
    lead = atoms[("projects", "lead", "title")]
    assert lead.var == projects.var and lead.keys == ("lead", "title")
    assert [r.name for r in lead.relations] == ["lead"] and lead.entity == "teams" and lead.field_type == "text"
    size = atoms[("team", "size")]
    assert size.var == ROOT and [r.name for r in size.relations] == ["team"] and size.field_type == "integer"
    since = atoms[(CPKey("since"),)]
    assert since.field is None and since.field_type == "datetime" and since.entity == "people"
    assert since.test.vtype == DATETIME and since.test.value.tzinfo is not None
    assert atoms[("tags",)].var == tags.var and atoms[("tags",)].keys == ()


def test_schemaless_plan_marks_maybe_lists() -> None:
    plan, _ = compile_plan("a__b=1 and cp_c='x'")
    kinds = {n.path: (n.kind, n.expect_list, n.relation, n.field) for n in binders(plan).values()}
    assert kinds == {
        ("a",): (ListKind.MAYBE, False, None, None),
        ("a", "b"): (ListKind.MAYBE, False, None, None),
        (CPKey("c"),): (ListKind.MAYBE, False, None, None),
    }
    assert all(n.field_type is None and n.field is None for n in walk(plan) if isinstance(n, PAtom))


@given(filters(st.one_of(comparisons(), shared_comparisons())))
@SETTINGS
def test_plan_variables_are_bound_once_and_in_scope(expr: Expr) -> None:
    """Every PExists binds a fresh variable; every variable read is "r" or bound by an enclosing PExists."""
    plan = compile_plan(expr)[0]
    seen: list[str] = []

    def check(node: PNode, scope: frozenset[str]) -> None:
        if isinstance(node, PAtom):
            assert node.var in scope
        elif isinstance(node, PExists):
            assert node.parent in scope and node.var not in scope and node.var not in seen
            seen.append(node.var)
            check(node.body, scope | {node.var})
        elif isinstance(node, (PAnd, POr)):
            assert len(node.items) >= 2
            for i in node.items:
                check(i, scope)
        elif isinstance(node, PNot):
            check(node.item, scope)
        else:
            assert node is plan  # constants are folded away below the root

    check(plan, frozenset({ROOT}))


def test_expression_builders_work_with_the_toy() -> None:
    expr = And.of(Comparison(FieldRef(("a",)), "exact", 1), Not(Or.of(Comparison(FieldRef(("b",)), "gt", 2),
                                                                       Comparison(FieldRef(("b",)), "lt", 0))))
    recs: list[dict[str, Any]] = [{"a": 1}, {"a": [1, 2], "b": 3}, {"a": 1, "b": [1, -1]}, {"a": 1, "b": []}]
    for rec in recs:
        assert toy_predicate(expr)(rec) is predicate(expr)(rec)
