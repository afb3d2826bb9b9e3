"""``predicate()``: each rule of LANGUAGE.md section 3 on small records, and the backend's own guarantees."""

from __future__ import annotations

import ast as pyast
import datetime as dt
import math
from types import MappingProxyType
from typing import Any

import pytest

from skillfilter import (
    And,
    Comparison,
    CustomProperty,
    FieldRef,
    FilterError,
    FilterSyntaxError,
    FilterValidationError,
    Not,
    Q,
    parse,
)
from skillfilter.backends.python import codegen as _pycodegen
from skillfilter.backends.python import compile_plan, predicate, predicate_source
from skillfilter.semantics.schema import Schema

EXPORT = Schema.builtin("export")


def matches(text: str, record: Any, **kw: Any) -> bool:
    """The answer of the generated code, checked against the interpreted plan."""
    result = predicate(text, **kw)(record)
    assert result is _pycodegen.interpret(compile_plan(text, **kw)[0])(record)
    return result


def emp(text: str, record: Any) -> bool:
    return matches(text, record, schema=EXPORT, entity="employees")


# The first record of the export reference (seeds/000), abridged.
SEED = {
    "external_id": "5cbdbdbe-5f44-4423-8157-520f8a2f429a",
    "skill_clusters": [
        {
            "skill_cluster_name": "DevOps",
            "proficiency_level": 3,
            "validation_state": "validated",
            "current_skills": [
                {"name": "Git", "validation_state": "suggested", "skill_sources": ["working_history", "resume_document"]},
                {"name": "Kubernetes", "validation_state": "validated", "skill_sources": ["resume_document"]},
            ],
            "sources": ["working_history", "education_history", "resume_document"],
        },
        {
            "skill_cluster_name": "Programming Languages",
            "proficiency_level": 2,
            "validation_state": "suggested",
            "current_skills": [
                {"name": "Python", "validation_state": "suggested", "skill_sources": ["working_history"]},
                {"name": "Java", "validation_state": "rejected", "skill_sources": ["working_history"]},
            ],
            "sources": ["working_history"],
        },
    ],
}


# --------------------------------------------------------------------------------------------------
# rule 1: paths
# --------------------------------------------------------------------------------------------------
class TestPaths:
    def test_nested_mappings(self) -> None:
        rec = {"job": {"job_family": {"external_id": "7"}}}
        assert matches("job__job_family__external_id='7'", rec)
        assert not matches("job__job_family__external_id='8'", rec)

    @pytest.mark.parametrize(
        "rec",
        [{}, {"job": None}, {"job": {}}, {"job": {"job_family": None}}, {"job": {"job_family": {}}},
         {"job": "text"}, {"job": 3}, {"job": {"job_family": 7}}],
    )
    def test_missing_or_null_or_not_a_mapping_on_the_way_is_null(self, rec: Any) -> None:
        assert matches("job__job_family__external_id__is_null=true", rec)
        assert matches("job__job_family__external_id=null", rec)
        assert not matches("job__job_family__external_id__is_null=false", rec)
        assert not matches("job__job_family__external_id='7'", rec)
        assert matches("not job__job_family__external_id='7'", rec)

    def test_to_one_relation_with_a_schema(self) -> None:
        kw = {"schema": "skillengine", "entity": "jobs"}
        assert matches("job_family__external_id='1'", {"job_family": {"external_id": "1"}}, **kw)
        assert matches("job_family__external_id__is_null=true", {"job_family": None}, **kw)
        # A to-one relation holding a list is the wrong type: its fields are null.
        assert matches("job_family__external_id__is_null=true", {"job_family": [{"external_id": "1"}]}, **kw)
        assert not matches("job_family__external_id='1'", {"job_family": [{"external_id": "1"}]}, **kw)

    def test_mapping_types_other_than_dict(self) -> None:
        rec = MappingProxyType({"a": MappingProxyType({"b": "x"}), "l": [MappingProxyType({"c": 1})]})
        assert matches("a__b='x'", rec)
        assert matches("l__c=1", rec)
        assert emp("skill_clusters__skill_cluster_name='A'",
                   MappingProxyType({"skill_clusters": [MappingProxyType({"skill_cluster_name": "A"})]}))


