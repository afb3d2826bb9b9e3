"""Parsing from many threads at once gives the right trees (the parser keeps no per-call global state)."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

from skillfilter import (
    And,
    Comparison,
    CustomProperty,
    Expr,
    FieldRef,
    FilterSyntaxError,
    Not,
    Or,
    parse,
    to_text,
)
from skillfilter.semantics.operators import OPERATOR_NAMES


def _random_tree(rng: random.Random, depth: int = 0) -> Expr:
    if depth >= 3 or rng.random() < 0.3:
        op = rng.choice(sorted(OPERATOR_NAMES - {"is_null"}))
        target = CustomProperty(f"p{rng.randrange(5)}") if rng.random() < 0.2 else FieldRef(
            tuple(f"f{rng.randrange(50)}" for _ in range(rng.randint(1, 3)))
        )
        value = rng.choice([rng.randrange(-10**6, 10**6), f"s'{rng.random()}\\", rng.random(), True])
        return Comparison(target, op, value)
    kind = rng.randrange(3)
    if kind == 0:
        return Not(_random_tree(rng, depth + 1))
    ops = [_random_tree(rng, depth + 1) for _ in range(rng.randint(2, 4))]
    return And.of(*ops) if kind == 1 else Or.of(*ops)


def test_parse_from_many_threads() -> None:
    rng = random.Random(20261127)
    trees = [_random_tree(rng) for _ in range(400)]
    texts = [to_text(t) for t in trees]
    # Errors too, with their own positions, and schema-added operators on some calls.
    bad = [f"a=1 and b{i}==2" for i in range(100)]
    barrier = threading.Barrier(8)

    def work(index: int) -> list[object]:
        if index < 8:
            barrier.wait()  # start the first eight together
        out: list[object] = []
        for k in range(index, index + 60):
            j = k % len(texts)
            out.append((j, parse(texts[j])))
            try:
                parse(bad[k % len(bad)])
            except FilterSyntaxError as exc:
                out.append(("bad", k % len(bad), exc.position))
            out.append(("ops", parse(f"x{k}__near=1", operators=OPERATOR_NAMES | {"near"})))
        return out

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(64)))
    for index, out in enumerate(results):
        for item in out:
            if isinstance(item, tuple) and item[0] == "bad":
                _, i, position = item
                assert position == bad[i].index("==") + 1
            elif isinstance(item, tuple) and item[0] == "ops":
                node = item[1]
                assert isinstance(node, Comparison) and node.op == "near"
            else:
                j, node = item  # type: ignore[misc]
                assert node == trees[j], (index, j)


def test_first_use_from_many_threads(tmp_path: object) -> None:
    """The tables are built once, under a lock, even when the first calls race (fresh interpreter)."""
    import os
    import subprocess
    import sys

    code = (
        "from concurrent.futures import ThreadPoolExecutor\n"
        "import skillfilter\n"
        "texts = [f'a{i}=1 or not b=2' for i in range(200)]\n"
        "with ThreadPoolExecutor(16) as pool:\n"
        "    out = list(pool.map(skillfilter.parse, texts))\n"
        "assert [skillfilter.to_text(x) for x in out] == texts, 'wrong tree'\n"
        "print('ok')\n"
    )
    env = {**os.environ, "SKILLFILTER_CACHE_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                            check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
