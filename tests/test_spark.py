"""Spark backend: ``to_spark``, ``to_spark_sql`` and ``spark_schema`` run on a real local Spark (local[2]),
differential against ``predicate()`` on generated nested records and filters.

One Spark session for the whole test run (the fixture below; start-up costs seconds).  Spark needs Java: in
CI (``CI`` set) these tests fail loudly without it (``.ci/run`` installs openjdk-17-jre-headless); on a
developer's machine they are skipped, with a reason that says how to get it.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from frames_cases import ENTITY as F_ENTITY
from frames_cases import REFUSED_MISFITS, SCHEMA, fits_int64, json_lines
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
from skillfilter import predicate
from skillfilter.errors import FilterError

NESTED = nested_schema()
_HOW = "install a Java runtime (Debian: apt-get install openjdk-17-jre-headless) and pyspark (pip install '.[spark]')"


def _need(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"Spark tests need {what} in CI: {_HOW}", pytrace=False)
    pytest.skip(f"Spark tests need {what}: {_HOW}")


def _pyspark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        _need("pyspark")


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    _pyspark()
    from pyspark.sql import SparkSession

    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        _need("Java")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("skillfilter-tests")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def _read(spark: Any, tmp: Path, name: str, text: str, schema: Any, entity: str) -> Any:
    from skillfilter.backends.spark import spark_schema

    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return spark.read.schema(spark_schema(schema, entity)).option("mode", "FAILFAST").json(str(path))


@pytest.fixture(scope="module")
def nested_df(spark: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], Any]:
    recs = [r for r in make_records(120, seed=5, nul=True) if fits_int64(r)]
    df = _read(spark, tmp_path_factory.mktemp("spark"), "nested.jsonl", "".join(dumps(r) + "\n" for r in recs),
               NESTED, ENTITY)
    return recs, df.cache()


def _ids(rows: list[Any], column: str = "id") -> set[str]:
    return {r[column] for r in rows}


def test_scope_filters(nested_df: tuple[list[dict[str, Any]], Any]) -> None:
    """The written-out scope filters: all at once, as columns of one select (one Spark job)."""
    from pyspark.sql import functions as F

    from skillfilter.backends.spark import to_spark

    recs, df = nested_df
    columns, wanted = [], []
    for text in SCOPE_FILTERS:
        columns.append(to_spark(text, schema=NESTED, entity=ENTITY).alias(f"f{len(columns)}"))
        wanted.append(expected_keys(recs, text, NESTED, ENTITY))
    rows = df.select(F.col("id"), *columns).collect()
    for i, want in enumerate(wanted):
        assert {r["id"] for r in rows if r[f"f{i}"]} == want, SCOPE_FILTERS[i]


def test_differential_batch(spark: Any, tmp_path: Path) -> None:
    """Generated filters over generated records, as Column expressions (one select) and as SQL text with
    named parameters (one query), each equal to predicate()'s answer record by record."""
    from pyspark.sql import functions as F

    from skillfilter.backends.spark import to_spark, to_spark_sql

    recs = frame_records(3, 100)
    df = _read(spark, tmp_path, "people.jsonl", json_lines(recs), SCHEMA, F_ENTITY)
    columns, sql_parts, args, expected = [], [], {}, []
    for f in frame_filters(3, 90):
        try:
            test = predicate(f, schema=SCHEMA, entity=F_ENTITY)
        except FilterError:
            with pytest.raises(FilterError):
                to_spark(f, schema=SCHEMA, entity=F_ENTITY)
            continue
        i = len(columns)
        columns.append(to_spark(f, schema=SCHEMA, entity=F_ENTITY).alias(f"f{i}"))
        sql, params = to_spark_sql(f, schema=SCHEMA, entity=F_ENTITY)
        # Each condition numbers its parameters from 1: prefix them to run all in one query.
        sql_parts.append(re.sub(r":p(\d+)\b", rf":q{i}_p\1", sql) + f" AS f{i}")
        args.update({f"q{i}_{k}": v for k, v in params.items()})
        expected.append([test(r) for r in recs])
    assert len(columns) > 60
    order = F.col("external_id").cast("int")
    rows = df.select(F.col("external_id"), *columns).orderBy(order).collect()
    df.createOrReplaceTempView("people")
    sql_rows = spark.sql(
        f"SELECT external_id, {', '.join(sql_parts)} FROM people ORDER BY CAST(external_id AS INT)", args=args
    ).collect()
    assert [r.external_id for r in rows] == [r["external_id"] for r in recs]
    for i, want in enumerate(expected):
        assert [r[f"f{i}"] for r in rows] == want, i
        assert [r[f"f{i}"] for r in sql_rows] == want, i


