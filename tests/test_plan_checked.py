"""The planner plans a checked expression without checking it again (issue 9: no re-validation)."""

from __future__ import annotations

import pytest

import skillfilter as sf
from skillfilter.backends.python import plan_predicate, predicate
from skillfilter.plan.nodes import dump
from skillfilter.plan.planner import compile_plan
from skillfilter.semantics import validate

FILTERS = [
    "skill_clusters__proficiency_level__gte=3 and skill_clusters__current_skills__name__iexact='python'",
    "not skill_clusters__sources='cv' or external_id__startswith='1'",
    "skill_clusters__sources='cv' and not skill_clusters__current_skills__name__iexact='java'",
]
RECORDS = [
    {"external_id": "1", "custom_properties": {"language": "de"}},
    {"skill_clusters": [{"sources": ["cv"], "proficiency_level": 3,
                         "current_skills": [{"name": "PYTHON"}, {"name": "Java"}]}]},
    {"skill_clusters": [], "custom_properties": [{"property_name": "language", "property_value": "en"}]},
    {},
]


@pytest.fixture
def checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = validate.check

    def counting(expr: object, *args: object, **kw: object) -> object:
        calls.append(str(expr))
        return real(expr, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(validate, "check", counting)
    return calls


@pytest.mark.parametrize("text", FILTERS)
def test_a_checked_expression_is_planned_without_a_second_check(text: str, checks: list[str]) -> None:
    plan, tree = compile_plan(text, schema="export", entity="employees")
    assert len(checks) == 1
    again, same = compile_plan(tree, schema="export", entity="employees", checked=True)
    assert len(checks) == 1 and same is tree and dump(again) == dump(plan)


def test_checked_takes_an_expression_only() -> None:
    with pytest.raises(TypeError):
        compile_plan("a=1", schema="export", entity="employees", checked=True)


@pytest.mark.parametrize("text", ["external_id__startswith='1' or active=true", "not cp_language='de'",
                                  "organisational_unit__icontains='x%' and not active=false"])
def test_to_sql_with_a_cap_checks_once(text: str, checks: list[str]) -> None:
    capped = sf.to_sql(text, dialect="sqlite", max_logical_operators=5)
    assert len(checks) == 1
    assert capped == sf.to_sql(text, dialect="sqlite")


@pytest.mark.parametrize("text", FILTERS)
def test_plan_predicate_answers_as_predicate(text: str) -> None:
    plan, tree = compile_plan(text, schema="export", entity="employees")
    mine = plan_predicate(plan, tree)
    reference = predicate(text, schema="export", entity="employees")
    assert [mine(r) for r in RECORDS] == [reference(r) for r in RECORDS]
    assert mine.__doc__ == reference.__doc__
