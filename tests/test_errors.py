"""Syntax errors a user understands: message, caret, expected words, hint, and the exact position.

One case per hint of issue 2 item 5 (``AND``/``OR``/``NOT``, ``&&``, ``||``, ``!``, ``==``, ``!=``,
``True``/``False``/``None``, an unclosed quote or parenthesis, a missing value, an empty filter, a field
ending in ``__``, an unknown escape), then the other errors, multi-line positions, and the exception's
own behaviour (pickling, subclasses, rendering).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass

import pytest

from skillfilter import FilterError, FilterSyntaxError, parse
from skillfilter.errors import line_column, render_caret

VALUE = "a value: a quoted string, a number, true, false or null"
AFTER_COMPARISON = ("`and`", "`or`", "the end of the filter")
START = ("a field name", "`not`", "`(`")


@dataclass
class Case:
    text: str
    reason: str
    hint: str | None
    position: int
    line: int
    column: int
    expected: tuple[str, ...] | None = None  # None: not checked
    end: int | None = None


CASES: dict[str, Case] = {
    # -- the usual mistakes of issue 2 item 5 --------------------------------------------------------
    "AND": Case("a=1 AND b=2", "unexpected `AND`", "keywords are lowercase: write `and` instead of `AND`",
                4, 1, 5, AFTER_COMPARISON, 7),
    "OR": Case("a=1 OR b=2", "unexpected `OR`", "keywords are lowercase: write `or` instead of `OR`",
               4, 1, 5, AFTER_COMPARISON, 6),
    "Or": Case("a=1 Or b=2", "unexpected `Or`", "keywords are lowercase: write `or` instead of `Or`", 4, 1, 5),
    # `NOT` reads as a field name, so the parser stumbles on the next token; the error points at `NOT`.
    "NOT": Case("NOT a=1", "unexpected `NOT`", "keywords are lowercase: write `not` instead of `NOT`",
                0, 1, 1, START, 3),
    "NOT (": Case("a=1 and NOT (b=1)", "unexpected `NOT`", "keywords are lowercase: write `not` instead of `NOT`",
                  8, 1, 9, START, 11),
    "&&": Case("a=1 && b=2", "unexpected `&&`", "write `and` instead of `&&`", 4, 1, 5, AFTER_COMPARISON, 6),
    "&": Case("a=1 & b=2", "unexpected `&`", "write `and` instead of `&`", 4, 1, 5, AFTER_COMPARISON, 5),
    "||": Case("a=1 || b=2", "unexpected `||`", "write `or` instead of `||`", 4, 1, 5, AFTER_COMPARISON, 6),
    "!": Case("!a=1", "unexpected `!`", "write `not` instead of `!`", 0, 1, 1, START, 1),
    "not !": Case("not !a=1", "unexpected `!`", "write `not` instead of `!`", 4, 1, 5, START),
    "==": Case("a==1", "unexpected `=`", "compare with a single `=`, not `==`", 2, 1, 3, (VALUE,), 3),
    "== spaced": Case("a == 'x'", "unexpected `=`", "compare with a single `=`, not `==`", 3, 1, 4, (VALUE,)),
    "!=": Case("a!=1", "unexpected `!=`", "there is no `!=`: write `not field=value`", 1, 1, 2, ("`=`",), 3),
    "True": Case("a=True", "unexpected `True`", "write `true` instead of `True`", 2, 1, 3, (VALUE,), 6),
    "False": Case("a=False", "unexpected `False`", "write `false` instead of `False`", 2, 1, 3, (VALUE,), 7),
    "None": Case("a=None", "unexpected `None`", "write `null` instead of `None`", 2, 1, 3, (VALUE,), 6),
    "NULL": Case("a=NULL", "unexpected `NULL`", "write `null` instead of `NULL`", 2, 1, 3, (VALUE,)),
    "unclosed '": Case("a='abc", "unclosed string", "close the string with '; write \\' for a ' inside it",
                       2, 1, 3, (VALUE,), 6),
    'unclosed "': Case('a="abc', "unclosed string", 'close the string with "; write \\" for a " inside it',
                       2, 1, 3, (VALUE,), 6),
    "unclosed, escaped quote": Case("a='it\\'s", "unclosed string",
                                    "close the string with '; write \\' for a ' inside it", 2, 1, 3),
    "unclosed, backslash at end": Case("a='x\\", "unclosed string",
                                       "close the string with '; write \\' for a ' inside it", 2, 1, 3),
    "unclosed (": Case("(a=1", "this `(` is never closed", "add a `)` to close it", 0, 1, 1, ("`)`",)),
    "unclosed inner (": Case("a=1 and ((b=2) or c=3", "this `(` is never closed", "add a `)` to close it",
                             8, 1, 9, ("`)`",)),
    "missing value at end": Case("a=", "missing value after `=`",
                                 "a comparison needs a value after `=`, such as `name='x'`, `level__gte=3` or "
                                 "`active=true`", 2, 1, 3, (VALUE,)),
    "missing value before and": Case("a= and b=1", "missing value after `=`",
                                     "a comparison needs a value after `=`, such as `name='x'`, `level__gte=3` "
                                     "or `active=true`", 2, 1, 3, (VALUE,)),
    "missing value before )": Case("(a=)", "missing value after `=`",
                                   "a comparison needs a value after `=`, such as `name='x'`, `level__gte=3` or "
                                   "`active=true`", 3, 1, 4, (VALUE,)),
    "empty": Case("", "the filter is empty", "write a comparison such as `external_id='1'`", 0, 1, 1, START),
    "blank": Case(" \n\t", "the filter is empty", "write a comparison such as `external_id='1'`", 3, 2, 2, START),
    "field ending in __": Case("a__=1", "field name ends in `__`",
                               "`__` separates a relation from its field or a field from its operator: add an "
                               "operator (`a__icontains=...`) or remove the trailing `__`", 1, 1, 2, (), 3),
    "path ending in __": Case("x=1 or job__name__='y'", "field name ends in `__`",
                              "`__` separates a relation from its field or a field from its operator: add an "
                              "operator (`job__name__icontains=...`) or remove the trailing `__`", 16, 1, 17),
    "unknown escape": Case("a='\\d'", "unknown escape `\\d` in string",
                           "only `\\\\`, `\\'` and `\\\"` are escapes; write `\\\\` for a backslash", 3, 1, 4, (), 5),
    "unknown escape \\n": Case('a="x\\n"', "unknown escape `\\n` in string",
                              "only `\\\\`, `\\'` and `\\\"` are escapes; write `\\\\` for a backslash", 4, 1, 5),
    # -- other errors --------------------------------------------------------------------------------
    "stray )": Case("a=1)", "unexpected `)`", "this `)` has no `(` to close", 3, 1, 4, ("the end of the filter",)),
    "empty ()": Case("()", "unexpected `)`", "empty parentheses: put a comparison between them", 1, 1, 2, START),
    "two comparisons": Case("a=1 b=2", "unexpected `b`", "join comparisons with `and` or `or`", 4, 1, 5,
                            AFTER_COMPARISON),
    "keyword run-on": Case("a=1 order=2", "unexpected `order`", "join comparisons with `and` or `or`", 4, 1, 5),
    "quoted field": Case("'a'=1", "unexpected `'a'`", "field names are not quoted: write `name='value'`", 0, 1, 1),
    "unquoted text": Case("a=x", "unexpected `x`", "text values are quoted: write `'x'`", 2, 1, 3, (VALUE,)),
    "<": Case("a<3", "unexpected `<`", "there is no `<`: write `field__lt=value`", 1, 1, 2, ("`=`",)),
    ">=": Case("a>=3", "unexpected `>=`", "there is no `>=`: write `field__gte=value`", 1, 1, 2, ("`=`",), 3),
    "no field": Case("=1", "unexpected `=`", "a comparison starts with a field name, as in `external_id='1'`",
                     0, 1, 1, START),
    "ends after and": Case("a=1 and", "the filter ends too early", "the filter ends after a keyword: add a comparison",
                           7, 1, 8, START),
    "ends after field": Case("a", "the filter ends too early", "a comparison is `field=value`, such as "
                             "`external_id='1'`", 1, 1, 2, ("`=`",)),
    "and and": Case("a=1 and and b=1", "unexpected `and`", "`and` must stand between two comparisons", 8, 1, 9),
    "keyword as field": Case("true=1", "unexpected `true`", "`true` is a value, not a field", 0, 1, 1, START),
    "starts with __": Case("__a=1", "field name starts with `__`",
                           "names in a field reference are separated by exactly one `__`", 0, 1, 1),
    "empty segment": Case("a____b=1", "empty name in field reference",
                          "names in a field reference are separated by exactly one `__`", 3, 1, 4),
    "digit segment": Case("a__1=2", "`1` is not a valid name: a name starts with a letter or `_`", None, 3, 1, 4),
    "cp relation": Case("cp_x__y=1", "`y` is not an operator; only an operator may follow a custom property",
                        "custom properties have no relations: write `cp_name__operator=value`", 6, 1, 7),
    "cp typo": Case("cp_x__containz=1",
                    "`containz` is not an operator; only an operator may follow a custom property",
                    "did you mean an operator `contains`?", 6, 1, 7),
    "is_null number": Case("a__is_null=1", "`is_null` takes `true` or `false`",
                           "write `a__is_null=true` or `a__is_null=false`", 11, 1, 12, ("true", "false")),
    "is_null null": Case("a__is_null=null", "`is_null` takes `true` or `false`",
                         "write `a__is_null=true` or `a__is_null=false`", 11, 1, 12),
    "null with gt": Case("a__gt=null", "`null` cannot be used with `gt`, only with `exact`",
                         "to test for a missing value write `a__is_null=true`", 6, 1, 7, (), 10),
    "float overflow": Case("a=1e999", "number out of range", "numbers must fit a 64-bit floating point value",
                           2, 1, 3),
    "too many digits": Case("a=" + "1" * 4001, "number has too many digits",
                            "an integer has at most 4000 digits", 2, 1, 3),
    # -- multi-line filters: line and column ---------------------------------------------------------
    "multi-line AND": Case("a=1 and\n\tb=2 AND c=3", "unexpected `AND`",
                           "keywords are lowercase: write `and` instead of `AND`", 13, 2, 6),
    "multi-line unclosed string": Case("a=1\nand b='x", "unclosed string",
                                       "close the string with '; write \\' for a ' inside it", 10, 2, 7),
    "multi-line missing value": Case("a=1 and\n  b=\n", "missing value after `=`",
                                     "a comparison needs a value after `=`, such as `name='x'`, `level__gte=3` "
                                     "or `active=true`", 12, 2, 5),
    "multi-line unclosed (": Case("a=1 and\n(\n b=2\n or c=3", "this `(` is never closed",
                                  "add a `)` to close it", 8, 2, 1),
    "multi-line string then error": Case("a='one\ntwo' and\nb==1", "unexpected `=`",
                                         "compare with a single `=`, not `==`", 18, 3, 3),
    "CRLF": Case("a=1\r\nAND b=2", "unexpected `AND`", "keywords are lowercase: write `and` instead of `AND`",
                 5, 2, 1),
}


@pytest.mark.parametrize("name", list(CASES))
def test_error(name: str) -> None:
    case = CASES[name]
    with pytest.raises(FilterSyntaxError) as info:
        parse(case.text)
    exc = info.value
    assert exc.reason == case.reason
    assert exc.hint == case.hint
    assert (exc.position, exc.line, exc.column) == (case.position, case.line, case.column)
    if case.expected is not None:
        assert exc.expected == case.expected
    if case.end is not None:
        assert exc.end == case.end
    # line/column agree with the position.
    assert (exc.line, exc.column) == line_column(case.text, case.position)
    # The rendered message: reason with line and column, the source line, a caret under the spot, the
    # expected words, the hint.
    message = str(exc)
    lines = message.split("\n")
    assert lines[0] == f"{case.reason} (line {case.line}, column {case.column})"
    if case.text.strip():
        source_line = case.text.split("\n")[case.line - 1]
        shown, caret = lines[1], lines[2]
        if len(source_line) <= 100:
            assert shown == source_line
            assert caret.index("^") == case.column - 1
        assert set(caret.strip()) == {"^"}
    if exc.expected:
        assert "expected " + exc.expected[0] in message
    if case.hint:
        assert lines[-1] == "hint: " + case.hint
    assert isinstance(exc, FilterError)
    assert isinstance(exc, ValueError)


def test_expected_words_are_plain() -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse("a=")
    assert "expected a value: a quoted string, a number, true, false or null" in str(info.value)


def test_caret_lines_up_under_tabs() -> None:
    assert render_caret("\ta=1 AND b", 5, 8) == "\ta=1 AND b\n\t    ^^^"


def test_caret_window_on_long_lines() -> None:
    text = "a='" + "x" * 500 + "' AND b=1"
    with pytest.raises(FilterSyntaxError) as info:
        parse(text)
    exc = info.value
    assert exc.position == text.index("AND")
    shown, caret = str(exc).split("\n")[1:3]
    assert len(shown) <= 102
    assert shown[caret.index("^"):].startswith("AND")


def test_position_of_a_too_long_filter() -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse("a='" + "x" * 200 + "'", max_length=100)
    assert info.value.position == 100
    assert "limit is 100" in info.value.reason


def test_pickle_keeps_everything() -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse("a=1 AND b=2")
    exc = info.value
    again = pickle.loads(pickle.dumps(exc))
    assert type(again) is FilterSyntaxError
    assert (again.reason, again.text, again.position, again.end, again.expected, again.hint) == (
        exc.reason, exc.text, exc.position, exc.end, exc.expected, exc.hint
    )
    assert str(again) == str(exc)


def test_errors_point_at_the_first_problem() -> None:
    # A bad lookup early wins over a syntax error later (comparisons are checked as they are reduced).
    with pytest.raises(FilterSyntaxError) as info:
        parse("a__=1 and b==2")
    assert info.value.position == 1
    with pytest.raises(FilterSyntaxError) as info:
        parse("a=1 and b==2 and c__=1")
    assert info.value.position == 10


@pytest.mark.parametrize("bad", ["\x1b]0;pwned\x07", "\x1b[2J", "\u202e", "\x85", "\x00", "\ud800"])
def test_terminal_controls_in_input_are_shown_escaped(bad: str) -> None:
    # A filter pasted from anywhere must not act on the terminal that shows its error.
    text = f"external_id='x' {bad} and active=true"
    with pytest.raises(FilterSyntaxError) as info:
        parse(text)
    message = str(info.value)
    assert bad not in message
    escaped = bad.encode("unicode_escape", "backslashreplace").decode("ascii")
    assert escaped in message
    source, carets = message.split("\n")[1:3]
    # The carets stand under the escape shown in place of the character.
    assert source.index(escaped[:2]) == carets.index("^")
