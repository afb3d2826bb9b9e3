"""Literal conversion: a literal as a value of a field's type, exactly, or a :class:`ConversionError`.

:func:`convert_literal` applies the value rules of :mod:`.values` (ISO 8601 dates and date-times, integer
digits, exact doubles); :func:`show_literal` writes a literal for a message, whatever its size.  The common
cases are answered here; every other one, and every refusal, by :mod:`.conversion`, loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import FilterError
from .values import MAX_DIGITS

if TYPE_CHECKING:
    from ..language.ast import Literal

__all__ = ["ConversionError", "convert_literal", "show_literal"]


class ConversionError(FilterError, ValueError):
    """A literal that does not convert exactly to a field's type (diagnostic ``SF220``); ``hint`` says what
    to write instead."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (str(self), self.hint))


#: Integers of at most :data:`~.values.MAX_DIGITS` digits are answered here; larger ones are refused there.
_INT_LIMIT = 10**MAX_DIGITS
_TEXT_TYPES = frozenset({"text", "list[text]"})


def convert_literal(value: Literal, type_name: str | None) -> Literal:
    """A literal converted exactly to ``type_name``; raises :class:`ConversionError` where that is not
    possible.  ``None`` stays ``None``; an untyped target (``None``) keeps the literal as it is.

    Whatever the literal's size or content (huge integers, long or odd text, Unicode digits, NUL,
    surrogates), the result is a converted value or a :class:`ConversionError`, never another exception.
    Only ASCII digits count as digits; integers have at most 4000 digits; text converted to a ``number``
    that is not an integer must be held exactly by a 64-bit double (see
    :func:`skillfilter.language.parser.float_value`), as a float literal must.
    """
    if value is None or type_name is None:
        return value
    t = type(value)
    # The literal that already is of the type (what a valid filter mostly holds) is itself.
    if t is str and type_name in _TEXT_TYPES:
        return value
    if t is int and type_name in ("integer", "number") and -_INT_LIMIT < value < _INT_LIMIT:
        return value
    if (t is float and type_name == "number") or (t is bool and type_name == "boolean"):
        return value
    from .conversion import convert

    return convert(value, type_name)


def show_literal(value: object) -> str:
    """A literal as a message shows it: canonical form, shortened when long, invisible characters escaped.

    Never raises (a huge integer is described rather than written out).
    """
    from .conversion import show_literal as show

    return show(value)
