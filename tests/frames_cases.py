"""Generated nested records and filters for the data-frame backends (Spark, Polars).

A schema of its own (``SCHEMA``, entity ``people``) with every field type a frame holds exactly, a to-one
relation, two levels of to-many relations, ``list[text]`` fields and typed custom properties.  Records fit
that schema (so a typed reader accepts them) but are otherwise hostile: missing keys, nulls, empty and null
lists, null list elements, quotes, backslashes, ``%``, ``_``, ``$1``, ``?``, NUL, non-ASCII (rule-5 corner
cases), the words and/or/not, integers at and beyond 2**53 and near 2**63, ``-0.0``, ``1e23``.  Filters
are expression trees (not text) with literals of every kind, including integers beyond int64 and doubles.
"""

from __future__ import annotations

import json
import random
from typing import Any

from skillfilter.language.ast import And, Comparison, CustomProperty, Expr, FieldRef, Not, Or
from skillfilter.semantics.schema import Schema

SCHEMA = Schema.from_dict(
    {
        "name": "frames-test",
        "default_entity": "people",
        "entities": {
            "people": {
                "fields": {
                    "external_id": "text", "name": "text", "age": "integer", "score": "number",
                    "active": "boolean", "tags": "list[text]",
                },
                "relations": {
                    "team": {"entity": "teams"},
                    "clusters": {"entity": "clusters", "many": True},
                },
                "custom_properties": {
                    "strict": True,
                    "definitions": {
                        "language": "text", "seniority": "number", "remote": "boolean", "langs": "list[text]",
                    },
                },
            },
            "teams": {"fields": {"title": "text", "size": "integer"}},
            "clusters": {
                "fields": {"name": "text", "level": "integer", "weight": "number", "sources": "list[text]"},
                "relations": {"skills": {"entity": "skills", "many": True}},
            },
            "skills": {"fields": {"name": "text", "state": "text"}},
        },
    }
)
ENTITY = "people"

PIECES = [
    "", "a", "A", "Java", "java", "JAVA", "ß", "SS", "ẞ", "é", "É", "ǅ", "ǆ", "ﬁ", "ı", "İ", "i", "ς", "σ", "Σ",
    "%", "_", "'", '"', "\\", "$1", "?", ":p1", "and", "or", "not", "1", "10", "\x00", "日本", "😀", "ŉ", " ",
]
INTS = [0, 1, -1, 2, 3, 5, 2**31, 2**53, 2**53 + 1, -(2**53) - 1, 2**63 - 1, -(2**63)]
FLOATS = [0.0, -0.0, 0.1, 1.5, 2.5, 3.0, -2.0, 2.0**53, 1e23, 9007199254740993.0, 1e300]
INT_LITERALS = [*INTS, 2**63, -(2**63) - 1, 2**64, 10**30, 3.0, 1e20]
NUMBER_LITERALS = [*INTS, *FLOATS, 10**23, 2**63, 2**1100, -(2**1100), 0.30000000000000004]


def text(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 2)))


def _maybe(rng: random.Random, out: dict[str, Any], key: str, make: Any) -> None:
    r = rng.random()
    if r < 0.15:
        return  # missing
    out[key] = None if r < 0.3 else make()


def _list(rng: random.Random, make: Any, most: int = 3) -> list[Any]:
    return [None if rng.random() < 0.1 else make() for _ in range(rng.randint(0, most))]


def _number(rng: random.Random) -> int | float:
    # A number field holds integers a double holds exactly (larger ones do not fit it: see the docs).
    return rng.choice([i for i in INTS if abs(i) <= 2**53] + FLOATS)


def record(rng: random.Random, key: int) -> dict[str, Any]:
    r: dict[str, Any] = {"external_id": str(key)}
    _maybe(rng, r, "name", lambda: text(rng))
    _maybe(rng, r, "age", lambda: rng.choice(INTS))
    _maybe(rng, r, "score", lambda: _number(rng))
    _maybe(rng, r, "active", lambda: rng.random() < 0.5)
    _maybe(rng, r, "tags", lambda: _list(rng, lambda: text(rng)))

    def team() -> dict[str, Any]:
        t: dict[str, Any] = {}
        _maybe(rng, t, "title", lambda: text(rng))
        _maybe(rng, t, "size", lambda: rng.choice(INTS))
        return t

    def skill() -> dict[str, Any]:
        s: dict[str, Any] = {}
        _maybe(rng, s, "name", lambda: text(rng))
        _maybe(rng, s, "state", lambda: rng.choice(["validated", "rejected", text(rng)]))
        return s

    def cluster() -> dict[str, Any]:
        c: dict[str, Any] = {}
        _maybe(rng, c, "name", lambda: text(rng))
        _maybe(rng, c, "level", lambda: rng.choice(INTS))
        _maybe(rng, c, "weight", lambda: _number(rng))
        _maybe(rng, c, "sources", lambda: _list(rng, lambda: text(rng)))
        _maybe(rng, c, "skills", lambda: _list(rng, skill))
        return c

    def props() -> dict[str, Any]:
        p: dict[str, Any] = {}
        _maybe(rng, p, "language", lambda: text(rng))
        _maybe(rng, p, "seniority", lambda: _number(rng))
        _maybe(rng, p, "remote", lambda: rng.random() < 0.5)
        _maybe(rng, p, "langs", lambda: _list(rng, lambda: text(rng)))
        return p

    _maybe(rng, r, "team", team)
    _maybe(rng, r, "clusters", lambda: _list(rng, cluster, 3))
    _maybe(rng, r, "custom_properties", props)
    return r