# --------------------------------------------------------------------------------------------------
# rule 2: null
# --------------------------------------------------------------------------------------------------
class TestNull:
    @pytest.mark.parametrize("rec", [{"name": None}, {}])
    def test_is_null(self, rec: Any) -> None:
        assert matches("name__is_null=true", rec)
        assert matches("name=null", rec)
        assert not matches("name__is_null=false", rec)
        assert matches("not name__is_null=false", rec)

    @pytest.mark.parametrize(
        "text",
        ["name='x'", "name__iexact='x'", "name__contains=''", "name__startswith=''", "name__endswith=''",
         "name__gt=''", "name__gte=''", "name__lt='z'", "name__lte='z'", "name=0", "name=false",
         "name__icontains=''", "name__gt=-1"],
    )
    @pytest.mark.parametrize("rec", [{"name": None}, {}])
    def test_every_other_comparison_with_null_is_false(self, text: str, rec: Any) -> None:
        assert not matches(text, rec)
        # Two-valued logic: its negation holds (Django's exclude).
        assert matches(f"not {text}", rec)

    def test_two_valued_and_or(self) -> None:
        rec = {"a": None, "b": 1}
        assert matches("a='x' or b=1", rec)
        assert not matches("a='x' and b=1", rec)
        assert matches("not a='x' and b=1", rec)
        assert matches("not (a='x' and b=1)", rec)

    def test_present_values(self) -> None:
        for value in ["", 0, False, [], {}, "null"]:
            assert matches("v__is_null=false", {"v": value}) is (value != [])
        # An empty list offers one null element (rule 3).
        assert matches("v__is_null=true", {"v": []})


