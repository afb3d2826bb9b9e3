"""The value rules of semantics/values.py and the kind names and lookup rule of semantics/operators.py."""

from __future__ import annotations

import datetime as dt
import math
import pickle
import sys
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from skillfilter.errors import FilterSyntaxError
from skillfilter.semantics import values
from skillfilter.semantics.operators import (
    BUILTIN_OPERATORS,
    FIELD_KIND,
    FieldType,
    Operator,
    OpKind,
    ValueKind,
    ValueType,
    lookup_value_problem,
)
from skillfilter.semantics.schema import FIELD_TYPES, parse_datetime

UTC = dt.timezone.utc


# -- dates and date-times ------------------------------------------------------------------------------
@given(st.dates())
def test_dates_read_back(d: dt.date) -> None:
    text = d.isoformat()
    assert values.parse_date(text) == d
    assert values.as_date(text) == d
    assert values.as_date(d) == d
    assert values.as_datetime(text) == dt.datetime(d.year, d.month, d.day, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2024-1-31", "20240131", "2024-01-31T00:00", "2024-02-30", "٢٠٢٤-01-31",
                                  " 2024-01-31", "2024-01-31\n", "2024-W05-3", ""])
def test_not_dates(text: str) -> None:
    assert values.as_date(text) is None
    with pytest.raises(ValueError):
        values.parse_date(text)


def test_a_datetime_is_not_a_date_and_other_values_are_neither() -> None:
    assert values.as_date(dt.datetime(2024, 1, 31)) is None
    for v in (None, 20240131, 1.5, True, b"2024-01-31", ["2024-01-31"]):
        assert values.as_date(v) is None
        assert values.as_datetime(v) is None


@given(st.datetimes(timezones=st.sampled_from([UTC, dt.timezone(dt.timedelta(hours=5, minutes=30)),
                                               dt.timezone(-dt.timedelta(hours=23, minutes=59))])))
def test_datetimes_read_back_in_every_written_form(t: dt.datetime) -> None:
    iso = t.isoformat()
    assert values.parse_datetime(iso) == t
    assert values.as_datetime(iso) == t
    assert values.parse_datetime(iso.replace("+00:00", "Z")) == t
    assert values.parse_datetime(iso.replace("T", " ")) == t
    assert parse_datetime is values.parse_datetime  # the schema module re-exports the one rule


@pytest.mark.parametrize("text", ["2024-01-31T09:30:00.0000001Z", "2024-01-31T09:30+24:00", "2024-01-31T9:30",
                                  "2024-01-31T09:30:00ZZ", "2024-13-01", "2024-01-31T24:00"])
def test_not_datetimes(text: str) -> None:
    assert values.as_datetime(text) is None


def test_naive_datetimes_are_utc() -> None:
    assert values.as_datetime(dt.datetime(2024, 1, 31, 9, 30)) == dt.datetime(2024, 1, 31, 9, 30, tzinfo=UTC)
    assert values.parse_datetime("2024-01-31T09:30:00.5000000") == dt.datetime(2024, 1, 31, 9, 30, 0, 500000,
                                                                             tzinfo=UTC)


_ZONES = st.builds(lambda m: dt.timezone(dt.timedelta(minutes=m)), st.integers(-24 * 60 + 1, 24 * 60 - 1))


@settings(max_examples=300)
@given(st.datetimes(timezones=_ZONES), st.datetimes(timezones=_ZONES))
@example(dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5))),
         dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=4))))
@example(dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(-dt.timedelta(hours=5))),
         dt.datetime(9999, 12, 31, 23, tzinfo=dt.timezone(-dt.timedelta(hours=6))))
def test_canonical_datetime_text_order_is_time_order(a: dt.datetime, b: dt.datetime) -> None:
    ta, tb = values.canonical_datetime(a), values.canonical_datetime(b)
    assert len(ta) == len(tb) == 32
    # Instants as microseconds from a common origin (Python cannot hold every instant in UTC).
    ia, ib = _micros(a), _micros(b)
    assert (ta < tb) == (ia < ib) and (ta == tb) == (ia == ib)


def _micros(t: dt.datetime) -> int:
    micro = dt.timedelta(microseconds=1)
    return (t.replace(tzinfo=None) - dt.datetime(1, 1, 1)) // micro - (t.utcoffset() or dt.timedelta(0)) // micro


# -- numbers -------------------------------------------------------------------------------------------
@given(st.floats(allow_nan=False))
def test_a_float_stands_for_its_shortest_repr(f: float) -> None:
    assert values.float_decimal(f) == Decimal(repr(f))
    if math.isfinite(f):
        assert float(values.float_decimal(f)) == f
    assert values.as_decimal(f) == Decimal(repr(f))


def test_as_decimal() -> None:
    assert values.as_decimal(1e23) == 10**23
    assert values.as_decimal(2**64 + 1) == Decimal(2**64 + 1)
    assert values.as_decimal(Decimal("1.10")) == Decimal("1.1")
    for v in (math.nan, Decimal("NaN"), True, "1", None):
        assert values.as_decimal(v) is None


def test_int64() -> None:
    assert values.INT64_MAX == 2**63 - 1 and values.INT64_MIN == -(2**63)
    assert values.in_int64(2**63 - 1) and values.in_int64(-(2**63))
    assert not values.in_int64(2**63) and not values.in_int64(-(2**63) - 1)


