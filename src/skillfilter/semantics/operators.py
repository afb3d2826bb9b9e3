"""The one table of operators, the one table of logical precedence, the kind names, and the lookup rules.

Every stage reads these tables: the parser (which names end a field reference), the builder, the validator
(which types an operator takes), the printer and the SQL emitter (where parentheses go), and both backends
(what an operator means).  A schema may add operators per entity by registering more :class:`Operator`
entries (see :mod:`skillfilter.semantics.schema`).

The names stages compare are enums here, based on ``str`` so that a member equals (and hashes as, and prints
as) its value while callers migrate from plain strings: :class:`OpKind` (what an operator does),
:class:`ValueKind` (what an operator takes), :class:`FieldType` (what a schema declares) and
:class:`ValueType` (a converted literal's type).  :func:`lookup_value_problem` is the rule on ``is_null``
and ``null`` (LANGUAGE.md rule 2) that the parser, the builder, the printer and the validator apply.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum, IntEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .frozen import Frozen

if TYPE_CHECKING:
    from .values import simple_fold

__all__ = [
    "BUILTIN_OPERATORS",
    "FIELD_KIND",
    "KEYWORDS",
    "LOGICAL_KEYWORDS",
    "OPERATOR_NAMES",
    "FieldType",
    "OpKind",
    "Operator",
    "Precedence",
    "ValueKind",
    "ValueType",
    "lookup_value_problem",
    "simple_fold",
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

class _StrEnum(str, Enum):
    """A ``str`` enum that equals, hashes, formats, prints and even ``repr``s as its value (``repr`` too,
    so that code generated with ``{kind!r}`` and messages stay as they were while callers migrate)."""

    def __str__(self) -> str:
        return str.__str__(self)

    def __format__(self, spec: str) -> str:
        return str.__format__(self, spec)

    def __repr__(self) -> str:
        return str.__repr__(self)


class OpKind(_StrEnum):
    """What an operator does (an :class:`Operator`'s ``kind``)."""

    EXACT = "exact"  # equality (`null` allowed, meaning `is_null=true`)
    IS_NULL = "is_null"  # takes `true`/`false`
    CONTAINS = "contains"
    STARTSWITH = "startswith"
    ENDSWITH = "endswith"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"


#: The substring tests (text only) and the orderings.
STRING_KINDS = frozenset({OpKind.CONTAINS, OpKind.STARTSWITH, OpKind.ENDSWITH})
ORDER_KINDS = frozenset({OpKind.GT, OpKind.GTE, OpKind.LT, OpKind.LTE})


class ValueKind(_StrEnum):
    """What an operator takes (an :class:`Operator`'s ``kinds``); every field type has one."""

    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    TEMPORAL = "temporal"  # date and datetime


class FieldType(_StrEnum):
    """The types a schema may declare for a field (and, but ``integer`` and ``date``, a custom property)."""

    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    LIST_TEXT = "list[text]"

    @property
    def kind(self) -> ValueKind:
        """The :class:`ValueKind` whose operators a field of this type takes."""
        return FIELD_KIND[self]


#: Field type -> the value kind whose operators it takes (also looked up by the type's plain name).
FIELD_KIND: Mapping[str, ValueKind] = MappingProxyType({
    FieldType.TEXT: ValueKind.TEXT,
    FieldType.LIST_TEXT: ValueKind.TEXT,
    FieldType.INTEGER: ValueKind.NUMBER,
    FieldType.NUMBER: ValueKind.NUMBER,
    FieldType.BOOLEAN: ValueKind.BOOLEAN,
    FieldType.DATE: ValueKind.TEMPORAL,
    FieldType.DATETIME: ValueKind.TEMPORAL,
})


class ValueType(_StrEnum):
    """The type of a literal once converted (what a test compares with)."""

    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"


# The value kinds by their old names (strings compare equal to them).
TEXT = ValueKind.TEXT
NUMBER = ValueKind.NUMBER
BOOLEAN = ValueKind.BOOLEAN
TEMPORAL = ValueKind.TEMPORAL
_ALL_KINDS = frozenset(ValueKind)


class Operator(Frozen):
    """One lookup.

    ``kind`` says what it does:

    - ``"exact"``: equality (``null`` allowed, meaning ``is_null=true``);
    - ``"is_null"``: takes ``true``/``false``;
    - ``"contains"``, ``"startswith"``, ``"endswith"``: substring tests on text;
    - ``"gt"``, ``"gte"``, ``"lt"``, ``"lte"``: ordering.

    ``case_insensitive`` applies the simple case mapping of LANGUAGE.md rule 5 to both sides first.
    ``kinds`` lists the value kinds (``text``, ``number``, ``boolean``, ``temporal``) it takes.
    """

    __slots__ = __match_args__ = _fields = ("name", "kind", "case_insensitive", "kinds", "description")

    name: str
    kind: OpKind
    case_insensitive: bool
    kinds: frozenset[str]
    description: str

    def __init__(
        self,
        name: str,
        kind: OpKind,
        case_insensitive: bool = False,
        kinds: frozenset[str] = _ALL_KINDS,
        description: str = "",
    ) -> None:
        self._set_fields(name, kind, case_insensitive, kinds, description)


_STRINGY = frozenset({TEXT})
_ORDERED = frozenset({TEXT, NUMBER, TEMPORAL})

BUILTIN_OPERATORS: Mapping[str, Operator] = MappingProxyType(
    {
        op.name: op
        for op in (
            Operator("exact", OpKind.EXACT, description="equal (the default operator)"),
            Operator("iexact", OpKind.EXACT, True, _STRINGY, "equal, ignoring case"),
            Operator("contains", OpKind.CONTAINS, False, _STRINGY, "contains the text"),
            Operator("icontains", OpKind.CONTAINS, True, _STRINGY, "contains the text, ignoring case"),
            Operator("startswith", OpKind.STARTSWITH, False, _STRINGY, "starts with the text"),
            Operator("istartswith", OpKind.STARTSWITH, True, _STRINGY, "starts with the text, ignoring case"),
            Operator("endswith", OpKind.ENDSWITH, False, _STRINGY, "ends with the text"),
            Operator("iendswith", OpKind.ENDSWITH, True, _STRINGY, "ends with the text, ignoring case"),
            Operator("gt", OpKind.GT, False, _ORDERED, "greater than"),
            Operator("gte", OpKind.GTE, False, _ORDERED, "greater than or equal"),
            Operator("lt", OpKind.LT, False, _ORDERED, "less than"),
            Operator("lte", OpKind.LTE, False, _ORDERED, "less than or equal"),
            Operator("is_null", OpKind.IS_NULL, description="is null (true) or is not null (false)"),
        )
    }
)

#: The names the parser recognises as an operator at the end of a field reference.
OPERATOR_NAMES = frozenset(BUILTIN_OPERATORS)


# Read for every comparison parsed or printed: a plain dict and a module-level member (a read through the
# mapping proxy, or of a member from the enum class, costs more than the rest of the rule).
_BUILTIN_KINDS: dict[str, str] = {name: op.kind for name, op in BUILTIN_OPERATORS.items()}
_IS_NULL = OpKind.IS_NULL

#: Diagnostic codes of :func:`lookup_value_problem`.
SF211_IS_NULL_VALUE = "SF211"
SF212_NULL_OPERATOR = "SF212"


def lookup_value_problem(operator: Operator | str, value: object) -> str | None:
    """The lookup rule on ``is_null`` and ``null`` (LANGUAGE.md rule 2), for every stage that builds or
    checks a comparison: ``"SF211"`` when an operator of kind ``is_null`` gets anything but ``true`` or
    ``false``; ``"SF212"`` when ``null`` goes with another operator than ``exact``; else ``None``.

    ``operator`` is an :class:`Operator` or an operator's name (a name that is not a built-in operator is
    judged by the name alone).
    """
    kind: str
    if isinstance(operator, Operator):
        name, kind = operator.name, operator.kind
    else:
        name = operator
        kind = _BUILTIN_KINDS.get(operator, operator)
    if kind == _IS_NULL:
        return None if value is True or value is False else SF211_IS_NULL_VALUE
    if value is None and name != "exact":
        return SF212_NULL_OPERATOR
    return None



def __getattr__(name: str) -> Any:
    """``simple_fold``, re-exported from :mod:`.values` (where the case mapping lives) on first use, so
    that the parser, which needs only the tables here, does not load the value rules."""
    if name == "simple_fold":
        from .values import simple_fold

        return simple_fold
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
