"""What the data-frame backends (Spark, Polars) share: the declared type of every plan variable and value,
the rule-5 table, and exact number comparison.

A data frame holds one row per record, typed by the schema: an entity is a struct, a to-many relation a list
of structs, a ``list[text]`` field a list of strings, ``custom_properties`` a struct of the *declared*
custom properties (the ``definitions``).  So the engines need the schema's types; an untyped custom
property (whose values may be of any kind) is refused with a :class:`~skillfilter.errors.FilterError` that
says what to declare.
"""

from __future__ import annotations

import datetime as _dt
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..errors import FilterError
from ..plan.atoms import as_decimal
from ..plan.nodes import CPKey, Key
from ..semantics.schema import Entity, Schema
from ..semantics.values import DATETIME_RE
from ..semantics.values import fold_table as values_fold_table

__all__ = [
    "COMPARE",
    "DATETIME_PATTERN",
    "DATE_PATTERN",
    "FrameType",
    "NumberPlan",
    "datetime_micros",
    "entity_type",
    "epoch_micros",
    "fold_table",
    "follow",
    "frame_schema",
    "number_plan",
    "schema_and_entity",
    "valid_day",
]

#: A date as predicate() reads one from text (then it must also be a real calendar day, year 1 or later);
#: for such text, comparing the text is comparing the dates.
DATE_PATTERN = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
#: :data:`skillfilter.semantics.values.DATETIME_RE` without its anchors (each engine adds its own): groups
#: year, month, day, hour, minute, second, fraction, ``Z``, offset sign, offset hours, offset minutes.
DATETIME_PATTERN = DATETIME_RE.pattern.removesuffix(r"\Z")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: An engine's expression (a Polars ``Expr``, a Spark ``Column``, SQL text) or a Python int.
Num = Any


@dataclass(frozen=True, slots=True)
class FrameType:
    """The type of a value in a frame: an entity (a struct), a list of entities, or a field type
    (``text``, ``integer``, ``number``, ``boolean``, ``date``, ``datetime``, ``list[text]``)."""

    kind: str  # "entity", "entities" (a to-many relation), or "field"
    name: str  # entity name or field type
    where: str = ""  # how the filter named it (for messages)

    @property
    def element(self) -> FrameType:
        """The type of one element of a list (a to-many relation, a ``list[text]``)."""
        if self.kind == "entities":
            return FrameType("entity", self.name, self.where)
        if self.kind == "field" and self.name == "list[text]":
            return FrameType("field", "text", self.where)
        return self


def schema_and_entity(schema: Schema | str | None, entity: str | None) -> tuple[Schema, str]:
    """The schema a frame backend compiles against: ``None`` is the built-in ``export`` schema; the entity
    defaults to the schema's implied one."""
    sch = Schema.coerce("export" if schema is None else schema)
    if entity is None:
        entity = sch.implied_entity()
        if entity is None:
            raise FilterError(
                f"schema `{sch.name}` has several entities: say which, as in entity='employees'"
            )
    sch.entity(entity)  # raises for an unknown entity
    return sch, entity


def entity_type(entity: str) -> FrameType:
    return FrameType("entity", entity)


def follow(schema: Schema, start: FrameType, keys: tuple[Key, ...], engine: str) -> FrameType:
    """The type reached from ``start`` through mapping ``keys`` (relations, fields, custom properties)."""
    t = start
    for key in keys:
        if t.kind != "entity":  # pragma: no cover - the planner ends a path at a list or a field
            raise FilterError(f"{engine}: cannot follow `{key}` into {t.name}")
        ent = schema.entity(t.name)
        if isinstance(key, CPKey):
            t = FrameType("field", _declared_type(ent, key.name, engine), f"cp_{key.name}")
        elif key in ent.relations:
            rel = ent.relations[key]
            t = FrameType("entities" if rel.many else "entity", rel.target, key)
        elif key in ent.fields:
            t = FrameType("field", ent.fields[key].type, key)
        else:  # pragma: no cover - the schema resolved every name
            raise FilterError(f"{engine}: `{ent.name}` has no field `{key}`")
    return t


