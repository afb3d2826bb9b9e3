"""Shared test set-up: hypothesis profiles, and a throwaway PostgreSQL server.

Hypothesis profiles (choose one with ``python -m pytest --hypothesis-profile NAME``):

- ``dev`` (the default on a workstation): few examples, for a quick run;
- ``ci`` (the default when the environment variable ``CI`` is set): a moderate number of examples, so that
  the whole suite stays well within CI's time on two cores;
- ``thorough``: many examples, for a long run by hand.

Every profile has ``deadline=None``: the machines are shared, and timings are not what these tests check.
A test's own ``@settings(max_examples=...)`` still wins over the profile.

``postgres_dsn`` (session-scoped) starts a PostgreSQL server of its own: ``initdb`` into a temporary
directory (as the ``postgres`` user, or a dedicated one, when the tests run as root: initdb refuses root),
UTF8, listening on 127.0.0.1 only, on a free port, with no Unix socket and with fsync off; it yields a libpq
connection string and removes the server at the end of the session.  Without PostgreSQL's server binaries
(``pg_config --bindir``, ``/usr/lib/postgresql/*/bin`` or ``PATH``) the tests that use it are skipped, or
fail when ``CI`` is set: CI must run them (``.ci/run`` installs the server).
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

# -- hypothesis ----------------------------------------------------------------------------------------
settings.register_profile("dev", max_examples=25, deadline=None)
settings.register_profile(
    "ci", max_examples=60, deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
#: The profile in force unless ``--hypothesis-profile`` names another (hypothesis' own option loads it).
DEFAULT_HYPOTHESIS_PROFILE = "ci" if os.environ.get("CI") else "dev"
settings.load_profile(DEFAULT_HYPOTHESIS_PROFILE)


# -- PostgreSQL ----------------------------------------------------------------------------------------
#: The user that runs the server when the tests run as root (created if missing, unless `postgres` exists).
PG_USER_FALLBACK = "skillfilter-pg"
START_TIMEOUT = 60.0


class PostgresUnavailable(Exception):
    pass


@dataclass
class PostgresServer:
    """A running throwaway server (see :func:`start_postgres`)."""

    bindir: Path
    base: Path
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres connect_timeout=10"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # "fast" shutdown: ends sessions, no checkpoint wait
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=30)
        shutil.rmtree(self.base, ignore_errors=True)


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path)) or (0,)


def find_postgres_bindir() -> Path | None:
    """A directory holding ``initdb`` and ``postgres``: from pg_config, Debian's layout, or PATH."""
    candidates: list[str] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=20, check=False
            ).stdout.strip()
            if out:
                candidates.append(out)
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).resolve().parent))
    for candidate in candidates:
        path = Path(candidate)
        if (path / "initdb").is_file() and (path / "postgres").is_file():
            return path
    return None


def _server_user() -> tuple[str | None, int, int]:
    """(user name or None for ourselves, uid, gid) to run initdb and the server as."""
    if os.geteuid() != 0:
        return None, os.getuid(), os.getgid()
    import pwd

    for name in ("postgres", PG_USER_FALLBACK):
        with contextlib.suppress(KeyError):
            entry = pwd.getpwnam(name)
            return name, entry.pw_uid, entry.pw_gid
    useradd = shutil.which("useradd")
    if useradd is None:
        raise PostgresUnavailable("running as root, no `postgres` user, and no useradd to create one")
    result = subprocess.run(
        [useradd, "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", PG_USER_FALLBACK],
        capture_output=True, text=True, check=False, timeout=60,
    )
    if result.returncode != 0:
        raise PostgresUnavailable(f"cannot create the user {PG_USER_FALLBACK}: {result.stderr.strip()}")
    entry = pwd.getpwnam(PG_USER_FALLBACK)
    return PG_USER_FALLBACK, entry.pw_uid, entry.pw_gid


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as(user: str | None, gid: int) -> dict[str, object]:
    if user is None:
        return {}
    return {"user": user, "group": gid, "extra_groups": []}


def _initdb(bindir: Path, data: Path, user: str | None, gid: int, env: dict[str, str]) -> None:
    last = ""
    for locale in ("C.UTF-8", "C"):  # C.UTF-8: code-point order, Unicode case mapping for upper()/lower()
        shutil.rmtree(data, ignore_errors=True)
        result = subprocess.run(
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
             f"--locale={locale}", "--no-sync", "--no-instructions"],
            capture_output=True, text=True, env=env, check=False, timeout=180, **_run_as(user, gid),
        )
        if result.returncode == 0:
            return
        last = (result.stderr or result.stdout).strip()
    raise PostgresUnavailable(f"initdb failed: {last}")


def _ready(port: int) -> bool:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a test dependency
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
        return False
    try:
        with psycopg.connect(
            f"host=127.0.0.1 port={port} user=postgres dbname=postgres connect_timeout=2"
        ) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.OperationalError:
        return False


