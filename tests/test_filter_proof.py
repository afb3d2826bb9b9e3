"""The prefilter never hides a malformed record: a line it passes over is proven a record the reader accepts.

A line whose bytes cannot match is not decoded; :class:`skillfilter.cli.prefilter.Proof` must show that it
is still valid JSON, one object, no export page, with numbers the reader holds, or the line is decoded after
all.  Checked on garbled lines (cut, mutated, bad literals, numbers, escapes, control characters, trailing
garbage, page keys spelled with escapes): with every validator (msgspec, orjson, none), the command gives the
same output, messages and exit status with the prefilter as with ``--no-prefilter``, with and without
``--skip-invalid``, on 1 and 2 processes; and a line the validator accepts is one the reader reads as a
record.
"""

from __future__ import annotations

import codecs
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from skillfilter.cli import main, parallel, prefilter
from skillfilter.cli.jsontext import _too_deep_bytes
from skillfilter.cli.prefilter import Proof, line_condition
from skillfilter.cli.records import RecordError, RecordReader
from skillfilter.plan.planner import compile_plan


def _validators() -> list[str]:
    names = ["orjson", "none"]
    try:
        import msgspec  # noqa: F401
    except ImportError:  # pragma: no cover - the `fast` extra
        return names
    return ["msgspec", *names]


def _orjson_proof() -> Proof | None:
    import orjson

    return Proof("orjson", orjson.loads)


def use_validator(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make :func:`prefilter.proof` give ``name``'s validator (workers are forked: they see it too)."""
    if name == "orjson":
        monkeypatch.setattr(prefilter, "proof", _orjson_proof)
    elif name == "none":
        monkeypatch.setattr(prefilter, "proof", lambda: None)
    else:
        real = prefilter.proof()
        assert real is not None and real.name == name
        monkeypatch.setattr(prefilter, "proof", lambda: real)


@pytest.fixture(autouse=True)
def tiny_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "RANGE_SIZE", 61)
    monkeypatch.setattr(parallel, "MIN_RANGES", 2)


def run(args: list[str]) -> tuple[int, bytes, str]:
    out = io.BytesIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8")
    err = io.StringIO()
    status = main(["filter", *args], stdin=io.TextIOWrapper(io.BytesIO(b""), encoding="utf-8"),
                  stdout=stdout, stderr=err)
    stdout.flush()
    return status, out.getvalue(), err.getvalue()


# --------------------------------------------------------------------------------------------------
# garbled lines
# --------------------------------------------------------------------------------------------------
#: Pieces that make JSON wrong, or right in a way only some decoders take.
TOKENS = [
    "tru", "nul", "fals", "true", "null", "NaN", "-NaN", "Infinity", "-Infinity", "01", "-01", "1.", ".5",
    "+1", "1e", "1e+", "-", "--1", "0x1", "1e400", "1e-400", "1e99999999999999999999", "-1e-9999999999999999999",
    "1.5E+999999999999999999", "12345678901234567890123", "9" * 30, "-0", "1E+05", "0.1e1",
    "\\x", "\\u12G4", "\\u12", "\\ud800", "\\udc00\\ud800", "\\ud83d\\ude80", "\\u0000", '\\"', "\\\\", "\\/",
    "\\'", "\\U0041", "\x00", "\x01", "\x1f", "\t", "\x7f", "\x0c", "\x0b", "\u2028", "\u00a0", "\ufeff",
    ",", ":", "{", "}", "[", "]", '"', " ", "\r", "é", "🚀", '{"a":1}', "[]", "{}", ",,", '"x":', '"Python"',
    "\\u0050ython", '"h\\u0061s_next":', '"records":', '"\\u0072ecords":',
    # bytes that are not UTF-8 (see `encode`): alone, cut, and cut by an ASCII byte
    "\udcff", "\udcc3", "\udcc3A\udca9", "\udce2\udc82", "\udce2\udc82 \udcac", "\udcc3\udca9", "\udced\udca0\udc80",
]
KEYS = st.sampled_from(["name", "id", "tags", "x", "Python", "has_next", "records", "nex"])
SCALARS = st.one_of(
    st.sampled_from(["Python", "Java", "Py", "thon", "é", "\ud800", '"', "\\"]), st.none(), st.booleans(),
    st.integers(-(10**25), 10**25), st.floats(allow_nan=False, allow_infinity=False),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(KEYS, inner, max_size=3)), max_leaves=6)
RECORDS = st.dictionaries(KEYS, VALUES, max_size=4)


