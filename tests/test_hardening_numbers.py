"""Issue 8, item 6: numbers are never changed, and compare by the decimal value written.

A number token in the data means ``Decimal(token)``; an integer literal means itself and a float literal
``f`` means ``Decimal(repr(f))``.  The reference below compares those ``Decimal`` values; the predicate (generated
code and interpreted plan), the reader (with and without orjson) and ``skillfilter filter`` must agree with it,
and the command must write each matching record exactly as it was read.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from skillfilter import predicate
from skillfilter.backends.python import compile_plan, interpret
from skillfilter.cli import records as R
from skillfilter.cli.records import read_records
from test_hardening_records import json_impl, run_cli

HAS_ORJSON = R.FAST_LOADS is not None
FASTS = [True, False] if HAS_ORJSON else [False]
KINDS = ["exact", "gt", "gte", "lt", "lte"]


def literal_value(lit: int | float) -> Decimal:
    return Decimal(lit) if type(lit) is int else Decimal(repr(lit))


def holds(kind: str, value: Decimal, lit: Decimal) -> bool:
    if value.is_nan():
        return False
    return {"exact": value == lit, "gt": value > lit, "gte": value >= lit, "lt": value < lit,
            "lte": value <= lit}[kind]


def filter_text(kind: str, lit: int | float) -> str:
    text = str(lit) if type(lit) is int else repr(lit)
    return f"n={text}" if kind == "exact" else f"n__{kind}={text}"


# --------------------------------------------------------------------------------------------------
# strategies: number tokens and literals
# --------------------------------------------------------------------------------------------------
SPECIAL_TOKENS = [
    "1e400", "-1e400", "1E+400", "1e-400", "-1e-400", "0.1", "2.5", "2.50", "1.0", "-0", "-0.0", "0e0", "0E-999",
    "9007199254740992", "9007199254740993", "-9007199254740993", str(2**63), str(2**63 - 1), str(-(2**63) - 1),
    str(2**64 + 1), "1e23", "100000000000000000000000", "99999999999999991611392", "1.7976931348623157e308",
    "1.7976931348623159e308", "5e-324", "2e-324", "1e-320", "0.30000000000000004", "0.1000000000000000055511151231257827",
    "123456789012345678", "1234567890123456.5", "0.000000000000000000001", "3.141592653589793238462643383279",
    "1" + "0" * 400, "-" + "9" * 25 + ".5", "12345678901234567e0",
]


@st.composite
def number_tokens(draw: st.DrawFn) -> str:
    sign = draw(st.sampled_from(["", "-"]))
    whole = draw(st.one_of(st.just("0"), st.from_regex(r"[1-9][0-9]{0,30}", fullmatch=True)))
    frac = draw(st.one_of(st.just(""), st.from_regex(r"\.[0-9]{1,30}", fullmatch=True)))
    exp = draw(st.one_of(
        st.just(""),
        st.builds(lambda e, s, n: f"{e}{s}{n}", st.sampled_from("eE"), st.sampled_from(["", "+", "-"]),
                  st.integers(0, 500)),
    ))
    return sign + whole + frac + exp


TOKENS = st.one_of(
    st.sampled_from(SPECIAL_TOKENS),
    number_tokens(),
    st.integers(-(2**70), 2**70).map(str),
    st.integers(2**53 - 3, 2**53 + 3).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)
LITERALS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.integers(2**53 - 3, 2**53 + 3),
    st.sampled_from([0, 1, -1, 2**63, 10**23, 9007199254740993]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.1, 2.5, 1e23, 1e300, -0.0, 5e-324, 1.7976931348623157e308, 9007199254740992.0, 1e16]),
)


# --------------------------------------------------------------------------------------------------
# the predicate, on Python values
# --------------------------------------------------------------------------------------------------
@settings(max_examples=400, deadline=None)
@given(token=TOKENS, lit=LITERALS, kind=st.sampled_from(KINDS), as_list=st.booleans())
@example(token="100000000000000000000000", lit=1e23, kind="exact", as_list=False)
@example(token="100000000000000000000001", lit=1e23, kind="gt", as_list=False)
@example(token="1e23", lit=10**23, kind="exact", as_list=False)
@example(token="9007199254740993", lit=9007199254740992.0, kind="gt", as_list=True)
def test_predicate_compares_decimal_values(token: str, lit: int | float, kind: str, as_list: bool) -> None:
    """Data as int, float or Decimal (however a reader made it), literal int or float: exact by value."""
    text = filter_text(kind, lit)
    test = predicate(text)
    interpreted = interpret(compile_plan(text)[0])
    value = Decimal(token)
    expected = holds(kind, value, literal_value(lit))
    forms: list[Any] = [value]
    if "." not in token and "e" not in token.lower():
        forms.append(int(token))
    if Decimal(repr(float(token))) == value and abs(value) < Decimal("1e309"):
        forms.append(float(token))
    for form in forms:
        record = {"n": [form] if as_list else form}
        assert test(record) is expected, (text, form)
        assert interpreted(record) is expected, (text, form)


@pytest.mark.parametrize("nan", [float("nan"), Decimal("NaN"), Decimal("sNaN"), Decimal("-NaN")])
@pytest.mark.parametrize("kind", KINDS)
def test_nan_never_equals_or_orders(nan: Any, kind: str) -> None:
    for lit in (1, 1.5, 10**30, 1e300):
        text = filter_text(kind, lit)
        assert predicate(text)({"n": nan}) is False
        assert predicate(f"not {text}")({"n": nan}) is True  # false, not an error that drops the record
        assert predicate(text)({"n": [nan, 2]}) is holds(kind, Decimal(2), literal_value(lit))


def test_booleans_are_not_numbers_and_decimals_are() -> None:
    for kind in KINDS:
        for lit in (0, 1, 1.0, 0.0):
            assert predicate(filter_text(kind, lit))({"n": True}) is False
            assert predicate(filter_text(kind, lit))({"n": False}) is False
    assert predicate("n=1")({"n": Decimal("1.000")}) is True
    assert predicate("n__gte=0.1")({"n": Decimal("0.1")}) is True
    assert predicate("n__gt=0.1")({"n": Decimal("0.1000000000000000055511151231257827")}) is True
    assert predicate("n__gt=1")({"n": 10**400}) is True


# --------------------------------------------------------------------------------------------------
# reading and writing: JSON Lines, arrays, pages; with and without orjson
# --------------------------------------------------------------------------------------------------
def layouts(records: list[str]) -> dict[str, bytes]:
    return {
        "lines": ("\n".join(records) + "\n").encode(),
        "array": ("[" + ",".join(records) + "]").encode(),
        "pretty array": ("[\n  " + ",\n  ".join(records) + "\n]\n").encode(),
        "pages": "\n".join(f'{{"has_next":true,"records":[{r}]}}' for r in records).encode(),
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tokens=st.lists(TOKENS, min_size=1, max_size=8), lit=LITERALS, kind=st.sampled_from(KINDS),
       layout=st.sampled_from(["lines", "array", "pretty array", "pages"]))
def test_filter_reads_numbers_exactly_and_writes_them_as_read(tokens: list[str], lit: int | float, kind: str,
                                                              layout: str) -> None:
    records = [f'{{"id":{i},"n":{token},"t":"{token}"}}' for i, token in enumerate(tokens)]
    data = layouts(records)[layout]
    literal = literal_value(lit)
    expected = [r for r, token in zip(records, tokens) if holds(kind, Decimal(token), literal)]
    test = predicate(filter_text(kind, lit))
    for fast in FASTS:
        with json_impl(fast):
            got = list(read_records(io.BytesIO(data)))
            assert [str(r["n"]) == r["t"] or Decimal(str(r["n"])) == Decimal(r["t"]) for r in got] == [True] * len(got)
            assert [test(r) for r in got] == [holds(kind, Decimal(t), literal) for t in tokens]
            status, out, err = run_cli([filter_text(kind, lit)], data)
        assert (status, err) == (0, "")
        assert out.decode().split("\n")[:-1] == expected  # the records' own text: numbers untouched


@pytest.mark.parametrize("fast", FASTS)
def test_numbers_beyond_doubles(fast: bool) -> None:
    lines = ['{"a": 1e400}', '{"a": -1e400}', '{"a":1e-400}', '{"a": 0.10000000000000000000000001}',
             '{"a": 123456789012345678901234567890.5}', '{"a": 2.50, "b": [1.0, -0.0, 1E2]}']
    data = ("\r\n".join(lines) + "\r\n").encode()
    with json_impl(fast):
        got = list(read_records(io.BytesIO(data)))
        assert [r["a"] for r in got] == [Decimal("1e400"), Decimal("-1e400"), Decimal("1e-400"),
                                         Decimal("0.10000000000000000000000001"),
                                         Decimal("123456789012345678901234567890.5"), 2.5]
        assert [type(v) for v in got[-1]["b"]] == [float, float, float]
        for text, matches in [("a__gt=1", [0, 4, 5]), ("a__lt=0", [1]), ("a__gt=0.1", [0, 3, 4, 5]),
                              ("a=0.1", []), ("a__gt=0", [0, 2, 3, 4, 5]), ("a=2.5", [5])]:
            status, out, _ = run_cli([text], data)
            assert status == 0
            assert out.decode().split("\n")[:-1] == [lines[i] for i in matches], text


@pytest.mark.parametrize("fast", FASTS)
def test_integers_too_long_for_int_are_read(fast: bool) -> None:
    big = "7" * 5000
    data = f'{{"id": 1, "n": {big}}}\n{{"id": 2, "n": 1}}\n'.encode()
    for layout in (data, b"[" + data.replace(b"\n", b",", 1).rstrip(b"\n") + b"]"):
        with json_impl(fast):
            status, out, err = run_cli(["n__gt=1000"], layout)
        assert (status, err) == (0, "")
        assert out == f'{{"id": 1, "n": {big}}}\n'.encode() or out == f'{{"id":1,"n":{big}}}\n'.encode()


def test_lines_are_written_byte_for_byte() -> None:
    lines = ['{ "a" : 1.50 ,"s":"\\u00e9\\/ x" }', '\t{"a": 1E+2, "big": 12345678901234567890123}  ']
    data = ("\ufeff" + "\n".join(lines) + "\n").encode()
    for fast in FASTS:
        with json_impl(fast):
            status, out, _ = run_cli(["a__gt=1"], data)
        assert status == 0
        assert out == ("\n".join(lines) + "\n").encode()
    assert json.loads(out.split(b"\n")[0]) == {"a": 1.5, "s": "é/ x"}
