"""Limits: input length and nesting depth give a FilterSyntaxError (never RecursionError), and hostile
inputs (a megabyte of `(`, of `not `) are refused.  Correctness only: no timing assertions here; the
figures are in docs/language.md and benchmarks/bench_parse.py."""

from __future__ import annotations

import pytest

from skillfilter import And, Comparison, FieldRef, FilterError, FilterSyntaxError, Not, Or, parse, to_text
from skillfilter.language.ast import HARD_MAX_DEPTH
from skillfilter.language.parser import DEFAULT_MAX_DEPTH, DEFAULT_MAX_LENGTH

MB = 1 << 20
A = Comparison(FieldRef(("a",)), "exact", 1)


def test_default_limits() -> None:
    assert DEFAULT_MAX_LENGTH == 100_000
    assert DEFAULT_MAX_DEPTH == 100
    ok = "a='" + "x" * (DEFAULT_MAX_LENGTH - 4) + "'"
    assert len(ok) == DEFAULT_MAX_LENGTH
    assert parse(ok) == Comparison(FieldRef(("a",)), "exact", "x" * (DEFAULT_MAX_LENGTH - 4))
    with pytest.raises(FilterSyntaxError) as info:
        parse(ok + " ")
    assert info.value.reason == f"filter is {DEFAULT_MAX_LENGTH + 1} characters long; the limit is {DEFAULT_MAX_LENGTH}"
    assert info.value.position == DEFAULT_MAX_LENGTH


def test_max_length_is_configurable() -> None:
    with pytest.raises(FilterSyntaxError):
        parse("a=1 and b=2", max_length=10)
    assert parse("a=1 and b=2", max_length=11) == parse("a=1 and b=2")
    assert parse("a='" + "x" * 200_000 + "'", max_length=None)


def _not_chain(n: int) -> str:
    return "not " * n + "a=1"


def _paren_chain(n: int) -> str:
    return "(" * n + "a=1" + ")" * n


def _and_or_chain(n: int) -> str:
    # a=1 and (a=1 or (a=1 and (...))): alternating, so each level is a real tree level.
    text = "a=1"
    for i in range(n):
        text = f"a=1 {'and' if i % 2 else 'or'} ({text})"
    return text


@pytest.mark.parametrize("limit", [1, 2, 5, 50, DEFAULT_MAX_DEPTH, HARD_MAX_DEPTH])
def test_not_chains_up_to_the_limit(limit: int) -> None:
    node = parse(_not_chain(limit - 1), max_depth=limit)
    assert node.depth == limit
    with pytest.raises(FilterSyntaxError) as info:
        parse(_not_chain(limit), max_depth=limit)
    assert info.value.reason == f"filter nested deeper than {limit} levels"
    assert info.value.hint


@pytest.mark.parametrize("limit", [1, 3, 50, DEFAULT_MAX_DEPTH, HARD_MAX_DEPTH])
def test_parentheses_up_to_the_limit(limit: int) -> None:
    assert parse(_paren_chain(limit), max_depth=limit) == A
    with pytest.raises(FilterSyntaxError) as info:
        parse(_paren_chain(limit + 1), max_depth=limit)
    assert info.value.position == limit  # the first `(` too many
    assert info.value.reason == f"filter nested deeper than {limit} levels"


@pytest.mark.parametrize("limit", [3, 10, DEFAULT_MAX_DEPTH])
def test_tree_depth_up_to_the_limit(limit: int) -> None:
    node = parse(_and_or_chain(limit - 1), max_depth=limit)
    assert node.depth == limit
    with pytest.raises(FilterSyntaxError):
        parse(_and_or_chain(limit), max_depth=limit)


def test_max_depth_bounds() -> None:
    for bad in (0, -1, HARD_MAX_DEPTH + 1):
        with pytest.raises(ValueError):
            parse("a=1", max_depth=bad)


def test_deep_trees_cannot_be_built_in_python_either() -> None:
    node = A
    for _ in range(HARD_MAX_DEPTH - 1):
        node = Not(node)
    assert node.depth == HARD_MAX_DEPTH
    with pytest.raises(FilterError):
        Not(node)
    # and every operation on the deepest tree works without recursion trouble
    assert parse(to_text(node), max_depth=HARD_MAX_DEPTH) == node
    assert node == parse(to_text(node), max_depth=HARD_MAX_DEPTH)
    assert hash(node) == hash(parse(to_text(node), max_depth=HARD_MAX_DEPTH))
    assert node.logical_operator_count() == HARD_MAX_DEPTH - 1


@pytest.mark.parametrize(
    "text",
    [
        "(" * MB,
        "not " * (MB // 4),
        "not (" * (MB // 5),
        "(" * MB + "a=1" + ")" * MB,
        "a=1 and " + "(" * MB,
        "not" + " not" * (MB // 4) + " a=1",
        "a=1)" + ")" * MB,
        ")" * MB,
        "'" + "x" * MB,
        "a='" + "\\'" * (MB // 2),
        "a=" + "1" * MB,
        "a" * MB,
        "a__" * (MB // 3) + "=1",
        "=" * MB,
        "a=1 " * (MB // 4),
    ],
    ids=["parens", "nots", "not-parens", "balanced", "after-and", "not-run", "closing", "only-closing",
         "unclosed-string", "escapes", "long-number", "long-name", "long-path", "equals", "no-joins"],
)
def test_megabyte_inputs_are_refused(text: str) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse(text, max_length=None)
    exc = info.value
    assert 0 <= exc.position <= len(text)
    assert len(str(exc)) < 2000  # the message shows a window of the text, not a megabyte


def test_megabyte_inputs_with_the_default_limit() -> None:
    for text in ("(" * MB, "not " * (MB // 4)):
        with pytest.raises(FilterSyntaxError) as info:
            parse(text)
        assert "limit" in info.value.reason


def test_long_flat_filters_are_fine() -> None:
    n = 20_000
    text = " or ".join(f"a={i}" for i in range(n))
    node = parse(text, max_length=None)
    assert isinstance(node, Or) and len(node.operands) == n
    assert node.depth == 2
    assert node.logical_operator_count() == n - 1
    assert to_text(node) == text
    text = " and ".join(["not a=1"] * n)
    node = parse(text, max_length=None)
    assert isinstance(node, And) and len(node.operands) == n
    assert to_text(node, pretty=True).count("\n") == n - 1