# -- case mapping --------------------------------------------------------------------------------------
@given(st.text())
@example("straße ǅ ﬁ ı İ")
def test_simple_fold_is_one_character_at_a_time(text: str) -> None:
    folded = values.simple_fold(text)
    assert len(folded) == len(text)
    assert all((len(c.upper()) == 1 and f == c.upper()) or (len(c.upper()) > 1 and f == c)
               for c, f in zip(text, folded, strict=True))


def test_fold_table_is_simple_fold() -> None:
    src, dst = values.fold_table()
    assert len(src) == len(dst) > 1000
    assert values.simple_fold(src) == dst
    mapped = set(src)
    sample = (chr(cp) for cp in range(0, sys.maxunicode + 1, 7) if not 0xD800 <= cp <= 0xDFFF)
    assert all(values.simple_fold(c) == c for c in sample if c not in mapped)


# -- kinds ---------------------------------------------------------------------------------------------
def test_kind_enums_are_their_strings() -> None:
    for enum in (OpKind, ValueKind, FieldType, ValueType):
        for member in enum:
            assert member == member.value and hash(member) == hash(member.value)
            assert str(member) == f"{member}" == member.value and repr(member) == repr(member.value)
            assert pickle.loads(pickle.dumps(member)) is member
    assert {op.kind for op in BUILTIN_OPERATORS.values()} == set(OpKind)
    assert all(isinstance(op.kind, OpKind) for op in BUILTIN_OPERATORS.values())
    assert tuple(t.value for t in FieldType) == FIELD_TYPES
    assert {FIELD_KIND[t] for t in FieldType} == set(ValueKind)
    assert FIELD_KIND["list[text]"] is ValueKind.TEXT and FieldType.DATE.kind is ValueKind.TEMPORAL


def test_operator_is_a_frozen_record() -> None:
    op = BUILTIN_OPERATORS["icontains"]
    assert op == Operator("icontains", OpKind.CONTAINS, True, frozenset({"text"}), op.description)
    assert op == Operator("icontains", "contains", True, frozenset({"text"}), op.description)  # type: ignore[arg-type]
    assert pickle.loads(pickle.dumps(op)) == op and hash(pickle.loads(pickle.dumps(op))) == hash(op)
    assert repr(op).startswith("Operator(name='icontains', kind='contains', case_insensitive=True")
    with pytest.raises(AttributeError):
        op.name = "x"  # type: ignore[misc]
    assert Operator("x", OpKind.EXACT).kinds == frozenset(ValueKind)


# -- the lookup rule -----------------------------------------------------------------------------------
@given(st.sampled_from(sorted(BUILTIN_OPERATORS)),
       st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=3)))
def test_lookup_rule(name: str, value: object) -> None:
    problem = lookup_value_problem(name, value)
    assert problem == lookup_value_problem(BUILTIN_OPERATORS[name], value)
    if name == "is_null":
        assert (problem is None) == isinstance(value, bool)
    else:
        assert problem == ("SF212" if value is None and name != "exact" else None)
    assert (problem is None) == (_parses(name, value))


def _parses(name: str, value: object) -> bool:
    """Whether the parser takes the comparison (its own reading of the same rule)."""
    from skillfilter import parse
    from skillfilter.language.printer import format_literal

    try:
        literal = format_literal(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True
    text = f"a={literal}" if name == "exact" else f"a__{name}={literal}"
    try:
        parse(text)
    except FilterSyntaxError:
        return False
    return True


def test_a_schema_operator_of_kind_is_null() -> None:
    missing = Operator("missing", OpKind.IS_NULL)
    assert lookup_value_problem(missing, 1) == "SF211"
    assert lookup_value_problem(missing, None) == "SF211"
    assert lookup_value_problem(missing, False) is None
    assert lookup_value_problem(Operator("eq", OpKind.EXACT), None) == "SF212"  # null only with `exact`


def test_syntax_errors_carry_their_code() -> None:
    e = FilterSyntaxError("`is_null` takes `true` or `false`", "a__is_null=1", 11, code="SF211")
    assert e.code == "SF211" and pickle.loads(pickle.dumps(e)).code == "SF211"
    assert FilterSyntaxError("x").code == "SF100"


@pytest.mark.parametrize(
    ("text", "kw", "code"),
    [
        ("a__is_null=1", None, "SF211"),
        ("a__is_null='x'", None, "SF211"),
        ("a__is_null=null", None, "SF211"),
        ("a__gt=null", None, "SF212"),
        ("cp_x__icontains=null", None, "SF212"),
        (None, {"a__is_null": 1}, "SF211"),
        (None, {"a__startswith": None}, "SF212"),
    ],
)
def test_the_parser_and_builder_set_the_lookup_rule_code(text: str | None, kw: dict[str, object] | None,
                                                         code: str) -> None:
    from skillfilter.language.builder import Q
    from skillfilter.language.parser import parse

    with pytest.raises(FilterSyntaxError) as info:
        if text is not None:
            parse(text)
        else:
            Q(**(kw or {}))
    assert info.value.code == code == lookup_value_problem(
        "is_null" if "is_null" in (text or "".join(kw or {})) else "gt", 1 if code == "SF211" else None
    )
