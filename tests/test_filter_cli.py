"""``skillfilter filter`` and the streaming record readers behind it (:mod:`skillfilter.cli.records`).

The command's answers are checked against a second route to the same result: the records decoded with
:func:`json.loads` and tested with :func:`skillfilter.predicate` in this process.  The readers are checked
with hypothesis on random records (hostile and non-ASCII strings, big integers, nesting) laid out in every
accepted shape and read back in tiny chunks, with and without orjson.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import skillfilter
from skillfilter.cli import main
from skillfilter.cli import records as R
from skillfilter.cli.commands import filter_ as F
from skillfilter.cli.records import RecordError, read_records

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample_export.jsonl"
PAGES = ROOT / "examples" / "sample_pages.json"
PAGE_KEYS = ("has_next", "records", "next_starting_after")
HAS_ORJSON = R.FAST_LOADS is not None


def strict(value: Any) -> str:
    """A form in which 1, 1.0 and True differ (Python's == does not tell them apart)."""
    return json.dumps(value, ensure_ascii=True)


@contextlib.contextmanager
def json_impl(fast: bool) -> Iterator[None]:
    """Read and write with orjson (when installed) or with the standard library only."""
    saved_loads, saved_dumps = R.FAST_LOADS, F._fast_dumps
    if not fast:
        R.FAST_LOADS = None
        F._fast_dumps = lambda: None  # type: ignore[assignment]
    try:
        yield
    finally:
        R.FAST_LOADS, F._fast_dumps = saved_loads, saved_dumps  # type: ignore[assignment]


IMPLS = [pytest.param(True, id="orjson", marks=pytest.mark.skipif(not HAS_ORJSON, reason="no orjson")),
         pytest.param(False, id="stdlib")]


# --------------------------------------------------------------------------------------------------
# strategies
# --------------------------------------------------------------------------------------------------
HOSTILE = st.sampled_from([
    "'", '"', "\\", "%", "_", "and", "or", "not", "--", "/*", "*/", "é", "É", "ß", "Ω", "数据", "🚀",
    "\u2028", "\n", "\r\n", "\t", "\x00", "{", "}", "[", "]", ",", ":", "has_next", "records", " ",
])
TEXT = st.one_of(
    st.text(max_size=10),
    HOSTILE,
    st.lists(HOSTILE, max_size=4).map("".join),
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), TEXT,
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4), max_leaves=10
)
RECORDS = st.dictionaries(TEXT.filter(lambda k: k not in PAGE_KEYS), VALUES, max_size=5)


def dumps(value: Any, *, indent: int | None = None, ascii_: bool = False, spaced: bool = False) -> str:
    separators = None if spaced or indent is not None else (",", ":")
    return json.dumps(value, indent=indent, ensure_ascii=ascii_, separators=separators)


@st.composite
def layouts(draw: st.DrawFn, records: list[dict[str, Any]]) -> bytes:
    """``records`` in one of the accepted shapes, formatted one of many ways."""
    style = draw(st.sampled_from(["lines", "array", "pages", "array_of_pages", "mixed"]))
    ascii_ = draw(st.booleans())
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    if style == "lines":
        spaced = draw(st.booleans())
        lines = []
        for r in records:
            lines.append(dumps(r, ascii_=ascii_, spaced=spaced))
            lines.extend([""] * draw(st.integers(0, 1)))  # blank lines are skipped
        text = newline.join(lines) + (newline if draw(st.booleans()) else "")
    elif style == "array":
        text = dumps(records, indent=draw(st.sampled_from([None, 2])), ascii_=ascii_)
    else:
        size = draw(st.integers(1, 4))
        chunks = [records[i : i + size] for i in range(0, len(records), size)] or [[]]
        pages = [{"has_next": i < len(chunks) - 1, "records": c, "next_starting_after": None}
                 for i, c in enumerate(chunks)]
        if style == "pages":
            text = newline.join(dumps(p, indent=draw(st.sampled_from([None, 2])), ascii_=ascii_) for p in pages)
        elif style == "array_of_pages":
            text = dumps(pages, indent=draw(st.sampled_from([None, 2])), ascii_=ascii_)
        else:  # values one after another: records, pages, arrays of records
            parts = []
            for c in chunks:
                kind = draw(st.sampled_from(["records", "page", "array"]))
                indent = draw(st.sampled_from([None, 2]))
                if kind == "records":
                    parts.extend(dumps(r, indent=indent, ascii_=ascii_) for r in c)
                elif kind == "page":
                    parts.append(dumps({"has_next": True, "records": c}, indent=indent, ascii_=ascii_))
                else:
                    parts.append(dumps(c, indent=indent, ascii_=ascii_))
            text = newline.join(parts)
    if draw(st.booleans()):
        text = "  " + text + " \n"
    data = text.encode("utf-8")
    return (b"\xef\xbb\xbf" + data) if draw(st.booleans()) else data


