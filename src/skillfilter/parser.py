"""Text to expression tree, through ``grammar.lark`` and lark's LALR parser.

The tree is built while parsing (the transformer is handed to lark), so no lark parse tree is ever made.
Every lark exception is translated into :class:`~skillfilter.errors.FilterSyntaxError`, with the position,
what was expected in plain words, and a hint for the usual mistakes.
"""

from __future__ import annotations

import contextvars
import re
import threading
from collections.abc import Collection, Iterable
from importlib import resources
from pathlib import Path
from typing import Any

import lark
from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from .ast import HARD_MAX_DEPTH, And, Comparison, CustomProperty, Expr, FieldRef, Literal, Not, Or, Span
from .errors import FilterError, FilterSyntaxError
from .operators import KEYWORDS, OPERATOR_NAMES

__all__ = ["DEFAULT_MAX_DEPTH", "DEFAULT_MAX_LENGTH", "grammar_text", "parse", "parse_lookup"]

#: Longest filter text accepted by default (characters).  The API carries filters in URLs.
DEFAULT_MAX_LENGTH = 100_000
#: Deepest nesting accepted by default: parentheses, ``not`` chains and and/or levels.
DEFAULT_MAX_DEPTH = 100

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPE_RE = re.compile(r"\\(.)", re.S)
_SCAN_RE = re.compile(r"""'(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|[()]|[A-Za-z_][A-Za-z0-9_]*""", re.S)

VALUE_WORDS = "a value: a quoted string, a number, true, false or null"
_TERMINAL_WORDS = {
    "FIELD": "a field name",
    "STRING": VALUE_WORDS,
    "NUMBER": VALUE_WORDS,
    "TRUE": VALUE_WORDS,
    "FALSE": VALUE_WORDS,
    "NULL": VALUE_WORDS,
    "EQUAL": "`=`",
    "AND": "`and`",
    "OR": "`or`",
    "NOT": "`not`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "$END": "the end of the filter",
}
_ORDER = ["FIELD", "NOT", "LPAR", "STRING", "EQUAL", "AND", "OR", "RPAR", "$END"]
_TOKEN_DESCRIPTION = {
    "AND": "`and`",
    "OR": "`or`",
    "NOT": "`not`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "EQUAL": "`=`",
    "$END": "the end of the filter",
}

_max_depth: contextvars.ContextVar[int] = contextvars.ContextVar("skillfilter_max_depth", default=DEFAULT_MAX_DEPTH)


# --------------------------------------------------------------------------------------------------
# grammar loading
# --------------------------------------------------------------------------------------------------
def grammar_text() -> str:
    """The text of ``grammar.lark``: from the installed package, else from the source checkout."""
    try:
        return resources.files("skillfilter").joinpath("grammar.lark").read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        pass
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "grammar.lark"
        if candidate.is_file():
            return candidate.read_text(encoding="utf-8")
    raise FilterError("grammar.lark is missing from the installation")  # pragma: no cover


_lock = threading.Lock()
_parser: Lark | None = None


def _get_parser() -> Lark:
    global _parser
    if _parser is None:
        with _lock:
            if _parser is None:
                _parser = Lark(
                    grammar_text(),
                    parser="lalr",
                    lexer="contextual",
                    transformer=_Builder(),
                    propagate_positions=False,
                    maybe_placeholders=False,
                )
    return _parser


