"""What one comparison asks of one value: the :class:`Test` of a plan's atom, shared by every backend.

:func:`make_test` applies LANGUAGE.md rule 2 (``is_null`` and ``= null``), rule 7 (which operator kinds a
literal's type takes: anything else is a test that never holds) and rule 5 (case mapping of the literal)
once, so that every backend starts from the same decision.  The value rules themselves (dates, numbers by
decimal value, the case mapping) live in :mod:`skillfilter.semantics.values`.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any

from ..semantics.operators import ORDER_KINDS, STRING_KINDS, OpKind, ValueType
from ..semantics.values import EXACT_FLOAT_INTS, as_decimal, simple_fold

__all__ = [
    "BOOLEAN", "DATE", "DATETIME", "EXACT_FLOAT_INTS", "NUMBER", "ORDER_KINDS", "STRING_KINDS", "TEXT",
    "Test", "TestKind", "as_decimal", "make_test",
]

#: Value types a test compares with (the literal's type after conversion; ``str`` enums).
TEXT, NUMBER, BOOLEAN, DATE, DATETIME = (
    ValueType.TEXT, ValueType.NUMBER, ValueType.BOOLEAN, ValueType.DATE, ValueType.DATETIME
)


class TestKind(str, Enum):
    """What a :class:`Test` does (a ``str`` enum: equal to, and printed as, its value)."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    #: The value is null (``is_null=true``, ``=null``).
    ISNULL = "isnull"
    #: The value is not null (``is_null=false``).
    NOTNULL = "notnull"
    #: Never holds (rule 7: an operator the literal's type does not take; a NaN literal).
    FALSE = "false"
    EXACT = OpKind.EXACT.value
    CONTAINS = OpKind.CONTAINS.value
    STARTSWITH = OpKind.STARTSWITH.value
    ENDSWITH = OpKind.ENDSWITH.value
    GT = OpKind.GT.value
    GTE = OpKind.GTE.value
    LT = OpKind.LT.value
    LTE = OpKind.LTE.value

    # Printed, formatted and repr'd as the plain string (generated code writes kinds with `!r`).
    __str__ = str.__str__
    __repr__ = str.__repr__


_TEST_KINDS: dict[str, TestKind] = {k.value: k for k in TestKind}


@dataclass(frozen=True, slots=True)
class Test:
    """One test on one value.

    ``kind`` (:class:`TestKind`) is ``isnull``, ``notnull``, ``false`` (never holds), or an operator kind
    (``exact``, ``contains``, ``startswith``, ``endswith``, ``gt``, ``gte``, ``lt``, ``lte``) applied with
    ``value`` of type ``vtype`` (:class:`~skillfilter.semantics.operators.ValueType`; ``""`` for the first
    three).  The operator kinds hold only for a value of the same type as the literal (rule 7): text is a
    ``str``; a number is an ``int``, ``float`` or ``Decimal`` (not a ``bool``) compared by decimal value
    (:func:`~skillfilter.semantics.values.as_decimal`); a boolean is ``True`` or ``False``; a date or
    datetime is ISO 8601 text or the Python object (:func:`~skillfilter.semantics.values.as_date`,
    :func:`~skillfilter.semantics.values.as_datetime`).  With ``ci`` the value is case-mapped first
    (:func:`~skillfilter.semantics.values.simple_fold`, rule 5) and ``value`` is already mapped.  A datetime
    ``value`` is always aware (UTC when the filter gave none); a number ``value`` is never NaN.
    """

    __test__ = False  # not a test class, whatever pytest thinks of the name

    kind: str
    vtype: str = ""
    value: Any = None
    ci: bool = False

    @property
    def null_truth(self) -> bool:
        """The test's answer for a null value."""
        return self.kind == TestKind.ISNULL


def make_test(kind: str, ci: bool, value: Any) -> Test:
    """The :class:`Test` for operator kind ``kind`` with literal ``value`` (already converted)."""
    if kind == OpKind.IS_NULL:
        return Test(TestKind.ISNULL if value else TestKind.NOTNULL)
    if value is None:
        return Test(TestKind.ISNULL if kind == OpKind.EXACT else TestKind.FALSE)
    vtype: ValueType
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
        return Test(TestKind.FALSE)
    # Rule 7: booleans take only exact; string operators and case mapping apply to text only.
    if vtype == BOOLEAN and kind != OpKind.EXACT:
        return Test(TestKind.FALSE)
    if vtype != TEXT and (ci or kind in STRING_KINDS):
        return Test(TestKind.FALSE)
    if kind != OpKind.EXACT and kind not in STRING_KINDS and kind not in ORDER_KINDS:  # pragma: no cover
        return Test(TestKind.FALSE)  # the schema validates kinds
    if (isinstance(value, float) and math.isnan(value)) or (isinstance(value, Decimal) and value.is_nan()):
        return Test(TestKind.FALSE)
    if ci:
        value = simple_fold(value)
    return Test(_TEST_KINDS[kind], vtype, value, ci)
