"""The parser, piece by piece: lookups, operators, literals, strings, numbers, whitespace, spans, the
``operators=`` option, and the cache of parse tables."""

from __future__ import annotations

import ast
import marshal
import math
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from skillfilter import (
    And,
    Comparison,
    CustomProperty,
    FieldRef,
    FilterSyntaxError,
    Not,
    Or,
    Span,
    parse,
)
from skillfilter.language.parser import _parse_reference, cache_dir, grammar_text, parse_lookup
from skillfilter.language.printer import to_text
from skillfilter.language.tables import CACHE_MAGIC as _CACHE_MAGIC
from skillfilter.semantics.operators import OPERATOR_NAMES

ROOT = Path(__file__).resolve().parents[1]


def cmp(path: str, op: str, value: object) -> Comparison:
    return Comparison(FieldRef(tuple(path.split("."))), op, value)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# lookups
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("op", sorted(OPERATOR_NAMES - {"is_null"}))
def test_every_operator(op: str) -> None:
    assert parse(f"name__{op}='x'") == cmp("name", op, "x")
    assert parse(f"job__family__name__{op}='x'") == cmp("job.family.name", op, "x")
    assert parse(f"cp_lang__{op}='x'") == Comparison(CustomProperty("lang"), op, "x")


def test_is_null() -> None:
    assert parse("a__is_null=true") == cmp("a", "is_null", True)
    assert parse("a__is_null=false") == cmp("a", "is_null", False)
    assert parse("a=null") == cmp("a", "exact", None)
    assert parse("a__exact=null") == cmp("a", "exact", None)


@pytest.mark.parametrize(
    ("lookup", "target", "op"),
    [
        ("external_id", FieldRef(("external_id",)), "exact"),
        ("job__job_family__external_id", FieldRef(("job", "job_family", "external_id")), "exact"),
        ("external_id__startswith", FieldRef(("external_id",)), "startswith"),
        ("a__gt__exact", FieldRef(("a", "gt")), "exact"),  # an operator name as a field needs `__exact`
        ("a__gt__gt", FieldRef(("a", "gt")), "gt"),
        ("gt", FieldRef(("gt",)), "exact"),  # a lone name is always a field
        ("exact", FieldRef(("exact",)), "exact"),
        ("is_null__is_null", FieldRef(("is_null",)), "is_null"),
        ("cp_language", CustomProperty("language"), "exact"),
        ("cp_language__icontains", CustomProperty("language"), "icontains"),
        ("cp_x_", CustomProperty("x_"), "exact"),
        ("cp_gt", CustomProperty("gt"), "exact"),
        ("cp_", FieldRef(("cp_",)), "exact"),  # no name: a plain field
        ("cp__a", FieldRef(("cp", "a")), "exact"),
        ("job__cp_x", FieldRef(("job", "cp_x")), "exact"),  # only a first segment is a custom property
        ("and_x", FieldRef(("and_x",)), "exact"),
        ("or__not__in", FieldRef(("or", "not", "in")), "exact"),
        ("a_", FieldRef(("a_",)), "exact"),
        ("a___gt", FieldRef(("a", "_gt")), "exact"),  # Django splits from the left
        ("_", FieldRef(("_",)), "exact"),
        ("a___", FieldRef(("a", "_")), "exact"),
        ("A__B", FieldRef(("A", "B")), "exact"),
        ("a__and", FieldRef(("a", "and")), "exact"),
    ],
)
def test_lookups(lookup: str, target: FieldRef | CustomProperty, op: str) -> None:
    assert parse_lookup(lookup) == (target, op)
    literal, value = ("true", True) if op == "is_null" else ("1", 1)
    assert parse(f"{lookup}={literal}") == Comparison(target, op, value)


