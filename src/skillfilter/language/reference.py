"""The reference parser: lark's own lexer, LALR parser and parse tree, with the builders of
:mod:`skillfilter.language.lalr` as its inline transformer.

:func:`skillfilter.language.parser.parse` runs it only when the tables cannot be taken from lark (an
unexpected lark version); the tests run it as a second implementation to check the driver against.  It
lives apart so that a parse never compiles it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from typing import Any

from .ast import MAX_DEPTH, Expr
from .lalr import HANDLERS, Context, Stuck
from .tables import END, ERROR

__all__ = ["parse_reference", "reference_parser"]


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


def parse_reference(text: str, *, max_depth: int = MAX_DEPTH,
                    operators: Collection[str] | None = None) -> Expr:
    """The same parse through lark's own lexer, LALR parser and parse tree (tests and fallback).

    Raises ``Stuck`` (not yet translated) where the text is not a filter.
    """
    from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

    lk, local = reference_parser()
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


def reference_parser() -> tuple[Any, threading.local]:
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