# --------------------------------------------------------------------------------------------------
# rule 3: to-many scopes
# --------------------------------------------------------------------------------------------------
class TestToMany:
    def test_one_element_for_comparisons_through_the_same_prefix(self) -> None:
        text = "skill_clusters__skill_cluster_name='DevOps' and skill_clusters__proficiency_level__gte=3"
        assert emp(text, SEED)
        assert matches(text, SEED)
        # DevOps has level 3, but the level-3+ condition must hold in the DevOps cluster itself.
        rec = {"skill_clusters": [{"skill_cluster_name": "DevOps", "proficiency_level": 1},
                                  {"skill_cluster_name": "Data", "proficiency_level": 4}]}
        assert not emp(text, rec)
        assert not matches(text, rec)
        assert emp("skill_clusters__skill_cluster_name='DevOps' or skill_clusters__proficiency_level__gte=3", rec)

    def test_the_issue_example(self) -> None:
        text = ("skill_clusters__proficiency_level__gte=3 and skill_clusters__current_skills__name='Python' "
                "and skill_clusters__current_skills__validation_state='validated'")
        assert not emp(text, SEED)  # Python is in a cluster of level 2, and only suggested
        rec = {"skill_clusters": [
            {"proficiency_level": 3, "current_skills": [{"name": "Python", "validation_state": "suggested"},
                                                        {"name": "Java", "validation_state": "validated"}]},
            {"proficiency_level": 1, "current_skills": [{"name": "Python", "validation_state": "validated"}]},
        ]}
        assert not emp(text, rec)
        assert not matches(text, rec)
        rec["skill_clusters"][0]["current_skills"].append({"name": "Python", "validation_state": "validated"})
        assert emp(text, rec)
        assert matches(text, rec)

    def test_not_over_a_to_many_path_means_none_at_all(self) -> None:
        assert not emp("not skill_clusters__current_skills__name='Java'", SEED)
        assert emp("not skill_clusters__current_skills__name='Haskell'", SEED)
        assert emp("not skill_clusters__current_skills__name='Java'", {"skill_clusters": []})

    def test_not_shares_the_elements_chosen_outside_it(self) -> None:
        # Some cluster named DevOps whose level is not 2.
        text = "skill_clusters__skill_cluster_name='DevOps' and not skill_clusters__proficiency_level=2"
        assert emp(text, SEED)
        rec = {"skill_clusters": [{"skill_cluster_name": "DevOps", "proficiency_level": 2},
                                  {"skill_cluster_name": "Data", "proficiency_level": 3}]}
        assert not emp(text, rec)
        # ... in either operand order (Django's answer would depend on it).
        assert not emp("not skill_clusters__proficiency_level=2 and skill_clusters__skill_cluster_name='DevOps'", rec)

    def test_not_chooses_its_own_deeper_elements(self) -> None:
        # Some cluster of level 2 without any Java skill in it.
        text = "skill_clusters__proficiency_level=2 and not skill_clusters__current_skills__name='Java'"
        assert not emp(text, SEED)
        assert emp("skill_clusters__proficiency_level=3 and not skill_clusters__current_skills__name='Java'", SEED)

    def test_nested_not(self) -> None:
        # No cluster where (level is 3 and not every skill fails to be Git) -- i.e. no level-3 cluster with Git.
        text = "not (skill_clusters__proficiency_level=3 and not (not skill_clusters__current_skills__name='Git'))"
        assert not emp(text, SEED)
        assert emp(text.replace("'Git'", "'Python'"), SEED)

    def test_empty_list_offers_one_null_element(self) -> None:
        for rec in ({"skill_clusters": []}, {}, {"skill_clusters": None}):
            assert emp("skill_clusters__skill_cluster_name__is_null=true", rec)
            assert emp("skill_clusters__current_skills__name=null", rec)
            assert not emp("skill_clusters__skill_cluster_name__is_null=false", rec)
            assert emp("not skill_clusters__skill_cluster_name='x'", rec)
        rec = {"skill_clusters": [{"skill_cluster_name": "A", "current_skills": []}]}
        assert emp("skill_clusters__skill_cluster_name='A' and skill_clusters__current_skills__name__is_null=true", rec)
        assert not emp("skill_clusters__skill_cluster_name__is_null=true", rec)

    def test_separate_prefixes_are_independent(self) -> None:
        rec = {"skill_clusters": [{"current_skills": [{"name": "Git"}], "related_skills": [{"name": "Helm"}]}]}
        assert emp("skill_clusters__current_skills__name='Git' and skill_clusters__related_skills__name='Helm'", rec)

    def test_whole_filter_is_one_scope_so_de_morgan_needs_care(self) -> None:
        # `a and b` over one prefix asks for one element with both; `not a or not b` asks each on its own.
        rec = {"skill_clusters": [{"skill_cluster_name": "A", "proficiency_level": 1},
                                  {"skill_cluster_name": "B", "proficiency_level": 3}]}
        a, b = "skill_clusters__skill_cluster_name='A'", "skill_clusters__proficiency_level=3"
        assert emp(f"not ({a} and {b})", rec)
        assert not emp(f"not {a} or not {b}", rec)

    def test_a_single_mapping_where_a_list_is_expected_is_one_element(self) -> None:
        assert emp("skill_clusters__skill_cluster_name='A'", {"skill_clusters": {"skill_cluster_name": "A"}})
        assert emp("skill_clusters__skill_cluster_name__is_null=true", {"skill_clusters": ["junk", 3]})

    def test_schemaless_lists_anywhere(self) -> None:
        rec = {"a": [{"b": [{"c": 1}, {"c": 2}]}, {"b": {"c": 3}}]}
        assert matches("a__b__c=3", rec)
        assert matches("a__b__c=1 and a__b__c__lt=3", rec)
        assert not matches("a__b__c=1 and a__b__c=2", rec)
        assert matches("a__b__c=1 and not a__b__c=2", rec)
        assert not matches("not a__b__c=2", rec)
        # A list inside a list is not looked into.
        assert not matches("a=1", {"a": [[1]]})

    def test_no_cartesian_product(self) -> None:
        # Ten independent to-many conditions over ten lists of 40 elements: mini-scoping tests each list on
        # its own (40 * 10 steps), where naive enumeration would need 40**10.
        rec = {f"l{i}": [{"v": j} for j in range(40)] for i in range(10)}
        text = " and ".join(f"l{i}__v={39 - i}" for i in range(10))
        assert matches(text, rec)
        assert not matches(text + " and l0__v=40", rec)


