"""Query strings (LANGUAGE.md section 4): ``$entity=<filter>`` parameters, form-decoded."""

from __future__ import annotations

from urllib.parse import parse_qsl, quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillfilter import (
    Expr,
    FilterError,
    FilterSyntaxError,
    QueryStringError,
    parse,
    parse_query_string,
    to_query_string,
    to_text,
)
from skillfilter.language.querystring import query_string_filters
from test_roundtrip_properties import exprs

SETTINGS = settings(max_examples=100, deadline=None)


def test_tutorial_examples() -> None:
    assert parse_query_string("$employees=external_id='1'") == {"employees": parse("external_id='1'")}
    assert parse_query_string("$employees=external_id='1'&$jobs=external_id='2'") == {
        "employees": parse("external_id='1'"),
        "jobs": parse("external_id='2'"),
    }
    assert parse_query_string("$employees=(external_id__startswith='1' or external_id__startswith='2')") == {
        "employees": parse("external_id__startswith='1' or external_id__startswith='2'")
    }


def test_plus_is_a_space_and_percent_2b_a_plus() -> None:
    assert parse_query_string("$employees=a='x+y'+and+b=1") == {"employees": parse("a='x y' and b=1")}
    assert parse_query_string("$employees=a='x%2By'") == {"employees": parse("a='x+y'")}
    assert parse_query_string("$employees=a='x%2by'") == {"employees": parse("a='x+y'")}
    assert parse_query_string("$employees=a%3D'%20'") == {"employees": parse("a=' '")}


def test_dollar_encoded_and_leading_question_mark() -> None:
    assert parse_query_string("%24employees=a=1") == {"employees": parse("a=1")}
    assert parse_query_string("?$employees=a=1") == {"employees": parse("a=1")}
    assert parse_query_string("?%24employees=a=1&%24jobs=b=2") == {"employees": parse("a=1"), "jobs": parse("b=2")}
    # Leading `?` are dropped, however many (issue 8: `??` once dropped the filter silently).
    assert parse_query_string("??$employees=a=1") == {"employees": parse("a=1")}


def test_other_parameters_are_ignored() -> None:
    qs = "page=2&$employees=a=1&sort=-name&&flag&employees=x=%ff&$jobs=b=2&=&%zz=1"
    assert parse_query_string(qs) == {"employees": parse("a=1"), "jobs": parse("b=2")}
    assert parse_query_string("") == {}
    assert parse_query_string("?") == {}
    assert parse_query_string("page=1") == {}


def test_the_same_entity_twice() -> None:
    qs = "$employees=a=1&x=1&%24employees=b=2"
    with pytest.raises(QueryStringError) as info:
        parse_query_string(qs)
    exc = info.value
    assert exc.reason == "the entity `employees` has two filters"
    assert exc.position == qs.index("%24employees")
    assert exc.hint == "join them into one filter with `and`"
    assert isinstance(exc, FilterSyntaxError) and isinstance(exc, FilterError)


def test_empty_value() -> None:
    for qs in ("$employees=", "$employees", "$employees=+++", "$employees=%20"):
        with pytest.raises(FilterSyntaxError) as info:
            parse_query_string(qs)
        assert info.value.reason == "$employees: the filter is empty"


def test_bad_entity_names() -> None:
    for qs in ("$=a=1", "$1x=a=1", "$em-ployees=a=1", "$é=a=1", "$a+b=a=1"):
        with pytest.raises(QueryStringError) as info:
            parse_query_string(qs)
        assert info.value.position == 0
        assert "is not a filter parameter" in info.value.reason


def test_broken_percent_encoding() -> None:
    # A `%` not followed by two hex digits stays as it is (as Django and urllib decode it) ...
    assert parse_query_string("$employees=a='%zz'") == {"employees": parse("a='%zz'")}
    assert parse_query_string("$employees=a='%'") == {"employees": parse("a='%'")}
    assert parse_query_string("$employees=a='%4'") == {"employees": parse("a='%4'")}
    assert parse_query_string("$employees=a='100%25'") == {"employees": parse("a='100%'")}
    # ... bytes that are not UTF-8 are an error (Django would put U+FFFD in: a silently different filter).
    qs = "$jobs=b=1&$employees=a='%ff'"
    with pytest.raises(QueryStringError) as info:
        parse_query_string(qs)
    assert info.value.reason == "percent-encoded bytes are not valid UTF-8"
    assert info.value.position == qs.index("a=")
    with pytest.raises(QueryStringError):
        parse_query_string("$employees=a='%C3'")  # a truncated sequence
    with pytest.raises(QueryStringError):
        parse_query_string("%ff=1")  # in a key too


