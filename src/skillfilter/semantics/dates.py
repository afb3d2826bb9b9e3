"""The value rules on dates and date-times (LANGUAGE.md rules 6 and 8), read through :mod:`.values`.

- ISO 8601 dates and date-times: :func:`parse_date`, :func:`parse_datetime`, and the coercion of a value
  (text, ``date`` or ``datetime``) to one: :func:`as_date`, :func:`as_datetime`;
- the canonical text of a date-time, where a store has no time-zone aware type: :func:`canonical_datetime`.

Loaded on first use (a filter or a backend that reads a date), not at every start of the command line.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from typing import Any

__all__ = ["as_date", "as_datetime", "canonical_datetime", "parse_date", "parse_datetime"]


# --------------------------------------------------------------------------------------------------
#: ``YYYY-MM-DD``, the only text that is a date.
_DATE_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"
#: The date-times :func:`parse_datetime` accepts (groups: year, month, day, hour, minute, second,
#: fraction, ``Z``, offset sign, offset hours, offset minutes).
_DATETIME_PATTERN = (
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?"
    r"(?:([Zz])|([+-])([0-9]{2})(?::?([0-9]{2}))?)?)?\Z"
)


# The patterns are compiled on first use (compiling them is a good part of what importing this module
# costs, and most processes, such as `skillfilter fmt`, never read a date): each `_match_*` is first a
# function that compiles its pattern and puts the compiled pattern's `match` in its own place.
def _compile_date(text: str) -> re.Match[str] | None:
    global _match_date  # noqa: PLW0603 - replaced by the compiled match once
    _match_date = re.compile(_DATE_PATTERN).match
    return _match_date(text)


def _compile_datetime(text: str) -> re.Match[str] | None:
    global _match_datetime  # noqa: PLW0603 - replaced by the compiled match once
    _match_datetime = re.compile(_DATETIME_PATTERN).match
    return _match_datetime(text)


_match_date: Callable[[str], re.Match[str] | None] = _compile_date
_match_datetime: Callable[[str], re.Match[str] | None] = _compile_datetime


def __getattr__(name: str) -> Any:
    """``DATE_RE`` and ``DATETIME_RE``, the compiled patterns, on first use."""
    if name == "DATE_RE":
        return re.compile(_DATE_PATTERN)
    if name == "DATETIME_RE":
        return re.compile(_DATETIME_PATTERN)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def parse_date(text: str) -> _dt.date:
    """An ISO 8601 calendar date ``YYYY-MM-DD`` as a ``date``; raises ``ValueError`` for anything else
    (other ISO forms that ``date.fromisoformat`` accepts on newer Pythons included)."""
    if not _match_date(text):
        raise ValueError(f"not an ISO 8601 date (YYYY-MM-DD): {text!r}")
    return _dt.date.fromisoformat(text)


def parse_datetime(text: str) -> _dt.datetime:
    """An ISO 8601 date-time as an aware ``datetime``; raises ``ValueError``.

    Accepted, the same on every Python version: ``YYYY-MM-DD`` (its midnight UTC), or that followed by
    ``T`` (or a space), ``HH:MM``, optional ``:SS`` with an optional fraction (``.`` or ``,``), and an
    optional offset ``Z``, ``±HH``, ``±HHMM`` or ``±HH:MM``; no offset means UTC.  A fraction finer than a
    microsecond is refused unless its extra digits are zeros, so that no value is silently truncated.
    """
    m = _match_datetime(text)
    if m is None:
        raise ValueError(f"not an ISO 8601 date-time: {text!r}")
    year, month, day, hour, minute, second, fraction, _zulu, sign, off_h, off_m = m.groups()
    micro = 0
    if fraction:
        if len(fraction) > 6 and fraction[6:].strip("0"):
            raise ValueError(f"{text!r} is more precise than a microsecond")
        micro = int(fraction[:6].ljust(6, "0"))
    tz = _dt.timezone.utc
    if sign:
        offset = _dt.timedelta(hours=int(off_h), minutes=int(off_m or 0))
        if offset >= _dt.timedelta(hours=24):
            raise ValueError(f"offset out of range in {text!r}")
        tz = _dt.timezone(offset if sign == "+" else -offset)
    return _dt.datetime(
        int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0), micro, tzinfo=tz
    )


def as_date(value: Any) -> _dt.date | None:
    """``value`` as a date: ISO 8601 ``YYYY-MM-DD`` text or a ``date`` (not a ``datetime``); else ``None``.

    Text is a ``str`` itself (a subclass is not text here, as in record data); literal conversion passes
    ``str.__str__(value)`` for a subclass."""
    if type(value) is str:
        if _match_date(value):
            try:
                return _dt.date.fromisoformat(value)
            except ValueError:
                return None
        return None
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return value
    return None


def as_datetime(value: Any) -> _dt.datetime | None:
    """``value`` as an aware datetime: ISO 8601 text (:func:`parse_datetime`), a ``datetime`` (naive means
    UTC), or a ``date`` (its midnight UTC); else ``None``."""
    if type(value) is str:
        try:
            return parse_datetime(value)
        except (ValueError, OverflowError):
            return None
    if isinstance(value, _dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=_dt.timezone.utc)
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day, tzinfo=_dt.timezone.utc)
    return None


def canonical_datetime(value: _dt.datetime) -> str:
    """The stored text of a datetime where the store has no time zone aware type (SQLite, JSON):
    UTC, microseconds, fixed width (``2024-01-31T09:30:00.000000+00:00``): text order is time order.

    A naive datetime is UTC.  An instant just before year 1 or just after year 9999 in UTC (which Python
    cannot hold) is written as a day of year 0 or as "December 32nd" of 9999, which sort before and after
    every other value.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    try:
        return value.astimezone(_dt.timezone.utc).isoformat(timespec="microseconds")
    except OverflowError:
        pass
    offset = value.utcoffset() or _dt.timedelta(0)
    naive = value.replace(tzinfo=None)
    if offset > _dt.timedelta(0):  # before 0001-01-01T00:00 UTC
        shifted = naive + (_dt.timedelta(days=1) - offset)  # the same clock time, one day later
        return "0000-12-31" + shifted.isoformat(timespec="microseconds")[10:] + "+00:00"
    shifted = naive - _dt.timedelta(days=1) - offset
    return "9999-12-32" + shifted.isoformat(timespec="microseconds")[10:] + "+00:00"