# --------------------------------------------------------------------------------------------------
# rule 4: lists of scalars
# --------------------------------------------------------------------------------------------------
class TestScalarLists:
    def test_list_text_field_is_a_to_many_relation(self) -> None:
        cluster = {"sources": ["working_history", "learning"]}
        rec = {"skill_clusters": [cluster]}
        assert emp("skill_clusters__sources='learning'", rec)
        # Two comparisons on the same list in one scope refer to the same element.
        assert not emp("skill_clusters__sources='learning' and skill_clusters__sources='working_history'", rec)
        assert emp("skill_clusters__sources='learning' and not skill_clusters__sources='working_history'", rec)
        assert not emp("not skill_clusters__sources='learning'", rec)
        assert emp("skill_clusters__sources__is_null=true", {"skill_clusters": [{"sources": []}]})
        assert emp("skill_clusters__sources__startswith='work' and skill_clusters__sources__endswith='ory'", rec)

    def test_list_in_schemaless_data(self) -> None:
        rec = {"tags": ["x", "y"]}
        assert matches("tags='x'", rec)
        assert not matches("tags='x' and tags='y'", rec)
        assert matches("tags='x' or tags='z'", rec)
        assert matches("tags__is_null=true", {"tags": []})
        assert matches("not tags='x'", {"tags": []})

    def test_list_custom_property(self) -> None:
        schema = Schema.from_dict({"entities": {"e": {"fields": {"id": "text"},
                                                      "custom_properties": {"definitions": {"tags": "list[text]"}}}}})
        rec = {"custom_properties": [{"property_name": "tags", "property_value": ["red", "blue"]}]}
        assert matches("cp_tags='red'", rec, schema=schema, entity="e")
        assert not matches("cp_tags='red' and cp_tags='blue'", rec, schema=schema, entity="e")
        assert matches("cp_tags='red'", rec)

    def test_untyped_custom_property_may_hold_a_list(self) -> None:
        # The SkillEngine schema declares no custom properties: they are untyped, hence schemaless.
        kw = {"schema": "skillengine", "entity": "employees"}
        rec = {"custom_properties": {"tags": ["red", "blue"]}}
        assert matches("cp_tags='blue'", rec, **kw)
        assert not matches("cp_tags='red' and cp_tags='blue'", rec, **kw)
        assert matches("cp_tags__is_null=true", {"custom_properties": {"tags": []}}, **kw)


# --------------------------------------------------------------------------------------------------
# rule 5: case
# --------------------------------------------------------------------------------------------------
class TestCase:
    @pytest.mark.parametrize(
        ("value", "literal", "expected"),
        [("é", "É", True), ("Straße", "STRASSE", False), ("Straße", "straße", True), ("ß", "ß", True),
         ("ǆ", "ǅ", True), ("ﬁ", "FI", False), ("ı", "I", True), ("i", "İ", False), ("PYTHON", "python", True),
         ("Σ", "σ", True), ("ς", "Σ", True)],
    )
    def test_simple_case_mapping(self, value: str, literal: str, expected: bool) -> None:
        def fold(s: str) -> str:
            return "".join(c.upper() if len(c.upper()) == 1 else c for c in s)

        assert (fold(value) == fold(literal)) is expected  # the rule itself
        assert matches(f"name__iexact='{literal}'", {"name": value}) is expected

    def test_case_insensitive_string_operators(self) -> None:
        rec = {"name": "Kubernetes Ölçü"}
        assert matches("name__icontains='öLÇ'", rec)
        assert matches("name__istartswith='kUB'", rec)
        assert matches("name__iendswith='ÇÜ'", rec)
        assert not matches("name__contains='öLÇ'", rec)

    def test_case_sensitive_by_default(self) -> None:
        assert not matches("name='python'", {"name": "Python"})


# --------------------------------------------------------------------------------------------------
# rule 6: ordering
# --------------------------------------------------------------------------------------------------
class TestOrdering:
    def test_strings_by_code_point(self) -> None:
        assert matches("s__lt='a'", {"s": "Z"})
        assert matches("s__gt='z'", {"s": "é"})
        assert matches("s__gt='10'", {"s": "9"})
        assert matches("s__gte='abc'", {"s": "abc"})
        assert not matches("s__gt='abc'", {"s": "abc"})
        assert matches("s__lt='\U0001f600'", {"s": "\uffff"})

    def test_numbers_numerically(self) -> None:
        assert matches("n__gt=9", {"n": 10})
        assert matches("n__lt=2.5", {"n": 2})
        assert matches("n__gte=2", {"n": 2.0})
        assert matches("n__lte=-1e3", {"n": -1000})
        assert not matches("n__gt=9", {"n": "10"})
        assert matches("n__gt=9007199254740992", {"n": 9007199254740993})


