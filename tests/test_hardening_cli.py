"""Issue 8, items 3, 11 and 12 (command line): output and input that fail, exact SQL parameters, usage
errors that name the real problem.

Every command runs as a real process: standard output on a full disk (``/dev/full``), standard output or
input closed, a reader that goes away.  Each ends in at most one line on standard error, the documented
status (2 for failed input/output, 0 and silence for a closed pipe), and never a traceback, not even the
interpreter's "Exception ignored" at exit.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample_export.jsonl"
PY = [sys.executable, "-m", "skillfilter"]

#: name -> (arguments that write a lot, arguments that read standard input)
COMMANDS: dict[str, tuple[list[str], list[str]]] = {
    "lint": (["lint", "--entity", "employees"] + ["externl_id='1'"] * 2000, ["lint", "--entity", "employees"]),
    "fmt": (["fmt"] + [f"a={i} and b='{'x' * 40}'" for i in range(3000)], ["fmt"]),
    "filter": (["filter", "external_id__contains='-'", str(SAMPLE)], ["filter", "a=1"]),
    "sql": (["sql", "--dialect", "postgresql", " or ".join(f"external_id='{i}'" for i in range(3000))],
            ["sql", "--dialect", "sqlite", "-"]),
    "--help": (["--help"], []),
    "lint --help": (["lint", "--help"], []),
    "--version": (["--version"], []),
}
WRITERS = list(COMMANDS)
READERS = [name for name, (_, reading) in COMMANDS.items() if reading]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PYTHONWARNINGS", None)
    return env


def _no_traceback(stderr: str) -> None:
    assert "Traceback" not in stderr, stderr
    assert "Exception ignored" not in stderr, stderr
    assert "Error:" not in stderr.replace("error:", ""), stderr  # no bare Python exception names


def _closing(fd: int) -> Any:
    def close() -> None:
        os.close(fd)

    return close


@pytest.mark.parametrize("name", WRITERS)
def test_full_disk(name: str) -> None:
    args = COMMANDS[name][0]
    with open("/dev/full", "w") as full:
        proc = subprocess.run(PY + args, stdout=full, stderr=subprocess.PIPE, text=True, env=_env(),
                              timeout=120, check=False)
    _no_traceback(proc.stderr)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "cannot write the output" in proc.stderr and "No space left" in proc.stderr


@pytest.mark.parametrize("name", WRITERS)
def test_stdout_closed(name: str) -> None:
    args = COMMANDS[name][0]
    proc = subprocess.run(PY + args, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=_env(),
                          preexec_fn=_closing(1), timeout=120, check=False)
    _no_traceback(proc.stderr)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "standard output is closed" in proc.stderr


def test_closed_pipe_is_quiet_for_every_command() -> None:
    """One test over all the commands: `lint` stops as `filter` and `fmt` do (it said "input/output
    error", status 2)."""
    for name in WRITERS:
        args = COMMANDS[name][0]
        reader = subprocess.Popen(PY + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
        assert reader.stdout is not None and reader.stderr is not None
        reader.stdout.read(1)
        reader.stdout.close()  # the reader goes away, as `| head -c1` does
        err = reader.stderr.read().decode()
        status = reader.wait(timeout=120)
        _no_traceback(err)
        assert err == "", name
        assert status == 0, name


def test_closed_pipe_in_a_shell_for_lint() -> None:
    """`lint` stops as `filter` and `fmt` do: quietly, status 0 (it said "input/output error", status 2)."""
    many = "\n".join(["externl_id='1'"] * 20000) + "\n"
    script = f'"{sys.executable}" -m skillfilter lint --entity employees | head -c1 > /dev/null; ' \
             'echo "${PIPESTATUS[1]}"'
    proc = subprocess.run(["bash", "-c", script], input=many, capture_output=True,
                          text=True, env=_env(), timeout=120, check=False)
    assert proc.stderr == ""
    assert proc.stdout.strip() == "0"


@pytest.mark.parametrize("name", READERS)
def test_stdin_closed(name: str) -> None:
    args = COMMANDS[name][1]
    proc = subprocess.run(PY + args, capture_output=True, text=True, env=_env(),
                          preexec_fn=_closing(0), timeout=120, check=False)
    _no_traceback(proc.stderr)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "standard input is closed" in proc.stderr
    assert proc.stdout == ""


@pytest.mark.parametrize("name", ["fmt", "lint", "sql"])
def test_stdout_and_stderr_both_full(name: str) -> None:
    args = COMMANDS[name][0]
    with open("/dev/full", "w") as full:
        proc = subprocess.run(PY + args, stdout=full, stderr=full, env=_env(), timeout=120, check=False)
    assert proc.returncode == 2  # not 120, Python's status for a failed final flush


def test_shell_redirections() -> None:
    script = (f'cd "{ROOT}"; "{sys.executable}" -m skillfilter fmt "a=1" >&- ; echo "s=$?"; '
              f'"{sys.executable}" -m skillfilter fmt <&- ; echo "s=$?"; '
              f'"{sys.executable}" -m skillfilter filter "a=1" <&- ; echo "s=$?"; '
              f'"{sys.executable}" -m skillfilter lint --entity employees "a=1" >&- ; echo "s=$?"')
    proc = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=_env(), timeout=120,
                          check=False)
    assert proc.stdout.split() == ["s=2"] * 4
    lines = proc.stderr.splitlines()
    assert len(lines) == 4, proc.stderr
    assert lines[0] == "skillfilter fmt: cannot write the output: standard output is closed"
    assert lines[1] == "skillfilter fmt: cannot read the input: standard input is closed"
    assert lines[2] == "skillfilter filter: cannot read the input: standard input is closed"
    assert lines[3] == "skillfilter lint: cannot write the output: standard output is closed"


def test_main_in_process_reports_output_errors() -> None:
    from skillfilter.cli import main

    class Full:
        def write(self, _: str) -> int:
            raise OSError(28, "No space left on device")

        def flush(self) -> None:
            pass

    import io

    err = io.StringIO()
    assert main(["fmt", "a=1"], stdout=Full(), stderr=err) == 2  # type: ignore[arg-type]
    assert err.getvalue() == "skillfilter fmt: cannot write the output: No space left on device\n"
    err = io.StringIO()
    assert main(["lint", "--entity", "employees", "a="], stdout=Full(), stderr=err) == 2  # type: ignore[arg-type]
    assert err.getvalue() == "skillfilter lint: cannot write the output: No space left on device\n"


# --------------------------------------------------------------------------------------------------
# usage errors (item 12)
# --------------------------------------------------------------------------------------------------
def _usage_error(*args: str) -> str:
    import io

    from skillfilter.cli import main

    err = io.StringIO()
    out = io.StringIO()
    assert main(list(args), stdin=io.StringIO(""), stdout=out, stderr=err) == 2
    assert out.getvalue() == ""
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("usage:")
    return lines[-1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["filter", "--skip-invalid"], "skillfilter filter: error: missing FILTER"),
        (["filter"], "skillfilter filter: error: missing FILTER"),
        (["filter", "--schema", "export"], "skillfilter filter: error: missing FILTER"),
        (["filter", "--bogus", "a=1", "file.jsonl"], "skillfilter filter: error: unknown option: --bogus"),
        (["filter", "a=1", "--bogus", "file.jsonl"], "skillfilter filter: error: unknown option: --bogus"),
        (["filter", "a=1", "file.jsonl", "--bogus", "--worse"],
         "skillfilter filter: error: unknown options: --bogus --worse"),
        (["lint", "--bogus", "a=1"], "skillfilter lint: error: unknown option: --bogus"),
        (["lint", "a=1", "--bogus", "b=2"], "skillfilter lint: error: unknown option: --bogus"),
        (["fmt", "a=1", "--bogus"], "skillfilter fmt: error: unknown option: --bogus"),
        (["sql", "--dialect", "sqlite"], "skillfilter sql: error: missing FILTER"),
        (["sql", "a=1"], "skillfilter sql: error: the option --dialect/-d is required"),
        (["sql", "--bogus", "-d", "sqlite", "a=1"], "skillfilter sql: error: unknown option: --bogus"),
        (["sql", "-d", "sqlite", "a=1", "b=2"],
         "skillfilter sql: error: unexpected argument: 'b=2' (quote a filter that contains spaces)"),
    ],
)
def test_usage_errors_name_the_real_problem(args: list[str], message: str) -> None:
    assert _usage_error(*args) == message


