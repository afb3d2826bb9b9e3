"""The expression tree: frozen, slotted nodes (written out by hand: no ``dataclasses`` at start-up).

Every node carries an optional source :class:`Span`; spans take no part in equality or hashing, so
``parse("a=1") == parse("  a = 1 ")``.  Literal values compare *with their type*: ``a=1``, ``a=1.0`` and
``a=true`` are three different trees (Python would call ``1 == 1.0 == True``).

Composition: ``&``, ``|`` and ``~`` build new trees, flattening nested ``and``/``or`` as the parser does.
"""

from __future__ import annotations

from collections.abc import Iterator
from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar

from ..semantics.operators import Precedence

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

if TYPE_CHECKING:
    import datetime as _dt
    from typing import TypeAlias

    from .visitor import Transformer, Visitor

    #: A literal as the parser produces it (``str``, ``int``, ``float``, ``bool``, ``None``); after
    #: validation against a schema a literal may also be a ``date`` or a timezone-aware ``datetime``.
    Literal: TypeAlias = str | int | float | bool | _dt.date | _dt.datetime | None


def __getattr__(name: str) -> Any:
    # ``Literal`` is built on first use, so that importing the tree does not import ``datetime``; the
    # visitors live in their own module, which only the stages that walk a tree load.
    if name in ("Visitor", "Transformer"):
        from . import visitor

        return getattr(visitor, name)
    if name == "Literal":
        import datetime as _dt

        value = str | int | float | bool | _dt.date | _dt.datetime | None
        globals()["Literal"] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

#: The one depth limit: no tree deeper than this can be built, by the parser (whose default ``max_depth``
#: it is; ``parse(..., max_depth=N)`` may only lower it), the node classes, ``Q`` or ``& | ~``.  So every
#: tree prints as text that ``parse`` with default settings reads back, and every recursive walk over a
#: tree stays far from Python's recursion limit.  Depth counts nodes: ``a=1`` is 1, ``not a=1`` is 2.
MAX_DEPTH = 100
#: The former name of :data:`MAX_DEPTH`.
HARD_MAX_DEPTH = MAX_DEPTH


class _Frozen:
    """Frozen, slotted records written out by hand (a dataclass costs a process start-up about 0.3 ms
    per class): no assignment, ``repr`` of the fields in ``_shown``, pickling and copying by the fields
    in ``__match_args__`` (the constructor's arguments), equality and hashing by ``_key(record)`` between
    records of the same class (a C ``attrgetter`` of the compared fields where it can be)."""

    __slots__ = ()
    __match_args__: ClassVar[tuple[str, ...]]
    _shown: ClassVar[tuple[str, ...]]

    #: ``record -> what it compares by``: an ``attrgetter`` or a static method (typed ``Any``: mypy would
    #: read a callable class attribute as a method, bound to the record).
    _key: ClassVar[Any]

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        key = self._key
        return bool(key(self) == key(other))

    def __hash__(self) -> int:
        return hash(self._key(self))

    def __setattr__(self, name: str, value: object) -> None:
        _frozen(self, name)

    def __delattr__(self, name: str) -> None:
        _frozen(self, name)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._shown)
        return f"{self.__class__.__qualname__}({fields})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, tuple(getattr(self, name) for name in self.__match_args__))

    def __copy__(self) -> Any:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        return self


class Span(_Frozen):
    """Half-open ``[start, end)`` character offsets into the filter text."""

    __slots__ = ("end", "start")
    __match_args__ = _shown = ("start", "end")
    start: int
    end: int

    def __init__(self, start: int, end: int) -> None:
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)

    _key = attrgetter("start", "end")


class FieldRef(_Frozen):
    """``job__job_family__external_id``: relations first, the field last."""

    __slots__ = ("path",)
    __match_args__ = _shown = ("path",)
    path: tuple[str, ...]

    def __init__(self, path: tuple[str, ...]) -> None:
        object.__setattr__(self, "path", path)

    _key = attrgetter("path")

    def __hash__(self) -> int:  # the same hash as _Frozen's, without its indirection: the printer's memo
        return hash(self.path)  # and the planner's tables are keyed by targets

    @property
    def name(self) -> str:
        return self.path[-1]

    @property
    def relations(self) -> tuple[str, ...]:
        return self.path[:-1]

    def text(self) -> str:
        return "__".join(self.path)


class CustomProperty(_Frozen):
    """``cp_language``: the custom property ``language``."""

    __slots__ = ("name",)
    __match_args__ = _shown = ("name",)
    name: str

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "name", name)

    _key = attrgetter("name")

    def __hash__(self) -> int:  # as FieldRef's
        return hash(self.name)

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
    #: Binding strength (see :mod:`skillfilter.semantics.operators`); set on each subclass.
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
    if depth > MAX_DEPTH:
        from ..errors import FilterError

        raise FilterError(
            f"expression nested {depth} levels deep; "
            f"the limit (skillfilter.language.ast.MAX_DEPTH) is {MAX_DEPTH} levels"
        )


