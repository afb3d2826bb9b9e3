"""Start-up time of whole ``skillfilter`` processes against ``python -c pass``, in one run.

    python benchmarks/bench_startup.py [--runs N] [--no-site]

Commands, each run ``--runs`` times, interleaved (every round runs every command once, so a busy moment of
a shared machine does not fall on one command only); the figure is the median wall time of a whole process:

- ``python -c pass`` (the baseline);
- ``python -m skillfilter fmt "a=1"``;
- ``python -m skillfilter lint --entity employees "external_id='1'"`` (against the built-in schema);
- the same two through the ``skillfilter`` console script, when one is on ``PATH``.

Two bytecode modes:

- ``pyc``: cached bytecode, as an installed package has it (one warm-up round writes it first);
- ``no pyc``: ``PYTHONDONTWRITEBYTECODE=1`` and a fresh, empty ``PYTHONPYCACHEPREFIX`` directory, so no
  module (ours or the standard library's) finds cached bytecode and every imported module is compiled.

``--no-site`` also runs the ``python`` commands with ``-S``: without the ``.pth`` files of site-packages,
which on some machines import modules (``certifi``, ``importlib.resources``, ...) that ``python -c pass``
then pays for too; the console script always runs with site.

The parse-table cache (``$SKILLFILTER_CACHE_DIR``) is warmed first, as after any first run.  The goal
(issue 8, item 14): ``fmt`` and ``lint`` at most 40 ms over ``python -c pass`` in both modes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

GOAL_MS = 40.0


def _commands(python: str, no_site: bool) -> dict[str, list[str]]:
    py = [python, "-S"] if no_site else [python]
    commands = {
        "python -c pass": [*py, "-c", "pass"],
        "python -m skillfilter fmt": [*py, "-m", "skillfilter", "fmt", "a=1"],
        "python -m skillfilter lint": [*py, "-m", "skillfilter", "lint", "--entity", "employees", "external_id='1'"],
    }
    script = shutil.which("skillfilter")
    if script and not no_site:
        commands["skillfilter fmt (script)"] = [script, "fmt", "a=1"]
        commands["skillfilter lint (script)"] = [script, "lint", "--entity", "employees", "external_id='1'"]
    return commands


def _run_once(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.decode()[-500:]}")
    return elapsed


def measure(commands: dict[str, list[str]], env: dict[str, str], runs: int) -> dict[str, float]:
    """Median milliseconds per command, over ``runs`` interleaved rounds."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, argv in commands.items():
            times[name].append(_run_once(argv, env))
    return {name: statistics.median(ts) * 1000 for name, ts in times.items()}


def report(title: str, medians: dict[str, float]) -> bool:
    base = medians["python -c pass"]
    print(f"\n{title}")
    print(f"{'command':34} {'median ms':>10} {'over base':>10} {'ratio':>7}")
    ok = True
    for name, ms in medians.items():
        over = ms - base
        flag = ""
        if name != "python -c pass":
            flag = "  ok" if over <= GOAL_MS else f"  > {GOAL_MS:.0f} ms"
            ok = ok and over <= GOAL_MS
        print(f"{name:34} {ms:10.1f} {over:+10.1f} {ms / base:7.2f}{flag}")
    return ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=21, help="rounds per mode (median); default 21")
    ap.add_argument("--no-site", action="store_true", help="run the python commands with -S")
    ap.add_argument("--python", default=sys.executable, help="the interpreter to measure")
    args = ap.parse_args()

    commands = _commands(args.python, args.no_site)
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.pop("PYTHONPYCACHEPREFIX", None)
    ok = True
    with tempfile.TemporaryDirectory() as pyc_dir, tempfile.TemporaryDirectory() as empty_dir:
        # pyc: bytecode cached in a directory of our own (the source tree may be read-only); warm it up.
        warm = dict(env, PYTHONPYCACHEPREFIX=pyc_dir)
        for argv in commands.values():
            _run_once(argv, warm)
        ok &= report("cached bytecode (pyc)", measure(commands, warm, args.runs))
        cold = dict(env, PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=empty_dir)
        ok &= report("no cached bytecode (PYTHONDONTWRITEBYTECODE=1, empty PYTHONPYCACHEPREFIX)",
                     measure(commands, cold, args.runs))
        if os.listdir(empty_dir):  # pragma: no cover - a sanity check of the set-up
            print("warning: bytecode was written in the no-pyc mode", file=sys.stderr)
    print(f"\ngoal: fmt and lint at most {GOAL_MS:.0f} ms over `python -c pass`: {'met' if ok else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
