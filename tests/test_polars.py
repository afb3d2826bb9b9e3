"""Polars backend: ``to_polars`` and ``polars_schema`` run on real Polars frames, differential against
``predicate()`` on generated nested records and filters (eager and lazy), plus the inward pass."""

from __future__ import annotations

import io
import os
import random

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from frames_cases import (
    BAD_LINES,
    DATETIME_LITERALS,
    DATETIME_TEXTS,
    MORE_MISFITS,
    REFUSED_MISFITS,
    SCHEMA,
    datetime_texts,
    fits_int64,
    json_lines,
)
from frames_cases import (
    ENTITY as F_ENTITY,
)
from frames_cases import filters as frame_filters
from frames_cases import records as frame_records
from nested_cases import (
    ENTITY,
    MISFITS,
    SCOPE_FILTERS,
    TOLERATED,
    dumps,
    expected_keys,
    make_misfit,
    make_records,
    nested_schema,
)
from nested_cases import filters as nested_filters
from skillfilter import predicate
from skillfilter.backends.python import interpret
from skillfilter.errors import FilterError
from skillfilter.language.ast import And, Comparison, Expr, FieldRef
from skillfilter.plan.inward import MAX_NODES, push_inward, size
from skillfilter.plan.nodes import PAnd, PAtom, PExists, PNode, PNot, POr
from skillfilter.plan.planner import compile_plan

if os.environ.get("CI"):
    import polars as pl  # CI installs the test extra: never skip there
else:
    pl = pytest.importorskip("polars", reason="needs polars: pip install '.[polars]'")

from skillfilter.backends.polars import polars_schema, read_export, to_polars

NESTED = nested_schema()


def _frame(text: str, schema: object, entity: str) -> object:
    return pl.read_ndjson(io.BytesIO(text.encode()), schema=polars_schema(schema, entity))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def nested_data() -> tuple[list[dict], object]:
    recs = [r for r in make_records(150, seed=11, nul=True) if fits_int64(r)]
    return recs, _frame("".join(dumps(r) + "\n" for r in recs), NESTED, ENTITY)


def _keys(df: object, expr: object, lazy: bool = False) -> set[str]:
    out = df.lazy().filter(expr).collect() if lazy else df.filter(expr)  # type: ignore[attr-defined]
    return set(out["id"].to_list())


def _is_refusal(exc: FilterError) -> bool:
    msg = str(exc)
    return "too entangled" in msg


# -- differential -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text", SCOPE_FILTERS)
def test_scope_filters(nested_data: tuple[list[dict], object], text: str) -> None:
    recs, df = nested_data
    expr = to_polars(text, schema=NESTED, entity=ENTITY)
    want = expected_keys(recs, text, NESTED, ENTITY)
    assert _keys(df, expr) == want
    assert _keys(df, expr, lazy=True) == want


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(nested_filters(max_leaves=7))
def test_differential_generated(nested_data: tuple[list[dict], object], expr: object) -> None:
    recs, df = nested_data
    try:
        want = expected_keys(recs, expr, NESTED, ENTITY)  # type: ignore[arg-type]
    except FilterError:
        with pytest.raises(FilterError):
            to_polars(expr, schema=NESTED, entity=ENTITY)  # type: ignore[arg-type]
        return
    try:
        pexpr = to_polars(expr, schema=NESTED, entity=ENTITY)  # type: ignore[arg-type]
    except FilterError as exc:
        assert _is_refusal(exc), exc
        assume(False)
        return
    assert _keys(df, pexpr) == want
    assert _keys(df, pexpr, lazy=True) == want


@pytest.mark.parametrize("seed", [1, 2])
def test_differential_batch(seed: int) -> None:
    """Many generated filters at once (one select), on records with hostile values at two levels."""
    recs = frame_records(seed, 150)
    df = _frame(json_lines(recs), SCHEMA, F_ENTITY)
    columns, expected = [], []
    for f in frame_filters(seed, 120):
        try:
            test = predicate(f, schema=SCHEMA, entity=F_ENTITY)
        except FilterError:
            with pytest.raises(FilterError):
                to_polars(f, schema=SCHEMA, entity=F_ENTITY)
            continue
        try:
            columns.append(to_polars(f, schema=SCHEMA, entity=F_ENTITY).alias(f"f{len(columns)}"))
        except FilterError as exc:
            assert _is_refusal(exc), exc
            continue
        expected.append([test(r) for r in recs])
    assert len(columns) > 80
    out = df.select(columns)
    for i, want in enumerate(expected):
        assert out[f"f{i}"].to_list() == want, i


