"""SQLAlchemy on PostgreSQL: the statement of :func:`to_sqlalchemy` against ``to_sql``'s and hand-written SQL.

100,000 employees in the export schema's shape (the data, tables, indexes and hand-written queries of
``benchmarks/bench_sql.py``), and the three standard filters: flat (``external_id__startswith=... or not
cp_language='de'``), one nested scope (a validated Python skill in a cluster of level 3 or more), and ``not``
over skills (no Java skill at all).  For each filter, in one run and interleaved:

- **sqlalchemy**: ``select(employees.c.id).where(to_sqlalchemy(...))`` run through a SQLAlchemy ``Engine``
  (psycopg), the condition built every time (``to_sqlalchemy``: checking and planning the filter), the SQL
  compiled once (SQLAlchemy's statement cache keys it by the plan and its values), rows fetched as
  SQLAlchemy rows;
- **to_sql/sa**: ``to_sql(..., select=True)`` run through the same SQLAlchemy connection
  (``exec_driver_sql``: the same driver path and rows, only the statement differs);
- **to_sql**: the same run with psycopg directly on the same connection;
- **hand**: the hand-written query of ``bench_sql.py``, with psycopg.

The figures are median milliseconds, and the ratios sqlalchemy / to_sql-through-SQLAlchemy (the statement's
cost; goal: within 1.1), to_sql-through-SQLAlchemy / to_sql-with-psycopg (what SQLAlchemy itself adds:
connection handling and its ``Row`` objects) and to_sql / hand.  All three select the keys ``predicate()`` selects (asserted first).  Then microseconds to build and
compile the statement alone (no cache), against ``to_sql``.

PostgreSQL: ``--dsn`` (or ``SKILLFILTER_BENCH_DSN``), else a throwaway server started as the test suite
starts one.  Everything goes into a schema of its own, dropped at the end.

Run: ``python benchmarks/bench_sqlalchemy.py [--rows 100000] [--rounds 7] [--dsn DSN]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import psycopg as pg_dialect
from sqlalchemy.pool import StaticPool

import bench_sql
import skillfilter
from skillfilter.backends.sql import SchemaMapping, install_functions, to_sql
from skillfilter.backends.sql.load import create_tables, load_records
from skillfilter.integrations.sqlalchemy import build_tables, to_sqlalchemy

#: The three standard filters, by the name of their hand-written twin in bench_sql.QUERIES.
STANDARD = {
    "flat": "startswith or not cp_language='de' (untyped)",
    "one nested scope": "export tutorial: validated Python in a cluster >= 3",
    "not over skills": "no Java skill at all (nested not)",
}


def _ms(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return (time.perf_counter() - start) * 1000, out


def bench(dsn: str, n: int, rounds: int) -> None:
    import psycopg

    conn = psycopg.connect(dsn, autocommit=True)
    conn.prepare_threshold = None  # plan each run with its parameters, the same for every side
    schema_name = "sf_bench_sa_" + uuid.uuid4().hex[:8]
    conn.execute(f'CREATE SCHEMA "{schema_name}"')
    conn.execute(f'SET search_path TO "{schema_name}"')
    export = bench_sql.EXPORT
    try:
        install_functions(conn)
        create_tables(conn, export, "employees")
        data = bench_sql.records(n)
        start = time.perf_counter()
        keys = load_records(conn, data, export, "employees")
        loaded = time.perf_counter() - start
        conn.execute(f"CREATE INDEX ON {bench_sql.E} (external_id)")
        conn.execute(f"CREATE INDEX ON {bench_sql.C} (skill_cluster_name)")
        conn.execute(f"CREATE INDEX ON {bench_sql.S} (name)")
        conn.execute("ANALYZE")
        version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        print(f"PostgreSQL {version}, {n:,} employees (loaded in {loaded:.1f}s); SQLAlchemy {sa.__version__}; "
              f"median of {rounds} interleaved runs")
        engine = sa.create_engine("postgresql+psycopg://", creator=lambda: conn, poolclass=StaticPool)
        mapping = SchemaMapping(export, "employees")
        tables = build_tables(mapping, sa.MetaData())
        employees = tables["employees"]
        hand_of = {name: hand for name, _text, _schema, hand in bench_sql.QUERIES}
        text_of = {name: text for name, text, _schema, _hand in bench_sql.QUERIES}
        print(f"  {'filter':18} {'sqlalchemy':>11} {'to_sql/sa':>10} {'to_sql':>8} {'hand':>8} {'sa/to_sql':>10} "
              f"{'sa/psycopg':>11} {'to_sql/hand':>12} {'rows':>7}")
        ratios = []
        with engine.connect() as sa_conn:

            def run_sa(text: str) -> list[Any]:
                cond = to_sqlalchemy(text, mapping=mapping, tables=tables)
                return sa_conn.execute(sa.select(employees.c.id).where(cond)).all()

            for label, qname in STANDARD.items():
                text, hand = text_of[qname], hand_of[qname]
                sql, params = to_sql(text, dialect="postgresql", schema=export, select=True)
                test = skillfilter.predicate(text, schema=export, entity="employees")
                want = {k for k, r in zip(keys, data, strict=True) if test(r)}
                got_sa = {r[0] for r in run_sa(text)}
                got_sql = {r[0] for r in conn.execute(sql, params).fetchall()}
                got_hand = {r[0] for r in conn.execute(hand).fetchall()}
                assert got_sa == want and got_sql == want and got_hand == want, label
                sides = {
                    "sa": lambda text=text: run_sa(text),
                    # to_sql's SQL through the same SQLAlchemy connection: the same driver path and rows
                    "sql_sa": lambda sql=sql, params=params: sa_conn.exec_driver_sql(sql, tuple(params)).all(),
                    "sql": lambda sql=sql, params=params: conn.execute(sql, params).fetchall(),
                    "hand": lambda hand=hand: conn.execute(hand).fetchall(),
                }
                for fn in sides.values():  # warm up
                    fn()
                times: dict[str, list[float]] = {k: [] for k in sides}
                for _ in range(rounds):  # interleaved
                    for k, fn in sides.items():
                        times[k].append(_ms(fn)[0])
                s, qs, q, h = (statistics.median(times[k]) for k in ("sa", "sql_sa", "sql", "hand"))
                ratios.append(s / qs)
                print(f"  {label:18} {s:11.2f} {qs:10.2f} {q:8.2f} {h:8.2f} {s / qs:10.3f} {qs / q:11.3f} "
                      f"{q / h:12.3f} {len(want):7,}")
        print(f"  geometric mean sqlalchemy / to_sql through SQLAlchemy: {statistics.geometric_mean(ratios):.3f} "
              "(goal: within 1.1)")
        dialect = pg_dialect.dialect()
        print("  building and compiling the statement alone (microseconds):")
        for label, qname in STANDARD.items():
            text = text_of[qname]
            number = 300
            start = time.perf_counter()
            for _ in range(number):
                to_sql(text, dialect="postgresql", schema=export, select=True)
            q = (time.perf_counter() - start) / number * 1e6
            start = time.perf_counter()
            for _ in range(number):
                cond = to_sqlalchemy(text, mapping=mapping, tables=tables)
                sa.select(employees.c.id).where(cond).compile(dialect=dialect)
            s = (time.perf_counter() - start) / number * 1e6
            print(f"    {label:18} to_sql {q:7.0f}   to_sqlalchemy + compile {s:7.0f}   ratio {s / q:.2f}")
    finally:
        conn.execute(f'DROP SCHEMA "{schema_name}" CASCADE')
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="employees to load (default 100,000)")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--dsn", default=os.environ.get("SKILLFILTER_BENCH_DSN"))
    args = parser.parse_args()
    server = None
    dsn = args.dsn
    if dsn is None:
        dsn, server = bench_sql._start_server()
    try:
        bench(dsn, args.rows, args.rounds)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
