"""Issue 8, item 12 (library parts): messages that say what is wrong, errors of our own for bad arguments,
and query strings whose filters are never silently dropped."""

from __future__ import annotations

import unicodedata
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import skillfilter.errors as errors
from skillfilter import (
    FilterError,
    FilterSyntaxError,
    parse,
    parse_query_string,
    predicate,
    to_query_string,
    validate,
)
from skillfilter.errors import QueryStringError
from skillfilter.semantics.schema import Schema
from skillfilter.semantics.validate import check


def syntax_error(text: str) -> FilterSyntaxError:
    with pytest.raises(FilterSyntaxError) as info:
        parse(text)
    return info.value


# ---------------------------------------------------------------------------------------------------
# an unescaped quote inside a string
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "quote_at", "fix"),
    [
        ("a='it's'", 5, "'it\\'s'"),
        ('a="say "hi""', 7, None),
        ("name='O'Brien' and b=1", 7, "'O\\'Brien'"),
        ("a='x''y'", 4, "'x\\'y'"),  # SQL's doubled quote
        ('a="5" screen"', 4, None),
        ("a='it's", 5, None),
    ],
)
def test_unescaped_quote_inside_a_string(text: str, quote_at: int, fix: str | None) -> None:
    err = syntax_error(text)
    assert "unescaped" in err.reason and "inside a string" in err.reason
    assert "join comparisons" not in (err.hint or "")
    assert err.position == quote_at and text[quote_at] in "'\""
    assert err.hint is not None and "\\" + text[quote_at] in err.hint
    if fix is not None:
        assert f"`{fix}`" in err.hint
        assert parse(text[: text.index("=") + 1] + fix).value == fix[1:-1].replace("\\'", "'")  # type: ignore[attr-defined]


@settings(max_examples=100, deadline=None)
@given(
    before=st.text(st.characters(exclude_characters="'\\\"`", exclude_categories=["Cs", "Cc"]), max_size=20),
    after=st.from_regex(r"\A[A-Za-z][A-Za-z0-9 ]{0,15}\Z"),
)
def test_any_apostrophe_inside_a_string_is_named_and_the_fix_parses(before: str, after: str) -> None:
    err = syntax_error(f"a='{before}'{after}'")
    assert "unescaped ' inside a string" in err.reason
    assert err.position == len("a='") + len(before)
    assert err.hint is not None
    fix = err.hint.split("`")[1]
    if "…" not in fix:
        assert parse("a=" + fix).value == f"{before}'{after}"  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------------
# incomplete numbers
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "reason", "hint"),
    [
        ("a=1e", "incomplete number `1e`", "`1e5`"),
        ("a=1e+", "incomplete number `1e+`", "`1e5`"),
        ("a=-2.5E- and b=1", "incomplete number `-2.5E-`", "`2.5e-3`"),
        ("a__gt=12e", "incomplete number `12e`", "`2.5e-3`"),
        ("a=1.", "incomplete number `1.`", "`1.0`"),
        ("a=3.e5", "incomplete number `3.`", "`3.0`"),
        ("a=.5", "a number starts with a digit", "`0.5`"),
        ("a=- and b=1", "`-` must be followed by digits", "`-1`"),
        ("a=1x", "right after the number `1`", "`'1x'`"),
    ],
)
def test_incomplete_numbers_say_what_is_missing(text: str, reason: str, hint: str) -> None:
    err = syntax_error(text)
    assert reason in err.reason
    assert err.hint is not None and hint in err.hint
    assert "join comparisons" not in err.hint


@given(st.from_regex(r"\A-?[0-9]{1,12}(\.[0-9]{1,5})?\Z"), st.sampled_from(["e", "E", "e+", "e-", "E-"]))
def test_any_number_with_an_empty_exponent(number: str, exponent: str) -> None:
    text = f"a={number}{exponent}"
    err = syntax_error(text)
    assert err.reason.startswith(f"incomplete number `{number}{exponent}`")
    assert err.expected == ("digits",)
    assert (err.position, err.end) == (2, len(text))
    assert err.hint is not None
    for example in err.hint.partition("write")[2].split("`")[1::2]:
        parse("a=" + example)


# ---------------------------------------------------------------------------------------------------
# Unicode spaces and look-alikes
# ---------------------------------------------------------------------------------------------------
UNICODE_SPACES = sorted(
    {chr(c) for c in range(0x110000) if chr(c).isspace() and chr(c) not in " \t\r\n"}
    | set("\u200b\u200c\u200d\u2060\ufeff")
)


