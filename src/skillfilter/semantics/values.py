"""The value rules of the language, in one place.

- ISO 8601 dates and date-times (LANGUAGE.md rule 6): :func:`parse_date`, :func:`parse_datetime`, and the
  coercion of a value (text, ``date`` or ``datetime``) to one: :func:`as_date`, :func:`as_datetime`;
- the canonical text of a date-time, where a store has no time-zone aware type: :func:`canonical_datetime`;
- integer bounds: :data:`INT64_MIN`, :data:`INT64_MAX` (:func:`in_int64`), :data:`EXACT_FLOAT_INTS` and
  :data:`MAX_DIGITS` (the longest integer a filter may write);
- numbers by the decimal value written: :func:`float_decimal` (a float stands for its shortest ``repr``) and
  :func:`as_decimal`;
- the simple case mapping of rule 5: :func:`simple_fold`, and :func:`fold_table` for databases.

Every backend and every stage reads these; none spells them again.  The rules on dates and date-times live
in :mod:`.dates` and are read here on first use (``from skillfilter.semantics.values import parse_datetime``
works as before): the command line loads this module on every start, and most runs (``skillfilter fmt``, a
filter without dates) never read a date.  Cheap to import for the same reason (no ``decimal`` until a
number needs it).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .. import _lazy_getattr

if TYPE_CHECKING:
    from decimal import Decimal

    from .dates import (
        as_date,
        as_datetime,
        canonical_datetime,
        parse_date,
        parse_datetime,
    )

__all__ = [
    "EXACT_FLOAT_INTS",
    "INT64_MAX",
    "INT64_MIN",
    "MAX_DIGITS",
    "as_date",
    "as_datetime",
    "as_decimal",
    "canonical_datetime",
    "float_decimal",
    "fold_table",
    "in_int64",
    "parse_date",
    "parse_datetime",
    "simple_fold",
]

# --------------------------------------------------------------------------------------------------
# integers
# --------------------------------------------------------------------------------------------------
#: Bounds of a signed 64-bit integer (SQLite's integers, PostgreSQL's ``bigint``).
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
#: Integers up to this size (in absolute value) are doubles exactly: an int and a float compare directly.
EXACT_FLOAT_INTS = 2**53
#: Integers with more digits than this are refused (by the parser, the printer and literal conversion).
MAX_DIGITS = 4000


def in_int64(value: int) -> bool:
    """Whether ``value`` fits in a signed 64-bit integer."""
    return INT64_MIN <= value <= INT64_MAX


# --------------------------------------------------------------------------------------------------
# numbers by decimal value
# --------------------------------------------------------------------------------------------------
def float_decimal(value: float) -> Decimal:
    """The decimal value a float stands for: its shortest ``repr`` (``0.1`` is one tenth, ``1e23`` is
    ``10**23``), which is also what JSON text holds for it."""
    from decimal import Decimal

    return Decimal(repr(value))


def as_decimal(value: Any) -> Decimal | None:
    """The decimal value a number stands for: an ``int`` exactly, a ``float`` as its shortest ``repr``
    (``0.1`` is one tenth), a ``Decimal`` as itself; ``None`` for NaN and for anything not a number
    (``bool`` included)."""
    from decimal import Decimal

    t = type(value)
    if t is int:
        return Decimal(value)
    if t is float:
        return None if math.isnan(value) else Decimal(repr(value))
    if isinstance(value, Decimal):
        return None if value.is_nan() else value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, float):
        return as_decimal(float(value))
    return None


# --------------------------------------------------------------------------------------------------
# simple case mapping (LANGUAGE.md rule 5)
# --------------------------------------------------------------------------------------------------
def simple_fold(text: str) -> str:
    """LANGUAGE.md rule 5: map each character to its upper case where that is one character."""
    if text.isascii():
        return text.upper()
    return "".join(_fold_char(c) for c in text)


def _fold_char(c: str) -> str:
    u = c.upper()
    return u if len(u) == 1 else c


def fold_table() -> tuple[str, str]:
    """``(from, to)``: every character whose ``upper()`` is one other character, and that character (the
    table a database's ``translate()`` needs to apply :func:`simple_fold`)."""
    import sys

    src: list[str] = []
    dst: list[str] = []
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        u = c.upper()
        if len(u) == 1 and u != c:
            src.append(c)
            dst.append(u)
    return "".join(src), "".join(dst)


#: The names :mod:`.dates` holds, read from there on first use.
_DATE_NAMES = frozenset({
    "DATE_RE", "DATETIME_RE", "as_date", "as_datetime", "canonical_datetime", "parse_date", "parse_datetime"
})


#: The date and date-time rules of :mod:`.dates`, on first use.
__getattr__ = _lazy_getattr(dict.fromkeys(_DATE_NAMES, "dates"), globals())