# --------------------------------------------------------------------------------------------------
# field references
# --------------------------------------------------------------------------------------------------
def parse_lookup(
    text: str,
    *,
    operators: Collection[str] = OPERATOR_NAMES,
    source: str | None = None,
    offset: int = 0,
) -> tuple[FieldRef | CustomProperty, str]:
    """Split a lookup (``job__job_family__external_id__startswith``) the way Django does.

    Returns the target and the operator; raises :class:`FilterSyntaxError` with positions relative to
    ``source`` (the whole filter) when given, else to ``text``.
    """
    src = text if source is None else source
    parts = text.split("__")
    pos = offset
    for i, part in enumerate(parts):
        if not part:
            if i == len(parts) - 1 and i > 0:
                raise FilterSyntaxError(
                    "field name ends in `__`",
                    src,
                    offset + len(text) - 2,
                    end=offset + len(text),
                    hint="`__` separates a relation from its field or a field from its operator: "
                    f"add an operator (`{text}icontains=...`) or remove the trailing `__`",
                )
            raise FilterSyntaxError(
                "empty name in field reference" if i else "field name starts with `__`",
                src,
                pos,
                end=pos + 2,
                hint="names in a field reference are separated by exactly one `__`",
            )
        if not _NAME_RE.match(part):
            raise FilterSyntaxError(
                f"`{part}` is not a valid name: a name starts with a letter or `_`",
                src,
                pos,
                end=pos + len(part),
            )
        pos += len(part) + 2
    op = "exact"
    if len(parts) >= 2 and parts[-1] in operators:
        op = parts.pop()
    first = parts[0]
    if first.startswith("cp_") and len(first) > 3:
        if len(parts) > 1:
            bad_pos = offset + len(first) + 2
            raise FilterSyntaxError(
                f"`{parts[1]}` is not an operator; only an operator may follow a custom property",
                src,
                bad_pos,
                end=offset + len(text),
                expected=sorted(operators),
                hint=_did_you_mean(parts[1], operators, "an operator")
                or "custom properties have no relations: write `cp_name__operator=value`",
            )
        return CustomProperty(first[3:]), op
    if len(parts) == 1 and parts[0] in KEYWORDS:  # pragma: no cover - the lexer never yields these
        raise FilterSyntaxError(f"`{parts[0]}` is a keyword, not a field", src, offset)
    return FieldRef(tuple(parts)), op


def _did_you_mean(word: str, candidates: Iterable[str], what: str) -> str | None:
    import difflib

    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    if close:
        return f"did you mean {what} `{close[0]}`?"
    return None


def _unescape(raw: str) -> str:
    inner = raw[1:-1]
    if "\\" not in inner:
        return inner
    return _ESCAPE_RE.sub(r"\1", inner)