@st.composite
def garbled(draw: st.DrawFn) -> str:
    """One line: a record's JSON text, maybe mutated a few times inside its outer braces."""
    record = draw(RECORDS)
    text = json.dumps(record, ensure_ascii=draw(st.booleans()),
                      separators=draw(st.sampled_from([(",", ":"), (", ", ": ")])))
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["insert", "replace", "delete", "cut", "append", "deep"]))
        pos = draw(st.integers(1, max(1, len(text) - 1)))
        token = draw(st.sampled_from(TOKENS))
        if kind == "insert":
            text = text[:pos] + token + text[pos:]
        elif kind == "replace":
            end = draw(st.integers(pos, max(pos, min(len(text), pos + 6))))
            text = text[:pos] + token + text[end:]
        elif kind == "delete":
            end = draw(st.integers(pos, max(pos, min(len(text) - 1, pos + 4))))
            text = text[:pos] + text[end:]
        elif kind == "cut":
            text = text[:pos]
        elif kind == "append":
            text = text + token
        else:  # nesting near the reader's limit of 512 levels
            depth = draw(st.sampled_from([509, 510, 511, 512, 600]))
            text = '{"n":' + "[" * depth + "]" * depth + "," + text[1:]
    if draw(st.booleans()) and not text.endswith("}"):
        text += "}"  # shaped as an object again: the prefilter would pass it over
    return text.replace("\n", "")


def _raw_bytes(exc: UnicodeError) -> tuple[bytes, int]:
    """Surrogates U+DC80..U+DCFF as the bytes 0x80..0xFF (bad UTF-8 of any kind), other ones as UTF-8
    would spell them (also bad UTF-8)."""
    assert isinstance(exc, UnicodeEncodeError)
    out = b"".join(bytes([ord(c) - 0xDC00]) if 0xDC80 <= ord(c) <= 0xDCFF else c.encode("utf-8", "surrogatepass")
                   for c in exc.object[exc.start : exc.end])
    return out, exc.end


codecs.register_error("test-raw-bytes", _raw_bytes)


def encode(text: str) -> bytes:
    return text.encode("utf-8", "test-raw-bytes")


def asked(line: bytes) -> bool:
    """Whether the reader asks the validator about ``line`` at all: it checks UTF-8 and depth first."""
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return not _too_deep_bytes(line)


def reader_takes(line: bytes) -> bool:
    """Whether the JSON Lines reader (no prefilter) reads ``line`` as exactly one record, without error."""
    errors: list[RecordError] = []
    reader = RecordReader(io.BytesIO(b'{"first": 1}\n' + line + b"\n"), "t", on_error=errors.append)
    try:
        records = list(reader)
    except RecordError:
        return False
    return not errors and len(records) == 2 and reader.records == 2


PROOFS = {name: p for name, p in (("msgspec", prefilter.proof()), ("orjson", _orjson_proof()))
          if p is not None and p.name == name}


@settings(max_examples=1500, deadline=None)
@given(text=garbled())
@example(text='{"name":"Java","id": tru}')
@example(text='{"a":NaN}')
@example(text='{"h\\u0061s_next":false,"records":[]}')
@example(text='{"a":1e99999999999999999999}')
@example(text='{"a":"\\ud800"}')
@example(text='{"a":1} {"b":2}')
def test_a_line_the_validator_accepts_is_a_record_the_reader_takes(text: str) -> None:
    line = encode(text)
    if not asked(line):
        return
    for proof in PROOFS.values():
        if proof.line(line):
            assert reader_takes(line), (proof.name, line)


@settings(max_examples=400, deadline=None)
@given(texts=st.lists(garbled(), min_size=1, max_size=8))
@example(texts=['{"a": 1}', '{"a":1e99999999999999999999}'])
@example(texts=['{"h\\u0061s_next":false,"records":[]}'])
@example(texts=['{"a": 1}', '{"ha\\u0073_next":false,"records":[]}'])
@example(texts=['{"a": 1}', '{"a": 1} {"b": 2}', '{"a": 1}'])
def test_a_block_the_validator_passes_holds_only_records(texts: list[str]) -> None:
    lines = [encode(t) for t in texts]
    block = b"\n".join(lines)
    if not all(asked(line) and line[:2] == b'{"' and line.endswith(b"}") and line[2:5] not in (b"has", b"rec", b"nex")
               for line in lines):
        return  # what the reader asks about: lines shaped as objects, no page by their first bytes
    indexes = set(range(len(lines)))
    for proof in PROOFS.values():
        unproven = set(proof.unproven(block, lines, indexes))
        for i in indexes - unproven:
            assert reader_takes(lines[i]), (proof.name, lines[i])


