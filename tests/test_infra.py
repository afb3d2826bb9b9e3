"""The test infrastructure itself: the throwaway PostgreSQL server, hypothesis profiles, .ci/run, sample data."""

from __future__ import annotations

import itertools
import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from conftest import PostgresServer

ROOT = Path(__file__).resolve().parents[1]
TEST_COMMAND = "python -m pip install -e '.[test]' && python -m pytest"


# -- PostgreSQL ------------------------------------------------------------------------------------------
@pytest.mark.postgres
def test_postgres_answers(postgres_dsn: str) -> None:
    import psycopg

    with psycopg.connect(postgres_dsn) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        assert conn.execute("SHOW server_encoding").fetchone() == ("UTF8",)
        # A value with quotes, backslashes and non-ASCII goes through as a parameter, unchanged.
        hostile = "O'Reilly \\ \"ß\" Ω 数据 🚀 -- /* and or not %_"
        assert conn.execute("SELECT %s::text", (hostile,)).fetchone() == (hostile,)


def _listening(port: int) -> list[str]:
    """Local addresses of the TCP sockets listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.append(address)
    return found


@pytest.mark.postgres
def test_postgres_listens_on_loopback_only(postgres_server: PostgresServer) -> None:
    import psycopg

    with psycopg.connect(postgres_server.dsn) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone() == ("127.0.0.1",)
        assert conn.execute("SHOW unix_socket_directories").fetchone() == ("",)
        assert conn.execute("SHOW fsync").fetchone() == ("off",)
    if not Path("/proc/net/tcp").exists():
        pytest.skip("no /proc/net/tcp to read the listening sockets from")
    # 0100007F is 127.0.0.1 as /proc/net/tcp writes it; no IPv6 or wildcard socket on that port.
    assert _listening(postgres_server.port) == ["0100007F"]
    assert not list(postgres_server.base.glob("data/.s.PGSQL.*"))


# -- hypothesis profiles ---------------------------------------------------------------------------------
def test_hypothesis_profiles_registered() -> None:
    ci, dev, thorough = (settings.get_profile(n) for n in ("ci", "dev", "thorough"))
    assert ci.deadline is None and dev.deadline is None and thorough.deadline is None
    assert dev.max_examples <= ci.max_examples < thorough.max_examples


def test_hypothesis_profile_in_force(request: pytest.FixtureRequest) -> None:
    chosen = request.config.getoption("hypothesis_profile", default=None)
    expected = chosen or ("ci" if os.environ.get("CI") else "dev")
    assert settings.default.max_examples == settings.get_profile(expected).max_examples


def test_hypothesis_profile_option_selects_profile(tmp_path: Path) -> None:
    """``--hypothesis-profile thorough`` reaches the tests (hypothesis' option loads our profile)."""
    probe = tmp_path / "test_probe.py"
    probe.write_text(
        "from hypothesis import settings\n"
        "def test_probe():\n"
        "    assert settings.default.max_examples == settings.get_profile('thorough').max_examples\n"
    )
    shutil_conftest = (ROOT / "tests" / "conftest.py").read_text()
    (tmp_path / "conftest.py").write_text(shutil_conftest)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--hypothesis-profile", "thorough",
         "--rootdir", str(tmp_path), str(probe)],
        capture_output=True, text=True, cwd=tmp_path, timeout=300, check=False, env=_clean_env(),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def _clean_env() -> dict[str, str]:
    """The environment for a nested pytest run: without the options given to this one."""
    return {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}


# -- .ci/run ---------------------------------------------------------------------------------------------
def test_readme_and_ci_run_the_same_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert TEST_COMMAND in readme
    command_lines = [line for line in ci.splitlines() if line.startswith("python -m pip install -e")]
    assert command_lines and all(line.startswith(TEST_COMMAND + " ") or line == TEST_COMMAND
                                 for line in command_lines)


def test_ci_run_is_strict_bash() -> None:
    path = ROOT / ".ci" / "run"
    assert path.stat().st_mode & stat.S_IXUSR, ".ci/run must be executable"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert re.search(r"^set -euo pipefail$", text, re.M)
    subprocess.run(["bash", "-n", str(path)], check=True, timeout=60)


