"""Issue 12: ``skillfilter filter`` with original bytes out, ``--jobs`` and the prefilter.

Every answer here is checked against a second route: the same command with ``--jobs 1 --no-prefilter``
(what the command did before), and :func:`skillfilter.predicate` on records decoded with :func:`json.loads`.
Byte ranges are made tiny (:data:`skillfilter.cli.parallel.RANGE_SIZE`) so that small files are split into
many ranges; the workers are forked from this process and see the same settings.
"""

from __future__ import annotations

import io
import itertools
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import skillfilter
from skillfilter.cli import main, parallel
from skillfilter.cli.prefilter import line_condition
from skillfilter.cli.records import RecordReader
from skillfilter.plan.planner import compile_plan
from test_hardening_records import BAD_LINES, cut, good_lines
from test_hardening_records import RECORDS as RECORDS_KEEP


@pytest.fixture(autouse=True)
def tiny_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "RANGE_SIZE", 97)
    monkeypatch.setattr(parallel, "MIN_RANGES", 2)


def run(args: list[str], stdin: bytes = b"") -> tuple[int, bytes, str]:
    out = io.BytesIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8")
    err = io.StringIO()
    status = main(["filter", *args], stdin=io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"),
                  stdout=stdout, stderr=err)
    stdout.flush()
    return status, out.getvalue(), err.getvalue()


def every_way(args: list[str]) -> tuple[int, bytes, str]:
    """The result of ``args`` with 1 and 3 processes, with and without the prefilter: all the same."""
    results = {
        (jobs, pre): run([*args, "--jobs", jobs, *([] if pre else ["--no-prefilter"])])
        for jobs in ("1", "3") for pre in (True, False)
    }
    first = results[("1", False)]
    for key, result in results.items():
        assert result == first, (key, result, first)
    return first


def matching_lines(lines: list[bytes], filter_text: str) -> list[bytes]:
    """The lines whose record (decoded by :mod:`json`) matches: what the output must be, byte for byte."""
    test = skillfilter.predicate(filter_text)
    return [line.rstrip(b"\r") for line in lines if test(json.loads(line))]


# --------------------------------------------------------------------------------------------------
# original bytes out, order, ranges
# --------------------------------------------------------------------------------------------------
def records(n: int) -> list[bytes]:
    values = ["Python", "python", "Py thon", "\\u0050ython", 'x"Python', "Pythonista", "é Python 🚀"]
    out = []
    for i in range(n):
        name = values[i % len(values)]
        spaced = i % 3 == 0
        encoded = json.dumps(name, ensure_ascii=False).replace("\\\\u", "\\u")  # keep the \\u escape
        text = f'{{"id": {i}, "skill": {{"name": {encoded}}}, "big": 12345678901234567890123, "f": 1.10}}'
        out.append((text if spaced else text.replace(": ", ":")).encode())
    return out


FILTERS = ["skill__name='Python'", "skill__name__contains='Python'", "not skill__name__startswith='Py'",
           "skill__name__iexact='python'", "id__gte=5 and skill__name__endswith='thon'"]


@pytest.mark.parametrize("filter_text", FILTERS)
@pytest.mark.parametrize(("newline", "bom", "final"), [("\n", False, True), ("\r\n", True, False),
                                                       ("\r\n", False, True), ("\n", True, False)])
def test_matching_lines_come_out_byte_for_byte(tmp_path: Path, filter_text: str, newline: str, bom: bool,
                                               final: bool) -> None:
    lines = records(60)
    data = (b"\xef\xbb\xbf" if bom else b"") + newline.encode().join(lines) + (newline.encode() if final else b"")
    path = tmp_path / "in.jsonl"
    path.write_bytes(data)
    status, out, err = every_way([filter_text, str(path)])
    assert status == 0 and err == ""
    expected = matching_lines(lines, filter_text)
    assert expected  # not vacuous
    assert out == b"".join(line + b"\n" for line in expected)


def test_lines_of_megabytes_and_records_across_range_ends(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "RANGE_SIZE", 1 << 20)  # ranges end inside the long lines
    big = "x" * (3 << 20)
    lines = [json.dumps({"id": i, "pad": big if i % 2 else "", "name": "Python" if i % 3 else "Java"},
                        ensure_ascii=False).encode() for i in range(6)]
    path = tmp_path / "big.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    status, out, err = every_way(["name='Python'", str(path)])
    assert status == 0 and err == ""
    assert out == b"".join(line + b"\n" for line in matching_lines(lines, "name='Python'"))


