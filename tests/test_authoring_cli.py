"""``skillfilter split`` and ``skillfilter fmt --to json / --from json``."""

from __future__ import annotations

import json
import subprocess
import sys

from skillfilter import parse_query_string, predicate


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "skillfilter", *args], capture_output=True, text=True,
                          check=False, timeout=120, input=stdin)


def test_split_prints_one_query_string_per_request() -> None:
    text = " or ".join(f"external_id='{i}'" for i in range(14))
    out = run("split", text)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 3
    pieces = [parse_query_string(line)["employees"] for line in lines]
    assert all(p.logical_operator_count() <= 5 for p in pieces)
    records = [{"external_id": str(i)} for i in range(20)]
    whole = predicate(text)
    tests = [predicate(p) for p in pieces]
    assert [any(t(r) for t in tests) for r in records] == [whole(r) for r in records]


def test_split_options_and_refusals() -> None:
    out = run("split", "--max-logical-operators", "1", "external_id='1' or external_id='2' or external_id='3'")
    assert out.returncode == 0 and len(out.stdout.splitlines()) == 2
    bad = run("split", "--schema", "export", " and ".join(f"skill_clusters__domain_name='{i}'" for i in range(7)))
    assert bad.returncode == 1 and "cannot split" in bad.stderr and "Traceback" not in bad.stderr
    syntax = run("split", "a=1 AND b=2")
    assert syntax.returncode == 1 and "lowercase" in syntax.stderr
    usage = run("split", "--max-logical-operators", "-1", "a=1")
    assert usage.returncode == 2


def test_fmt_to_and_from_json() -> None:
    out = run("fmt", "--to", "json", "a=1 and not cp_x__gt=1.0", "b=9007199254740993")
    assert out.returncode == 0, out.stderr
    docs = [json.loads(line) for line in out.stdout.splitlines()]
    assert docs[1]["filter"]["value"] == {"type": "integer", "value": "9007199254740993"}
    back = run("fmt", "--from", "json", stdin=out.stdout)
    assert back.returncode == 0 and back.stdout == "a=1 and not cp_x__gt=1.0\nb=9007199254740993\n"
    bad = run("fmt", "--from", "json", '{"version": 1, "filter": {"not": {}}}')
    assert bad.returncode == 1 and "/filter/not" in bad.stderr and "Traceback" not in bad.stderr