# --------------------------------------------------------------------------------------------------
# the tree builder lark calls on each reduction
# --------------------------------------------------------------------------------------------------
class _Builder(lark.Transformer[Token, Expr]):
    """Builds :mod:`skillfilter.ast` nodes while lark parses (never produces a lark tree)."""

    def __init__(self) -> None:
        super().__init__(visit_tokens=False)

    def comparison(self, children: list[Any]) -> Comparison:
        field_tok, _eq, value_tok = children
        text = _current_text.get()
        target, op = parse_lookup(
            field_tok.value, operators=_operators.get(), source=text, offset=field_tok.start_pos
        )
        kind = value_tok.type
        value: Literal
        if kind == "STRING":
            value = _unescape(value_tok.value)
        elif kind == "NUMBER":
            raw = value_tok.value
            if "." in raw or "e" in raw or "E" in raw:
                value = float(raw)
                if value in (float("inf"), float("-inf")):
                    raise FilterSyntaxError(
                        "number out of range",
                        text,
                        value_tok.start_pos,
                        end=value_tok.end_pos,
                        hint="numbers must fit a 64-bit floating point value",
                    )
            else:
                if len(raw) > 4000:
                    raise FilterSyntaxError(
                        "number has too many digits", text, value_tok.start_pos, end=value_tok.end_pos
                    )
                value = int(raw)
        elif kind == "TRUE":
            value = True
        elif kind == "FALSE":
            value = False
        else:
            value = None
        start, end = field_tok.start_pos, value_tok.end_pos
        if op == "is_null" and not isinstance(value, bool):
            raise FilterSyntaxError(
                "`is_null` takes `true` or `false`",
                text,
                value_tok.start_pos,
                end=value_tok.end_pos,
                expected=["true", "false"],
                hint=f"write `{field_tok.value}=true` or `{field_tok.value}=false`",
            )
        if value is None and op != "exact":
            raise FilterSyntaxError(
                f"`null` cannot be used with `{op}`, only with `exact`",
                text,
                value_tok.start_pos,
                end=value_tok.end_pos,
                hint=f"to test for a missing value write `{target.text()}__is_null=true`",
            )
        return Comparison(
            target,
            op,
            value,
            Span(start, end),
            Span(start, field_tok.end_pos),
            Span(value_tok.start_pos, value_tok.end_pos),
        )

    def _nary(self, cls: type[And] | type[Or], children: list[Any]) -> Expr:
        operands: list[Expr] = []
        spans: list[Span] = []
        for child in children:
            if isinstance(child, Token):
                spans.append(Span(child.start_pos, child.end_pos))
            elif child.__class__ is cls:
                operands.extend(child.operands)
                spans.extend(child.keyword_spans or ())
            else:
                operands.append(child)
        spans.sort(key=lambda s: s.start)
        first, last = children[0], children[-1]
        node = _checked(
            lambda: cls(tuple(operands), tuple(spans), _span_of(first, last)),
            spans[0].start,
        )
        return node

    def and_expr(self, children: list[Any]) -> Expr:
        return self._nary(And, children)

    def or_expr(self, children: list[Any]) -> Expr:
        return self._nary(Or, children)

    def not_(self, children: list[Any]) -> Expr:
        tok, operand = children
        return _checked(lambda: Not(operand, Span(tok.start_pos, operand.span.end)), tok.start_pos)

    def group(self, children: list[Any]) -> Expr:
        lpar, inner, rpar = children
        # Remember the parentheses in the span of the inner node.
        if isinstance(inner, (And, Or)):
            return type(inner)(inner.operands, inner.keyword_spans, Span(lpar.start_pos, rpar.end_pos))
        if isinstance(inner, Not):
            return Not(inner.operand, Span(lpar.start_pos, rpar.end_pos))
        return inner  # comparisons keep their own span


def _span_of(first: Any, last: Any) -> Span:
    a = first.span.start if not isinstance(first, Token) else first.start_pos
    b = last.span.end if not isinstance(last, Token) else last.end_pos
    return Span(a, b)


def _checked(build: Any, position: int) -> Expr:
    limit = _max_depth.get()
    try:
        node: Expr = build()
    except FilterError:
        node = None  # type: ignore[assignment]
    if node is None or node.depth > limit:
        text = _current_text.get()
        raise FilterSyntaxError(
            f"filter nested deeper than {limit} levels",
            text,
            position,
            hint="simplify the filter: remove double negations or needless parentheses",
        )
    return node


_current_text: contextvars.ContextVar[str] = contextvars.ContextVar("skillfilter_text", default="")
_operators: contextvars.ContextVar[Collection[str]] = contextvars.ContextVar(
    "skillfilter_operators", default=OPERATOR_NAMES
)


# --------------------------------------------------------------------------------------------------
# entry point
# --------------------------------------------------------------------------------------------------
def parse(
    text: str,
    *,
    max_length: int | None = DEFAULT_MAX_LENGTH,
    max_depth: int = DEFAULT_MAX_DEPTH,
    operators: Collection[str] | None = None,
) -> Expr:
    """Parse a filter into an immutable :class:`~skillfilter.ast.Expr`.

    Raises :class:`FilterSyntaxError` for any text that is not a filter, including text longer than
    ``max_length`` characters (``None``: no limit) or nested deeper than ``max_depth`` (at most
    :data:`~skillfilter.ast.HARD_MAX_DEPTH`).  ``operators`` are the names that end a field reference
    as its operator (default: the built-in ones; a schema may add more, see ``Schema.operator_names``).
    """
    if not isinstance(text, str):
        raise TypeError(f"parse() takes a str, not {type(text).__name__}")
    if max_depth > HARD_MAX_DEPTH or max_depth < 1:
        raise ValueError(f"max_depth must be between 1 and {HARD_MAX_DEPTH}")
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
        _check_nesting(text, max_depth)
    token_text = _current_text.set(text)
    token_depth = _max_depth.set(max_depth)
    token_ops = _operators.set(OPERATOR_NAMES if operators is None else operators)
    try:
        result: Expr = _get_parser().parse(text)
    except UnexpectedInput as exc:
        raise _translate(exc, text) from None
    finally:
        _current_text.reset(token_text)
        _max_depth.reset(token_depth)
        _operators.reset(token_ops)
    return result


