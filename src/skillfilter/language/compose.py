"""Composing trees: ``&``, ``|``, ``And.of`` and ``Or.of`` (loaded on first use, so that parsing and printing
do not compile it).

``x | y`` records its two parts in O(1) and flattens them into ``operands`` (once, without recursion) only
when that is first read, so ``q = q | Q(a=i)`` in a loop is linear overall.
"""

from __future__ import annotations

from collections.abc import Sequence

from .ast import Expr, _check_depth, _NAry

__all__ = ["combine", "flatten"]


def combine(cls: type[_NAry], operands: Sequence[Expr]) -> Expr:
    """``cls.of(*operands)``: combine, flattening operands of the same kind; one operand is returned as
    it is."""
    if len(operands) == 2:
        left, right = operands
        if not isinstance(left, Expr) or not isinstance(right, Expr):
            bad = right if isinstance(left, Expr) else left
            raise TypeError(f"operand {bad!r} is not an expression")
        return _join(cls, left, right)
    flat: list[Expr] = []
    for op in operands:
        if op.__class__ is cls:
            assert isinstance(op, _NAry)
            flat.extend(op.operands)
        else:
            flat.append(op)
    if len(flat) == 1:
        return flat[0]
    return cls(tuple(flat))


def _join(cls: type[_NAry], left: Expr, right: Expr) -> Expr:
    """``left`` and ``right`` joined by the keyword of ``cls``, flattened lazily: O(1)."""
    depth = max(
        left.depth if left.__class__ is cls else left.depth + 1,
        right.depth if right.__class__ is cls else right.depth + 1,
    )
    _check_depth(depth)
    size = (left._size if isinstance(left, _NAry) and left.__class__ is cls else 1) + (
        right._size if isinstance(right, _NAry) and right.__class__ is cls else 1
    )
    node = object.__new__(cls)
    _set = object.__setattr__
    _set(node, "_operands", None)
    _set(node, "_parts", (left, right))
    _set(node, "_size", size)
    _set(node, "_depth", depth)
    _set(node, "keyword_spans", None)
    _set(node, "span", None)
    return node


def flatten(joined: _NAry) -> tuple[Expr, ...]:
    """The operands of a node made by ``_join``, recorded in it (its parts are then dropped)."""
    cls = joined.__class__
    out: list[Expr] = []
    stack: list[Expr] = [joined]
    while stack:
        node = stack.pop()
        if node.__class__ is not cls:
            out.append(node)
            continue
        assert isinstance(node, _NAry)
        # Another thread may be flattening `node` too: it sets `_operands` before clearing `_parts`.
        parts = node._parts
        ops = node._operands
        if ops is not None:
            out.extend(ops)
        elif parts is not None:
            stack.append(parts[1])
            stack.append(parts[0])
        else:  # pragma: no cover - flattened by another thread in between
            out.extend(node.operands)
    result = tuple(out)
    object.__setattr__(joined, "_operands", result)
    object.__setattr__(joined, "_parts", None)
    return result
