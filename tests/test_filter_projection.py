"""Records decoded in part (:mod:`skillfilter.cli.projection`): the JSON Lines reader's fast path.

The predicate must answer on the part of a record a filter reads exactly as on the whole record (checked on
the generators of ``test_predicate_properties``: nested lists, wrong kinds, both custom-property shapes,
hostile strings), numbers kept must be read as the reader reads them, and the reader with a projection must
hand out the same matching lines, counts and errors as without one, on clean and on garbled input.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import msgspec  # noqa: F401 - the `fast` extra, in the test extra: these tests never skip
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import skillfilter
from skillfilter.backends.python import predicate
from skillfilter.cli import main
from skillfilter.cli.jsontext import _loads
from skillfilter.cli.prefilter import line_condition
from skillfilter.cli.projection import demands, projection
from skillfilter.cli.records import MATCHES, RecordError, RecordReader
from skillfilter.plan.planner import compile_plan
from test_filter_parallel import cut
from test_predicate_properties import EXPORT, employees, export_comparisons, filters, records, records_for

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _line(record: Any, ascii_only: bool) -> bytes:
    try:
        return json.dumps(record, ensure_ascii=ascii_only).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: only an escape spells it
        return json.dumps(record).encode("ascii")


# --------------------------------------------------------------------------------------------------
# the part answers as the whole
# --------------------------------------------------------------------------------------------------
@SETTINGS
@given(data=st.data(), expr=filters(), recs=st.lists(records(), max_size=4), ascii_only=st.booleans())
def test_the_part_answers_as_the_whole_record(data: st.DataObject, expr: skillfilter.Expr, recs: list[Any],
                                              ascii_only: bool) -> None:
    decode = projection(compile_plan(expr)[0])
    assert decode is not None
    test = predicate(expr)
    for record in [*recs, data.draw(records_for(expr))]:
        part = decode(_line(record, ascii_only))
        assert test(part) == test(record), (record, part)


@SETTINGS
@given(expr=filters(export_comparisons()), recs=st.lists(employees, min_size=1, max_size=4))
def test_the_part_answers_as_the_whole_record_under_a_schema(expr: skillfilter.Expr, recs: list[Any]) -> None:
    decode = projection(compile_plan(expr, schema=EXPORT, entity="employees")[0])
    assert decode is not None
    test = predicate(expr, schema=EXPORT, entity="employees")
    for record in recs:
        assert test(decode(_line(record, False))) == test(record)


def test_the_part_holds_only_what_the_filter_reads() -> None:
    plan = compile_plan("skill_clusters__current_skills__name='x' and not cp_team='a' and external_id=1")[0]
    root = demands(plan)
    assert sorted(root.keys) == ["custom_properties", "external_id", "skill_clusters"]
    assert root.keys["custom_properties"].whole and root.keys["external_id"].whole
    clusters = root.keys["skill_clusters"]
    assert not clusters.whole and list(clusters.keys) == ["current_skills"]
    decode = projection(plan)
    assert decode is not None
    line = b'{"x": [1, {"y": 2}], "skill_clusters": [{"current_skills": [{"name": "x", "z": 1}, [1], 2], "w": 3}]}'
    assert decode(line) == {"skill_clusters": [{"current_skills": [{"name": "x"}, [1], 2]}]}


def test_no_part_where_a_member_name_is_not_ascii() -> None:
    # msgspec matches a TypedDict's non-ASCII keys to nothing: the record is then decoded whole.
    plan = compile_plan("a='x'")[0]
    assert projection(plan) is not None
    plan.keys = ("é",)  # type: ignore[union-attr]  # field names are ASCII; a plan built otherwise
    assert projection(plan) is None


#: Number tokens, as written, that types other than a double must hold (or that a double holds inexactly).
NUMBERS = ["9007199254740993", "-9223372036854775809", "18446744073709551617", "123456789012345678901234567890",
           "0.1", "0.10000000000000000555", "2.50", "1E2", "1e400", "-1e-400", "1.7976931348623157e308", "-0.0",
           "3", "3.0", "2.9999999999999999999"]
LITERALS = ["9007199254740992", "9007199254740993", "3", "2.5", "0.1", "1e308", "-1"]


@settings(max_examples=200, deadline=None)
@given(token=st.sampled_from(NUMBERS), literal=st.sampled_from(LITERALS),
       op=st.sampled_from(["", "__gt", "__gte", "__lt", "__lte"]), nested=st.booleans())
def test_numbers_kept_are_read_as_the_reader_reads_them(token: str, literal: str, op: str, nested: bool) -> None:
    text = f'{{"a": [{{"b": {token}}}]}}' if nested else f'{{"a": {token}, "z": 1}}'
    filter_text = f"a__b{op}={literal}" if nested else f"a{op}={literal}"
    decode = projection(compile_plan(filter_text)[0])
    assert decode is not None
    whole = _loads(text)  # the reader's exact reading
    part = decode(text.encode())
    test = predicate(filter_text)
    assert test(part) == test(whole)
    value = part["a"][0]["b"] if nested else part["a"]
    expected = whole["a"][0]["b"] if nested else whole["a"]
    assert type(value) is type(expected) and value == expected


# --------------------------------------------------------------------------------------------------
# the reader with a projection
# --------------------------------------------------------------------------------------------------
def _read(stream: bytes, filter_text: str, *, part: bool, skip: bool, chunk: int) -> tuple[Any, ...]:
    plan = compile_plan(filter_text)[0]
    test = predicate(filter_text)
    errors: list[str] = []
    reader = RecordReader(io.BytesIO(stream), "t", chunk_size=chunk,
                          on_error=(lambda e: errors.append(str(e))) if skip else None)
    reader.prefilter = line_condition(plan) if part else None
    reader.projection = projection(plan) if part else None
    reader.select = test if part else None
    matched: list[bytes] = []
    fatal = None
    try:
        for record in reader:
            if record is MATCHES:  # a block read in part: its matching lines at once
                assert part
                matched.extend(reader.block_texts[i].removesuffix(b"\r") for i in reader.block_matches)
            elif test(record):
                matched.append(reader.raw)
    except RecordError as exc:
        fatal = str(exc)
    return matched, errors, fatal, reader.records


FILTERS = ["a='x'", "a__b=1", "not a__b__iexact='x'", "cp_a='x' or b__gte=1", "a__isnull=true", "b='é'",
           "a__b='x' and a__a__startswith='X'"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), recs=st.lists(records(), min_size=1, max_size=30), filter_text=st.sampled_from(FILTERS),
       crlf=st.booleans(), skip=st.booleans(), garble=st.booleans())
def test_reader_with_a_projection_gives_what_it_gives_without(
    data: st.DataObject, recs: list[Any], filter_text: str, crlf: bool, skip: bool, garble: bool
) -> None:
    lines = [_line(r, data.draw(st.booleans())).decode("utf-8") for r in recs]
    if garble:
        bad = data.draw(st.sets(st.integers(0, len(lines) - 1), max_size=2))
        lines = [cut(line, data) if i in bad else line for i, line in enumerate(lines)]
    stream = ("\r\n" if crlf else "\n").join(lines).encode("utf-8", "surrogateescape") + b"\n"
    chunk = data.draw(st.sampled_from([64, 300, 1 << 16]))
    whole = _read(stream, filter_text, part=False, skip=skip, chunk=chunk)
    assert _read(stream, filter_text, part=True, skip=skip, chunk=chunk) == whole


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each block the reader offers to read in part, whether it did."""
    seen: list[bool] = []
    real = RecordReader._projected

    def spy(self: RecordReader, *args: Any) -> Any:
        result = real(self, *args)
        seen.append(result is not None)
        return result

    monkeypatch.setattr(RecordReader, "_projected", spy)
    return seen