def _check_nesting(text: str, limit: int) -> None:
    """Reject deep nesting before lark sees it: parentheses plus runs of ``not``."""
    depth = 0
    nots: list[int] = [0]  # per parenthesis level: the current run of `not`
    for m in _SCAN_RE.finditer(text):
        tok = m.group()
        if tok == "(":
            depth += 1
            nots.append(0)
        elif tok == ")":
            if depth:
                depth -= 1
                nots.pop()
            continue
        elif tok == "not":
            nots[-1] += 1
        else:
            nots[-1] = 0
            continue
        if depth + sum(nots) > limit:
            raise FilterSyntaxError(
                f"filter nested deeper than {limit} levels",
                text,
                m.start(),
                end=m.end(),
                hint="simplify the filter: remove double negations or needless parentheses",
            )


# --------------------------------------------------------------------------------------------------
# error translation
# --------------------------------------------------------------------------------------------------
def _plain_expected(names: Iterable[str]) -> list[str]:
    names = set(names)
    words: list[str] = []
    for name in sorted(names, key=lambda n: _ORDER.index(n) if n in _ORDER else 99):
        word = _TERMINAL_WORDS.get(name)
        if word and word not in words:
            words.append(word)
    return words


def _translate(exc: UnexpectedInput, text: str) -> FilterSyntaxError:
    if isinstance(exc, UnexpectedToken):
        tok = exc.token
        expected = set(exc.expected)
        if tok.type == "$END":
            position = len(text)
            found = "the end of the filter"
            end = position
        else:
            position = tok.start_pos if tok.start_pos is not None else len(text)
            end = tok.end_pos if tok.end_pos is not None else position + 1
            found = _TOKEN_DESCRIPTION.get(tok.type) or f"`{tok.value}`"
    elif isinstance(exc, UnexpectedCharacters):
        position = exc.pos_in_stream
        end = position + 1
        expected = set(exc.allowed or ())
        found = f"`{text[position]}`" if position < len(text) else "the end of the filter"
        tok = None
    else:  # pragma: no cover - lark's LALR raises only the two above
        position = getattr(exc, "pos_in_stream", 0) or 0
        return FilterSyntaxError("invalid filter", text, position)
    # LALR states are shared between nesting levels: say `)` only inside parentheses, the end only outside.
    if _open_parens(text, position):
        expected.discard("$END")
    else:
        expected.discard("RPAR")
        if expected & {"AND", "OR"}:
            expected.add("$END")
    words = _plain_expected(expected)
    special = _special_case(text, position, expected, tok)
    if special is not None:
        return special
    if found == "the end of the filter":
        message = "missing value after `=`" if "STRING" in expected else "the filter ends too early"
    else:
        message = f"unexpected {found}"
    hint = _hint(text, position, expected, tok)
    return FilterSyntaxError(message, text, position, expected=words, hint=hint, end=end)


