"""Start-up time of whole ``skillfilter`` processes against ``python -c pass``, in one run.

    python benchmarks/bench_startup.py [--runs N] [--no-site] [--compare REV] [--instructions]

Commands, each run ``--runs`` times, interleaved (every round runs every command once, so a busy moment of
a shared machine does not fall on one command only); the figure is the median wall time of a whole process:

- ``python -c pass`` (the baseline);
- ``python -m skillfilter fmt "a=1"``;
- ``python -m skillfilter lint --entity employees "external_id='1'"`` (against the built-in schema);
- the same two through the ``skillfilter`` console script, when one is on ``PATH``.

The package measured is a copy of the one ``import skillfilter`` finds (with ``grammar.lark`` beside it, as
in a wheel), put first on ``PYTHONPATH``; ``--compare REV`` measures the package of the git revision
``REV`` too (``git archive``), in the same rounds, so "before" and "after" come from one run.

Three bytecode modes:

- ``pyc``: cached bytecode for every module, as an installed package has it (one warm-up round writes it
  first, into a ``PYTHONPYCACHEPREFIX`` directory of our own);
- ``source``: the standard library with its cached bytecode, skillfilter without (``PYTHONDONTWRITEBYTECODE=1``
  and a copy of the package without ``__pycache__``): what a source checkout or a wheel installed with
  ``pip install --no-compile`` gives, and the realistic worst case;
- ``no pyc``: ``PYTHONDONTWRITEBYTECODE=1`` and a fresh, empty ``PYTHONPYCACHEPREFIX`` directory, so no
  module (ours or the standard library's) finds cached bytecode and every imported module is compiled.
  No real installation runs like this; it shows how much compiling the standard library costs.

``--no-site`` also runs the ``python`` commands with ``-S``: without the ``.pth`` files of site-packages,
which on some machines import modules (``certifi``, ``importlib.resources``, ...) that ``python -c pass``
then pays for too; the console script always runs with site.

``--instructions`` counts instructions instead of timing (each command once, under ``valgrind
--tool=callgrind``; the console script is left out, being a wrapper): on a busy shared machine wall time
swings with the load, the instruction count hardly moves.  It reports millions of instructions over
``python -c pass``, and the tables show that count as milliseconds: at ``--rate`` million instructions per
millisecond over the base (docs/performance.md gives this machine's, from timings on a quiet machine), else
at the base command's own rate (its fastest of 9 timed runs, which a busy machine makes too slow).

The parse-table cache (``$SKILLFILTER_CACHE_DIR``) is warmed first, as after any first run.  The goal
(issue 8, item 14): ``fmt`` and ``lint`` at most 40 ms over ``python -c pass``.
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

GOAL_MS = 40.0
BASE = "python -c pass"


def _commands(python: str, no_site: bool, trees: dict[str, str]) -> dict[str, tuple[list[str], str | None]]:
    """Name -> (argv, the source tree to put on PYTHONPATH)."""
    py = [python, "-S"] if no_site else [python]
    commands: dict[str, tuple[list[str], str | None]] = {BASE: ([*py, "-c", "pass"], None)}
    script = shutil.which("skillfilter")
    for label, tree in trees.items():
        suffix = f" [{label}]" if len(trees) > 1 else ""
        commands[f"python -m skillfilter fmt{suffix}"] = ([*py, "-m", "skillfilter", "fmt", "a=1"], tree)
        commands[f"python -m skillfilter lint{suffix}"] = (
            [*py, "-m", "skillfilter", "lint", "--entity", "employees", "external_id='1'"], tree)
        if script and not no_site:
            commands[f"skillfilter fmt (script){suffix}"] = ([script, "fmt", "a=1"], tree)
            commands[f"skillfilter lint (script){suffix}"] = (
                [script, "lint", "--entity", "employees", "external_id='1'"], tree)
    return commands


def _env(env: dict[str, str], tree: str | None) -> dict[str, str]:
    if tree is None:
        return env
    return dict(env, PYTHONPATH=os.pathsep.join([tree, *filter(None, [env.get("PYTHONPATH")])]))


def _run_once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return elapsed


def measure(commands: dict[str, tuple[list[str], str | None]], env: dict[str, str], runs: int) -> dict[str, float]:
    """Median milliseconds per command, over ``runs`` interleaved rounds."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, (argv, tree) in commands.items():
            times[name].append(_run_once(argv, _env(env, tree)))
    return {name: statistics.median(ts) * 1000 for name, ts in times.items()}


def _instructions(argv: list[str], env: dict[str, str]) -> int:
    """Instructions a whole process executes (valgrind's callgrind, user space)."""
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    for line in done.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1])
    raise SystemExit(f"valgrind failed on {' '.join(argv)}: {done.stderr[-500:]}")


def count(commands: dict[str, tuple[list[str], str | None]], env: dict[str, str],
          rate: float | None) -> dict[str, float]:
    """Instruction counts per command, as milliseconds at ``rate`` million instructions per ms (else at the
    base command's own rate, timed now; see the docstring)."""
    counts = {name: _instructions(argv, _env(env, tree)) for name, (argv, tree) in commands.items()
              if "(script)" not in name}
    if rate is None:
        base_ms = min(_run_once(commands[BASE][0], env) for _ in range(9)) * 1000  # the least disturbed run
        per_ms = counts[BASE] / base_ms
        print(f"  ({BASE}: {counts[BASE] / 1e6:.0f} M instructions, {base_ms:.1f} ms: {per_ms / 1e6:.2f} M/ms)")
    else:
        per_ms = rate * 1e6
        print(f"  (at {rate} M instructions per ms)")
    for name, n in counts.items():
        print(f"  {name:44} {n / 1e6:8.1f} M  {(n - counts[BASE]) / 1e6:+8.1f} M over base")
    return {name: n / per_ms for name, n in counts.items()}