# --------------------------------------------------------------------------------------------------
# rule 7: kinds and types
# --------------------------------------------------------------------------------------------------
class TestTypes:
    @pytest.mark.parametrize(
        ("text", "value", "expected"),
        [("v=1", 1, True), ("v=1", 1.0, True), ("v=1.0", 1, True), ("v=1", True, False), ("v=0", False, False),
         ("v=true", 1, False), ("v=false", 0, False), ("v=true", True, True), ("v='1'", 1, False),
         ("v=1", "1", False), ("v='true'", True, False), ("v__gt=0", True, False), ("v__gte=false", False, False),
         ("v__contains=1", 1, False), ("v__iexact=1", 1, False), ("v__contains='1'", "x1", True),
         ("v__startswith=1", "1", False), ("v=2", 2, True), ("v=2", True, False), ("v='x'", ["x"], True),
         ("v='x'", {"x": 1}, False), ("v__gt=1", [0, 2], True), ("v__iexact=true", True, False)],
    )
    def test_schemaless_same_kind_only(self, text: str, value: Any, expected: bool) -> None:
        assert matches(text, {"v": value}) is expected

    def test_schema_converts_literals_once(self) -> None:
        rec = {"skill_clusters": [{"proficiency_level": 3}]}
        assert emp("skill_clusters__proficiency_level='3'", rec)  # converted to the integer 3
        assert emp("skill_clusters__proficiency_level__gt=2.0", rec)
        assert emp("external_id=12", {"external_id": "12"})  # converted to the text '12'
        with pytest.raises(FilterValidationError) as info:
            predicate("skill_clusters__proficiency_level='three'", schema=EXPORT, entity="employees")
        assert [d.code for d in info.value.diagnostics] == ["SF220"]

    def test_schema_wrong_typed_values_do_not_match(self) -> None:
        for value in ["3", True, [3], {"v": 3}]:
            rec = {"skill_clusters": [{"proficiency_level": value}]}
            assert not emp("skill_clusters__proficiency_level=3", rec), value
            assert not emp("skill_clusters__proficiency_level__gte=0", rec), value
            assert not emp("skill_clusters__proficiency_level__is_null=true", rec), value
        assert not emp("external_id='1'", {"external_id": ["1"]})  # text, not a list: no match

    def test_booleans_take_only_exact_and_is_null(self) -> None:
        kw = {"schema": "skillengine", "entity": "employees"}
        assert matches("active=true", {"active": True}, **kw)
        assert not matches("active=true", {"active": 1}, **kw)
        assert matches("active__is_null=false", {"active": False}, **kw)
        with pytest.raises(FilterValidationError):
            predicate("active__gt=false", **kw)

    def test_string_operators_on_text_only(self) -> None:
        with pytest.raises(FilterValidationError):
            predicate("skill_clusters__proficiency_level__contains=3", schema=EXPORT, entity="employees")


# --------------------------------------------------------------------------------------------------
# rule 8: dates and datetimes
# --------------------------------------------------------------------------------------------------
DATED = Schema.from_dict({"entities": {"e": {
    "fields": {"at": "datetime", "day": "date", "n": "number"},
    "custom_properties": {"definitions": {"since": "datetime"}},
}}})


def dated(text: str, record: Any) -> bool:
    return matches(text, record, schema=DATED, entity="e")