def _declared_type(ent: Entity, name: str, engine: str) -> str:
    """The declared type of custom property ``name`` of ``ent``; a :class:`FilterError` saying what to
    declare when it has none."""
    definitions = ent.custom_properties.definitions if ent.custom_properties is not None else {}
    if name in definitions:
        return definitions[name]
    raise FilterError(
        f"{engine} needs the type of custom property `cp_{name}`: declare it in the schema, as "
        f'"custom_properties": {{"definitions": {{"{name}": "text"}}}} on `{ent.name}` (text, number, '
        f"boolean, datetime or list[text]); an untyped custom property may hold values of any kind, which a "
        f"typed frame cannot"
    )


def frame_schema(schema: Schema, entity: str) -> list[tuple[str, object]]:
    """The columns of ``entity`` as a neutral tree: ``(name, type)`` where type is a field type name, a
    nested column list (a struct), or ``("list", type)``.  A relation that would revisit an entity already
    on the way down is left out (a frame cannot hold a cycle)."""

    def columns(name: str, path: tuple[str, ...]) -> list[tuple[str, object]]:
        ent = schema.entity(name)
        out: list[tuple[str, object]] = []
        for f in ent.fields.values():
            out.append((f.name, ("list", "text") if f.is_list else f.type))
        for rel in ent.relations.values():
            if rel.target in path:
                continue
            inner = columns(rel.target, (*path, rel.target))
            out.append((rel.name, ("list", inner) if rel.many else inner))
        cps = ent.custom_properties
        if cps is not None and cps.definitions:
            props: list[tuple[str, object]] = [
                (n, ("list", "text") if t == "list[text]" else t) for n, t in cps.definitions.items()
            ]
            out.append(("custom_properties", props))
        return out

    return columns(entity, (entity,))


@cache
def fold_table() -> tuple[str, str]:
    """LANGUAGE.md rule 5 as a translation table: every character that
    :func:`~skillfilter.semantics.operators.simple_fold` changes, and what it becomes (computed once)."""
    return values_fold_table()


#: An operator kind as the Python operator that every engine's expressions overload (Polars ``Expr``,
#: Spark ``Column``) and that compares Python numbers exactly.
COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "exact": operator.eq, "gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le,
}


# --------------------------------------------------------------------------------------------------
# numbers: a double column against an integer literal, exactly
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NumberPlan:
    """How to compare a number column with a literal exactly.

    ``static``: the answer for every non-null, non-NaN value (the literal is out of the column's range).
    Otherwise compare the column with ``literal`` (of the column's own type); with ``tie`` set, a value
    equal to ``literal`` answers ``tie`` instead (the literal is an integer that the double ``literal``
    only approximates, so "equal as doubles" is decided by the exact integers).
    """

    static: bool | None = None
    literal: int | float | None = None
    tie: bool | None = None


def _cmp(kind: str, a: Any, b: Any) -> bool:
    return bool(COMPARE[kind](a, b))


