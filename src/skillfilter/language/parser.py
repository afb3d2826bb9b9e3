"""Text to expression tree: :func:`parse`, through ``grammar.lark`` and lark's LALR(1) parser generator.

The pipeline, one module each: :mod:`~skillfilter.language.tables` (the grammar's LALR(1) tables and
scanner, computed by lark and cached), :mod:`~skillfilter.language.lalr` (the driver that runs them and
builds the nodes of :mod:`~skillfilter.language.ast`), :mod:`~skillfilter.language.lexer` (literal values,
the nesting scan), :mod:`~skillfilter.language.lookups` (field references), and
:mod:`~skillfilter.language.hints` (syntax errors in plain words, imported only when a parse fails).  When
the tables cannot be taken from lark (an unexpected lark version), lark's own LALR parser runs with the same
builders as its inline transformer (:func:`_parse_reference`, which the tests also use as a second
implementation to check the driver against).

Every failure becomes a :class:`~skillfilter.errors.FilterSyntaxError` with the position, what was
expected in plain words, and a hint for the usual mistakes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from typing import Any

from ..errors import FilterArgumentError, FilterSyntaxError, FilterTypeError, type_name
from ..semantics.operators import OPERATOR_NAMES
from ..semantics.values import MAX_DIGITS
from .ast import MAX_DEPTH, Expr
from .lalr import HANDLERS, Context, Stuck, drive
from .lexer import check_nesting, float_value, inexact_float_hint
from .lookups import parse_lookup
from .tables import CACHE_MAGIC as _CACHE_MAGIC  # noqa: F401 - the names tests/test_startup.py imports
from .tables import END, ERROR, cache_dir, get_tables, grammar_text
from .tables import read_cache as _read_cache  # noqa: F401

__all__ = [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_LENGTH",
    "cache_dir",
    "float_value",
    "grammar_text",
    "inexact_float_hint",
    "parse",
    "parse_lookup",
]

#: Longest filter text accepted by default (characters).  The API carries filters in URLs.
DEFAULT_MAX_LENGTH = 100_000
#: Deepest nesting accepted by default: parentheses, ``not`` chains and and/or levels.
DEFAULT_MAX_DEPTH = MAX_DEPTH
#: Integers with more digits are refused (the name other modules import).
_MAX_DIGITS = MAX_DIGITS


def parse(
    text: str,
    *,
    max_length: int | None = DEFAULT_MAX_LENGTH,
    max_depth: int = DEFAULT_MAX_DEPTH,
    operators: Collection[str] | None = None,
) -> Expr:
    """Parse a filter into an immutable :class:`~skillfilter.language.ast.Expr`.

    Raises :class:`FilterSyntaxError` for any text that is not a filter, including text longer than
    ``max_length`` characters (``None``: no limit) or nested deeper than ``max_depth`` (at most
    :data:`~skillfilter.language.ast.MAX_DEPTH`).  ``operators`` are the names that end a field reference
    as its operator (default: the built-in ones; a schema may add more, see ``Schema.operator_names``).
    """
    if not isinstance(text, str):
        raise FilterTypeError(f"parse() takes the filter text as a str, not {type_name(text)}")
    if isinstance(max_depth, bool) or not isinstance(max_depth, int):
        raise FilterTypeError(f"max_depth must be an int, not {type_name(max_depth)}")
    if max_depth > MAX_DEPTH or max_depth < 1:
        raise FilterArgumentError(f"max_depth must be between 1 and {MAX_DEPTH}, not {max_depth}")
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, int)):
        raise FilterTypeError(f"max_length must be an int or None, not {type_name(max_length)}")
    if operators is not None and not isinstance(operators, frozenset) and (
        isinstance(operators, str) or not all(isinstance(o, str) for o in operators)
    ):
        raise FilterTypeError("operators must be a collection of operator names (str)")
    if max_length is not None and len(text) > max_length:
        raise FilterSyntaxError(
            f"filter is {len(text)} characters long; the limit is {max_length}",
            text[: max_length + 1],
            max_length,
            hint="split the filter, or raise the limit with parse(..., max_length=N)",
        )
    if not text.strip(" \t\r\n"):
        raise FilterSyntaxError(
            "the filter is empty",
            text,
            len(text),
            expected=["a field name", "`not`", "`(`"],
            hint="write a comparison such as `external_id='1'`",
        )
    if text.count("(") + text.count("not") > max_depth:
        check_nesting(text, max_depth)
    if operators is not None and operators is OPERATOR_NAMES:
        operators = None
    tables = get_tables(HANDLERS)
    try:
        if tables is None:  # pragma: no cover - see tables.get_tables
            return _parse_reference(text, max_depth=max_depth, operators=operators)
        return drive(tables, Context(text, max_depth, operators))
    except Stuck as stuck:
        from .hints import translate

        raise translate(stuck, text) from None


# --------------------------------------------------------------------------------------------------
# the reference: lark's own lexer, parser and parse tree, with the same builders
# --------------------------------------------------------------------------------------------------
class _Tok:
    """A lark token seen through the ``re.Match`` interface the builders use."""

    __slots__ = ("_end", "_start", "_text", "lastgroup")

    def __init__(self, tok: Any) -> None:
        self.lastgroup: str = tok.type
        self._text = str(tok)
        self._start: int = tok.start_pos
        self._end: int = tok.end_pos

    def group(self) -> str:
        return self._text

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end


def _parse_reference(text: str, *, max_depth: int = DEFAULT_MAX_DEPTH,
                     operators: Collection[str] | None = None) -> Expr:
    """The same parse through lark's own lexer, LALR parser and parse tree (tests and fallback).

    Raises ``Stuck`` (not yet translated) where the text is not a filter.
    """
    from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

    lk, local = _reference_parser()
    local.ctx = Context(text, max_depth, operators)
    try:
        tree = lk.parse(text)
    except UnexpectedInput as exc:
        position: int
        end: int
        expected: set[str]
        if isinstance(exc, UnexpectedToken) and exc.token.type == END:
            position = end = exc.token.end_pos if exc.token.end_pos is not None else len(text)
            kind, found, expected = END, "", set(exc.expected)
        elif isinstance(exc, UnexpectedToken):
            position, end = int(exc.token.start_pos or 0), int(exc.token.end_pos or 0)
            kind, found, expected = exc.token.type, str(exc.token), set(exc.expected)
        else:
            assert isinstance(exc, UnexpectedCharacters)
            position = int(exc.pos_in_stream or 0)
            end = position + 1
            # lark's basic lexer names every terminal as allowed: ask the parser what it expects there.
            kind, found, expected = ERROR, text[position], _expected_at(lk, text, position)
        previous = None
        try:
            for tok in lk.lex(text):
                if tok.end_pos > position:
                    break
                previous = (tok.start_pos, tok.end_pos, tok.type, str(tok))
        except UnexpectedInput:
            pass
        raise Stuck((position, end), kind, found, expected, previous) from None
    result: Expr = tree
    return result


def _expected_at(lk: Any, text: str, position: int) -> set[str]:
    """The terminals lark's parser accepts after ``text[:position]`` (where its lexer stopped)."""
    from lark.exceptions import UnexpectedInput

    interactive = lk.parse_interactive(text[:position])
    try:
        for _token in interactive.iter_parse():
            pass
    except UnexpectedInput:  # pragma: no cover - the prefix parsed once already
        return set()
    terminals = {t.name for t in lk.terminals} | {END}
    return {name for name in interactive.choices() if name in terminals}


class _Reference:
    lock = threading.Lock()
    parser: tuple[Any, threading.local] | None = None


def _reference_parser() -> tuple[Any, threading.local]:
    """lark's own parser with the builders as its inline transformer, and the per-thread context."""
    if _Reference.parser is None:
        with _Reference.lock:
            if _Reference.parser is None:
                from lark import Token, Transformer

                from .tables_lark import lark

                local = threading.local()

                def method(handler: Callable[[Context, list[Any]], Any]) -> Callable[[Any, list[Any]], Any]:
                    def call(self: Any, children: list[Any]) -> Any:
                        return handler(local.ctx, [_Tok(c) if isinstance(c, Token) else c for c in children])

                    return call

                builders = type("_Builders", (Transformer,), {n: method(h) for n, h in HANDLERS.items()})
                _Reference.parser = (lark(transformer=builders()), local)
    result: tuple[Any, threading.local] = _Reference.parser
    return result