class TestDates:
    def test_datetimes_compare_as_times(self) -> None:
        assert dated("at__lt='2024-01-01T00:00:00Z'", {"at": "2024-01-01T01:00:00+02:00"})
        assert dated("at='2024-01-01T00:00:00+00:00'", {"at": "2024-01-01T01:00:00+01:00"})
        assert dated("at__gt='2023-12-31T23:59:59Z'", {"at": "2024-01-01T00:00:00Z"})

    def test_naive_is_utc(self) -> None:
        assert dated("at='2024-01-01T10:00:00'", {"at": "2024-01-01T10:00:00Z"})
        assert dated("at='2024-01-01T10:00:00Z'", {"at": "2024-01-01T10:00:00"})
        assert dated("at='2024-01-01T10:00:00Z'", {"at": dt.datetime(2024, 1, 1, 10)})

    def test_date_literal_on_datetime_field_is_midnight_utc(self) -> None:
        assert dated("at='2024-01-01'", {"at": "2024-01-01T00:00:00Z"})
        assert not dated("at='2024-01-01'", {"at": "2024-01-01T00:00:01Z"})
        assert dated("at__gte='2024-01-01'", {"at": "2024-01-01T00:00:00-01:00"})
        assert not dated("at__gte='2024-01-01'", {"at": "2024-01-01T00:30:00+01:00"})
        assert dated("at='2024-01-01'", {"at": "2024-01-01"})  # a date in the data is its midnight too
        assert dated("at='2024-01-01'", {"at": dt.date(2024, 1, 1)})

    def test_date_field(self) -> None:
        assert dated("day='2024-02-29'", {"day": "2024-02-29"})
        assert dated("day__lt='2024-03-01'", {"day": "2024-02-29"})
        assert dated("day__gt='2024-02-28'", {"day": dt.date(2024, 2, 29)})
        assert not dated("day='2024-02-29'", {"day": "2024-02-29T00:00:00Z"})

    @pytest.mark.parametrize("value", ["yesterday", "2024-13-01", "2024-02-30", "", 20240101, True, ["x"],
                                       "2024-01-01T25:00:00Z", {"a": 1}])
    def test_unparsable_values_do_not_match(self, value: Any) -> None:
        for text in ("at='2024-01-01'", "at__gt='1900-01-01'", "at__lt='2999-01-01'", "day__gte='1900-01-01'",
                     "day='2024-01-01'"):
            assert not dated(text, {"at": value, "day": value})
        assert dated("at__is_null=false", {"at": value})

    def test_datetime_custom_property(self) -> None:
        rec = {"custom_properties": [{"property_name": "since", "property_value": "2020-05-01T12:00:00Z"}]}
        assert dated("cp_since__lt='2021-01-01'", rec)
        assert not dated("cp_since__lt='2020-01-01'", rec)


# --------------------------------------------------------------------------------------------------
# rule 9: custom properties
# --------------------------------------------------------------------------------------------------
class TestCustomProperties:
    @pytest.mark.parametrize(
        "props", [{"language": "de"}, [{"property_name": "language", "property_value": "de"}],
                  [{"property_name": "team", "property_value": "x"}, {"property_name": "language", "property_value": "de"}],
                  MappingProxyType({"language": "de"}), [MappingProxyType({"property_name": "language", "property_value": "de"})],
                  ["junk", {"property_name": "language", "property_value": "de"}]],
    )
    def test_both_shapes(self, props: Any) -> None:
        rec = {"custom_properties": props}
        assert matches("cp_language='de'", rec)
        assert matches("cp_language='de'", rec, schema="skillengine", entity="employees")
        assert not matches("not cp_language='de'", rec)
        assert not matches("cp_language__is_null=true", rec)

    @pytest.mark.parametrize(
        "props", [None, {}, [], {"team": "de"}, [{"property_name": "team", "property_value": "de"}],
                  "language", 3, [{"name": "language", "value": "de"}], [None, "x"], {"language": None}],
    )
    def test_missing_is_null(self, props: Any) -> None:
        rec = {"custom_properties": props}
        assert matches("cp_language__is_null=true", rec)
        assert matches("not cp_language='de'", rec)
        assert not matches("cp_language='de'", rec)
        assert matches("cp_language__is_null=true", {})

    def test_first_entry_of_a_name_counts(self) -> None:
        rec = {"custom_properties": [{"property_name": "language", "property_value": "de"},
                                     {"property_name": "language", "property_value": "en"}]}
        assert matches("cp_language='de'", rec)
        assert not matches("cp_language='en'", rec)

    def test_custom_property_values_of_every_kind(self) -> None:
        rec = {"custom_properties": {"n": 3, "b": True, "t": "x"}}
        assert matches("cp_n__gt=2 and cp_b=true and cp_t='x'", rec)
        assert not matches("cp_n='3'", rec)

    def test_typed_custom_property_with_a_schema(self) -> None:
        schema = Schema.from_dict({"entities": {"e": {"fields": {"id": "text"},
                                                      "custom_properties": {"definitions": {"level": "number"}}}}})
        assert matches("cp_level='2.5'", {"custom_properties": {"level": 2.5}}, schema=schema, entity="e")
        assert not matches("cp_level=2", {"custom_properties": {"level": [2]}}, schema=schema, entity="e")