def test_order_is_kept_with_several_jobs(tmp_path: Path) -> None:
    lines = [json.dumps({"id": i, "keep": i % 7 != 3, "n": "Python" * (i % 5)}).encode() for i in range(2000)]
    path = tmp_path / "many.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    for filter_text in ("keep=true", "n__contains='Python'"):
        status, out, _ = every_way([filter_text, str(path)])
        assert status == 0
        ids = [json.loads(line)["id"] for line in out.splitlines()]
        assert ids == [json.loads(line)["id"] for line in matching_lines(lines, filter_text)]
        assert len(ids) > 1000


def test_several_files_and_stdin_keep_their_order(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.json"
    a.write_bytes(b"".join(json.dumps({"id": i, "s": "Python"}).encode() + b"\n" for i in range(40)))
    b.write_text(json.dumps([{"id": 100 + i, "s": "Python"} for i in range(40)]))
    stdin = b"".join(json.dumps({"id": 200 + i, "s": "Python"}).encode() + b"\n" for i in range(40))
    for jobs in ("1", "2"):
        status, out, _ = run(["s='Python'", str(a), "-", str(b), "--jobs", jobs], stdin)
        assert status == 0
        assert [json.loads(x)["id"] for x in out.splitlines()] == [
            *range(40), *range(200, 240), *range(100, 140)]


# --------------------------------------------------------------------------------------------------
# malformed input: the same messages with --jobs 3
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("bad", BAD_LINES)
@pytest.mark.parametrize("where", [0, 3, 25, 49])
@pytest.mark.parametrize("skip", [True, False])
def test_malformed_lines_give_the_same_result_with_jobs(tmp_path: Path, bad: str, where: int, skip: bool) -> None:
    lines = good_lines(50)
    lines.insert(where, bad)
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["keep=true", str(path), *(["--skip-invalid"] if skip else [])]
    one = run([*args, "--jobs", "1"])
    assert one == run([*args, "--jobs", "3"])
    assert one[0] == (0 if skip else 2) and "Traceback" not in one[2]
    assert str(path) in one[2] and "record " in one[2]


@pytest.mark.parametrize("skip", [True, False])
def test_every_kind_of_bad_record_names_its_line_with_jobs(tmp_path: Path, skip: bool) -> None:
    bad = {10: "{oops", 20: '{"id": 20, "keep": [tr', 30: '"text"', 40: "[{}", 55: "\xff", 61: "[" * 600,
           70: '{"id": 70, "keep": tru}', 80: '[{"id": 80, "keep": true}]', 90: '{"records": [{"keep": true}]}'}
    lines = [bad.get(i, json.dumps({"id": i, "keep": i % 3 == 0, "name": f"é{i}"})) for i in range(1, 101)]
    path = tmp_path / "bad.jsonl"
    path.write_bytes("\n".join(lines).encode("utf-8", "surrogateescape").replace("\xff".encode(), b"\xff") + b"\n")
    args = ["keep=true", str(path), *(["--skip-invalid"] if skip else [])]
    one = run([*args, "--jobs", "1"])
    assert run([*args, "--jobs", "3"]) == one
    assert run([*args, "--jobs", "3", "--no-prefilter"]) == one
    assert one[0] == (0 if skip else 2) and f"{path}:10:" in one[2]


class _DyingSlice(parallel._Slice):
    """A worker's reader that kills its process when it starts a range past the third."""

    begun = False

    def read(self, n: int = -1) -> bytes:
        if self._handle.tell() >= 3 * 97 and not self.begun:
            os._exit(7)
        self.begun = True
        return super().read(n)


def test_a_worker_that_dies_ends_the_run_with_one_clear_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Forked workers see this module's patch; the main process must not wait for the dead worker forever.
    monkeypatch.setattr(parallel, "_Slice", _DyingSlice)
    path = tmp_path / "many.jsonl"
    path.write_text("".join(json.dumps({"id": i, "keep": True}) + "\n" for i in range(400)), encoding="utf-8")
    status, out, err = run(["keep=true", str(path), "--jobs", "2"])
    assert status == 2
    assert err.count("\n") == 1 and "worker process ended unexpectedly" in err and str(path) in err
    assert "Traceback" not in err
    # What was written is a prefix of the right output: whole lines, in order, none made up.
    expected = path.read_bytes()
    assert (expected.startswith(out) and out.endswith(b"\n")) or out == b""


@pytest.mark.parametrize("bad", ["[", '[{"keep": true, "id": 99},', "{"])
def test_closing_the_workers_mid_file_never_hangs(tmp_path: Path, bad: str) -> None:
    # An irregular line closes the pool with ranges in flight (multiprocessing.Pool.terminate could then
    # wait forever on the task queue's lock); repeated, so that a rare hang shows up as a timeout here.
    lines = good_lines(50)
    lines.insert(3, bad)
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args = ["keep=true", str(path), "--skip-invalid"]
    one = run([*args, "--jobs", "1"])
    for _ in range(15):
        assert run([*args, "--jobs", "3"]) == one


@pytest.mark.parametrize("keep_every", [1, 2, 7, 50])
@pytest.mark.parametrize("end", ["\n", "\r\n", ""])
@pytest.mark.parametrize("range_size", [97, 1000])
@pytest.mark.parametrize("copy_size", [1 << 20, 45])
def test_a_range_gives_its_matching_lines_and_their_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          keep_every: int, end: str, range_size: int,
                                                          copy_size: int) -> None:
    # Few matches go back as bytes, many as where they are in the file: the same lines either way (copied
    # from the file in pieces, some of them parts of lines, with a tiny COPY_SIZE).
    monkeypatch.setattr(parallel, "RANGE_SIZE", range_size)
    monkeypatch.setattr(parallel, "COPY_SIZE", copy_size)
    sparse = dense = 0
    lines = [json.dumps({"id": i, "keep": i % keep_every == 0, "pad": "x" * (i % 13)}) for i in range(60)]
    path = tmp_path / "r.jsonl"
    path.write_bytes((end or "\n").join(lines).encode() + end.encode())
    job = parallel.Job(filter="keep=true", schema=None, entity=None, exact_numbers=False, prefilter=True,
                       skip_invalid=False)
    # What a worker's initializer sets up, without its SIGINT change: this is the test process, and a
    # SIGINT ignored here is inherited by every command a later test starts.
    monkeypatch.setattr(parallel, "_STATE", {"job": job, "compiled": parallel.compile_job(job)})
    size = path.stat().st_size
    with path.open("rb") as handle:
        cuts = parallel._cuts(handle, 0, size)
        got = b""
        for start, stop in itertools.pairwise(cuts):
            result = parallel._run_range((str(path), start, stop))
            data = result.data or b"".join(parallel._copied(handle.fileno(), result))
            assert data.count(b"\n") == result.matched
            sparse += bool(result.data)
            dense += bool(result.spans)
            got += data
    expected = [line for i, line in enumerate(lines) if i % keep_every == 0]
    assert got == "".join(line + "\n" for line in expected).encode()
    if range_size == 1000 and end == "\n":
        assert dense if keep_every <= 2 else sparse or keep_every == 50  # both ways are taken