def test_a_plain_block_is_read_in_part(taken: list[bool]) -> None:
    """The differential tests above are not vacuous: clean blocks go through the projection."""
    stream = b"".join(b'{"a": {"b": %d}, "pad": "%s"}\n' % (i, b"x" * (i % 7)) for i in range(200))
    matched, errors, fatal, count = _read(stream, "a__b__gte=150", part=True, skip=False, chunk=1000)
    assert len(matched) == 50 and count == 200 and not errors and fatal is None
    assert taken and all(taken)


# What the reader reports or reads its own way, in a member no filter reads (msgspec skips it unchecked or
# refuses it), or where a page may start: the same result with the fast path as without.
ODD_LINES = [
    b'{"z": 1e99999999999999999999, "a": "x"}',  # an exponent beyond decimal's range: an error
    b'{"z": -1.5E+999999999999999999, "a": "y"}',
    b'{"z": "\xff", "a": "x"}',  # not UTF-8 where nothing reads it: an error
    b'{"z": ' + b"[" * 600 + b"]" * 600 + b', "a": "x"}',  # deeper than the reader takes: an error
    b'{"z": NaN, "a": "x"}',  # the reader takes NaN (msgspec does not)
    b'{"z": "\\ud800", "a": "x"}',  # a lone surrogate (msgspec refuses it)
    b'{"a": "\\ud800x"}',
    b'{"\\u0068as_next": false, "records": [{"a": "x"}]}',  # an export page, its first key escaped
    b'{"has_next": false, "records": [{"a": "x"}, {"a": "y"}]}',
    b'{"records": [{"a": "x"}]}',
    b'  {"a": "x"}  ',
    b"",
    b'{"a": "x", "a": "y"}',  # the last of two members wins
    b'{"a": "x"} {"a": "x"}',
    b'{"a": 12345678901234567890123456789, "b": 1}',
    b'[{"a": "x"}]',
]


