"""Figures for the authoring helpers: requests ``split`` needs for generated filters of 6-20 operators
(against the naive bound: one request per disjunct of the disjunctive normal form), and ``complete``'s time
per call on a filter of API size.

    PYTHONPATH=src python benchmarks/bench_authoring.py [--filters N]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from skillfilter import And, Expr, FilterError, Not, Or, complete, parse, split
from skillfilter.authoring.split import naive_bound

FIELDS = ["external_id", "assigned_position", "organisational_unit", "cp_language", "cp_location"]


def leaf(rng: random.Random) -> Expr:
    f = rng.choice(FIELDS)
    op = rng.choice(["", "__startswith", "__icontains"])
    return parse(f"{f}{op}='{rng.choice('abcdefgh')}'")


def generated(rng: random.Random) -> Expr:
    while True:
        parts = [leaf(rng) for _ in range(rng.randint(5, 18))]
        while len(parts) > 1:
            i = rng.randint(0, len(parts) - 2)
            kind = rng.randint(0, 5)
            joined = (Or if kind < 3 else And).of(parts[i], parts[i + 1])
            parts[i: i + 2] = [Not(joined) if kind == 5 else joined]
        if 6 <= parts[0].logical_operator_count() <= 20:
            return parts[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--filters", type=int, default=300)
    args = ap.parse_args()
    rng = random.Random(7)
    needed: list[int] = []
    naive: list[int] = []
    refused = 0
    for _ in range(args.filters):
        expr = generated(rng)
        try:
            pieces = split(expr, schema="skillengine", entity="employees")
        except FilterError:
            refused += 1
            continue
        needed.append(len(pieces))
        naive.append(naive_bound(expr))
    print(f"split: {len(needed)} of {args.filters} filters split ({refused} refused: no exact union)")
    print(f"  requests: mean {statistics.mean(needed):.2f}, median {statistics.median(needed)}, max {max(needed)}")
    print(f"  naive bound (one request per DNF disjunct): mean {statistics.mean(naive):.2f}, "
          f"median {statistics.median(naive)}, max {max(naive)}")
    text = ("external_id__startswith='1' or external_id__startswith='2' or not cp_language='de' "
            "and active=true and last_updated__gte='2024-01-01' and skill")
    calls = 5000
    for cursor in (len(text), len(text) // 2):
        start = time.perf_counter()
        for _ in range(calls):
            complete(text, cursor, entity="employees")
        per = (time.perf_counter() - start) / calls * 1e6
        print(f"complete: {per:.1f} µs per call ({len(text)} characters, cursor at {cursor})")


if __name__ == "__main__":
    main()
