"""Value rules the SQL backend needs (to be replaced by :mod:`skillfilter.semantics.values`)."""

from __future__ import annotations

import datetime as _dt
import decimal

__all__ = ["INT64_MAX", "INT64_MIN", "canonical_datetime", "float_decimal"]

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def canonical_datetime(value: _dt.datetime) -> str:
    """The stored text of a datetime where the database has no time zone aware type (SQLite, JSON):
    UTC, microseconds, fixed width (``2024-01-31T09:30:00.000000+00:00``): text order is time order."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    try:
        return value.astimezone(_dt.timezone.utc).isoformat(timespec="microseconds")
    except OverflowError:
        pass
    # In UTC the instant lies just before year 1 or just after year 9999, which Python cannot hold: write
    # it as a day of year 0 or as "December 32nd" of 9999, which sort before and after every other value.
    offset = value.utcoffset() or _dt.timedelta(0)
    naive = value.replace(tzinfo=None)
    if offset > _dt.timedelta(0):  # before 0001-01-01T00:00 UTC
        shifted = naive + (_dt.timedelta(days=1) - offset)  # the same clock time, one day later
        return "0000-12-31" + shifted.isoformat(timespec="microseconds")[10:] + "+00:00"
    shifted = naive - _dt.timedelta(days=1) - offset
    return "9999-12-32" + shifted.isoformat(timespec="microseconds")[10:] + "+00:00"


def float_decimal(value: float) -> decimal.Decimal:
    """A float as the decimal it stands for: its shortest form (what JSON text holds for it)."""
    return decimal.Decimal(repr(value))
