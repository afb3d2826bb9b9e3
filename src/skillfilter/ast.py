"""The expression tree: frozen, slotted nodes.

Every node carries an optional source :class:`Span`; spans take no part in equality or hashing, so
``parse("a=1") == parse("  a = 1 ")``.  Literal values compare *with their type*: ``a=1``, ``a=1.0`` and
``a=true`` are three different trees (Python would call ``1 == 1.0 == True``).

Composition: ``&``, ``|`` and ``~`` build new trees, flattening nested ``and``/``or`` as the parser does.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from .operators import Precedence

__all__ = [
    "And",
    "Comparison",
    "CustomProperty",
    "Expr",
    "FieldRef",
    "Literal",
    "Not",
    "Or",
    "Span",
    "Transformer",
    "Visitor",
]

#: A literal as the parser produces it (``str``, ``int``, ``float``, ``bool``, ``None``); after validation
#: against a schema a literal may also be a ``date`` or a timezone-aware ``datetime``.
Literal = str | int | float | bool | None | _dt.date | _dt.datetime

#: Trees deeper than this cannot be built at all (the parser's configurable limit is at most this), so
#: every recursive walk over a tree stays far from Python's recursion limit.
HARD_MAX_DEPTH = 200


@dataclass(frozen=True, slots=True)
class Span:
    """Half-open ``[start, end)`` character offsets into the filter text."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class FieldRef:
    """``job__job_family__external_id``: relations first, the field last."""

    path: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.path[-1]

    @property
    def relations(self) -> tuple[str, ...]:
        return self.path[:-1]

    def text(self) -> str:
        return "__".join(self.path)


@dataclass(frozen=True, slots=True)
class CustomProperty:
    """``cp_language``: the custom property ``language``."""

    name: str

    @property
    def path(self) -> tuple[str, ...]:
        return ("cp_" + self.name,)

    def text(self) -> str:
        return "cp_" + self.name


Target = FieldRef | CustomProperty


def _literal_key(value: Any) -> tuple[str, Any]:
    # The type name keeps 1, 1.0 and True apart; -0.0 and 0.0 stay apart too (they print differently).
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


class Expr:
    """Base of all nodes."""

    __slots__ = ()
    #: Binding strength (see :mod:`skillfilter.operators`); set on each subclass.
    precedence: ClassVar[int]

    # -- composition -------------------------------------------------------------------------------
    def __and__(self, other: Expr) -> Expr:
        if not isinstance(other, Expr):
            return NotImplemented
        return And.of(self, other)

    def __or__(self, other: Expr) -> Expr:
        if not isinstance(other, Expr):
            return NotImplemented
        return Or.of(self, other)

    def __invert__(self) -> Expr:
        return Not(self)

    # -- inspection --------------------------------------------------------------------------------
    @property
    def depth(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    def children(self) -> tuple[Expr, ...]:
        return ()

    def walk(self) -> Iterator[Expr]:
        """All nodes, pre-order, without recursion."""
        stack: list[Expr] = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children()))

    def comparisons(self) -> Iterator[Comparison]:
        for node in self.walk():
            if isinstance(node, Comparison):
                yield node

    def logical_operator_count(self) -> int:
        """The number of ``and``/``or``/``not`` keywords the canonical text has (LANGUAGE.md section 2)."""
        count = 0
        for node in self.walk():
            if isinstance(node, (And, Or)):
                count += len(node.operands) - 1
            elif isinstance(node, Not):
                count += 1
        return count

    def __str__(self) -> str:
        from .printer import to_text

        return to_text(self)


def _check_depth(depth: int) -> None:
    if depth > HARD_MAX_DEPTH:
        from .errors import FilterError

        raise FilterError(f"expression nested deeper than {HARD_MAX_DEPTH} levels")


@dataclass(frozen=True, slots=True, eq=False)
class Comparison(Expr):
    """``target__op=value``."""

    target: Target
    op: str
    value: Literal
    span: Span | None = field(default=None, repr=False)
    #: Span of the left-hand side (field reference with its operator) and of the literal.
    target_span: Span | None = field(default=None, repr=False)
    value_span: Span | None = field(default=None, repr=False)

    precedence: ClassVar[int] = Precedence.ATOM

    @property
    def depth(self) -> int:
        return 1

    def _key(self) -> tuple[Any, ...]:
        return (self.target, self.op, _literal_key(self.value))

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not Comparison:
            return NotImplemented
        assert isinstance(other, Comparison)
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(("cmp", *self._key()))

    def replace(self, **changes: Any) -> Comparison:
        """A copy with some fields changed (``target``, ``op``, ``value`` and the spans)."""
        unknown = set(changes) - {"target", "op", "value", "span", "target_span", "value_span"}
        if unknown:
            raise TypeError(f"Comparison has no field {sorted(unknown)[0]!r}")
        return Comparison(
            changes.get("target", self.target),
            changes.get("op", self.op),
            changes.get("value", self.value),
            changes.get("span", self.span),
            changes.get("target_span", self.target_span),
            changes.get("value_span", self.value_span),
        )