def test_pretty_printed_value_in_the_middle_is_read_by_one_reader(tmp_path: Path) -> None:
    head = [json.dumps({"id": i, "keep": True}) for i in range(30)]
    pretty = json.dumps({"id": 30, "keep": True, "l": [1, 2, 3]}, indent=2)
    tail = [json.dumps({"id": i, "keep": i % 2 == 0}) for i in range(31, 80)]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join([*head, pretty, *tail]) + "\n")
    status, out, err = every_way(["keep=true", str(path)])
    assert status == 0 and err == ""
    assert [json.loads(x)["id"] for x in out.splitlines()] == [*range(31), *range(32, 80, 2)]


def test_arrays_and_pages_work_with_jobs(tmp_path: Path) -> None:
    recs = [{"id": i, "name": "Python" if i % 2 else "Java"} for i in range(300)]
    pages = tmp_path / "pages.json"
    pages.write_text("\n".join(json.dumps({"has_next": True, "records": recs[i:i + 50]}) for i in range(0, 300, 50)))
    status, out, _ = every_way(["name='Python'", str(pages)])
    assert status == 0 and [json.loads(x)["id"] for x in out.splitlines()] == list(range(1, 300, 2))


# --------------------------------------------------------------------------------------------------
# the prefilter never lies
# --------------------------------------------------------------------------------------------------
WORDS = ["Py", "py", "PY", "thon", "Python", "PYTHON", "python", "x", "é", "🚀", '"', "\\", "/", "\ud800", "\x00"]
TEXTS = st.lists(st.sampled_from(WORDS), max_size=4).map("".join)
KEYS = st.sampled_from(["name", "Python", "na", "me", "n", "tags", "skill"])
SCALARS = st.one_of(TEXTS, st.none(), st.booleans(), st.integers(-5, 5))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(KEYS, inner, max_size=3)), max_leaves=8)
RECORDS = st.dictionaries(KEYS, VALUES, max_size=4)
LITERALS = st.sampled_from(["Python", "py", "thon", 'x"', "\\", "é🚀", "/", "\ud800", "P"])
OPERATORS = st.sampled_from(["", "__contains", "__startswith", "__endswith", "__iexact", "__icontains",
                             "__gt", "__isnull"])
