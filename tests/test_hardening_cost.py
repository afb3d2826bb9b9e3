"""Issue 8, item 8: cost that explodes.

For a fixed filter, evaluation grows linearly with the record (``predicate()`` and the SQL plans), and
compile time grows near-linearly with the filter.  Growth is checked as ratios within one run (time, or
reads of the record, at 4n over n), never as absolute times; exactness of the joint plans is checked
against the brute-force reference evaluator.
"""

from __future__ import annotations

import gc
import itertools
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reference import Reference
from skillfilter import And, Comparison, Expr, FieldRef, Not, Or, parse, to_sql
from skillfilter.backends.python import compile_plan, predicate

REFERENCE = Reference()


class Budget(BaseException):
    """Raised when a record has been read more often than a linear plan needs (not an ``Exception``, so
    that the predicate's own guard does not swallow it)."""


class Counting(Mapping[str, Any]):
    """A mapping that counts the reads of its keys and stops the run past a budget."""

    def __init__(self, data: dict[str, Any], counter: list[int], budget: int) -> None:
        self.data, self.counter, self.budget = data, counter, budget

    def __getitem__(self, key: str) -> Any:
        self.counter[0] += 1
        if self.counter[0] > self.budget:
            raise Budget
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


def counted(value: Any, counter: list[int], budget: int) -> Any:
    if isinstance(value, dict):
        return Counting({k: counted(v, counter, budget) for k, v in value.items()}, counter, budget)
    if isinstance(value, list):
        return [counted(v, counter, budget) for v in value]
    return value


def pairwise(lists: int) -> tuple[str, Callable[[int], dict[str, Any]]]:
    """``(Li__x=c or Lj__x=c)`` for each pair i<j; each list's elements cycle through its constants, so
    every list can satisfy one clause only: false once there are more clauses than lists."""
    clauses, mine = [], {i: [] for i in range(lists)}  # type: dict[int, list[int]]
    for c, (i, j) in enumerate(itertools.combinations(range(lists), 2), start=1):
        clauses.append(f"(l{i}__x={c} or l{j}__x={c})")
        mine[i].append(c)
        mine[j].append(c)

    def record(n: int) -> dict[str, Any]:
        return {f"l{i}": [{"x": mine[i][k % len(mine[i])]} for k in range(n)] for i in range(lists)}

    return " and ".join(clauses), record


def two_lists(n: int) -> dict[str, Any]:
    # The matching elements come last, so no early exit hides the cost.
    return {"a": [{"x": 5 + k % 3} for k in range(n)] + [{"x": 1}],
            "b": [{"x": 5 + k % 3} for k in range(n)] + [{"x": 2}]}


TWO_LISTS = "(a__x=1 or b__x=1) and (a__x=2 or b__x=2)"
# Nested prefixes: `a__b__x` and `a__y` speak of one element of `a`, entangled with `c`.
NESTED = "(a__b__x=1 or c__x=1) and (a__b__x=2 or c__x=2) and (a__y=3 or c__y=3)"


def nested(n: int) -> dict[str, Any]:
    return {"a": [{"y": 3, "b": [{"x": 5}, {"x": 1}]} for _ in range(n)],
            "c": [{"x": 7, "y": 0} for _ in range(n)] + [{"x": 2, "y": 9}]}


CASES: list[tuple[str, Callable[[int], dict[str, Any]], bool]] = [
    (TWO_LISTS, two_lists, True),
    (NESTED, nested, True),
    (pairwise(4)[0], pairwise(4)[1], False),
    (pairwise(7)[0], pairwise(7)[1], False),
]


def reads(text: str, record: dict[str, Any], budget: int) -> tuple[bool, int]:
    counter = [0]
    answer = predicate(parse(text, max_length=None))(counted(record, counter, budget))
    return answer, counter[0]


def test_record_reads_grow_linearly() -> None:
    for text, make, expected in CASES:
        n = 20
        small_answer, small = reads(text, make(n), budget=10**6)
        assert small_answer is expected, text
        # Nested loops over independent lists read the record |a|*|b|*... times: past this budget.
        big_answer, big = reads(text, make(4 * n), budget=8 * small)
        assert big_answer is expected, text
        assert big / small < 5, (text, small, big)