def report(title: str, medians: dict[str, float], goal_for: str | None) -> bool:
    """Print one mode's table; whether every command of ``goal_for`` (all when None) meets the goal."""
    base = medians[BASE]
    print(f"\n{title}")
    print(f"{'command':44} {'median ms':>10} {'over base':>10} {'ratio':>7}")
    ok = True
    for name, ms in medians.items():
        over = ms - base
        flag = ""
        if name != BASE:
            flag = "  ok" if over <= GOAL_MS else f"  > {GOAL_MS:.0f} ms"
            if goal_for is None or name.endswith(f"[{goal_for}]"):
                ok = ok and over <= GOAL_MS
        print(f"{name:44} {ms:10.1f} {over:+10.1f} {ms / base:7.2f}{flag}")
    return ok


def _copy_tree(package: Path, grammar: Path | None, into: Path) -> str:
    """A copy of ``package`` without bytecode, with ``grammar.lark`` inside it; the directory to put on
    PYTHONPATH."""
    shutil.copytree(package, into / "skillfilter", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if grammar is not None and not (into / "skillfilter" / "grammar.lark").exists():
        shutil.copy(grammar, into / "skillfilter" / "grammar.lark")
    return str(into)


def _tree_of_revision(rev: str, root: Path, into: Path) -> str:
    data = subprocess.run(["git", "-C", str(root), "archive", rev, "src/skillfilter", "grammar.lark"],
                          check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into / "rev", filter="data") if sys.version_info >= (3, 12) else tar.extractall(into / "rev")
    return _copy_tree(into / "rev" / "src" / "skillfilter", into / "rev" / "grammar.lark", into / "tree")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=21, help="rounds per mode (median); default 21")
    ap.add_argument("--no-site", action="store_true", help="run the python commands with -S")
    ap.add_argument("--python", default=sys.executable, help="the interpreter to measure")
    ap.add_argument("--compare", metavar="REV", help="also measure the package of this git revision")
    ap.add_argument("--instructions", action="store_true",
                    help="count instructions under valgrind instead of timing (steady on a busy machine)")
    ap.add_argument("--rate", type=float, metavar="M_PER_MS",
                    help="with --instructions: million instructions per ms, to show counts as ms")
    args = ap.parse_args()

    spec = importlib.util.find_spec("skillfilter")
    if spec is None or spec.origin is None:
        raise SystemExit("skillfilter is not importable (set PYTHONPATH=src)")
    package = Path(spec.origin).parent
    root = next((p for p in package.parents if (p / "grammar.lark").is_file()), None)
    grammar = package / "grammar.lark" if (package / "grammar.lark").is_file() else (
        root / "grammar.lark" if root else None)

    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPYCACHEPREFIX", None)
    ok = True
    with tempfile.TemporaryDirectory() as work:
        trees: dict[str, str] = {}
        if args.compare:
            if root is None:
                raise SystemExit("--compare needs a git checkout")
            Path(work, "before").mkdir()
            trees["before"] = _tree_of_revision(args.compare, root, Path(work, "before"))
        Path(work, "now").mkdir()
        trees["after" if args.compare else "now"] = _copy_tree(package, grammar, Path(work, "now"))
        goal_for = "after" if args.compare else None
        commands = _commands(args.python, args.no_site, trees)
        pyc_dir = Path(work, "pyc")
        empty_dir = Path(work, "empty")
        empty_dir.mkdir()
        # pyc: bytecode cached in a directory of our own (the copies stay without); warm it up, and the
        # parse-table cache with it.
        warm = dict(env, PYTHONPYCACHEPREFIX=str(pyc_dir))
        for argv, tree in commands.values():
            _run_once(argv, _env(warm, tree))

        def run(env: dict[str, str]) -> dict[str, float]:
            return count(commands, env, args.rate) if args.instructions else measure(commands, env, args.runs)

        ok &= report("cached bytecode (pyc)", run(warm), goal_for)
        source = dict(env, PYTHONDONTWRITEBYTECODE="1")
        ok &= report("source: standard library with bytecode, skillfilter without (PYTHONDONTWRITEBYTECODE=1)",
                     run(source), goal_for)
        cold = dict(env, PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=str(empty_dir))
        ok_cold = report("no cached bytecode at all (PYTHONDONTWRITEBYTECODE=1, empty PYTHONPYCACHEPREFIX)",
                         run(cold), goal_for)
        for tree in trees.values():
            if any(Path(tree).rglob("__pycache__")):  # pragma: no cover - a sanity check of the set-up
                print("warning: bytecode was written beside the copied package", file=sys.stderr)
        if os.listdir(empty_dir):  # pragma: no cover - a sanity check of the set-up
            print("warning: bytecode was written in the no-pyc mode", file=sys.stderr)
    print(f"\ngoal: fmt and lint at most {GOAL_MS:.0f} ms over `{BASE}` with cached bytecode and from "
          f"source: {'met' if ok else 'NOT met'}; with no bytecode at all: {'met' if ok_cold else 'not met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
