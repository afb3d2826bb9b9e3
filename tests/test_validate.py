"""validate() and check(): every diagnostic code with its span and hint; conversion; schema-added operators."""

from __future__ import annotations

import datetime as dt

import pytest

from skillfilter import FilterSyntaxError, FilterValidationError, Q, parse, to_text
from skillfilter.language.ast import And, Comparison, CustomProperty, FieldRef, Not, Or
from skillfilter.semantics.schema import Schema
from skillfilter.semantics.trees import respan
from skillfilter.semantics.validate import check, validate

EXPORT = Schema.builtin("export")
SE = Schema.builtin("skillengine")

CUSTOM = Schema.from_dict(
    {
        "name": "custom",
        "operators": {
            "has": {"kind": "contains", "case_insensitive": True, "types": ["text", "list[text]"]},
            "missing": {"kind": "is_null"},
            "eq": {"kind": "exact"},
            "after": {"kind": "gt", "types": ["date", "datetime"]},
        },
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
                    "code": {"type": "text", "operators": ["exact", "is_null"]},
                },
                "relations": {"team": {"entity": "teams"}},
                "custom_properties": {
                    "strict": True,
                    "definitions": {"language": "text", "level": "number", "since": "datetime"},
                },
            },
            "teams": {"fields": {"title": "text", "size": "integer"}, "type_operators": {"integer": ["exact"]}},
        },
    }
)


def one(text: str, entity: str = "employees", **kw: object) -> object:
    diags = validate(text, entity, **kw)  # type: ignore[arg-type]
    assert len(diags) == 1, diags
    return diags[0]


def span_of(text: str, part: str, occurrence: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(part, start + 1)
    return start, start + len(part)


# --------------------------------------------------------------------------------------------------
# valid filters
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "entity", "schema"),
    [
        ("external_id='1'", "employees", SE),
        ("(external_id__startswith='1' or external_id__startswith='2')", "employees", SE),
        ("cp_language='de'", "employees", SE),
        ("job_family__external_id='1'", "jobs", SE),
        ("active=true and last_updated__gte='2024-01-01'", "vacancies", SE),
        ("active__is_null=false and not assigned_position=null", "employees", SE),
        ("skill_clusters__proficiency_level__gte='3'", "employees", EXPORT),
        ("skill_clusters__current_skills__skill_sources__icontains='resume'", "employees", EXPORT),
    ],
)
def test_valid_filters(text: str, entity: str, schema: Schema) -> None:
    assert validate(text, entity, schema=schema) == []
    assert validate(parse(text), entity, schema=schema) == []


def test_default_schema_is_skillengine() -> None:
    assert validate("job_family__external_id='1'", "jobs") == []
    assert validate("job_family__external_id='1'", "jobs", schema="skillengine") == []
    assert [d.code for d in validate("skill_clusters__domain_name='x'", "employees")] == ["SF201"]
    assert validate("skill_clusters__domain_name='x'", "employees", schema="export") == []


# --------------------------------------------------------------------------------------------------
# one test per code: code, span, hint
# --------------------------------------------------------------------------------------------------
def test_sf100_syntax_error_is_one_diagnostic() -> None:
    text = "external_id='1' AND active=true"
    d = one(text)
    assert d.code == "SF100"
    assert (d.start, d.end) == span_of(text, "AND")
    assert d.hint is not None and "lowercase" in d.hint
    assert d.severity == "error"


def test_sf100_span_stays_inside_the_text() -> None:
    for text in ["external_id=", "external_id", " ", "external_id='1"]:
        d = one(text)
        assert d.code == "SF100"
        assert 0 <= d.start <= d.end <= len(text)


def test_sf100_matches_the_parser_position() -> None:
    text = "external_id='1' && active=true"
    with pytest.raises(FilterSyntaxError) as info:
        parse(text)
    d = one(text)
    assert (d.code, d.start) == ("SF100", info.value.position)
    assert d.hint == info.value.hint


def test_sf200_unknown_entity_stops() -> None:
    d = one("externl_id='1' and nonsense=1", "employes")
    assert d.code == "SF200"
    assert (d.start, d.end) == (0, 0)
    assert "employes" in d.message
    assert d.hint is not None and "did you mean `employees`?" in d.hint
    for name in SE.entities:
        assert f"`{name}`" in d.hint


def test_sf200_comes_before_syntax() -> None:
    assert [d.code for d in validate("((", "nope")] == ["SF200"]


