"""Precedence and grouping: a fixed battery of exact trees, and the grammar against ``Precedence``."""

from __future__ import annotations

import itertools
import re

import pytest

from skillfilter import And, Comparison, Expr, FieldRef, Not, Or, parse, to_text
from skillfilter.language.parser import grammar_text
from skillfilter.semantics.operators import LOGICAL_KEYWORDS, Precedence


def c(name: str) -> Comparison:
    return Comparison(FieldRef((name,)), "exact", 1)


a, b, d, e = c("a"), c("b"), c("d"), c("e")
cc = c("c")

BATTERY: list[tuple[str, Expr]] = [
    ("a=1", a),
    ("a=1 or b=1 and c=1", Or((a, And((b, cc))))),
    ("a=1 and b=1 or c=1", Or((And((a, b)), cc))),
    ("a=1 and b=1 or c=1 and d=1", Or((And((a, b)), And((cc, d))))),
    ("a=1 or b=1 or c=1", Or((a, b, cc))),
    ("a=1 and b=1 and c=1", And((a, b, cc))),
    ("not a=1 and b=1", And((Not(a), b))),
    ("not a=1 or b=1", Or((Not(a), b))),
    ("a=1 and not b=1", And((a, Not(b)))),
    ("not not a=1", Not(Not(a))),
    ("not not not a=1", Not(Not(Not(a)))),
    ("not (not a=1)", Not(Not(a))),
    ("not (a=1 and b=1)", Not(And((a, b)))),
    ("not (a=1 or b=1) and c=1", And((Not(Or((a, b))), cc))),
    ("not (not (a=1 or not b=1))", Not(Not(Or((a, Not(b)))))),
    ("(a=1 or b=1) and c=1", And((Or((a, b)), cc))),
    ("a=1 and (b=1 or c=1)", And((a, Or((b, cc))))),
    ("(a=1)", a),
    ("((a=1))", a),
    ("(a=1 and b=1)", And((a, b))),
    # Right-nested groups of the same operator flatten; of the other operator they stay.
    ("a=1 and (b=1 and (c=1 or d=1))", And((a, b, Or((cc, d))))),
    ("a=1 and (b=1 and (c=1 and d=1))", And((a, b, cc, d))),
    ("a=1 or (b=1 or (c=1 or d=1))", Or((a, b, cc, d))),
    ("((a=1 or b=1) or c=1) or d=1", Or((a, b, cc, d))),
    ("(a=1 and b=1) and (c=1 and d=1)", And((a, b, cc, d))),
    ("a=1 or (b=1 and (c=1 or (d=1 and e=1)))", Or((a, And((b, Or((cc, And((d, e))))))))),
    ("(a=1 or b=1) and (c=1 or d=1)", And((Or((a, b)), Or((cc, d))))),
    ("not (a=1) and (b=1)", And((Not(a), b))),
    ("a=1 or not b=1 and c=1", Or((a, And((Not(b), cc))))),
    ("not a=1 and not b=1 or not c=1", Or((And((Not(a), Not(b))), Not(cc)))),
    ("(not a=1)", Not(a)),
    ("(not (a=1 or b=1))", Not(Or((a, b)))),
    # A group holding a `not` inside an `and` keeps the `not` as an operand, not flattened.
    ("a=1 and (not b=1 and c=1)", And((a, Not(b), cc))),
]


@pytest.mark.parametrize(("text", "tree"), BATTERY, ids=[t for t, _ in BATTERY])
def test_battery(text: str, tree: Expr) -> None:
    parsed = parse(text)
    assert parsed == tree
    assert repr(parsed) == repr(tree)  # the same shape, not merely equal
    # The canonical text keeps exactly the parentheses precedence needs, and reads back the same.
    assert parse(to_text(parsed)) == tree


def test_canonical_parentheses() -> None:
    assert to_text(Or((a, And((b, cc))))) == "a=1 or b=1 and c=1"
    assert to_text(And((Or((a, b)), cc))) == "(a=1 or b=1) and c=1"
    assert to_text(Not(And((a, b)))) == "not (a=1 and b=1)"
    assert to_text(Not(Not(a))) == "not not a=1"
    assert to_text(And((Not(Or((a, b))), cc))) == "not (a=1 or b=1) and c=1"


def test_flattening_records_keyword_spans_in_order() -> None:
    text = "(a=1 or b=1) or (c=1 or d=1)"
    node = parse(text)
    assert isinstance(node, Or)
    assert node.keyword_spans is not None
    assert [text[s.start:s.end] for s in node.keyword_spans] == ["or", "or", "or"]
    assert [s.start for s in node.keyword_spans] == [m.start() for m in re.finditer(r"\bor\b", text)]


def _grammar_levels() -> dict[str, int]:
    """How deep each logical keyword's rule sits in grammar.lark: start -> or_expr -> and_expr -> ..."""
    from lark import Lark

    lk = Lark(grammar_text(), parser="lalr", lexer="basic")
    keyword_of = {t.name: t.pattern.value for t in lk.terminals if t.pattern.value in LOGICAL_KEYWORDS}
    # The rule in which each keyword appears (star helper rules belong to the rule they were made for).
    owner: dict[str, str] = {}
    for rule in lk.rules:
        for sym in rule.expansion:
            if sym.is_term and sym.name in keyword_of:
                origin = rule.origin.name
                for base in ("or_expr", "and_expr", "not_expr"):
                    if base in origin:
                        origin = base
                owner[keyword_of[sym.name]] = origin
    # Depth of each rule from `start`, by breadth-first search over non-recursive references.
    children: dict[str, set[str]] = {}
    for rule in lk.rules:
        origin = rule.origin.name
        for sym in rule.expansion:
            if not sym.is_term:
                children.setdefault(origin, set()).add(sym.name)
    depth = {"start": 0}
    frontier = ["start"]
    while frontier:
        nxt = []
        for name in frontier:
            for child in sorted(children.get(name, ())):
                if child not in depth:
                    depth[child] = depth[name] + 1
                    nxt.append(child)
        frontier = nxt
    return {kw: depth[rule] for kw, rule in owner.items()}


def test_grammar_nesting_agrees_with_precedence_table() -> None:
    levels = _grammar_levels()
    assert set(levels) == set(LOGICAL_KEYWORDS)
    # Deeper in the grammar = binds tighter = higher in the table.
    by_grammar = sorted(levels, key=levels.__getitem__)
    by_table = sorted(LOGICAL_KEYWORDS, key=LOGICAL_KEYWORDS.__getitem__)
    assert by_grammar == by_table == ["or", "and", "not"]
    assert [node.precedence for node in (Or((a, b)), And((a, b)), Not(a), a)] == [
        Precedence.OR, Precedence.AND, Precedence.NOT, Precedence.ATOM
    ]


@pytest.mark.parametrize(("first", "second"), list(itertools.product(["and", "or"], repeat=2)))
def test_parser_groups_by_the_table(first: str, second: str) -> None:
    """`x op1 y op2 z` groups around the operator with the higher precedence (left on a tie)."""
    node = parse(f"a=1 {first} b=1 {second} c=1")
    kinds = {"and": And, "or": Or}
    p1, p2 = LOGICAL_KEYWORDS[first], LOGICAL_KEYWORDS[second]
    if first == second:
        assert node == kinds[first]((a, b, cc))
    elif p1 > p2:
        assert node == kinds[second]((kinds[first]((a, b)), cc))
    else:
        assert node == kinds[first]((a, kinds[second]((b, cc))))
    # `not` binds tighter than either.
    assert parse(f"not a=1 {first} b=1") == kinds[first]((Not(a), b))
