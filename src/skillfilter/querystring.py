"""``$employees=...&$jobs=...``: filters carried in a request's query string (LANGUAGE.md section 4).

Decoding follows ``application/x-www-form-urlencoded`` as Django's ``QueryDict`` does: pairs split on ``&``,
``+`` is a space, percent escapes decode as UTF-8, and a ``%`` not followed by two hex digits stays as it is.
Unlike Django (which substitutes U+FFFD), percent escapes that do not decode as UTF-8 are an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote_plus, unquote_to_bytes

from .ast import Expr
from .errors import FilterSyntaxError, QueryStringError
from .parser import parse
from .printer import to_text

__all__ = ["parse_query_string", "query_string_filters", "to_query_string"]

_ENTITY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
# What may stay as it is in a value: unreserved characters and sub-delimiters that form-decoding leaves
# alone.  `&`, `+`, `;`, `#`, `%` and everything non-ASCII are escaped.
_SAFE = "'()=!*,:@/$~"


def _decode(raw: str, qs: str, offset: int) -> str:
    data = unquote_to_bytes(raw.replace("+", " "))
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise QueryStringError(
            "percent-encoded bytes are not valid UTF-8",
            qs,
            offset,
            end=offset + len(raw),
            hint="encode the filter as UTF-8 before percent-encoding it",
        ) from None


def query_string_filters(qs: str) -> dict[str, tuple[str, int]]:
    """The raw filter text of each ``$entity`` parameter, with the offset of its value in ``qs``.

    Parameters whose name does not start with ``$`` are ignored.  Raises :class:`QueryStringError` for a
    bad entity name, the same entity twice, or bytes that are not UTF-8.
    """
    if not isinstance(qs, str):
        raise TypeError(f"query string must be a str, not {type(qs).__name__}")
    offset = 1 if qs.startswith("?") else 0
    result: dict[str, tuple[str, int]] = {}
    for part in qs[offset:].split("&"):
        start = offset
        offset += len(part) + 1
        if not part:
            continue
        raw_key, sep, raw_value = part.partition("=")
        key = _decode(raw_key, qs, start)
        if not key.startswith("$"):
            continue
        entity = key[1:]
        if not _ENTITY_RE.match(entity):
            raise QueryStringError(
                f"`{key}` is not a filter parameter: `$` must be followed by an entity name",
                qs,
                start,
                end=start + len(raw_key),
                hint="write `$employees=<filter>`",
            )
        if entity in result:
            raise QueryStringError(
                f"the entity `{entity}` has two filters",
                qs,
                start,
                end=start + len(part),
                hint="join them into one filter with `and`",
            )
        value_offset = start + len(raw_key) + len(sep)
        result[entity] = (_decode(raw_value, qs, value_offset), value_offset)
    return result


def parse_query_string(qs: str, **parse_options: object) -> dict[str, Expr]:
    """``"$employees=...&$jobs=..."`` (with or without a leading ``?``) to one expression per entity.

    A filter that does not parse raises :class:`FilterSyntaxError` whose text and position are those of
    the decoded filter, its message naming the parameter.
    """
    out: dict[str, Expr] = {}
    for entity, (text, _offset) in query_string_filters(qs).items():
        try:
            out[entity] = parse(text, **parse_options)  # type: ignore[arg-type]
        except FilterSyntaxError as exc:
            raise FilterSyntaxError(
                f"${entity}: {exc.reason}",
                exc.text,
                exc.position,
                expected=exc.expected,
                hint=exc.hint,
                end=exc.end,
            ) from None
    return out


def to_query_string(filters: Mapping[str, Expr | str]) -> str:
    """The reverse of :func:`parse_query_string`: ``$entity=<canonical filter, percent-encoded>`` pairs."""
    parts = []
    for entity, expr in filters.items():
        if not isinstance(entity, str) or not _ENTITY_RE.match(entity):
            raise ValueError(f"{entity!r} is not an entity name")
        text = to_text(parse(expr) if isinstance(expr, str) else expr)
        parts.append(f"${entity}={quote_plus(text, safe=_SAFE)}")
    return "&".join(parts)
