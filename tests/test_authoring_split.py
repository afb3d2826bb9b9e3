"""split() and simplify(): exact under LANGUAGE.md section 3, checked with predicate() on generated records."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillfilter import And, Expr, FilterError, Not, Or, parse, predicate, simplify, split, to_text
from skillfilter.authoring.split import naive_bound
from test_predicate_properties import comparisons, dense_comparisons, records_for, shared_comparisons

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
LEAVES = st.one_of(shared_comparisons(), dense_comparisons(), comparisons())


@st.composite
def _joined(draw: st.DrawFn, leaves: int) -> Expr:
    parts: list[Expr] = [draw(LEAVES) for _ in range(leaves)]
    while len(parts) > 1:
        i = draw(st.integers(0, len(parts) - 2))
        kind = draw(st.integers(0, 5))
        joined = (And if kind % 2 else Or).of(parts[i], parts[i + 1])
        parts[i: i + 2] = [Not(joined) if kind == 5 else joined]
    return parts[0]


def sized_filters(low: int = 6, high: int = 20) -> st.SearchStrategy[Expr]:
    """Filters of ``low``..``high`` logical operators."""
    return st.integers(max(2, low - 2), high - 1).flatmap(_joined).filter(
        lambda e: low <= e.logical_operator_count() <= high)


def matches(expr: Expr, records: list[Any], **kw: Any) -> list[bool]:
    test = predicate(expr, **kw)
    return [test(r) for r in records]


def union(pieces: list[Expr], records: list[Any], **kw: Any) -> list[bool]:
    tests = [predicate(p, **kw) for p in pieces]
    return [any(t(r) for t in tests) for r in records]


@SETTINGS
@given(st.data(), sized_filters())
def test_split_pieces_fit_and_unite_exactly(data: st.DataObject, expr: Expr) -> None:
    assert 6 <= expr.logical_operator_count() <= 20
    records = [data.draw(records_for(expr)) for _ in range(12)]
    try:
        pieces = split(expr)
    except FilterError as exc:
        assert "cannot split" in str(exc)
        return
    assert pieces
    for piece in pieces:
        assert piece.logical_operator_count() <= 5
        assert parse(to_text(piece)) == piece
    assert union(pieces, records) == matches(expr, records)


@SETTINGS
@given(st.data(), sized_filters(), st.integers(0, 8))
def test_split_any_cap(data: st.DataObject, expr: Expr, cap: int) -> None:
    records = [data.draw(records_for(expr)) for _ in range(8)]
    try:
        pieces = split(expr, max_logical_operators=cap)
    except FilterError as exc:
        assert "cannot split" in str(exc)
        return
    assert all(p.logical_operator_count() <= cap for p in pieces)
    assert union(pieces, records) == matches(expr, records)


@SETTINGS
@given(st.data(), sized_filters(2, 14))
def test_simplify_is_exact_and_never_grows(data: st.DataObject, expr: Expr) -> None:
    records = [data.draw(records_for(expr)) for _ in range(12)]
    small = simplify(expr)
    assert small.logical_operator_count() <= expr.logical_operator_count()
    assert matches(small, records) == matches(expr, records)


EXPORT_PATHS = [
    "skill_clusters__skill_cluster_name", "skill_clusters__domain_name", "skill_clusters__current_skills__name",
    "skill_clusters__related_skills__name", "skill_clusters__sources", "external_id",
]
NAMES = ["DevOps", "Python", "Java", "Finance", "learning", "1"]


@st.composite
def export_records(draw: st.DrawFn) -> dict[str, Any]:
    skills = st.lists(st.fixed_dictionaries({"name": st.sampled_from(NAMES)}), max_size=2)
    cluster = st.fixed_dictionaries({
        "skill_cluster_name": st.sampled_from(NAMES), "domain_name": st.sampled_from(NAMES),
        "current_skills": skills, "related_skills": skills,
        "sources": st.lists(st.sampled_from(NAMES), max_size=2),
    })
    return {"external_id": draw(st.sampled_from(NAMES)),
            "skill_clusters": draw(st.lists(cluster, max_size=3))}


@st.composite
def export_filters(draw: st.DrawFn) -> Expr:
    leaves = [parse(f"{draw(st.sampled_from(EXPORT_PATHS))}='{draw(st.sampled_from(NAMES))}'")
              for _ in range(draw(st.integers(7, 14)))]
    while len(leaves) > 1:
        i = draw(st.integers(0, len(leaves) - 2))
        kind = draw(st.integers(0, 4))
        joined = (And if kind < 2 else Or).of(leaves[i], leaves[i + 1])
        leaves[i: i + 2] = [Not(joined) if kind == 4 else joined]
    return leaves[0]


@SETTINGS
@given(export_filters(), st.lists(export_records(), min_size=5, max_size=10))
def test_split_with_the_export_schema(expr: Expr, records: list[Any]) -> None:
    kw: dict[str, Any] = {"schema": "export", "entity": "employees"}
    try:
        pieces = split(expr, **kw)
    except FilterError as exc:
        assert "cannot split" in str(exc)
        return
    assert all(p.logical_operator_count() <= 5 for p in pieces)
    assert union(pieces, records, **kw) == matches(expr, records, **kw)
    small = simplify(expr, **kw)
    assert matches(small, records, **kw) == matches(expr, records, **kw)


def test_a_long_list_of_ids_needs_ceil_of_n_over_six_requests() -> None:
    expr = Or.of(*(parse(f"external_id='{i}'") for i in range(20)))
    pieces = split(expr, schema="skillengine", entity="employees")
    assert len(pieces) == 4  # 6 comparisons (5 `or`) per request: 6 + 6 + 6 + 2
    assert sorted(c.value for p in pieces for c in p.comparisons()) == sorted(str(i) for i in range(20))


def test_distribution_over_an_and() -> None:
    expr = parse("active=true and (" + " or ".join(f"external_id='{i}'" for i in range(10)) + ")")
    pieces = split(expr, schema="skillengine", entity="employees")
    assert all(p.logical_operator_count() <= 5 for p in pieces)
    records = [{"active": a, "external_id": str(i)} for a in (True, False) for i in range(12)]
    assert union(pieces, records, schema="skillengine", entity="employees") == \
        matches(expr, records, schema="skillengine", entity="employees")


def test_one_element_cannot_be_pulled_apart() -> None:
    # Six conditions on one skill cluster (one scope, one element): no union of smaller filters says that.
    expr = parse(" and ".join(f"skill_clusters__skill_cluster_name__contains='{c}'" for c in "abcdefg"))
    with pytest.raises(FilterError, match="cannot split"):
        split(expr, schema="export", entity="employees")


def test_not_over_one_element_is_refused() -> None:
    expr = parse("not (" + " and ".join(f"a__x={i}" for i in range(7)) + ")")
    with pytest.raises(FilterError, match="cannot split"):
        split(expr)


def test_negated_or_becomes_a_conjunction_that_cannot_be_split() -> None:
    with pytest.raises(FilterError, match="cannot split"):
        split(parse("not (" + " or ".join(f"a={i}" for i in range(8)) + ")"))


def test_naive_bound() -> None:
    assert naive_bound(parse("(a=1 or a=2) and (b=1 or b=2 or b=3)")) == 6


def test_long_lists_split_in_near_linear_time() -> None:
    import time

    def cost(n: int) -> float:
        expr = Or.of(*(parse(f"external_id='{i}'") for i in range(n)))
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            pieces = split(expr)
            best = min(best, time.perf_counter() - start)
        assert len(pieces) == -(-n // 6)
        return best

    # 4 times the terms; quadratic work would be about 16.  A busy machine only ever inflates a ratio, so it
    # is measured again, up to three times, while it is above the bound.
    ratio = float("inf")
    for _ in range(3):
        ratio = min(ratio, cost(2000) / cost(500))
        if ratio < 10:
            break
    assert ratio < 10