def test_sf201_unknown_field_with_did_you_mean_and_allowed_names() -> None:
    text = "externl_id='1'"
    d = one(text)
    assert d.code == "SF201"
    assert (d.start, d.end) == span_of(text, "externl_id")
    assert d.hint is not None and d.hint.startswith("did you mean `external_id`?")
    for name in SE.entities["employees"].fields:
        assert f"`{name}`" in d.hint


def test_sf201_unknown_relation_and_nested_field() -> None:
    text = "active=true and job_famly__external_id='1' and job_family__externl_id='2'"
    diags = validate(text, "jobs")
    assert [d.code for d in diags] == ["SF201", "SF201"]
    assert (diags[0].start, diags[0].end) == span_of(text, "job_famly")
    assert diags[0].hint is not None and "`job_family`" in diags[0].hint
    assert (diags[1].start, diags[1].end) == span_of(text, "externl_id")
    assert diags[1].hint is not None and "did you mean `external_id`?" in diags[1].hint
    assert "`job_families` has:" in diags[1].hint


def test_sf201_without_a_close_name_lists_the_names() -> None:
    d = one("zzz='1'")
    assert d.hint is not None and not d.hint.startswith("did you mean")
    assert "`external_id`" in d.hint


def test_sf202_path_through_a_plain_field() -> None:
    text = "external_id__foo__bar__icontains='x'"
    d = one(text)
    assert d.code == "SF202"
    assert (d.start, d.end) == span_of(text, "__foo__bar")
    assert d.hint is not None and "`foo` is not an operator" in d.hint


def test_sf202_explicit_exact_after_an_operator() -> None:
    text = "external_id__contains__exact='x'"
    d = one(text)
    assert d.code == "SF202"
    assert (d.start, d.end) == span_of(text, "__contains")
    assert d.hint is not None and "`external_id__contains=...`" in d.hint


def test_sf203_path_ends_on_a_relation() -> None:
    text = "job_family='1'"
    d = one(text, "jobs")
    assert d.code == "SF203"
    assert (d.start, d.end) == span_of(text, "job_family")
    assert d.hint is not None and "job_family__external_id" in d.hint


def test_sf203_nested_relation() -> None:
    text = "skill_clusters__current_skills__startswith='x'"
    d = one(text, schema=EXPORT)
    assert d.code == "SF203"
    assert (d.start, d.end) == span_of(text, "current_skills")


@pytest.mark.parametrize(
    ("text", "op", "allowed"),
    [
        ("active__contains='x'", "contains", ["exact", "is_null"]),
        ("active__gt=true", "gt", ["exact", "is_null"]),
        ("last_updated__icontains='2024'", "icontains", ["exact", "gt", "gte", "is_null", "lt", "lte"]),
    ],
)
def test_sf210_operator_does_not_fit_the_type(text: str, op: str, allowed: list[str]) -> None:
    d = one(text)
    assert d.code == "SF210"
    assert (d.start, d.end) == span_of(text, op)
    assert d.hint == "allowed: " + ", ".join(f"`{a}`" for a in allowed)


def test_sf210_on_a_narrowed_field_and_type() -> None:
    text = "code__startswith='x' and team__size__gt=3"
    diags = validate(text, "people", schema=CUSTOM)
    assert [d.code for d in diags] == ["SF210", "SF210"]
    assert (diags[0].start, diags[0].end) == span_of(text, "startswith")
    assert diags[0].hint == "allowed: `exact`, `is_null`"
    assert (diags[1].start, diags[1].end) == span_of(text, "gt")
    assert diags[1].hint == "allowed: `exact`"


def test_sf211_is_null_without_a_boolean_text() -> None:
    text = "active__is_null='yes'"
    d = one(text)
    assert d.code == "SF211"
    assert (d.start, d.end) == span_of(text, "'yes'")
    assert d.hint is not None and "active__is_null=true" in d.hint


def test_sf211_tree_built_in_python() -> None:
    expr = Comparison(FieldRef(("active",)), "is_null", "yes") & Q(external_id="1")
    text = respan(expr)[0]  # the printer refuses this tree; positions refer to this text
    assert text == "active__is_null='yes' and external_id='1'"
    d = validate(expr, "employees")
    assert [x.code for x in d] == ["SF211"]
    assert (d[0].start, d[0].end) == span_of(text, "'yes'")
    assert d[0].hint is not None and "active__is_null=false" in d[0].hint


