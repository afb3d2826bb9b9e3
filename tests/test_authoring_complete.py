"""complete(): candidates at any cursor position, on incomplete and broken text."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillfilter import Completion, FilterError, Schema, complete, parse
from skillfilter.authoring.complete import KINDS

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EMP = {"entity": "employees"}
EXPORT = {"schema": "export", "entity": "employees"}


def labels(text: str, cursor: int | None = None, **kw: str) -> dict[str, Completion]:
    return {c.label: c for c in complete(text, cursor, **kw)}


def apply(text: str, c: Completion) -> str:
    return text[: c.start] + c.insert + text[c.end:]


def test_fields_of_the_entity_at_the_start() -> None:
    found = labels("", **EMP)
    entity = Schema.builtin().entities["employees"]
    assert set(entity.fields) <= set(found)
    assert found["external_id"].kind == "field" and found["not"].kind == "keyword"
    assert found["cp_"].kind == "custom_property"


def test_a_prefix_narrows_and_replaces_the_word() -> None:
    found = labels("ex", **EMP)
    assert list(found) == ["external_id"]
    assert apply("ex", found["external_id"]) == "external_id"
    # In the middle of a word: the whole word is replaced.
    c = labels("exter = '1'", 2, **EMP)["external_id"]
    assert (c.start, c.end) == (0, 5)


def test_relations_lead_to_their_entity() -> None:
    found = labels("skill_clusters__", **EXPORT)
    assert found["current_skills"].kind == "relation" and found["current_skills"].insert == "current_skills__"
    assert found["proficiency_level"].detail == "integer"
    found = labels("skill_clusters__current_skills__na", **EXPORT)
    assert list(found) == ["name"]
    assert apply("skill_clusters__current_skills__na", found["name"]) == "skill_clusters__current_skills__name"


def test_operators_the_type_takes() -> None:
    ops = labels("skill_clusters__proficiency_level__", **EXPORT)
    assert {"gt", "gte", "lt", "lte", "exact", "is_null"} <= set(ops)
    assert "contains" not in ops and "startswith" not in ops
    assert all(c.kind == "operator" for c in ops.values())
    assert apply("skill_clusters__proficiency_level__", ops["gte"]) == "skill_clusters__proficiency_level__gte="
    bool_ops = labels("active__", **EMP)
    assert set(bool_ops) == {"exact", "is_null"}
    after_field = labels("external_id", **EMP)
    assert after_field["__startswith"].insert == "__startswith=" and after_field["__startswith"].start == 11


def test_values() -> None:
    assert set(labels("active=", **EMP)) == {"true", "false"}
    assert set(labels("external_id__is_null=", **EMP)) == {"true", "false"}
    date = labels("last_updated__gt=", **EMP)
    assert "'2024-01-31T09:00:00Z'" in date and all(c.kind == "value" for c in date.values())
    assert "null" in labels("assigned_position=", **EMP)
    assert "null" not in labels("assigned_position__gt=", **EMP)


def test_keywords_after_a_comparison() -> None:
    assert set(labels("external_id='1' ", **EMP)) == {"and", "or"}
    assert set(labels("(external_id='1' ", **EMP)) == {"and", "or", ")"}
    assert set(labels("external_id='1' o", **EMP)) == {"or"}
    assert "external_id" in labels("external_id='1' and not ", **EMP)


def test_custom_properties_a_schema_defines() -> None:
    schema = Schema.builtin().extend({"entities": {"employees": {
        "merge": True, "custom_properties": {"definitions": {"language": "text", "level": "number"}}}}})
    found = labels("cp_l", schema=schema, entity="employees")
    assert {"cp_language", "cp_level"} <= set(found) and found["cp_level"].detail == "number"
    assert "gt" in labels("cp_level__", schema=schema, entity="employees")


def test_schemaless_completion_offers_operators_keywords_values() -> None:
    assert "startswith" in labels("a__st")
    assert {"and", "or"} == set(labels("a=1 "))
    assert {"true", "false", "null", "''"} <= set(labels("a="))


def test_completions_make_filters_that_parse() -> None:
    text = ""
    for pick in ["active", "__exact", "true", " ", "and", "external_id", "__startswith"]:
        if pick == " ":  # the user types a space after a value
            text += " "
            continue
        found = labels(text, **EMP)
        text = apply(text, found[pick])
    text += "'1'"
    assert parse(text) is not None


@SETTINGS
@given(st.text(alphabet="ab_()='\" \\notrue1.-", max_size=40), st.data())
def test_any_text_any_cursor(text: str, data: st.DataObject) -> None:
    cursor = data.draw(st.integers(0, len(text)))
    for kw in ({}, EMP, EXPORT):
        for c in complete(text, cursor, **kw):
            assert c.kind in KINDS
            assert 0 <= c.start <= c.end <= len(text)
            assert c.start <= cursor or c.start == c.end


@SETTINGS
@given(st.text(max_size=60), st.integers(-5, 70))
def test_never_raises_on_hostile_text(text: str, cursor: int) -> None:
    result = complete(text, cursor, **EMP)
    assert isinstance(result, list)


def test_bad_arguments() -> None:
    with pytest.raises(FilterError):
        complete(3, 0)  # type: ignore[arg-type]
    with pytest.raises(FilterError):
        complete("a", "0")  # type: ignore[arg-type]


def test_time_grows_linearly_with_the_text() -> None:
    import time

    def per_call(text: str) -> float:
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            for _ in range(50):
                complete(text, len(text), **EMP)
            best = min(best, time.perf_counter() - start)
        return best

    unit = "external_id__startswith='1' or "
    # Ten times the text: far from quadratic (about 100).  A busy machine only ever inflates a ratio, so it
    # is measured again, up to three times, while it is above the bound.
    ratio = float("inf")
    for _ in range(3):
        ratio = min(ratio, per_call(unit * 50 + "ex") / per_call(unit * 5 + "ex"))
        if ratio < 30:
            break
    assert ratio < 30