@pytest.mark.parametrize("space", UNICODE_SPACES, ids=lambda c: f"U+{ord(c):04X}")
def test_unicode_spaces_are_named(space: str) -> None:
    text = f"a=1{space}and b=2"
    err = syntax_error(text)
    code = f"U+{ord(space):04X}"
    assert err.position == 3
    assert err.hint is not None and err.hint.startswith(code) and "use a plain space" in err.hint
    assert code in err.reason


def test_no_break_space_hint_names_the_character() -> None:
    err = syntax_error("external_id='1'\u00a0and name='x'")
    assert err.hint == "U+00A0 NO-BREAK SPACE is not white space here; use a plain space"


@settings(max_examples=100, deadline=None)
@given(
    space=st.sampled_from(UNICODE_SPACES),
    where=st.integers(min_value=0, max_value=100),
)
def test_a_unicode_space_anywhere_between_tokens_is_named(space: str, where: int) -> None:
    base = "not a=1 and (b__gt=2 or c='x y')"
    gaps = [i for i, ch in enumerate(base) if ch == " " and i < base.index("'")]
    i = gaps[where % len(gaps)]
    err = syntax_error(base[:i] + space + base[i + 1 :])
    assert err.position == i
    assert err.hint is not None and f"U+{ord(space):04X}" in err.hint
    # Inside a string it is just a character.
    assert parse(base.replace("x y", f"x{space}y")).operands[1].operands[1].value == f"x{space}y"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("a=\u2018x\u2019", "write ' instead of \u2018"),
        ("a=\u201cx\u201d", 'write " instead of \u201c'),
        ("a=\u00abx\u00bb", 'write " instead of \u00ab'),
        ("a=`x`", "write ' instead of `"),
        ("a\uff1d1", "write `=` instead of `\uff1d`"),
        ("a=\u22121", "write `-` instead of `\u2212`"),
        ("\uff08a=1\uff09", "write `(` instead of `\uff08`"),
    ],
)
def test_look_alike_characters_get_the_plain_one(text: str, hint: str) -> None:
    err = syntax_error(text)
    assert err.hint is not None and hint in err.hint
    ch = text[err.position]
    assert unicodedata.name(ch) in err.reason


# ---------------------------------------------------------------------------------------------------
# bad arguments: our own errors, still TypeError / ValueError
# ---------------------------------------------------------------------------------------------------
TYPE_ERRORS: list[tuple[str, Any]] = [
    ("validate entity None", lambda: validate("a=1", None)),  # type: ignore[arg-type]
    ("validate entity int", lambda: validate("a=1", 3)),  # type: ignore[arg-type]
    ("validate expr int", lambda: validate(3, "employees")),  # type: ignore[arg-type]
    ("validate schema int", lambda: validate("a=1", "employees", schema=3)),  # type: ignore[arg-type]
    ("validate cap str", lambda: validate("a=1", "employees", max_logical_operators="5")),  # type: ignore[arg-type]
    ("check entity None", lambda: check("a=1", None)),  # type: ignore[arg-type]
    ("predicate entity int", lambda: predicate("a=1", schema="export", entity=3)),  # type: ignore[arg-type]
    ("parse None", lambda: parse(None)),  # type: ignore[arg-type]
    ("parse bytes", lambda: parse(b"a=1")),  # type: ignore[arg-type]
    ("parse max_depth str", lambda: parse("a=1", max_depth="5")),  # type: ignore[arg-type]
    ("parse max_length str", lambda: parse("a=1", max_length="5")),  # type: ignore[arg-type]
    ("parse_query_string None", lambda: parse_query_string(None)),  # type: ignore[arg-type]
    ("parse_query_string bytes", lambda: parse_query_string(b"$employees=a=1")),  # type: ignore[arg-type]
    ("to_query_string None", lambda: to_query_string(None)),  # type: ignore[arg-type]
    ("to_query_string list", lambda: to_query_string([("employees", "a=1")])),  # type: ignore[arg-type]
    ("to_query_string value int", lambda: to_query_string({"employees": 3})),  # type: ignore[dict-item]
    ("to_query_string key int", lambda: to_query_string({3: "a=1"})),  # type: ignore[dict-item]
    ("Schema.builtin int", lambda: Schema.builtin(3)),  # type: ignore[arg-type]
    ("Schema.load None", lambda: Schema.load(None)),  # type: ignore[arg-type]
]
VALUE_ERRORS: list[tuple[str, Any]] = [
    ("validate cap negative", lambda: validate("a=1", "employees", max_logical_operators=-1)),
    ("parse max_depth 0", lambda: parse("a=1", max_depth=0)),
    ("to_query_string bad entity", lambda: to_query_string({"x y": "a=1"})),
]


