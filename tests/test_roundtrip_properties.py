"""Property tests of the parser and printer (issue 2, "How it is shown").

- Random trees (hostile field names and literals, every operator, custom properties) print with
  ``to_text`` and ``to_text(pretty=True)`` and parse back equal.
- ``to_text(parse(s))`` is a fixed point, for ``s`` written in every non-canonical way the language allows.
- Arbitrary text, and arbitrary bytes decoded, give an ``Expr`` or a ``FilterSyntaxError``: nothing else,
  and the message never shows lark's internals.
- The parser's own LALR driver and lexer agree with lark's (a second implementation of the same tables).

The strategies here are imported by the other test modules (``from test_roundtrip_properties import ...``).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from skillfilter import (
    And,
    Comparison,
    CustomProperty,
    Expr,
    FieldRef,
    FilterSyntaxError,
    Not,
    Or,
    parse,
    to_text,
)
from skillfilter.language.hints import translate as _translate
from skillfilter.language.lalr import Stuck as _Stuck
from skillfilter.language.parser import _parse_reference
from skillfilter.semantics.operators import BUILTIN_OPERATORS, KEYWORDS, OPERATOR_NAMES

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# --------------------------------------------------------------------------------------------------
# strategies: names
# --------------------------------------------------------------------------------------------------
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
HOSTILE_WORDS = ["and", "or", "not", "true", "false", "null", "exact", "gt", "is_null", "cp", "cp_", "AND", "None"]

# A segment of a field path: never contains `__` (that is the separator).
_FIRST = "abcxyzABCXYZ_"
_REST = "abcxyzABCXYZ0189_"
plain_segment = st.builds(
    str.__add__, st.sampled_from(_FIRST), st.text(alphabet=_REST, max_size=8)
).filter(lambda s: "__" not in s)
tricky_segment = st.sampled_from(
    [
        "and_x", "or_", "not_", "notes", "order", "android", "true_", "nullable", "falsey", "_", "_a", "a_",
        "x_", "gt_", "_gt", "exact_", "gte2", "ISNULL", "And", "OR", "Not", "TRUE", "cp", "cp_", "A", "_0",
        *sorted(OPERATOR_NAMES),
        *sorted(KEYWORDS),
    ]
)
segment = st.one_of(plain_segment, tricky_segment)


def writable_path(path: tuple[str, ...], op: str) -> bool:
    """LANGUAGE.md section 1, restated: can ``FieldRef(path)`` with ``op`` be written as text at all?

    Django splits on ``__`` from the left, so a name followed by ``__`` must not end in ``_``; a first
    name ``cp_<x>`` is a custom property; a lone keyword is not a field.
    """
    if not path or any(not _NAME.match(s) or "__" in s for s in path):
        return False
    suffixed = op != "exact" or (len(path) >= 2 and path[-1] in OPERATOR_NAMES)
    followed = path[:-1] + ((path[-1],) if suffixed else ())
    if any(s.endswith("_") for s in followed):
        return False
    if path[0].startswith("cp_") and len(path[0]) > 3:
        return False
    return not (len(path) == 1 and path[0] in KEYWORDS)


def writable_custom(name: str, op: str) -> bool:
    if not name or "__" in name or name.startswith("_") or not re.fullmatch(r"[A-Za-z0-9_]+", name):
        return False
    return not (op != "exact" and name.endswith("_"))


# --------------------------------------------------------------------------------------------------
# strategies: literals
# --------------------------------------------------------------------------------------------------
HOSTILE_TEXT = st.sampled_from(
    [
        "", "'", '"', "\\", "\\\\", "\\'", "it's", 'say "hi"', "%", "%25", "_", "%_", "a%b_c", "\n", "\t", "\r\n",
        "and", "or", "not", "true", "false", "null", "a=1 and b=2", ") or (", "é", "É", "ß", "İ", "😀", "👩‍💻",
        "\x00", "\u2028", "\ufeff", "日本語", "$employees=", "&", "+", "#", "=", "x__gt", "cp_x",
    ]
)
text_literal = st.one_of(HOSTILE_TEXT, st.text(), st.text(alphabet="'\"\\%_ \n\tandortx"))
int_literal = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from([0, -1, 2**63, -(2**63) - 1, 10**3999 - 1, -(10**3999) + 1]),
)
float_literal = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1e300, -1e300, 5e-324, 2.2250738585072014e-308, 1e16, 0.1, 1.5, -2.5e-7]),
)
bool_literal = st.booleans()


def literal_for(op: str) -> st.SearchStrategy[Any]:
    kind = BUILTIN_OPERATORS[op].kind
    if kind == "is_null":
        return bool_literal
    values = st.one_of(text_literal, int_literal, float_literal, bool_literal)
    if kind == "exact" and op == "exact":
        return st.one_of(values, st.none())
    return values


@st.composite
def comparisons(draw: st.DrawFn) -> Comparison:
    op = draw(st.sampled_from(sorted(OPERATOR_NAMES)))
    if draw(st.integers(0, 4)) == 0:
        name = draw(st.one_of(st.text(alphabet=_REST, min_size=1, max_size=8), tricky_segment))
        assume(writable_custom(name, op))
        target: FieldRef | CustomProperty = CustomProperty(name)
    else:
        path = tuple(draw(st.lists(segment, min_size=1, max_size=4)))
        assume(writable_path(path, op))
        target = FieldRef(path)
    return Comparison(target, op, draw(literal_for(op)))


def _combine(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    lists = st.lists(children, min_size=2, max_size=4)
    return st.one_of(
        children.map(Not),
        lists.map(lambda ops: And.of(*ops)),
        lists.map(lambda ops: Or.of(*ops)),
    )


exprs: st.SearchStrategy[Expr] = st.recursive(comparisons(), _combine, max_leaves=12)


# --------------------------------------------------------------------------------------------------
# strategies: the same tree written in any of the ways the language allows
# --------------------------------------------------------------------------------------------------
ws = st.sampled_from(["", " ", "  ", "\t", "\n", " \n  ", "\r\n"])
ws1 = st.sampled_from([" ", "  ", "\t", "\n", " \n\t"])


def _noisy_string(draw: st.DrawFn, value: str) -> str:
    quote = draw(st.sampled_from(["'", '"']))
    out = []
    for ch in value:
        if ch == "\\" or ch == quote:
            out.append("\\" + ch)
        elif ch in "'\"" and draw(st.booleans()):
            out.append("\\" + ch)  # escaping the other quote is allowed too
        else:
            out.append(ch)
    return quote + "".join(out) + quote


def _noisy_number(draw: st.DrawFn, value: int | float) -> str:
    if isinstance(value, int):
        text = str(value)
        if draw(st.booleans()):
            text = text.replace("-", "-00", 1) if text.startswith("-") else "00" + text
        return text
    text = repr(value)
    if draw(st.booleans()):
        text = text.replace("e+", "E").replace("e", "E")
    return text


def noisy(draw: st.DrawFn, node: Expr, parent: int = 0) -> str:
    """``node`` written with random spacing, quotes, escapes, ``__exact`` and needless parentheses."""
    if isinstance(node, Comparison):
        target = node.target
        lookup = target.text()
        last = target.name if isinstance(target, CustomProperty) else target.path[-1]
        needs_exact = isinstance(target, FieldRef) and len(target.path) >= 2 and last in OPERATOR_NAMES
        may_add_exact = not last.endswith("_") and draw(st.integers(0, 3)) == 0
        if node.op != "exact":
            lookup += "__" + node.op
        elif needs_exact or may_add_exact:
            lookup += "__exact"
        value = node.value
        if isinstance(value, str):
            lit = _noisy_string(draw, value)
        elif value is None or isinstance(value, bool):
            lit = {None: "null", True: "true", False: "false"}[value]
        else:
            assert isinstance(value, (int, float))
            lit = _noisy_number(draw, value)
        text = f"{lookup}{draw(ws)}={draw(ws)}{lit}"
        prec = node.precedence
    elif isinstance(node, Not):
        inner = noisy(draw, node.operand, node.precedence)
        gap = draw(ws1) if not inner.startswith("(") else draw(ws)
        text = f"not{gap}{inner}"
        prec = node.precedence
    else:
        assert isinstance(node, (And, Or))
        parts = [noisy(draw, op, node.precedence) for op in node.operands]
        # Regroup some runs with explicit parentheses: `a or (b or c)` flattens to the same tree.
        if len(parts) >= 3 and draw(st.booleans()):
            i = draw(st.integers(0, len(parts) - 2))
            j = draw(st.integers(i + 2, len(parts)))
            group = f" {node.keyword} ".join(parts[i:j])
            if j - i < len(parts):
                parts[i:j] = [f"({draw(ws)}{group}{draw(ws)})"]
        text = ""
        for k, part in enumerate(parts):
            if k:
                text += f"{draw(ws1)}{node.keyword}{draw(ws1)}"
            text += part
        prec = node.precedence
    if prec < parent or draw(st.integers(0, 5)) == 0:
        text = f"({draw(ws)}{text}{draw(ws)})"
    return text


@st.composite
def noisy_texts(draw: st.DrawFn) -> tuple[Expr, str]:
    node = draw(exprs)
    return node, draw(ws) + noisy(draw, node) + draw(ws)


# --------------------------------------------------------------------------------------------------
# round trips
# --------------------------------------------------------------------------------------------------
@SETTINGS
@given(exprs)
def test_canonical_text_parses_back_equal(node: Expr) -> None:
    text = to_text(node)
    assert parse(text, max_length=None) == node
    assert to_text(parse(text, max_length=None)) == text


@SETTINGS
@given(exprs, st.sampled_from([0, 10, 30, 80]))
def test_pretty_text_parses_back_equal(node: Expr, width: int) -> None:
    text = to_text(node, pretty=True, width=width)
    assert parse(text, max_length=None) == node
    # The layout only adds whitespace and keeps to the canonical parentheses.
    assert to_text(parse(text, max_length=None)) == to_text(node)


@SETTINGS
@given(noisy_texts())
def test_every_way_of_writing_parses_to_the_tree_and_prints_canonically(case: tuple[Expr, str]) -> None:
    node, text = case
    parsed = parse(text, max_length=None)
    assert parsed == node
    canonical = to_text(parsed)
    assert canonical == to_text(node)
    assert to_text(parse(canonical, max_length=None)) == canonical  # a fixed point


@SETTINGS
@given(st.lists(st.sampled_from(["a", "b", "=", "1", "'x'", " ", "(", ")", "and", "or", "not", "__gt", "true", "null", "\n", "cp_z", '"', "\\"]), max_size=40).map("".join))
def test_to_text_of_parse_is_a_fixed_point(text: str) -> None:
    try:
        node = parse(text)
    except FilterSyntaxError:
        return
    canonical = to_text(node)
    again = parse(canonical)
    assert again == node
    assert to_text(again) == canonical


def test_examples_of_canonical_form() -> None:
    cases = {
        "a = 1": "a=1",
        "a__exact='x'": "a='x'",
        'a="it\'s"': "a='it\\'s'",
        'a="\\""': "a='\"'",
        "a=1.50": "a=1.5",
        "a=1E3": "a=1000.0",
        "a=-0": "a=0",
        "a=-0.0": "a=-0.0",
        "a=007": "a=7",
        "((a=1))": "a=1",
        "(a=1 and b=2) and c=3": "a=1 and b=2 and c=3",
        "a=1 or (b=2 and c=3)": "a=1 or b=2 and c=3",
        "(a=1 or b=2) and c=3": "(a=1 or b=2) and c=3",
        "not (a=1)": "not a=1",
        "not(a=1 and b=2)": "not (a=1 and b=2)",
        "x__gt__exact=1": "x__gt__exact=1",
        "cp_lang__exact='de'": "cp_lang='de'",
        "a=1\tand\nb=2": "a=1 and b=2",
        "a='line\nbreak'": "a='line\nbreak'",
    }
    for text, canonical in cases.items():
        assert to_text(parse(text)) == canonical, text


# --------------------------------------------------------------------------------------------------
# anything in, an Expr or a FilterSyntaxError out
# --------------------------------------------------------------------------------------------------
INTERNALS = ["__ANON", "Token(", "$END", "FIELD", "RPAR", "LPAR", "STRING", "NUMBER", "EQUAL", "_error",
             "Tree(", "lark", "UnexpectedToken", "UnexpectedCharacters", "Traceback"]


def check_anything(text: str) -> None:
    try:
        result = parse(text, max_length=None)
    except FilterSyntaxError as exc:
        message = str(exc)
        for word in INTERNALS:
            if word not in text:
                assert word not in message, (word, message)
        assert 0 <= exc.position <= len(text)
        assert exc.line >= 1 and exc.column >= 1
        assert exc.line == text.count("\n", 0, exc.position) + 1
        assert isinstance(exc.expected, tuple)
        assert all(isinstance(e, str) and e for e in exc.expected)
        return
    assert isinstance(result, Expr)
    assert parse(to_text(result), max_length=None) == result


TOKENS = st.sampled_from(
    ["a", "x__y", "cp_q", "__gt", "__", "=", "==", "!=", "'s'", '"t"', "'", '"', "\\", "1", "-2.5", "1e999", "1.",
     "true", "false", "null", "True", "None", "and", "or", "not", "AND", "OR", "NOT", "&&", "||", "!", "(", ")",
     " ", "\n", "\t", "é", "😀", "%", "_", "<", ">=", "$", ";", ",", "\x00", "\ud800"]
)


@SETTINGS
@given(st.text())
def test_arbitrary_text(text: str) -> None:
    check_anything(text)


@SETTINGS
@given(st.lists(TOKENS, max_size=25).map("".join))
def test_arbitrary_token_soup(text: str) -> None:
    check_anything(text)


@SETTINGS
@given(st.binary(), st.sampled_from(["utf-8", "latin-1", "cp1252", "utf-16"]), st.sampled_from(["replace", "surrogateescape", "ignore", "backslashreplace"]))
def test_arbitrary_bytes_decoded(data: bytes, encoding: str, errors: str) -> None:
    try:
        text = data.decode(encoding, errors)
    except (UnicodeDecodeError, LookupError):
        return  # surrogateescape with utf-16 and the like: not a str at all
    check_anything(text)


@FEW
@given(noisy_texts(), st.integers(0, 200), st.sampled_from(["", "(", ")", "'", '"', "\\", "=", "and", "not", "__", "&", "!"]))
def test_damaged_filters(case: tuple[Expr, str], cut: int, insert: str) -> None:
    _node, text = case
    cut = min(cut, len(text))
    check_anything(text[:cut] + insert + text[cut:])
    check_anything(text[:cut])


def test_non_str_input_is_a_type_error() -> None:
    for bad in (b"a=1", None, 1, ["a=1"]):
        with pytest.raises(TypeError):
            parse(bad)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# the driver against lark's own parser
# --------------------------------------------------------------------------------------------------
def _reference(text: str) -> Expr | FilterSyntaxError:
    try:
        return _parse_reference(text)
    except FilterSyntaxError as exc:
        return exc
    except _Stuck as stuck:
        return _translate(stuck, text)


def _fast(text: str) -> Expr | FilterSyntaxError:
    try:
        return parse(text)
    except FilterSyntaxError as exc:
        return exc


@SETTINGS
@given(st.one_of(st.lists(TOKENS, max_size=25).map("".join), noisy_texts().map(lambda c: c[1])))
@example("a=1 order=2")
@example("not not (a=1 or b=2) and c=3")
def test_driver_agrees_with_lark(text: str) -> None:
    assume(text.strip(" \t\r\n") and len(text) <= 100_000)
    fast, ref = _fast(text), _reference(text)
    if isinstance(fast, Expr):
        assert fast == ref
        # Spans too: the same builders ran on the same reductions.
        assert isinstance(ref, Expr)
        assert [n.span for n in fast.walk()] == [n.span for n in ref.walk()]
    else:
        assert isinstance(ref, FilterSyntaxError), ref
        assert (fast.position, fast.reason) == (ref.position, ref.reason)


@SETTINGS
@given(st.lists(TOKENS, max_size=30).map("".join))
def test_scanner_agrees_with_larks_lexer(text: str) -> None:
    from lark.exceptions import UnexpectedCharacters

    from skillfilter.language.lalr import HANDLERS
    from skillfilter.language.parser import _reference_parser
    from skillfilter.language.tables import get_tables

    tables = get_tables(HANDLERS)
    assert tables is not None
    mine = []
    for m in tables.scanner.finditer(text):
        kind = m.lastgroup
        assert kind is not None
        if kind in tables.ignore:
            continue
        if kind == "_error":
            break
        kind = tables.retype.get(kind, {}).get(m.group(), kind)
        mine.append((kind, m.group(), m.start()))
    theirs = []
    try:
        for tok in _reference_parser()[0].lex(text):
            theirs.append((tok.type, str(tok), tok.start_pos))
    except UnexpectedCharacters:
        pass
    assert mine == theirs


def test_order_is_a_field_not_or_der() -> None:
    """Longest match: a keyword is a whole word (found by this suite; the contextual lexer split it)."""
    cases = {"a=1 order=2": "order", "a=1 andb=2": "andb", "a=trueor b=1": "trueor", "a=1 notes=2": "notes",
             "a=nulls": "nulls"}
    for text, word in cases.items():
        with pytest.raises(FilterSyntaxError) as info:
            parse(text)
        assert info.value.reason == f"unexpected `{word}`"
        assert info.value.position == text.index(word)
    assert parse("not notes=1") == Not(Comparison(FieldRef(("notes",)), "exact", 1))
    assert parse("order=1 or android=2") == Or((Comparison(FieldRef(("order",)), "exact", 1),
                                                Comparison(FieldRef(("android",)), "exact", 2)))
    # Whitespace may be left out where the tokens cannot run together.
    assert parse("a=1and b='x'or(c=2)") == parse("a=1 and b='x' or (c=2)")