class _NAry(Expr):
    __slots__ = ()
    operands: tuple[Expr, ...]
    keyword_spans: tuple[Span, ...] | None

    @classmethod
    def of(cls, *operands: Expr) -> Expr:
        """Combine, flattening operands of the same kind; one operand is returned as it is."""
        flat: list[Expr] = []
        for op in operands:
            if op.__class__ is cls:
                assert isinstance(op, _NAry)
                flat.extend(op.operands)
            else:
                flat.append(op)
        if len(flat) == 1:
            return flat[0]
        return cls(tuple(flat))  # type: ignore[call-arg]

    def children(self) -> tuple[Expr, ...]:
        return self.operands

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, _NAry)
        return self.operands == other.operands

    def __hash__(self) -> int:
        return hash((self.__class__.__name__, self.operands))


@dataclass(frozen=True, slots=True, eq=False)
class And(_NAry):
    """``a and b and ...`` (two or more operands, none of them an ``And``)."""

    operands: tuple[Expr, ...]
    #: Spans of the ``and`` keywords, in order (absent for trees built in Python).
    keyword_spans: tuple[Span, ...] | None = field(default=None, repr=False)
    span: Span | None = field(default=None, repr=False)
    _depth: int = field(default=0, repr=False, init=False)

    precedence: ClassVar[int] = Precedence.AND
    keyword: ClassVar[str] = "and"

    def __post_init__(self) -> None:
        _validate_nary(self)

    @property
    def depth(self) -> int:
        return self._depth


@dataclass(frozen=True, slots=True, eq=False)
class Or(_NAry):
    """``a or b or ...`` (two or more operands, none of them an ``Or``)."""

    operands: tuple[Expr, ...]
    keyword_spans: tuple[Span, ...] | None = field(default=None, repr=False)
    span: Span | None = field(default=None, repr=False)
    _depth: int = field(default=0, repr=False, init=False)

    precedence: ClassVar[int] = Precedence.OR
    keyword: ClassVar[str] = "or"

    def __post_init__(self) -> None:
        _validate_nary(self)

    @property
    def depth(self) -> int:
        return self._depth


def _validate_nary(node: And | Or) -> None:
    if len(node.operands) < 2:
        raise ValueError(f"{type(node).__name__} needs at least two operands")
    depth = 1
    for op in node.operands:
        if not isinstance(op, Expr):
            raise TypeError(f"operand {op!r} is not an expression")
        if op.__class__ is node.__class__:
            raise ValueError(f"{type(node).__name__} operands must be flattened")
        depth = max(depth, op.depth + 1)
    _check_depth(depth)
    object.__setattr__(node, "_depth", depth)


@dataclass(frozen=True, slots=True, eq=False)
class Not(Expr):
    """``not operand``."""

    operand: Expr
    span: Span | None = field(default=None, repr=False)
    _depth: int = field(default=0, repr=False, init=False)

    precedence: ClassVar[int] = Precedence.NOT
    keyword: ClassVar[str] = "not"

    def __post_init__(self) -> None:
        if not isinstance(self.operand, Expr):
            raise TypeError(f"operand {self.operand!r} is not an expression")
        depth = self.operand.depth + 1
        _check_depth(depth)
        object.__setattr__(self, "_depth", depth)

    @property
    def depth(self) -> int:
        return self._depth

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not Not:
            return NotImplemented
        assert isinstance(other, Not)
        return self.operand == other.operand

    def __hash__(self) -> int:
        return hash(("not", self.operand))


T = TypeVar("T")


class Visitor(Generic[T]):
    """Dispatch on node type: define ``visit_Comparison``, ``visit_And``, ``visit_Or``, ``visit_Not``.

    ``generic_visit`` is called for a node without a method of its own.
    """

    def visit(self, node: Expr) -> T:
        method: Callable[[Any], T] = getattr(self, "visit_" + type(node).__name__, self.generic_visit)
        return method(node)

    def generic_visit(self, node: Expr) -> T:
        raise NotImplementedError(f"no visit_{type(node).__name__} on {type(self).__name__}")


class Transformer(Visitor[Expr]):
    """A visitor that rebuilds the tree bottom-up; override a ``visit_*`` to change some nodes.

    Rebuilt ``and``/``or`` nodes are flattened again, so a transformer may return any expression.
    """

    def visit_Comparison(self, node: Comparison) -> Expr:
        return node

    def visit_And(self, node: And) -> Expr:
        new = tuple(self.visit(op) for op in node.operands)
        if all(a is b for a, b in zip(new, node.operands, strict=True)):
            return node
        return And.of(*new)

    def visit_Or(self, node: Or) -> Expr:
        new = tuple(self.visit(op) for op in node.operands)
        if all(a is b for a, b in zip(new, node.operands, strict=True)):
            return node
        return Or.of(*new)

    def visit_Not(self, node: Not) -> Expr:
        new = self.visit(node.operand)
        if new is node.operand:
            return node
        return Not(new, node.span)
