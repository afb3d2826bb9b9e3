"""Issue 8, items 2, 5 and 7: deeply nested records, ``--skip-invalid`` on cut lines, the progress line.

Every test here runs with orjson (when installed) and with the standard library only: the same input must
give the same records, the same output and the same errors either way.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import select
import threading
import tty
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skillfilter.cli import main
from skillfilter.cli import records as R
from skillfilter.cli.commands import filter_ as F
from skillfilter.cli.records import RecordError, read_records

MAX_DEPTH = getattr(R, "MAX_DEPTH", 512)  # the documented limit (getattr: these tests also run on old code)

HAS_ORJSON = R.FAST_LOADS is not None
IMPLS = [pytest.param(True, id="orjson", marks=pytest.mark.skipif(not HAS_ORJSON, reason="no orjson")),
         pytest.param(False, id="stdlib")]


@contextlib.contextmanager
def json_impl(fast: bool) -> Iterator[None]:
    saved = R.FAST_LOADS
    if not fast:
        R.FAST_LOADS = None
    try:
        yield
    finally:
        R.FAST_LOADS = saved


def run_cli(args: list[str], stdin: bytes) -> tuple[int, bytes, str]:
    out = io.BytesIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8")
    err = io.StringIO()
    status = main(["filter", *args], stdin=io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"),
                  stdout=stdout, stderr=err)
    stdout.flush()
    return status, out.getvalue(), err.getvalue()


def both(args: list[str], stdin: bytes) -> tuple[int, bytes, str]:
    """The command's result, checked to be the same with and without orjson."""
    results = []
    for fast in ([True, False] if HAS_ORJSON else [False]):
        with json_impl(fast):
            results.append(run_cli(args, stdin))
    assert all(r == results[0] for r in results), results
    return results[0]


# --------------------------------------------------------------------------------------------------
# item 2: deeply nested records
# --------------------------------------------------------------------------------------------------
def nested(levels: int) -> str:
    """A record nesting ``levels`` levels of arrays and objects in all (the record is level 1)."""
    return '{"id": 2, "a": ' + "[" * (levels - 1) + "1" + "]" * (levels - 1) + "}"


def layouts(record: str) -> dict[str, str]:
    one, three = '{"id": 1}', '{"id": 3}'
    return {
        "lines": f"{one}\n{record}\n{three}\n",
        "array": f"[{one}, {record}, {three}]",
        "pretty array": f"[\n  {one},\n  {record},\n  {three}\n]\n",
        "page": f'{{"has_next": false, "records": [{one}, {record}, {three}]}}',
        "lines, then an array line": f'{one}\n[{record}]\n{three}\n',
        "lines, then a page line": f'{one}\n{{"has_next": true, "records": [{record}]}}\n{three}\n',
    }


@pytest.mark.parametrize("levels", [2, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 1000, 1030, 5000])
@pytest.mark.parametrize("layout", list(layouts("")))
def test_deep_records_are_written_or_refused_cleanly(levels: int, layout: str) -> None:
    record = nested(levels)
    data = layouts(record)[layout].encode()
    status, out, err = both(["id__gt=0", "--skip-invalid"], data)
    assert status == 0
    ids = [json.loads(line)["id"] for line in out.decode().splitlines()]
    if levels <= MAX_DEPTH:
        assert ids == [1, 2, 3] and err == ""
        assert record.replace(" ", "").encode() in out.replace(b" ", b"")  # written, as it was
    else:
        assert ids == [1, 3]
        assert "nested too deeply" in err and err.endswith("skipped 1 invalid record\n")
    # Without --skip-invalid: written, or one clean error (status 2) after the record before it.
    status, out, err = both(["id__gt=0"], data)
    if levels <= MAX_DEPTH:
        assert status == 0 and len(out.splitlines()) == 3
    else:
        assert status == 2 and "nested too deeply" in err and "Traceback" not in err
        assert [json.loads(line)["id"] for line in out.decode().splitlines()] == [1]


@pytest.mark.parametrize("fast", IMPLS)
def test_deep_values_read_by_the_library_raise_record_errors(fast: bool) -> None:
    for levels in (MAX_DEPTH + 1, 3000):
        with json_impl(fast):
            errors: list[RecordError] = []
            got = list(read_records(io.BytesIO(layouts(nested(levels))["lines"].encode()), on_error=errors.append))
        assert [r["id"] for r in got] == [1, 3]
        assert len(errors) == 1 and errors[0].record == 2 and errors[0].recoverable


# --------------------------------------------------------------------------------------------------
# item 5: a malformed JSON Lines line costs that line only
# --------------------------------------------------------------------------------------------------
BAD_LINES = [
    '{"a":2, "b":',        # cut inside an object, after a colon
    '{"a": [1, 2',         # inside an array
    '{"a": "some te',      # inside a string
    '{"a": "x\\',          # right after a backslash
    "[",                   # a lone bracket
    "{",                   # a lone brace
    '"',                   # only a quote
    '[{"keep": true, "id": 99},',  # an array line cut after a whole record
    '{"keep": true, "id": 98, "b": {',
    "{oops",
    '{"a": 1} x',
]


def good_lines(n: int) -> list[str]:
    return [json.dumps({"id": i, "keep": i % 2 == 0, "s": "é\\ \"x\""}) for i in range(n)]


