"""Shared cases for the engines that read nested records (DuckDB nested, Spark, Polars): one schema with every
field type, generated records that fit it, generated records that do not, and generated filters.

Everything here is deterministic from a seed (records) or driven by hypothesis (filters), so that every engine
is checked on the same cases against ``predicate()``:

>>> schema = nested_schema()
>>> records = make_records(40, seed=1)
>>> keys = expected_keys(records, "pets__name='a' and not tags__iexact='x'", schema, ENTITY)

Records fit :data:`NESTED_SCHEMA`: each field holds a value of its declared type, ``null``, or is missing;
to-many relations hold a list (possibly empty, possibly with ``null`` elements), ``null``, or are missing;
custom properties are a mapping (``{"language": "de"}``; with ``cp_lists=True`` sometimes the API's list
shape).  Hostile values: quotes, ``%``, ``_``, ``\\``, ``$1``, ``?``, the words and/or/not, non-ASCII,
the 28 characters whose upper case differs from the simple case mapping, NUL (``nul=True``), integers
beyond 2**53, 2**63 and 2**64 in ``integer`` fields, NaN and infinities in ``number`` fields (``nan=True``;
JSON cannot carry them).  Every record has a unique text ``id``.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Iterable
from typing import Any

from hypothesis import strategies as st

from skillfilter import And, Comparison, CustomProperty, Expr, FieldRef, Not, Or
from skillfilter.backends.python import predicate
from skillfilter.semantics.schema import Schema

__all__ = [
    "BIG_INTS",
    "DATETIME_POOL",
    "DATE_POOL",
    "ENTITY",
    "FLOAT_POOL",
    "INT_POOL",
    "MISFITS",
    "NESTED_SCHEMA",
    "TEXT_POOL",
    "TOLERATED",
    "comparisons",
    "dumps",
    "expected_keys",
    "filters",
    "literals",
    "make_misfit",
    "make_record",
    "make_records",
    "nested_schema",
    "scalar_targets",
]

ENTITY = "people"

#: The schema of the cases: every field type at the top, a to-one relation, a to-many relation with a
#: to-one and a to-many relation inside it, ``list[text]`` at two levels, typed custom properties.
NESTED_SCHEMA: dict[str, Any] = {
    "name": "nested",
    "default_entity": ENTITY,
    "entities": {
        "people": {
            "fields": {
                "id": {"type": "text", "nullable": False},
                "name": "text", "age": "integer", "score": "number", "active": "boolean", "born": "date",
                "seen": "datetime", "tags": "list[text]",
            },
            "relations": {
                "team": {"entity": "teams"},
                "pets": {"entity": "pets", "many": True},
            },
            "custom_properties": {
                "strict": True,
                "definitions": {"language": "text", "level": "number", "flag": "boolean", "since": "datetime",
                                "labels": "list[text]"},
            },
        },
        "teams": {"fields": {"name": "text", "size": "integer"}},
        "pets": {
            "fields": {"name": "text", "age": "integer", "weight": "number", "toys": "list[text]"},
            "relations": {"vet": {"entity": "vets"}, "visits": {"entity": "visits", "many": True}},
        },
        "vets": {"fields": {"name": "text", "since": "date"}},
        "visits": {"fields": {"note": "text", "cost": "number", "at": "datetime"}},
    },
}


def nested_schema() -> Schema:
    return Schema.from_dict(NESTED_SCHEMA)


# --------------------------------------------------------------------------------------------------
# values
# --------------------------------------------------------------------------------------------------
#: Characters whose ``str.upper()`` is one character different from what SQL engines' upper() tend to give,
#: or more than one character (kept by the simple case mapping), and their neighbours.
FOLD_SPECIALS = "ßẞſﬁŉΐǅǆǄİıµΜςΣͅ"
TEXT_POOL = [
    "", "a", "A", "ab", "Ab", "abc", "b", "z", "~", "ß", "SS", "ss", "ẞ", "é", "É", "e\u0301", "İ", "i", "I",
    "ı", "ǅ", "ǆ", "Ǆ", "ﬁ", "FI", "ŉ", "Straße", "STRASSE", "straße", "STRAẞE", "µ", "Μ", "ſ", "K", "Ω",
    "ω", "ΐ", "ς", "Σ", "ꭰ", "Ꭰ", "𐐨", "𐐀", "O'Brien", 'say "hi"', "\\", "\\\\", "%", "_", "a%", "a_", "%a",
    "_a", "a%b", "a_b", "axb", "$1", "?", "$1?", ":x", "'; DROP TABLE people; --", "/* x */", "--", ";",
    "and", "or", "not", "null", "NULL", "true", "DevOps", "devops", "DEVOPS", "Java", "java", "JavaScript",
    "日本", "日本語", "😀", "😀x", " ", "\t", "\n", "a b", "\x7f", "\u00a0", "\u2028", "Git", "Python",
]
HOSTILE_ALPHABET = "aAbB'\"\\%_$1?;-/* ßẞsSéÉıIiİǅǆǄµΜ😀\n\t" + FOLD_SPECIALS
INT_POOL = [0, 1, -1, 2, 3, 5, 10, 100, 2**31, 2**53, 2**53 + 1, -(2**53) - 1, 2**63 - 1, -(2**63), -7]
#: Integers beyond 64 bits (still within 128: what an engine's widest integer holds).
BIG_INTS = [2**63, 2**64 + 1, -(2**63) - 1, 10**30, -(10**30)]
#: Literals only (no engine stores these).
HUGE_INTS = [2**1024 + 1, -(10**400)]
FLOAT_POOL = [0.5, -0.0, 0.1, 0.30000000000000004, 2.5, 3.0, 1e20, 1e-300, 5e-324, 1.7976931348623157e308,
              -2.5, 9007199254740992.0, 1e16, 1e23, 2.0**60, 100.0]
#: Integers a double holds exactly (data of ``number`` fields; beyond these a record does not fit).
NUMBER_INTS = [0, 1, -1, 2, 3, 5, 10, 100, 2**31, 2**53, -(2**53), 10**15, -7]
DATE_POOL = ["2024-01-31", "2000-02-29", "1999-12-31", "2024-02-01", "1970-01-01", "2024-01-30", "0001-01-01",
             "9999-12-31"]
#: Text in a date field that is not a date (a non-null value that compares with no date).
BAD_DATES = ["2023-02-29", "2024-1-31", "31/01/2024", "", "x", "2024-01-31T00:00:00Z", "0000-01-01"]
DATETIME_POOL = [
    "2024-01-31T09:30:00Z", "2024-01-31T10:30:00+01:00", "2024-01-31T09:30:00.000001Z",
    "2024-01-31", "2024-01-30T23:59:59.999999-05:00", "2024-01-31T09:30:00", "1999-12-31T23:59:59+14:00",
    "2000-01-01T00:00:00-12:00", "2024-01-31T04:30:00-05:00", "2024-01-31 09:30", "2024-01-31t09:30:00z",
    "2024-01-31T09:30:00,5+0100", "2024-01-31T09:30:00.5000000Z", "2024-01-31T09:30:00+01",
    "0001-01-01T00:00:00+01:00",
]
BAD_DATETIMES = ["2024-01-31T24:00:00Z", "2024-02-30T00:00:00Z", "2024-01-31T09:30:00.1234567Z", "yesterday",
                 "2024-01-31T09:30:00+24:00", "", "2024-01-31T9:30"]
CP_NAMES = ["language", "level", "flag", "since", "labels"]


def text_value(rnd: random.Random, nul: bool = False) -> str:
    r = rnd.random()
    if r < 0.7:
        s = rnd.choice(TEXT_POOL)
    elif r < 0.85:
        s = rnd.choice(TEXT_POOL) + rnd.choice(TEXT_POOL)
    else:
        s = "".join(rnd.choice(HOSTILE_ALPHABET) for _ in range(rnd.randint(1, 5)))
    if nul and rnd.random() < 0.05:
        s = s + "\x00" + rnd.choice(TEXT_POOL)
    return s


MISSING = object()


def _maybe(rnd: random.Random, make: Callable[[], Any], none: float = 0.15, missing: float = 0.1) -> Any:
    r = rnd.random()
    if r < none:
        return None
    if r < none + missing:
        return MISSING
    return make()


def field_value(rnd: random.Random, type_name: str, *, nan: bool = False, nul: bool = False) -> Any:
    if type_name == "text":
        return text_value(rnd, nul)
    if type_name == "integer":
        r = rnd.random()
        if r < 0.5:
            return rnd.choice(INT_POOL)
        if r < 0.6:
            return rnd.choice(BIG_INTS)
        return rnd.randint(-5, 5)
    if type_name == "number":
        r = rnd.random()
        if nan and r < 0.05:
            return rnd.choice([math.nan, math.inf, -math.inf])
        if r < 0.4:
            return rnd.choice(NUMBER_INTS)
        if r < 0.8:
            return rnd.choice(FLOAT_POOL)
        return rnd.randint(-5, 5) + rnd.choice([0, 0.5, 0.25])
    if type_name == "boolean":
        return rnd.random() < 0.5
    if type_name == "date":
        return rnd.choice(DATE_POOL) if rnd.random() < 0.85 else rnd.choice(BAD_DATES)
    if type_name == "datetime":
        return rnd.choice(DATETIME_POOL) if rnd.random() < 0.85 else rnd.choice(BAD_DATETIMES)
    if type_name == "list[text]":
        n = rnd.choice([0, 1, 1, 2, 3])
        return [None if rnd.random() < 0.1 else text_value(rnd, nul) for _ in range(n)]
    raise AssertionError(type_name)


def make_record(rnd: random.Random, schema: Schema, entity: str, depth: int = 0, *, nan: bool = False,
                nul: bool = False, cp_lists: bool = False) -> dict[str, Any]:
    """One record of ``entity`` that fits ``schema`` (see the module's docstring)."""
    ent = schema.entities[entity]
    record: dict[str, Any] = {}
    for name, fld in ent.fields.items():
        if name == "id" and depth == 0:
            continue
        value = _maybe(rnd, lambda f=fld: field_value(rnd, f.type, nan=nan, nul=nul))
        if value is not MISSING:
            record[name] = value
    for name, rel in ent.relations.items():
        if depth >= 3:
            continue
        if rel.many:
            r = rnd.random()
            if r < 0.1:
                record[name] = None
            elif r < 0.2:
                continue
            elif r < 0.35:
                record[name] = []
            else:
                record[name] = [
                    None if rnd.random() < 0.05 else
                    make_record(rnd, schema, rel.target, depth + 1, nan=nan, nul=nul)
                    for _ in range(rnd.randint(1, 3))
                ]
        else:
            value = _maybe(rnd, lambda r=rel: make_record(rnd, schema, r.target, depth + 1, nan=nan, nul=nul),
                           0.2, 0.1)
            if value is not MISSING:
                record[name] = value
    cp = ent.custom_properties
    if cp is not None and depth == 0:
        r = rnd.random()
        if r < 0.1:
            record["custom_properties"] = None
        elif r >= 0.15:
            names = rnd.sample(CP_NAMES, rnd.randint(0, len(CP_NAMES)))
            props = {}
            for n in names:
                declared = cp.definitions.get(n)
                props[n] = None if rnd.random() < 0.1 or declared is None else field_value(
                    rnd, declared, nan=nan, nul=nul)
            if cp_lists and rnd.random() < 0.3:
                record["custom_properties"] = [{"property_name": n, "property_value": v} for n, v in props.items()]
            else:
                record["custom_properties"] = props
    return record


def make_records(n: int, seed: int = 20261206, *, schema: Schema | None = None, entity: str = ENTITY,
                 nan: bool = False, nul: bool = False, cp_lists: bool = False) -> list[dict[str, Any]]:
    """``n`` records (plus one empty but for its ``id``) with ids ``"0"``, ``"1"``, ..."""
    rnd = random.Random(f"{seed}-{entity}")
    sch = schema or nested_schema()
    out = []
    for i in range(n):
        rec = make_record(rnd, sch, entity, nan=nan, nul=nul, cp_lists=cp_lists)
        out.append({"id": str(i), **rec})
    out.append({"id": str(n)})
    return out


def dumps(record: Any) -> str:
    """One line of JSON Lines (non-ASCII as is; NaN and infinities as Python's json writes them)."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


# --------------------------------------------------------------------------------------------------
# records that do not fit the schema
# --------------------------------------------------------------------------------------------------
#: (description, path, value): a record with ``value`` put at ``path`` does not fit NESTED_SCHEMA.
MISFITS: list[tuple[str, tuple[str | int, ...], Any]] = [
    ("text in an integer field", ("age",), "5"),
    ("a float in an integer field", ("age",), 2.5),
    ("text in a number field", ("score",), "1.5"),
    ("a number in a text field", ("name",), 5),
    ("a boolean in a text field", ("name",), True),
    ("a number in a boolean field", ("active",), 1),
    ("text in a boolean field", ("active",), "true"),
    ("an object where a list is declared", ("pets",), {"name": "a"}),
    ("text where a list of text is declared", ("tags",), "a"),
    ("a number in a list of text", ("tags",), ["a", 1]),
    ("a number in a nested text field", ("pets", 0, "name"), 7),
    ("text in a nested number field", ("pets", 0, "weight"), "heavy"),
    ("a number in a date field", ("born",), 20240131),
    ("a number in a custom property of type text", ("custom_properties", "language"), 3),
    ("a list where a text custom property is declared", ("custom_properties", "language"), ["de"]),
]


#: Shapes that ``predicate()`` reads as null (a mapping's field of a non-mapping is null): an engine may read
#: them as null too, or refuse them like the misfits above, never give another answer.
TOLERATED: list[tuple[str, tuple[str | int, ...], Any]] = [
    ("a list where an object is declared", ("team",), [{"name": "a"}]),
    ("text where an object is declared", ("pets", 0), "cat"),
    ("a number where an object is declared", ("team",), 5),
]


def make_misfit(base: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with ``value`` put at ``path`` (lists and objects made on the way)."""
    rec: dict[str, Any] = json.loads(json.dumps(base))
    node: Any = rec
    for i, step in enumerate(path[:-1]):
        nxt = path[i + 1]
        want = list if isinstance(nxt, int) else dict
        if isinstance(node, dict):
            if not isinstance(node.get(step), want):
                node[step] = want()
            node = node[step]
        else:
            assert isinstance(step, int)
            while len(node) <= step:
                node.append({})
            if not isinstance(node[step], want):
                node[step] = want()
            node = node[step]
    last = path[-1]
    if isinstance(node, list):
        assert isinstance(last, int)
        while len(node) <= last:
            node.append({})
    node[last] = value
    return rec


# --------------------------------------------------------------------------------------------------
# filters
# --------------------------------------------------------------------------------------------------
def scalar_targets(schema: Schema, entity: str, max_relations: int = 3) -> list[tuple[Any, str | None, Any]]:
    """``(target, type, (entity, field))`` for every field path and declared custom property of ``entity``."""
    out: list[tuple[Any, str | None, Any]] = []

    def walk(ent_name: str, path: tuple[str, ...], seen: tuple[str, ...]) -> None:
        ent = schema.entities[ent_name]
        for fname, fld in ent.fields.items():
            out.append((FieldRef((*path, fname)), fld.type, (ent, fld)))
        if len(path) >= max_relations:
            return
        for rname, rel in ent.relations.items():
            if rel.target not in seen:
                walk(rel.target, (*path, rname), (*seen, rel.target))

    walk(entity, (), (entity,))
    ent = schema.entities[entity]
    if ent.custom_properties is not None:
        for name, type_name in ent.custom_properties.definitions.items():
            out.append((CustomProperty(name), type_name, (ent, None)))
    return out


def text_literals() -> st.SearchStrategy[str]:
    pool = st.sampled_from(TEXT_POOL)
    return st.one_of(
        pool,
        pool.flatmap(lambda s: st.integers(0, len(s)).flatmap(
            lambda i: st.integers(i, len(s)).map(lambda j: s[i:j]))),
        pool.map(str.upper),
        pool.map(str.lower),
        st.text(HOSTILE_ALPHABET + "\x00", max_size=4),
    )


def literals(type_name: str | None) -> st.SearchStrategy[Any]:
    """Literals for a field of ``type_name`` (all convertible to it; the validator converts them)."""
    if type_name in ("text", "list[text]"):
        return text_literals()
    if type_name == "integer":
        return st.one_of(st.sampled_from(INT_POOL + BIG_INTS + HUGE_INTS), st.integers(-6, 6),
                         st.sampled_from([1e20, 3.0, -0.0, 1e23, 2.0**63]))
    if type_name == "number":
        return st.one_of(st.sampled_from(INT_POOL + BIG_INTS + HUGE_INTS + FLOAT_POOL), st.integers(-6, 6),
                         st.floats(allow_nan=False, width=64), st.just(math.inf), st.just(-math.inf))
    if type_name == "boolean":
        return st.booleans()
    if type_name == "date":
        return st.sampled_from(DATE_POOL)
    if type_name == "datetime":
        return st.sampled_from(DATETIME_POOL + DATE_POOL)
    raise AssertionError(type_name)


def comparisons(schema: Schema, entity: str) -> st.SearchStrategy[Comparison]:
    choices = scalar_targets(schema, entity)

    @st.composite
    def build(draw: st.DrawFn) -> Comparison:
        target, type_name, (ent, fld) = draw(st.sampled_from(choices))
        op_names = schema.allowed_operators(ent, type_name, fld)
        op = draw(st.sampled_from(op_names))
        operator = schema.operators_for(ent)[op]
        value: Any
        if operator.kind == "is_null":
            value = draw(st.booleans())
        elif op == "exact" and draw(st.integers(0, 12)) == 0:
            value = None
        else:
            value = draw(literals(type_name))
        return Comparison(target, op, value)

    return build()


def filters(schema: Schema | None = None, entity: str = ENTITY, max_leaves: int = 8) -> st.SearchStrategy[Expr]:
    """Filters over ``schema`` (default :data:`NESTED_SCHEMA`): comparisons under and/or/not."""
    leaves = comparisons(schema or nested_schema(), entity)

    def extend(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
        return st.one_of(
            st.lists(children, min_size=2, max_size=3).map(lambda xs: And.of(*xs)),
            st.lists(children, min_size=2, max_size=3).map(lambda xs: Or.of(*xs)),
            children.map(Not),
        )

    return st.recursive(leaves, extend, max_leaves=max_leaves)


#: Filters every engine should get right, written out (scopes, not, empty lists, case mapping, numbers).
SCOPE_FILTERS = [
    "pets__name='a' and pets__age__gte=3",
    "not pets__name='a'",
    "not pets__visits__note__icontains='ß'",
    "pets__visits__cost__gt=2.5 and pets__visits__note__istartswith='a'",
    "pets__name__is_null=true",
    "not pets__toys__iexact='straße'",
    "tags__iexact='STRAẞE' or tags__icontains='ǅ'",
    "age=9007199254740993",
    "age__gt=9223372036854775807",
    "score=9007199254740992",
    "score__gte=1e23",
    "score__lt=100000000000000000000000",
    "born__lt='2000-01-01' or seen__gte='2024-01-31T09:30:00Z'",
    "pets__vet__since__gte='2000-01-01' and not pets__vet__name=null",
    "cp_language__iexact='Ǆ' or cp_level__gt=2",
    "not cp_labels__icontains='%'",
    "name__contains='%' or name__contains='_' or name__contains='\\\\'",
    "name='$1' or name='?'",
    "team__size__lte=3 and not team__name='and'",
]


def expected_keys(records: Iterable[dict[str, Any]], expr: Expr | str, schema: Schema | None = None,
                  entity: str = ENTITY) -> set[str]:
    """The ids of the records ``predicate()`` accepts: what every engine must select."""
    test = predicate(expr, schema=schema or nested_schema(), entity=entity)
    return {r["id"] for r in records if test(r)}