def test_syntax_error_in_a_filter_names_the_parameter() -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_query_string("$jobs=b=1&$employees=a=1+AND+b=2")
    exc = info.value
    assert exc.reason == "$employees: unexpected `AND`"
    assert exc.text == "a=1 AND b=2"  # the decoded filter, with the position inside it
    assert exc.position == 4
    assert exc.hint == "keywords are lowercase: write `and` instead of `AND`"


def test_hostile_filters_round_trip() -> None:
    expr = parse("a='&=#+%;? /\\\\ é😀 \\'' and b__icontains=\"x&y=z\" or not c='%2B+'")
    qs = to_query_string({"employees": expr, "jobs": parse("d=1")})
    for ch in "#; \n":
        assert ch not in qs
    assert qs.count("&") == 1  # only the separator: a `&` in a filter is escaped
    assert "%2B" in qs and "%26" in qs and "%23" in qs and "%25" in qs
    assert parse_query_string(qs) == {"employees": expr, "jobs": parse("d=1")}
    assert parse_query_string("?" + qs) == {"employees": expr, "jobs": parse("d=1")}
    assert dict(parse_qsl(qs, keep_blank_values=True, strict_parsing=True)) == {
        "$employees": to_text(expr),
        "$jobs": "d=1",
    }


def test_to_query_string_with_text_and_bad_names() -> None:
    assert to_query_string({"employees": " a = 1 "}) == "$employees=a=1"
    assert to_query_string({}) == ""
    with pytest.raises(FilterSyntaxError):
        to_query_string({"employees": "a=="})
    for bad in ("", "$employees", "a b", "é", "1x"):
        with pytest.raises(ValueError):
            to_query_string({bad: parse("a=1")})


entities = st.lists(st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True), min_size=1, max_size=3, unique=True)


@SETTINGS
@given(entities, st.data())
def test_round_trip_and_parse_qsl(names: list[str], data: st.DataObject) -> None:
    filters: dict[str, Expr] = {name: data.draw(exprs) for name in names}
    qs = to_query_string(filters)
    assert parse_query_string(qs, max_length=None) == filters
    pairs = parse_qsl(qs, keep_blank_values=True, strict_parsing=True, errors="strict")
    assert pairs == [("$" + name, to_text(expr)) for name, expr in filters.items()]


@SETTINGS
@given(st.lists(st.tuples(st.text(st.characters(exclude_categories=("Cs",))),
                          st.text(st.characters(exclude_categories=("Cs",)))), max_size=5), st.booleans())
def test_decoding_agrees_with_parse_qsl(pairs: list[tuple[str, str]], plus: bool) -> None:
    """Whatever the encoder (spaces as `+` or as `%20`), the raw filters are what parse_qsl decodes."""
    encode = (lambda s: quote(s, safe="").replace("%20", "+")) if plus else (lambda s: quote(s, safe=""))
    pairs = [("$" + k if i % 2 == 0 else k, v) for i, (k, v) in enumerate(pairs)]
    qs = "&".join(f"{encode(k)}={encode(v)}" for k, v in pairs)
    try:
        ours = {k: text for k, (text, _offset) in query_string_filters(qs).items()}
    except QueryStringError:
        keys = [k for k, _ in pairs if k.startswith("$")]
        bad_name = any(not k[1:].isidentifier() or not k[1:].isascii() for k in keys)
        assert bad_name or len(keys) != len(set(keys))
        return
    theirs = parse_qsl(qs, keep_blank_values=True, errors="strict")
    assert ours == {k[1:]: v for k, v in theirs if k.startswith("$")}


def test_decoded_offsets_point_into_the_query_string() -> None:
    qs = "?x=1&$employees=a%3D1&$jobs=b=2"
    found = query_string_filters(qs)
    assert found["employees"] == ("a=1", qs.index("a%3D1"))
    assert found["jobs"] == ("b=2", qs.index("b=2"))
