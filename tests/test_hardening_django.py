"""Issue 8, item 13: ``to_q`` checks a filter against the schema the application exposes before it turns
paths into Django lookups; a filter that walks to a field or relation outside it is refused with the
diagnostics of ``validate``.  Accepting any path is the explicit ``unchecked=True``."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillfilter import parse, validate
from skillfilter.errors import FilterError, FilterSyntaxError, FilterValidationError
from skillfilter.semantics.schema import Schema

pytest.importorskip("django")

from skillfilter.integrations.django import to_q

#: What an application exposes: employees, their job's name, their skill clusters.  The models behind it
#: also have `password`, `job__salary`, `manager` (an employee) and `job__owner__password`.
EXPOSED = Schema.from_dict(
    {
        "name": "exposed",
        "entities": {
            "employees": {
                "fields": {"external_id": "text", "active": "boolean", "level": "integer"},
                "relations": {
                    "job": {"entity": "jobs"},
                    "skill_clusters": {"entity": "skill_clusters", "many": True},
                },
            },
            "jobs": {"fields": {"job_name": "text"}},
            "skill_clusters": {"fields": {"skill_cluster_name": "text", "proficiency_level": "integer"}},
        },
    }
)

LEAKS = [
    ("password='hunter2'", "SF201"),
    ("password__startswith='a'", "SF201"),
    ("job__salary__gte=100000", "SF201"),
    ("job__owner__password__startswith='$2b$'", "SF201"),
    ("manager__password='x'", "SF201"),
    ("external_id='1' and (job__salary__gt=0 or active=true)", "SF201"),
    ("not skill_clusters__employee__password='x'", "SF201"),
    ("external_id__user__password='x'", "SF202"),
    ("job__job_name__owner='x'", "SF202"),
]


def _q_text(q: Any) -> str:
    return str(q)


@pytest.mark.parametrize(("text", "code"), LEAKS)
def test_a_path_outside_the_schema_is_refused(text: str, code: str) -> None:
    with pytest.raises(FilterValidationError) as info:
        to_q(text, schema=EXPOSED, entity="employees")
    expected = validate(text, "employees", schema=EXPOSED)
    assert info.value.diagnostics == expected
    assert code in {d.code for d in info.value.diagnostics}
    # an expression, not only text, is checked too
    with pytest.raises(FilterValidationError):
        to_q(parse(text), schema=EXPOSED, entity="employees")


def test_default_is_the_builtin_skillengine_schema() -> None:
    with pytest.raises(FilterValidationError) as info:
        to_q("assigned_position__owner__password='x'", entity="employees")
    assert info.value.diagnostics == validate("assigned_position__owner__password='x'", "employees")
    with pytest.raises(FilterValidationError) as info:
        to_q("password='x'", entity="employees")
    assert [d.code for d in info.value.diagnostics] == ["SF201"]
    q = to_q("external_id='1' and active=true", entity="employees")
    assert "external_id__exact" in _q_text(q) and "active__exact" in _q_text(q)
    with pytest.raises(TypeError, match="entity="):  # five entities: which one must be said
        to_q("external_id='1'")
    with pytest.raises(FilterValidationError) as info:
        to_q("external_id='1'", entity="employes")
    assert [d.code for d in info.value.diagnostics] == ["SF200"]


def test_syntax_errors_and_the_operator_cap_are_those_of_validate() -> None:
    with pytest.raises(FilterSyntaxError):
        to_q("external_id=", schema=EXPOSED, entity="employees")
    six = " and ".join(["active=true"] * 7)
    with pytest.raises(FilterValidationError) as info:
        to_q(six, schema=EXPOSED, entity="employees")
    assert [d.code for d in info.value.diagnostics] == [d.code for d in validate(six, "employees", schema=EXPOSED)]
    assert to_q(six, schema=EXPOSED, entity="employees", max_logical_operators=None) is not None


def test_unchecked_is_the_explicit_opt_in() -> None:
    q = to_q("job__owner__password__startswith='a'", unchecked=True)
    assert "job__owner__password__startswith" in _q_text(q)
    checked = to_q("job__job_name='x' or level__gte=3", schema=EXPOSED, entity="employees")
    assert _q_text(checked) == _q_text(to_q("job__job_name='x' or level__gte=3", unchecked=True))


_name = st.sampled_from(["external_id", "active", "level", "job", "job_name", "skill_clusters", "password",
                         "owner", "salary", "skill_cluster_name", "proficiency_level", "manager", "id"])
_paths = st.lists(_name, min_size=1, max_size=4).map("__".join)


@settings(max_examples=300, deadline=None)
@given(path=_paths, value=st.sampled_from(["'x'", "1", "true", "null"]))
def test_to_q_accepts_exactly_what_validate_accepts(path: str, value: str) -> None:
    text = f"{path}={value}"
    diagnostics = validate(text, "employees", schema=EXPOSED)
    try:
        q = to_q(text, schema=EXPOSED, entity="employees")
    except FilterValidationError as exc:
        assert exc.diagnostics == diagnostics
        assert diagnostics
    except FilterError as exc:  # pragma: no cover - would be a wrong kind of error
        raise AssertionError(exc) from exc
    else:
        assert not diagnostics, (text, diagnostics)
        assert path in _q_text(q)
