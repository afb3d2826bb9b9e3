"""Syntax errors in plain words: what the parser found, what it expected, and a hint for the usual mistakes.

Imported only when a parse fails: :func:`translate` turns the driver's :class:`~skillfilter.language.lalr.
Stuck` into a :class:`~skillfilter.errors.FilterSyntaxError` (an unescaped quote, an incomplete number, a
keyword in capitals, ``&&``, ``!=``, ``==``, a look-alike or invisible character, an unclosed string or
parenthesis, ...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..errors import FilterSyntaxError
from ..semantics.operators import LOGICAL_KEYWORDS
from .lalr import Stuck
from .lexer import SCAN_RE, WORD_RE, shorten
from .tables import END, ERROR

__all__ = ["char_name", "translate"]

# The body of a string up to its first problem (an unknown escape, the closing quote, the end).
_STRING_BODY = {q: re.compile(r"[^" + q + r"\\]*(?:\\[\\'\"][^" + q + r"\\]*)*") for q in ("'", '"')}

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


def translate(stuck: Stuck, text: str) -> FilterSyntaxError:
    position, end, expected = stuck.position, stuck.end, set(stuck.expected)
    at_end = stuck.kind == END
    if at_end:
        found = "the end of the filter"
    elif stuck.kind == ERROR:
        found = f"`{stuck.found}`"
        if text[position : position + 2] in ("&&", "||", "!=", "<=", ">="):
            end = position + 2  # the whole operator
            found = f"`{text[position:end]}`"
    else:
        found = _TOKEN_DESCRIPTION.get(stuck.kind) or f"`{shorten(stuck.found)}`"
    # LALR states are shared between nesting levels: say `)` only inside parentheses, the end only outside.
    if _open_parens(text, position):
        expected.discard(END)
    else:
        expected.discard("RPAR")
        if expected & {"AND", "OR"}:
            expected.add(END)
    special = _special_case(text, stuck, expected)
    if special is not None:
        return special
    words = _plain_expected(expected)
    value_expected = "STRING" in expected
    if value_expected and (at_end or stuck.kind in ("AND", "OR", "RPAR")):
        return FilterSyntaxError(
            "missing value after `=`",
            text,
            stuck.previous[1] if stuck.previous else position,
            expected=words,
            hint="a comparison needs a value after `=`, such as `name='x'`, `level__gte=3` or `active=true`",
        )
    message = "the filter ends too early" if at_end else f"unexpected {found}"
    hint = _hint(text, stuck, expected)
    # A keyword written in capitals is read as a field name, so the parser stumbles one token later:
    # point at the word itself.
    prev = stuck.previous
    keyword = prev is not None and prev[2] == "FIELD" and prev[3].lower() in LOGICAL_KEYWORDS
    if prev is not None and keyword and "EQUAL" in expected:
        word = prev[3]
        return FilterSyntaxError(
            f"unexpected `{word}`",
            text,
            prev[0],
            end=prev[1],
            expected=["a field name", "`not`", "`(`"],
            hint=f"keywords are lowercase: write `{word.lower()}` instead of `{word}`",
        )
    return FilterSyntaxError(message, text, position, expected=words, hint=hint, end=end)


#: Characters that look like a token of the language: what to write instead.
_LOOKALIKES = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "`": "'",
    "\uff07": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"', "\uff02": '"', "\uff1d": "=", "\uff08": "(", "\uff09": ")",
    "\u2212": "-", "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\ufe63": "-", "\uff0d": "-",
}
#: Invisible characters that are not Unicode white space but act like a space (or nothing).
_ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff\u180e")
_CONTROL_NAMES = {
    "\x0b": "LINE TABULATION", "\x0c": "FORM FEED", "\x1c": "FILE SEPARATOR", "\x1d": "GROUP SEPARATOR",
    "\x1e": "RECORD SEPARATOR", "\x1f": "UNIT SEPARATOR", "\x85": "NEXT LINE",
}
_INCOMPLETE_EXPONENT = re.compile(r"[eE][+-]?(?![0-9])")


def char_name(ch: str) -> str:
    """``U+00A0 NO-BREAK SPACE``: a character by its code point and Unicode name."""
    import unicodedata

    name = unicodedata.name(ch, "") or _CONTROL_NAMES.get(ch, "")
    return f"U+{ord(ch):04X}" + (f" {name}" if name else "")


def _odd_character(text: str, stuck: Stuck, expected: set[str]) -> FilterSyntaxError | None:
    """A character no token starts with: Unicode spaces and look-alikes of quotes, `=`, `(`, `)`, `-`."""
    position = stuck.position
    ch = text[position]
    if ch in _LOOKALIKES:
        plain = _LOOKALIKES[ch]
        if plain in "'\"":
            hint = f"strings are quoted with straight quotes: write {plain} instead of {ch}"
        else:
            hint = f"write `{plain}` instead of `{ch}`"
        return FilterSyntaxError(
            f"unexpected `{ch}` ({char_name(ch)})",
            text,
            position,
            expected=_plain_expected(expected),
            hint=hint,
        )
    if ch.isspace() or ch in _ZERO_WIDTH:
        name = char_name(ch)
        return FilterSyntaxError(
            f"unexpected {name}",
            text,
            position,
            expected=_plain_expected(expected),
            hint=f"{name} is not white space here; use a plain space"
            + (" (or nothing)" if ch in _ZERO_WIDTH else ""),
        )
    return None


def _after_value(text: str, stuck: Stuck, expected: set[str]) -> FilterSyntaxError | None:
    """A token glued to the string or number before it: an unescaped quote, an incomplete number."""
    prev = stuck.previous
    position = stuck.position
    if prev is None or stuck.kind in (END, "AND", "OR", "RPAR", "EQUAL", "LPAR"):
        return None
    pstart, pend, pkind, ptext = prev
    if pkind == "STRING" and stuck.kind != ERROR:
        # `'it's'`: the string ended at the quote inside it.  Also `"5" screen"`: a word, then the
        # closing quote, with no `=` between (that would be a comparison missing its `and`).
        quote = ptext[0]
        doubled = stuck.kind == "STRING" and stuck.found[0] == quote  # SQL's `'it''s'`
        body = _STRING_BODY[quote].match(text, pend + doubled)
        assert body is not None
        j = body.end()
        closed = j < len(text) and text[j] == quote
        if pend != position and not (stuck.kind == "FIELD" and closed and "=" not in text[pend:j]):
            return None
        if closed:
            inner = ptext[1:-1] + quote + text[pend + doubled : j]
            whole = quote + ptext[1:-1] + "\\" + quote + text[pend + doubled : j + 1]
            other = "'" if quote == '"' else '"'
            hint = f"write \\{quote} for a {quote} inside a string: `{shorten(whole)}`"
            if doubled:
                hint = f"a doubled {quote}{quote} is not an escape; " + hint
            if other not in inner and "\\" not in inner:
                hint += f", or quote it with {other}: `{shorten(other + inner + other)}`"
        else:
            hint = f"write \\{quote} for a {quote} inside a string"
        return FilterSyntaxError(
            f"unescaped {quote} inside a string: the string ends here",
            text,
            pend - 1,
            end=pend,
            expected=_plain_expected(expected),
            hint=hint,
        )
    if pkind == "NUMBER" and pend == position:
        rest = text[position:]
        m = _INCOMPLETE_EXPONENT.match(rest)
        if m is not None:
            shown = ptext + m.group()
            return FilterSyntaxError(
                f"incomplete number `{shorten(shown)}`: the exponent has no digits",
                text,
                pstart,
                end=position + m.end(),
                expected=["digits"],
                hint="an exponent is `e` followed by digits, as in `1e5` or `2.5e-3`",
            )
        if rest.startswith("."):
            return FilterSyntaxError(
                f"incomplete number `{shorten(ptext)}.`: digits must follow the `.`",
                text,
                pstart,
                end=position + 1,
                expected=["digits"],
                hint=f"write `{shorten(ptext)}.0` or `{shorten(ptext)}`",
            )
        word = WORD_RE.match(rest)
        if word is not None or stuck.kind == "NUMBER":
            glued = ptext + (word.group() if word is not None else stuck.found)
            return FilterSyntaxError(
                f"unexpected `{shorten(stuck.found)}` right after the number `{shorten(ptext)}`",
                text,
                position,
                end=stuck.end,
                expected=_plain_expected(expected),
                hint=f"text values are quoted: write `'{shorten(glued)}'`; "
                "or put `and` or `or` between two comparisons",
            )
    return None


def _special_case(text: str, stuck: Stuck, expected: set[str]) -> FilterSyntaxError | None:
    position = stuck.position
    quote = text[position : position + 1]
    if stuck.kind == ERROR:
        odd = _odd_character(text, stuck, expected)
        if odd is not None:
            return odd
    glued = _after_value(text, stuck, expected)
    if glued is not None:
        return glued
    if stuck.kind == ERROR:
        value_expected = "STRING" in expected
        if value_expected and quote == "." and text[position + 1 : position + 2].isdigit():
            digits = re.match(r"\.[0-9]+", text[position:])
            assert digits is not None
            return FilterSyntaxError(
                "a number starts with a digit",
                text,
                position,
                end=position + digits.end(),
                expected=_plain_expected(expected),
                hint=f"write `0{shorten(digits.group())}`",
            )
        if value_expected and quote == "-":
            return FilterSyntaxError(
                "`-` must be followed by digits",
                text,
                position,
                expected=["digits"],
                hint="write a negative number such as `-1`, or quote text: `'-...'`",
            )
    # Strings: unclosed, or with an unknown escape.
    if stuck.kind == ERROR and quote in ("'", '"'):
        body = _STRING_BODY[quote].match(text, position + 1)
        assert body is not None
        i = body.end()
        if i < len(text) and text[i] == "\\" and i + 1 < len(text):
            shown = "\\" + text[i + 1]
            return FilterSyntaxError(
                f"unknown escape `{shown}` in string",
                text,
                i,
                end=i + 2,
                hint="only `\\\\`, `\\'` and `\\\"` are escapes; write `\\\\` for a backslash",
            )
        # `i` is at the end of the text, or at a backslash that ends it.
        return FilterSyntaxError(
            "unclosed string",
            text,
            position,
            end=len(text),
            expected=_plain_expected(expected),
            hint=f"close the string with {quote}; write \\{quote} for a {quote} inside it",
        )
    # Unclosed parenthesis.
    if stuck.kind == END and "RPAR" in stuck.expected:
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
    for m in SCAN_RE.finditer(text, 0, position):
        if m.group() == "(":
            depth += 1
        elif m.group() == ")" and depth:
            depth -= 1
    return depth


def _unmatched_open(text: str) -> int | None:
    stack: list[int] = []
    for m in SCAN_RE.finditer(text):
        if m.group() == "(":
            stack.append(m.start())
        elif m.group() == ")" and stack:
            stack.pop()
    return stack[-1] if stack else None


_VALUE_FIX = {"true": "true", "false": "false", "none": "null", "null": "null", "nil": "null"}


def _hint(text: str, stuck: Stuck, expected: set[str]) -> str | None:
    position = stuck.position
    rest = text[position:]
    word_m = WORD_RE.match(rest)
    word = word_m.group() if word_m else None
    value_expected = bool(expected & {"STRING", "NUMBER", "TRUE"})
    before = text[:position].rstrip(" \t\r\n")
    prev = stuck.previous
    if rest.startswith("&"):
        return f"write `and` instead of `{'&&' if rest.startswith('&&') else '&'}`"
    if rest.startswith("|"):
        return f"write `or` instead of `{'||' if rest.startswith('||') else '|'}`"
    if rest.startswith("!="):
        return "there is no `!=`: write `not field=value`"
    if rest.startswith("!"):
        return "write `not` instead of `!`"
    if rest.startswith("=") and before.endswith("="):
        return "compare with a single `=`, not `==`"
    if rest[:1] in ("<", ">"):
        sign = rest[:2] if rest[:2] in ("<=", ">=") else rest[:1]
        op = {"<=": "lte", ">=": "gte", "<": "lt", ">": "gt"}[sign]
        return f"there is no `{sign}`: write `field__{op}=value`"
    if rest[:1] in ("'", '"') and "FIELD" in expected:
        return "field names are not quoted: write `name='value'`"
    if word is not None:
        low = word.lower()
        if low in LOGICAL_KEYWORDS and word != low:
            return f"keywords are lowercase: write `{low}` instead of `{word}`"
        if low in _VALUE_FIX and word != low:
            return f"write `{_VALUE_FIX[low]}` instead of `{word}`"
        if value_expected:
            return f"text values are quoted: write `'{shorten(word)}'`"
        if word in ("true", "false", "null") and "FIELD" in expected:
            return f"`{word}` is a value, not a field"
        if expected & {"AND", "OR"} and "EQUAL" not in expected:
            return "join comparisons with `and` or `or`"
        if "EQUAL" in expected:
            return (
                "a comparison is `field=value`; operators follow the field after `__`, "
                "as in `name__icontains='x'`"
            )
        if word in ("and", "or") and "FIELD" in expected:
            return f"`{word}` must stand between two comparisons"
    if value_expected:
        return "a comparison needs a value after `=`, such as `name='x'`, `level__gte=3` or `active=true`"
    if rest.startswith("=") and "FIELD" in expected:
        return "a comparison starts with a field name, as in `external_id='1'`"
    if rest.startswith(")") and prev is not None and prev[2] == "LPAR":
        return "empty parentheses: put a comparison between them"
    if rest.startswith(")") and "RPAR" not in expected:
        return "this `)` has no `(` to close"
    if rest.startswith("(") and expected & {"AND", "OR"}:
        return "join expressions with `and` or `or`"
    if stuck.kind == END and "FIELD" in expected:
        return "the filter ends after a keyword: add a comparison"
    if stuck.kind == END and "EQUAL" in expected:
        return "a comparison is `field=value`, such as `external_id='1'`"
    return None
