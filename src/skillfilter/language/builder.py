"""``Q(**lookups)``: build expressions in Python, with the parser's rules for lookups."""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING, Any

from ..errors import FilterSyntaxError
from ..semantics.operators import lookup_value_problem
from .ast import And, Comparison, Expr
from .lookups import lookup_value_error, parse_lookup
from .printer import format_literal, format_lookup

if TYPE_CHECKING:
    from .ast import Literal

__all__ = ["Q"]


def _literal(key: str, value: Any) -> Literal:
    """The literal a filter would hold: the plain ``str``/``int``/``float`` (not a subclass such as an
    ``IntEnum``, which would compare unequal to the parsed tree), ``bool`` or ``None``."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (int, float)):
        number = int(value) if isinstance(value, int) else float(value)
        try:
            format_literal(number)  # the printer's (and so the parser's) limits: finite, at most 4000 digits
        except ValueError as exc:
            raise FilterSyntaxError(f"Q({key}=...): {exc}", key, 0, end=len(key)) from None
        return number
    if isinstance(value, (_dt.date, _dt.datetime)):
        return value.isoformat()
    raise TypeError(
        f"Q({key}=...) takes a str, int, float, bool, None, date or datetime, not {type(value).__name__}"
    )


def _comparison(key: str, value: Any) -> Comparison:
    target, op = parse_lookup(key)
    literal = _literal(key, value)
    problem = lookup_value_problem(op, literal)
    if problem is not None:
        raise lookup_value_error(problem, op, target, key, key, start=0, end=len(key), python=True)
    node = Comparison(target, op, literal)
    format_lookup(node)  # cannot fail after parse_lookup: every tree built here prints and parses back
    return node


def Q(**lookups: Any) -> Expr:
    """``Q(external_id__startswith='1', active=True)``: the lookups joined with ``and``.

    Combine with ``&``, ``|`` and ``~``, also with parsed expressions:
    ``Q(external_id__startswith='1') | ~Q(cp_language='de')``.  Dates and datetimes become ISO 8601 strings.
    A lookup the parser would refuse (``a__``, ``cp_x__y``, ``and``, ``x__is_null=1``, ``x__gt=None``)
    raises :class:`~skillfilter.errors.FilterSyntaxError`.
    """
    if not lookups:
        raise TypeError("Q() needs at least one lookup, such as Q(external_id='1')")
    nodes = [_comparison(k, v) for k, v in lookups.items()]
    return nodes[0] if len(nodes) == 1 else And.of(*nodes)
