"""Walking a tree: :class:`Visitor` (dispatch on the node type, top-down or bottom-up) and
:class:`Transformer` (rebuild a tree, changing some nodes).

Both are exported by :mod:`skillfilter` and by :mod:`skillfilter.language.ast`.  The library's own stages
are visitors: the printer (canonical text and spans), the validator's spans, the Django integration.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Generic, TypeVar

from .ast import And, Comparison, Expr, Not, Or, _NAry

__all__ = ["Transformer", "Visitor"]

T = TypeVar("T")

#: Node class -> the name of its ``visit_*`` method (filled on first use).
_VISIT_NAMES: dict[type, str] = {}


#: Visitor class -> node class -> its ``leave_*`` function (or ``generic_leave``).
_LEAVE_FUNCTIONS: dict[type, dict[type, Callable[..., Any]]] = {}


def _leave_table(visitor: type) -> dict[type, Callable[..., Any]]:
    table = _LEAVE_FUNCTIONS.get(visitor)
    if table is None:
        table = _LEAVE_FUNCTIONS[visitor] = {}
    return table


def _leave_function(visitor: type, cls: type) -> Callable[..., Any]:
    fn: Callable[..., Any] = getattr(visitor, "leave_" + cls.__name__, None) or visitor.generic_leave  # type: ignore[attr-defined]
    _leave_table(visitor)[cls] = fn
    return fn


def _method_name(table: dict[type, str], prefix: str, cls: type) -> str:
    name = table.get(cls)
    if name is None:
        name = table[cls] = prefix + cls.__name__
    return name


class Visitor(Generic[T]):
    """Dispatch on the node type, in one of two ways.

    **Top-down**, :meth:`visit`: calls ``visit_Comparison``, ``visit_And``, ``visit_Or`` or ``visit_Not``
    with the node; the method decides whether and how to go on (it calls ``self.visit`` on the children
    it wants).  ``generic_visit`` is called for a node without a method of its own.  A tree is at most
    :data:`MAX_DEPTH` levels deep, so this recursion stays far from Python's limit.

    **Bottom-up**, :meth:`fold`: visits every node after its children, with an explicit stack (no
    recursion at all), and hands each method what the children gave: ``leave_Comparison(node)``,
    ``leave_Not(node, operand)`` and ``leave_And(node, operands)`` / ``leave_Or(node, operands)`` (a new
    list, in order, which the method may keep or change).  ``generic_leave`` is called for a node without
    a method.  The library's own stages (the printer, the Django integration) are folds.

    >>> from skillfilter import parse
    >>> class Count(Visitor[int]):
    ...     def leave_Comparison(self, node): return 1
    ...     def leave_Not(self, node, operand): return operand
    ...     def leave_And(self, node, operands): return sum(operands)
    ...     leave_Or = leave_And
    >>> Count().fold(parse("a=1 or not (b=2 and c=3)"))
    3
    """

    def visit(self, node: Expr) -> T:
        method: Callable[[Any], T] = getattr(
            self, _VISIT_NAMES.get(node.__class__) or _method_name(_VISIT_NAMES, "visit_", node.__class__),
            self.generic_visit,
        )
        return method(node)

    def generic_visit(self, node: Expr) -> T:
        raise NotImplementedError(f"no visit_{type(node).__name__} on {type(self).__name__}")

    def fold(self, node: Expr) -> T:
        """The result of ``leave_*`` on ``node``, each node's children folded first; not recursive.

        The ``leave_*`` methods are looked up on the class (once per visitor class and node class).
        """
        leave = _leave_table(type(self))
        children = node.children()
        if not children:  # a lone comparison: no stacks
            fn = leave.get(node.__class__) or _leave_function(type(self), node.__class__)
            lone: T = fn(self, node)
            return lone
        # Pre-order with the children pushed left to right, so popped right to left: reversed, that is
        # post-order with each node's children left to right before it.
        order: list[tuple[Expr, tuple[Expr, ...]]] = []
        stack = [node]
        while stack:
            current = stack.pop()
            children = current.children()
            order.append((current, children))
            stack.extend(children)
        results: list[Any] = []
        for current, children in reversed(order):
            cls = current.__class__
            fn = leave.get(cls) or _leave_function(type(self), cls)
            if not children:
                results.append(fn(self, current))
            elif cls is Not:
                results[-1] = fn(self, current, results[-1])
            else:
                size = len(children)
                done = results[-size:]
                del results[-size:]
                results.append(fn(self, current, done))
        result: T = results[0]
        return result

    def generic_leave(self, node: Expr, *children: Any) -> T:
        raise NotImplementedError(f"no leave_{type(node).__name__} on {type(self).__name__}")


class Transformer(Visitor[Expr]):
    """A visitor that rebuilds the tree bottom-up; override a ``visit_*`` to change some nodes.

    Rebuilt ``and``/``or`` nodes are flattened again, so a transformer may return any expression, and
    nodes whose parts are all unchanged are kept (the same objects, spans included).  An overriding
    method gets the original node and decides about its children (``self.visit(child)``, or
    ``super().visit_And(node)`` to transform them all); the default methods run without recursion.
    """

    #: Per transformer class: node class -> whether its ``visit_*`` is this class's own default (methods
    #: are looked up on the class).
    _defaults: ClassVar[dict[type, bool]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._defaults = {}

    def _is_default(self, cls: type) -> bool:
        defaults = type(self)._defaults
        found = defaults.get(cls)
        if found is None:
            name = _method_name(_VISIT_NAMES, "visit_", cls)
            mine = getattr(type(self), name, None)
            found = defaults[cls] = mine is not None and mine is getattr(Transformer, name, None)
        return found

    def visit(self, node: Expr) -> Expr:
        if not self._is_default(node.__class__):
            return super().visit(node)
        results: list[Expr] = []
        todo: list[tuple[Expr, bool]] = [(node, False)]
        pop, push = todo.pop, todo.append
        while todo:
            current, entered = pop()
            cls = current.__class__
            if not self._is_default(cls):
                results.append(super().visit(current))
            elif cls is Comparison:
                results.append(current)
            elif not entered:
                push((current, True))
                for child in reversed(current.children()):
                    push((child, False))
            elif cls is Not:
                assert isinstance(current, Not)
                new = results[-1]
                if new is not current.operand:
                    results[-1] = Not(new, current.span)
                else:
                    results[-1] = current
            else:
                assert isinstance(current, _NAry)
                old = current.operands
                size = len(old)
                parts = tuple(results[-size:])
                del results[-size:]
                same = all(a is b for a, b in zip(parts, old, strict=True))
                results.append(current if same else type(current).of(*parts))
        return results[0]

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

