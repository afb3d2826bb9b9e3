"""``skillfilter fmt [--pretty] [FILTER ...]``: arguments, standard input, exit codes, clean errors."""

from __future__ import annotations

import io
import os
import subprocess
import sys

from skillfilter import parse
from skillfilter.cli import main

LONG = " and ".join(f"(field_{i}__icontains='value {i}' or cp_x{i}=true)" for i in range(4))


def run(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    status = main(["fmt", *argv], stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return status, out.getvalue(), err.getvalue()


def test_arguments() -> None:
    assert run("a = 1", "(b='x')  or not c__gt=2") == (0, "a=1\nb='x' or not c__gt=2\n", "")


def test_standard_input_one_filter_per_line() -> None:
    status, out, err = run(stdin="a = 1\n\n  \nb__exact=\"x\"\r\n")
    assert (status, out, err) == (0, "a=1\nb='x'\n", "")
    assert run(stdin="") == (0, "", "")


def test_pretty() -> None:
    status, out, err = run("--pretty", LONG)
    assert status == 0 and err == ""
    assert out.count("\n") > 1
    assert parse(out) == parse(LONG)
    assert run("--pretty", "a=1") == (0, "a=1\n", "")


def test_syntax_error_exit_1_and_the_rest_still_formatted() -> None:
    status, out, err = run("a=1", "a=1 AND b=2", "b = 2")
    assert status == 1
    assert out == "a=1\nb=2\n"
    assert err.startswith("unexpected `AND` (line 1, column 5)\na=1 AND b=2\n    ^^^\n")
    assert "hint: keywords are lowercase" in err
    assert "Traceback" not in err


def test_usage_errors_exit_2() -> None:
    out, err = io.StringIO(), io.StringIO()
    assert main(["fmt", "--no-such-option"], stdin=io.StringIO(), stdout=out, stderr=err) == 2
    assert main(["fmt", "--help"], stdin=io.StringIO(), stdout=out, stderr=err) == 0


def _process(*args: str, stdin: str | bytes = "", env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return subprocess.run([sys.executable, "-m", "skillfilter", "fmt", *args], input=data, capture_output=True,
                          timeout=120, env={**os.environ, **(env or {})}, check=False)


def test_as_a_process() -> None:
    ok = _process("a = 1 or b='é'")
    assert ok.returncode == 0 and ok.stdout.decode() == "a=1 or b='é'\n" and ok.stderr == b""
    bad = _process(stdin="a=1\na=\n(b=1\n")
    assert bad.returncode == 1
    assert bad.stdout.decode() == "a=1\n"
    err = bad.stderr.decode()
    assert "missing value after `=`" in err and "this `(` is never closed" in err
    assert "Traceback" not in err


def test_hostile_input_never_gives_a_traceback() -> None:
    cases: list[bytes] = [b"(" * 200_000, b"not " * 50_000, b"a='" + b"x" * 200_000,
                          b"\x00", b"a=1\x00"]
    for data in cases:
        result = _process(stdin=data + b"\n", env={"PYTHONIOENCODING": "utf-8"})
        assert result.returncode in (0, 1), data[:20]
        assert b"Traceback" not in result.stderr, (data[:20], result.stderr[-500:])
    # Standard input that is not UTF-8: unreadable input, exit 2, no traceback.
    for data in (b"\xff\xfe\n", b"a='\xff'\n"):
        result = _process(stdin=data, env={"PYTHONIOENCODING": "utf-8"})
        assert result.returncode == 2
        assert result.stderr.startswith(b"cannot read standard input as utf-8")
        assert b"Traceback" not in result.stderr
        # With surrogateescape (as under the C locale) the bad byte reaches the parser as a character.
        result = _process(stdin=data, env={"PYTHONIOENCODING": "utf-8:surrogateescape"})
        assert result.returncode in (0, 1) and b"Traceback" not in result.stderr
    # A lone surrogate in an argument (undecodable bytes) with a strict UTF-8 output.
    result = subprocess.run([sys.executable, "-m", "skillfilter", "fmt", os.fsdecode(b"a='\xff'")],
                            capture_output=True, timeout=120, env={**os.environ, "PYTHONIOENCODING": "utf-8"},
                            check=False)
    assert result.returncode == 1
    assert b"Traceback" not in result.stderr
    assert b"cannot write the filter" in result.stderr