PATHS = st.sampled_from(["name", "skill__name", "tags", "skill__tags__name", "Python", "cp_name"])


@st.composite
def filters(draw: st.DrawFn) -> str:
    def atom() -> str:
        op = draw(OPERATORS)
        if op == "__isnull":
            return f"{draw(PATHS)}__isnull={draw(st.sampled_from(['true', 'false']))}"
        literal = draw(LITERALS).replace("\\", "\\\\").replace("'", "\\'")
        return f"{draw(PATHS)}{op}='{literal}'"

    parts = [atom() for _ in range(draw(st.integers(1, 3)))]
    joined = draw(st.sampled_from([" and ", " or "])).join(parts)
    return f"not ({joined})" if draw(st.booleans()) and len(parts) == 1 else joined


def spellings(draw: st.DrawFn, record: dict[str, Any]) -> bytes:
    """One line of ``record``: escapes, spacing and non-ASCII chosen at random."""
    text = json.dumps(record, ensure_ascii=draw(st.booleans()), separators=draw(
        st.sampled_from([(",", ":"), (", ", ": "), (",", " : ")])))
    if draw(st.booleans()):  # spell some plain characters with \u escapes, the way a client may
        text = text.replace("P", "\\u0050").replace("y", "\\u0079")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: only an escape spells it
        return json.dumps(record).encode("ascii")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), recs=st.lists(RECORDS, min_size=1, max_size=8), filter_text=filters())
def test_prefilter_output_equals_no_prefilter_and_predicate(data: st.DataObject, recs: list[dict[str, Any]],
                                                            filter_text: str) -> None:
    lines = [spellings(data.draw, r) for r in recs]
    stream = b"\n".join(lines) + b"\n"
    try:
        plan = compile_plan(filter_text)[0]
    except skillfilter.FilterError:
        return
    check = line_condition(plan)
    test = skillfilter.predicate(filter_text)
    decoded = [json.loads(line.decode("utf-8", "surrogatepass")) for line in lines]
    expected = [line for line, record in zip(lines, decoded) if test(record)]
    if check is not None:
        for line, record in zip(lines, decoded):
            assert check(line) or not test(record), (line, filter_text)  # never rejects a match
    got = []
    reader = RecordReader(io.BytesIO(stream), "t", chunk_size=data.draw(st.sampled_from([64, 200, 1 << 16])))
    reader.prefilter = check
    for record in reader:
        if test(record):
            got.append(reader.raw)
    assert got == expected
    assert reader.records == len(lines)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), recs=st.lists(RECORDS, min_size=1, max_size=12), filter_text=filters(),
       by_key=st.booleans())