def read_all(data: bytes, *, binary: bool, chunk: int, skip: bool = False) -> tuple[list[Any], list[RecordError]]:
    errors: list[RecordError] = []
    stream: Any = io.BytesIO(data) if binary else io.StringIO(data.decode("utf-8"))
    got = list(read_records(stream, "input", on_error=errors.append if skip else None, chunk_size=chunk))
    return got, errors


def read_until_error(data: bytes, *, binary: bool, chunk: int) -> tuple[list[Any], RecordError | None]:
    stream: Any = io.BytesIO(data) if binary else io.StringIO(data.decode("utf-8"))
    got: list[Any] = []
    try:
        for record in read_records(stream, "input", chunk_size=chunk):
            got.append(record)
    except RecordError as exc:
        return got, exc
    return got, None


# --------------------------------------------------------------------------------------------------
# readers: every shape, every chunking
# --------------------------------------------------------------------------------------------------
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(records=st.lists(RECORDS, max_size=8), data=st.data(), binary=st.booleans(), fast=st.booleans(),
       chunk=st.integers(64, 300))
def test_every_layout_reads_back_the_records(records: list[dict[str, Any]], data: st.DataObject, binary: bool,
                                             fast: bool, chunk: int) -> None:
    raw = data.draw(layouts(records))
    with json_impl(fast):
        got, errors = read_all(raw, binary=binary, chunk=chunk)
    assert not errors
    assert [strict(r) for r in got] == [strict(r) for r in records]


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(records=st.lists(RECORDS, min_size=1, max_size=8), data=st.data(), binary=st.booleans(),
       fast=st.booleans(), chunk=st.integers(64, 200))
def test_malformed_line_names_its_line_and_record(records: list[dict[str, Any]], data: st.DataObject,
                                                  binary: bool, fast: bool, chunk: int) -> None:
    k = data.draw(st.integers(0, len(records) - 1), label="bad record index")
    lines = [dumps(r) for r in records]
    how = data.draw(st.sampled_from(["truncated", "garbage"]))
    lines[k] = lines[k][:-1] if how == "truncated" else "{]" + lines[k][1:]
    raw = ("\n".join(lines) + "\n").encode()
    with json_impl(fast):
        got, error = read_until_error(raw, binary=binary, chunk=chunk)
        assert [strict(r) for r in got] == [strict(r) for r in records[:k]]  # every record before it
        assert error is not None and error.record == k + 1
        assert (error.record_line or error.line) == k + 1
        assert f"input:{error.line}:" in str(error) and f"record {k + 1}" in str(error)
        # --skip-invalid: everything else, and the one error.
        got, errors = read_all(raw, binary=binary, chunk=chunk, skip=True)
    assert [strict(r) for r in got] == [strict(r) for i, r in enumerate(records) if i != k]
    assert [(e.record, e.record_line or e.line) for e in errors] == [(k + 1, k + 1)]


@given(records=st.lists(RECORDS, min_size=1, max_size=6), data=st.data(), binary=st.booleans(),
       fast=st.booleans())
