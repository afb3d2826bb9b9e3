"""``Q(**lookups)``: the parser's rules for lookups, ``&``, ``|``, ``~``, mixing with parsed trees."""

from __future__ import annotations

import datetime as dt
import enum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillfilter import And, Comparison, Expr, FieldRef, FilterSyntaxError, Not, Or, Q, parse, to_text
from skillfilter.language.printer import format_lookup
from test_roundtrip_properties import comparisons, exprs

SETTINGS = settings(max_examples=100, deadline=None)


def test_single_lookups_equal_the_parsed_text() -> None:
    assert Q(external_id="1") == parse("external_id='1'")
    assert Q(external_id__startswith="1") == parse("external_id__startswith='1'")
    assert Q(job__job_family__external_id="x") == parse("job__job_family__external_id='x'")
    assert Q(cp_language="de") == parse("cp_language='de'")
    assert Q(cp_language__iexact="DE") == parse("cp_language__iexact='DE'")
    assert Q(level__gte=3) == parse("level__gte=3")
    assert Q(score__lt=2.5) == parse("score__lt=2.5")
    assert Q(active=True) == parse("active=true")
    assert Q(manager=None) == parse("manager=null")
    assert Q(manager__is_null=False) == parse("manager__is_null=false")
    assert Q(a__gt__exact=1) == Comparison(FieldRef(("a", "gt")), "exact", 1)
    assert Q(a___gt=1) == parse("a___gt=1") == Comparison(FieldRef(("a", "_gt")), "exact", 1)
    assert Q(and_x=1) == parse("and_x=1")
    assert Q(or__not__in=1) == Comparison(FieldRef(("or", "not", "in")), "exact", 1)
    assert Q(a_=1) == Comparison(FieldRef(("a_",)), "exact", 1)


def test_several_lookups_are_anded_in_order() -> None:
    assert Q(a=1, b="x", c__gt=2) == parse("a=1 and b='x' and c__gt=2")


def test_operators_and_mixing_with_parsed_trees() -> None:
    q = Q(external_id__startswith="1") | ~Q(cp_language="de")
    assert q == parse("external_id__startswith='1' or not cp_language='de'")
    assert Q(a=1) & Q(b=2) & Q(c=3) == parse("a=1 and b=2 and c=3")
    assert Q(a=1, b=2) & Q(c=3) == And((Q(a=1), Q(b=2), Q(c=3)))
    assert Q(a=1) | parse("b=2 or c=3") == Or((Q(a=1), Q(b=2), Q(c=3)))
    assert parse("b=2 or c=3") | Q(a=1) == parse("b=2 or c=3 or a=1")
    assert parse("b=2 and c=3") & (Q(a=1) | Q(d=1)) == parse("b=2 and c=3 and (a=1 or d=1)")
    assert ~(Q(a=1) & Q(b=1)) == Not(And((Q(a=1), Q(b=1))))
    assert to_text(~Q(a=1) & (Q(b=1) | Q(c=1))) == "not a=1 and (b=1 or c=1)"


def test_literals() -> None:
    class Colour(enum.IntEnum):
        RED = 1

    class Name(str):
        pass

    class Ratio(float):
        pass

    assert Q(a=Colour.RED) == parse("a=1")
    assert type(Q(a=Colour.RED).value) is int  # type: ignore[attr-defined]
    assert type(Q(a=Name("x")).value) is str  # type: ignore[attr-defined]
    assert type(Q(a=Ratio(0.5)).value) is float  # type: ignore[attr-defined]
    assert Q(a=-0.0) == parse("a=-0.0") != parse("a=0.0")
    assert Q(d=dt.date(2024, 1, 31)) == parse("d='2024-01-31'")
    aware = dt.datetime(2024, 1, 31, 12, 0, tzinfo=dt.timezone.utc)
    assert Q(d__gte=aware) == parse("d__gte='2024-01-31T12:00:00+00:00'")
    assert Q(a="it's \\ \"q\"") == parse("a='it\\'s \\\\ \"q\"'")
    big = 10**3999  # 4000 digits: the most a filter may hold
    assert Q(a=big) == parse(f"a={big}")
    assert Q(a=-big) == parse(f"a=-{big}")


@pytest.mark.parametrize(
    ("lookups", "reason"),
    [
        ({"a__": 1}, "field name ends in `__`"),
        ({"__a": 1}, "field name starts with `__`"),
        ({"a____b": 1}, "empty name in field reference"),
        ({"cp_x__y": 1}, "`y` is not an operator; only an operator may follow a custom property"),
        ({"and": 1}, "`and` is a keyword, not a field"),
        ({"null": 1}, "`null` is a keyword, not a field"),
        ({"a-b": 1}, "`a-b` is not a valid name: a name starts with a letter or `_`"),
        ({"a__1b": 1}, "`1b` is not a valid name: a name starts with a letter or `_`"),
        ({"é": 1}, "`é` is not a valid name: a name starts with a letter or `_`"),
        ({"a__is_null": 1}, "`is_null` takes `true` or `false`"),
        ({"a__is_null": None}, "`is_null` takes `true` or `false`"),
        ({"a__is_null": "true"}, "`is_null` takes `true` or `false`"),
        ({"a__gt": None}, "`null` cannot be used with `gt`, only with `exact`"),
        ({"cp_x__icontains": None}, "`null` cannot be used with `icontains`, only with `exact`"),
        ({"a": float("inf")}, "Q(a=...): inf cannot be written in a filter"),
        ({"a": float("nan")}, "Q(a=...): nan cannot be written in a filter"),
        ({"a": 10**4000}, "Q(a=...): an integer with more than 4000 digits cannot be written in a filter"),
    ],
)
def test_bad_lookups_are_refused_as_the_parser_refuses_them(lookups: dict[str, object], reason: str) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        Q(**lookups)
    assert info.value.reason == reason
    (key, value) = next(iter(lookups.items()))
    # The parser refuses the same lookup (where the value can be written at all).
    if isinstance(value, (int, str)) or value is None:
        literal = "null" if value is None else repr(value) if isinstance(value, str) else str(value)
        with pytest.raises(FilterSyntaxError):
            parse(f"{key}={literal}")


def test_other_misuse() -> None:
    with pytest.raises(TypeError):
        Q()
    with pytest.raises(TypeError):
        Q(a=[1, 2])
    with pytest.raises(TypeError):
        Q(a=b"x")
    with pytest.raises(TypeError):
        Q(a={"x": 1})


@SETTINGS
@given(comparisons())
def test_q_of_any_comparison(node: Comparison) -> None:
    built = Q(**{format_lookup(node): node.value})
    assert built == node
    assert parse(to_text(built), max_length=None) == built


@SETTINGS
@given(exprs, exprs, st.sampled_from(["and", "or"]))
def test_composition_agrees_with_parsing_the_joined_text(left: Expr, right: Expr, keyword: str) -> None:
    combined = (left & right) if keyword == "and" else (left | right)
    text = f"({to_text(left)}) {keyword} ({to_text(right)})"
    assert combined == parse(text, max_length=None)
    assert ~left == parse(f"not ({to_text(left)})", max_length=None)