@pytest.mark.parametrize("bad", BAD_LINES)
@pytest.mark.parametrize("where", ["first", "middle", "last", "last, no newline"])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_one_cut_line_costs_that_line_only(bad: str, where: str, newline: str) -> None:
    lines = good_lines(6)
    at = {"first": 0, "middle": 3, "last": 6, "last, no newline": 6}[where]
    lines.insert(at, bad)
    text = newline.join(lines) + ("" if where == "last, no newline" else newline)
    status, out, err = both(["keep=true", "--skip-invalid"], text.encode())
    assert status == 0, err
    expected = [line for line in good_lines(6) if json.loads(line)["keep"]]
    assert out.decode("utf-8").split("\n")[:-1] == expected  # the lines themselves, byte for byte
    assert err.count("skipped <stdin>") == 1 and err.endswith("skipped 1 invalid record\n"), err
    assert "Traceback" not in err


def cut(line: str, data: st.DataObject) -> str:
    """``line`` garbled: cut short somewhere (perhaps inside a multi-byte character), or replaced."""
    how = data.draw(st.sampled_from(["cut", "cut bytes", "lone"]))
    if how == "lone":
        return data.draw(st.sampled_from(["[", "{", '"', "[{", '{"', "\\", '{"a":', "[[", '{"a": "\\']))
    if how == "cut":
        return line[: data.draw(st.integers(1, len(line) - 1))]
    raw = line.encode("utf-8")
    return raw[: data.draw(st.integers(1, len(raw) - 1))].decode("utf-8", "surrogateescape")


VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.sampled_from('ab é"\\/[]{},:\n\t\u2028🚀'), max_size=8),
)
RECORDS = st.fixed_dictionaries(
    {"keep": st.booleans()},
    optional={"v": VALUES, "l": st.lists(VALUES, max_size=3), "o": st.dictionaries(st.text(max_size=3), VALUES,
                                                                                   max_size=2)},
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records=st.lists(RECORDS, min_size=1, max_size=12), data=st.data(), crlf=st.booleans(),
       final_newline=st.booleans())
def test_garbled_lines_cost_themselves_only(records: list[dict[str, Any]], data: st.DataObject, crlf: bool,
                                            final_newline: bool) -> None:
    lines = [json.dumps({"id": i, **r}, ensure_ascii=data.draw(st.booleans())) for i, r in enumerate(records)]
    bad = data.draw(st.sets(st.integers(0, len(lines) - 1), max_size=len(lines)))
    text_lines = [cut(line, data) if i in bad else line for i, line in enumerate(lines)]
    newline = "\r\n" if crlf else "\n"
    raw = newline.join(text_lines).encode("utf-8", "surrogateescape") + (newline.encode() if final_newline else b"")
    status, out, err = both(["keep=true", "--skip-invalid"], raw)
    assert status == 0, err
    expected = [line.encode() for i, line in enumerate(lines) if i not in bad and records[i]["keep"]]
    assert out.split(b"\n")[:-1] == expected
    if bad:
        assert err.endswith(f"skipped {len(bad)} invalid record{'s' if len(bad) != 1 else ''}\n"), err
    else:
        assert err == ""


# --------------------------------------------------------------------------------------------------
# item 7: the progress line never mixes with the output
# --------------------------------------------------------------------------------------------------
class _Drain(threading.Thread):
    """Everything written to a pseudo-terminal, read from its master side until it is closed."""

    def __init__(self, master: int) -> None:
        super().__init__(daemon=True)
        self.master = master
        self.data = b""

    def run(self) -> None:
        while True:
            ready, _, _ = select.select([self.master], [], [], 10)
            if not ready:
                return
            try:
                chunk = os.read(self.master, 65536)
            except OSError:  # EIO: every slave descriptor is closed
                return
            if not chunk:
                return
            self.data += chunk


def test_progress_never_runs_into_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(F, "PROGRESS_AFTER", 0.0)
    monkeypatch.setattr(F, "PROGRESS_EVERY", 0.0)
    monkeypatch.setattr(F, "PROGRESS_STRIDE", 1)
    source = tmp_path / "in.jsonl"
    records = [f'{{"id": {i}, "keep": {"true" if i % 3 == 0 else "false"}}}' for i in range(30)]
    source.write_text("\n".join(records) + "\n")
    expected = "".join(r + "\n" for r in records if '"keep": true' in r)

    # Standard output and standard error are the same terminal: no progress line at all.
    master, slave = os.openpty()
    tty.setraw(slave)  # no "\n" -> "\r\n" translation: what is written is what is read
    drain = _Drain(master)
    drain.start()
    out = open(os.dup(slave), "w", encoding="utf-8")  # noqa: SIM115
    err = open(os.dup(slave), "w", encoding="utf-8")  # noqa: SIM115
    os.close(slave)
    try:
        status = main(["filter", "keep=true", str(source)], stdin=io.StringIO(), stdout=out, stderr=err)
    finally:
        out.close()
        err.close()
    drain.join(15)
    os.close(master)
    assert status == 0
    assert drain.data.decode() == expected  # the records, and nothing else

    # Standard output is a file, standard error a terminal: progress there, the file holds the records.
    master, slave = os.openpty()
    tty.setraw(slave)
    drain = _Drain(master)
    drain.start()
    err = open(slave, "w", encoding="utf-8")  # noqa: SIM115
    target = tmp_path / "out.jsonl"
    try:
        with open(target, "w", encoding="utf-8") as out:
            status = main(["filter", "keep=true", str(source)], stdin=io.StringIO(), stdout=out, stderr=err)
    finally:
        err.close()
    drain.join(15)
    os.close(master)
    assert status == 0
    assert target.read_text() == expected
    shown = drain.data.decode()
    assert "\r\x1b[K" in shown and "30 records" in shown and shown.endswith("\r\x1b[K")