def test_non_object_records_are_skippable_in_every_layout(records: list[dict[str, Any]], data: st.DataObject,
                                                          binary: bool, fast: bool) -> None:
    k = data.draw(st.integers(0, len(records) - 1))
    bad = data.draw(st.sampled_from([1, "x", None, 2.5, True]))
    mixed: list[Any] = [*records[:k], bad, *records[k:]]
    style = data.draw(st.sampled_from(["lines", "array", "page"]))
    if style == "lines":
        raw = "\n".join(dumps(v) for v in mixed)
    elif style == "array":
        raw = dumps(mixed, indent=2)
    else:
        raw = dumps({"has_next": False, "records": mixed})
    with json_impl(fast):
        got, errors = read_all(raw.encode(), binary=binary, chunk=64, skip=True)
        before, error = read_until_error(raw.encode(), binary=binary, chunk=64)
    assert [strict(r) for r in got] == [strict(r) for r in records]
    assert len(errors) == 1 and errors[0].record == k + 1 and "expected a JSON object" in errors[0].reason
    assert [strict(r) for r in before] == [strict(r) for r in records[:k]]
    assert error is not None and error.record == k + 1


@pytest.mark.parametrize("binary", [True, False])
def test_malformed_json_inside_an_array_stops_even_with_skip(binary: bool) -> None:
    raw = b'[\n  {"a": 1},\n  {"a": 2},\n  {"a": 3,,},\n  {"a": 4}\n]\n'
    got, error = read_until_error(raw, binary=binary, chunk=64)
    assert got == [{"a": 1}, {"a": 2}]
    assert error is not None and (error.line, error.record) == (4, 3)
    assert str(error) == "input:4:11: record 3: malformed JSON: Expecting property name enclosed in double quotes"
    with pytest.raises(RecordError):
        read_all(raw, binary=binary, chunk=64, skip=True)


@pytest.mark.parametrize("fast", [True, False])
def test_bad_utf8_in_json_lines_is_one_bad_record(fast: bool) -> None:
    raw = b'{"a": 1}\n{"a": "caf\xe9"}\n{"a": 3}\n'
    with json_impl(fast):
        got, errors = read_all(raw, binary=True, chunk=64, skip=True)
        before, error = read_until_error(raw, binary=True, chunk=64)
    assert got == [{"a": 1}, {"a": 3}]
    assert [(e.line, e.column, e.record) for e in errors] == [(2, 11, 2)]
    assert "not valid UTF-8" in errors[0].reason
    assert before == [{"a": 1}] and error is not None and error.record == 2


def test_bad_utf8_in_a_document_stops_after_the_records_before_it() -> None:
    records = [{"n": i, "pad": "x" * 50} for i in range(20)]
    raw = json.dumps(records, indent=1).encode().replace(b'"n": 15', b'"n": 15, "\xff": 0')
    got, error = read_until_error(raw, binary=True, chunk=64)
    assert got == records[:15]
    assert error is not None and error.record == 16 and "not valid UTF-8" in error.reason
    assert error.line == raw[: raw.index(b"\xff")].count(b"\n") + 1


def test_a_record_larger_than_many_chunks() -> None:
    big = {"a": "é" * 5000, "b": list(range(2000)), "c": {"d": ["x" * 999] * 7}}
    for raw in (dumps(big), dumps([big, big], indent=2), dumps({"has_next": False, "records": [big]})):
        for binary in (True, False):
            got, _ = read_all(raw.encode(), binary=binary, chunk=64)
            assert [strict(r) for r in got] in ([strict(big)], [strict(big)] * 2)


@pytest.mark.parametrize("fast", [True, False])
def test_big_integers_and_json_oddities_read_like_the_json_module(fast: bool) -> None:
    lines = ['{"big": 123456789012345678901234567890, "neg": -98765432109876543210}',
             '{"x": 1e400, "y": NaN, "z": -Infinity}',
             '{"s": "\\ud800 lone", "t": "\\ud83d\\ude80"}',
             '{"dup": 1, "dup": 2}']
    raw = "\n".join(lines).encode()
    with json_impl(fast):
        got, errors = read_all(raw, binary=True, chunk=64)
    assert not errors
    expected = [json.loads(line) for line in lines]
    expected[1]["x"] = Decimal("1e400")  # a number beyond doubles is its exact decimal value, not inf
    assert repr(got) == repr(expected)