def test_read_ndjson_and_scan(tmp_path: object) -> None:
    recs = frame_records(7, 60)
    path = tmp_path / "people.jsonl"  # type: ignore[operator]
    path.write_text(json_lines(recs), encoding="utf-8")
    text = "clusters__skills__name__icontains='java' and not clusters__level__lt=3"
    want = [r["external_id"] for r in recs if predicate(text, schema=SCHEMA, entity=F_ENTITY)(r)]
    expr = to_polars(text, schema=SCHEMA, entity=F_ENTITY)
    lazy = pl.scan_ndjson(path, schema=polars_schema(SCHEMA, F_ENTITY)).filter(expr).collect()
    eager = pl.read_ndjson(path, schema=polars_schema(SCHEMA, F_ENTITY)).filter(expr)
    checked = read_export(path, schema=SCHEMA, entity=F_ENTITY).filter(expr)
    checked_lazy = read_export([path], schema=SCHEMA, entity=F_ENTITY, lazy=True).filter(expr).collect()
    assert lazy["external_id"].to_list() == want == eager["external_id"].to_list()
    assert checked["external_id"].to_list() == want == checked_lazy["external_id"].to_list()


def test_builtin_export_schema() -> None:
    recs = [
        {"external_id": "1", "skill_clusters": [
            {"skill_cluster_name": "DevOps", "proficiency_level": 4,
             "current_skills": [{"name": "Java", "validation_state": "validated"}]}]},
        {"external_id": "2", "skill_clusters": []},
        {"external_id": "3", "skill_clusters": None},
        {"external_id": "10", "skill_clusters": [{"proficiency_level": 1, "current_skills": [None]}]},
    ]
    df = pl.DataFrame(recs, schema=polars_schema("export", "employees"))
    for text in [
        "external_id__startswith='1'",
        "skill_clusters__proficiency_level__gte=3 and skill_clusters__current_skills__name__iexact='java' "
        "and skill_clusters__current_skills__validation_state='validated'",
        "not skill_clusters__current_skills__name='Java'",
    ]:
        want = [r["external_id"] for r in recs if predicate(text, schema="export", entity="employees")(r)]
        assert df.filter(to_polars(text))["external_id"].to_list() == want


# -- what is refused --------------------------------------------------------------------------------
def test_untyped_custom_property_is_refused_with_what_to_declare() -> None:
    with pytest.raises(FilterError, match=r"declare it in the schema.*definitions.*language"):
        to_polars("cp_language='de'", schema="skillengine", entity="employees")


def test_datetimes_as_predicate_reads_them() -> None:
    """Text in a datetime field (top level, a custom property, two lists down): what parse_datetime takes
    compares as that instant (naive = UTC, a date its midnight UTC), other text with nothing."""
    recs = [{"id": str(i), "seen": v, "custom_properties": {"since": v}, "pets": [{"visits": [{"at": v}]}]}
            for i, v in enumerate([*DATETIME_TEXTS, *datetime_texts(1, 400)])]
    df = _frame("".join(dumps(r) + "\n" for r in recs), NESTED, ENTITY)
    for lit in DATETIME_LITERALS:
        for op in ["exact", "gt", "gte", "lt", "lte"]:
            for path in ["seen", "cp_since", "pets__visits__at"]:
                text = f"{path}__{op}='{lit}'"
                want = expected_keys(recs, text, NESTED, ENTITY)
                assert _keys(df, to_polars(text, schema=NESTED, entity=ENTITY)) == want, text


_BASE = {"id": "0", "name": "a", "age": 1, "pets": [{"name": "p", "weight": 1.5}], "team": {"name": "t"},
         "custom_properties": {"language": "de"}}
ALL_MISFITS = MISFITS + TOLERATED + MORE_MISFITS


@pytest.mark.parametrize("what", REFUSED_MISFITS)
def test_typed_reader_refuses_misfit(what: str) -> None:
    """What the plain typed reader refuses by itself (the others are read_export's: below)."""
    (path, value), = [(p, v) for d, p, v in MISFITS + TOLERATED if d == what]
    with pytest.raises(pl.exceptions.PolarsError):
        _frame(dumps(make_misfit(_BASE, path, value)) + "\n", NESTED, ENTITY)


def test_read_export_refuses_every_misfit(tmp_path: object) -> None:
    """read_export: every misfit of nested_cases.py and frames_cases.py is a FilterError that names the file,
    the line and the value's place; a fitting export reads as the typed reader reads it."""
    good = [r for r in make_records(40, seed=2, nul=True) if fits_int64(r)]
    good_text = "".join(dumps(r) + "\n" for r in good)
    cases = [(what, dumps(make_misfit(_BASE, path, value)), path) for what, path, value in ALL_MISFITS]
    cases += [(what, line, None) for what, line in BAD_LINES]
    assert len(cases) == len(MISFITS) + len(TOLERATED) + len(MORE_MISFITS) + len(BAD_LINES)
    for i, (what, line, path) in enumerate(cases):
        f = tmp_path / f"bad{i}.jsonl"  # type: ignore[operator]
        f.write_text(good_text + line + "\n", encoding="utf-8", errors="surrogatepass")
        with pytest.raises(FilterError, match=rf"bad{i}\.jsonl:{len(good) + 1}: the record does not fit") as exc:
            read_export(f, schema=NESTED, entity=ENTITY)
        if path is not None:
            shown = ".".join(str(p) for p in path if isinstance(p, str))
            assert all(part in str(exc.value) for part in shown.split(".")), (what, str(exc.value))
    ok = tmp_path / "good.jsonl"  # type: ignore[operator]
    ok.write_text(good_text, encoding="utf-8")
    assert read_export(ok, schema=NESTED, entity=ENTITY).equals(_frame(good_text, NESTED, ENTITY))  # type: ignore[union-attr]


