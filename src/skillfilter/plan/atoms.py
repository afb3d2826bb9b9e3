"""What one comparison asks of one value: shared by the Python and the SQL backends.

:func:`make_test` applies LANGUAGE.md rule 7 (which operator kinds a literal's type takes) and rule 5 (case
mapping of the literal) once, so that both backends start from the same decision.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..semantics.operators import simple_fold

__all__ = [
    "BOOLEAN", "DATE", "DATETIME", "EXACT_FLOAT_INTS", "NUMBER", "ORDER_KINDS", "STRING_KINDS", "TEXT",
    "Test", "as_decimal", "make_test", "number_compare",
]

#: Value types a test compares with (derived from the literal's Python type after conversion).
TEXT, NUMBER, BOOLEAN, DATE, DATETIME = "text", "number", "boolean", "date", "datetime"


@dataclass(frozen=True, slots=True)
class Test:
    """One test on one value.

    ``kind`` is ``isnull``, ``notnull``, ``false`` (never holds), or an operator kind (``exact``,
    ``contains``, ``startswith``, ``endswith``, ``gt``, ``gte``, ``lt``, ``lte``) applied with ``value``
    of type ``vtype``; with ``ci`` both sides are case-mapped (LANGUAGE.md rule 5) and ``value`` is
    already mapped.
    """

    kind: str
    vtype: str = ""
    value: Any = None
    ci: bool = False

    @property
    def null_truth(self) -> bool:
        """The test's answer for a null value."""
        return self.kind == "isnull"


ORDER_KINDS = ("gt", "gte", "lt", "lte")
STRING_KINDS = ("contains", "startswith", "endswith")


def make_test(kind: str, ci: bool, value: Any) -> Test:
    """The :class:`Test` for operator kind ``kind`` with literal ``value`` (already converted)."""
    if kind == "is_null":
        return Test("isnull" if value else "notnull")
    if value is None:
        return Test("isnull" if kind == "exact" else "false")
    if isinstance(value, bool):
        vtype = BOOLEAN
    elif isinstance(value, (int, float, Decimal)):
        vtype = NUMBER
    elif isinstance(value, str):
        vtype = TEXT
    elif isinstance(value, _dt.datetime):
        vtype = DATETIME
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
    elif isinstance(value, _dt.date):
        vtype = DATE
    else:  # pragma: no cover - the AST admits no other literal
        return Test("false")
    # Rule 7: booleans take only exact; string operators and case mapping apply to text only.
    if vtype == BOOLEAN and kind != "exact":
        return Test("false")
    if vtype != TEXT and (ci or kind in STRING_KINDS):
        return Test("false")
    if kind not in ("exact", *STRING_KINDS, *ORDER_KINDS):  # pragma: no cover - schema validates kinds
        return Test("false")
    if (isinstance(value, float) and math.isnan(value)) or (isinstance(value, Decimal) and value.is_nan()):
        return Test("false")
    if ci:
        value = simple_fold(value)
    return Test(kind, vtype, value, ci)


# --------------------------------------------------------------------------------------------------
# numbers: compared by the decimal value written
# --------------------------------------------------------------------------------------------------
#: Integers up to this size (in absolute value) are doubles exactly: an int and a float compare directly.
EXACT_FLOAT_INTS = 2**53


def as_decimal(value: Any) -> Decimal | None:
    """The decimal value a number stands for: an ``int`` exactly, a ``float`` as its shortest ``repr``
    (``0.1`` is one tenth), a ``Decimal`` as itself; ``None`` for NaN and for anything not a number
    (``bool`` included)."""
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


def number_compare(value: Any, kind: str, literal: Decimal) -> bool:
    """Whether ``value`` (any data) ``kind`` (``exact``, ``gt``, ``gte``, ``lt``, ``lte``) ``literal`` holds,
    exactly by decimal value; false for anything that is not a number, and for NaN.

    The slow, general path: the generated code compares ``int`` and ``float`` data directly where that is
    exact, and comes here for the rest (``Decimal`` data, integers beyond 2**53 against floats).
    """
    d = as_decimal(value)
    if d is None:
        return False
    if kind == "exact":
        return d == literal
    if kind == "gt":
        return d > literal
    if kind == "gte":
        return d >= literal
    if kind == "lt":
        return d < literal
    return d <= literal