def test_export_page_errors() -> None:
    raw = b'{"has_next": true}\n{"has_next": false, "records": 5}\n{"has_next": false, "records": [{"a": 1}]}\n'
    for binary in (True, False):
        got, errors = read_all(raw, binary=binary, chunk=64, skip=True)
        assert got == [{"a": 1}]
        assert [e.reason for e in errors] == ["export page without `records`", "export page whose `records` is a number"]
        assert [e.line for e in errors] == [1, 2]


def test_sample_files_read_like_json() -> None:
    expected = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").split("\n")[:-1]]
    for fast in (True, False):
        with json_impl(fast), open(SAMPLE, "rb") as f:
            assert [strict(r) for r in read_records(f, str(SAMPLE))] == [strict(r) for r in expected]


# --------------------------------------------------------------------------------------------------
# the command, in this process
# --------------------------------------------------------------------------------------------------
class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def run_cli(args: list[str], stdin: bytes = b"", *, binary_out: bool = True,
            stderr: io.StringIO | None = None) -> tuple[int, bytes, str]:
    out_bytes = io.BytesIO()
    stdout: Any = io.TextIOWrapper(out_bytes, encoding="utf-8") if binary_out else io.StringIO()
    err = stderr if stderr is not None else io.StringIO()
    stdin_stream = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    status = main(["filter", *args], stdin=stdin_stream, stdout=stdout, stderr=err)
    stdout.flush()
    data = out_bytes.getvalue() if binary_out else stdout.getvalue().encode("utf-8")
    return status, data, err.getvalue()


def expected_matches(filter_text: str, records: list[dict[str, Any]], **typing: Any) -> list[dict[str, Any]]:
    test = skillfilter.predicate(filter_text, **typing)
    return [r for r in records if test(r)]


def output_records(data: bytes) -> list[Any]:
    text = data.decode("utf-8")
    assert text == "" or text.endswith("\n")
    return [json.loads(line) for line in text.split("\n")[:-1]]  # not splitlines(): U+2028 is no line end


SAMPLE_RECORDS = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").split("\n")[:-1]]

SAMPLE_FILTERS = [
    ("skill_clusters__proficiency_level__gte=3 and skill_clusters__current_skills__name='Python'", {}),
    ("skill_clusters__proficiency_level__gte=3 and skill_clusters__current_skills__name='Python' and "
     "skill_clusters__current_skills__validation_state='validated'", {"schema": "export", "entity": "employees"}),
    ("skill_clusters__current_skills__name='Deutsch' or skill_clusters__related_skills__name__icontains='Ü'", {}),
    ("not skill_clusters__current_skills__name__contains=\"'\"", {}),
    ("skill_clusters__skill_cluster_name='R&D and/or QA' and not skill_clusters__validation_state__is_null=true",
     {"schema": "export", "entity": "employees"}),
    ("skill_clusters__current_skills__name='and' or skill_clusters__related_skills__name='%_%' "
     "or skill_clusters__sources='learning'", {}),
    ("external_id__startswith='1'", {}),
    ("skill_clusters__related_skills__name__iendswith='ß' or skill_clusters__domain_name=null", {}),
]


@pytest.mark.parametrize("fast", IMPLS)
@pytest.mark.parametrize(("filter_text", "typing"), SAMPLE_FILTERS)
def test_filter_sample_export_matches_the_library(filter_text: str, typing: dict[str, Any], fast: bool) -> None:
    args = [filter_text, str(SAMPLE)]
    if typing:
        args += ["--schema", typing["schema"], "--entity", typing["entity"]]
    with json_impl(fast):
        status, out, err = run_cli(args)
    assert (status, err) == (0, "")
    expected = expected_matches(filter_text, SAMPLE_RECORDS, **typing)
    assert [strict(r) for r in output_records(out)] == [strict(r) for r in expected]


def test_sample_filters_are_not_vacuous() -> None:
    counts = [len(expected_matches(f, SAMPLE_RECORDS, **t)) for f, t in SAMPLE_FILTERS]
    assert all(0 < c < len(SAMPLE_RECORDS) for c in counts), counts