@pytest.mark.parametrize(("name", "call"), TYPE_ERRORS, ids=[n for n, _ in TYPE_ERRORS])
def test_wrong_argument_types_raise_our_type_error(name: str, call: Any) -> None:
    with pytest.raises(errors.FilterTypeError) as info:
        call()
    assert isinstance(info.value, TypeError) and isinstance(info.value, FilterError)
    message = str(info.value)
    assert " not " in message and len(message) < 200


@pytest.mark.parametrize(("name", "call"), VALUE_ERRORS, ids=[n for n, _ in VALUE_ERRORS])
def test_wrong_argument_values_raise_our_value_error(name: str, call: Any) -> None:
    with pytest.raises(errors.FilterArgumentError) as info:
        call()
    assert isinstance(info.value, ValueError) and isinstance(info.value, FilterError)


def test_validate_none_entity_says_what_to_pass() -> None:
    with pytest.raises(TypeError, match=r"entity must be an entity name .*not None"):
        validate("a=1", None)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------------
# query strings: URLs, `??`, and filters that would have been dropped
# ---------------------------------------------------------------------------------------------------
EMPLOYEES = {"employees": parse("a=1")}


@pytest.mark.parametrize(
    "qs",
    [
        "https://host/employees?$employees=a=1",
        "http://host:8000/api/v1/employees?page=2&$employees=a=1#results",
        "/employees?$employees=a%3D1",
        "employees?%24employees=a=1",
        "??$employees=a=1",
        "???$employees=a=1",
        "https://host/x??$employees=a=1",
    ],
)
def test_urls_and_leading_question_marks(qs: str) -> None:
    assert parse_query_string(qs) == EMPLOYEES


@pytest.mark.parametrize(
    ("qs", "words", "hint"),
    [
        ("employees=a=1", "start with `$`", "$employees=a=1"),
        ("https://host/x?employees=external_id%3D%271%27", "start with `$`", "$employees="),
        ("page=1&jobs=b__gt=2", "start with `$`", "$jobs=b__gt=2"),
        ("%2524employees=a=1", "percent-encoded twice", "$employees="),
        ("+$employees=a=1", "white space", "$employees="),
        ("external_id='1'", "no `$entity=` parameter", "$employees=external_id='1'"),
        ("?a__gt=1 and b=2", "no `$entity=` parameter", "$employees=a__gt=1"),
        # ordinary parameters (no filter meant) are still ignored
        ("", None, None),
        ("?", None, None),
        ("page=2", None, None),
        ("page=2&sort=name", None, None),
        ("https://host/x", None, None),
        ("next=/x?y=1", None, None),
        ("x=%ff", None, None),
    ],
)
def test_a_filter_that_would_be_dropped_is_an_error(qs: str, words: str | None, hint: str | None) -> None:
    if words is None:
        assert parse_query_string(qs) == {}
        return
    with pytest.raises(QueryStringError) as info:
        parse_query_string(qs)
    assert words in info.value.reason
    assert info.value.hint is not None and hint is not None and hint in info.value.hint


_filters = st.sampled_from(["a=1", "b__gt=2 and c='x&y'", "not d__is_null=true", "e='?#'", "f='%'"])


@settings(max_examples=150, deadline=None)
@given(
    scheme=st.sampled_from(["https://", "http://", "HTTP://", "git+ssh://", ""]),
    host=st.from_regex(r"\A[a-z][a-z0-9.-]{0,10}(:[0-9]{1,5})?\Z"),
    path=st.lists(st.from_regex(r"\A[A-Za-z0-9_.~-]{1,8}\Z"), max_size=3),
    filters=st.dictionaries(st.sampled_from(["employees", "jobs", "skills"]), _filters, max_size=3),
    others=st.lists(st.from_regex(r"\A[a-z]{1,5}=[a-z0-9]{0,5}\Z"), max_size=2),
    fragment=st.sampled_from(["", "#top", "#$employees=x=1"]),
)
def test_a_url_reads_as_its_query(
    scheme: str, host: str, path: list[str], filters: dict[str, str], others: list[str], fragment: str
) -> None:
    query = "&".join([*others, to_query_string(filters)] if filters else others)
    assume(query)
    base = (scheme + host if scheme else "") + "/" + "/".join(path)
    expected = parse_query_string(query)
    assert expected == {k: parse(v) for k, v in filters.items()}
    assert parse_query_string(f"{base}?{query}{fragment}") == expected
    assert parse_query_string(f"?{query}") == expected
    assert parse_query_string(f"??{query}") == expected