def test_block_search_by_name_or_by_text_keeps_every_line_that_may_match(
    data: st.DataObject, recs: list[dict[str, Any]], filter_text: str, by_key: bool
) -> None:
    """A block's lines that may match, whether a needle's member name or its text is looked for first:
    every line the line-by-line condition keeps, and every line whose record matches."""
    lines = [spellings(data.draw, r) for r in recs]
    try:
        plan = compile_plan(filter_text)[0]
    except skillfilter.FilterError:
        return
    check = line_condition(plan)
    if check is None:
        return
    test = skillfilter.predicate(filter_text)
    for needle in parallel_needles(check.cond):  # the search the draw asks for, on the first block
        check._counted[("by key", id(needle))] = (1, by_key)
    block = b"\n".join(lines)
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    found = check.lines(block, starts, escapes=b"\\" in block)
    for i, line in enumerate(lines):
        record = json.loads(line.decode("utf-8", "surrogatepass"))
        if test(record):
            assert i in found, (line, filter_text)
        assert (i in found) == check(line), (line, filter_text, by_key)


def parallel_needles(cond: Any) -> list[Any]:
    from skillfilter.cli.prefilter import Needle

    return [cond] if isinstance(cond, Needle) else [n for part in cond[1] for n in parallel_needles(part)]


def test_prefilter_is_selective_where_it_can_be() -> None:
    cases = {
        "external_id__startswith='1'": (b'{"external_id": "1a"}', b'{"external_id": "21", "x": "1"}'),
        "skill__name='Python' and x__contains='é'": (b'{"skill": {"name": "Python"}, "x": "\xc3\xa9"}',
                                                       b'{"skill": {"name": "Python"}, "x": "e"}'),
        "a='x' or b__endswith='y'": (b'{"b": "zy"}', b'{"a": "xx", "b": "yz"}'),
    }
    for filter_text, (keep, drop) in cases.items():
        check = line_condition(compile_plan(filter_text)[0])
        assert check is not None and check(keep) and not check(drop), filter_text
    for filter_text in ("not a='x'", "a__iexact='x'", "a__gt='x'", "a=1", "a__isnull=true", "a='x' or b=1",
                        "a__contains=''"):
        assert line_condition(compile_plan(filter_text)[0]) is None, filter_text


# --------------------------------------------------------------------------------------------------
# options
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("args", "message"), [
    (["--jobs", "0"], "at least 1 process"),
    (["--jobs", "two"], "not a number of processes"),
    (["--engine", "spark"], "invalid choice"),
    (["--engine", "duckdb"], "--engine duckdb needs --schema and --entity"),
])
def test_option_errors_are_usage_errors(args: list[str], message: str) -> None:
    status, out, err = run(["a='x'", *args], b'{"a": "x"}\n')
    assert status == 2 and out == b"" and message in err and "Traceback" not in err


def test_engine_duckdb_is_parsed_and_fails_cleanly_without_the_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    real = importlib.import_module

    def no_backend(name: str, *args: Any) -> Any:
        if name == "skillfilter.backends.duckdb_nested":
            raise ImportError("No module named 'duckdb'")
        return real(name, *args)

    monkeypatch.setattr(importlib, "import_module", no_backend)
    status, out, err = run(["external_id='x'", "--engine", "duckdb", "--schema", "export", "--entity",
                            "employees"], b'{"external_id": "x"}\n')
    assert status == 2 and out == b""
    assert "`duckdb` extra" in err and "Traceback" not in err
    status, _, err = run(["external_id=", "--engine", "duckdb", "--schema", "export", "--entity", "employees"])
    assert status == 1 and "invalid filter" in err  # the filter is checked first


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(records=st.lists(RECORDS_KEEP, min_size=4, max_size=40), data=st.data(), crlf=st.booleans(),
       skip=st.booleans())
def test_garbled_lines_give_the_same_result_with_jobs(tmp_path: Path, records: list[dict[str, Any]],
                                                      data: st.DataObject, crlf: bool, skip: bool) -> None:
    lines = [json.dumps({"id": i, **r}, ensure_ascii=data.draw(st.booleans())) for i, r in enumerate(records)]
    bad = data.draw(st.sets(st.integers(0, len(lines) - 1), max_size=3))
    text = [cut(line, data) if i in bad else line for i, line in enumerate(lines)]
    path = tmp_path / f"garbled-{data.draw(st.integers(0, 10**9))}.jsonl"
    path.write_bytes(("\r\n" if crlf else "\n").join(text).encode("utf-8", "surrogateescape") + b"\n")
    for filter_text in ("keep=true", "v__contains='a'"):
        args = [filter_text, str(path), *(["--skip-invalid"] if skip else [])]
        assert run([*args, "--jobs", "3"]) == run([*args, "--jobs", "1"])
