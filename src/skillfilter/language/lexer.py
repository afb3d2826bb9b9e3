"""The tokens' contents: literals (strings, numbers, keywords) as values, and a light scan of the text.

The tokens themselves are found by the scanner that :mod:`skillfilter.language.tables` builds from the
grammar's terminals; this module turns a STRING, NUMBER, TRUE, FALSE or NULL token into its value (or a
:class:`~skillfilter.errors.FilterSyntaxError`), and scans text for parentheses and ``not`` runs (the depth
check made before parsing, and the error hints).
"""

from __future__ import annotations

import re
from math import isfinite
from typing import TYPE_CHECKING

from ..errors import FilterSyntaxError
from ..semantics.values import MAX_DIGITS, float_decimal

if TYPE_CHECKING:
    from .ast import Literal

__all__ = ["DEPTH_HINT", "MAX_DIGITS", "check_nesting", "float_value", "inexact_float_hint", "literal_value"]

DEPTH_HINT = "simplify the filter: remove double negations or needless parentheses"

WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ESCAPE_RE = re.compile(r"\\(.)", re.S)
# Strings (closed or not), parentheses and words: enough to count nesting and find unmatched `(`.
SCAN_RE = re.compile(
    r"""'[^'\\]*(?:\\.[^'\\]*)*'?|"[^"\\]*(?:\\.[^"\\]*)*"?|[()]|[A-Za-z_][A-Za-z0-9_]*""", re.S
)
_KEYWORD_VALUES: dict[str, Literal] = {"true": True, "false": False, "null": None}


def shorten(word: str) -> str:
    """User text quoted in a message: at most 40 characters."""
    return word if len(word) <= 40 else word[:37] + "…"


def literal_value(kind: str | None, raw: str, text: str, start: int) -> Literal:
    """The value of the token ``raw`` of terminal ``kind`` found at ``start`` in ``text``.

    Raises :class:`FilterSyntaxError` for a number no value holds exactly: a float a 64-bit double does
    not hold, an integer of more than :data:`~skillfilter.semantics.values.MAX_DIGITS` digits.
    """
    if kind == "STRING":
        value = raw[1:-1]
        return _ESCAPE_RE.sub(r"\1", value) if "\\" in value else value
    if kind != "NUMBER":
        return _KEYWORD_VALUES[raw]
    if "." in raw or "e" in raw or "E" in raw:
        fvalue, exact = float_value(raw)
        if not exact:
            raise FilterSyntaxError(
                "number out of range" if not isfinite(fvalue)
                else "number too small" if fvalue == 0.0
                else "number more precise than a 64-bit floating point value",
                text,
                start,
                end=start + len(raw),
                hint=inexact_float_hint(fvalue),
            )
        return fvalue
    digits = raw.lstrip("-").lstrip("0")  # leading zeros are allowed, and do not count
    if len(digits) > MAX_DIGITS:
        raise FilterSyntaxError(
            "number has too many digits",
            text,
            start,
            end=start + len(raw),
            hint=f"an integer has at most {MAX_DIGITS} digits",
        )
    number = int(digits or "0")
    return -number if raw[0] == "-" else number


def float_value(text: str) -> tuple[float, bool]:
    """The double nearest the decimal number ``text``, and whether that double has the same decimal value.

    ``text`` is ASCII decimal notation (a NUMBER token, or the schema's number text).  "The same value"
    means that the double's shortest representation, ``repr(value)``, is the decimal number written:
    ``0.1``, ``1.50``, ``1e16`` and ``2.5e-3`` are held exactly; ``0.10000000000000000001``, ``1e-400``
    and pi to 20 digits are not.  Infinite results are not exact.  Cheap for ordinary literals: up to 15
    significant digits in the normal range are always exact (a double keeps 15 decimal digits).
    """
    value = float(text)
    if not isfinite(value):
        return value, False
    e = text.find("e")
    if e < 0:
        e = text.find("E")
    mantissa = text if e < 0 else text[:e]
    digits = mantissa.lstrip("+-").replace(".", "").strip("0")
    if not digits:  # zero, however written
        return value, True
    if value == 0.0:  # underflow
        return value, False
    if len(digits) <= 15 and 1e-300 < abs(value) < 1e300:
        return value, True
    from decimal import Decimal, InvalidOperation

    try:
        return value, float_decimal(value) == Decimal(text)
    except (InvalidOperation, ValueError):  # pragma: no cover - an exponent beyond 10**18 gives 0 or inf
        return value, False


def inexact_float_hint(value: float) -> str:
    """The hint for a number a double cannot hold: the nearest value that is exact."""
    if not isfinite(value):
        return "numbers must fit a 64-bit floating point value"
    if value == 0.0:
        return (
            "the number is too small for a 64-bit floating point value (the smallest is 5e-324): "
            "write 0 or a larger number"
        )
    return (
        f"a 64-bit floating point value cannot hold it exactly; the nearest one is {value!r}: write {value!r}"
    )


# --------------------------------------------------------------------------------------------------
# scanning for nesting
# --------------------------------------------------------------------------------------------------
def check_nesting(text: str, limit: int) -> None:
    """Reject deep nesting before parsing: parentheses plus runs of ``not``."""
    depth = 0
    nots: list[int] = [0]  # per parenthesis level: the current run of `not`
    total = 0  # sum(nots)
    for m in SCAN_RE.finditer(text):
        tok = m.group()
        if tok == "(":
            depth += 1
            nots.append(0)
        elif tok == ")":
            if depth:
                depth -= 1
                total -= nots.pop()
            continue
        elif tok == "not":
            nots[-1] += 1
            total += 1
        else:
            total -= nots[-1]
            nots[-1] = 0
            continue
        if depth + total > limit:
            raise FilterSyntaxError(
                f"filter nested deeper than {limit} levels",
                text,
                m.start(),
                end=m.end(),
                hint=DEPTH_HINT,
            )