def start_postgres() -> PostgresServer:
    """Start a throwaway server; raise :class:`PostgresUnavailable` with the reason if that fails."""
    bindir = find_postgres_bindir()
    if bindir is None:
        raise PostgresUnavailable(
            "PostgreSQL server binaries not found (pg_config --bindir, /usr/lib/postgresql/*/bin, PATH); "
            "install them, e.g. `apt-get install postgresql`"
        )
    user, uid, gid = _server_user()
    base = Path(tempfile.mkdtemp(prefix="skillfilter-pg-"))
    try:
        os.chown(base, uid, gid)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(base), "LC_ALL": "C"}
        data = base / "data"
        _initdb(bindir, data, user, gid, env)
        log = base / "server.log"
        last_error = ""
        for _attempt in range(3):  # the free port may be taken between choosing and binding it
            port = _free_port()
            with open(log, "ab") as log_file:
                process = subprocess.Popen(
                    [str(bindir / "postgres"), "-D", str(data),
                     "-c", "listen_addresses=127.0.0.1", "-c", f"port={port}",
                     "-c", "unix_socket_directories=",
                     "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                     "-c", "max_connections=40", "-c", "shared_buffers=32MB"],
                    stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, env=env,
                    start_new_session=True, **_run_as(user, gid),
                )
            server = PostgresServer(bindir, base, port, process, log)
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline and process.poll() is None:
                if _ready(port):
                    return server
                time.sleep(0.2)
            server.process.poll()
            if process.returncode is None:
                process.kill()
                process.wait(timeout=30)
            last_error = log.read_text(errors="replace")[-2000:]
            if "already in use" not in last_error and "could not bind" not in last_error:
                break
        raise PostgresUnavailable(f"the PostgreSQL server did not start; its log ends:\n{last_error}")
    except BaseException:
        shutil.rmtree(base, ignore_errors=True)
        raise


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = start_postgres()
    except (PostgresUnavailable, OSError, subprocess.SubprocessError) as exc:
        reason = f"PostgreSQL unavailable: {exc}"
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI is set: tests that need PostgreSQL must run)", pytrace=False)
        pytest.skip(reason)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_dsn(postgres_server: PostgresServer) -> str:
    """A libpq connection string to a throwaway server (superuser `postgres`, database `postgres`)."""
    return postgres_server.dsn


@pytest.fixture(scope="module")
def pg_connect(postgres_dsn: str) -> Iterator[Callable[..., Any]]:
    """A factory of autocommit connections, each in a fresh PostgreSQL schema of its own (dropped after the
    module), with ``skillfilter_fold`` installed unless ``install=False``.

    JIT is off: filters of hundreds of comparisons have huge cost estimates, and PostgreSQL would spend
    seconds JIT-compiling them (docs/sql.md); the answers are what the tests check.
    """
    import uuid

    import psycopg

    from skillfilter.backends.sql import install_functions

    made: list[tuple[Any, str]] = []

    def connect(install: bool = True) -> Any:
        name = "sf_test_" + uuid.uuid4().hex[:12]
        conn = psycopg.connect(postgres_dsn, autocommit=True)
        conn.execute(f'CREATE SCHEMA "{name}"')
        conn.execute(f'SET search_path TO "{name}"')
        conn.execute("SET jit = off")
        if install:
            install_functions(conn)
        made.append((conn, name))
        return conn

    yield connect
    for conn, name in made:
        conn.execute(f'DROP SCHEMA "{name}" CASCADE')
        conn.close()


# --------------------------------------------------------------------------------------------------
# In CI nothing skips: a test that needs an engine, a server or a package runs, or the run fails.
# --------------------------------------------------------------------------------------------------
def _skip_is_failure(report: Any) -> None:
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    _skip_is_failure(outcome.get_result())  # type: ignore[attr-defined]


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    outcome = yield
    _skip_is_failure(outcome.get_result())  # type: ignore[attr-defined]
# -- Spark in the docs (frames2) --------------------------------------------------------------------------
#: Doc files whose examples start a local Spark: they need Java and pyspark.  In CI (``CI`` set) both are
#: always there (``.ci/run`` installs Java), so these never skip there; elsewhere they skip with how to get them.
SPARK_DOCS = ("test_doctests[docs/engines.md]",)


@pytest.fixture(autouse=True)
def _spark_docs_need_java(request: pytest.FixtureRequest) -> None:
    if request.node.name not in SPARK_DOCS or os.environ.get("CI"):
        return
    import importlib.util

    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        pytest.skip("docs/engines.md runs Spark, which needs Java: apt-get install openjdk-17-jre-headless")
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("docs/engines.md runs Spark: pip install '.[spark]'")


# -- process state a test must leave as it found it ------------------------------------------------------
@pytest.fixture(autouse=True)
def _sigint_is_not_left_ignored() -> Iterator[None]:
    """A test that leaves this process ignoring SIGINT (a worker's initializer run in-process, say) makes
    every later test's subprocesses ignore it too (an ignored signal survives ``exec``): the playground's
    Ctrl-C test then waited in vain.  Such a test fails here, and the handler is put back for the tests
    after it.  A Python handler (Spark installs one to cancel its jobs) is not inherited and is left be."""
    before = signal.getsignal(signal.SIGINT)
    yield
    after = signal.getsignal(signal.SIGINT)
    if after is signal.SIG_IGN and before is not signal.SIG_IGN:
        signal.signal(signal.SIGINT, before)
        pytest.fail("the test left this process ignoring SIGINT")
