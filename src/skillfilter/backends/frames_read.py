"""Reading an export into a data frame so that a record that does not fit the schema is an error.

A typed JSON reader (Spark's, Polars') refuses most records that do not fit the schema it is given, but not
all: both read a number, a boolean, a list or an object where *text* is declared as its JSON text (``5``
becomes ``'5'``), both read an integer beyond 2**53 in a ``number`` field as the nearest double, and Spark
reads the strings ``"NaN"`` and ``"Infinity"`` in a ``number`` field as those numbers.  ``predicate()``
reads such records as they are, so a filter could answer differently.  The helpers here first check every
line of the export against the frame the schema implies (:func:`~skillfilter.backends.frames.frame_schema`)
and raise a :class:`~skillfilter.errors.FilterError` that names the record and the value; only then is the
export read, by the engine's own reader, with that schema.

A record fits when it is a JSON object whose declared members are: text (valid Unicode) for ``text``,
``date`` and ``datetime`` fields; an integer within 64 bits for ``integer``; a number a double holds
exactly for ``number`` (an integer a double holds, or a decimal whose shortest double form is the number
written; NaN and the infinities as Python's JSON reads them); ``true``/``false`` for ``boolean``; a list of
such for ``list[text]`` and to-many relations; an object for a to-one relation and ``custom_properties``;
``null`` for any of them.  A member named twice in one object does not fit either (readers differ on which
one counts).  Members the schema does not declare are left alone (the frame has no column for them, and
no filter the schema accepts reads them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import FilterError
from ..semantics.values import as_decimal

__all__ = ["check_lines", "file_lines", "line_misfit", "misfit", "partition_misfits"]

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
Columns = list[tuple[str, object]]


class _Duplicate(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise _Duplicate(f"the member `{k}` is given twice in one object")
            seen.add(k)
    return out


def _number(text: str) -> float | Decimal:
    f = float(text)
    exact = Decimal(text)
    return f if as_decimal(f) == exact else exact


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_float=_number)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float, Decimal)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object"


def _unicode(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _leaf(value: Any, ftype: str) -> str | None:
    """Why ``value`` does not fit a field of type ``ftype`` (``None`` when it does)."""
    t = type(value)
    if ftype in ("text", "date", "datetime"):
        if t is not str:
            return f"{_kind(value)} where {ftype} is declared"
        return None if _unicode(value) else "text with a lone surrogate (not Unicode)"
    if ftype == "integer":
        if t is not int:
            return f"{_kind(value)} where an integer is declared"
        return None if INT64_MIN <= value <= INT64_MAX else "an integer beyond 64 bits"
    if ftype == "number":
        if t is float:
            return None
        if t is int:
            try:
                fits = float(value) == value
            except OverflowError:
                fits = False
            return None if fits else "an integer that a double does not hold exactly (declare `integer`)"
        if t is Decimal:
            return "a number that a double does not hold exactly"
        return f"{_kind(value)} where a number is declared"
    if ftype == "boolean":
        return None if t is bool else f"{_kind(value)} where a boolean is declared"
    return None  # pragma: no cover - frame_schema gives only the types above


def misfit(value: Any, t: object, path: str = "") -> str | None:
    """Why ``value`` does not fit frame type ``t`` (a field type name, a column list for a struct, or
    ``("list", type)``), as ``"at `path`: reason"``; ``None`` when it fits."""
    if value is None:
        return None
    if isinstance(t, list):
        if type(value) is not dict:
            return f"at `{path or '.'}`: {_kind(value)} where an object is declared"
        for name, ct in t:
            if name in value:
                why = misfit(value[name], ct, f"{path}.{name}" if path else name)
                if why is not None:
                    return why
        return None
    if isinstance(t, tuple):
        if type(value) is not list:
            return f"at `{path}`: {_kind(value)} where a list is declared"
        for i, item in enumerate(value):
            why = misfit(item, t[1], f"{path}[{i}]")
            if why is not None:
                return why
        return None
    why = _leaf(value, str(t))
    return None if why is None else f"at `{path}`: {why}"


def line_misfit(line: str, columns: Columns) -> str | None:
    """Why one line of JSON Lines is not a record that fits ``columns`` (``None`` when it is, or is blank)."""
    if not line.strip():
        return None
    try:
        record = _DECODER.decode(line)
    except _Duplicate as exc:
        return str(exc)
    except (ValueError, RecursionError) as exc:
        return f"not JSON ({str(exc).split(':')[0]})"
    if type(record) is not dict:
        return f"{_kind(record)}, not a record (a JSON object)"
    return misfit(record, columns)


def _snippet(line: str) -> str:
    line = line.strip()
    return line if len(line) <= 80 else line[:77] + "..."


def raise_misfit(source: str, line: str, why: str) -> None:
    raise FilterError(
        f"{source}: the record does not fit the schema, {why}: {_snippet(line)}\n"
        f"  hint: correct the record, or declare the field with the type its values have"
    )


def check_lines(lines: Iterable[tuple[str, str]], columns: Columns) -> None:
    """Raise :class:`FilterError` for the first ``(where, line)`` whose line does not fit ``columns``."""
    for where, line in lines:
        why = line_misfit(line, columns)
        if why is not None:
            raise_misfit(where, line, why)


def file_lines(paths: Iterable[str | Path]) -> Iterator[tuple[str, str]]:
    """``("file:line", text)`` for every line of the files (UTF-8; bad UTF-8 is a :class:`FilterError`)."""
    for path in paths:
        with open(path, "rb") as handle:
            for number, raw in enumerate(handle, 1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise FilterError(f"{path}:{number}: the line is not UTF-8") from None
                yield f"{path}:{number}", text


def partition_misfits(rows: Iterable[Any], columns: Columns) -> Iterator[tuple[str, str, str]]:
    """For Spark's ``mapPartitions`` over ``(file, value)`` rows: the first misfit of a partition, if any."""
    for row in rows:
        why = line_misfit(row[1], columns)
        if why is not None:
            yield str(row[0]), row[1], why
            return
