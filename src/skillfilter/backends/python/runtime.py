"""The helpers predicates run with: generated code (:mod:`.codegen`) and the interpreter (:mod:`.interpret`)
call these, so both read records the same way.

Reading never raises on data: a step into a value that is not a mapping gives null, a custom property is
found in either shape of rule 9, and text becomes a date or datetime only when it is ISO 8601.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ...plan.atoms import EXACT_FLOAT_INTS, as_decimal
from ...plan.nodes import CPKey, Key
from ...semantics.operators import simple_fold
from ...semantics.schema import parse_datetime

__all__ = [
    "EMPTY", "NULL1", "as_date", "as_datetime", "as_map", "cp_of", "custom_property", "direct_type",
    "elements", "fold", "follow", "get", "number_compare",
]

#: An empty mapping: every field of a value that is not a mapping is null.
EMPTY: Mapping[str, Any] = {}
#: The elements of an empty list (rule 3: one null element).
NULL1 = (None,)
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


_SCALARS = frozenset({type(None), str, int, float, bool, list, tuple})


def as_map(x: Any) -> Any:
    """``x`` if it is a mapping, else an empty one (so that every field of it is null)."""
    if type(x) in _SCALARS:  # the common non-mappings, without the slower ABC check
        return EMPTY
    return x if isinstance(x, Mapping) else EMPTY


def get(x: Any, key: str) -> Any:
    """``x[key]`` for a mapping ``x`` (null when missing); null for anything else."""
    if type(x) is dict:
        return x.get(key)
    if type(x) in _SCALARS:
        return None
    if isinstance(x, Mapping):
        try:
            return x.get(key)
        except Exception:  # a hostile mapping; never raise on data
            return None
    return None


def custom_property(props: Any, name: str) -> Any:
    """Rule 9: the value of custom property ``name`` from ``{"name": value}`` or the API's list
    ``[{"property_name": "name", "property_value": value}]`` (the first entry of that name); else null."""
    if props is None:
        return None
    if type(props) is list:
        for item in props:
            is_map = type(item) is dict or (type(item) not in _SCALARS and isinstance(item, Mapping))
            if is_map and item.get("property_name") == name:
                return item.get("property_value")
        return None
    return get(props, name)


def cp_of(record: Any, name: str) -> Any:
    props = get(record, "custom_properties")
    if type(props) is dict:
        return props.get(name)
    return custom_property(props, name)


def as_datetime(v: Any) -> _dt.datetime | None:
    """A record value as an aware datetime (ISO 8601 text; naive = UTC; a date = its midnight UTC)."""
    if type(v) is str:
        try:
            return parse_datetime(v)
        except (ValueError, OverflowError):
            return None
    if isinstance(v, _dt.datetime):
        return v if v.tzinfo is not None else v.replace(tzinfo=_dt.timezone.utc)
    if isinstance(v, _dt.date):
        return _dt.datetime(v.year, v.month, v.day, tzinfo=_dt.timezone.utc)
    return None


def as_date(v: Any) -> _dt.date | None:
    """A record value as a date (ISO 8601 ``YYYY-MM-DD`` text or a ``date``)."""
    if type(v) is str:
        if _DATE_RE.match(v):
            try:
                return _dt.date.fromisoformat(v)
            except ValueError:
                return None
        return None
    if isinstance(v, _dt.date) and not isinstance(v, _dt.datetime):
        return v
    return None


def fold(s: str) -> str:
    """Rule 5: ``s`` simple-case-mapped (as literals already are)."""
    return simple_fold(s)


def follow(x: Any, keys: tuple[Key, ...]) -> Any:
    """The value reached from ``x`` through ``keys`` (null once a step is not a mapping)."""
    for k in keys:
        x = cp_of(x, k.name) if isinstance(k, CPKey) else get(x, k)
    return x


def elements(raw: Any) -> Sequence[Any]:
    """The elements a :class:`~skillfilter.plan.nodes.PExists` ranges over: a list's own (one null
    element for an empty one), else the value itself (rule 3)."""
    return (raw or NULL1) if type(raw) is list else (raw,)


# --------------------------------------------------------------------------------------------------
# numbers: compared by the decimal value written
# --------------------------------------------------------------------------------------------------
def direct_type(lit: Any) -> type | None:
    """Which data type (``int`` or ``float``) may compare with number literal ``lit`` by Python's own
    operators and still compare by decimal value: ``None`` for both (a literal within 2**53), else the
    literal's own type (``Decimal`` for a ``Decimal`` literal: nothing compares directly)."""
    if type(lit) is int or type(lit) is float:
        return None if -EXACT_FLOAT_INTS <= lit <= EXACT_FLOAT_INTS else type(lit)
    return Decimal


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
