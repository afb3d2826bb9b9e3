"""End to end: ``skillfilter filter`` on a large JSON Lines export, against the floor and other engines.

Generates a synthetic skill-cluster export (``scripts/make_sample_data.py``; ``--megabytes``, 500 by
default) in a temporary directory (never in the repository), then runs the three standard filters, each as
a whole process writing to a file:

- ``skillfilter``: this checkout (``--jobs`` default: the cores available), and ``--jobs 1``;
- ``today``: ``skillfilter filter`` of another checkout (``--baseline-src``: its ``src`` directory, e.g. a
  worktree of main before a change), the baseline the goals are stated against;
- ``previous``: optionally a third checkout (``--previous-src``), on 2 processes and on 1;
- ``floor``: a single process decoding every line with orjson and doing nothing else;
- ``jq -c 'select(...)'`` with the equivalent program (skipped with a note when jq is not installed);
- ``duckdb``: DuckDB reading the raw lines (``read_json_objects``) with an equivalent query, writing the
  matching lines (skipped when the duckdb module is not installed).

Every tool must select the same records in the same order (checked by ``external_id``, first on a tenth of
the input, then on the whole); DuckDB the same records in an order of its own.  Reported: wall time, CPU time (user + system, all processes), the peak
resident memory of the largest process, and the wall-time ratios of ``skillfilter`` against each other
tool (below 1: skillfilter takes less time).  Memory flatness: skillfilter's peak on a tenth of the input
against the whole input.

    python benchmarks/bench_filter_cli.py --baseline-src /work/wt/cli-base/src        # 500 MB, once
    python benchmarks/bench_filter_cli.py --megabytes 50 --repeat 3
    python benchmarks/bench_filter_cli.py --repeat 5 --interleave --jq "" --baseline-src ...   # medians
    python benchmarks/bench_filter_cli.py --megabytes 100 --repeat 3 --baseline-src /work/wt/cli-base/src \\
        --previous-src /work/main/src     # also main before a change, `previous`

The machine may be shared: run it when it is quiet, or read the ratios (measured in the same run) rather
than the seconds.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: (name, skillfilter filter, equivalent jq program, equivalent DuckDB condition on the raw line `json`)
FILTERS = [
    (
        "flat",
        "external_id__startswith='1'",
        'select(.external_id | strings | startswith("1"))',
        "json_type(json, '$.external_id') = 'VARCHAR' AND starts_with(json_extract_string(json, '$.external_id'), '1')",
    ),
    (
        "nested scope",
        "skill_clusters__proficiency_level__gte=3 and skill_clusters__current_skills__name='Python' "
        "and skill_clusters__current_skills__validation_state='validated'",
        "select(any(.skill_clusters[]?; (.proficiency_level | type) == \"number\" and .proficiency_level >= 3 "
        'and any(.current_skills[]?; .name == "Python" and .validation_state == "validated")))',
        "EXISTS (SELECT 1 FROM unnest(CAST(json_extract(json, '$.skill_clusters') AS JSON[])) AS c(sc) "
        "WHERE json_type(sc, '$.proficiency_level') IN ('BIGINT', 'UBIGINT', 'DOUBLE') "
        "AND CAST(json_extract(sc, '$.proficiency_level') AS DOUBLE) >= 3 "
        "AND EXISTS (SELECT 1 FROM unnest(CAST(json_extract(sc, '$.current_skills') AS JSON[])) AS s(cs) "
        "WHERE json_extract_string(cs, '$.name') = 'Python' "
        "AND json_extract_string(cs, '$.validation_state') = 'validated'))",
    ),
    (
        "not (most records)",
        "not skill_clusters__domain_name='Finance'",
        'select(all(.skill_clusters[]?; .domain_name != "Finance"))',
        "NOT EXISTS (SELECT 1 FROM unnest(CAST(json_extract(json, '$.skill_clusters') AS JSON[])) AS c(sc) "
        "WHERE json_extract_string(sc, '$.domain_name') = 'Finance')",
    ),
]

#: Runs a command with its standard output to a file; prints status, wall seconds, CPU seconds of all its
#: processes, and the peak RSS (KiB) of the largest of them.
PROBE = """
import resource, subprocess, sys, time
out = open(sys.argv[1], "wb")
start = time.perf_counter()
status = subprocess.run(sys.argv[2:], stdout=out, stdin=subprocess.DEVNULL).returncode
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(status, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
"""

FLOOR = """
import sys, orjson
loads = orjson.loads
with open(sys.argv[1], "rb") as f:
    for line in f:
        loads(line)
"""

DUCKDB = """
import sys, duckdb
path, condition, out = sys.argv[1:4]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
con.execute(
    f"COPY (SELECT json FROM read_json_objects('{path}', format='newline_delimited') WHERE {condition}) "
    f"TO '{out}' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\\t')"
)
"""


@dataclass
class Run:
    wall: float
    cpu: float
    rss_kib: int


def measure(command: list[str], output: Path, env: dict[str, str]) -> Run:
    result = subprocess.run([sys.executable, "-c", PROBE, str(output), *command], capture_output=True,
                            text=True, env=env, check=True)
    status, wall, cpu, rss = result.stdout.split()
    if int(status) != 0:
        raise SystemExit(f"{command} failed with status {status}: {result.stderr}")
    return Run(float(wall), float(cpu), int(rss))


def best(command: list[str], output: Path, env: dict[str, str], repeat: int) -> Run:
    runs = [measure(command, output, env) for _ in range(repeat)]
    return Run(min(r.wall for r in runs), min(r.cpu for r in runs), max(r.rss_kib for r in runs))


def ids(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line)["external_id"] for line in f]


def generate(path: Path, megabytes: int) -> int:
    """Write records until the file holds ``megabytes`` MiB; their number."""
    spec = importlib.util.spec_from_file_location("make_sample_data", ROOT / "scripts" / "make_sample_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    per_batch = 20_000
    generator = module.Generator(module.SEED + 7)
    count = 0
    part = path.with_suffix(".part")
    with path.open("wb") as out:
        while out.tell() < megabytes * 2**20:
            module.write_jsonl(part, generator.employees(per_batch))
            with part.open("rb") as src:
                shutil.copyfileobj(src, out)
            count += per_batch
    part.unlink()
    return count


@dataclass
class Tool:
    name: str
    command: list[str]  # the input file is appended
    env: dict[str, str]
    output_is_records: bool = True


def tools_for(sf_filter: str, jq_program: str, duck_condition: str, args: argparse.Namespace,
              workdir: Path) -> list[Tool]:
    base = {**os.environ}
    here = {**base, "PYTHONPATH": str(ROOT / "src")}
    tools = [
        Tool("skillfilter", [sys.executable, "-m", "skillfilter", "filter", sf_filter], here),
        Tool("skillfilter --jobs 1", [sys.executable, "-m", "skillfilter", "filter", "--jobs", "1", sf_filter],
             here),
    ]
    if args.baseline_src:
        tools.append(Tool("today", [sys.executable, "-m", "skillfilter", "filter", sf_filter],
                          {**base, "PYTHONPATH": args.baseline_src}))
    if args.previous_src:
        previous = {**base, "PYTHONPATH": args.previous_src}
        tools.append(Tool("previous", [sys.executable, "-m", "skillfilter", "filter", sf_filter], previous))
        tools.append(Tool("previous --jobs 1", [sys.executable, "-m", "skillfilter", "filter", "--jobs", "1",
                                                sf_filter], previous))
    tools.append(Tool("floor (orjson loop)", [sys.executable, "-c", FLOOR], base, output_is_records=False))
    if args.jq:
        tools.append(Tool("jq", [args.jq, "-c", jq_program], base))
    if importlib.util.find_spec("duckdb") is not None:
        duck_out = workdir / "duck.out"
        tools.append(Tool("duckdb", [sys.executable, "-c", DUCKDB, "{input}", duck_condition, str(duck_out)],
                          base))
    return tools


def run_tool(tool: Tool, data: Path, workdir: Path, repeat: int) -> tuple[Run, list[str] | None]:
    command = [str(data) if part == "{input}" else part for part in tool.command]
    if "{input}" not in tool.command:
        command.append(str(data))
    out = workdir / "out.jsonl"
    run = best(command, out, tool.env, repeat)
    if not tool.output_is_records:
        return run, None
    if tool.name == "duckdb":
        out = workdir / "duck.out"
    return run, ids(out)


def _median(runs: list[Run]) -> Run:
    """The median wall and CPU time of ``runs`` (the one run, or the best of a tool's runs, as measured)."""
    return Run(statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs),
               max(r.rss_kib for r in runs))


def same(tool: Tool, selected: list[str], reference: list[str]) -> bool:
    """The same records; in the same order, except for DuckDB (whose EXISTS subqueries do not keep the
    input order: sorting its output would cost it time skillfilter does not spend)."""
    if tool.name == "duckdb":
        return sorted(selected) == sorted(reference)
    return selected == reference


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--megabytes", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--jq", default=shutil.which("jq"))
    parser.add_argument("--baseline-src", help="the src directory of the checkout to compare with (today's)")
    parser.add_argument("--previous-src", help="the src directory of another checkout to compare with, on 2 "
                        "processes and on 1 (e.g. main before a change; `today` is the issue's baseline)")
    parser.add_argument("--keep", type=Path, help="keep the generated files in this directory (and reuse them)")
    parser.add_argument("--interleave", action="store_true",
                        help="run every tool once per round, --repeat rounds, and report medians")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-filter-", dir="/tmp")) if args.keep is None else args.keep
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        big, small = workdir / "export.jsonl", workdir / "export-tenth.jsonl"
        if not big.exists() or big.stat().st_size < args.megabytes * 2**20:
            print(f"generating {args.megabytes} MiB ...", flush=True)
            generate(big, args.megabytes)
        with big.open("rb") as src, small.open("wb") as dst:
            dst.write(src.read(big.stat().st_size // 10).rpartition(b"\n")[0] + b"\n")
        print(f"input: {big.stat().st_size / 2**20:.0f} MiB (tenth: {small.stat().st_size / 2**20:.0f} MiB); "
              f"python {sys.version.split()[0]}; cores: {len(os.sched_getaffinity(0))}; "
              f"load average: {os.getloadavg()[0]:.1f}; "
              + (f"median of {args.repeat} interleaved rounds" if args.interleave else f"best of {args.repeat}"))
        if not args.jq:
            print("jq not found: not measured (install jq for that baseline)")
        if not args.baseline_src:
            print("no --baseline-src: today's skillfilter not measured")
        header = (f"{'filter':19} {'tool':21} {'matches':>8} {'wall s':>7} {'CPU s':>6} {'peak MiB':>8} "
                  f"{'tenth MiB':>9} {'sf/this wall':>12}")
        print()
        print(header)
        print("-" * len(header))
        for name, sf_filter, jq_program, duck_condition in FILTERS:
            tools = tools_for(sf_filter, jq_program, duck_condition, args, workdir)
            # The same records from every tool, first on the tenth.
            reference: list[str] | None = None
            tenth: dict[str, Run] = {}
            for tool in tools:
                run, selected = run_tool(tool, small, workdir, 1)
                tenth[tool.name] = run
                if selected is None:
                    continue
                if reference is None:
                    reference = selected
                elif not same(tool, selected, reference):
                    raise SystemExit(f"{name}: {tool.name} selected {len(selected)} records, skillfilter "
                                     f"{len(reference)}: not the same filter")
            # Best of --repeat runs of each tool in turn; with --interleave, --repeat rounds of every tool
            # one after the other, and the median of each (a machine's slow spells then hit all tools).
            rounds, each = (args.repeat, 1) if args.interleave else (1, args.repeat)
            runs: dict[str, list[Run]] = {tool.name: [] for tool in tools}
            counts: dict[str, int | None] = {}
            for _ in range(rounds):
                reference = None
                for tool in tools:
                    run, selected = run_tool(tool, big, workdir, each)
                    if selected is not None:
                        if reference is None:
                            reference = selected
                        elif not same(tool, selected, reference):
                            raise SystemExit(f"{name}: {tool.name} differs from skillfilter on the whole input")
                    runs[tool.name].append(run)
                    counts[tool.name] = None if selected is None else len(selected)
            results = {tool: (_median(tool_runs), counts[tool]) for tool, tool_runs in runs.items()}
            sf_wall = results["skillfilter"][0].wall
            for tool_name, (run, count) in results.items():
                ratio = "" if tool_name == "skillfilter" else f"{sf_wall / run.wall:.2f}x"
                matches = "" if count is None else f"{count:,}"
                print(f"{name:19} {tool_name:21} {matches:>8} {run.wall:>7.2f} {run.cpu:>6.2f} "
                      f"{run.rss_kib / 1024:>8.1f} {tenth[tool_name].rss_kib / 1024:>9.1f} {ratio:>12}")
            print(flush=True)
        return 0
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