# --------------------------------------------------------------------------------------------------
# the backend's guarantees
# --------------------------------------------------------------------------------------------------
class TestRobustness:
    @pytest.mark.parametrize("rec", [None, "text", 3, [], [{"a": 1}], ("a", 1), object(), b"a=1"])
    @pytest.mark.parametrize("text", ["a=1", "not a=1", "a__is_null=true", "not skill_clusters__name='x'"])
    def test_records_that_are_not_mappings_never_match(self, text: str, rec: Any) -> None:
        assert matches(text, rec) is False

    def test_hostile_values_never_raise(self) -> None:
        class Weird:
            def __eq__(self, other: object) -> bool:
                raise RuntimeError("boom")

            __hash__ = object.__hash__

        class BadMapping(dict):  # type: ignore[type-arg]
            def get(self, *args: Any) -> Any:
                raise RuntimeError("boom")

        text = ("a__b__c__gte=1 or a__b__c__icontains='x' or cp_x__startswith='y' or d__lt='z' or "
                "not e__f=true or g__is_null=false")
        test = predicate(text)
        for value in [None, 1, 1.5, math.nan, math.inf, True, "x", [], [[]], [None], {}, [{}], {"b": []},
                      {"b": [{"c": [None, "x", 2]}]}, (1, 2), b"x", object(), dt.date(2020, 1, 1)]:
            rec = {"a": value, "custom_properties": value, "d": value, "e": value, "g": value}
            assert test(rec) in (True, False)
        assert test({"a": [{"b": BadMapping()}]}) in (True, False)
        assert predicate("d__lt='z'")({"d": Weird()}) is False

    def test_answers_are_bool(self) -> None:
        for text in ["a=1", "a=1 or b='x'", "not a__icontains='x'", "a__b=1 and a__c=2", "cp_x='1'"]:
            test = predicate(text)
            assert test({"a": 1}) is True or test({"a": 1}) is False
            assert type(test({"a": [{"b": 1, "c": 2}], "b": "x"})) is bool

    def test_hostile_literals_stay_data(self) -> None:
        evil = "'); import os; os.system('echo pwned'); ('\\\n\"\"\""
        expr = Comparison(FieldRef(("name",)), "exact", evil)
        source = predicate_source(expr)
        tree = pyast.parse(source)
        assert not any(isinstance(n, (pyast.Import, pyast.ImportFrom)) for n in pyast.walk(tree))
        assert predicate(expr)({"name": evil}) is True
        assert predicate(expr)({"name": "x"}) is False
        # Keys never seen by the parser (a tree built in Python) are quoted too.
        odd = Comparison(FieldRef(("a'b", "c\nd")), "exact", 1)
        assert predicate(odd)({"a'b": {"c\nd": 1}}) is True

    def test_literals_that_are_not_plain_python_literals(self) -> None:
        big = 10**40
        assert predicate(Q(n=big))({"n": big}) is True
        assert predicate(Q(n__lt=big))({"n": big - 1}) is True
        assert predicate(Comparison(FieldRef(("n",)), "gt", -math.inf))({"n": 1}) is True
        assert predicate(Comparison(FieldRef(("n",)), "exact", math.nan))({"n": math.nan}) is False
        assert "10000000000000000000000000000000000000000" not in predicate_source(Q(n=big))

    def test_unknown_operator_without_schema(self) -> None:
        with pytest.raises(FilterError):
            predicate(Comparison(FieldRef(("a",)), "near", 1))
        with pytest.raises(FilterError):
            predicate(Comparison(FieldRef(("a",)), "is_null", "yes"))

    def test_malformed_trees_built_in_python(self) -> None:
        for target in (FieldRef(()), FieldRef(("a", "")), FieldRef(("a", 3)), CustomProperty("")):  # type: ignore[arg-type]
            with pytest.raises(FilterError):
                predicate(Comparison(target, "exact", 1))

    def test_arguments(self) -> None:
        with pytest.raises(FilterSyntaxError):
            predicate("a==1")
        with pytest.raises(TypeError):
            predicate("a=1", schema="export")
        with pytest.raises(TypeError):
            predicate(42)  # type: ignore[arg-type]
        with pytest.raises(FilterValidationError):
            predicate("externl_id='1'", entity="employees")  # schema=None: the built-in SkillEngine schema
        assert predicate("external_id='1'", entity="employees")({"external_id": "1"}) is True

    def test_expressions_and_text_agree(self) -> None:
        text = "external_id__startswith='1' or not cp_language='de'"
        built = Q(external_id__startswith="1") | ~Q(cp_language="de")
        for rec in [{"external_id": "1"}, {"custom_properties": {"language": "de"}}, {}]:
            assert predicate(text)(rec) is predicate(built)(rec)