def test_output_is_compact_utf8_json_lines() -> None:
    status, out, _ = run_cli(["skill_clusters__skill_cluster_name='Ωmega Physics'", str(SAMPLE)])
    assert status == 0
    lines = out.decode("utf-8").split("\n")[:-1]
    assert lines and all("Ω" in line and "\\u" not in line for line in lines)
    for line in lines:
        assert line == json.dumps(json.loads(line), ensure_ascii=False, separators=(",", ":"))


def test_pages_file_gives_the_records_of_every_page() -> None:
    pages_records = list(read_records(io.BytesIO(PAGES.read_bytes())))
    f = "skill_clusters__domain_name='Computer Science'"
    status, out, _ = run_cli([f, str(PAGES)])
    assert status == 0
    assert [strict(r) for r in output_records(out)] == [strict(r) for r in expected_matches(f, pages_records)]
    assert 0 < len(output_records(out)) < len(pages_records)


def test_files_and_stdin_in_order(tmp_path: Path) -> None:
    a = tmp_path / "a.json"
    b = tmp_path / "b.jsonl"
    a.write_text(json.dumps([{"id": 1, "k": "x"}, {"id": 2, "k": "y"}]))
    b.write_text('{"id": 5, "k": "x"}\n')
    status, out, _ = run_cli(["k='x'", str(a), "-", str(b)], stdin=b'{"id": 3, "k": "x"}\n{"id": 4}\n')
    assert status == 0
    assert [r["id"] for r in output_records(out)] == [1, 3, 5]
    status, out, _ = run_cli(["k='x'"], stdin=b'[{"id": 7, "k": "x"}]')  # no file: standard input
    assert (status, output_records(out)) == (0, [{"id": 7, "k": "x"}])


@pytest.mark.parametrize("binary_out", [True, False])
@pytest.mark.parametrize("fast", IMPLS)
def test_records_json_cannot_write_come_out_as_read(binary_out: bool, fast: bool) -> None:
    stdin = b'{"k": 1, "nan": NaN, "inf": 1e400, "big": 123456789012345678901234567890, "s": "\\ud800"}\n'
    with json_impl(fast):
        status, out, _ = run_cli(["k=1"], stdin=stdin, binary_out=binary_out)
    assert status == 0
    assert out == stdin  # written as read: nothing re-encoded (NaN stays NaN, 1e400 stays 1e400)


def test_bad_filter_exits_1_with_a_caret() -> None:
    status, out, err = run_cli(["external_id='1' AND cp_x=2", str(SAMPLE)])
    assert (status, out) == (1, b"")
    assert "external_id='1' AND cp_x=2\n                ^^^" in err
    assert "Traceback" not in err


def test_validation_error_exits_1_with_code_and_caret() -> None:
    status, out, err = run_cli(["--schema", "export", "externl_id='1'", str(SAMPLE)])
    assert (status, out) == (1, b"")
    assert "SF201" in err and "externl_id='1'\n^^^^^^^^^^" in err and "external_id" in err


@pytest.mark.parametrize(("args", "message"), [
    (["--schema", "skillengine"], "which entity?"),
    (["--schema", "export", "--entity", "nope"], "unknown entity `nope`"),
    (["--schema", "/nonexistent/schema.json"], "/nonexistent/schema.json"),
    ([str(ROOT / "no-such-file.jsonl")], "no-such-file.jsonl: cannot read"),
    ([str(ROOT / "examples")], "examples: cannot read"),
])
def test_usage_and_unreadable_input_exit_2(args: list[str], message: str) -> None:
    status, out, err = run_cli(["external_id='1'", *args])
    assert (status, out) == (2, b"")
    assert message in err and "Traceback" not in err


def test_typing_defaults() -> None:
    """--schema alone: the schema's default entity; --entity alone: the built-in export schema."""
    f = "skill_clusters__proficiency_level__gte=4"
    both = run_cli([f, str(SAMPLE), "--schema", "export", "--entity", "employees"])
    assert run_cli([f, str(SAMPLE), "--schema", "export"]) == both
    assert run_cli([f, str(SAMPLE), "--entity", "employees"]) == both
    assert both[0] == 0 and both[1]
    # Typed: the literal is converted once, and a wrong one is refused before any record is read.
    status, _, err = run_cli(["skill_clusters__proficiency_level='high'", "--entity", "employees"], stdin=b"{}")
    assert status == 1 and "SF220" in err


