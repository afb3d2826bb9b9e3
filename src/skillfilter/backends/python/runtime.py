"""The helpers predicates run with: generated code (:mod:`.codegen`) and the interpreter (:mod:`.interpret`)
call these, so both read records the same way.

Reading never raises on data: a step into a value that is not a mapping gives null, a custom property is
found in either shape of rule 9.  The value rules (ISO 8601 dates and datetimes, numbers by decimal value,
case mapping) are :mod:`skillfilter.semantics.values`' own, re-exported here for generated code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ...plan.nodes import CPKey, Key
from ...semantics.values import EXACT_FLOAT_INTS, as_date, as_datetime, as_decimal, simple_fold

__all__ = [
    "EMPTY", "NULL1", "as_date", "as_datetime", "as_map", "cp_of", "custom_property", "direct_type",
    "elements", "fold", "follow", "get", "number_compare",
]

#: An empty mapping: every field of a value that is not a mapping is null.
EMPTY: Mapping[str, Any] = {}
#: The elements of an empty list (rule 3: one null element).
NULL1 = (None,)


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