class Comparison(_Frozen, Expr):
    """``target__op=value``."""

    __slots__ = ("op", "span", "target", "target_span", "value", "value_span")
    __match_args__ = ("target", "op", "value", "span", "target_span", "value_span")
    _shown = ("target", "op", "value")
    target: Target
    op: str
    value: Literal
    span: Span | None
    #: Span of the left-hand side (field reference with its operator) and of the literal.
    target_span: Span | None
    value_span: Span | None

    precedence: ClassVar[int] = Precedence.ATOM

    def __init__(  # noqa: PLR0917 - positional, as the dataclass it was
        self,
        target: Target,
        op: str,
        value: Literal,
        span: Span | None = None,
        target_span: Span | None = None,
        value_span: Span | None = None,
    ) -> None:
        _set = object.__setattr__
        _set(self, "target", target)
        _set(self, "op", op)
        _set(self, "value", value)
        _set(self, "span", span)
        _set(self, "target_span", target_span)
        _set(self, "value_span", value_span)

    @property
    def depth(self) -> int:
        return 1

    @staticmethod
    def _key(node: Comparison) -> tuple[Any, ...]:
        return (node.target, node.op, _literal_key(node.value))

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
    """``and``/``or``: frozen and slotted like the other nodes, written out by hand so that composing
    with ``&``/``|`` is O(1) (see :mod:`skillfilter.language.compose`): ``x | y`` records its two parts
    (``_parts``) and flattens them into ``operands`` only when that is first read."""

    __slots__ = ("_depth", "_operands", "_parts", "_size", "keyword_spans", "span")
    __match_args__ = ("operands", "keyword_spans", "span")
    keyword: ClassVar[str]
    _depth: int
    _size: int
    _operands: tuple[Expr, ...] | None
    _parts: tuple[Expr, Expr] | None
    #: Spans of the keywords, in order (absent for trees built in Python).
    keyword_spans: tuple[Span, ...] | None
    span: Span | None

    def __init__(
        self,
        operands: tuple[Expr, ...],
        keyword_spans: tuple[Span, ...] | None = None,
        span: Span | None = None,
    ) -> None:
        cls = self.__class__
        if len(operands) < 2:
            raise ValueError(f"{cls.__name__} needs at least two operands")
        depth = 1
        for op in operands:
            if not isinstance(op, Expr):
                raise TypeError(f"operand {op!r} is not an expression")
            if op.__class__ is cls:
                raise ValueError(f"{cls.__name__} operands must be flattened")
            depth = max(depth, op.depth + 1)
        _check_depth(depth)
        _set = object.__setattr__
        _set(self, "_operands", operands)
        _set(self, "_parts", None)
        _set(self, "_size", len(operands))
        _set(self, "_depth", depth)
        _set(self, "keyword_spans", keyword_spans)
        _set(self, "span", span)

    @classmethod
    def of(cls, *operands: Expr) -> Expr:
        """Combine, flattening operands of the same kind; one operand is returned as it is."""
        from .compose import combine

        return combine(cls, operands)

    @property
    def operands(self) -> tuple[Expr, ...]:
        """The operands (two or more, none of this node's own kind)."""
        ops = self._operands
        if ops is None:  # joined by `&`/`|`: flattened on first read
            from .compose import flatten

            ops = flatten(self)
        return ops

    @property
    def depth(self) -> int:
        return self._depth

    def children(self) -> tuple[Expr, ...]:
        return self.operands

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, _NAry)
        return self is other or (self._size == other._size and self.operands == other.operands)

    def __hash__(self) -> int:
        return hash((self.__class__.__name__, self.operands))

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}(operands={self.operands!r})"

    def __setattr__(self, name: str, value: object) -> None:
        _frozen(self, name)

    def __delattr__(self, name: str) -> None:
        _frozen(self, name)

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (self.operands, self.keyword_spans, self.span))

    def __copy__(self) -> _NAry:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _NAry:
        return self


def _frozen(node: object, name: str) -> None:
    from dataclasses import FrozenInstanceError

    raise FrozenInstanceError(f"cannot assign to field {name!r} of {type(node).__name__}")


class And(_NAry):
    """``a and b and ...`` (two or more operands, none of them an ``And``)."""

    __slots__ = ()
    precedence: ClassVar[int] = Precedence.AND
    keyword: ClassVar[str] = "and"


class Or(_NAry):
    """``a or b or ...`` (two or more operands, none of them an ``Or``)."""

    __slots__ = ()
    precedence: ClassVar[int] = Precedence.OR
    keyword: ClassVar[str] = "or"


class Not(_Frozen, Expr):
    """``not operand``."""

    __slots__ = ("_depth", "operand", "span")
    __match_args__ = ("operand", "span")
    _shown = ("operand",)
    operand: Expr
    span: Span | None
    _depth: int

    precedence: ClassVar[int] = Precedence.NOT
    keyword: ClassVar[str] = "not"

    def __init__(self, operand: Expr, span: Span | None = None) -> None:
        if not isinstance(operand, Expr):
            raise TypeError(f"operand {operand!r} is not an expression")
        depth = operand.depth + 1
        _check_depth(depth)
        _set = object.__setattr__
        _set(self, "operand", operand)
        _set(self, "span", span)
        _set(self, "_depth", depth)

    @property
    def depth(self) -> int:
        return self._depth

    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)

    _key = attrgetter("operand")