def test_sf211_schema_added_is_null_operator() -> None:
    text = "name__missing='x'"
    d = one(text, "people", schema=CUSTOM)
    assert d.code == "SF211"
    assert (d.start, d.end) == span_of(text, "'x'")
    assert d.hint is not None and "name__missing=true" in d.hint


def test_sf212_null_with_another_operator_text() -> None:
    text = "external_id__startswith=null"
    d = one(text)
    assert d.code == "SF212"
    assert (d.start, d.end) == span_of(text, "null")
    assert d.hint is not None and "external_id__is_null=true" in d.hint


def test_sf212_tree_built_in_python() -> None:
    expr = ~Comparison(FieldRef(("job_family", "external_id")), "icontains", None)
    text = respan(expr)[0]
    assert text == "not job_family__external_id__icontains=null"
    d = validate(expr, "jobs")
    assert [x.code for x in d] == ["SF212"]
    assert (d[0].start, d[0].end) == span_of(text, "null")
    assert d[0].hint is not None and "job_family__external_id__is_null=true" in d[0].hint


@pytest.mark.parametrize(
    ("text", "entity", "schema", "bad", "hint_part"),
    [
        ("active='x'", "employees", SE, "'x'", "`true` or `false`"),
        ("last_updated__gt='yesterday'", "employees", SE, "'yesterday'", "ISO 8601"),
        ("skill_clusters__proficiency_level='five'", "employees", EXPORT, "'five'", "whole number"),
        ("skill_clusters__proficiency_level=2.5", "employees", EXPORT, "2.5", "whole number"),
        ("external_id=true", "employees", SE, "true", "quote it"),
        ("born='2024-02-30'", "people", CUSTOM, "'2024-02-30'", "ISO 8601 date"),
        ("score='1,5'", "people", CUSTOM, "'1,5'", "number"),
        ("cp_level='high'", "people", CUSTOM, "'high'", "number"),
    ],
)
def test_sf220_literal_does_not_convert(
    text: str, entity: str, schema: Schema, bad: str, hint_part: str
) -> None:
    d = one(text, entity, schema=schema)
    assert d.code == "SF220"
    assert (d.start, d.end) == span_of(text, bad, text.count(bad) - 1)
    assert d.hint is not None and hint_part in d.hint


def test_sf230_custom_property_on_an_entity_without_them() -> None:
    text = "active=true and cp_language='de'"
    d = one(text, "jobs")
    assert d.code == "SF230"
    assert (d.start, d.end) == span_of(text, "cp_language")
    assert d.hint is not None and "`employees`" in d.hint and "`jobs`" not in d.hint


def test_sf231_custom_property_not_defined() -> None:
    text = "cp_langauge__icontains='de'"
    d = one(text, "people", schema=CUSTOM)
    assert d.code == "SF231"
    assert (d.start, d.end) == span_of(text, "cp_langauge")
    assert d.hint is not None and "did you mean `cp_language`?" in d.hint


def test_sf240_points_at_the_first_keyword_beyond_the_cap() -> None:
    text = "external_id='1' or external_id='2' or external_id='3' or not (active=true and external_id='4') or external_id='5' and active=false"
    d = one(text)
    assert d.code == "SF240"
    assert "7" in d.message and "5" in d.message
    # keywords in text order: or or or not and or and -> the sixth is the second-to-last `or`
    assert (d.start, d.end) == span_of(text, "or", 3)
    assert d.hint is not None and "remove 2" in d.hint


def test_sf240_parenthesised_not_points_at_the_keyword() -> None:
    text = "( (  not active=true)) and external_id='1'"
    d = one(text, max_logical_operators=0)
    assert d.code == "SF240"
    assert (d.start, d.end) == span_of(text, "not")
    d2 = validate(parse(text), "employees", max_logical_operators=1)
    assert [x.code for x in d2] == ["SF240"]
    assert (d2[0].start, d2[0].end) == span_of(text, "and")


def test_sf240_cap_is_configurable_and_can_be_off() -> None:
    text = " and ".join(f"external_id='{i}'" for i in range(20))
    assert validate(text, "employees", max_logical_operators=None) == []
    assert validate(text, "employees", max_logical_operators=19) == []
    d = validate(text, "employees", max_logical_operators=18)
    assert [x.code for x in d] == ["SF240"]
    assert (d[0].start, d[0].end) == span_of(text, "and", 18)
    with pytest.raises(ValueError):
        validate(text, "employees", max_logical_operators=-1)


