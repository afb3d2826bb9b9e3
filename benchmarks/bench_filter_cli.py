"""End to end: ``skillfilter filter`` against ``jq -c 'select(...)'`` on the same large JSON Lines export.

Generates a synthetic skill-cluster export (``scripts/make_sample_data.py``, 200,000 employees by default,
about 240 MB) in a temporary directory, then runs each filter through ``skillfilter filter`` (with orjson
when installed, and with the standard library only) and through jq with the equivalent ``select``, each
as a whole process writing to a file, several times; it checks that every tool selects the same records
(by ``external_id``, in order) and reports the best wall time, the CPU time of that run, and the peak
resident memory, with the ratio jq / skillfilter (above 1: skillfilter is faster).  Memory flatness: peak
memory on a tenth of the input against the whole input.

    python benchmarks/bench_filter_cli.py                  # 200,000 records, 3 runs each
    python benchmarks/bench_filter_cli.py --records 50000 --repeat 5

The machine may be shared: CPU time (user + system) is steadier than wall time, and the ratios use it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: (name, skillfilter filter, equivalent jq program)
FILTERS = [
    (
        "flat",
        "external_id__startswith='1'",
        'select(.external_id | strings | startswith("1"))',
    ),
    (
        "nested scope",
        "skill_clusters__proficiency_level__gte=3 and skill_clusters__current_skills__name='Python' "
        "and skill_clusters__current_skills__validation_state='validated'",
        "select(any(.skill_clusters[]?; (.proficiency_level | type) == \"number\" and .proficiency_level >= 3 "
        'and any(.current_skills[]?; .name == "Python" and .validation_state == "validated")))',
    ),
    (
        # (The export's records have no custom properties, as the endpoint documents: a list of text instead.)
        "list of text",
        "skill_clusters__sources='learning'",
        'select(any(.skill_clusters[]?; any(.sources[]?; . == "learning")))',
    ),
    (
        "most records",
        "not skill_clusters__domain_name='Finance'",
        'select(all(.skill_clusters[]?; .domain_name != "Finance"))',
    ),
]

#: Runs a command with its standard output to a file; prints wall seconds, CPU seconds and peak RSS (KiB).
PROBE = """
import resource, subprocess, sys, time
out = open(sys.argv[1], "wb")
start = time.perf_counter()
status = subprocess.run(sys.argv[2:], stdout=out, stdin=subprocess.DEVNULL).returncode
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(status, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
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
        raise SystemExit(f"{command[0]} failed with status {status}: {result.stderr}")
    return Run(float(wall), float(cpu), int(rss))


def best(command: list[str], output: Path, env: dict[str, str], repeat: int) -> Run:
    runs = [measure(command, output, env) for _ in range(repeat)]
    fastest = min(runs, key=lambda r: r.cpu)
    return Run(min(r.wall for r in runs), fastest.cpu, max(r.rss_kib for r in runs))


def ids(path: Path) -> list[str]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line)["external_id"] for line in f]


def generate(path: Path, count: int) -> None:
    spec = importlib.util.spec_from_file_location("make_sample_data", ROOT / "scripts" / "make_sample_data.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_jsonl(path, module.Generator(module.SEED + 7).employees(count))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jq", default=shutil.which("jq"))
    parser.add_argument("--keep", type=Path, help="keep the generated files in this directory")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-filter-")) if args.keep is None else args.keep
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        big, small = workdir / "export.jsonl", workdir / "export-tenth.jsonl"
        print(f"generating {args.records:,} records ...", flush=True)
        generate(big, args.records)
        with big.open("rb") as src, small.open("wb") as dst:
            for number, line in enumerate(src):
                if number >= args.records // 10:
                    break
                dst.write(line)
        print(f"input: {big.stat().st_size / 2**20:.0f} MiB, {args.records:,} records "
              f"(tenth: {small.stat().st_size / 2**20:.0f} MiB)")
        base_env = {**os.environ}
        tools: list[tuple[str, list[str], dict[str, str]]] = [
            ("skillfilter", [sys.executable, "-m", "skillfilter", "filter"], {**base_env, "SKILLFILTER_JSON": ""}),
            ("skillfilter (stdlib json)", [sys.executable, "-m", "skillfilter", "filter"],
             {**base_env, "SKILLFILTER_JSON": "stdlib"}),
        ]
        if args.jq:
            version = subprocess.run([args.jq, "--version"], capture_output=True, text=True, check=False).stdout.strip()
            print(f"baseline: {version} ({args.jq})")
        else:
            print("jq not found: only skillfilter is measured (install jq for the baseline)")
        print(f"python: {sys.version.split()[0]}; best of {args.repeat} runs; CPU = user + system\n")

        header = f"{'filter':16} {'tool':27} {'matches':>8} {'wall s':>7} {'CPU s':>6} {'peak MiB':>9} " \
                 f"{'tenth MiB':>9} {'jq/this CPU':>11}"
        print(header)
        print("-" * len(header))
        for name, sf_filter, jq_program in FILTERS:
            results: dict[str, tuple[Run, Run, int]] = {}
            reference: list[str] | None = None
            commands = [(tool, [*cmd, sf_filter, str(big)], [*cmd, sf_filter, str(small)], env)
                        for tool, cmd, env in tools]
            if args.jq:
                commands.append(("jq", [args.jq, "-c", jq_program, str(big)],
                                 [args.jq, "-c", jq_program, str(small)], base_env))
            for tool, command, command_small, env in commands:
                out = workdir / "out.jsonl"
                run = best(command, out, env, args.repeat)
                selected = ids(out)
                if reference is None:
                    reference = selected
                elif selected != reference:
                    raise SystemExit(f"{name}: {tool} selected {len(selected)} records, "
                                     f"the first tool {len(reference)}: not the same filter")
                tenth = measure(command_small, workdir / "out-small.jsonl", env)
                results[tool] = (run, tenth, len(selected))
            jq_cpu = results["jq"][0].cpu if "jq" in results else None
            for tool, (run, tenth, count) in results.items():
                ratio = f"{jq_cpu / run.cpu:.2f}x" if jq_cpu is not None and tool != "jq" else ""
                print(f"{name:16} {tool:27} {count:>8,} {run.wall:>7.2f} {run.cpu:>6.2f} "
                      f"{run.rss_kib / 1024:>9.1f} {tenth.rss_kib / 1024:>9.1f} {ratio:>11}")
            if jq_cpu is not None:
                sf_run = results["skillfilter"][0]
                print(f"{'':16} wall-time ratio jq/skillfilter: {results['jq'][0].wall / sf_run.wall:.2f}x")
        return 0
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
