"""``Q(**lookups)``: build expressions in Python, with the parser's rules for lookups."""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

from .ast import And, Comparison, Expr
from .errors import FilterSyntaxError
from .parser import parse_lookup
from .printer import format_lookup

__all__ = ["Q"]


def _literal(key: str, value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FilterSyntaxError(f"{value!r} cannot be written in a filter", key, 0, end=len(key))
        return value
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    raise TypeError(
        f"Q({key}=...) takes a str, int, float, bool, None, date or datetime, not {type(value).__name__}"
    )


def _comparison(key: str, value: Any) -> Comparison:
    target, op = parse_lookup(key)
    literal = _literal(key, value)
    if op == "is_null" and not isinstance(literal, bool):
        raise FilterSyntaxError("`is_null` takes `true` or `false`", key, 0, end=len(key), expected=["true", "false"])
    if literal is None and op != "exact":
        raise FilterSyntaxError(
            f"`null` cannot be used with `{op}`, only with `exact`",
            key,
            0,
            end=len(key),
            hint=f"to test for a missing value write `{target.text()}__is_null=True`",
        )
    node = Comparison(target, op, literal)
    # A lookup that would print as something else (a name ending in `_` before an operator) is refused,
    # so that every tree built here prints and parses back equal.
    if parse_lookup(format_lookup(node)) != (target, op):
        raise FilterSyntaxError(f"lookup `{key}` cannot be written unambiguously", key, 0, end=len(key))
    return node


def Q(**lookups: Any) -> Expr:  # noqa: N802 - the name Django users know
    """``Q(external_id__startswith='1', active=True)``: the lookups joined with ``and``.

    Combine with ``&``, ``|`` and ``~``, also with parsed expressions:
    ``Q(external_id__startswith='1') | ~Q(cp_language='de')``.  Dates and datetimes become ISO 8601 strings.
    """
    if not lookups:
        raise TypeError("Q() needs at least one lookup, such as Q(external_id='1')")
    nodes = [_comparison(k, v) for k, v in lookups.items()]
    return nodes[0] if len(nodes) == 1 else And.of(*nodes)
