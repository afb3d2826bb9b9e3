"""The schema model: built-in schemas, the file format, extension, operators per type, literal conversion."""

from __future__ import annotations

import datetime as dt
import json
import marshal
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from skillfilter import parse
from skillfilter.semantics.operators import BUILTIN_OPERATORS
from skillfilter.semantics.schema import (
    ConversionError,
    ResolveError,
    Schema,
    SchemaError,
    convert_literal,
    parse_datetime,
)

SE = Schema.builtin("skillengine")
EXPORT = Schema.builtin("export")

# One record of the skill-cluster export, in the shape its public reference shows (abridged).
EXPORT_RECORD: dict[str, Any] = {
    "external_id": "5cbdbdbe-5f44-4423-8157-520f8a2f429a",
    "skill_clusters": [
        {
            "skill_cluster_id": "51e605a8-ca08-4ba6-a359-28bad07b38f6",
            "skill_cluster_name": "DevOps",
            "domain_name": "Computer Science",
            "proficiency_level": 3,
            "validation_state": "validated",
            "current_skills": [
                {"name": "Git", "skill_id": "ed8a3b44", "validation_state": "suggested",
                 "skill_sources": ["working_history", "resume_document"]}
            ],
            "related_skills": [
                {"name": "Helm", "skill_id": "63454703", "validation_state": "suggested",
                 "skill_sources": ["resume_document"]}
            ],
            "rejected_skills": [],
            "sources": ["working_history", "education_history", "resume_document"],
        }
    ],
}


# --------------------------------------------------------------------------------------------------
# built-in schemas
# --------------------------------------------------------------------------------------------------
def test_skillengine_entities_and_fields() -> None:
    expected = {
        "employees": {"external_id", "assigned_position", "assigned_position_id", "active",
                      "low_data_availability", "organisational_unit", "last_updated"},
        "jobs": {"external_id", "job_name", "job_family_id", "active"},
        "job_families": {"external_id", "job_family_name", "job_family_group", "active"},
        "vacancies": {"external_id", "job_title", "job_description", "company", "active", "last_updated"},
        "courses": {"external_id", "active", "last_updated"},
    }
    assert set(SE.entities) == set(expected)
    for name, fields in expected.items():
        assert set(SE.entities[name].fields) == fields
    assert SE.entities["jobs"].relations["job_family"].target == "job_families"
    assert not SE.entities["jobs"].relations["job_family"].many
    with_cp = {n for n, e in SE.entities.items() if e.custom_properties is not None}
    assert with_cp == {"employees", "vacancies", "courses"}
    for e in SE.entities.values():
        assert e.fields["active"].type == "boolean"
        if "last_updated" in e.fields:
            assert e.fields["last_updated"].type == "datetime"
    assert "public documentation" in SE.description
    assert SE.default_entity is None and SE.implied_entity() is None


def _walk_record(schema: Schema, entity: str, record: dict[str, Any], seen: set[tuple[str, str]]) -> None:
    ent = schema.entities[entity]
    for key, value in record.items():
        if key in ent.relations:
            rel = ent.relations[key]
            assert rel.many == isinstance(value, list), key
            for item in value if isinstance(value, list) else [value]:
                _walk_record(schema, rel.target, item, seen)
        else:
            field = ent.fields[key]
            seen.add((entity, key))
            kinds = {"text": str, "integer": int, "list[text]": list}
            assert isinstance(value, kinds[field.type]), (key, field.type)


def test_export_schema_covers_the_export_record() -> None:
    seen: set[tuple[str, str]] = set()
    _walk_record(EXPORT, "employees", EXPORT_RECORD, seen)
    declared = {(e.name, f) for e in EXPORT.entities.values() for f in e.fields}
    assert seen == declared
    assert EXPORT.entities["skills"].fields["skill_sources"].type == "list[text]"
    assert EXPORT.default_entity == "employees" and EXPORT.implied_entity() == "employees"