# --------------------------------------------------------------------------------------------------
# the command: the same with and without the prefilter
# --------------------------------------------------------------------------------------------------
FILTERS = ["name='Python'", "tags__name__contains='Py' and id__gte=0", "x='Python' or name__startswith='Py'"]


@pytest.mark.parametrize("validator", _validators())
@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(texts=st.lists(garbled(), min_size=2, max_size=30), data=st.data(), crlf=st.booleans())
def test_prefilter_changes_no_output_message_or_status(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, validator: str, texts: list[str], data: st.DataObject,
    crlf: bool,
) -> None:
    use_validator(monkeypatch, validator)
    filter_text = data.draw(st.sampled_from(FILTERS))
    check = line_condition(compile_plan(filter_text)[0])
    assert check is not None and (check.proof is None) == (validator == "none")
    # Mostly good lines, some of them matches, and the garbled ones among them.
    good = [json.dumps({"id": i, "name": data.draw(st.sampled_from(["Python", "Java"]))})
            for i in range(data.draw(st.integers(0, 20)))]
    lines = data.draw(st.permutations(good + texts))
    path = tmp_path / f"g{data.draw(st.integers(0, 10**9))}.jsonl"
    path.write_bytes(b"\r\n".join(map(encode, lines)) + b"\n" if crlf else b"\n".join(map(encode, lines)))
    for skip in ([], ["--skip-invalid"]):
        args = [filter_text, str(path), *skip]
        want = run([*args, "--jobs", "1", "--no-prefilter"])
        assert "Traceback" not in want[2]
        for jobs in ("1", "2"):
            assert run([*args, "--jobs", jobs]) == want, (jobs, skip)


@pytest.mark.parametrize("validator", _validators())
@pytest.mark.parametrize("skip", [False, True])
def test_a_malformed_record_that_cannot_match_is_still_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, validator: str, skip: bool
) -> None:
    use_validator(monkeypatch, validator)
    good = [json.dumps({"id": i, "name": "Python" if i % 7 == 0 else "Java"}) for i in range(60)]
    bad = ['{"name":"Java","id": tru}', '{"name":"Java","id": 01}', '{"name":"Java","x": "a\\qb"}',
           '{"name":"Java"} x', '{"name":"Java","n":1e99999999999999999999}', '{"name":"Java","x":"\udcc3A\udca9"}']
    lines = good[:10] + bad[:2] + good[10:40] + bad[2:] + good[40:]
    path = tmp_path / "bad.jsonl"
    path.write_bytes(encode("\n".join(lines) + "\n"))
    args = ["name='Python'", str(path), *(["--skip-invalid"] if skip else [])]
    want = run([*args, "--jobs", "1", "--no-prefilter"])
    reported = want[2].count("record ")
    assert reported == (len(bad) if skip else 1)  # every bad line (or the first: status 2) is reported
    assert want[0] == (0 if skip else 2)
    for jobs in ("1", "2"):
        assert run([*args, "--jobs", jobs]) == want


def test_the_validator_is_chosen_by_what_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SKILLFILTER_JSON", "stdlib")
    assert prefilter.proof() is None
    monkeypatch.delenv("SKILLFILTER_JSON")
    found = prefilter.proof()
    assert found is not None and found.name == _validators()[0]
    assert found.line(b'{"name": "Java", "id": 1}') and not found.line(b'{"name": "Java", "id": tru}')



@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([b"\n", b"{", b'"', b"\\", b"a", b'{"', b'\n{"', b"\\u0068"]), max_size=24)
       .map(b"".join))
def test_escaped_first_key_found_as_the_pattern_finds_it(block: bytes) -> None:
    from skillfilter.cli.jsontext import _ESCAPED_KEY_AFTER, _escaped_key_after

    assert _escaped_key_after(block) == (_ESCAPED_KEY_AFTER.search(block) is not None)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from([b"\n", b"\\", b"\\\\", b"u", b"\\u", b"a", b'"', b"\\" * 40]), max_size=40)
       .map(b"".join), st.sampled_from([b"\\u", b"\\", b'"a', b"u"]))
def test_lines_holding_a_text_are_found_however_many_backslashes_come_first(block: bytes, text: bytes) -> None:
    """The search that takes backslashes one by one (for a guard against escapes) up to a number of them,
    then a regular expression, finds the lines a plain search finds."""
    from skillfilter.cli.prefilter import _find

    lines = block.split(b"\n")
    starts = [0]
    for line in lines[:-1]:
        starts.append(starts[-1] + len(line) + 1)
    assert _find(text, block, starts) == {i for i, line in enumerate(lines) if text in line}