def test_schema_added_operators() -> None:
    ops = OPERATOR_NAMES | {"overlaps"}
    assert parse("tags__overlaps='x'", operators=ops) == cmp("tags", "overlaps", "x")
    assert parse("tags__overlaps='x'") == cmp("tags.overlaps", "exact", "x")
    assert parse("cp_t__overlaps='x'", operators=ops) == Comparison(CustomProperty("t"), "overlaps", "x")
    with pytest.raises(FilterSyntaxError):
        parse("cp_t__overlaps='x'")
    # A plain list works as well as a frozenset, and the default is the built-in set.
    assert parse("a__gt=1", operators=sorted(OPERATOR_NAMES)) == parse("a__gt=1")
    assert parse("a__gt=1", operators=["lt"]) == cmp("a.gt", "exact", 1)


# --------------------------------------------------------------------------------------------------
# literals
# --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("''", ""),
        ('""', ""),
        ("'x'", "x"),
        ('"x"', "x"),
        ("'it\\'s'", "it's"),
        ('"it\'s"', "it's"),
        ("'say \"hi\"'", 'say "hi"'),
        ('"say \\"hi\\""', 'say "hi"'),
        ("'\\\"'", '"'),
        ("'a\\\\b'", "a\\b"),
        ("'\\\\'", "\\"),
        ("'line\nbreak\ttab'", "line\nbreak\ttab"),
        ("'%_'", "%_"),
        ("'and or not true false null'", "and or not true false null"),
        ("'é😀日本'", "é😀日本"),
        ("'a=1 and b=2'", "a=1 and b=2"),
        ("1", 1),
        ("-1", -1),
        ("0", 0),
        ("-0", 0),
        ("007", 7),
        ("12345678901234567890123", 12345678901234567890123),
        ("1.5", 1.5),
        ("-1.5", -1.5),
        ("-0.0", -0.0),
        ("1e3", 1000.0),
        ("1E3", 1000.0),
        ("1e+3", 1000.0),
        ("1e-3", 0.001),
        ("2.5E-3", 0.0025),
        ("1e300", 1e300),
        ("5e-324", 5e-324),
        ("true", True),
        ("false", False),
        ("null", None),
    ],
)
def test_literals(text: str, value: object) -> None:
    node = parse(f"a={text}")
    assert isinstance(node, Comparison)
    assert type(node.value) is type(value)
    assert node.value == value
    if isinstance(value, float):
        assert math.copysign(1, node.value) == math.copysign(1, value)  # type: ignore[arg-type]


def test_literal_types_are_strict() -> None:
    assert parse("a=1") != parse("a=1.0")
    assert parse("a=1") != parse("a=true")
    assert parse("a=0") != parse("a=false")
    assert parse("a=0.0") != parse("a=-0.0")
    assert parse("a='1'") != parse("a=1")


@pytest.mark.parametrize("text", ["a=1.", "a=.5", "a=+1", "a=1e", "a=1e+", "a=--1", "a=0x10", "a=1_000", "a=inf",
                                  "a=nan", "a=1.5.5"])
def test_numbers_outside_the_syntax(text: str) -> None:
    with pytest.raises(FilterSyntaxError):
        parse(text)


def test_whitespace() -> None:
    tree = And((cmp("a", "exact", 1), Not(cmp("b", "exact", "x"))))
    for text in ["a=1 and not b='x'", "  a = 1\n\tand\r\nnot\tb\n=\n'x'  ", "a=1 and not(b='x')", "(a=1)and(not b='x')"]:
        assert parse(text) == tree, text
    # Other white space is not white space.
    for text in ["a=1\u00a0and b=1", "a=1\fand b=1", "a=1\vand b=1", "a=1\u2003and b=1"]:
        with pytest.raises(FilterSyntaxError):
            parse(text)
    # Nothing may stand inside a token.
    for text in ["a =1 an d b=1", "a_ _b=1", "a=' x' and b = 1 . 5"]:
        with pytest.raises(FilterSyntaxError):
            parse(text)