def number_plan(kind: str, column_type: str, value: object) -> NumberPlan:
    """Exact comparison of an ``integer`` (int64) or ``number`` (double) column with literal ``value``
    (an ``int`` or a ``float``, never NaN): compare as doubles unless they are equal, then as integers."""
    if column_type == "integer":
        if isinstance(value, float):
            if math.isinf(value):
                return NumberPlan(static=_cmp(kind, 0, value))
            exact = as_decimal(value)  # the decimal value written, as predicate() reads it
            assert exact is not None
            if exact == exact.to_integral_value():
                value = int(exact)
            else:
                # No integer equals it; order by the integer just below.
                below = math.floor(exact)
                if kind in ("gt", "gte"):
                    return number_plan("gt", column_type, below)
                if kind in ("lt", "lte"):
                    return number_plan("lte", column_type, below)
                return NumberPlan(static=False)
        assert isinstance(value, int)
        if value > INT64_MAX:
            return NumberPlan(static=_cmp(kind, INT64_MAX, value))
        if value < INT64_MIN:
            return NumberPlan(static=_cmp(kind, INT64_MIN, value))
        return NumberPlan(literal=value)
    # a double column
    if isinstance(value, float):
        return NumberPlan(literal=value)
    assert isinstance(value, int)
    try:
        f = float(value)
    except OverflowError:
        # Beyond every finite double: compare with the infinity of its sign (Python compares exactly).
        f = math.inf if value > 0 else -math.inf
    if f == value:
        return NumberPlan(literal=f)
    # A double equal to ``f`` stands for the decimal its shortest repr writes (as predicate() reads it).
    written = as_decimal(f) if not math.isinf(f) else f
    assert written is not None
    return NumberPlan(literal=f, tie=_cmp(kind, written, value))


# --------------------------------------------------------------------------------------------------
# dates and date-times, as integer arithmetic any engine spells with + - * % and comparisons
# --------------------------------------------------------------------------------------------------
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def epoch_micros(value: _dt.datetime) -> int:
    """An aware datetime (a literal) as microseconds since 1970-01-01 UTC."""
    return (value - _EPOCH) // _dt.timedelta(microseconds=1)


def _month_from_march(m: Num) -> Num:
    """0 for March ... 9 for December, 10 for January, 11 for February (no division: ``m`` may be 0)."""
    return (m + 9) % 12


def valid_day(y: Num, m: Num, d: Num, div: Callable[[Num, int], Num]) -> Num:
    """Whether integers ``y-m-d`` name a real calendar day of year 1 or later (as ``datetime.date`` takes
    it), as a boolean expression built with the operators of the engine's expressions.  ``div`` is floor
    division by a positive constant (what each engine spells differently)."""
    mp = _month_from_march(m)
    length = div(mp * 153 + 155, 5) - div(mp * 153 + 2, 5)  # the month's length, but for February
    leap = ((y % 4) == 0) & (((y % 100) != 0) | ((y % 400) == 0))
    february = (mp == 11) & ((d <= 28) | ((d == 29) & leap))
    return (y >= 1) & (m >= 1) & (m <= 12) & (d >= 1) & (((mp != 11) & (d <= length)) | february)


def datetime_micros(
    day: tuple[Num, Num, Num],
    time: tuple[Num, Num, Num, Num],
    offset_minutes: Num,
    div: Callable[[Num, int], Num],
) -> tuple[Num, Num]:
    """``(valid, micros)``: whether ``day`` (year, month, day) and ``time`` (hour, minute, second,
    microsecond) make a date-time :func:`~skillfilter.semantics.values.parse_datetime` accepts (a real day,
    hour < 24, minute < 60, second < 60, an offset under 24 hours; the text's pattern and fraction are the
    engine's to check), and the instant as microseconds since 1970-01-01 UTC.  Every part is a 64-bit
    integer expression (0 where the text leaves it out); ``offset_minutes`` is signed."""
    y, m, d = day
    hh, mi, ss, us = time
    valid = (
        valid_day(y, m, d, div) & (hh <= 23) & (mi <= 59) & (ss <= 59)
        & (offset_minutes < 1440) & (offset_minutes > -1440)
    )
    # Days from civil (H. Hinnant): years counted from March, so February's leap day is last.
    mp = _month_from_march(m)
    yy = y - div(mp, 10)
    era = div(yy, 400)
    yoe = yy - era * 400
    doe = yoe * 365 + div(yoe, 4) - div(yoe, 100) + div(mp * 153 + 2, 5) + d - 1
    days = era * 146097 + doe - 719468
    seconds = days * 86400 + hh * 3600 + mi * 60 + ss - offset_minutes * 60
    return valid, seconds * 1_000_000 + us