def test_builtin_files_are_plain_json_that_load() -> None:
    for name in ("skillengine", "export"):
        text = resources.files("skillfilter").joinpath("data").joinpath(f"{name}.schema.json").read_text("utf-8")
        data = json.loads(text)
        assert Schema.from_dict(data) == Schema.builtin(name)
    with pytest.raises(KeyError):
        Schema.builtin("nope")


def test_load_from_file(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"name": "x", "entities": {"a": {"fields": {"n": "integer"}}}}), "utf-8")
    s = Schema.load(path)
    assert s.name == "x" and s.entities["a"].fields["n"].type == "integer"
    assert s.implied_entity() == "a"


# --------------------------------------------------------------------------------------------------
# format errors
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "a schema is a JSON object"),
        ({"entities": {}}, "`entities` must be a non-empty object"),
        ({"entities": {"a": {}}, "extra": 1}, "unknown keys"),
        ({"entities": {"a b": {}}}, "not a valid entity name"),
        ({"entities": {"a": {"fields": {"x": "float"}}}}, "`type` must be one of"),
        ({"entities": {"a": {"fields": {"x__y": "text"}}}}, "not a valid field name"),
        ({"entities": {"a": {"fields": {"cp_x": "text"}}}}, "not a valid field name"),
        ({"entities": {"a": {"fields": {"x": {"type": "text", "nullable": "no"}}}}}, "`nullable`"),
        ({"entities": {"a": {"relations": {"b": {"entity": "zz"}}}}}, "unknown entity `zz`"),
        ({"entities": {"a": {"fields": {"b": "text"}, "relations": {"b": {"entity": "a"}}}}}, "share this name"),
        ({"entities": {"a": {"relations": {"b": {"entity": "a", "many": 1}}}}}, "`many`"),
        ({"entities": {"a": {"relations": ["b"]}}}, "`relations` must be an object"),
        ({"entities": {"a": {"custom_properties": {"definitions": {"x": "date"}}}}}, "`definitions`"),
        ({"entities": {"a": {"custom_properties": {"definitions": {"x__y": "text"}}}}}, "not a valid property"),
        ({"entities": {"a": {"custom_properties": "yes"}}}, "must be true, false or an object"),
        ({"entities": {"a": {"fields": {"x": {"type": "text", "operators": ["nope"]}}}}}, "unknown operator"),
        ({"entities": {"a": {"type_operators": {"text": ["nope"]}}}}, "unknown operator"),
        ({"entities": {"a": {"type_operators": {"text": "exact"}}}}, "maps a field type"),
        ({"operators": {"x": {"kind": "like"}}, "entities": {"a": {}}}, "`kind` must be one of"),
        ({"operators": {"x": {"kind": "gt", "types": ["float"]}}, "entities": {"a": {}}}, "`types` must list"),
        ({"operators": {"x": {"kind": "gt", "case_insensitive": True}}, "entities": {"a": {}}}, "text only"),
        ({"operators": {"x y": {"kind": "gt"}}, "entities": {"a": {}}}, "not a valid operator name"),
        ({"default_entity": "b", "entities": {"a": {}}}, "unknown entity `b`"),
        ({"entities": {"a": {"merge": True}}}, "`merge` needs an entity"),
    ],
)
def test_invalid_schemas(data: Any, message: str) -> None:
    with pytest.raises(SchemaError, match=message.replace("`", ".").replace("(", ".")):
        Schema.from_dict(data)


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(SchemaError, match="cannot read"):
        Schema.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{", "utf-8")
    with pytest.raises(SchemaError, match="not JSON"):
        Schema.load(bad)
    bad.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(SchemaError, match="UTF-8"):
        Schema.load(bad)


# --------------------------------------------------------------------------------------------------
# extension
# --------------------------------------------------------------------------------------------------
def test_extend_with_operators_only() -> None:
    s = SE.extend({"operators": {"like": {"kind": "contains", "case_insensitive": True, "types": ["text"]}}})
    assert "like" in s.operator_names("employees")
    assert "like" not in SE.operator_names("employees")
    res = s.resolve("employees", parse("external_id__like='x'", operators=s.operator_names("employees")))
    assert res.operator.kind == "contains" and res.operator.case_insensitive


def test_extend_merge_adds_fields_and_keeps_the_rest() -> None:
    s = SE.extend({"entities": {"employees": {"merge": True, "fields": {"grade": "integer"},
                                              "custom_properties": {"strict": True,
                                                                    "definitions": {"language": "text"}}}}})
    emp = s.entities["employees"]
    assert set(emp.fields) == set(SE.entities["employees"].fields) | {"grade"}
    assert emp.custom_properties is not None and emp.custom_properties.strict
    assert s.entities["jobs"] is SE.entities["jobs"]


def test_extend_replaces_an_entity_and_adds_new_ones() -> None:
    s = SE.extend({"entities": {"courses": {"fields": {"title": "text"}},
                                "skills": {"fields": {"name": "text"}, "relations": {"jobs": {"entity": "jobs",
                                                                                              "many": True}}}}})
    assert set(s.entities["courses"].fields) == {"title"}
    assert s.entities["skills"].relations["jobs"].many
    with pytest.raises(SchemaError):
        SE.extend({"entities": {"x": {"relations": {"y": {"entity": "nowhere"}}}}})


def test_extend_with_a_schema() -> None:
    other = Schema.from_dict({"entities": {"things": {"fields": {"a": "text"}}}, "default_entity": "things"})
    s = EXPORT.extend(other)
    assert "things" in s.entities and "skills" in s.entities
    assert s.default_entity == "things"


# --------------------------------------------------------------------------------------------------
# operators per type, narrowing, resolution
# --------------------------------------------------------------------------------------------------
def test_allowed_operators_per_type() -> None:
    emp = SE.entities["employees"]
    assert SE.allowed_operators(emp, "text") == sorted(BUILTIN_OPERATORS)
    assert SE.allowed_operators(emp, "boolean") == ["exact", "is_null"]
    assert SE.allowed_operators(emp, "datetime") == ["exact", "gt", "gte", "is_null", "lt", "lte"]
    assert SE.allowed_operators(emp, "integer") == SE.allowed_operators(emp, "number")
    assert SE.allowed_operators(emp, None) == sorted(BUILTIN_OPERATORS)


def test_resolve_reports_relations_and_types() -> None:
    c = next(parse("skill_clusters__related_skills__skill_sources__icontains='cv'").comparisons())
    res = EXPORT.resolve("employees", c)
    assert [r.name for r in res.relations] == ["skill_clusters", "related_skills"]
    assert res.field is not None and res.field.is_list
    assert res.path == ("skill_clusters", "related_skills", "skill_sources")
    c2 = next(parse("cp_language='de'").comparisons())
    res2 = SE.resolve("employees", c2)
    assert res2.custom_property == "language" and res2.type is None and res2.path == ("cp_language",)


def test_resolve_error_carries_code_and_span() -> None:
    c = next(parse("  job__x='1'").comparisons())
    with pytest.raises(ResolveError) as info:
        SE.resolve("jobs", c)
    assert (info.value.code, info.value.start, info.value.end) == ("SF201", 2, 5)


# --------------------------------------------------------------------------------------------------
# literal conversion
# --------------------------------------------------------------------------------------------------
UTC = dt.timezone.utc


@pytest.mark.parametrize(
    ("value", "type_name", "expected"),
    [
        ("x", "text", "x"),
        (5, "text", "5"),
        ("x", "list[text]", "x"),
        (5, "integer", 5),
        ("5", "integer", 5),
        ("-12", "integer", -12),
        (3.0, "integer", 3),
        (2.5, "number", 2.5),
        ("2.5", "number", 2.5),
        ("7", "number", 7),
        (True, "boolean", True),
        ("false", "boolean", False),
        ("2024-02-29", "date", dt.date(2024, 2, 29)),
        ("2024-02-29", "datetime", dt.datetime(2024, 2, 29, tzinfo=UTC)),
        ("2024-02-29T10:00:00", "datetime", dt.datetime(2024, 2, 29, 10, tzinfo=UTC)),
        ("2024-02-29T10:00:00Z", "datetime", dt.datetime(2024, 2, 29, 10, tzinfo=UTC)),
        ("2024-02-29 10:00+01:00", "datetime", dt.datetime(2024, 2, 29, 9, tzinfo=UTC)),
        (None, "integer", None),
        (1.5, None, 1.5),
    ],
)
def test_convert_literal(value: Any, type_name: str | None, expected: Any) -> None:
    got = convert_literal(value, type_name)
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        (True, "text"),
        (1.5, "text"),
        ("five", "integer"),
        (" 5", "integer"),
        (2.5, "integer"),
        (True, "integer"),
        ("1,5", "number"),
        ("nan", "number"),
        ("1e999", "number"),
        (False, "number"),
        ("yes", "boolean"),
        (1, "boolean"),
        ("2024-02-30", "date"),
        ("2024-2-3", "date"),
        ("2024-02-29T10:00:00", "date"),
        ("yesterday", "datetime"),
        ("2024-02-29T25:00", "datetime"),
        (" 2024-02-29T10:00", "datetime"),
        (3, "datetime"),
    ],
)
def test_convert_literal_refuses(value: Any, type_name: str) -> None:
    with pytest.raises(ConversionError):
        convert_literal(value, type_name)


