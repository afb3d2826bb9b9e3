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
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from skillfilter import And, Expr, FilterError, Not, Or, Schema, complete, parse, split
from skillfilter.authoring.split import naive_bound

FIELDS = ["external_id", "assigned_position", "organisational_unit", "cp_language", "cp_location"]


def leaf(rng: random.Random) -> Expr:
    f = rng.choice(FIELDS)
    op = rng.choice(["", "__startswith", "__icontains"])
    return parse(f"{f}{op}='{rng.choice('abcdefgh')}'")


def generated(rng: random.Random, or_weight: int = 3) -> Expr:
    """A random filter of 6-20 operators; ``or_weight`` of 6 joins are ``or`` (one in six is negated)."""
    while True:
        parts = [leaf(rng) for _ in range(rng.randint(5, 18))]
        while len(parts) > 1:
            i = rng.randint(0, len(parts) - 2)
            kind = rng.randint(0, 5)
            joined = (Or if kind < or_weight else And).of(parts[i], parts[i + 1])
            parts[i: i + 2] = [Not(joined) if kind == 5 else joined]
        if 6 <= parts[0].logical_operator_count() <= 20:
            return parts[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--filters", type=int, default=300)
    args = ap.parse_args()
    typed = Schema.builtin().extend({"entities": {"employees": {"merge": True, "custom_properties": {
        "definitions": {"language": "text", "location": "text"}}}}})
    configs = [("half or, half and", 3, "skillengine"), ("mostly or (lists of values)", 5, "skillengine"),
               ("half or, half and; custom properties declared text", 3, typed),
               ("mostly or; custom properties declared text", 5, typed)]
    schema: Schema | str
    for label, weight, schema in configs:
        rng = random.Random(7)
        needed: list[int] = []
        naive: list[int] = []
        refused: Counter[str] = Counter()
        for _ in range(args.filters):
            expr = generated(rng, weight)
            try:
                pieces = split(expr, schema=schema, entity="employees")
            except FilterError as exc:
                refused[str(exc).rsplit(": ", 1)[-1]] += 1
                continue
            needed.append(len(pieces))
            naive.append(naive_bound(expr))
        print(f"split, {label}: {len(needed)} of {args.filters} filters split")
        print(f"  requests: mean {statistics.mean(needed):.2f}, median {statistics.median(needed)}, "
              f"max {max(needed)}, total {sum(needed)}")
        print(f"  naive bound (one request per disjunct of the DNF): mean {statistics.mean(naive):.2f}, "
              f"median {statistics.median(naive)}, max {max(naive)}, total {sum(naive)}")
        for reason, n in refused.most_common():
            print(f"  refused {n}: {reason}")
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
