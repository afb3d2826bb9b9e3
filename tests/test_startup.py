"""Start-up (issue 8, item 14): the argparse-free reading of `fmt`/`lint`, the table cache, Diagnostic."""

from __future__ import annotations

import contextlib
import marshal
import os
import pickle
import subprocess
import sys
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skillfilter import cli
from skillfilter.errors import Diagnostic
from skillfilter.language.parser import _CACHE_MAGIC, _read_cache


def _argparse_reading(command: str, argv: list[str]) -> object:
    sub = cli._parser_class()(prog=f"skillfilter {command}")
    cli._module(command).add_arguments(sub)
    try:
        args, extras = sub.parse_known_args(argv)
        if extras:
            args, extras = sub.parse_known_intermixed_args(argv)
    except cli._ArgumentError:
        return "error"
    if extras:
        return "error"
    args.command = command
    return vars(args)


TOKENS = ["a=1", "x='it''s'", "", " ", "--pretty", "--entity", "-e", "employees", "--schema", "-s", "export",
          "--format", "-f", "json", "text", "xml", "--color", "always", "never", "--max-logical-operators",
          "3", "none", "-1", "x", "--entity=jobs", "--format=json", "--pretty=1", "-e=jobs", "--", "-", "-h",
          "--ent", "--sch", "=", "-ejobs", "$employees=a=1"]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(["fmt", "lint"]), st.lists(st.one_of(st.sampled_from(TOKENS), st.text()), max_size=6))
def test_fast_reading_agrees_with_argparse(command: str, argv: list[str]) -> None:
    fast = cli._fast_parse(command, argv)
    if fast is not None:  # whenever the fast path answers, argparse gives the very same namespace
        assert vars(fast) == _argparse_reading(command, argv)


@pytest.mark.parametrize(("command", "argv"), [
    ("fmt", ["a=1"]), ("fmt", ["a=1", "--pretty", "b=2"]), ("fmt", []),
    ("lint", ["--entity", "employees", "external_id='1'"]), ("lint", ["-e", "jobs", "-f", "json", "a=1"]),
    ("lint", ["--schema=export", "--max-logical-operators", "none", "--color", "never", "a=1"]),
])
def test_common_forms_take_the_fast_path(command: str, argv: list[str]) -> None:
    fast = cli._fast_parse(command, argv)
    assert fast is not None and vars(fast) == _argparse_reading(command, argv)


def _modules_after(*argv: str) -> set[str]:
    code = ("import sys\nfrom skillfilter.cli import main\nimport io\n"
            f"main({list(argv)!r}, stdout=io.StringIO())\nprint(' '.join(sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env=dict(os.environ))
    return set(out.stdout.split())


def test_fmt_and_lint_do_not_import_argparse_or_json() -> None:
    assert not {"argparse", "gettext", "json"} & _modules_after("fmt", "a=1")
    assert "argparse" not in _modules_after("lint", "--entity", "employees", "external_id='1'")
    assert "argparse" in _modules_after("fmt", "--help")  # anything unusual still goes to argparse


def test_unusual_forms_answer_as_before(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["lint", "--max-logical-operators", "x", "a=1"]) == 2
    assert "expected a whole number" in capsys.readouterr().err
    assert cli.main(["fmt", "--prety", "a=1"]) == 2


def _framed(payload: bytes) -> bytes:
    return _CACHE_MAGIC + zlib.crc32(payload).to_bytes(4, "big") + payload


@contextlib.contextmanager
def _memory_bound(extra: int = 512 << 20) -> Iterator[None]:
    """At most ``extra`` more bytes of address space inside (Linux): a regression that lets marshal allocate
    what a junk file claims fails with MemoryError instead of taking the machine's memory."""
    try:
        import resource

        pages = int(Path("/proc/self/statm").read_text().split()[0])
    except (ImportError, OSError, ValueError):  # pragma: no cover - not Linux
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    bound = pages * resource.getpagesize() + extra
    if hard != resource.RLIM_INFINITY:
        bound = min(bound, hard)
    resource.setrlimit(resource.RLIMIT_AS, (bound, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


# Containers that claim far more items than the bytes hold (marshal would allocate them before reading).
_GREEDY = [b"[\xff\xff\xff\x7f", b"(\xff\xff\xff\x0f", b"\xdb\x00\x00\x00\x10",
           marshal.dumps(("key", {"a": 1}))[:-9] + b"(\xff\xff\xff\x7f" + b"N" * 8]


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=300), st.sampled_from(_GREEDY),
                 st.builds(bytes.__add__, st.sampled_from(_GREEDY), st.binary(max_size=40))))