# --------------------------------------------------------------------------------------------------
# spans
# --------------------------------------------------------------------------------------------------
def test_spans() -> None:
    text = "  job__name__icontains = 'x y'  and (not cp_l=1 or b=null)"
    node = parse(text)
    assert isinstance(node, And)
    first = node.operands[0]
    assert isinstance(first, Comparison)
    assert text[first.span.start:first.span.end] == "job__name__icontains = 'x y'"  # type: ignore[union-attr]
    assert text[first.target_span.start:first.target_span.end] == "job__name__icontains"  # type: ignore[union-attr]
    assert text[first.value_span.start:first.value_span.end] == "'x y'"  # type: ignore[union-attr]
    assert node.keyword_spans == (Span(text.index("and"), text.index("and") + 3),)
    group = node.operands[1]
    assert isinstance(group, Or)
    assert group.span == Span(text.index("("), len(text))  # the parentheses belong to the group
    inner_not = group.operands[0]
    assert isinstance(inner_not, Not)
    assert text[inner_not.span.start:inner_not.span.end] == "not cp_l=1"  # type: ignore[union-attr]
    assert node.span == Span(2, len(text))
    # Spans take no part in equality or hashing.
    plain = parse("job__name__icontains='x y' and (not cp_l=1 or b=null)")
    assert plain == node and hash(plain) == hash(node)
    assert plain.span != node.span


def test_spans_of_every_comparison_cover_its_source() -> None:
    text = "a=1 or (b__gt=-2.5 and not (c='q\\'' or d=true)) or e__is_null=false"
    for c in parse(text).comparisons():
        assert c.span and c.target_span and c.value_span
        source = text[c.span.start:c.span.end]
        assert parse(source) == c
        assert text[c.value_span.start:c.value_span.end] in source


# --------------------------------------------------------------------------------------------------
# the tables: lark computes them from grammar.lark; the parser caches them
# --------------------------------------------------------------------------------------------------
def test_grammar_text_is_the_repository_file() -> None:
    assert grammar_text() == (ROOT / "grammar.lark").read_text(encoding="utf-8")


def test_reference_parser_agrees_on_a_sample() -> None:
    for text in ["a=1", "a=1 or b=2 and not (c=3 or d='x')", "not not a__gt=1.5", "cp_x__is_null=true"]:
        assert _parse_reference(text) == parse(text)


