"""The data-frame backends against ``predicate()``: Spark (local[2]), Polars eager and lazy, one run.

Data: a generated skill-cluster export of N employees (default 100,000; ``scripts/make_sample_data.py``,
written to a temporary folder under /tmp), one JSON object per line.  Three standard filters:

- flat: ``external_id__startswith='1'``;
- scope: ``skill_clusters__proficiency_level__gte=3 and skill_clusters__current_skills__name='Python' and
  skill_clusters__current_skills__validation_state='validated'`` (one nested scope over two levels);
- not: ``not skill_clusters__current_skills__name='Python'``.

What is timed (wall clock, best of R rounds; every engine's count is checked against predicate()'s first):

- predicate: ``sum(map(test, records))`` over records already decoded (``json.loads``; decoding is shown
  apart);
- Polars eager: ``df.filter(expr).height`` on a frame already read (``read_ndjson``; reading shown apart);
- Polars lazy: ``scan_ndjson(...).filter(expr).select(pl.len()).collect()``: reading included, as lazy use
  reads;
- Spark: ``df.where(col).count()`` on a cached frame (reading and caching shown apart); the session's
  start-up is a fixed cost, shown apart too.

Ratios are predicate's time divided by the engine's (above 1: the engine is faster).

Run: ``python benchmarks/bench_frames.py [--employees N] [--rounds R] [--no-spark]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FILTERS = {
    "flat": "external_id__startswith='1'",
    "scope": (
        "skill_clusters__proficiency_level__gte=3 and skill_clusters__current_skills__name='Python' "
        "and skill_clusters__current_skills__validation_state='validated'"
    ),
    "not": "not skill_clusters__current_skills__name='Python'",
}


def best(fn: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(rounds):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-spark", action="store_true")
    args = parser.parse_args(argv)

    import polars as pl

    from skillfilter import predicate
    from skillfilter.backends.polars import polars_schema, to_polars

    out = Path(tempfile.mkdtemp(prefix="bench_frames_", dir="/tmp"))
    t = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_sample_data.py"), "--out", str(out),
                    "--employees", str(args.employees), "--jsonl-only"], check=True, capture_output=True)
    path = out / "sample_export.jsonl"
    print(f"data: {args.employees} employees, {path.stat().st_size / 1e6:.0f} MB, "
          f"made in {time.perf_counter() - t:.1f}s ({path})")

    fixed: dict[str, float] = {}
    t = time.perf_counter()
    with path.open(encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh]
    fixed["predicate: json.loads of every line"] = time.perf_counter() - t
    schema = polars_schema("export", "employees")
    t = time.perf_counter()
    df = pl.read_ndjson(path, schema=schema)
    fixed["Polars: read_ndjson"] = time.perf_counter() - t

    spark = sdf = None
    if not args.no_spark:
        t = time.perf_counter()
        from pyspark.sql import SparkSession

        spark = (SparkSession.builder.master("local[2]").config("spark.sql.session.timeZone", "UTC")
                 .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
                 .getOrCreate())
        spark.sparkContext.setLogLevel("ERROR")
        fixed["Spark: session start-up (JVM, local[2])"] = time.perf_counter() - t
        from skillfilter.backends.spark import spark_schema, to_spark

        t = time.perf_counter()
        sdf = spark.read.schema(spark_schema("export", "employees")).option("mode", "FAILFAST").json(str(path))
        sdf = sdf.cache()
        sdf.count()
        fixed["Spark: read, cache and count"] = time.perf_counter() - t

    rows: list[tuple[str, str, float, int]] = []
    for name, text in FILTERS.items():
        test = predicate(text, schema="export", entity="employees")
        base, want = best(lambda test=test: sum(map(test, records)), args.rounds)
        rows.append((name, "predicate", base, want))
        expr = to_polars(text)
        secs, got = best(lambda expr=expr: df.filter(expr).height, args.rounds)
        assert got == want, (name, "polars eager", got, want)
        rows.append((name, "Polars eager", secs, got))
        secs, got = best(lambda expr=expr: pl.scan_ndjson(path, schema=schema).filter(expr)
                         .select(pl.len()).collect().item(), args.rounds)
        assert got == want, (name, "polars lazy", got, want)
        rows.append((name, "Polars lazy (reads)", secs, got))
        if sdf is not None:
            col = to_spark(text)
            secs, got = best(lambda col=col: sdf.where(col).count(), args.rounds)
            assert got == want, (name, "spark", got, want)
            rows.append((name, "Spark local[2]", secs, got))

    print("\nfixed costs (once per run):")
    for what, secs in fixed.items():
        print(f"  {what:45s} {secs:8.2f}s")
    print(f"\n{'filter':6s} {'engine':22s} {'matches':>8s} {'time':>9s} {'ratio':>7s}")
    bases = {name: secs for name, engine, secs, _ in rows if engine == "predicate"}
    for name, engine, secs, got in rows:
        print(f"{name:6s} {engine:22s} {got:8d} {secs:8.3f}s {bases[name] / secs:6.2f}x")
    if spark is not None:
        spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