def test_damaged_cache_is_never_used(tmp_path_factory: pytest.TempPathFactory, junk: bytes) -> None:
    path = tmp_path_factory.mktemp("c") / "t.bin"
    for blob in (junk, _CACHE_MAGIC + junk, _framed(junk)):
        path.write_bytes(blob)
        with _memory_bound():
            result = _read_cache(path, "key")
        assert result is None or isinstance(result, dict)


def test_a_cache_claiming_huge_containers_is_refused_unread(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    unmarshalled: list[bytes] = []
    monkeypatch.setattr(marshal, "loads", unmarshalled.append)
    path = tmp_path / "t.bin"
    for junk in _GREEDY:
        path.write_bytes(_framed(junk))
        with _memory_bound():
            assert _read_cache(path, "key") is None
    assert unmarshalled == []  # refused before marshal could allocate what the file claims


_PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.lists(inner, max_size=4).map(tuple)
    | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=5), _PLAIN, max_size=5), st.booleans())
def test_a_cache_of_plain_data_reads_back(tmp_path_factory: pytest.TempPathFactory, data: dict[str, object],
                                          share: bool) -> None:
    path = tmp_path_factory.mktemp("c") / "t.bin"
    if share and data:  # the same objects twice: marshal writes references
        data = {**data, "again": list(data.values())}
    path.write_bytes(_framed(marshal.dumps(("key", data))))
    # Plain data reads back, up to 8 containers deep (the pair and the dict are two of them).
    assert _read_cache(path, "key") == (data if _depth(data) <= 7 else None)


def _depth(value: object) -> int:
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return 1 + max(map(_depth, value), default=0)
    return 0


def test_cache_with_code_or_foreign_data_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "t.bin"
    for data in [{"f": compile("1", "x", "eval")}, {"f": {1.5}}, {1: 2}, ["not", "a", "dict"]]:
        path.write_bytes(_framed(marshal.dumps(("key", data))))
        assert _read_cache(path, "key") is None
    path.write_bytes(_framed(marshal.dumps(("key", {"a": [1, {"b": None}]}))))
    assert _read_cache(path, "key") == {"a": [1, {"b": None}]}
    assert _read_cache(path, "other key") is None


def test_diagnostic_behaves_as_the_dataclass_did() -> None:
    d = Diagnostic("SF201", "m", 0, 1, hint="h", entity="employees")
    assert d == Diagnostic(code="SF201", message="m", start=0, end=1, hint="h")  # entity not compared
    assert hash(d) == hash(Diagnostic("SF201", "m", 0, 1, "error", "h"))
    assert d != Diagnostic("SF201", "m", 0, 2, hint="h")
    assert repr(d) == ("Diagnostic(code='SF201', message='m', start=0, end=1, severity='error', hint='h', "
                       "entity='employees')")
    assert pickle.loads(pickle.dumps(d)) == d
    with pytest.raises(AttributeError):
        d.code = "x"  # type: ignore[misc]
    assert not hasattr(d, "__dict__")
    assert not hasattr(Diagnostic, "__dataclass_fields__")  # written out: no dataclass processing at start


def test_lint_of_one_filter_loads_only_what_it_needs() -> None:
    loaded = _modules_after("lint", "--entity", "employees", "external_id='1'")
    # The built-in schema is read plainly from Python data; json and the checking reader are for schema files.
    assert "skillfilter.semantics.builtin" in loaded
    assert not {"argparse", "json", "skillfilter.semantics.schema_loading", "decimal", "pathlib", "importlib.resources",
                "skillfilter.plan.planner", "skillfilter.language.querystring"} & (loaded - _modules_after_pass())
    with_file = _modules_after("lint", "--schema", str(Path(__file__).parent.parent / "src" / "skillfilter" / "data"
                                                       / "export.schema.json"), "external_id='1'")
    assert "skillfilter.semantics.schema_loading" in with_file


def _modules_after_pass() -> set[str]:
    out = subprocess.run([sys.executable, "-c", "import sys; print(' '.join(sys.modules))"], capture_output=True,
                         text=True, check=True, env=dict(os.environ))
    return set(out.stdout.split())


def test_model_classes_are_not_dataclasses() -> None:
    from skillfilter.semantics import model
    from skillfilter.semantics.operators import Operator

    for cls in (model.Schema, model.Entity, model.Field, model.Relation, model.CustomProperties,
                model.Resolution, Operator):
        assert not hasattr(cls, "__dataclass_fields__")  # written out: nothing to build at start
        assert not hasattr(object.__new__(cls), "__dict__")  # slotted, as the dataclasses were
