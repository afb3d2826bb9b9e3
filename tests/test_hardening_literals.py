"""Issue 8, item 1 and float literals: every literal conversion ends in a value or a diagnostic.

Whatever a literal holds (thousands of digits, huge exponents, Unicode digits ``int()`` would accept, NUL,
surrogates, very long text), converting it to a schema type gives an exactly converted value or SF220 with
a span and a hint, never a Python exception; and a float literal means the decimal value written, so one
a 64-bit double cannot hold is refused with the nearest exact value as a hint.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import subprocess
import sys
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from skillfilter import FilterSyntaxError, FilterValidationError, parse, predicate, to_sql, validate
from skillfilter.language import parser
from skillfilter.language.ast import Comparison, CustomProperty, FieldRef
from skillfilter.semantics.schema import FIELD_TYPES, Schema, convert_literal
from skillfilter.semantics.validate import check

HUGE_DIGITS = "9" * 5000
FIELD_OF = {t: "f_" + t.replace("[", "_").replace("]", "") for t in FIELD_TYPES}
SCHEMA = Schema.from_dict(
    {
        "name": "all_types",
        "entities": {
            "things": {
                "fields": {name: t for t, name in FIELD_OF.items()},
                "custom_properties": {"definitions": {"n": "number", "d": "datetime", "t": "text"}},
            }
        },
    }
)
OPS = ("exact", "gt", "lte", "contains", "iexact")

# Literals that once escaped as ValueError, OverflowError or a silent wrong value.
HOSTILE_TEXT = [
    HUGE_DIGITS,
    "-" + HUGE_DIGITS,
    "+" + "1" * 4301,
    "0" * 6000 + "7",  # 7, however many leading zeros
    "1e999999999",
    "-1e999999999",
    "1e-999999999",
    "1e" + "9" * 5000,
    "1." + "0" * 5000 + "1",
    "0.10000000000000000001",
    "3.14159265358979323846",
    "١٢٣",  # Arabic-Indic digits: int() accepts them
    "１２３",  # fullwidth digits
    "٢٠٢٤-٠١-٠١",
    "１２.５",
    "1_000",
    " 12",
    "12\n",
    "\x00",
    "1\x00",
    "\ud800",
    "2024-01-01\ud800",
    "x" * 100_000,
    "2024-01-01T00:00:00." + "1" * 5000,
    "0000-01-01",
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+23:59",
    "2024-02-30",
    "nan",
    "inf",
    "-Infinity",
    "0x10",
]
HOSTILE_VALUES: list[Any] = [
    *HOSTILE_TEXT,
    10**5000,
    -(10**5000),
    10**4000,
    10**400,
    2**53 + 1,
    -(2**63) - 1,
    1e308,
    5e-324,
    -0.0,
    float("nan"),
    float("inf"),
    dt.date(1, 1, 1),
    dt.datetime(9999, 12, 31, 23, 59, tzinfo=dt.timezone(-dt.timedelta(hours=23))),
]


def _target(type_name: str, custom: bool = False) -> FieldRef | CustomProperty:
    if custom:
        return CustomProperty({"number": "n", "datetime": "d"}.get(type_name, "t"))
    return FieldRef((FIELD_OF[type_name],))


def _exercise(expr: Any) -> list[Any]:
    """Run the whole pipeline; anything but FilterValidationError (or a plain result) fails the test."""
    diags = validate(expr, "things", schema=SCHEMA, max_logical_operators=None)
    assert isinstance(diags, list)
    for d in diags:
        assert d.code.startswith("SF") and isinstance(d.message, str)
        if d.code == "SF220":
            assert d.hint, d
            assert len(d.message) < 400  # long literals are shortened in messages
    for run in (
        lambda: check(expr, "things", schema=SCHEMA),
        lambda: predicate(expr, schema=SCHEMA, entity="things")({"f_integer": 1, "f_text": "x"}),
        lambda: to_sql(expr, schema=SCHEMA, entity="things"),
    ):
        try:
            run()
        except FilterValidationError as exc:
            assert exc.diagnostics == diags
            assert diags
        else:
            assert diags == []
    return diags


@pytest.mark.parametrize("type_name", FIELD_TYPES)
@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=lambda v: type(v).__name__ + str(len(repr(v)) if not isinstance(v, int) else ""))
def test_hostile_literals_give_a_value_or_sf220(type_name: str, value: Any) -> None:
    for op in ("exact", "gt"):
        node = Comparison(_target(type_name), op, value)
        diags = _exercise(node)
        assert [d.code for d in diags] in ([], ["SF220"], ["SF210"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    type_name=st.sampled_from(FIELD_TYPES),
    custom=st.booleans(),
    op=st.sampled_from(OPS),
    value=st.one_of(
        st.text(),
        st.text(alphabet=st.characters(codec="utf-8") | st.characters(categories=["Nd", "Cs", "Zs"])),
        st.from_regex(r"\A[+-]?[0-9]{0,30}(\.[0-9]{0,30})?([eE][+-]?[0-9]{1,12})?\Z"),
        st.integers(),
        st.integers(min_value=10**15, max_value=10**6000) | st.integers(max_value=-(10**15), min_value=-(10**6000)),
        st.floats(),
        st.booleans(),
        st.dates(),
        st.datetimes(timezones=st.timezones() | st.none()),
    ),
)
@example(type_name="integer", custom=False, op="exact", value=HUGE_DIGITS)
@example(type_name="number", custom=False, op="exact", value="1" * 4301)
@example(type_name="text", custom=False, op="exact", value=10**5000)
@example(type_name="number", custom=True, op="exact", value=10**5000)
def test_any_literal_any_type_never_raises_a_python_error(
    type_name: str, custom: bool, op: str, value: Any
) -> None:
    _exercise(Comparison(_target(type_name, custom), op, value))


@settings(max_examples=150, deadline=None)
@given(
    type_name=st.sampled_from(FIELD_TYPES),
    body=st.text(max_size=300) | st.from_regex(r"\A[0-9]{4000,4500}\Z") | st.just(HUGE_DIGITS),
)
def test_any_quoted_text_in_a_filter_gives_a_value_or_a_diagnostic(type_name: str, body: str) -> None:
    escaped = body.replace("\\", "\\\\").replace("'", "\\'")
    _exercise(f"{FIELD_OF[type_name]}='{escaped}'")


def test_5000_digits_on_an_integer_field_is_sf220_with_span_and_hint() -> None:
    text = f"skill_clusters__proficiency_level='{HUGE_DIGITS}'"
    diags = validate(text, "employees", schema="export")
    assert [d.code for d in diags] == ["SF220"]
    d = diags[0]
    assert (d.start, d.end) == (text.index("'"), len(text))
    assert "4000 digits" in d.message and "4000 digits" in (d.hint or "")
    assert len(d.message) < 200
    for run in (
        lambda: check(text, "employees", schema="export"),
        lambda: predicate(text, schema="export", entity="employees"),
        lambda: to_sql(text, schema="export", entity="employees"),
    ):
        with pytest.raises(FilterValidationError) as info:
            run()
        assert info.value.diagnostics == diags


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0" * 6000 + "7", 7), ("-00012", -12), ("+5", 5), ("9" * 4000, int("9" * 4000))],
)
def test_integer_text_converts_exactly(value: str, expected: int) -> None:
    assert convert_literal(value, "integer") == expected


@pytest.mark.parametrize("value", ["١٢٣", "１２３", "1_000", " 12", "12 ", "1\x00", "\ud800", "1" * 4001])
def test_non_ascii_or_malformed_integer_text_is_refused(value: str) -> None:
    diags = validate(f"skill_clusters__proficiency_level={_quote(value)}", "employees", schema="export")
    assert [d.code for d in diags] == ["SF220"]
    assert diags[0].hint


def _quote(s: str) -> str:
    return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"


# ---------------------------------------------------------------------------------------------------
# the command line
# ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["lint", "filter", "sql"])
@pytest.mark.parametrize(
    "literal", [f"'{HUGE_DIGITS}'", "'١٢٣'", "'1e999999999'", "'" + "1" * 4301 + "'"]
)
def test_cli_with_an_unconvertible_literal_exits_1_with_the_diagnostic(command: str, literal: str) -> None:
    text = f"skill_clusters__proficiency_level={literal}"
    argv = [sys.executable, "-m", "skillfilter", command, "--schema", "export", text]
    if command == "sql":
        argv[4:4] = ["--dialect", "sqlite"]
    records = json.dumps([{"external_id": "1", "skill_clusters": [{"proficiency_level": 3}]}])
    proc = subprocess.run(
        argv, input=records, capture_output=True, text=True, env=dict(os.environ), timeout=120, check=False
    )
    assert proc.returncode == 1, proc.stderr
    both = proc.stdout + proc.stderr
    assert "SF220" in both
    assert "Traceback" not in both and "Exceeds the limit" not in both


# ---------------------------------------------------------------------------------------------------
# float literals: the decimal value written, held exactly by a double
# ---------------------------------------------------------------------------------------------------
ACCEPTED = [("0.1", 0.1), ("1.50", 1.5), ("1e16", 1e16), ("2.5e-3", 0.0025), ("-0.0", -0.0),
            ("5e-324", 5e-324), ("1.7976931348623157e308", 1.7976931348623157e308), ("0.000", 0.0),
            ("0e-999999999", 0.0), ("123456789012345.0", 123456789012345.0), ("1" + "0" * 300 + ".0", 1e300)]
REFUSED = [
    ("0.10000000000000000001", "write 0.1"),
    ("3.14159265358979323846", "write 3.141592653589793"),
    ("1e-400", "write 0"),
    ("-1e-400", "write 0"),
    ("9007199254740993.0", "write 9007199254740992.0"),
    ("1.0000000000000000000000000000000000001", "write 1.0"),
    ("1e999999999", "64-bit"),
    ("1e" + "9" * 5000, "64-bit"),
    ("1e-" + "9" * 5000, "write 0"),
]


@pytest.mark.parametrize(("text", "expected"), [*ACCEPTED, *REFUSED], ids=lambda x: str(x)[:30])
def test_float_literal_is_accepted_exactly_when_a_double_holds_it(text: str, expected: Any) -> None:
    if isinstance(expected, float):
        got = parse(f"a__gt={text}").value  # type: ignore[attr-defined]
        assert got == expected and math.copysign(1, got) == math.copysign(1, expected)
        return
    with pytest.raises(FilterSyntaxError) as info:
        parse(f"a__gt={text}")
    err = info.value
    assert (err.position, err.end) == (6, 6 + len(text))
    assert err.hint is not None and expected in err.hint
    # validate reports it as the syntax diagnostic, with the same hint
    [d] = validate(f"external_id={text}", "employees")
    assert d.code == "SF100" and d.hint == err.hint


def _reference_exact(text: str) -> bool:
    f = float(text)
    return math.isfinite(f) and Decimal(repr(f)) == Decimal(text)


@settings(max_examples=300, deadline=None)
@given(
    st.from_regex(r"\A-?[0-9]{1,25}\.[0-9]{1,25}([eE][+-]?[0-9]{1,3})?\Z")
    | st.from_regex(r"\A-?[0-9]{1,20}[eE][+-]?[0-9]{1,3}\Z")
    | st.floats(allow_nan=False, allow_infinity=False).map(repr)
)
@example("0.10000000000000000001")
def test_float_literals_follow_the_decimal_rule(text: str) -> None:
    """Accepted exactly when ``Decimal(repr(float(t))) == Decimal(t)`` (the fast path agrees); every
    double written by ``repr`` is accepted."""
    assert parser.float_value(text)[1] is _reference_exact(text)
    if "." not in text and "e" not in text.lower():
        return
    try:
        got = parse(f"a={text}").value  # type: ignore[attr-defined]
    except FilterSyntaxError as exc:
        assert not _reference_exact(text)
        assert exc.hint and ("write" in exc.hint or "64-bit" in exc.hint)
    else:
        assert _reference_exact(text)
        assert Decimal(repr(got)) == Decimal(text)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("0.1", None),
        ("0.10000000000000000001", "SF220"),
        ("1e-400", "SF220"),
        ("1e400", "SF220"),
        ("12345678901234567890", None),  # integers stay exact integers: every backend compares them exactly
        (12345678901234567890, None),
        ("1" * 4001, "SF220"),  # more digits than any integer literal may have
        ("1.00000000000000000001", "SF220"),
        ("-2.5e-400", "SF220"),
        ("2.5e-3", None),
        (3, None),
    ],
)
def test_number_fields_take_only_decimals_a_double_holds(value: Any, code: str | None) -> None:
    node = Comparison(FieldRef((FIELD_OF["number"],)), "exact", value)
    diags = validate(node, "things", schema=SCHEMA)
    assert [d.code for d in diags] == ([code] if code else [])
    if code:
        assert diags[0].hint and any(w in diags[0].hint for w in ("write", "64-bit", "4000 digits"))


@pytest.mark.parametrize("literal", ["1e23", "1e16", "9.223372036854776e18", "1e300", "2.5e1", "-7e22"])
def test_a_float_literal_on_an_integer_field_means_its_decimal_value(literal: str) -> None:
    """`level=1e23` is 10**23 (the decimal written), not the double's binary value 99999999999999991611392."""
    tree = check(f"skill_clusters__proficiency_level={literal}", "employees", schema="export")
    (comparison,) = tree.comparisons()
    assert comparison.value == int(Decimal(literal))
    test = predicate(tree, schema="export", entity="employees")
    assert test({"skill_clusters": [{"proficiency_level": int(Decimal(literal))}]})