def test_unknown_option_alone_and_double_dash_still_ends_options() -> None:
    import io

    from skillfilter.cli import main

    assert _usage_error("fmt", "--bogus", "--", "-a=1") == "skillfilter fmt: error: unknown option: --bogus"
    out = io.StringIO()
    assert main(["fmt", "--", "-a=1"], stdout=out, stderr=io.StringIO()) == 1  # a filter, not an option
    assert out.getvalue() == ""


# --------------------------------------------------------------------------------------------------
# exact parameters (item 11)
# --------------------------------------------------------------------------------------------------
def _printed(args: list[str]) -> tuple[str, str]:
    import io

    from skillfilter.cli import main

    out, err = io.StringIO(), io.StringIO()
    status = main(["sql", *args], stdout=out, stderr=err)
    assert status == 0, err.getvalue()
    sql, params = out.getvalue().splitlines()
    return sql, params


def _same(printed: Any, real: Any) -> bool:
    if isinstance(real, (dt.date, dt.datetime)):
        return printed == real.isoformat()
    if isinstance(real, bool) or real is None or isinstance(real, str):
        return printed == real and type(printed) is type(real)
    if isinstance(real, (int, float, decimal.Decimal)):
        # A float stands for its shortest form's decimal value (docs/semantics.md, "Numbers").
        value = decimal.Decimal(repr(real)) if isinstance(real, float) else decimal.Decimal(real)
        return isinstance(printed, (int, decimal.Decimal)) and not isinstance(printed, bool) and \
            decimal.Decimal(printed) == value
    if isinstance(real, (list, tuple)):
        return isinstance(printed, list) and len(printed) == len(real) and all(map(_same, printed, real))
    return False


