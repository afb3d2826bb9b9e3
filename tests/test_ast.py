"""The expression tree: frozen slotted nodes, equality without spans, composition, walking, the
logical-operator count, Visitor and Transformer."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import re

import pytest
from hypothesis import given, settings

from skillfilter import (
    And,
    Comparison,
    CustomProperty,
    Expr,
    FieldRef,
    Not,
    Or,
    Span,
    Transformer,
    Visitor,
    parse,
    to_text,
)
from skillfilter.semantics.operators import Precedence
from test_roundtrip_properties import exprs

SETTINGS = settings(max_examples=100, deadline=None)


def c(name: str, value: object = 1, op: str = "exact") -> Comparison:
    return Comparison(FieldRef((name,)), op, value)  # type: ignore[arg-type]


a, b, d = c("a"), c("b"), c("d")


# --------------------------------------------------------------------------------------------------
# nodes
# --------------------------------------------------------------------------------------------------
def test_nodes_are_frozen_and_slotted() -> None:
    nodes: list[object] = [a, And((a, b)), Or((a, b)), Not(a), FieldRef(("x",)), CustomProperty("x"), Span(0, 1)]
    for node in nodes:
        assert not hasattr(node, "__dict__"), type(node)
        # All written by hand (no dataclasses at start-up); the first constructor argument is frozen too.
        first = type(node).__match_args__[0]  # type: ignore[attr-defined]
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(node, first, None)
        with pytest.raises((AttributeError, TypeError)):  # TypeError: a CPython quirk of frozen+slots
            node.extra = 1  # type: ignore[attr-defined]


def test_spans_take_no_part_in_equality_or_hashing() -> None:
    one = parse("a=1 and b=1")
    two = parse("  a =1\nand  b= 1")
    built = And((a, b))
    assert one == two == built
    assert hash(one) == hash(two) == hash(built)
    assert one.span != two.span and built.span is None
    assert {one, two, built} == {built}
    assert Comparison(FieldRef(("a",)), "exact", 1, Span(0, 3)) == a


def test_equality_is_type_strict() -> None:
    values: list[object] = [1, 1.0, True, "1", None, 0, 0.0, -0.0, False, ""]
    nodes = [c("a", v) for v in values]
    for i, x in enumerate(nodes):
        for j, y in enumerate(nodes):
            assert (x == y) is (i == j), (values[i], values[j])
    assert len(set(nodes)) == len(nodes)
    assert c("a", float("nan")) == c("a", float("nan"))  # a tree equals itself, NaN or not
    assert FieldRef(("cp_x",)) != CustomProperty("x")
    assert Comparison(FieldRef(("cp_x",)), "exact", 1) != Comparison(CustomProperty("x"), "exact", 1)
    assert And((a, b)) != Or((a, b))
    assert And((a, b)) != And((b, a))  # operand order is kept
    assert Not(a) != a
    assert (a == "a=1") is False


def test_nary_nodes_check_their_operands() -> None:
    with pytest.raises(ValueError):
        And((a,))
    with pytest.raises(ValueError):
        Or(())
    with pytest.raises(ValueError):
        And((a, And((b, d))))  # must be flattened
    with pytest.raises(TypeError):
        And((a, "b=1"))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Not("a=1")  # type: ignore[arg-type]
    assert Or((a, And((b, d)))).operands[1] == And((b, d))  # a different kind nests


def test_composition_flattens_like_the_parser() -> None:
    assert a & b == And((a, b))
    assert (a & b) & d == And((a, b, d))
    assert a & (b & d) == And((a, b, d))
    assert (a | b) | (d | a) == Or((a, b, d, a))
    assert (a | b) & d == And((Or((a, b)), d))
    assert ~a == Not(a)
    assert ~~a == Not(Not(a))
    assert (a & b) | parse("d=1 or a=1") == parse("a=1 and b=1 or d=1 or a=1")
    assert parse("a=1 and b=1") & parse("(d=1)") == parse("a=1 and b=1 and d=1")
    assert And.of(a) is a
    assert And.of(a, b, And((d, a))) == And((a, b, d, a))
    assert Or.of(And((a, b)), d) == Or((And((a, b)), d))
    with pytest.raises(TypeError):
        a & 1  # type: ignore[operator]
    with pytest.raises(TypeError):
        a | "b=1"  # type: ignore[operator]


def test_field_ref_and_custom_property() -> None:
    ref = FieldRef(("job", "job_family", "external_id"))
    assert ref.name == "external_id"
    assert ref.relations == ("job", "job_family")
    assert ref.text() == "job__job_family__external_id"
    cp = CustomProperty("language")
    assert cp.path == ("cp_language",)
    assert cp.text() == "cp_language"


def test_precedence_and_depth() -> None:
    assert (a.precedence, And((a, b)).precedence, Or((a, b)).precedence, Not(a).precedence) == (
        Precedence.ATOM, Precedence.AND, Precedence.OR, Precedence.NOT
    )
    assert a.depth == 1
    assert Not(Not(a)).depth == 3
    assert Or((a, And((b, Not(d))))).depth == 4


def test_walk_and_comparisons() -> None:
    tree = parse("a=1 or (b=1 and not d=1) or a=2")
    kinds = [type(n).__name__ for n in tree.walk()]
    assert kinds == ["Or", "Comparison", "And", "Comparison", "Not", "Comparison", "Comparison"]
    assert [to_text(x) for x in tree.comparisons()] == ["a=1", "b=1", "d=1", "a=2"]
    assert list(a.walk()) == [a]


def test_replace() -> None:
    x = parse("a=1")
    assert isinstance(x, Comparison)
    y = x.replace(value="z", op="icontains")
    assert y == Comparison(FieldRef(("a",)), "icontains", "z")
    assert y.span == x.span
    with pytest.raises(TypeError):
        x.replace(colour="red")


def test_repr_str_pickle_copy() -> None:
    tree = parse("a=1 and not (b='x' or cp_l__gt=2.5)")
    assert "span" not in repr(tree)
    assert str(tree) == to_text(tree)
    for again in (pickle.loads(pickle.dumps(tree)), copy.copy(tree), copy.deepcopy(tree)):
        assert again == tree
        assert again.span == tree.span


# --------------------------------------------------------------------------------------------------
# the logical-operator count (LANGUAGE.md section 2), against two other ways of counting
# --------------------------------------------------------------------------------------------------
_TOKEN = re.compile(r"'(?:[^'\\]|\\.)*'|[A-Za-z_][A-Za-z0-9_]*|\S", re.S)


def _count_keywords(text: str) -> int:
    return sum(1 for m in _TOKEN.finditer(text) if m.group() in ("and", "or", "not"))


def _count_recursively(node: Expr) -> int:
    if isinstance(node, Comparison):
        return 0
    if isinstance(node, Not):
        return 1 + _count_recursively(node.operand)
    assert isinstance(node, (And, Or))
    return len(node.operands) - 1 + sum(_count_recursively(o) for o in node.operands)


def _depth_recursively(node: Expr) -> int:
    return 1 + max((_depth_recursively(ch) for ch in node.children()), default=0)


@SETTINGS
@given(exprs)
def test_logical_operator_count(node: Expr) -> None:
    count = node.logical_operator_count()
    assert count == _count_recursively(node)
    assert count == _count_keywords(to_text(node))  # the keywords the canonical text has
    assert node.depth == _depth_recursively(node)


def test_logical_operator_count_examples() -> None:
    # Parentheses do not count; each and/or counts its keywords, each not one.
    assert parse("a=1").logical_operator_count() == 0
    assert parse("(((a=1)))").logical_operator_count() == 0
    assert parse("a=1 and b=1 and c=1").logical_operator_count() == 2
    assert parse("(a=1 and b=1) and c=1").logical_operator_count() == 2
    assert parse("not not a=1").logical_operator_count() == 2
    assert parse("(a=1 or b=1) and not (c='and or not' or d=1)").logical_operator_count() == 4
    assert parse("a='and' or b='or'").logical_operator_count() == 1


# --------------------------------------------------------------------------------------------------
# Visitor and Transformer
# --------------------------------------------------------------------------------------------------
class Names(Visitor[list[str]]):
    def visit_Comparison(self, node: Comparison) -> list[str]:
        return [node.target.text()]

    def visit_And(self, node: And) -> list[str]:
        return [n for op in node.operands for n in self.visit(op)]

    visit_Or = visit_And  # type: ignore[assignment]

    def visit_Not(self, node: Not) -> list[str]:
        return self.visit(node.operand)


def test_visitor() -> None:
    assert Names().visit(parse("a=1 or not (b=1 and cp_x=1)")) == ["a", "b", "cp_x"]

    class Partial(Visitor[int]):
        def visit_Comparison(self, node: Comparison) -> int:
            return 1

    with pytest.raises(NotImplementedError):
        Partial().visit(parse("a=1 and b=1"))


def test_transformer_identity_keeps_objects() -> None:
    tree = parse("a=1 or not (b=1 and c=1)")
    assert Transformer().visit(tree) is tree


def test_transformer_rebuilds_and_flattens() -> None:
    class Expand(Transformer):
        """a=1 becomes (a=1 or a=2); b=... becomes (b=... and x=0)."""

        def visit_Comparison(self, node: Comparison) -> Expr:
            if node.target == FieldRef(("a",)):
                return node | node.replace(value=2)
            if node.target == FieldRef(("b",)):
                return node & c("x", 0)
            return node

    out = Expand().visit(parse("a=1 or a=3 or (b=1 and d=1) or not b=2"))
    assert out == parse("a=1 or a=2 or a=3 or a=2 or b=1 and x=0 and d=1 or not (b=2 and x=0)")

    class DropNots(Transformer):
        def visit_Not(self, node: Not) -> Expr:
            return self.visit(node.operand)

    assert DropNots().visit(parse("not (a=1 or not (b=1 or d=1))")) == parse("a=1 or b=1 or d=1")


@SETTINGS
@given(exprs)
def test_spans_after_printing(node: Expr) -> None:
    text = to_text(node)
    parsed = parse(text, max_length=None)
    assert parsed == node and hash(parsed) == hash(node)
    for x in parsed.walk():
        assert x.span is not None  # type: ignore[attr-defined]
        assert 0 <= x.span.start < x.span.end <= len(text)  # type: ignore[attr-defined]
        piece = text[x.span.start:x.span.end]  # type: ignore[attr-defined]
        assert parse(piece, max_length=None) == x


# --------------------------------------------------------------------------------------------------
# printed spans; folds and transformers without recursion
# --------------------------------------------------------------------------------------------------
@SETTINGS
@given(exprs)
def test_printed_spans_are_the_parsers(node: Expr) -> None:
    """to_text_with_spans gives, node for node (walk order), the spans parse() finds in the same text."""
    from skillfilter.language.printer import respan, to_text_with_spans

    text, spans = to_text_with_spans(node)
    assert text == to_text(node)
    parsed = parse(text, max_length=None)
    nodes = list(parsed.walk())
    assert len(spans) == len(nodes)
    for x, (span, parts) in zip(nodes, spans, strict=True):
        assert x.span == span  # type: ignore[attr-defined]
        if isinstance(x, Comparison):
            assert parts == (x.target_span, x.value_span)
        elif isinstance(x, (And, Or)):
            assert parts == x.keyword_spans
        else:
            assert isinstance(x, Not)
            (keyword,) = parts
            assert text[keyword.start:keyword.end] == "not"
            assert text[span.start:keyword.start].strip(" ") in ("", "(")
    same, tree = respan(node)
    assert same == text and tree == node
    assert [x.span for x in tree.walk()] == [x.span for x in nodes]  # type: ignore[attr-defined]


def test_printed_spans_of_a_tree_built_in_python() -> None:
    from skillfilter.language.printer import to_text_with_spans

    tree = Or.of(c("a"), And.of(Not(c("b")), Or.of(c("d"), c("e"))))
    text, spans = to_text_with_spans(tree)
    assert text == "a=1 or not b=1 and (d=1 or e=1)"
    pieces = [text[s.start:s.end] for s, _ in spans]
    assert pieces == [text, "a=1", "not b=1 and (d=1 or e=1)", "not b=1", "b=1", "(d=1 or e=1)", "d=1", "e=1"]
    assert [text[p.start:p.end] for p in spans[1][1]] == ["a", "1"]
    assert [text[p.start:p.end] for p in spans[0][1]] == ["or"]


def _deep_trees() -> list[Expr]:
    return [
        parse("not " * 99 + "a=1"),
        parse("(" * 49 + "a=1" + " or b=1) and c=1" * 49),
        parse("(" * 99 + "a=1" + ")" * 99),
    ]


def _with_little_stack(fn):  # type: ignore[no-untyped-def]
    """Run ``fn`` with only 40 frames to spare: enough for no recursion over 100 levels."""
    import sys

    depth = 0
    frame = sys._getframe()
    while frame is not None:
        depth += 1
        frame = frame.f_back  # type: ignore[assignment]
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(depth + 40)
    try:
        return fn()
    finally:
        sys.setrecursionlimit(old)


class Leaves(Visitor[int]):
    def leave_Comparison(self, node: Comparison) -> int:
        return 1

    def leave_And(self, node: And, operands: list[int]) -> int:
        return sum(operands)

    leave_Or = leave_And  # type: ignore[assignment]

    def leave_Not(self, node: Not, operand: int) -> int:
        return operand


def test_fold_and_transformer_need_no_recursion() -> None:
    from skillfilter.language.printer import to_text_with_spans

    for tree in [*_deep_trees(), parse(" or ".join(f"a{i}=1" for i in range(3000)))]:
        count = _with_little_stack(lambda t=tree: Leaves().fold(t))  # type: ignore[misc]
        assert count == sum(1 for _ in tree.comparisons())

        class Two(Transformer):
            def visit_Comparison(self, node: Comparison) -> Expr:
                return node.replace(value=2)

        new = _with_little_stack(lambda t=tree: Two().visit(t))  # type: ignore[misc]
        text = to_text(tree)
        assert to_text(new) == text.replace("=1", "=2")
        assert _with_little_stack(lambda t=tree: Transformer().visit(t)) is tree  # type: ignore[misc]
        assert _with_little_stack(lambda t=tree: to_text(t)) == text  # type: ignore[misc]
        assert _with_little_stack(lambda t=tree: to_text_with_spans(t)[0]) == text  # type: ignore[misc]


def test_fold_without_a_method() -> None:
    class Partial(Visitor[int]):
        def leave_Comparison(self, node: Comparison) -> int:
            return 1

    assert Partial().fold(a) == 1
    with pytest.raises(NotImplementedError, match="leave_And"):
        Partial().fold(parse("a=1 and b=1"))


def _recursive_transform(t: Transformer, node: Expr) -> Expr:
    """Transformer's documented meaning, written recursively: overridden methods get the original node,
    the defaults rebuild from the transformed children, keeping nodes whose children are unchanged."""
    name = "visit_" + type(node).__name__
    if getattr(type(t), name) is not getattr(Transformer, name):
        return getattr(t, name)(node)  # type: ignore[no-any-return]
    if isinstance(node, Comparison):
        return node
    if isinstance(node, Not):
        inner = _recursive_transform(t, node.operand)
        return node if inner is node.operand else Not(inner, node.span)
    assert isinstance(node, (And, Or))
    new = [_recursive_transform(t, op) for op in node.operands]
    return node if all(x is y for x, y in zip(new, node.operands, strict=True)) else type(node).of(*new)


@SETTINGS
@given(exprs)
def test_transformer_matches_its_recursive_meaning(node: Expr) -> None:
    class Bump(Transformer):
        def visit_Comparison(self, node: Comparison) -> Expr:
            return node.replace(value=7) if node.op == "exact" else node

    class NoNots(Transformer):
        def visit_Not(self, node: Not) -> Expr:
            return self.visit(node.operand)

    for t in (Bump(), NoNots(), Transformer()):
        got = t.visit(node)
        want = _recursive_transform(t, node)
        assert got == want
        assert (got is node) == (want is node)
