"""Literal conversion in full: every type, every refusal with its reason, and :func:`show_literal`.

:func:`~.literals.convert_literal` answers the common cases itself (text for a text field, an integer for a
number, ...) and hands every other one here; so does the writing of a literal in a message.  Loaded on first
use: linting ``external_id='1'`` never needs it.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import TYPE_CHECKING

from ..language.parser import float_value, inexact_float_hint
from .dates import as_date, as_datetime
from .literals import _INT_LIMIT, ConversionError
from .values import MAX_DIGITS, float_decimal

if TYPE_CHECKING:
    from ..language.ast import Literal

__all__ = ["convert", "show_literal"]


_INT_RE = re.compile(r"[+-]?[0-9]+\Z")
_NUM_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")


#: Integers with more digits than this are refused, as the parser and the printer refuse them.
_MAX_DIGITS = MAX_DIGITS


def _int_from_text(value: str) -> int:
    """ASCII digits (with an optional sign; checked by the caller) as an int, within :data:`_MAX_DIGITS`."""
    sign = value[:1] if value[:1] in "+-" else ""
    digits = value[len(sign):].lstrip("0")
    if len(digits) > _MAX_DIGITS:
        raise ConversionError(
            f"{_show(value)} has more than {_MAX_DIGITS} digits",
            f"an integer has at most {_MAX_DIGITS} digits",
        )
    number = int(digits or "0")
    return -number if sign == "-" else number


def _big_int(value: int) -> bool:
    return not -_INT_LIMIT < value < _INT_LIMIT


def _big_int_error() -> ConversionError:
    return ConversionError(
        f"an integer with more than {_MAX_DIGITS} digits", f"an integer has at most {_MAX_DIGITS} digits"
    )


def convert(value: Literal, type_name: str | None) -> Literal:
    """:func:`~.literals.convert_literal` for every case, with the same contract (see there): the
    converted value, or a :class:`ConversionError` with its reason."""
    if value is None or type_name is None:
        return value
    if isinstance(value, int) and not isinstance(value, bool) and _big_int(value):
        raise _big_int_error()
    if type_name in ("text", "list[text]"):
        if isinstance(value, str):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise ConversionError(
            f"{_show(value)} is not text", f"quote it: `'{_show(value)}'`" if value is not None else None
        )
    if type_name == "integer":
        if isinstance(value, bool):
            raise ConversionError(f"{_show(value)} is not an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            # A float literal means the decimal value written (its shortest repr): 1e23 is 10**23, not the
            # double's binary value 99999999999999991611392.
            return int(float_decimal(value))
        if isinstance(value, str) and _INT_RE.match(value):
            return _int_from_text(value)
        raise ConversionError(f"{_show(value)} is not an integer", "write a whole number such as `3`")
    if type_name == "number":
        if isinstance(value, bool):
            raise ConversionError(f"{_show(value)} is not a number")
        if isinstance(value, (int, float)):
            return value  # integers are compared exactly by every backend, whatever their size
        if isinstance(value, str) and _NUM_RE.match(value):
            if _INT_RE.match(value):
                return _int_from_text(value)
            f, exact = float_value(value)
            if exact:
                return f
            raise ConversionError(
                f"{_show(value)} cannot be held exactly by a 64-bit floating point value",
                inexact_float_hint(f),
            )
        raise ConversionError(f"{_show(value)} is not a number", "write a number such as `3` or `2.5`")
    if type_name == "boolean":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value in ("true", "false"):
            return value == "true"
        raise ConversionError(f"{_show(value)} is not a boolean", "write `true` or `false`")
    if type_name == "date":
        if isinstance(value, _dt.datetime):
            raise ConversionError(f"{_show(value)} is not a date")
        date = as_date(str.__str__(value) if isinstance(value, str) else value)
        if date is not None:
            return date
        raise ConversionError(
            f"{_show(value)} is not a date", "write an ISO 8601 date such as `'2024-01-31'`"
        )
    if type_name == "datetime":
        instant = as_datetime(str.__str__(value) if isinstance(value, str) else value)
        if instant is not None:
            return instant
        raise ConversionError(
            f"{_show(value)} is not a date-time",
            "write an ISO 8601 date-time such as `'2024-01-31T09:30:00Z'` (or a date for its midnight UTC)",
        )
    raise ConversionError(f"unknown type `{type_name}`")  # pragma: no cover


#: Longest literal shown whole in a message.
_SHOW_MAX = 60


def show_literal(value: object) -> str:
    """A literal as a message shows it: canonical form, shortened when long, invisible characters escaped.

    Never raises (a huge integer is described rather than written out).
    """
    from ..errors import visible
    from ..language.printer import format_literal

    if isinstance(value, int) and not isinstance(value, bool):
        if _big_int(value):
            return f"an integer with more than {_MAX_DIGITS} digits"
        if not -(10**_SHOW_MAX) < value < 10**_SHOW_MAX:
            digits = int.__repr__(value)
            return f"{digits[:_SHOW_MAX - 20]}… ({len(digits.lstrip('-'))} digits)"
    if isinstance(value, str) and len(value) > _SHOW_MAX:
        head = value[: _SHOW_MAX - 20]
        if head and "\ud800" <= head[-1] <= "\udbff":  # do not cut a surrogate pair
            head = head[:-1]
        return visible(format_literal(head)[:-1] + f"…' ({len(value)} characters)")
    try:
        shown = format_literal(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        try:
            shown = repr(value)
        except ValueError:  # pragma: no cover - an int subclass too big for repr
            shown = f"a {type(value).__name__}"
    return visible(shown)


def _show(value: Literal) -> str:
    return show_literal(value)
