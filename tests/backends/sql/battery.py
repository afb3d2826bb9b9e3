"""The battery of the expected-SQL tables (``test_<dialect>.py``): a schema, sample records, filters.

Every filter of :data:`FILTERS` has, per dialect, the exact SQL text and parameters it compiles to (pinned
by hand-checked tables, in the manner of sqlglot's dialect tests), and is run on the real engine over
:data:`RECORDS`: the keys it selects must be the keys of the records ``predicate()`` accepts.
"""

from __future__ import annotations

from typing import Any

from skillfilter.backends.python import predicate
from skillfilter.semantics.schema import Schema

SCHEMA = Schema.from_dict({
    "name": "battery",
    "default_entity": "people",
    "entities": {
        "people": {
            "fields": {
                "name": "text", "age": "integer", "score": "number", "active": "boolean", "born": "date",
                "seen": "datetime", "tags": "list[text]",
            },
            "relations": {"team": {"entity": "teams"}, "pets": {"entity": "pets", "many": True}},
            "custom_properties": {"definitions": {"language": "text", "level": "number", "tags": "list[text]"}},
        },
        "teams": {"fields": {"name": "text"}},
        "pets": {"fields": {"name": "text", "age": "integer", "toys": "list[text]"},
                 "relations": {"vet": {"entity": "vets"}}},
        "vets": {"fields": {"name": "text"}},
    },
})

RECORDS: list[dict[str, Any]] = [
    {"name": "a", "age": 3, "score": 0.1, "active": True, "born": "2024-01-30", "seen": "2024-01-31T09:30:00Z",
     "tags": ["x", "y"], "team": {"name": "a"},
     "pets": [{"name": "Rex", "age": 3, "toys": ["ball"], "vet": {"name": "Vet"}}, {"name": "c", "age": 1}],
     "custom_properties": {"language": "de", "level": 3, "tags": ["a", "b"], "other": "x"}},
    {"name": "Straße", "age": 9007199254740993, "score": 1e23, "active": False, "born": "2024-01-31",
     "seen": "2024-01-31T10:30:00.000001+01:00", "tags": [], "team": None, "pets": [],
     "custom_properties": [{"property_name": "language", "property_value": "fr"},
                           {"property_name": "other", "property_value": ["x", None]}]},
    {"name": "O'Brien %_", "age": 9223372036854775807, "score": 2.5, "tags": [None],
     "team": {"name": None}, "pets": [{"name": "a", "age": None, "toys": [], "vet": None}],
     "custom_properties": {"language": None, "level": 1.5, "tags": []}},
    {"name": "STRASSE", "age": -7, "score": -0.0, "active": True, "tags": ["x"], "team": {"name": "b"},
     "pets": [{"name": "a"}, {"name": "d", "toys": ["ball", "bone"]}], "custom_properties": {"other": 5}},
    {"name": "and", "tags": ["d"], "pets": [{"name": "c", "age": 3, "vet": {"name": "x\\y"}}],
     "custom_properties": {"level": "3", "tags": ["b"]}},
    {"name": "ǅ", "age": 0, "score": 1e16, "born": "1999-12-31", "seen": "1999-12-31T23:59:59+14:00",
     "tags": ["b", "ẞ"], "pets": [{"name": "Rex", "age": 4}]},
    {"name": None, "custom_properties": {"language": "DE", "tags": "a"}},
    {},
]

FILTERS: list[str] = [
    "name='a'",
    "name__iexact='straße'",
    "name__contains='%_'",
    "name__startswith=\"O'B\"",
    "name__endswith='ß'",
    "not name='a'",
    "name__is_null=true",
    "name='and' or name='or'",
    "age=3",
    "age__gt=9007199254740992",
    "age__lt=9223372036854775808",
    "not age__gte=0",
    "score__gte=0.1",
    "score=1e23",
    "active=true",
    "not active=true",
    "born__lt='2024-01-31'",
    "seen__gte='2024-01-31T10:30:00+01:00'",
    "tags='x'",
    "not tags='x'",
    "tags__is_null=true",
    "team__name='a'",
    "team__name__is_null=true",
    "pets__name='Rex' and pets__age=3",
    "pets__name='Rex' and not pets__age=3",
    "pets__vet__name='Vet'",
    "pets__toys='ball'",
    "not (pets__name='a' or pets__name__is_null=true)",
    "(pets__name='a' or tags='b') and (pets__name='c' or tags='d')",
    "cp_language='de'",
    "cp_language__iexact='de'",
    "cp_level__gt=2",
    "not cp_language='de'",
    "cp_tags='a' and cp_tags='b'",
    "cp_other='x'",
    "cp_other__is_null=true",
]


def expected_keys(text: str, keys: list[Any]) -> list[Any]:
    """The keys of the records ``predicate()`` accepts, in order."""
    test = predicate(text, schema=SCHEMA, entity="people")
    return [k for k, r in zip(keys, RECORDS, strict=True) if test(r)]
