"""Engines side by side on one generated export: ratios against ``predicate()`` measured in the same run.

Part 1 (``--records``, default 100,000 employees, generated into a temporary directory): the three standard
filters (flat, one nested scope, ``not`` over a skill name) through

- ``predicate()`` over the decoded records (the baseline: decoding is not timed),
- DuckDB nested: ``read_json(file, columns=duckdb_columns(...))`` plus the condition of ``to_sql_nested``
  (reading and parsing the file is timed: that is what using it costs),

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


#: name -> engine; the first is the baseline.  Spark, Polars... add theirs here.
ENGINES: dict[str, Callable[[str, dict[str, Any]], tuple[float, int]]] = {
    "predicate()": run_predicate,
    "DuckDB nested (read_json + condition)": run_duckdb_nested,
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
        for engine, run in ENGINES.items():
            best, count = min(run(text, ctx) for _ in range(repeat))
            counts.add(count)
            base = base or best
            print(f"    {engine:<42} {best * 1000:9.1f} ms  {best / base:6.2f}x the time of predicate()  ({count:,} records)")
        if len(counts) != 1:
            print("    ENGINES DISAGREE")
            ok = False
    return ok


# --------------------------------------------------------------------------------------------------
# part 2: the CLI on a large file
# --------------------------------------------------------------------------------------------------
def measure(cmd: list[str], out: Path) -> tuple[float, float, str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    with out.open("wb") as f:
        proc = subprocess.run(cmd, stdout=f, stderr=subprocess.PIPE, check=False)
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
        return [sys.executable, "-m", "skillfilter", "filter", "--engine", "duckdb", "--schema", SCHEMA, text,
                str(path)]
    code = ("import sys; from skillfilter.backends.duckdb_nested import run_filter; "
            "sys.exit(run_filter(sys.argv[1], schema='export', entity='employees', paths=[sys.argv[2]], "
            "out=sys.stdout.buffer, err=sys.stderr))")
    return [sys.executable, "-c", code, text, str(path)]


def part2(megabytes: int, repeat: int, tmp: Path) -> bool:
    path = tmp / "big.jsonl"
    per_record = 1190  # bytes per generated employee, about
    generate(path, megabytes * 1_000_000 // per_record)
    size = path.stat().st_size
    print(f"\npart 2: skillfilter filter on {size / 1e6:.0f} MB ({os.cpu_count()} cores); best of {repeat}")
    ok = True
    for name, text in FILTERS:
        default = [sys.executable, "-m", "skillfilter", "filter", "--schema", SCHEMA, text, str(path)]
        runs = {}
        for label, cmd in (("default", default), ("duckdb", engine_command(text, path))):
            runs[label] = min(measure(cmd, tmp / f"out-{label}.jsonl") for _ in range(repeat))
        (dw, dc, dh), (ew, ec, eh) = runs["default"], runs["duckdb"]
        same = dh == eh
        ok = ok and same
        print(f"  {name:<16} default {dw:6.2f} s wall {dc:6.2f} s cpu | duckdb {ew:6.2f} s wall {ec:6.2f} s cpu"
              f" | {dw / ew:4.2f}x faster (wall) {'same bytes' if same else 'OUTPUTS DIFFER'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--cli-mb", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    env_path = os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])
    os.environ["PYTHONPATH"] = env_path
    print(f"load average at start: {os.getloadavg()}")
    with tempfile.TemporaryDirectory(prefix="bench-engines-") as tmpdir:
        tmp = Path(tmpdir)
        ok = part1(args.records, args.repeat, tmp) if args.records else True
        if args.cli_mb:
            ok = part2(args.cli_mb, args.repeat, tmp) and ok
    print(f"load average at end: {os.getloadavg()}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
