"""Engines side by side on one generated export: ratios against ``predicate()`` measured in the same run.

Part 1 (``--records``, default 100,000 employees, generated into a temporary directory): the three standard
filters (flat, one nested scope, ``not`` over a skill name) through

- ``predicate()`` over the decoded records (the baseline: decoding is not timed),
- DuckDB nested: ``read_json(file, columns=duckdb_columns(...))`` plus the condition of ``to_sql_nested``
  (reading and parsing the file is timed: that is what using it costs),
- DuckDB tables: ``to_sql(dialect="duckdb", select=True)`` over the mapped tables (loading not timed),
- SQLAlchemy on PostgreSQL (a server of its own, as ``bench_sql.py`` starts one): ``to_sqlalchemy`` built
  and run through an engine, fetching the keys; and the hand-written query of the filter (:data:`HAND`) with
  psycopg on the same tables, reported as the ratio SQLAlchemy / hand-written too,

each checked to select the same number of records.  More engines register in :data:`ENGINES` (a name and a
function ``(filter, context) -> (seconds, count)``); :func:`prepare` builds the shared context once.

Part 2 (``--cli-mb``, default 500; 0 skips it): ``skillfilter filter --engine duckdb`` against the default
engine on a generated JSON Lines file of that size, each a whole process writing to a file; both outputs
must be the same bytes.  Wall time and CPU time (user + system, all threads) are reported; the goal is the
DuckDB engine at least 3x faster in wall time on 2 cores.  The machine may be shared: say so with the
figures.

    python benchmarks/bench_engines.py                        # 100,000 records, then a 500 MB file
    python benchmarks/bench_engines.py --records 20000 --cli-mb 50 --repeat 1
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

FILTERS = [
    ("flat", "external_id__startswith='1'"),
    ("nested scope", "skill_clusters__proficiency_level__gte=3 and skill_clusters__current_skills__name='Python' "
                     "and skill_clusters__current_skills__validation_state='validated'"),
    ("not over skills", "not skill_clusters__current_skills__name='Python'"),
]
SCHEMA, ENTITY = "export", "employees"


def generate(path: Path, count: int) -> None:
    spec = importlib.util.spec_from_file_location("make_sample_data", ROOT / "scripts" / "make_sample_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_jsonl(path, module.Generator(module.SEED + 11).employees(count))


# --------------------------------------------------------------------------------------------------
# part 1: engines over one export
# --------------------------------------------------------------------------------------------------
def prepare(path: Path) -> dict[str, Any]:
    """What the engines share: the file, its decoded records."""
    with path.open(encoding="utf-8") as f:
        records = [json.loads(line) for line in f]
    return {"path": path, "records": records}


def run_predicate(text: str, ctx: dict[str, Any]) -> tuple[float, int]:
    from skillfilter.backends.python import predicate

    test = predicate(text, schema=SCHEMA, entity=ENTITY)
    records = ctx["records"]
    start = time.perf_counter()
    n = sum(1 for r in records if test(r))
    return time.perf_counter() - start, n


def run_duckdb_nested(text: str, ctx: dict[str, Any]) -> tuple[float, int]:
    import duckdb

    from skillfilter.backends.duckdb_nested import duckdb_columns, to_sql_nested

    con = ctx.get("duckdb")
    if con is None:
        con = ctx["duckdb"] = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
    cond, params = to_sql_nested(text, schema=SCHEMA, entity=ENTITY)
    sql = f"SELECT count(*) FROM read_json(?, columns=?, format='newline_delimited') WHERE {cond}"
    start = time.perf_counter()
    row = con.execute(sql, [str(ctx["path"]), duckdb_columns(SCHEMA, ENTITY), *params]).fetchone()
    return time.perf_counter() - start, int(row[0]) if row else -1


def run_duckdb_tables(text: str, ctx: dict[str, Any]) -> tuple[float, int]:
    """``to_sql(dialect="duckdb", select=True)`` over the mapped tables (loaded once, not timed)."""
    import duckdb

    from skillfilter.backends.sql import create_tables, install_functions, load_records, to_sql

    con = ctx.get("duckdb_tables")
    if con is None:
        con = ctx["duckdb_tables"] = duckdb.connect()
        con.execute("SET enable_progress_bar = false")
        install_functions(con)
        create_tables(con, SCHEMA, ENTITY)
        start = time.perf_counter()
        load_records(con, ctx["records"], SCHEMA, ENTITY)
        print(f"    (DuckDB tables loaded in {time.perf_counter() - start:.1f} s, not timed)")
    sql, params = to_sql(text, dialect="duckdb", schema=SCHEMA, entity=ENTITY, select=True)
    start = time.perf_counter()
    rows = con.execute(sql, params).fetchall()
    return time.perf_counter() - start, len(rows)


#: Hand-written PostgreSQL for the three standard filters, over the same tables (the baseline of SQLAlchemy).
_E, _C, _S = '"employees"', '"employees__skill_clusters"', '"employees__skill_clusters__current_skills"'
HAND = {
    "flat": f"SELECT e.id FROM {_E} e WHERE e.external_id LIKE '1%'",
    "nested scope": f"SELECT e.id FROM {_E} e WHERE EXISTS (SELECT 1 FROM {_C} c JOIN {_S} s ON s.parent_id = c.id "
                    "WHERE c.parent_id = e.id AND c.proficiency_level >= 3 AND s.name = 'Python' "
                    "AND s.validation_state = 'validated')",
    "not over skills": f"SELECT e.id FROM {_E} e WHERE NOT EXISTS (SELECT 1 FROM {_C} c JOIN {_S} s "
                       "ON s.parent_id = c.id WHERE c.parent_id = e.id AND s.name = 'Python')",
}


def _postgres(ctx: dict[str, Any]) -> Any:
    """A psycopg connection to a server of its own (bench_sql's), the records loaded (not timed)."""
    conn = ctx.get("pg")
    if conn is not None:
        return conn
    import psycopg

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import bench_sql
    from skillfilter.backends.sql import create_tables, install_functions, load_records

    dsn, server = bench_sql._start_server()
    ctx["pg_server"] = server
    conn = ctx["pg"] = psycopg.connect(dsn, autocommit=True)
    conn.prepare_threshold = None
    install_functions(conn)
    create_tables(conn, SCHEMA, ENTITY)
    start = time.perf_counter()
    load_records(conn, ctx["records"], SCHEMA, ENTITY)
    conn.execute(f"CREATE INDEX ON {_E} (external_id)")
    conn.execute(f"CREATE INDEX ON {_S} (name)")
    conn.execute("ANALYZE")
    print(f"    (PostgreSQL tables loaded in {time.perf_counter() - start:.1f} s, not timed)")
    return conn


def run_sqlalchemy(text: str, ctx: dict[str, Any]) -> tuple[float, int]:
    """``select(employees.c.id).where(to_sqlalchemy(...))`` through a SQLAlchemy engine on PostgreSQL (the
    condition built every time, as an application does)."""
    import sqlalchemy as sa
    from sqlalchemy.pool import StaticPool

    from skillfilter.backends.sql import SchemaMapping
    from skillfilter.integrations.sqlalchemy import build_tables, to_sqlalchemy

    conn = _postgres(ctx)
    if "sa" not in ctx:
        engine = sa.create_engine("postgresql+psycopg://", creator=lambda: conn, poolclass=StaticPool)
        mapping = SchemaMapping(SCHEMA, ENTITY)
        ctx["sa"] = (engine.connect(), mapping, build_tables(mapping, sa.MetaData()))
    sa_conn, mapping, tables = ctx["sa"]
    start = time.perf_counter()
    cond = to_sqlalchemy(text, mapping=mapping, tables=tables)
    rows = sa_conn.execute(sa.select(tables[ENTITY].c.id).where(cond)).all()
    return time.perf_counter() - start, len(rows)


def run_hand_sql(text: str, ctx: dict[str, Any]) -> tuple[float, int]:
    """The hand-written query (:data:`HAND`) with psycopg on the same PostgreSQL."""
    conn = _postgres(ctx)
    name = next(n for n, t in FILTERS if t == text)
    start = time.perf_counter()
    rows = conn.execute(HAND[name]).fetchall()
    return time.perf_counter() - start, len(rows)


#: name -> engine; the first is the baseline.  Spark, Polars... add theirs here.
ENGINES: dict[str, Callable[[str, dict[str, Any]], tuple[float, int]]] = {
    "predicate()": run_predicate,
    "DuckDB nested (read_json + condition)": run_duckdb_nested,
    "DuckDB tables (to_sql)": run_duckdb_tables,
    "SQLAlchemy on PostgreSQL": run_sqlalchemy,
    "hand-written SQL on PostgreSQL": run_hand_sql,
}



def part1(records: int, repeat: int, tmp: Path) -> bool:
    path = tmp / "export.jsonl"
    generate(path, records)
    print(f"part 1: {records:,} employees, {path.stat().st_size / 1e6:.0f} MB of JSON Lines; best of {repeat}")
    ctx = prepare(path)
    ok = True
    for name, text in FILTERS:
        print(f"\n  {name}: {text}")
        base: float | None = None
        counts = set()
        times: dict[str, float] = {}
        for engine, run in ENGINES.items():
            best, count = min(run(text, ctx) for _ in range(repeat))
            counts.add(count)
            base = base or best
            print(f"    {engine:<42} {best * 1000:9.1f} ms  {best / base:6.2f}x the time of predicate()  ({count:,} records)")
            times[engine] = best
        if "SQLAlchemy on PostgreSQL" in times:
            ratio = times["SQLAlchemy on PostgreSQL"] / times["hand-written SQL on PostgreSQL"]
            print(f"    SQLAlchemy / hand-written SQL: {ratio:.2f}x")
        if len(counts) != 1:
            print("    ENGINES DISAGREE")
            ok = False
    if ctx.get("pg_server") is not None:
        ctx["pg"].close()
        ctx["pg_server"].stop()
    return ok


# --------------------------------------------------------------------------------------------------
# part 2: the CLI on a large file
# --------------------------------------------------------------------------------------------------
def measure(cmd: list[str], out: Path, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with out.open("wb") as f:
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.PIPE, check=False, env=env)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd[:6])}...: exit {proc.returncode}: {proc.stderr.decode()[:500]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, hashlib.sha256(out.read_bytes()).hexdigest()


def engine_command(text: str, path: Path) -> list[str]:
    """``skillfilter filter --engine duckdb``, or (before the option exists) the same call of run_filter."""
    probe = subprocess.run([sys.executable, "-m", "skillfilter", "filter", "--help"], capture_output=True,
                           text=True, check=False)
    if "--engine" in probe.stdout:
        return [sys.executable, "-m", "skillfilter", "filter", "--engine", "duckdb", "--schema", SCHEMA, "--entity", ENTITY, text,
                str(path)]
    code = ("import sys; from skillfilter.backends.duckdb_nested import run_filter; "
            "sys.exit(run_filter(sys.argv[1], schema='export', entity='employees', paths=[sys.argv[2]], "
            "out=sys.stdout.buffer, err=sys.stderr))")
    return [sys.executable, "-c", code, text, str(path)]


def part2(megabytes: int, repeat: int, tmp: Path, *, baseline_src: str | None = None,
          interleave: bool = False) -> bool:
    path = tmp / "big.jsonl"
    per_record = 1040  # bytes per generated employee, about
    generate(path, megabytes * 1_000_000 // per_record)
    size = path.stat().st_size
    how = f"median of {repeat} interleaved rounds" if interleave else f"best of {repeat}"
    print(f"\npart 2: skillfilter filter on {size / 1e6:.0f} MB ({os.cpu_count()} cores); {how}")
    ok = True
    for name, text in FILTERS:
        default = [sys.executable, "-m", "skillfilter", "filter", "--schema", SCHEMA, "--entity", ENTITY, text, str(path)]
        commands = {"default": (default, None), "duckdb": (engine_command(text, path), None)}
        if baseline_src:  # the default engine of another checkout (e.g. when the goal was set)
            commands["baseline"] = (default, baseline_src)
        times: dict[str, list[tuple[float, float, str]]] = {label: [] for label in commands}
        rounds, each = (repeat, 1) if interleave else (1, repeat)
        for _ in range(rounds):
            for label, (cmd, src) in commands.items():
                env = None if src is None else {**os.environ, "PYTHONPATH": src}
                times[label].append(min(measure(cmd, tmp / f"out-{label}.jsonl", env) for _ in range(each)))
        runs = {label: (statistics.median(t[0] for t in got), statistics.median(t[1] for t in got), got[-1][2])
                for label, got in times.items()}
        (dw, dc, dh), (ew, ec, eh) = runs["default"], runs["duckdb"]
        same = dh == eh and all(run[2] == dh for run in runs.values())
        ok = ok and same
        line = (f"  {name:<16} default {dw:6.2f} s wall {dc:6.2f} s cpu | duckdb {ew:6.2f} s wall {ec:6.2f} s cpu"
                f" | {dw / ew:4.2f}x faster (wall)")
        if "baseline" in runs:
            bw, bc, _ = runs["baseline"]
            line += f" | baseline {bw:6.2f} s wall {bc:6.2f} s cpu: {bw / ew:4.2f}x"
        print(f"{line} {'same bytes' if same else 'OUTPUTS DIFFER'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--cli-mb", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--baseline-src", help="part 2: also the default engine of this src directory (e.g. "
                        "main when the goal was set)")
    parser.add_argument("--interleave", action="store_true",
                        help="part 2: --repeat rounds of every command in turn, and their medians")
    args = parser.parse_args()
    env_path = os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    os.environ["PYTHONPATH"] = env_path
    print(f"load average at start: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench-engines-") as tmpdir:
        tmp = Path(tmpdir)
        ok = part1(args.records, args.repeat, tmp) if args.records else True
        if args.cli_mb:
            ok = part2(args.cli_mb, args.repeat, tmp, baseline_src=args.baseline_src,
                       interleave=args.interleave) and ok
    print(f"load average at end: {os.getloadavg()}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