def _special_case(text: str, position: int, expected: set[str], tok: Token | None) -> FilterSyntaxError | None:
    words = _plain_expected(expected)
    rest = text[position:]
    # Strings: unclosed, or with an unknown escape.
    if rest[:1] in ("'", '"'):
        quote = rest[0]
        i = position + 1
        while i < len(text):
            ch = text[i]
            if ch == "\\":
                nxt = text[i + 1 : i + 2]
                if nxt and nxt in "\\'\"":
                    i += 2
                    continue
                shown = "\\" + nxt if nxt else "\\"
                return FilterSyntaxError(
                    f"unknown escape `{shown}` in string",
                    text,
                    i,
                    end=i + len(shown),
                    hint="only `\\\\`, `\\'` and `\\\"` are escapes; write `\\\\` for a backslash",
                )
            if ch == quote:
                break
            i += 1
        else:
            return FilterSyntaxError(
                "unclosed string",
                text,
                position,
                end=len(text),
                expected=words,
                hint=f"close the string with {quote}; write \\{quote} for a {quote} inside it",
            )
    # Unclosed parenthesis.
    if (tok is not None and tok.type == "$END" and "RPAR" in expected) or (
        position >= len(text) and "RPAR" in expected
    ):
        open_pos = _unmatched_open(text)
        if open_pos is not None:
            return FilterSyntaxError(
                "this `(` is never closed",
                text,
                open_pos,
                expected=["`)`"],
                hint="add a `)` to close it",
            )
    return None


def _open_parens(text: str, position: int) -> int:
    depth = 0
    for m in _SCAN_RE.finditer(text, 0, position):
        if m.group() == "(":
            depth += 1
        elif m.group() == ")" and depth:
            depth -= 1
    return depth


def _unmatched_open(text: str) -> int | None:
    stack: list[int] = []
    for m in _SCAN_RE.finditer(text):
        if m.group() == "(":
            stack.append(m.start())
        elif m.group() == ")" and stack:
            stack.pop()
    return stack[-1] if stack else None


_KEYWORD_FIX = {"and": "and", "or": "or", "not": "not"}
_VALUE_FIX = {"true": "true", "false": "false", "none": "null", "null": "null", "nil": "null"}


def _hint(text: str, position: int, expected: set[str], tok: Token | None) -> str | None:
    rest = text[position:]
    word_m = _WORD_RE.match(rest)
    word = word_m.group() if word_m else None
    value_expected = bool(expected & {"STRING", "NUMBER", "TRUE"})
    before = text[:position].rstrip(" \t\r\n")
    if rest.startswith("&&") or rest.startswith("&"):
        return "write `and` instead of `&&`"
    if rest.startswith("||") or rest.startswith("|"):
        return "write `or` instead of `||`"
    if rest.startswith("!="):
        return "there is no `!=`: write `not field=value`"
    if rest.startswith("!"):
        return "write `not` instead of `!`"
    if rest.startswith("=") and before.endswith("="):
        return "compare with a single `=`, not `==`"
    if rest[:1] in ("<", ">"):
        op = {"<=": "lte", ">=": "gte", "<": "lt", ">": "gt"}[rest[:2] if rest[:2] in ("<=", ">=") else rest[:1]]
        return f"write `field__{op}=value` to compare"
    if rest[:1] in ("'", '"') and "FIELD" in expected:
        return "field names are not quoted: write `name='value'`"
    if word is not None:
        low = word.lower()
        if low in _KEYWORD_FIX and word != low:
            return f"keywords are lowercase: write `{low}` instead of `{word}`"
        if low in _VALUE_FIX and word != low:
            return f"write `{_VALUE_FIX[low]}` instead of `{word}`"
        if value_expected:
            return f"text values are quoted: write `'{word}'`"
        if expected & {"AND", "OR"} and "EQUAL" not in expected:
            return "join comparisons with `and` or `or`"
        if "EQUAL" in expected:
            return "a comparison is `field=value`; operators follow the field after `__`, as in `name__icontains='x'`"
        if word in ("and", "or") and "FIELD" in expected:
            return f"`{word}` must stand between two comparisons"
    if value_expected:
        return "a comparison needs a value after `=`, such as `name='x'`, `level__gte=3` or `active=true`"
    if rest.startswith("=") and "FIELD" in expected:
        return "a comparison starts with a field name, as in `external_id='1'`"
    if rest.startswith(")") and "RPAR" not in expected:
        return "this `)` has no `(` to close"
    if rest.startswith("(") and expected & {"AND", "OR"}:
        return "join expressions with `and` or `or`"
    if tok is not None and tok.type == "$END" and "FIELD" in expected:
        return "the filter ends after a keyword: add a comparison"
    return None