def test_parse_datetime() -> None:
    assert parse_datetime("2024-01-31") == dt.datetime(2024, 1, 31, tzinfo=UTC)
    assert parse_datetime("2024-01-31T09:30:00.5-02:00").utcoffset() == dt.timedelta(hours=-2)
    with pytest.raises(ValueError):
        parse_datetime("2024-01-31T")


# -- ISO 8601 date-times: one parser, the same on every Python version ---------------------------------
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-31", "2024-01-31T00:00:00+00:00"),
        ("2024-01-31T09:30", "2024-01-31T09:30:00+00:00"),
        ("2024-01-31t09:30:00z", "2024-01-31T09:30:00+00:00"),
        ("2024-01-31 09:30:00.5+02:00", "2024-01-31T09:30:00.500000+02:00"),
        ("2024-01-31T09:30:00,25-0130", "2024-01-31T09:30:00.250000-01:30"),
        ("2024-01-31T09:30:00.1234560000+05", "2024-01-31T09:30:00.123456+05:00"),
    ],
)
def test_parse_datetime_accepts(text: str, expected: str) -> None:
    from skillfilter.semantics.schema import parse_datetime

    assert parse_datetime(text).isoformat() == expected


@pytest.mark.parametrize(
    "text",
    ["2024-01-31T09:30:00.0000009Z", "2024-W01-1T08:00", "2024-02-30", "2024-01-31T24:00", "2024-01-31Z",
     "2024-01-31T09:30+24:00", " 2024-01-31", "2024-1-31", ""],
)
def test_parse_datetime_refuses(text: str) -> None:
    from skillfilter.semantics.schema import parse_datetime

    with pytest.raises(ValueError):
        parse_datetime(text)


