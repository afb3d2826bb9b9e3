"""The export endpoint as documented: the schema and sample data hold only what its records hold, and
export_request() divides a filter between the request body and a local filter."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillfilter import FilterError, FilterValidationError, Schema, parse, predicate, to_text, validate
from skillfilter.authoring.export import INCLUDE, check_body, export_request

ROOT = Path(__file__).resolve().parents[1]
# A copy of the export endpoint's public documentation (shared/seeds/000_*.txt), kept with the tests.
SEED = ROOT / "tests" / "data" / "export_endpoint_doc.txt"


def test_export_schema_has_what_the_records_have() -> None:
    employees = Schema.builtin("export").entities["employees"]
    assert set(employees.fields) == {"external_id"} and set(employees.relations) == {"skill_clusters"}
    assert employees.custom_properties is None
    assert [d.code for d in validate("cp_language='de'", "employees", schema="export")] == ["SF230"]


def test_sample_records_hold_only_documented_keys() -> None:
    for path in (ROOT / "examples" / "sample_export.jsonl",):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            assert set(record) <= {"external_id", "skill_clusters"}


def test_body_for_server_side_conditions() -> None:
    request = export_request("active=true and last_updated__gt='2022-03-25' and "
                             "skill_clusters__current_skills__name='Python'", limit=10)
    assert request.body == {
        "limit": 10,
        "filters": [{"filter": "is_active", "is_active": True},
                    {"filter": "last_updated", "value": "2022-03-25", "operator": "gt"}],
        "include": ["current_skills"],
    }
    assert request.local is not None and to_text(request.local) == "skill_clusters__current_skills__name='Python'"


def test_only_server_side() -> None:
    request = export_request("active=false", starting_after="abc")
    assert request.body == {"limit": 100, "starting_after": "abc",
                            "filters": [{"filter": "is_active", "is_active": False}]}
    assert request.local is None


@pytest.mark.parametrize(("text", "code"), [
    ("active=true or skill_clusters__domain_name='Finance'", "SF501"),
    ("not last_updated__gt='2022-01-01'", "SF501"),
    ("last_updated__contains='2022'", "SF502"),
    ("last_updated__gt='yesterday'", "SF502"),
    ("active__is_null=true", "SF502"),
    ("cp_language='de'", "SF230"),
])
def test_refused_with_a_reason(text: str, code: str) -> None:
    with pytest.raises(FilterValidationError) as info:
        export_request(text)
    assert code in [d.code for d in info.value.diagnostics]


def test_include_decides_which_relations_a_local_filter_may_use() -> None:
    with pytest.raises(FilterValidationError) as info:
        export_request("skill_clusters__related_skills__name='Helm'", include=["current_skills"])
    [d] = info.value.diagnostics
    assert d.code == "SF503" and "related_skills" in d.message and d.start == 0
    ok = export_request("skill_clusters__related_skills__name='Helm'", include=["related_skills", "sources"])
    assert ok.body["include"] == ["sources", "related_skills"]  # in the documentation's order
    with pytest.raises(FilterError):
        export_request("skill_clusters__domain_name='x'", include=["bogus"])


def test_check_body() -> None:
    check_body({"limit": 10, "starting_after": "4cbdbabe", "filters": [{"filter": "is_active", "is_active": True}],
                "include": list(INCLUDE)})
    for bad in [{"limit": 0}, {"limit": 101}, {}, {"limit": 1, "starting_after": "x" * 101},
                {"limit": 1, "filters": [{"filter": "is_active", "is_active": "yes"}]},
                {"limit": 1, "filters": [{"filter": "last_updated", "value": "2022-01-01"}]},
                {"limit": 1, "include": ["skills"]}, {"limit": 1, "extra": 1}, []]:
        with pytest.raises(FilterError):
            check_body(bad)


def test_the_documented_example_body_is_valid() -> None:
    text = SEED.read_text(encoding="utf-8")
    start = text.index("--data '") + len("--data '")
    body = json.loads(text[start: text.index("'", start)])
    check_body(body)
    page_start = text.index('{\n  "has_next"')
    decoder = json.JSONDecoder()
    page, _ = decoder.raw_decode(text, page_start)
    test = predicate(parse("skill_clusters__current_skills__name='Git'"), schema="export", entity="employees")
    assert [test(r) for r in page["records"]] == [True, False]
    for record in page["records"]:
        assert set(record) <= {"external_id", "skill_clusters"}


NAMES = ["Python", "Git", "Helm"]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.booleans(), st.sampled_from(NAMES), st.lists(st.fixed_dictionaries({
    "active": st.booleans(),
    "external_id": st.sampled_from(["1", "2"]),
    "skill_clusters": st.lists(st.fixed_dictionaries({"current_skills": st.lists(
        st.fixed_dictionaries({"name": st.sampled_from(NAMES)}), max_size=2)}), max_size=2),
}), max_size=8))
def test_server_part_and_local_part_select_what_the_whole_filter_selects(
        active: bool, name: str, records: list[dict[str, Any]]) -> None:
    text = f"active={str(active).lower()} and skill_clusters__current_skills__name='{name}'"
    request = export_request(text)
    [server] = request.body["filters"]
    served = [r for r in records if r["active"] == server["is_active"]]  # what the endpoint returns
    assert request.local is not None
    local = predicate(request.local, schema="export", entity="employees")
    whole = predicate(text)
    assert [r for r in served if local(r)] == [r for r in records if whole(r)]


def test_cli() -> None:
    out = subprocess.run([sys.executable, "-m", "skillfilter", "export-request", "--limit", "5",
                          "active=true and skill_clusters__sources='learning'"],
                         capture_output=True, text=True, check=False, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {
        "body": {"limit": 5, "filters": [{"filter": "is_active", "is_active": True}], "include": ["sources"]},
        "local_filter": "skill_clusters__sources='learning'",
    }
    bad = subprocess.run([sys.executable, "-m", "skillfilter", "export-request", "active=true or active=false"],
                         capture_output=True, text=True, check=False, timeout=120)
    assert bad.returncode == 1 and "SF501" in bad.stderr and "Traceback" not in bad.stderr
