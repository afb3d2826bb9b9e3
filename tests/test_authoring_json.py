"""The JSON form: round trips (through JSON text too), the shipped JSON Schema, and refusals."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillfilter import (
    And,
    Comparison,
    CustomProperty,
    Expr,
    FieldRef,
    FilterError,
    FilterSyntaxError,
    Not,
    Or,
    from_json,
    parse,
    to_json,
    to_text,
)
from skillfilter.authoring.jsonform import FilterJSONError, json_schema
from skillfilter.semantics.operators import BUILTIN_OPERATORS
from test_predicate_properties import HOSTILE

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NAMES = ["a", "b", "external_id", "job", "_x", "A1"]
literals = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(),  # any text: surrogates, NUL, newlines
    st.integers(),
    st.integers(min_value=2**53 - 3, max_value=2**53 + 3),
    st.integers(min_value=-(2**64), max_value=2**64),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1, 1.0, -0.0, 0.0, 0, True, False, 1e16, 2.5e-3, 10**40]),
)


@st.composite
def comparisons(draw: st.DrawFn) -> Comparison:
    op = draw(st.sampled_from(sorted(BUILTIN_OPERATORS)))
    if draw(st.integers(0, 4)) == 0:
        target: FieldRef | CustomProperty = CustomProperty(draw(st.sampled_from(["language", "x", "1"])))
    else:
        target = FieldRef(tuple(draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3))))
    if op == "is_null":
        value: Any = draw(st.booleans())
    elif op == "exact" and draw(st.integers(0, 5)) == 0:
        value = None
    else:
        value = draw(literals)
    return Comparison(target, op, value)


exprs = st.recursive(
    comparisons(),
    lambda sub: st.one_of(
        st.lists(sub, min_size=2, max_size=4).map(lambda xs: And.of(*xs)),
        st.lists(sub, min_size=2, max_size=4).map(lambda xs: Or.of(*xs)),
        sub.map(Not),
    ),
    max_leaves=12,
)


def _through_text(data: dict[str, Any]) -> dict[str, Any]:
    # ensure_ascii keeps lone surrogates representable; the text is then what any JSON library reads
    decoded: dict[str, Any] = json.loads(json.dumps(data))
    return decoded


@SETTINGS
@given(exprs)
def test_round_trip(expr: Expr) -> None:
    data = to_json(expr)
    assert data["version"] == 1
    back = from_json(_through_text(data))
    assert back == expr
    assert to_text(back) == to_text(expr)
    assert from_json(json.dumps(data)) == expr


@SETTINGS
@given(exprs)
def test_round_trip_through_text_keeps_spans(expr: Expr) -> None:
    text = to_text(expr)
    parsed = parse(text)
    data = to_json(parsed, spans=True)
    back = from_json(_through_text(data))
    assert back == parsed
    for a, b in zip(back.walk(), parsed.walk(), strict=True):
        assert getattr(a, "span", None) == getattr(b, "span", None)


def test_values_json_cannot_tell_apart_stay_apart() -> None:
    for text in ["a=1", "a=1.0", "a=true", "a=-0.0", "a=0.0", "a=9007199254740993", "a=null", "a='1'"]:
        expr = parse(text)
        back = from_json(json.loads(json.dumps(to_json(expr))))
        assert back == expr and to_text(back) == text
    big = to_json(parse("a=9007199254740993"))["filter"]["value"]
    assert big == {"type": "integer", "value": "9007199254740993"}  # beyond 2^53: a string
    assert to_json(parse("a=9007199254740991"))["filter"]["value"]["value"] == 9007199254740991


def test_deep_trees() -> None:
    expr: Expr = parse("a=1")
    for i in range(99):
        expr = Not(expr) if i % 2 else Or.of(expr, parse(f"b={i}"))
    assert from_json(to_json(expr)) == expr
    deep: Any = {"field": ["a"], "op": "exact", "value": {"type": "null"}}
    for _ in range(5000):
        deep = {"not": deep}
    with pytest.raises(FilterJSONError, match="deeper than"):
        from_json({"version": 1, "filter": deep})


@pytest.mark.parametrize(("node", "message"), [
    ({"field": ["a"], "op": "exact"}, "missing member `value`"),
    ({"field": ["a"], "op": "exact", "value": 1}, "a value is an object"),
    ({"field": ["a"], "op": "exact", "value": {"type": "text", "value": 1}}, "a text value is a string"),
    ({"field": ["a"], "op": "exact", "value": {"type": "integer", "value": "1.5"}}, "not a decimal integer"),
    ({"field": ["a"], "op": "exact", "value": {"type": "integer", "value": True}}, "JSON integer"),
    ({"field": ["a"], "op": "exact", "value": {"type": "float", "value": "0.1000000000000000000001"}},
     "not exactly"),
    ({"field": ["a"], "op": "exact", "value": {"type": "date", "value": "x"}}, "unknown value type"),
    ({"field": ["a"], "op": "is_null", "value": {"type": "text", "value": "x"}}, "true or false"),
    ({"field": ["a"], "op": "gt", "value": {"type": "null"}}, "null"),
    ({"field": ["a"], "op": "between", "value": {"type": "null"}}, "unknown operator"),
    ({"field": ["a", "gt"], "op": "exact", "value": {"type": "null"}}, "is an operator"),
    ({"field": ["cp_x"], "op": "exact", "value": {"type": "null"}}, "custom property `x`"),
    ({"field": ["and"], "op": "exact", "value": {"type": "null"}}, "keyword"),
    ({"field": ["a b"], "op": "exact", "value": {"type": "null"}}, "not a valid name"),
    ({"field": [], "op": "exact", "value": {"type": "null"}}, "non-empty array"),
    ({"custom_property": "", "op": "exact", "value": {"type": "null"}}, "non-empty"),
    ({"and": [{"field": ["a"], "op": "exact", "value": {"type": "null"}}]}, "two or more"),
    ({"or": "x"}, "two or more"),
    ({"not": {}}, "exactly one of"),
    ({"not": {"field": ["a"], "op": "exact", "value": {"type": "null"}}, "x": 1}, "unknown member `x`"),
    ({"field": ["a"], "op": "exact", "value": {"type": "null"}, "span": [3, 1]}, "span"),
    ([], "is an object"),
])
def test_malformed_nodes_are_refused_with_a_pointer(node: Any, message: str) -> None:
    with pytest.raises(FilterJSONError, match=message) as info:
        from_json({"version": 1, "filter": node})
    assert isinstance(info.value, FilterSyntaxError) and isinstance(info.value, FilterError)
    assert info.value.pointer.startswith("/filter")


@pytest.mark.parametrize("doc", [None, [], {"filter": {}}, {"version": 2, "filter": {}}, "not json", "[1"])
def test_malformed_documents(doc: Any) -> None:
    with pytest.raises(FilterJSONError):
        from_json(doc)


def test_to_json_refuses_what_no_filter_holds() -> None:
    with pytest.raises(FilterError):
        to_json(Comparison(FieldRef(("a",)), "exact", float("nan")))
    with pytest.raises(FilterError):
        to_json(Comparison(FieldRef(("a",)), "exact", 10**5000))
    with pytest.raises(FilterError):
        to_json("a=1")  # type: ignore[arg-type]


def test_the_shipped_schema_accepts_what_to_json_writes() -> None:
    schema = json_schema()
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(schema)
    for text in ["a=1 and (b__gt=1.5 or not cp_x=null)", "a__is_null=true", "a=99999999999999999999"]:
        validator.validate(to_json(parse(text), spans=True))
    assert not validator.is_valid({"version": 1, "filter": {"field": ["a"], "op": "exact", "value": 1}})


def test_the_schema_names_every_operator_and_value_type() -> None:
    schema = json_schema()
    assert set(schema["$defs"]["operator"]["enum"]) == set(BUILTIN_OPERATORS)
    types = {v["properties"]["type"]["const"] for v in schema["$defs"]["value"]["oneOf"]}
    assert types == {"text", "integer", "float", "boolean", "null"}