def lines_with_bad(n: int, bad: dict[int, str]) -> tuple[bytes, list[dict[str, Any]]]:
    records = [{"id": i, "keep": i % 3 == 0, "name": f"é{i}"} for i in range(1, n + 1)]
    lines = [bad.get(r["id"], dumps(r)) for r in records]
    return ("\n".join(lines) + "\n").encode(), [r for r in records if r["id"] not in bad]


@pytest.mark.parametrize("fast", IMPLS)
def test_malformed_input_exit_2_after_writing_what_came_before(fast: bool) -> None:
    data, _ = lines_with_bad(100, {60: '{"id": 60, "keep": tru}'})
    with json_impl(fast):
        status, out, err = run_cli(["keep=true"], stdin=data)
    assert status == 2
    assert [r["id"] for r in output_records(out)] == [i for i in range(1, 60) if i % 3 == 0]
    assert err.startswith("skillfilter filter: <stdin>:60:") and "record 60" in err


@pytest.mark.parametrize("fast", IMPLS)
def test_skip_invalid_goes_on_and_counts(fast: bool) -> None:
    data, good = lines_with_bad(100, {10: "{oops", 20: '{"id": 20, "keep": [tr', 30: '"text"', 40: "[{}"})
    with json_impl(fast):
        status, out, err = run_cli(["keep=true", "--skip-invalid"], stdin=data)
    assert status == 0
    assert [r["id"] for r in output_records(out)] == [r["id"] for r in good if r["keep"]]
    lines = err.splitlines()
    assert [line.split(": ")[1] for line in lines[:-1]] == [
        "skipped <stdin>:10:2", "skipped <stdin>:20:21", "skipped <stdin>:30",
        "skipped <stdin>:41:1",  # `[{}` ends at the next line: the record after it still counts
    ]
    assert lines[-1] == "skillfilter filter: skipped 4 invalid records"


def test_skip_invalid_caps_the_messages() -> None:
    data, good = lines_with_bad(60, dict.fromkeys(range(1, 60, 2), "x"))
    status, out, err = run_cli(["keep=true", "--skip-invalid"], stdin=data)
    assert status == 0 and len(output_records(out)) == sum(r["keep"] for r in good)
    assert err.count("skipped <stdin>") == F.MAX_SHOWN_SKIPS
    assert err.endswith("skipped 30 invalid records\n")


def test_progress_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    f = "skill_clusters__domain_name='Computer Science'"
    plain = run_cli([f, str(SAMPLE)])
    assert plain[0] == 0 and plain[2] == ""  # not a terminal: no progress, however long it takes
    monkeypatch.setattr(F, "PROGRESS_AFTER", 0.0)
    monkeypatch.setattr(F, "PROGRESS_EVERY", 0.0)
    monkeypatch.setattr(F, "PROGRESS_STRIDE", 500)
    tty = TTY()
    status, out, err = run_cli([f, str(SAMPLE)], stderr=tty)
    assert (status, out) == (0, plain[1])
    updates = err.split("\r\x1b[K")
    assert len(updates) >= 4 and updates[-1] == ""  # several updates, and the line is cleared at the end
    assert f"skillfilter filter: {SAMPLE} " in updates[1] and "% · 500 records · " in updates[1]
    assert updates[-2].endswith(f"{len(SAMPLE_RECORDS) // 500 * 500:,} records · "
                                f"{len(expected_matches(f, SAMPLE_RECORDS)):,} matched")


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(records=st.lists(st.fixed_dictionaries({"k": TEXT | st.integers() | st.none()}), max_size=10),
       value=TEXT, binary_out=st.booleans())
def test_hostile_values_through_the_command(records: list[dict[str, Any]], value: str, binary_out: bool) -> None:
    from skillfilter.language.printer import format_literal

    f = f"k={format_literal(value)}"
    data = "\n".join(dumps(r) for r in records).encode()
    status, out, err = run_cli([f], stdin=data, binary_out=binary_out)
    assert (status, err) == (0, "")
    assert [strict(r) for r in output_records(out)] == [strict(r) for r in expected_matches(f, records)]