def _stub_python(tmp_path: Path, pytest_status: int) -> dict[str, str]:
    """A PATH whose `python` passes `-m pip`, returns ``pytest_status`` for `-m pytest`, and logs calls."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "calls.log"
    stub = bindir / "python"
    stub.write_text(
        "#!/usr/bin/env bash\n"
        f'echo "$*" >> {log}\n'
        'case "$1 $2" in\n'
        '  "--version "*) echo "Python 3.x (stub)";;\n'
        '  "-m pip") exit 0;;\n'
        f'  "-m pytest") exit {pytest_status};;\n'
        "  *) exit 0;;\n"
        "esac\n"
    )
    stub.chmod(0o755)
    return {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}", "CI": "true"}


@pytest.mark.parametrize("status", [5, 1])
def test_ci_run_fails_when_pytest_fails_or_collects_nothing(tmp_path: Path, status: int) -> None:
    if not list(Path("/usr/lib/postgresql").glob("*/bin/postgres")):
        pytest.skip("would install PostgreSQL first (.ci/run does that when it is missing)")
    env = _stub_python(tmp_path, status)
    result = subprocess.run(["bash", str(ROOT / ".ci" / "run")], env=env, capture_output=True, text=True,
                            timeout=300, check=False, stdin=subprocess.DEVNULL)
    assert result.returncode == status, result.stdout + result.stderr
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert "-m pytest" in calls
    assert not any(c.startswith(("-m ruff", "-m mypy")) for c in calls), "lint ran after failing tests"
    if status == 5:
        assert "no tests" in result.stderr


def test_ci_run_passes_when_everything_passes(tmp_path: Path) -> None:
    if not list(Path("/usr/lib/postgresql").glob("*/bin/postgres")):
        pytest.skip("would install PostgreSQL first (.ci/run does that when it is missing)")
    env = _stub_python(tmp_path, 0)
    result = subprocess.run(["bash", str(ROOT / ".ci" / "run")], env=env, capture_output=True, text=True,
                            timeout=300, check=False, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    calls = (tmp_path / "calls.log").read_text().splitlines()
    assert calls.index("-m pytest") < calls.index("-m ruff check .") < calls.index("-m mypy")


# -- sample data -----------------------------------------------------------------------------------------
def test_sample_data_is_reproducible(tmp_path: Path) -> None:
    """The script makes exactly the bundled files (deterministic, and the files are up to date)."""
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_sample_data.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True, timeout=300)
    for name in ("sample_export.jsonl", "sample_pages.json"):
        assert (tmp_path / name).read_bytes() == (ROOT / "examples" / name).read_bytes(), name


def _walk(value: object, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    yield path, value
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, (*path, k))
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, (*path, "[]"))


def test_sample_data_has_the_hard_cases() -> None:
    path = ROOT / "examples" / "sample_export.jsonl"
    assert path.stat().st_size + (ROOT / "examples" / "sample_pages.json").stat().st_size < 5_000_000
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n")[:-1]]
    assert 2000 <= len(records) <= 5000
    assert len({r["external_id"] for r in records}) == len(records)
    strings = {v for r in records for _, v in _walk(r) if isinstance(v, str)}
    for needle in ("é", "ß", "Ω", "数据", "🚀", "'", '"', "\\", "%", "_", "--", "/*"):
        assert any(needle in s for s in strings), needle
    assert {"and", "or", "not"} <= strings
    clusters = [c for r in records for c in r.get("skill_clusters") or []]
    assert any("validation_state" not in c for c in clusters)
    assert any(c.get("validation_state") is None and "validation_state" in c for c in clusters)
    assert any(c.get("related_skills") == [] for c in clusters)
    assert any("skill_clusters" not in r for r in records)
    assert any(r.get("skill_clusters") == [] for r in records)
    # As the endpoint documents its records: an external_id and skill clusters, nothing else.
    assert all(set(r) <= {"external_id", "skill_clusters"} for r in records)
    for cluster in clusters:
        assert {"skill_cluster_id", "skill_cluster_name", "domain_name"} <= set(cluster)
        for key in ("current_skills", "related_skills", "rejected_skills"):
            for skill in cluster.get(key) or []:
                assert {"name", "skill_id"} <= set(skill)


def test_sample_pages_follow_has_next() -> None:
    from skillfilter.cli.records import read_records

    text = (ROOT / "examples" / "sample_pages.json").read_text(encoding="utf-8")
    decoder = json.JSONDecoder()
    pages, pos = [], 0
    while pos < len(text):
        page, pos = decoder.raw_decode(text, pos)
        pages.append(page)
        while pos < len(text) and text[pos].isspace():
            pos += 1
    assert len(pages) >= 2
    assert [p["has_next"] for p in pages] == [True] * (len(pages) - 1) + [False]
    for page, following in itertools.pairwise(pages):
        assert page["next_starting_after"] == page["records"][-1]["external_id"]
        assert following["records"]
    with open(ROOT / "examples" / "sample_pages.json", "rb") as f:
        assert list(read_records(f)) == [r for p in pages for r in p["records"]]


@pytest.mark.parametrize(("ci", "outcome"), [("true", "failed"), ("", "skipped")])
def test_postgres_missing_fails_under_ci_else_skips(tmp_path: Path, ci: str, outcome: str) -> None:
    conftest = (ROOT / "tests" / "conftest.py").read_text()
    (tmp_path / "conftest.py").write_text(conftest + "\n\ndef find_postgres_bindir():\n    return None\n")
    (tmp_path / "test_needs_pg.py").write_text("def test_pg(postgres_dsn):\n    assert postgres_dsn\n")
    env = _clean_env()
    env.pop("CI", None)
    if ci:
        env["CI"] = ci
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rfEs", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
         str(tmp_path / "test_needs_pg.py")],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300, check=False,
    )
    summary = result.stdout.strip().splitlines()[-1]
    if outcome == "failed":
        assert result.returncode == 1 and "1 error" in summary, result.stdout
        assert "CI is set" in result.stdout
    else:
        assert result.returncode == 0 and "1 skipped" in summary, result.stdout
    assert "PostgreSQL server binaries not found" in result.stdout