def test_sub_microsecond_literal_is_a_validation_error_not_a_truncation() -> None:
    from skillfilter import validate

    [d] = validate("last_updated='2024-01-01T08:00:00.0000009Z'", "employees")
    assert d.code == "SF220"
    assert validate("last_updated='2024-01-01T08:00:00.0000000Z'", "employees") == []


# --------------------------------------------------------------------------------------------------
# the model's modules: built-in schemas read plainly, frozen records, errors are FilterErrors
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["skillengine", "export"])
def test_builtin_schemas_read_as_the_checking_reader_reads_them(name: str) -> None:
    from skillfilter.semantics.builtin import read_builtin
    from skillfilter.semantics.schema_loading import schema_from_dict

    data = read_builtin(name)
    checked = schema_from_dict(data, source=name)
    assert Schema.builtin(name) == checked
    assert repr(Schema.builtin(name)) == repr(checked)
    # The data module is the JSON file as Python literals (scripts/make_builtin_data.py writes it).
    shipped = resources.files("skillfilter").joinpath("data", f"{name}.schema.json").read_text(encoding="utf-8")
    assert data == json.loads(shipped), "run: python scripts/make_builtin_data.py"


def test_builtin_data_module_is_what_the_script_writes() -> None:
    import importlib.util

    root = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location("make_builtin_data", root / "scripts" / "make_builtin_data.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    written = (root / "src" / "skillfilter" / "semantics" / "builtin_data.py").read_text(encoding="utf-8")
    assert script.render() == written, "run: python scripts/make_builtin_data.py"


@pytest.mark.parametrize("data", [
    {"entities": {"a": {"fields": {"x": "text"}}}},
    {"entities": {"a": {"fields": {"x": {"type": "text", "operators": ["exact", "iexact"]}}}}},
    {"entities": {"a": {"fields": {}, "custom_properties": {"strict": True, "definitions": {"n": "number"}}}}},
    {"entities": {"a": {"fields": {"d": "date"}, "custom_properties": True},
                  "b": {"fields": {"y": {"type": "integer", "nullable": False, "description": "why"}},
                        "relations": {"back": {"entity": "a", "many": True, "description": "to a"}}}},
     "default_entity": "b", "description": "two"},
    {"operators": {"near": {"kind": "contains", "case_insensitive": True, "types": ["text"], "description": "~"}},
     "entities": {"a": {"fields": {"x": "text", "n": "number"},
                        "operators": {"big": {"kind": "gt", "types": ["number", "integer"]}},
                        "type_operators": {"number": ["exact", "big"]}}}},
])
def test_builtin_encoding_builds_what_the_checking_reader_reads(data: dict[str, object]) -> None:
    """Built-in schemas are stored as the script's encoding of what the checking reader read; whatever a
    schema file uses, building it back gives the same schema."""
    import importlib.util

    from skillfilter.semantics.builtin import decode

    root = Path(__file__).resolve().parent.parent
    spec = importlib.util.spec_from_file_location("make_builtin_data", root / "scripts" / "make_builtin_data.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    checked = Schema.from_dict(data)
    built = decode(marshal.loads(marshal.dumps(script.encode(checked), 2)))
    assert built == checked
    assert built.operator_names("a") == checked.operator_names("a")


def test_model_records_are_frozen_values() -> None:
    import pickle

    from skillfilter.semantics.schema import CustomProperties, Entity, Field, Relation

    f = Field("a", "text")
    assert f == Field("a", "text", True, None, "") and hash(f) == hash(Field("a", "text"))
    assert f != Field("a", "text", nullable=False) and f != Relation("a", "text")
    assert repr(f) == "Field(name='a', type='text', nullable=True, operators=None, description='')"
    assert pickle.loads(pickle.dumps(f)) == f and pickle.loads(pickle.dumps(Relation("r", "t", True))).many
    for record, name in ((f, "name"), (Relation("r", "t"), "target"), (CustomProperties(), "strict")):
        with pytest.raises(AttributeError):
            setattr(record, name, "x")
        with pytest.raises(AttributeError):
            delattr(record, name)
    entity = Entity("e", {"a": f})
    assert entity.relations == {} and entity.operators == {} and entity.custom_properties is None
    assert entity.names() == ["a"]
    assert Schema("s", {"e": entity}) == Schema("s", {"e": entity}, {}, "", None)
    match f:
        case Field(name, type_name):
            assert (name, type_name) == ("a", "text")


def test_operator_names_are_computed_once_per_schema() -> None:
    s = Schema.from_dict({"entities": {"a": {"fields": {"x": "text"}, "operators": {"like": {"kind": "contains"}}},
                                       "b": {"fields": {}}}})
    names = s.operator_names("a")
    assert "like" in names and s.operator_names("a") is names
    assert "like" not in s.operator_names("b")
    extended = s.extend({"operators": {"near": {"kind": "exact"}}})
    assert "near" in extended.operator_names("a") and "near" not in s.operator_names("a")


def test_resolution_errors_are_filter_errors() -> None:
    from skillfilter.errors import FilterError

    with pytest.raises(FilterError) as info:
        SE.resolve("employees", parse("nope=1"))  # type: ignore[arg-type]
    assert isinstance(info.value, ResolveError) and info.value.code == "SF201"
    with pytest.raises(FilterError):
        convert_literal("x", "integer")
    assert issubclass(ConversionError, ValueError)