def test_sf240_tree_built_in_python_points_into_canonical_text() -> None:
    expr = Q(external_id="1") | ~(Q(active=True) & ~Q(external_id="2"))
    text = to_text(expr)
    d = validate(expr, "employees", max_logical_operators=2)
    assert [x.code for x in d] == ["SF240"]
    # keywords in text order: or, not, and, not -> the third is `and`
    assert (d[0].start, d[0].end) == span_of(text, "and")


def test_every_problem_at_once_sorted() -> None:
    text = "active='x' or externl_id='1' or cp_x=1 and job_family='1' or active__gt=true or a=1 or b=2"
    diags = validate(text, "employees")
    assert [d.code for d in diags] == ["SF220", "SF201", "SF201", "SF210", "SF201", "SF240", "SF201"]
    start, end = span_of(text, " or ", 4)  # the fifth ` or ` is the sixth keyword
    assert (diags[5].start, diags[5].end) == (start + 1, end - 1)
    assert [d.start for d in diags] == sorted(d.start for d in diags)
    assert all(d.entity == "employees" for d in diags)


# --------------------------------------------------------------------------------------------------
# check(): conversion and operator resolution
# --------------------------------------------------------------------------------------------------
def test_check_converts_literals() -> None:
    text = (
        "skill_clusters__proficiency_level__gte='3' and external_id=12"
        " and skill_clusters__sources__contains='resume'"
    )
    out = check(text, "employees", schema=EXPORT)
    values = [c.value for c in out.comparisons()]
    assert values == [3, "12", "resume"]
    assert [type(v) for v in values] == [int, str, str]
    # spans are kept
    original = parse(text)
    assert [c.span for c in out.comparisons()] == [c.span for c in original.comparisons()]
    assert out.span == original.span
    assert isinstance(out, And) and out.keyword_spans == original.keyword_spans  # type: ignore[union-attr]


def test_check_converts_dates_and_datetimes() -> None:
    out = check("born__lt='2000-01-01' and seen__gte='2024-05-01T10:00:00+02:00' and cp_since='2024-01-01'",
                "people", schema=CUSTOM)
    values = [c.value for c in out.comparisons()]
    assert values[0] == dt.date(2000, 1, 1)
    assert values[1] == dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.timezone.utc)
    assert values[1].tzinfo is not None  # type: ignore[union-attr]
    assert values[2] == dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)


def test_check_returns_the_same_tree_when_nothing_changes() -> None:
    expr = parse("external_id='1' or not active=true")
    assert check(expr, "employees") is expr


def test_check_resolves_schema_added_operators() -> None:
    # Parsed with the entity's operator names (text input) ...
    out = check("name__has='x' and cp_language__has='d' and tags__has='a'", "people", schema=CUSTOM)
    assert [(c.target, c.op) for c in out.comparisons()] == [
        (FieldRef(("name",)), "has"),
        (CustomProperty("language"), "has"),
        (FieldRef(("tags",)), "has"),
    ]
    # ... or with the built-in names only: the last segment becomes the operator.
    parsed = parse("team__title__has='x' or born__after='2000-01-01'")
    assert [c.target for c in parsed.comparisons()] == [FieldRef(("team", "title", "has")),
                                                        FieldRef(("born", "after"))]
    out2 = check(parsed, "people", schema=CUSTOM)
    assert [(c.target, c.op) for c in out2.comparisons()] == [
        (FieldRef(("team", "title")), "has"),
        (FieldRef(("born",)), "after"),
    ]
    assert [c.value for c in out2.comparisons()] == ["x", dt.date(2000, 1, 1)]
    assert [c.span for c in out2.comparisons()] == [c.span for c in parsed.comparisons()]


def test_null_goes_only_with_exact_even_for_an_exact_alias() -> None:
    # LANGUAGE.md: `null` is allowed only with `exact` (the parser refuses `name__eq=null` too).
    assert [d.code for d in validate(Comparison(FieldRef(("name",)), "eq", None), "people", schema=CUSTOM)] == [
        "SF212"
    ]
    assert [d.code for d in validate("name__eq=null", "people", schema=CUSTOM)] == ["SF212"]
    assert validate("name__eq='x'", "people", schema=CUSTOM) == []


def test_schema_added_operator_types() -> None:
    d = one("name__after='x'", "people", schema=CUSTOM)
    assert d.code == "SF210"