def best_time(fn: Callable[[], object], repeat: int = 3) -> float:
    """The best of ``repeat`` runs, with the cyclic garbage collector paused: its passes over every live
    object (the big record included) would add a cost that grows with the heap, not with the work."""
    best = float("inf")
    gc.collect()
    gc.disable()
    try:
        for _ in range(repeat):
            start = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - start)
    finally:
        gc.enable()
    return best


def retried(measure: Callable[[], float], bound: float, tries: int = 3) -> float:
    """The smallest of up to ``tries`` measurements of a growth ratio, stopping once one is below ``bound``:
    a busy machine only ever inflates a ratio, while quadratic work gives about 16 every time."""
    ratio = float("inf")
    for _ in range(tries):
        ratio = min(ratio, measure())
        if ratio < bound:
            break
    return ratio


def test_predicate_time_grows_linearly() -> None:
    for text, make, expected in CASES[:3]:
        test = predicate(parse(text, max_length=None))
        n = 1000  # large enough that fixed costs and caches do not distort the ratio
        small, big = make(n), make(4 * n)
        assert test(small) is expected and test(big) is expected
        # Best of 5 runs each, up to 6 tries: a CI machine shared with other work once gave 11 for 3 and 3.
        ratio = retried(lambda: best_time(lambda: test(big), 5) / best_time(lambda: test(small), 5), 8, 6)
        assert ratio < 8, (text, ratio)


def test_seven_lists_of_twenty_is_fast_and_exact() -> None:
    text, make = pairwise(7)
    test = predicate(parse(text, max_length=None))
    # 7 lists of 20 elements with 6 comparisons each: a linear plan reads each value a few times
    answer, count = reads(text, make(20), budget=7 * 20 * 6 * 4)
    assert answer is False and count > 0
    record = make(20)
    # One element per clause's first list: now every clause holds through some list.
    record["l0"] = [{"x": c} for c in range(1, 22)]
    assert test(record) is False  # l0 can still choose only one element
    assert predicate("(l0__x=1 or l1__x=1) and (l0__x=2 or l1__x=2)")(
        {"l0": [{"x": 1}, {"x": 2}], "l1": []}) is False
    assert predicate("(l0__x=1 or l1__x=1) and (l0__x=2 or l1__x=2)")(
        {"l0": [{"x": 1}], "l1": [{"x": 3}, {"x": 2}]}) is True


# --------------------------------------------------------------------------------------------------
# compile time
# --------------------------------------------------------------------------------------------------
SCHEMALESS_FILTERS: list[Callable[[int], str]] = [
    lambda n: " and ".join(f"f{i}=1" for i in range(n)),  # n prefixes
    lambda n: " or ".join(f"not a__b{i % 9}__x={i}" for i in range(n)),
    lambda n: " and ".join(f"(l{i % 5}__x={i} or l{(i + 1) % 5}__x={i})" for i in range(n)),
]
EXPORT_FILTERS: list[Callable[[int], str]] = [
    lambda n: " and ".join(f"skill_clusters__skill_cluster_name='{i}'" for i in range(n)),
    lambda n: " or ".join(f"not skill_clusters__current_skills__name='{i}'" for i in range(n)),
    lambda n: " and ".join(f"(skill_clusters__current_skills__name='{i}' or "
                           f"skill_clusters__related_skills__name='{i}')" for i in range(n)),
]


def test_compile_time_near_linear() -> None:
    # Near-linear: 4x the comparisons may cost somewhat more than 4x (allocation, the machine's caches, other
    # load), far from the 16x of a quadratic step (the planner's prefix unions were: 25x).
    def ratio(compile_: Callable[[Expr], object], make: Callable[[int], str], n: int = 300) -> float:
        small, big = parse(make(n), max_length=None), parse(make(4 * n), max_length=None)
        return retried(lambda: best_time(lambda: compile_(big)) / best_time(lambda: compile_(small)), 10)

    for make in SCHEMALESS_FILTERS:
        assert ratio(predicate, make) < 10, make(2)
        # the planner alone (Python's own compile() of the generated source is linear too)
        assert ratio(compile_plan, make, 2000) < 10, make(2)
    for make in EXPORT_FILTERS:
        assert ratio(lambda e: predicate(e, schema="export", entity="employees"), make) < 10, make(2)
        assert ratio(lambda e: to_sql(e, schema="export", entity="employees"), make) < 10, make(2)


