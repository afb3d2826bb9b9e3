"""Lint throughput: in-process against parsing alone, and ``skillfilter lint`` as a process against
``python -c pass`` -- every baseline measured in the same run.

    python benchmarks/bench_lint.py [--filters N] [--repeat R] [--process-repeat P] [--seed S]

In-process: the same corpus of filters (about two in three valid; the rest with unknown fields, wrong
operators, bad literals or too many logical operators) is parsed, then validated from text (which parses
too), then validated from the already-parsed trees; each is timed R times and the best run is reported.
Process: the wall time of a whole process, median of P interleaved runs: ``python -c pass``, ``python -c "import
skillfilter"``, ``skillfilter lint`` on one filter, and on the whole corpus from standard input.
Prints a table; writes nothing.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from skillfilter import parse, to_text
from skillfilter.language.ast import And, Comparison, CustomProperty, Expr, FieldRef, Not, Or
from skillfilter.semantics.schema import Schema
from skillfilter.semantics.validate import validate

SCHEMA = Schema.builtin("skillengine")
ENTITY = "employees"

_VALUES: dict[str, Callable[[random.Random], str | bool]] = {
    "text": lambda r: r.choice(["1", "abc", "O'Brien", "Engineering", "42", "é%_"]),
    "boolean": lambda r: r.choice([True, False]),
    "datetime": lambda r: r.choice(["2024-01-31", "2024-01-31T09:30:00Z", "2023-12-01T00:00:00+02:00"]),
}
_OPS = {
    "text": ["exact", "iexact", "contains", "icontains", "startswith", "istartswith", "gt", "lte"],
    "boolean": ["exact"],
    "datetime": ["exact", "gt", "gte", "lt", "lte"],
}


def _comparison(r: random.Random) -> Comparison:
    if r.random() < 0.1:
        return Comparison(CustomProperty(r.choice(["language", "region"])), "iexact", r.choice(["de", "NL"]))
    field = r.choice(list(SCHEMA.entities[ENTITY].fields.values()))
    if r.random() < 0.1:
        return Comparison(FieldRef((field.name,)), "is_null", r.choice([True, False]))
    return Comparison(FieldRef((field.name,)), r.choice(_OPS[field.type]), _VALUES[field.type](r))


def _tree(r: random.Random, leaves: int) -> Expr:
    if leaves == 1:
        node: Expr = _comparison(r)
    else:
        split = r.randint(1, leaves - 1)
        node = r.choice([And, Or]).of(_tree(r, split), _tree(r, leaves - split))
    return Not(node) if r.random() < 0.1 else node


def corpus(n: int, seed: int) -> list[str]:
    r = random.Random(seed)
    out = []
    for _ in range(n):
        text = to_text(_tree(r, r.randint(1, 5)))
        roll = r.random()
        if roll < 0.1:
            text = text.replace("external_id", "externl_id", 1)
        elif roll < 0.2:
            text = text + " and active__contains='x'"
        elif roll < 0.27:
            text = text + " and last_updated__gt='yesterday'"
        elif roll < 0.33:
            text = " or ".join([text] * 4)
        out.append(text)
    return out


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def median_runs(repeat: int, commands: list[tuple[list[str], str | None]]) -> list[float]:
    """Median wall time of each command; the commands take turns, so that load on a shared machine
    weighs on all of them alike."""
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(repeat):
        for i, (argv, stdin) in enumerate(commands):
            t0 = time.perf_counter()
            subprocess.run(argv, input=stdin, capture_output=True, text=True, check=False)
            times[i].append(time.perf_counter() - t0)
    return [statistics.median(t) for t in times]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--filters", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--process-repeat", type=int, default=15)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    texts = corpus(args.filters, args.seed)
    names = SCHEMA.operator_names(ENTITY)
    trees = [parse(t, operators=names) for t in texts]
    valid = sum(not validate(t, ENTITY, schema=SCHEMA) for t in texts)
    n = len(texts)
    print(f"corpus: {n} filters ({valid} valid), mean length {sum(map(len, texts)) / n:.0f} characters, "
          f"entity {ENTITY!r} of the built-in skillengine schema")
    print(f"python {sys.version.split()[0]}, best of {args.repeat} runs (in-process), "
          f"median of {args.process_repeat} interleaved runs (processes)\n")

    t_parse = best_of(args.repeat, lambda: [parse(t, operators=names) for t in texts])
    t_lint = best_of(args.repeat, lambda: [validate(t, ENTITY, schema=SCHEMA) for t in texts])
    t_tree = best_of(args.repeat, lambda: [validate(e, ENTITY, schema=SCHEMA) for e in trees])

    rows = [
        ("parse(text) alone [baseline]", t_parse),
        ("validate(text) (parse + checks)", t_lint),
        ("validate(parsed tree) (checks only)", t_tree),
    ]
    print(f"{'in-process':40} {'filters/s':>12} {'µs/filter':>10} {'× parse':>8}")
    for label, t in rows:
        print(f"{label:40} {n / t:12,.0f} {t / n * 1e6:10.1f} {t / t_parse:8.2f}")

    exe = shutil.which("skillfilter", path=str(Path(sys.executable).parent)) or shutil.which("skillfilter")
    lint_cmd = [exe] if exe else [sys.executable, "-m", "skillfilter"]
    one = "external_id__startswith='1' and not cp_language='de'"
    stdin = "\n".join(texts) + "\n"
    commands: list[tuple[str, list[str], str | None]] = [
        ("python -c pass [baseline]", [sys.executable, "-c", "pass"], None),
        ("python -c 'import skillfilter'", [sys.executable, "-c", "import skillfilter"], None),
        ("skillfilter lint (1 filter)", [*lint_cmd, "lint", "-e", ENTITY, one], None),
        ("python -m skillfilter lint (1 filter)",
         [sys.executable, "-m", "skillfilter", "lint", "-e", ENTITY, one], None),
        (f"skillfilter lint ({n} filters, stdin)", [*lint_cmd, "lint", "-e", ENTITY, "--format", "json"], stdin),
    ]
    medians = median_runs(args.process_repeat, [(argv, data) for _, argv, data in commands])
    base = medians[0]
    proc_rows = [(label, t) for (label, _, _), t in zip(commands, medians, strict=True)]
    print(f"\ncommand: {' '.join(lint_cmd)}")
    print(f"{'whole process':40} {'ms':>12} {'× python':>10} {'over python (ms)':>17}")
    for label, t in proc_rows:
        print(f"{label:40} {t * 1e3:12.1f} {t / base:10.2f} {(t - base) * 1e3:17.1f}")


if __name__ == "__main__":
    main()
