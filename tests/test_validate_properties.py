"""Property tests: filters built valid from a schema validate clean; one mutation gives exactly one diagnostic.

Filters are generated as trees from the schema (fields reachable through relations, operators the field's
type takes, literals that convert), printed, and linted.  The mutations:

- an unknown field                                -> SF201 at that name;
- an operator the field's type does not take      -> SF210 at the operator;
- a literal that does not convert                 -> SF220 at the literal;
- one logical operator more than the cap          -> SF240 at the first keyword beyond the cap.

Expected positions come from the mutated text itself: from a separate keyword scanner (for SF240) and from
the parser's spans of the mutated comparison (for the others), never from the validator.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillfilter import parse, to_text
from skillfilter.language.ast import And, Comparison, CustomProperty, Expr, FieldRef, Not, Or
from skillfilter.semantics.schema import Entity, Schema
from skillfilter.semantics.trees import respan
from skillfilter.semantics.validate import check, validate

CUSTOM = Schema.from_dict(
    {
        "name": "custom",
        "operators": {"has": {"kind": "contains", "case_insensitive": True, "types": ["text", "list[text]"]}},
        "entities": {
            "people": {
                "fields": {
                    "name": "text",
                    "age": "integer",
                    "score": "number",
                    "member": "boolean",
                    "born": "date",
                    "seen": "datetime",
                    "tags": "list[text]",
                },
                "relations": {"team": {"entity": "teams"}, "pets": {"entity": "pets", "many": True}},
                "custom_properties": {
                    "strict": True,
                    "definitions": {"language": "text", "level": "number", "since": "datetime", "vip": "boolean"},
                },
            },
            "teams": {"fields": {"title": "text", "size": "integer"}, "relations": {"lead": {"entity": "people"}}},
            "pets": {"fields": {"kind": "text", "legs": "integer"}},
        },
    }
)
SCHEMAS = {"skillengine": Schema.builtin("skillengine"), "export": Schema.builtin("export"), "custom": CUSTOM}
CAP = 5
# Moderate for CI; raise it for a deeper local run: SKILLFILTER_PROPERTY_EXAMPLES=2000 pytest ...
MAX_EXAMPLES = int(os.environ.get("SKILLFILTER_PROPERTY_EXAMPLES", "150"))


@dataclass(frozen=True)
class Leaf:
    """Where a comparison points: its relations, field (or custom property) and type."""

    relations: tuple[str, ...]
    name: str
    type: str | None
    custom: bool = False


def leaves(schema: Schema, entity: str, depth: int = 2) -> list[Leaf]:
    out: list[Leaf] = []

    def walk(ent: Entity, rels: tuple[str, ...], d: int) -> None:
        for f in ent.fields.values():
            out.append(Leaf(rels, f.name, f.type))
        if d > 0:
            for r in ent.relations.values():
                walk(schema.entities[r.target], (*rels, r.name), d - 1)

    root = schema.entities[entity]
    walk(root, (), depth)
    cp = root.custom_properties
    if cp is not None:
        if cp.definitions:
            out.extend(Leaf((), n, t, custom=True) for n, t in cp.definitions.items())
        if not cp.strict:
            out.extend(Leaf((), n, None, custom=True) for n in ("language", "x1", "and", "not_or"))
    return out


HOSTILE = st.text(
    st.one_of(st.sampled_from(list("'\"\\%_ ()=\n\té€ßÉ")), st.characters(codec="utf-8")), max_size=12
) | st.sampled_from(["and", "or", "not", " and ", "true", "null", "%25", "a__b", "\\'"])

TEXT_VALUES = HOSTILE | st.integers(-(10**6), 10**6)
INTEGER_VALUES = st.integers(-(10**12), 10**12) | st.integers(-999, 999).map(str) | st.integers(-99, 99).map(float)
NUMBER_VALUES = (
    st.integers(-(10**9), 10**9)
    | st.floats(allow_nan=False, allow_infinity=False, width=64)
    | st.sampled_from(["1.5", "-2", "3e4", ".5"])
)
BOOL_VALUES = st.booleans() | st.sampled_from(["true", "false"])
DATE_VALUES = st.dates().map(dt.date.isoformat)
DATETIME_VALUES = (
    st.datetimes(timezones=st.none() | st.just(dt.timezone.utc) | st.just(dt.timezone(dt.timedelta(hours=-5))))
    .map(lambda d: d.isoformat())
    | DATE_VALUES
)
UNTYPED_VALUES = TEXT_VALUES | st.booleans() | NUMBER_VALUES

VALUES = {
    "text": TEXT_VALUES,
    "list[text]": TEXT_VALUES,
    "integer": INTEGER_VALUES,
    "number": NUMBER_VALUES,
    "boolean": BOOL_VALUES,
    "date": DATE_VALUES,
    "datetime": DATETIME_VALUES,
    None: UNTYPED_VALUES,
}
# A literal of the wrong type for each declared type (never converts).
BAD_VALUES = {
    "text": st.booleans() | st.sampled_from([1.5, -0.25]),
    "list[text]": st.booleans() | st.just(2.5),
    "integer": st.sampled_from(["five", "1.5", "", " 1", "0x10", 2.5]) | st.booleans(),
    "number": st.sampled_from(["x", "1,5", "nan", "inf", ""]) | st.booleans(),
    "boolean": st.sampled_from(["yes", "True", "0", 1, 0, 1.0]),
    "date": st.sampled_from(["2024-02-30", "2024-1-1", "today", "2024-01-01T00:00:00", 20240101]),
    "datetime": st.sampled_from(["yesterday", "2024-13-01T00:00", "2024-01-01T", 1700000000, True]),
}


def target_of(leaf: Leaf) -> FieldRef | CustomProperty:
    return CustomProperty(leaf.name) if leaf.custom else FieldRef((*leaf.relations, leaf.name))


@st.composite
def comparisons(draw: st.DrawFn, schema: Schema, entity: str) -> tuple[Comparison, Leaf]:
    leaf = draw(st.sampled_from(leaves(schema, entity)))
    ent_for_ops = schema.entities[entity]
    allowed = schema.allowed_operators(ent_for_ops, leaf.type)
    table = schema.operators_for(ent_for_ops)
    if leaf.type is None:
        # Untyped custom property: the literal's kind decides which operators fit (rule 7).
        untyped = draw(UNTYPED_VALUES)
        kind = "boolean" if isinstance(untyped, bool) else "text" if isinstance(untyped, str) else "number"
        allowed = [n for n in allowed if kind in table[n].kinds]
    op = draw(st.sampled_from(allowed))
    operator = table[op]
    if operator.kind == "is_null":
        value: object = draw(st.booleans())
    elif op == "exact" and draw(st.integers(0, 9)) == 0:
        value = None
    elif leaf.type is None:
        value = untyped
    else:
        value = draw(VALUES[leaf.type])
    return Comparison(target_of(leaf), op, value), leaf  # type: ignore[arg-type]


@st.composite
def filters(draw: st.DrawFn) -> tuple[str, str, Expr]:
    """(schema name, entity, expression) with at most CAP logical operators."""
    schema_name = draw(st.sampled_from(sorted(SCHEMAS)))
    schema = SCHEMAS[schema_name]
    entity = draw(st.sampled_from(sorted(schema.entities)))
    nots = [draw(st.integers(0, 2))]

    def build(n: int) -> Expr:
        if n == 1:
            node: Expr = draw(comparisons(schema, entity))[0]
        else:
            split = draw(st.integers(1, n - 1))
            kind = draw(st.sampled_from([And, Or]))
            node = kind.of(build(split), build(n - split))
        if nots[0] and draw(st.booleans()):
            nots[0] -= 1
            node = Not(node)
        return node

    expr = build(draw(st.integers(1, 4)))
    assert expr.logical_operator_count() <= CAP
    return schema_name, entity, expr


def comparisons_of(expr: Expr) -> list[Comparison]:
    return list(expr.comparisons())


def replace_nth(expr: Expr, n: int, new: Expr) -> Expr:
    """``expr`` with its ``n``-th comparison (pre-order) replaced by ``new``."""
    counter = [0]

    def go(node: Expr) -> Expr:
        if isinstance(node, Comparison):
            i = counter[0]
            counter[0] += 1
            return new if i == n else node
        if isinstance(node, (And, Or)):
            return type(node).of(*(go(op) for op in node.operands))
        if isinstance(node, Not):
            return Not(go(node.operand))
        raise TypeError(node)

    return go(expr)


def nth_parsed(text: str, n: int, schema: Schema, entity: str) -> Comparison:
    return comparisons_of(parse(text, operators=schema.operator_names(entity)))[n]


_TOKEN = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[A-Za-z0-9_.+-]+|[()=]", re.S)


def keyword_spans(text: str) -> list[tuple[int, int]]:
    """An independent scanner: the and/or/not keywords of ``text``, in order."""
    return [(m.start(), m.end()) for m in _TOKEN.finditer(text) if m.group() in ("and", "or", "not")]


SETTINGS = settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# --------------------------------------------------------------------------------------------------
@SETTINGS
@given(filters())
def test_generated_filters_are_valid(case: tuple[str, str, Expr]) -> None:
    schema_name, entity, expr = case
    schema = SCHEMAS[schema_name]
    text = to_text(expr)
    assert validate(text, entity, schema=schema) == []
    assert validate(expr, entity, schema=schema) == []
    assert len(keyword_spans(text)) == expr.logical_operator_count()
    checked = check(text, entity, schema=schema)
    assert checked == check(expr, entity, schema=schema)
    for c in checked.comparisons():
        res = schema.resolve(entity, c)
        if c.value is None or res.type is None:
            continue
        if res.operator.kind == "is_null":
            assert isinstance(c.value, bool)
            continue
        expected = {
            "text": str, "list[text]": str, "integer": int, "number": (int, float), "boolean": bool,
            "date": dt.date, "datetime": dt.datetime,
        }[res.type]
        assert isinstance(c.value, expected)  # type: ignore[arg-type]
        if res.type in ("integer", "number"):
            assert not isinstance(c.value, bool)
        if res.type == "date":
            assert not isinstance(c.value, dt.datetime)
        if res.type == "datetime":
            assert c.value.tzinfo is not None  # type: ignore[union-attr]


@SETTINGS
@given(filters(), st.data())
def test_unknown_field(case: tuple[str, str, Expr], data: st.DataObject) -> None:
    schema_name, entity, expr = case
    schema = SCHEMAS[schema_name]
    cmps = comparisons_of(expr)
    n = data.draw(st.integers(0, len(cmps) - 1))
    old = cmps[n]
    relations = old.target.relations if isinstance(old.target, FieldRef) else ()
    name = "zzq_" + old.target.path[-1].removeprefix("cp_")
    value = old.value
    if old.op != "exact" and value is None:  # pragma: no cover - the generator never makes these
        value = "x"
    mutated = replace_nth(expr, n, old.replace(target=FieldRef((*relations, name))))
    text = to_text(mutated)
    diags = validate(text, entity, schema=schema)
    assert [d.code for d in diags] == ["SF201"], (text, diags)
    target_span = nth_parsed(text, n, schema, entity).target_span
    assert target_span is not None
    start = target_span.start + text[target_span.start : target_span.end].index(name)
    assert (diags[0].start, diags[0].end) == (start, start + len(name))
    assert diags[0].hint
    assert validate(mutated, entity, schema=schema) == diags


@SETTINGS
@given(filters(), st.data())
def test_wrong_operator(case: tuple[str, str, Expr], data: st.DataObject) -> None:
    schema_name, entity, expr = case
    schema = SCHEMAS[schema_name]
    ent = schema.entities[entity]
    table = schema.operators_for(ent)
    cmps = comparisons_of(expr)

    def wrong_ops(leaf_type: str | None) -> list[str]:
        return sorted(set(table) - set(schema.allowed_operators(ent, leaf_type)))

    candidates = []
    for i, c in enumerate(cmps):
        res = schema.resolve(entity, c)
        if wrong_ops(res.type):
            candidates.append((i, c, res.type))
    if candidates:
        n, old, type_name = data.draw(st.sampled_from(candidates))
        target = old.target
    else:  # no comparison on a non-text type: replace one with a comparison on such a field
        typed = [leaf for leaf in leaves(schema, entity) if wrong_ops(leaf.type)]
        if not typed:
            return  # every reachable field is text: no operator is wrong here
        leaf = data.draw(st.sampled_from(typed))
        n = data.draw(st.integers(0, len(cmps) - 1))
        old, type_name, target = cmps[n], leaf.type, target_of(leaf)
    op = data.draw(st.sampled_from(wrong_ops(type_name)))
    value = data.draw(VALUES[type_name])
    mutated = replace_nth(expr, n, Comparison(target, op, value))  # type: ignore[arg-type]
    text = to_text(mutated)
    diags = validate(text, entity, schema=schema)
    assert [d.code for d in diags] == ["SF210"], (text, diags)
    target_span = nth_parsed(text, n, schema, entity).target_span
    assert target_span is not None
    assert (diags[0].start, diags[0].end) == (target_span.end - len(op), target_span.end)
    assert text[diags[0].start : diags[0].end] == op
    assert diags[0].hint is not None and diags[0].hint.startswith("allowed: ")


@SETTINGS
@given(filters(), st.data())
def test_bad_literal(case: tuple[str, str, Expr], data: st.DataObject) -> None:
    schema_name, entity, expr = case
    schema = SCHEMAS[schema_name]
    cmps = comparisons_of(expr)
    candidates = []
    for i, c in enumerate(cmps):
        res = schema.resolve(entity, c)
        if res.type is not None and res.operator.kind != "is_null":
            candidates.append((i, c, res.type))
    if candidates:
        n, old, type_name = data.draw(st.sampled_from(candidates))
        new = old
    else:  # only untyped custom properties and is_null tests: replace one with a typed comparison
        typed = [leaf for leaf in leaves(schema, entity) if leaf.type is not None]
        leaf = data.draw(st.sampled_from(typed))
        n = data.draw(st.integers(0, len(cmps) - 1))
        type_name = leaf.type
        new = Comparison(target_of(leaf), "exact", None)
    bad = data.draw(BAD_VALUES[type_name])
    mutated = replace_nth(expr, n, new.replace(value=bad))
    text = to_text(mutated)
    diags = validate(text, entity, schema=schema)
    assert [d.code for d in diags] == ["SF220"], (text, diags)
    value_span = nth_parsed(text, n, schema, entity).value_span
    assert value_span is not None
    assert (diags[0].start, diags[0].end) == (value_span.start, value_span.end)
    assert diags[0].hint


@SETTINGS
@given(filters(), st.data())
def test_one_operator_over_the_cap(case: tuple[str, str, Expr], data: st.DataObject) -> None:
    schema_name, entity, expr = case
    schema = SCHEMAS[schema_name]
    cap = expr.logical_operator_count()
    cmps = comparisons_of(expr)
    n = data.draw(st.integers(0, len(cmps) - 1))
    how = data.draw(st.sampled_from(["not", "and", "or", "wrap"]))
    if how == "wrap":
        mutated: Expr = Not(expr)
    elif how == "not":
        mutated = replace_nth(expr, n, Not(cmps[n]))
    else:
        extra, _ = data.draw(comparisons(schema, entity))
        joined = (And if how == "and" else Or)((cmps[n], extra))
        mutated = replace_nth(expr, n, joined)
    assert mutated.logical_operator_count() == cap + 1
    text = to_text(mutated)
    assert validate(text, entity, schema=schema, max_logical_operators=cap + 1) == []
    diags = validate(text, entity, schema=schema, max_logical_operators=cap)
    assert [d.code for d in diags] == ["SF240"], (text, diags)
    keywords = keyword_spans(text)
    assert len(keywords) == cap + 1
    assert (diags[0].start, diags[0].end) == keywords[cap]
    assert str(cap + 1) in diags[0].message and str(cap) in diags[0].message
    # the same on the tree itself (positions in its canonical text) and on the parsed tree
    assert validate(mutated, entity, schema=schema, max_logical_operators=cap) == diags
    parsed = parse(text, operators=schema.operator_names(entity))
    assert validate(parsed, entity, schema=schema, max_logical_operators=cap) == diags


@SETTINGS
@given(filters())
def test_canonical_spans_of_python_trees(case: tuple[str, str, Expr]) -> None:
    schema_name, entity, expr = case
    text, spanned = respan(expr)
    assert text == to_text(expr)
    reparsed = parse(text, operators=SCHEMAS[schema_name].operator_names(entity))
    assert spanned == reparsed
    assert [c.span for c in spanned.comparisons()] == [c.span for c in reparsed.comparisons()]
    assert [c.value_span for c in spanned.comparisons()] == [c.value_span for c in reparsed.comparisons()]