def _run(code: str, cache: Path | str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SKILLFILTER_CACHE_DIR": str(cache)}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                          check=False)


PROBE = (
    "import sys, skillfilter; print(skillfilter.to_text(skillfilter.parse('(a = 1)  or not b=2')));"
    "print('lark' in sys.modules)"
)


def test_cache_of_tables(tmp_path: Path) -> None:
    first = _run(PROBE, tmp_path)
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == ["a=1 or not b=2", "True"]  # cold: lark computes the tables
    files = list(tmp_path.glob("tables-*.bin"))
    assert len(files) == 1
    blob = files[0].read_bytes()
    assert blob.startswith(_CACHE_MAGIC)
    key, _tables = marshal.loads(blob[len(_CACHE_MAGIC) + 4 :])
    assert key.endswith(grammar_text())  # tied to this very grammar text
    second = _run(PROBE, tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[-1] == "False"  # warm: lark is not even imported
    assert second.stdout.splitlines()[0] == first.stdout.splitlines()[0]


def test_a_warm_parse_and_print_load_only_their_modules(tmp_path: Path) -> None:
    """The start-up path of `fmt`: the driver, lexer, lookups, tables cache and printer; the error hints,
    the span writer, the visitors (pretty layout, deep trees), the reference parser and its lark, the
    builder, composition (`&`, `|`), the diagnostics and the schema are loaded only on use."""
    assert _run(PROBE, tmp_path).returncode == 0
    probe = (
        "import sys, skillfilter\n"
        "skillfilter.to_text(skillfilter.parse('a=1 or not (b=2 and c__gt=1.5)'))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('skillfilter', 'lark'))))\n"
        "try:\n    skillfilter.parse('a=1 AND b=2')\nexcept skillfilter.FilterSyntaxError:\n    pass\n"
        "print('skillfilter.language.hints' in sys.modules)\n"
    )
    done = _run(probe, tmp_path)
    assert done.returncode == 0, done.stderr
    loaded, hints = done.stdout.splitlines()
    modules = set(ast.literal_eval(loaded))
    for name in ("lalr", "lexer", "lookups", "tables", "parser", "printer", "ast"):
        assert f"skillfilter.language.{name}" in modules
    for name in ("language.hints", "language.spans", "language.tables_lark", "language.builder", "semantics.schema",
                 "semantics.validate", "language.visitor", "language.pretty", "language.reference",
                 "language.compose", "diagnostics", "lark"):
        assert f"skillfilter.{name}" not in modules and name not in modules
    assert hints == "True"


def test_damaged_or_foreign_cache_is_rebuilt(tmp_path: Path) -> None:
    assert _run(PROBE, tmp_path).returncode == 0
    (path,) = tmp_path.glob("tables-*.bin")
    expected = _run(PROBE, tmp_path).stdout.splitlines()[0]
    good = path.read_bytes()

    def framed(payload: bytes) -> bytes:
        return _CACHE_MAGIC + zlib.crc32(payload).to_bytes(4, "big") + payload

    for damage in [b"{not json", framed(marshal.dumps(("another grammar", {}))), framed(marshal.dumps({"x": 1})),
                   b"", good[:-7], good[:-1] + bytes([good[-1] ^ 1])]:
        path.write_bytes(damage)
        result = _run(PROBE, tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == [expected, "True"]  # rebuilt with lark, same answer


def test_cache_can_be_switched_off_or_unwritable(tmp_path: Path) -> None:
    off = _run(PROBE, "")
    assert off.returncode == 0 and off.stdout.splitlines()[-1] == "True"
    blocker = tmp_path / "file"
    blocker.write_text("not a directory", encoding="utf-8")
    unwritable = _run(PROBE, blocker / "sub")
    assert unwritable.returncode == 0, unwritable.stderr
    assert unwritable.stdout == off.stdout


def test_cache_dir_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SKILLFILTER_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_dir() == tmp_path / "skillfilter"
    monkeypatch.setenv("SKILLFILTER_CACHE_DIR", "")
    assert cache_dir() is None


def test_fallback_to_larks_own_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    """Were lark's tables out of reach (its internals moved), parse() would run lark's parser instead."""
    from skillfilter.language.tables import Loaded as _Loaded

    texts = ["a=1 or not (b__gt=2 and cp_x='y')", "a=1 AND b=2", "(a=1", "a='x", "a__=1", "not " * 150 + "a=1"]
    expected = []
    for text in texts:
        try:
            expected.append(parse(text))
        except FilterSyntaxError as exc:
            expected.append((exc.reason, exc.position, exc.hint))
    monkeypatch.setattr(_Loaded, "tables", None)
    monkeypatch.setattr(_Loaded, "tables_failed", True)
    for text, want in zip(texts, expected, strict=True):
        try:
            got: object = parse(text)
        except FilterSyntaxError as exc:
            got = (exc.reason, exc.position, exc.hint)
        assert got == want, text


@pytest.mark.parametrize("depth", [1, 8, 9, 40])
def test_deep_and_shallow_trees_print_alike(depth: int) -> None:
    """Trees up to 8 deep are printed by a short recursion, deeper ones by ``Visitor.fold``: both give
    text that parses back to the same tree, and the pretty form reads back too."""
    text = "a=1"
    for i in range(depth - 1):
        text = f"not ({text} or b{i}='x')" if i % 2 else f"({text} and c{i}={i})"
    tree = parse(text)
    printed = to_text(tree)
    assert parse(printed) == tree
    assert parse(to_text(tree, pretty=True, width=20)) == tree