_numbers = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=None).map(lambda d: format(d, "")),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["1E+300", "1e-7", "1e16", "1e400", "-0.0", "0.1", "123456789012345678901234567890.5",
                     "9007199254740993", "1e-400"]),
).filter(lambda t: "inf" not in t and "nan" not in t.lower())
TYPED = {
    "name": "typed",
    "entities": {
        "t": {
            "fields": {"n": "number", "i": "integer", "d": "date", "w": "datetime", "s": "text", "b": "boolean"},
            "custom_properties": {},
        }
    },
}


@pytest.fixture(scope="module")
def typed_schema(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("schema") / "typed.json"
    path.write_text(json.dumps(TYPED))
    return str(path)


def _check_exact(schema_file: str, dialect: str, text: str) -> str:
    from skillfilter.backends.sql import to_sql
    from skillfilter.semantics.schema import Schema

    _, printed = _printed(["--dialect", dialect, "--schema", schema_file, text])
    _, real = to_sql(text, dialect=dialect, schema=Schema.from_dict(TYPED), entity="t")
    decoded = json.loads(printed, parse_float=decimal.Decimal)
    assert len(decoded) == len(real)
    for p, r in zip(decoded, real):
        assert _same(p, r), (p, r, printed)
    return printed


@settings(max_examples=150, deadline=None)
@given(numbers=st.lists(_numbers, min_size=1, max_size=4), dialect=st.sampled_from(["sqlite", "postgresql"]),
       ops=st.lists(st.sampled_from(["n=", "n__gt=", "n__lte=", "cp_x=", "cp_y__gte=", "i=", "i__lt="]),
                    min_size=4, max_size=4))
def test_printed_parameters_are_exact(typed_schema: str, numbers: list[str], dialect: str,
                                      ops: list[str]) -> None:
    from skillfilter.semantics.schema import Schema
    from skillfilter.semantics.validate import validate

    schema = Schema.from_dict(TYPED)
    parts = [f"{op}{n}" for n, op in zip(numbers, ops)]
    parts = [p for p in parts if not validate(p, "t", schema=schema)]  # `i=0.5`, `n=1e400`: left out
    text = " or ".join([*parts, "w__gte='2024-01-31T10:30:00+01:00'", "d='2024-02-29'", "s='a\\'b'", "b=true"])
    _check_exact(typed_schema, dialect, text)


def test_issue_numbers_print_as_json_numbers(typed_schema: str) -> None:
    for dialect in ("sqlite", "postgresql"):
        for literal in ["1E+300", "1e-7", "1e16", "0.1", "5e-324", "1.7976931348623157e308",
                        "123456789012345678901234567890", "-2.5", "1e-300"]:
            printed = _check_exact(typed_schema, dialect, f"n={literal} or n__gt={literal}")
            assert '"' not in printed, (dialect, literal, printed)  # no number as a JSON string


def test_lone_surrogate_parameter_is_printed_escaped() -> None:
    import io

    from skillfilter.cli import main

    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    assert main(["sql", "-d", "sqlite", "-s", "export", "external_id='\ud800'"], stdout=out,
                stderr=io.StringIO()) == 0
    out.seek(0)
    assert out.read().splitlines()[1] == '["\\ud800"]'