def test_builtin_export_schema(spark: Any, tmp_path: Path) -> None:
    from skillfilter.backends.spark import to_spark

    recs = [
        {"external_id": "1", "skill_clusters": [
            {"skill_cluster_name": "DevOps", "proficiency_level": 4,
             "current_skills": [{"name": "Java", "validation_state": "validated"}]}]},
        {"external_id": "2", "skill_clusters": []},
        {"external_id": "3"},
        {"external_id": "10", "skill_clusters": [{"proficiency_level": 1, "current_skills": [None]}]},
    ]
    df = _read(spark, tmp_path, "export.jsonl", json_lines(recs), None, None)
    for text in [
        "external_id__startswith='1'",
        "skill_clusters__proficiency_level__gte=3 and skill_clusters__current_skills__name__iexact='java' "
        "and skill_clusters__current_skills__validation_state='validated'",
        "not skill_clusters__current_skills__name='Java'",
    ]:
        want = {r["external_id"] for r in recs if predicate(text, schema="export", entity="employees")(r)}
        assert _ids(df.where(to_spark(text)).collect(), "external_id") == want


def test_no_python_udf(nested_df: tuple[list[dict[str, Any]], Any]) -> None:
    from skillfilter.backends.spark import to_spark

    _, df = nested_df
    plan = df.where(to_spark("pets__name__iexact='ß' and not tags__icontains='x'", schema=NESTED,
                             entity=ENTITY))._jdf.queryExecution().toString()
    assert "exists" in plan and "translate" in plan
    assert "PythonUDF" not in plan and "BatchEvalPython" not in plan


def test_rule5_table(spark: Any) -> None:
    """iexact with characters simple case mapping changes, and with those full case mapping changes."""
    import random

    from skillfilter.backends.frames import fold_table
    from skillfilter.backends.spark import to_spark
    from skillfilter.language.ast import Comparison, FieldRef

    src, _ = fold_table()
    chars = random.Random(4).sample(src, 40) + list("ßŉǰΐΰﬁﬀẞİıſǅ")
    recs = [{"external_id": str(i), "name": c + "x"} for i, c in enumerate(chars)]
    df = spark.createDataFrame([(r["external_id"], r["name"]) for r in recs], "external_id string, name string")
    columns, wanted = [], []
    for i, c in enumerate(chars):
        expr = Comparison(FieldRef(("name",)), "iexact", c.upper() + "X")
        columns.append(to_spark(expr, schema=SCHEMA, entity=F_ENTITY).alias(f"f{i}"))
        wanted.append({r["external_id"] for r in recs if predicate(expr, schema=SCHEMA, entity=F_ENTITY)(r)})
    rows = df.select("external_id", *columns).collect()
    for i, want in enumerate(wanted):
        assert {r.external_id for r in rows if r[f"f{i}"]} == want, chars[i]


# -- what is refused --------------------------------------------------------------------------------
def test_untyped_custom_property_is_refused_with_what_to_declare() -> None:
    _pyspark()
    from skillfilter.backends.spark import to_spark_sql

    with pytest.raises(FilterError, match=r"declare it in the schema.*definitions.*language"):
        to_spark_sql("cp_language='de'", schema="skillengine", entity="employees")