class TestOperatorsByKind:
    SCHEMA = Schema.from_dict({
        "operators": {"prefix": {"kind": "startswith", "case_insensitive": True, "types": ["text"]},
                      "atleast": {"kind": "gte", "types": ["integer"]}},
        "entities": {"e": {"fields": {"name": "text", "level": "integer"}}},
    })

    def test_schema_added_operators_work_by_kind(self) -> None:
        kw = {"schema": self.SCHEMA, "entity": "e"}
        assert matches("name__prefix='PY'", {"name": "python"}, **kw)
        assert not matches("name__prefix='PY'", {"name": "jython"}, **kw)
        assert matches("level__atleast=3", {"level": 3}, **kw)
        assert not matches("level__atleast=3", {"level": 2}, **kw)


class TestCompilation:
    def test_generated_code_reads_like_hand_written(self) -> None:
        source = predicate_source("external_id__startswith='1'", schema="skillengine", entity="employees")
        assert "r.get('external_id')" in source and ".startswith('1')" in source
        assert "def _h" not in source  # no helper for a flat filter on a typed field

    def test_nested_filter_is_two_plain_loops(self) -> None:
        source = predicate_source(
            "skill_clusters__proficiency_level__gte=3 and skill_clusters__current_skills__name='Python'",
            schema=EXPORT, entity="employees")
        assert source.count("for ") == 2
        assert "def _h" not in source

    def test_deep_trees_still_compile(self) -> None:
        expr = parse("a=1")
        for i in range(66):  # depth 100: the deepest tree that can be built (skillfilter.language.ast.MAX_DEPTH)
            expr = Not(And.of(expr, Comparison(FieldRef(("b", "c")), "gte", i))) if i % 2 else expr | Q(d=i)
        assert expr.depth == 100
        source = predicate_source(expr)
        assert not source.startswith("# interpreted")
        test = predicate(expr)
        for rec in [{"a": 1}, {"d": 64}, {"b": [{"c": 500}]}, {}]:
            assert test(rec) is _pycodegen.interpret(compile_plan(expr)[0])(rec)

    def test_long_paths(self) -> None:
        path = ("a",) * 40
        rec: Any = "x"
        for _ in range(40):
            rec = {"a": [rec, {"a": None}]}
        assert predicate(Comparison(FieldRef(path), "exact", "x"))(rec) is True
        assert predicate(Comparison(FieldRef(path), "exact", "y"))(rec) is False

    def test_description(self) -> None:
        test = predicate("a=1")
        assert test.__doc__ == "skillfilter predicate: a=1"

    def test_custom_property_target(self) -> None:
        assert predicate(Comparison(CustomProperty("x"), "iexact", "Ab"))({"custom_properties": {"x": "aB"}})


def test_str_subclass_names_cannot_inject_code() -> None:
    # A name's own __repr__ never reaches the generated source: str's repr does.
    class Evil(str):
        def __repr__(self) -> str:
            return "__import__('os').system('echo PWNED')"

    from skillfilter.backends.python import predicate_source

    cases = [
        (Comparison(FieldRef((Evil("a"),)), "exact", "x"), {"a": "x"}),
        (Comparison(FieldRef((Evil("a"), Evil("b"))), "exact", "x"), {"a": {"b": "x"}}),
        (Comparison(CustomProperty(Evil("c")), "exact", "x"), {"custom_properties": {"c": "x"}}),
    ]
    for expr, record in cases:
        assert "__import__" not in predicate_source(expr)
        assert predicate(expr)(record) is True
        assert predicate(expr)({}) is False