@pytest.mark.parametrize("odd", ODD_LINES, ids=range(len(ODD_LINES)))
@pytest.mark.parametrize("filter_text", ["a='x'", "not a='y'", "b__gte=1"])
@pytest.mark.parametrize("skip", [False, True])
def test_odd_lines_give_the_same_result_with_the_fast_path(tmp_path: Path, odd: bytes, filter_text: str,
                                                         skip: bool) -> None:
    plain = [b'{"a": "x", "b": %d}' % i for i in range(40)]
    path = tmp_path / "odd.jsonl"
    path.write_bytes(b"\n".join([*plain[:20], odd, *plain[20:]]) + b"\n")
    args = [filter_text, str(path), "--jobs", "1", *(["--skip-invalid"] if skip else [])]
    assert _run(args) == _run([*args, "--no-prefilter"])


def _run(args: list[str]) -> tuple[int, bytes, str]:
    out = io.BytesIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8")
    err = io.StringIO()
    status = main(["filter", *args], stdin=io.TextIOWrapper(io.BytesIO(b""), encoding="utf-8"), stdout=stdout,
                  stderr=err)
    stdout.flush()
    return status, out.getvalue(), err.getvalue()


# --------------------------------------------------------------------------------------------------
# the checks for what msgspec skips unchecked
# --------------------------------------------------------------------------------------------------
_PIECES = [b"0", b"7", b"12345678", b"1234567890123456", b"e", b"E", b"e+", b"-", b".", b'"', b"a", b",", b"[",
           b"{", b"]", b"}", b"[" * 300, b"{" * 300, b'{"k":[' * 60, b"]" * 600, b"\n"]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=40).map(b"".join))
@example(b'{"z": 1e' + b"1" * 20 + b"}")
@example(b'{"z": [1.5E-' + b"1" * 16 + b"]}\n" + b"1" * 40)
@example(b"[" * 513 + b"]" * 513)
@example(b"[" * 512 + b"]" * 512 + b"\n" + b"{" * 513 + b"]" * 513)
def test_one_translation_decides_as_the_two_checks_it_replaces(block: bytes) -> None:
    """:func:`_within_limits` looks closer only where its kept bytes may hide a long exponent or a deep
    line, so it says what the exponent search and the nesting check say on the whole block."""
    from skillfilter.cli.jsontext import _long_exponent
    from skillfilter.cli.records import _shallow, _within_limits

    texts = block.split(b"\n")
    assert _within_limits(block, texts) == (not _long_exponent(block) and _shallow(block, texts))


def test_digits_and_brackets_that_are_not_too_much_keep_the_fast_path(taken: list[bool]) -> None:
    """Sixteen digits in a string, or more than MAX_DEPTH digits and brackets on a line that nests
    shallowly: looked at closer, and read in part all the same."""
    lines = [b'{"a": "x", "id": "1234567890123456789", "n": [%s]}' % b",".join([b"[1]"] * 300),
             b'{"a": "y", "z": 1e999999999999999}']
    matched, errors, fatal, count = _read(b"\n".join(lines) + b"\n", "a='x'", part=True, skip=False, chunk=1 << 16)
    assert len(matched) == 1 and count == 2 and not errors and fatal is None
    assert taken == [True]


#: The line-shape check as it was, one regular expression over the block: the reference for the check on
#: the block's lines.
_IRREGULAR = re.compile(rb'\n(?:(?!\{"(?!has|rec|nex)(?![^"\\\n]{0,2}\\))|(?<!\}\n)(?<!\}\r\n))')


def _regular_by_pattern(block: bytes) -> bool:
    head = block[2:5]
    return (block[:2] == b'{"' and head not in (b"has", b"rec", b"nex") and b"\\" not in head
            and block.endswith((b"}", b"}\r")) and _IRREGULAR.search(block) is None)


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from([b'{"', b"}", b"\n", b"\r", b"has", b"rec", b"nex", b"\\", b'"', b"a", b" ",
                                 b"[", b"{", b'{"a": 1}', b'{"has_next": 1}']), max_size=30).map(b"".join))
@example(b'{"a": 1}\n{"b": 2}\r\n{"c": 3}')
@example(b'{"a": 1}\n{"has_next": false}')
@example(b'{"a": 1}\n{"\\u0068as": 1}')
@example(b'{"a": 1}\n{"a\\"": 1}')
def test_line_shapes_checked_on_the_lines_as_the_pattern_checked_them(block: bytes) -> None:
    """Each line ``{"`` ... ``}``, no page's first key: as one regular expression over the block said,
    except that a backslash anywhere in a line's first five bytes sends the block the slow way (the
    pattern let one through after a quote: no valid line has one there)."""
    from skillfilter.cli.records import _regular

    texts = block.split(b"\n")
    if _regular(texts):
        assert _regular_by_pattern(block)
    elif not any(b"\\" in text[:5] for text in texts):
        assert not _regular_by_pattern(block)
