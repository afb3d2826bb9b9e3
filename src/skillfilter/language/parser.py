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

from collections.abc import Collection
from typing import Any

from ..errors import FilterArgumentError, FilterSyntaxError, FilterTypeError, type_name
from ..semantics.operators import OPERATOR_NAMES
from ..semantics.values import MAX_DIGITS
from .ast import MAX_DEPTH, Expr
from .lalr import HANDLERS, Context, Stuck, drive
from .lexer import check_nesting, float_value, inexact_float_hint
from .lookups import parse_lookup
from .tables import CACHE_MAGIC as _CACHE_MAGIC  # noqa: F401 - the names tests/test_startup.py imports
from .tables import cache_dir, get_tables, grammar_text
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
# the reference: lark's own lexer, parser and parse tree, with the same builders (in .reference, loaded
# only by the tests and the fallback)
# --------------------------------------------------------------------------------------------------
def _parse_reference(text: str, *, max_depth: int = DEFAULT_MAX_DEPTH,
                     operators: Collection[str] | None = None) -> Expr:
    """The same parse through lark's own lexer, LALR parser and parse tree (tests and fallback).

    Raises ``Stuck`` (not yet translated) where the text is not a filter.
    """
    from .reference import parse_reference

    return parse_reference(text, max_depth=max_depth, operators=operators)


def _reference_parser() -> tuple[Any, Any]:
    """lark's own parser with the builders as its inline transformer, and the per-thread context."""
    from .reference import reference_parser

    return reference_parser()