# --------------------------------------------------------------------------------------------------
# exactness of the joint plans
# --------------------------------------------------------------------------------------------------
PATHS = [("a", "x"), ("a", "b", "x"), ("a", "y"), ("a", "b", "y"), ("c", "x"), ("c",), ("d", "x"),
         ("a", "c", "x")]
VALUES: list[Any] = [1, 2, "x", None]


@st.composite
def atoms(draw: st.DrawFn) -> Comparison:
    path = draw(st.sampled_from(PATHS))
    if draw(st.integers(0, 5)) == 0:
        return Comparison(FieldRef(path), "is_null", draw(st.booleans()))
    return Comparison(FieldRef(path), "exact", draw(st.sampled_from(VALUES)))


def entangled_filters() -> st.SearchStrategy[Expr]:
    clause = st.one_of(atoms(), st.lists(atoms(), min_size=2, max_size=3).map(lambda xs: Or.of(*xs)))
    leaf = st.one_of(clause, clause.map(Not))
    return st.recursive(
        leaf,
        lambda sub: st.one_of(
            st.lists(sub, min_size=2, max_size=4).map(lambda xs: And.of(*xs)),
            st.lists(sub, min_size=2, max_size=3).map(lambda xs: Or.of(*xs)),
            sub.map(Not),
        ),
        max_leaves=8,
    )


scalar = st.sampled_from([1, 2, "x", None, "junk"])
inner = st.one_of(scalar, st.lists(st.fixed_dictionaries({}, optional={"x": scalar, "y": scalar}), max_size=3))
element = st.one_of(
    st.fixed_dictionaries({}, optional={"x": scalar, "y": scalar, "b": inner, "c": inner}),
    scalar,
)
lists = st.one_of(st.lists(element, max_size=4), element, st.none())
entangled_records = st.fixed_dictionaries({}, optional={"a": lists, "c": lists, "d": lists})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entangled_filters(), st.lists(entangled_records, min_size=1, max_size=4))
def test_entangled_scopes_match_reference(expr: Expr, records: list[dict[str, Any]]) -> None:
    from skillfilter.backends.python.joint import joint_predicate

    test = predicate(expr)
    plan, _tree = compile_plan(expr)
    joint = joint_predicate(plan)  # the joint evaluator on every plan, entangled or not
    for record in records:
        # duplicates of elements must not change anything
        doubled = {k: (v + v if isinstance(v, list) else v) for k, v in record.items()}
        for r in (record, doubled):
            expected = REFERENCE(expr, r)
            assert test(r) is expected, (expr, r)
            assert joint(r) is expected, (expr, r)


def test_entangled_detection() -> None:
    from skillfilter.backends.python.joint import entangled

    assert entangled(compile_plan(TWO_LISTS)[0])
    assert entangled(compile_plan(NESTED)[0])
    # Ordinary filters keep the generated nested loops.
    assert not entangled(compile_plan("a__x=1 and a__y=2 and b__x=1")[0])
    assert not entangled(compile_plan("a__x=1 and not a__b__y=1")[0])


# --------------------------------------------------------------------------------------------------
# SQL (SQLite): entangled lists become DISTINCT truth-vector tables, not a join of every list's rows
# --------------------------------------------------------------------------------------------------
SQL_CASES = [
    # two sibling lists of one cluster
    "(skill_clusters__current_skills__name='a' or skill_clusters__related_skills__name='a') and "
    "(skill_clusters__current_skills__name='b' or skill_clusters__related_skills__name='b')",
    # three lists pairwise
    "(skill_clusters__current_skills__name='a' or skill_clusters__related_skills__name='a') and "
    "(skill_clusters__current_skills__name='b' or skill_clusters__rejected_skills__name='b') and "
    "(skill_clusters__related_skills__name='c' or skill_clusters__rejected_skills__name='c')",
    # a nested prefix (skills, then their sources) entangled with another list
    "(skill_clusters__current_skills__skill_sources='s' or skill_clusters__related_skills__name='s') and "
    "(skill_clusters__current_skills__name='t' or skill_clusters__related_skills__name='t')",
]