def records(seed: int, n: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [record(rng, i) for i in range(n)]


def json_lines(recs: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs)


# -- filters ------------------------------------------------------------------------------------------
#: field path -> type
PATHS: dict[str, str] = {
    "external_id": "text", "name": "text", "age": "integer", "score": "number", "active": "boolean",
    "tags": "list[text]", "team__title": "text", "team__size": "integer", "clusters__name": "text",
    "clusters__level": "integer", "clusters__weight": "number", "clusters__sources": "list[text]",
    "clusters__skills__name": "text", "clusters__skills__state": "text", "cp_language": "text",
    "cp_seniority": "number", "cp_remote": "boolean", "cp_langs": "list[text]",
}
TEXT_OPS = ["exact", "iexact", "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith",
            "gt", "gte", "lt", "lte"]
NUMBER_OPS = ["exact", "gt", "gte", "lt", "lte"]


def comparison(rng: random.Random, paths: list[str] | None = None) -> Comparison:
    path = rng.choice(paths or list(PATHS))
    ftype = PATHS[path]
    value: Any
    if rng.random() < 0.08:
        op, value = "is_null", rng.random() < 0.5
    elif rng.random() < 0.04:
        op, value = "exact", None
    elif ftype in ("text", "list[text]"):
        op, value = rng.choice(TEXT_OPS), text(rng)
    elif ftype == "boolean":
        op, value = "exact", rng.random() < 0.5
    elif ftype == "integer":
        op, value = rng.choice(NUMBER_OPS), rng.choice(INT_LITERALS)
    else:
        op, value = rng.choice(NUMBER_OPS), rng.choice(NUMBER_LITERALS)
    if path.startswith("cp_"):
        target: Any = CustomProperty(path[3:])
    else:
        target = FieldRef(tuple(path.split("__")))
    return Comparison(target, op, value)


def expression(rng: random.Random, depth: int = 3, paths: list[str] | None = None) -> Expr:
    r = rng.random()
    if depth <= 0 or r < 0.35:
        return comparison(rng, paths)
    if r < 0.5:
        return Not(expression(rng, depth - 1, paths))
    cls = And if r < 0.78 else Or
    items: list[Expr] = []
    for _ in range(rng.randint(2, 3)):
        item = expression(rng, depth - 1, paths)
        items.extend(item.operands if isinstance(item, cls) else (item,))
    return cls(tuple(items))


#: Paths that make scopes over two levels (outer and inner elements entangled).
NESTED_PATHS = ["clusters__name", "clusters__level", "clusters__weight", "clusters__skills__name",
                "clusters__skills__state", "clusters__sources", "age"]


def filters(seed: int, n: int) -> list[Expr]:
    rng = random.Random(seed)
    out: list[Expr] = []
    for i in range(n):
        out.append(expression(rng, 3, NESTED_PATHS if i % 3 == 0 else None))
    return out


#: Date-time texts around the edges of parse_datetime's reading (forms, offsets, fractions, bad days).
DATETIME_TEXTS = [
    "2024-01-31", "2024-01-31T09:30", "2024-01-31 09:30:00", "2024-01-31t09:30:00z", "2024-01-31T09:30:00,5Z",
    "2024-01-31T10:30:00+01:00", "2024-01-31T10:30:00+0100", "2024-01-31T10:30:00+01", "2024-01-31T00:00-23:59",
    "2024-01-31T09:30:00.000000000Z", "2024-01-31T09:30:00.0000001Z", "2024-01-31T09:30:00.999999Z",
    "2024-01-31T00:00+24:00", "2024-01-31T00:00+23:60", "2024-01-31T23:59:59-00:00", "2024-02-29T12:00",
    "2023-02-29T12:00", "1900-02-29", "2000-02-29", "0001-01-01T00:00+01:00", "0000-01-01", "9999-12-31T23:59:59-23:59",
    "2024-01-31T24:00", "2024-01-31T23:60", "2024-01-31T23:59:60", "2024-13-01", "2024-00-01", "2024-01-00",
    "2024-01-31T09:30:00Z\n", " 2024-01-31", "2024-01-31T9:30", "２０２４-01-31", "", "x", None,
]
_DT_PIECES = ["0", "1", "2", "9", "00", "12", "23", "24", "29", "30", "31", "59", "60", "99", "-", ":", "T", " ",
              "t", "Z", "z", "+", ".", ",", "000", "5", "0000000"]


def datetime_texts(seed: int, n: int) -> list[str]:
    """Generated text near parse_datetime's pattern: a date, then pieces of a time, fraction and offset."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        y, m, d = rng.choice(["2024", "2023", "1900", "2000", "0001", "0000", "9999"]), rng.randint(0, 13), \
            rng.randint(0, 32)
        text = f"{y}-{m:02d}-{d:02d}"
        if rng.random() < 0.8:
            text += rng.choice("Tt ") + f"{rng.randint(0, 25):02d}:{rng.randint(0, 61):02d}"
            if rng.random() < 0.6:
                text += f":{rng.randint(0, 61):02d}"
                if rng.random() < 0.5:
                    text += rng.choice(".,") + "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 9)))
            text += rng.choice(["", "Z", "z", f"+{rng.randint(0, 25):02d}", f"-{rng.randint(0, 25):02d}:{rng.randint(0, 99):02d}",
                                f"+{rng.randint(0, 24):02d}{rng.randint(0, 60):02d}"])
        if rng.random() < 0.1:
            i = rng.randint(0, len(text))
            text = text[:i] + rng.choice(_DT_PIECES) + text[i:]
        out.append(text)
    return out


DATETIME_LITERALS = ["2024-01-31T09:30:00Z", "2024-01-31", "2024-01-31T10:30:00.5+01:00", "0001-01-01T00:00:00Z",
                     "9999-12-31T23:59:59.999999Z", "2000-02-29T00:00:00-05:00"]


# -- shared with the DuckDB suite (tests/nested_cases.py) ----------------------------------------------
def fits_int64(value: Any) -> bool:
    """Whether every integer in ``value`` fits a 64-bit column (a frame's ``integer``)."""
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    if isinstance(value, dict):
        return all(fits_int64(v) for v in value.values())
    if isinstance(value, list):
        return all(fits_int64(v) for v in value)
    return True


#: Misfits (tests/nested_cases.py MISFITS and TOLERATED) that a typed reader refuses by itself.  The others
#: put a number, a boolean or a list where text is declared, which Spark's and Polars' JSON readers read as
#: its JSON text: only ``read_export`` refuses those (docs/engines.md says so).
REFUSED_MISFITS = [
    "text in an integer field", "a float in an integer field", "text in a number field",
    "a number in a boolean field", "text in a boolean field", "an object where a list is declared",
    "a list where an object is declared", "text where a list of text is declared",
    "text where an object is declared", "text in a nested number field",
]


#: Misfits beyond tests/nested_cases.py's, for the nested schema: what the engines' readers would read as
#: another value (``(what, path, value)``, as there).
MORE_MISFITS: list[tuple[str, tuple[str | int, ...], Any]] = [
    ("an integer beyond 2**53 in a number field", ("score",), 2**53 + 1),
    ("an integer beyond 2**53 in a nested number field", ("pets", 0, "weight"), -(2**60) - 1),
    ("an integer beyond every double in a number field", ("score",), 10**400),
    ("the string NaN in a number field", ("score",), "NaN"),
    ("the string Infinity in a number custom property", ("custom_properties", "level"), "Infinity"),
    ("an integer beyond int64", ("age",), 2**63),
    ("an integer below int64", ("pets", 0, "age"), -(2**63) - 1),
    ("an object in a text field", ("name",), {"a": 1}),
    ("a list in a datetime field", ("seen",), ["2024-01-01"]),
    ("a number in a datetime custom property", ("custom_properties", "since"), 1704067200),
    ("a boolean in a list of text", ("pets", 0, "toys"), ["a", False]),
    ("a list of lists where a to-many relation is declared", ("pets",), [["x"]]),
    ("the API's list shape of custom properties", ("custom_properties",),
     [{"property_name": "language", "property_value": "de"}]),
]
#: Lines that are no record of the nested schema, or not one every reader reads alike.
BAD_LINES = [
    ("a member named twice", '{"id": "1", "name": "a", "name": 5}'),
    ("more digits than a double holds", '{"id": "1", "score": 0.10000000000000000555}'),
    ("a number beyond every double", '{"id": "1", "score": 1e400}'),
    ("a lone surrogate", '{"id": "1", "name": "\\ud800"}'),
    ("single quotes (Spark would read them)", "{'id': '1'}"),
    ("not an object", '[{"id": "1"}]'),
    ("a number as the record", "5"),
]
