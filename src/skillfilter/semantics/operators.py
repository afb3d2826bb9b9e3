"""The one table of operators, and the one table of logical precedence.

Every stage reads these tables: the parser (which names end a field reference), the builder, the validator
(which types an operator takes), the printer and the SQL emitter (where parentheses go), and both backends
(what an operator means).  A schema may add operators per entity by registering more :class:`Operator`
entries (see :mod:`skillfilter.semantics.schema`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum
from types import MappingProxyType

__all__ = [
    "BUILTIN_OPERATORS",
    "KEYWORDS",
    "LOGICAL_KEYWORDS",
    "OPERATOR_NAMES",
    "Operator",
    "Precedence",
]


class Precedence(IntEnum):
    """Binding strength, weakest first: ``not`` > ``and`` > ``or`` (Python's)."""

    OR = 1
    AND = 2
    NOT = 3
    ATOM = 4


#: Logical keyword -> its precedence; the grammar's rule nesting (``or_expr`` over ``and_expr`` over
#: ``not_expr``) follows this order, which ``tests/test_precedence.py`` checks against the parser.
LOGICAL_KEYWORDS: Mapping[str, Precedence] = MappingProxyType(
    {"or": Precedence.OR, "and": Precedence.AND, "not": Precedence.NOT}
)

#: Words that cannot be a field reference on their own.
KEYWORDS = frozenset({"and", "or", "not", "true", "false", "null"})

#: Value kinds an operator may take (schema field types map onto these).
TEXT = "text"
NUMBER = "number"
BOOLEAN = "boolean"
TEMPORAL = "temporal"  # date and datetime


@dataclass(frozen=True, slots=True)
class Operator:
    """One lookup.

    ``kind`` says what it does:

    - ``"exact"``: equality (``null`` allowed, meaning ``is_null=true``);
    - ``"is_null"``: takes ``true``/``false``;
    - ``"contains"``, ``"startswith"``, ``"endswith"``: substring tests on text;
    - ``"gt"``, ``"gte"``, ``"lt"``, ``"lte"``: ordering.

    ``case_insensitive`` applies the simple case mapping of LANGUAGE.md rule 5 to both sides first.
    ``kinds`` lists the value kinds (``text``, ``number``, ``boolean``, ``temporal``) it takes.
    """

    name: str
    kind: str
    case_insensitive: bool = False
    kinds: frozenset[str] = frozenset({TEXT, NUMBER, BOOLEAN, TEMPORAL})
    description: str = ""


_STRINGY = frozenset({TEXT})
_ORDERED = frozenset({TEXT, NUMBER, TEMPORAL})

BUILTIN_OPERATORS: Mapping[str, Operator] = MappingProxyType(
    {
        op.name: op
        for op in (
            Operator("exact", "exact", description="equal (the default operator)"),
            Operator("iexact", "exact", True, _STRINGY, "equal, ignoring case"),
            Operator("contains", "contains", False, _STRINGY, "contains the text"),
            Operator("icontains", "contains", True, _STRINGY, "contains the text, ignoring case"),
            Operator("startswith", "startswith", False, _STRINGY, "starts with the text"),
            Operator("istartswith", "startswith", True, _STRINGY, "starts with the text, ignoring case"),
            Operator("endswith", "endswith", False, _STRINGY, "ends with the text"),
            Operator("iendswith", "endswith", True, _STRINGY, "ends with the text, ignoring case"),
            Operator("gt", "gt", False, _ORDERED, "greater than"),
            Operator("gte", "gte", False, _ORDERED, "greater than or equal"),
            Operator("lt", "lt", False, _ORDERED, "less than"),
            Operator("lte", "lte", False, _ORDERED, "less than or equal"),
            Operator("is_null", "is_null", description="is null (true) or is not null (false)"),
        )
    }
)

#: The names the parser recognises as an operator at the end of a field reference.
OPERATOR_NAMES = frozenset(BUILTIN_OPERATORS)


def simple_fold(text: str) -> str:
    """LANGUAGE.md rule 5: map each character to its upper case where that is one character."""
    if text.isascii():
        return text.upper()
    return "".join(_fold_char(c) for c in text)


def _fold_char(c: str) -> str:
    u = c.upper()
    return u if len(u) == 1 else c