def test_misfit_records_are_errors(spark: Any, tmp_path: Path) -> None:
    """The plain typed reader refuses what it can (all cases in one job: PERMISSIVE mode marks the rows
    FAILFAST fails on); what it reads as another value, read_export refuses as a FilterError naming the file
    (tests/test_polars.py runs the shared check on every misfit)."""
    from skillfilter.backends.spark import read_export, spark_schema

    base = {"id": "0", "name": "a", "age": 1, "pets": [{"name": "p", "weight": 1.5}], "team": {"name": "t"},
            "custom_properties": {"language": "de"}}
    refused = [(d, p, v) for d, p, v in MISFITS + TOLERATED if d in REFUSED_MISFITS]
    refused.append(("an integer beyond int64", ("age",), 2**63))
    assert len(refused) == len(REFUSED_MISFITS) + 1
    through = [("a number in a text field", ("name",), 5), ("the string NaN in a number field", ("score",), "NaN"),
               ("an integer beyond 2**53 in a number field", ("pets", 0, "weight"), 2**53 + 1)]
    lines = [dumps(make_misfit(base, path, value)) for _, path, value in refused + through]
    (tmp_path / "all.jsonl").write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    marked = (spark.read.schema(spark_schema(NESTED, ENTITY).add("_bad", "string"))
              .option("mode", "PERMISSIVE").option("columnNameOfCorruptRecord", "_bad")
              .json(str(tmp_path / "all.jsonl")).collect())  # every column: the parser skips unread ones
    assert [r["_bad"] is not None for r in marked] == [True] * len(refused) + [False] * len(through)
    df = _read(spark, tmp_path, "bad.jsonl", lines[0] + "\n", NESTED, ENTITY)
    with pytest.raises(Exception, match=r"FAILED_READ_FILE|MALFORMED|CANNOT_PARSE|Malformed"):
        df.collect()
    good = dumps(base) + "\n"
    for i, (_, path, value) in enumerate(through):
        (tmp_path / f"through{i}.jsonl").write_text(good + dumps(make_misfit(base, path, value)) + "\n")
        with pytest.raises(FilterError, match=rf"through{i}\.jsonl.*does not fit the schema, at `{path[0]}"):
            read_export(spark, str(tmp_path / f"through{i}.jsonl"), schema=NESTED, entity=ENTITY)
    (tmp_path / "good.jsonl").write_text(good * 3, encoding="utf-8")
    assert read_export(None, [str(tmp_path / "good.jsonl")], schema=NESTED, entity=ENTITY).count() == 3


def test_dates_and_datetimes_as_predicate_reads_them(spark: Any) -> None:
    """Text in a date field: ISO dates compare as dates, other text with nothing; text in a datetime field:
    what parse_datetime takes compares as that instant, other text with nothing (columns and SQL)."""
    from pyspark.sql import functions as F

    from frames_cases import DATETIME_LITERALS, DATETIME_TEXTS, datetime_texts
    from nested_cases import BAD_DATES, DATE_POOL
    from skillfilter.backends.spark import to_spark, to_spark_sql
    from skillfilter.language.ast import Comparison, FieldRef

    values = [*DATE_POOL, *BAD_DATES, "2024-02-29", "1900-02-29", "2000-02-30", "2024-13-01", "2024-01-31\n",
              "２０２４-01-31", *DATETIME_TEXTS, *datetime_texts(2, 300)]
    recs = [{"id": str(i), "born": v, "seen": v} for i, v in enumerate(values)]
    df = spark.createDataFrame([(r["id"], r["born"], r["seen"]) for r in recs], "id string, born string, seen string")
    df.createOrReplaceTempView("dates")
    columns, sqls, args, wanted = [], [], {}, []
    # The reading of the text is the part at risk (the comparison is the same for every operator): every
    # literal as columns, every third case as SQL too (each column costs time to build and compile).
    cases = [("born", lit) for lit in ["2024-01-31", "2000-02-29", "0001-01-01"]]
    cases += [("seen", lit) for lit in DATETIME_LITERALS]
    for field, lit in cases:
        # Building a column costs py4j calls per node (a date-time test has hundreds): two operators each.
        for op in ["exact", "gt", "lte"] if field == "born" else ["exact", "lt"]:
            expr = Comparison(FieldRef((field,)), op, lit)
            i = len(columns)
            columns.append(to_spark(expr, schema=NESTED, entity=ENTITY).alias(f"f{i}"))
            if i % 3 == 0:
                sql, params = to_spark_sql(expr, schema=NESTED, entity=ENTITY)
                sqls.append(re.sub(r":p(\d+)\b", rf":q{i}_p\1", sql) + f" AS f{i}")
                args.update({f"q{i}_{k}": v for k, v in params.items()})
            wanted.append(expected_keys(recs, expr, NESTED, ENTITY))
    # In selects of 7 columns: a dozen date-time tests in one select outgrow Spark's generated code (it
    # falls back to interpreting them, slowly, with an error in the log; the answers are the same).
    rows: dict[str, dict[str, Any]] = {}
    for k in range(0, len(columns), 7):
        for r in df.select(F.col("id"), *columns[k:k + 7]).collect():
            rows.setdefault(r["id"], {}).update(r.asDict())
    sql_rows = spark.sql(f"SELECT id, {', '.join(sqls)} FROM dates", args=args).collect()
    for i, want in enumerate(wanted):
        assert {k for k, r in rows.items() if r[f"f{i}"]} == want, i
        if i % 3 == 0:
            assert {r["id"] for r in sql_rows if r[f"f{i}"]} == want, i