def test_check_raises_with_all_diagnostics() -> None:
    with pytest.raises(FilterValidationError) as info:
        check("externl_id='1' and active='x'", "employees")
    assert [d.code for d in info.value.diagnostics] == ["SF201", "SF220"]
    assert "SF201" in str(info.value) and "^" in str(info.value)
    with pytest.raises(FilterSyntaxError):
        check("external_id=", "employees")
    with pytest.raises(FilterValidationError) as info2:
        check(parse("a=1"), "nobody")
    assert [d.code for d in info2.value.diagnostics] == ["SF200"]


def test_check_of_a_python_tree_keeps_it_spanless() -> None:
    expr = Q(skill_clusters__proficiency_level__gte="3") | ~Q(external_id="x")
    out = check(expr, "employees", schema=EXPORT, max_logical_operators=None)
    assert out == Q(skill_clusters__proficiency_level__gte=3) | ~Q(external_id="x")
    assert all(getattr(n, "span", None) is None for n in out.walk())


def test_backend_recipe() -> None:
    expr = check(parse("skill_clusters__current_skills__name__iexact='java'"), "employees", schema=EXPORT,
                 max_logical_operators=None)
    for c in expr.comparisons():
        res = EXPORT.resolve("employees", c)
        assert [r.name for r in res.relations] == ["skill_clusters", "current_skills"]
        assert all(r.many for r in res.relations)
        assert res.type == "text" and res.operator.kind == "exact" and res.operator.case_insensitive


# --------------------------------------------------------------------------------------------------
# trees built in Python: positions refer to the canonical text
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "expr",
    [
        Q(externl_id="1"),
        Q(external_id="1") & (Q(active="x") | ~Q(cp_a=1)),
        Not(Or((Q(a=1), And((Q(b=2), Q(active__gt=True)))))),
        parse("external_id='1'") & parse("  active='no'"),
    ],
)
def test_python_trees_match_their_canonical_text(expr: object) -> None:
    text, spanned = respan(expr)  # type: ignore[arg-type]
    assert text == to_text(expr)  # type: ignore[arg-type]
    assert spanned == expr
    got = validate(expr, "employees", max_logical_operators=1)  # type: ignore[arg-type]
    assert got == validate(text, "employees", max_logical_operators=1)


def test_bad_arguments() -> None:
    with pytest.raises(TypeError):
        validate(42, "employees")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        validate("a=1", "employees", schema=object())  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        validate("a=1", "employees", schema="nope")


def test_package_attribute_validate_is_the_function() -> None:
    import importlib

    import skillfilter

    importlib.import_module("skillfilter.semantics.validate")
    assert skillfilter.validate is validate
    assert skillfilter.check is check


@pytest.mark.parametrize(
    ("text", "kind", "allowed"),
    [
        ("cp_x__gt=true", "boolean", "`exact`, `is_null`"),
        ("cp_x__iexact=false", "boolean", "`exact`, `is_null`"),
        ("cp_x__icontains=1", "number", "`exact`, `gt`, `gte`, `is_null`, `lt`, `lte`"),
        ("cp_x__startswith=2.5", "number", "`exact`, `gt`, `gte`, `is_null`, `lt`, `lte`"),
    ],
)
def test_untyped_custom_property_operator_must_fit_the_literal(text: str, kind: str, allowed: str) -> None:
    # Rule 7: booleans take only exact and is_null; string operators apply to text only.
    [d] = validate(text, "employees")
    op = text.split("__")[1].split("=", maxsplit=1)[0]
    assert d.code == "SF210"
    assert d.message == f"`{op}` does not apply to a {kind} value"
    assert (d.start, d.end) == (text.index(op), text.index("="))
    assert d.hint == f"allowed: {allowed}"


@pytest.mark.parametrize("text", ["cp_x=true", "cp_x__is_null=false", "cp_x__gt=3", "cp_x__icontains='a'",
                                  "cp_x=null", "cp_x__lte='m'"])
def test_untyped_custom_property_fitting_operators_pass(text: str) -> None:
    assert validate(text, "employees") == []


def test_a_syntax_error_keeps_the_code_it_was_raised_with(monkeypatch: pytest.MonkeyPatch) -> None:
    from skillfilter.errors import FilterSyntaxError
    from skillfilter.semantics import validate as validate_module

    def failing(text: str, **_: object) -> None:
        raise FilterSyntaxError("`is_null` takes `true` or `false`", text, 11, end=12, code="SF299")

    monkeypatch.setattr(validate_module, "parse", failing)
    [d] = validate("active__is_null=1", "employees")
    assert (d.code, d.start, d.end) == ("SF299", 11, 12)  # the code raised, not one guessed from the words