# --------------------------------------------------------------------------------------------------
# the command as a process: pipes, memory
# --------------------------------------------------------------------------------------------------
def write_big(path: Path, n: int, style: str) -> None:
    """``n`` records cycled from the sample, with distinct ids; JSON Lines, one array, or one page."""
    base = SAMPLE.read_text(encoding="utf-8").split("\n")[:-1][:100]
    with path.open("w", encoding="utf-8") as out:
        out.write({"lines": "", "array": "[", "page": '{"has_next": false, "records": ['}[style])
        for i in range(n):
            line = base[i % len(base)].replace('"external_id":"', f'"external_id":"{i}-', 1)
            if style != "lines" and i:
                out.write(",")
            out.write(line + ("\n" if style == "lines" else ""))
        out.write({"lines": "", "array": "]", "page": "]}"}[style])


def peak_rss_kib(args: list[str], env: dict[str, str]) -> tuple[int, int]:
    """Exit status and peak RSS of ``skillfilter`` run with ``args`` (measured by a fresh parent)."""
    probe = ("import resource, subprocess, sys\n"
             "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
             "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")
    result = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "skillfilter", *args],
                            capture_output=True, text=True, env=env, timeout=600, check=True)
    status, rss = result.stdout.split()
    return int(status), int(rss)


@pytest.mark.parametrize(("style", "json_env", "jobs"), [("lines", "", "1"), ("lines", "stdlib", "1"),
                                                         ("array", "", "2"), ("page", "", "2"), ("lines", "", "2"),
                                                         ("lines", "stdlib", "2")])
def test_memory_stays_flat(tmp_path: Path, style: str, json_env: str, jobs: str) -> None:
    env = {**os.environ, "SKILLFILTER_JSON": json_env}
    small, large = tmp_path / "small.json", tmp_path / "large.json"
    # With several jobs both files are large enough to be split across processes (8 MiB or more).
    write_big(small, 1_000 if jobs == "1" else 8_000, style)
    write_big(large, 35_000 if jobs == "1" else 42_000, style)
    growth_mib = (large.stat().st_size - small.stat().st_size) / 2**20
    assert growth_mib > 30
    f = "external_id__contains='-'"  # matches every record: the writer is exercised too
    status_small, rss_small = peak_rss_kib(["filter", "--jobs", jobs, f, str(small)], env)
    status_large, rss_large = peak_rss_kib(["filter", "--jobs", jobs, f, str(large)], env)
    assert status_small == status_large == 0
    # The input grew by more than 30 MiB; the process may not grow by a fraction of that.
    assert rss_large - rss_small < 8 * 1024, (rss_small, rss_large)


def test_closed_pipe_is_quiet(tmp_path: Path) -> None:
    err = tmp_path / "err.txt"
    script = (f'set -o pipefail; "{sys.executable}" -m skillfilter filter "external_id__contains=\'-\'" '
              f'"{SAMPLE}" 2>"{err}" | head -n 1 > /dev/null; echo "${{PIPESTATUS[0]}}"')
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=300, check=False)
    assert result.stdout.strip() == "0"
    assert err.read_text() == ""


def test_error_in_a_real_pipe_keeps_written_records(tmp_path: Path) -> None:
    records = [{"id": i, "keep": True} for i in range(5000)]
    text = json.dumps(records, indent=2)
    cut = text.index('"id": 4000')
    path = tmp_path / "broken.json"
    path.write_text(text[:cut] + '"id": 4000,, ' + text[cut + len('"id": 4000,'):])
    result = subprocess.run([sys.executable, "-m", "skillfilter", "filter", "keep=true", str(path)],
                            capture_output=True, timeout=300, check=False)
    assert result.returncode == 2
    assert [r["id"] for r in output_records(result.stdout)] == list(range(4000))
    line = text[:cut].count("\n") + 1
    assert result.stderr.decode().startswith(f"skillfilter filter: {path}:{line}:")
    assert "record 4001" in result.stderr.decode()