def sql_record(n: int) -> dict[str, Any]:
    def skills(extra: str) -> list[dict[str, Any]]:
        return [{"name": f"n{k % 5}", "skill_sources": ["x"]} for k in range(n)] + [{"name": extra}]

    return {"external_id": "1", "skill_clusters": [
        {"current_skills": skills("z"), "related_skills": skills("y"), "rejected_skills": skills("w")}]}


def sqlite_loaded(records: list[dict[str, Any]]) -> sqlite3.Connection:
    from skillfilter.backends.sql import register_functions
    from skillfilter.backends.sql.load import create_tables, load_records

    conn = sqlite3.connect(":memory:")
    register_functions(conn)
    create_tables(conn, "export", "employees")
    load_records(conn, records, "export", "employees")
    conn.commit()
    return conn


def test_sqlite_time_grows_linearly() -> None:
    for text in SQL_CASES:
        sql, params = to_sql(text, schema="export", entity="employees", select=True)
        n = 400
        small, big = sqlite_loaded([sql_record(n)]), sqlite_loaded([sql_record(4 * n)])
        assert small.execute(sql, params).fetchall() == []
        assert big.execute(sql, params).fetchall() == []
        ratio = retried(lambda: best_time(lambda: big.execute(sql, params).fetchall())
                        / best_time(lambda: small.execute(sql, params).fetchall()), 8)
        assert ratio < 8, (text, ratio)


SKILL_PATHS = ["skill_clusters__current_skills__name", "skill_clusters__related_skills__name",
               "skill_clusters__rejected_skills__name", "skill_clusters__current_skills__skill_sources",
               "skill_clusters__skill_cluster_name", "skill_clusters__sources"]


@st.composite
def sql_atoms(draw: st.DrawFn) -> Expr:
    path = draw(st.sampled_from(SKILL_PATHS))
    if draw(st.integers(0, 5)) == 0:
        return parse(f"{path}__is_null={'true' if draw(st.booleans()) else 'false'}")
    return parse(f"{path}='{draw(st.sampled_from(['a', 'b']))}'")


def sql_filters() -> st.SearchStrategy[Expr]:
    clause = st.lists(sql_atoms(), min_size=1, max_size=3).map(lambda xs: Or.of(*xs) if len(xs) > 1 else xs[0])
    return st.recursive(
        st.one_of(clause, clause.map(Not)),
        lambda sub: st.one_of(
            st.lists(sub, min_size=2, max_size=4).map(lambda xs: And.of(*xs)),
            st.lists(sub, min_size=2, max_size=3).map(lambda xs: Or.of(*xs)),
            sub.map(Not),
        ),
        max_leaves=6,
    )


name = st.sampled_from(["a", "b", None])
skill = st.fixed_dictionaries({}, optional={"name": name, "skill_sources": st.lists(st.sampled_from(["a", "b"]),
                                                                                      max_size=2)})
skill_list = st.lists(skill, max_size=3)
cluster = st.fixed_dictionaries({}, optional={"skill_cluster_name": name, "current_skills": skill_list,
                                              "related_skills": skill_list, "rejected_skills": skill_list,
                                              "sources": st.lists(st.sampled_from(["a", "b"]), max_size=2)})
employees = st.lists(st.fixed_dictionaries({"skill_clusters": st.lists(cluster, max_size=2)}), min_size=1,
                     max_size=4)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sql_filters(), employees)
def test_sqlite_entangled_matches_predicate(expr: Expr, records: list[dict[str, Any]]) -> None:
    # entangled lists are written as tables of distinct truth values, not as one join of their rows
    assert "SELECT DISTINCT" in to_sql(SQL_CASES[0], schema="export", entity="employees")[0]
    records = [{**r, "external_id": str(i)} for i, r in enumerate(records)]
    conn = sqlite_loaded(records)
    sql, params = to_sql(expr, schema="export", entity="employees", select=True)
    got = {row[0] for row in conn.execute(sql, params).fetchall()}
    test = predicate(expr, schema="export", entity="employees")
    # the loader's keys are the records' positions, in order
    keys = [row[0] for row in conn.execute('SELECT id FROM "employees" ORDER BY id').fetchall()]
    want = {k for k, r in zip(keys, records, strict=True) if test(r)}
    assert got == want, (expr, sql)
