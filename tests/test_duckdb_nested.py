"""DuckDB nested records: :func:`to_sql_nested` RUN on DuckDB over ``read_json`` rows of generated records,
against ``predicate()`` (generated data and filters from ``nested_cases``, the built-in export schema, the
rule 5 table over every code point, numbers at the edges)."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nested_cases as cases
from skillfilter import CustomProperty, Expr
from skillfilter.backends.duckdb_nested import duckdb_columns, to_sql_nested
from skillfilter.backends.duckdb_nested.compile import KEEP, fold_sql
from skillfilter.backends.python import predicate
from skillfilter.errors import FilterError
from skillfilter.semantics.operators import simple_fold
from skillfilter.semantics.schema import Schema

duckdb = pytest.importorskip("duckdb")

EXAMPLES = max(150, (settings.default.max_examples or 25) * 6)
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SCHEMA = cases.nested_schema()


class Loaded:
    def __init__(self, tmp: Path, records: list[dict[str, Any]], schema: Schema, entity: str,
                 key: str = "id") -> None:
        self.records, self.schema, self.entity, self.key = records, schema, entity, key
        path = tmp / f"{entity}.jsonl"
        path.write_text("".join(cases.dumps(r) + "\n" for r in records), encoding="utf-8")
        self.con = duckdb.connect()
        self.con.execute(
            "CREATE TABLE t AS SELECT * FROM read_json(?, columns=?, format='newline_delimited')",
            [str(path), duckdb_columns(schema, entity)],
        )
        assert self.con.execute("SELECT count(*) FROM t").fetchone() == (len(records),)

    def check(self, expr: Expr | str) -> None:
        sql, params = to_sql_nested(expr, schema=self.schema, entity=self.entity)
        got = [k for (k,) in self.con.execute(f"SELECT {self.key} FROM t WHERE {sql}", params).fetchall()]
        test = predicate(expr, schema=self.schema, entity=self.entity)
        want = {str(r.get(self.key)) for r in self.records if test(r)}
        assert len(got) == len(set(got))
        assert set(map(str, got)) == want, f"{expr!r}\n{sql}\n{params}\nextra {set(got) - want}\nmissing {want - set(got)}"


@pytest.fixture(scope="module")
def nested(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    records = cases.make_records(300, nul=True)
    return Loaded(tmp_path_factory.mktemp("nested"), records, SCHEMA, cases.ENTITY)


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    import random

    schema = Schema.builtin("export")
    rnd = random.Random(7)
    records = []
    for i in range(200):
        rec = cases.make_record(rnd, schema, "employees")
        rec["external_id"] = str(i)
        records.append(rec)
    return Loaded(tmp_path_factory.mktemp("export"), records, schema, "employees", key="external_id")


def test_data_is_varied(nested: Loaded) -> None:
    rows = nested.con.execute(
        "SELECT count(*) FILTER (pets IS NULL), count(*) FILTER (len(pets) = 0), "
        "count(*) FILTER (len(list_filter(pets, lambda p: p IS NULL)) > 0), count(*) FILTER (age > 9223372036854775807), "
        "count(*) FILTER (contains(name, chr(0))), count(*) FILTER (name = 'ß') FROM t").fetchone()
    assert rows is not None and all(v > 0 for v in rows), rows


@pytest.mark.parametrize("text", cases.SCOPE_FILTERS)
def test_scope_filters(nested: Loaded, text: str) -> None:
    nested.check(text)


@SETTINGS
@given(expr=cases.filters(SCHEMA, cases.ENTITY))
def test_generated_filters(nested: Loaded, expr: Expr) -> None:
    nested.check(expr)


@SETTINGS
@given(expr=cases.filters(Schema.builtin("export"), "employees"))
def test_generated_filters_export(export: Loaded, expr: Expr) -> None:
    if any(isinstance(c.target, CustomProperty) for c in expr.comparisons()):  # the export schema's custom properties are untyped: refused
        with pytest.raises(FilterError, match="declare"):
            to_sql_nested(expr, schema=export.schema, entity="employees")
        return
    export.check(expr)


def test_untyped_custom_property_is_refused() -> None:
    schema = Schema.from_dict({"entities": {"e": {"fields": {"a": "text"}, "custom_properties": True}}})
    with pytest.raises(FilterError, match=r"cp_x.*declare it in the schema"):
        to_sql_nested("cp_x='1'", schema=schema, entity="e")
    with pytest.raises(FilterError, match="need a schema"):
        to_sql_nested("a='1'")


def test_values_never_enter_the_sql() -> None:
    for text in ["name='x\\' or 1=1 --'", "name__icontains='$1?'", "age=12345678901234567890123",
                 "seen__gt='2024-01-31T09:30:00Z'", "born='2024-01-31'", "score__gt=0.1"]:
        sql, params = to_sql_nested(text, schema=SCHEMA, entity="people")
        assert params
        for p in params:
            if isinstance(p, str) and p:
                assert p not in sql.replace("'", "")


# --------------------------------------------------------------------------------------------------
# rule 5 over every code point
# --------------------------------------------------------------------------------------------------
def test_fold_matches_the_simple_case_mapping_on_every_code_point() -> None:
    con = duckdb.connect()
    chars = [chr(i) for i in range(sys.maxunicode + 1) if not 0xD800 <= i <= 0xDFFF and i != 0]
    got = con.execute(f"SELECT list_transform(?, lambda x: {fold_sql('x')})", [chars]).fetchone()
    assert got is not None
    wrong = [(c, g, simple_fold(c)) for c, g in zip(chars, got[0]) if g != simple_fold(c)]
    assert wrong == []
    assert "ß" in KEEP and "ẞ" not in KEEP
    # whole strings, mixed with characters upper() handles
    words = ["Straße", "ᾳβ", "aᾳß", "ǅa", "ﬁx", ""]
    got = con.execute(f"SELECT list_transform(?, lambda x: {fold_sql('x')})", [words]).fetchone()
    assert got is not None and got[0] == [simple_fold(w) for w in words]


# --------------------------------------------------------------------------------------------------
# numbers at the edges, dates
# --------------------------------------------------------------------------------------------------
NUMBERS = [0, 1, -1, 0.1, 0.30000000000000004, 2**53, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 10**23,
           1e23, 2.0**60, 2**60, 1152921504606847000, 5e-324, 1.7976931348623157e308, 10**400, -(10**400),
           math.inf, -math.inf, -0.0, 2.5, 2**127 - 1, -(2**127)]


@pytest.mark.parametrize("kind", ["", "__gt", "__gte", "__lt", "__lte"])
def test_numbers_at_the_edges(tmp_path: Path, kind: str) -> None:
    records: list[dict[str, Any]] = []
    for i, v in enumerate(NUMBERS):
        rec: dict[str, Any] = {"id": str(i)}
        if isinstance(v, int) and abs(v) < 2**127:
            rec["age"] = v
        if isinstance(v, float) or (isinstance(v, int) and abs(v) <= 2**53):
            rec["score"] = v
        records.append(rec)
    records.append({"id": "nan", "score": math.nan})
    data = Loaded(tmp_path, records, SCHEMA, "people")
    assert data.con.execute("SELECT count(*) FROM t WHERE isnan(score)").fetchone() == (1,)
    for lit in NUMBERS:
        text = json.dumps(lit) if not isinstance(lit, float) or math.isfinite(lit) else None
        if text is None or "Infinity" in text:
            continue
        data.check(f"score{kind}={text}")
        if isinstance(lit, int):
            data.check(f"age{kind}={text}")


@given(st.lists(st.sampled_from(cases.DATETIME_POOL + cases.BAD_DATETIMES + cases.DATE_POOL), min_size=1,
                max_size=5), st.sampled_from(cases.DATETIME_POOL), st.sampled_from(["", "__gt", "__lte"]))
@settings(max_examples=40, deadline=None)
def test_datetimes(values: list[str], lit: str, kind: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        records = [{"id": str(i), "seen": v, "born": v[:10] if i % 2 else v} for i, v in enumerate(values)]
        data = Loaded(Path(tmp), records, SCHEMA, "people")
        data.check(f"seen{kind}='{lit}'")
        data.check(f"born{kind}='{lit[:10]}'")
        data.check("seen__is_null=false and not born__gt='2000-01-01'")


def test_columns_of_the_nested_schema() -> None:
    cols = duckdb_columns(SCHEMA, "people")
    assert cols["age"] == "HUGEINT" and cols["score"] == "DOUBLE" and cols["tags"] == "VARCHAR[]"
    assert cols["pets"].endswith("[]") and cols["team"].startswith("STRUCT(")
    assert '"labels" VARCHAR[]' in cols["custom_properties"]