# -- the inward pass --------------------------------------------------------------------------------
def _outer_refs(node: PNode, cur: str) -> bool:
    """Whether some node refers to a variable other than the one in scope (``cur``)."""
    if isinstance(node, PAtom):
        return node.var != cur
    if isinstance(node, PExists):
        return node.parent != cur or _outer_refs(node.body, node.var)
    if isinstance(node, PNot):
        return _outer_refs(node.item, cur)
    if isinstance(node, (PAnd, POr)):
        return any(_outer_refs(i, cur) for i in node.items)
    return False


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(nested_filters(max_leaves=8), st.integers(0, 10**6))
def test_push_inward_keeps_the_meaning(expr: object, seed: int) -> None:
    try:
        plan, _ = compile_plan(expr, schema=NESTED, entity=ENTITY)  # type: ignore[arg-type]
    except FilterError:
        assume(False)
        return
    try:
        moved = push_inward(plan)
    except FilterError as exc:
        assert "too entangled" in str(exc)
        return
    assert not _outer_refs(moved, "r")
    before, after = interpret(plan), interpret(moved)
    for rec in make_records(25, seed=seed):
        assert before(rec) == after(rec)


def _entangled(n: int) -> Expr:
    """``n`` comparisons, alternating outer (cluster) and inner (skill) fields, in or-pairs."""
    parts = []
    for i in range(n):
        outer = Comparison(FieldRef(("clusters", "level")), "gte", i)
        inner = Comparison(FieldRef(("clusters", "skills", "name")), "exact", f"s{i}")
        parts.append(outer | inner)
    return parts[0] if n == 1 else And(tuple(parts))


def test_push_inward_grows_but_is_bounded() -> None:
    sizes = []
    for n in range(1, 6):
        plan, _ = compile_plan(_entangled(n), schema=SCHEMA, entity=F_ENTITY)
        sizes.append(size(push_inward(plan)))
    assert sizes == sorted(sizes) and sizes[-1] > 2 * sizes[0]
    plan, _ = compile_plan(_entangled(40), schema=SCHEMA, entity=F_ENTITY)
    with pytest.raises(FilterError, match=f"exceed {MAX_NODES} nodes"):
        push_inward(plan)
    with pytest.raises(FilterError, match="too entangled"):
        to_polars(_entangled(40), schema=SCHEMA, entity=F_ENTITY)


def test_rule5_table_on_every_changed_character() -> None:
    """iexact with each character that simple case mapping changes (and ones full mapping changes)."""
    from skillfilter.backends.frames import fold_table

    src, _ = fold_table()
    rnd = random.Random(3)
    chars = rnd.sample(src, 300) + list("ßŉǰΐΰﬁﬀẞİıſǅ")
    recs = [{"external_id": str(i), "name": c + "x"} for i, c in enumerate(chars)]
    df = pl.DataFrame(recs, schema={"external_id": pl.String, "name": pl.String})
    for c in chars[:60] + chars[-12:]:
        expr = Comparison(FieldRef(("name",)), "iexact", c.upper() + "X")
        want = [r["external_id"] for r in recs if predicate(expr, schema=SCHEMA, entity=F_ENTITY)(r)]
        got = df.filter(to_polars(expr, schema=SCHEMA, entity=F_ENTITY))["external_id"].to_list()
        assert got == want, c


def test_dates_as_predicate_reads_them() -> None:
    """Text in a date field: ISO dates compare as dates; bad dates (Feb 29 of 2023, year 0, other forms)
    and other text compare with nothing, as in predicate()."""
    from nested_cases import BAD_DATES, DATE_POOL

    values = [*DATE_POOL, *BAD_DATES, "2024-02-29", "1900-02-29", "2000-02-30", "2024-13-01", "2024-00-10",
              "2024-01-31\n", "２０２４-01-31", None]
    recs = [{"id": str(i), "born": v} for i, v in enumerate(values)]
    df = pl.DataFrame(recs, schema={"id": pl.String, "born": pl.String})
    for lit in ["2024-01-31", "2000-02-29", "0001-01-01", "9999-12-31"]:
        for op in ["exact", "gt", "gte", "lt", "lte"]:
            expr = Comparison(FieldRef(("born",)), op, lit)
            assert _keys(df, to_polars(expr, schema=NESTED, entity=ENTITY)) == expected_keys(
                recs, expr, NESTED, ENTITY), (op, lit)
