"""``$employees=...&$jobs=...``: filters carried in a request's query string (LANGUAGE.md section 4).

Decoding follows ``application/x-www-form-urlencoded`` as Django's ``QueryDict`` does: pairs split on ``&``,
``+`` is a space, percent escapes decode as UTF-8, and a ``%`` not followed by two hex digits stays as it is.
Unlike Django (which substitutes U+FFFD), percent escapes that do not decode as UTF-8 are an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import quote_plus, unquote_to_bytes

from ..errors import FilterArgumentError, FilterSyntaxError, FilterTypeError, QueryStringError, type_name
from .ast import Expr
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


def _query_start(qs: str) -> int:
    """Where the query part of ``qs`` starts: after the ``?`` of a URL (``https://host/path?...``,
    ``/path?...``, ``path?...``) and after any leading ``?`` (``?...``, ``??...``); else 0.

    Text before the first ``?`` is a URL or a path when it holds no ``=`` and no ``&`` (a parameter
    before a ``?`` has one or the other).
    """
    question = qs.find("?")
    if question < 0:
        return 0
    head = qs[:question]
    if "=" in head or "&" in head:
        return 0
    start = question + 1
    while qs.startswith("?", start):
        start += 1
    return start


def query_string_filters(qs: str) -> dict[str, tuple[str, int]]:
    """The raw filter text of each ``$entity`` parameter, with the offset of its value in ``qs``.

    ``qs`` is a query string (``$employees=...&$jobs=...``), with or without leading ``?``, or a whole URL
    (its query part is read, up to a ``#`` fragment).  Parameters whose name does not start with ``$`` are
    ignored.  Raises :class:`QueryStringError` for a bad entity name, the same entity twice, bytes that
    are not UTF-8, and where no filter parameter is found but one seems meant (a name without ``$``
    whose value is a filter, ``%24`` encoded twice, a bare filter): a filter is never silently dropped.
    """
    if not isinstance(qs, str):
        raise FilterTypeError(f"the query string must be a str, not {type_name(qs)}")
    offset = _query_start(qs)
    stop = len(qs)
    if offset:
        fragment = qs.find("#", offset)
        if fragment >= 0 and _looks_like_url(qs[: offset]):
            stop = fragment
    result: dict[str, tuple[str, int]] = {}
    others: list[tuple[str, str, str, str, int]] = []
    for part in qs[offset:stop].split("&"):
        start = offset
        offset += len(part) + 1
        if not part:
            continue
        raw_key, sep, raw_value = part.partition("=")
        key = _decode(raw_key, qs, start)
        if not key.startswith("$"):
            others.append((key, raw_key, sep, raw_value, start))
            continue
        entity = key[1:]
        if not _ENTITY_RE.match(entity):
            raise QueryStringError(
                f"`{_short(key)}` is not a filter parameter: `$` must be followed by an entity name",
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
    if not result:
        for key, raw_key, sep, raw_value, start in others:
            suspect = _suspect(qs, key, raw_key=raw_key, sep=sep, raw_value=raw_value, start=start)
            if suspect is not None:
                raise suspect
        whole = _bare_filter(qs, _query_start(qs), stop)
        if whole is not None:
            raise whole
    return result


_FILTER_LIKE = re.compile(r"=\s*['\"]|__|\s(?:and|or)\s|\bnot\s")


def _looks_like_url(head: str) -> bool:
    return bool(re.match(r"[A-Za-z][A-Za-z0-9+.-]*://|/", head))


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "…"


def _parses(text: str) -> bool:
    try:
        parse(text)
    except FilterSyntaxError:
        return False
    return True


def _suspect(
    qs: str, key: str, *, raw_key: str, sep: str, raw_value: str, start: int
) -> QueryStringError | None:
    """A parameter that is not ``$entity=`` but looks as if it were meant to be one."""
    end = start + len(raw_key)
    if key[:3].lower() == "%24" or key.lstrip(" \t").startswith("$"):
        name = key.lstrip(" \t")
        name = "$" + name[3:] if name[:3].lower() == "%24" else name
        why = "percent-encoded twice" if key[:3].lower() == "%24" else "preceded by white space"
        return QueryStringError(
            f"`{_short(key)}` is not a filter parameter: the `$` is {why}",
            qs,
            start,
            end=end,
            hint=f"write `{_short(name)}=<filter>`",
        )
    if sep and _ENTITY_RE.match(key):
        try:
            value = _decode(raw_value, qs, end + 1)
        except QueryStringError:
            return None
        if "=" in value and _parses(value):
            return QueryStringError(
                f"`{_short(key)}=` is not a filter parameter: filter parameters start with `$`",
                qs,
                start,
                end=end,
                hint=f"write `${_short(key)}={_short(raw_value)}`",
            )
    return None


def _bare_filter(qs: str, start: int, stop: int) -> QueryStringError | None:
    """The whole query string is a filter without its ``$entity=``."""
    try:
        text = unquote_to_bytes(qs[start:stop].replace("+", " ")).decode("utf-8")
    except UnicodeDecodeError:
        return None
    # Only text that is plainly a filter: `page=2` parses too, but is an ordinary parameter.
    if not _FILTER_LIKE.search(text) or not _parses(text):
        return None
    return QueryStringError(
        "no `$entity=` parameter: this is a filter without the parameter that names its entity",
        qs,
        start,
        end=stop,
        hint=f"write `$employees={_short(qs[start:stop])}` (with the entity it filters)",
    )


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
    if not isinstance(filters, Mapping):
        raise FilterTypeError(
            f"to_query_string() takes a mapping of entity names to filters, not {type_name(filters)}"
        )
    parts = []
    for entity, expr in filters.items():
        if not isinstance(entity, str):
            raise FilterTypeError(f"an entity name is a str, not {type_name(entity)}")
        if not _ENTITY_RE.match(entity):
            raise FilterArgumentError(f"{_short(entity)!r} is not an entity name")
        if not isinstance(expr, (str, Expr)):
            raise FilterTypeError(f"the filter of `{entity}` must be filter text or an expression, "
                                  f"not {type_name(expr)}")
        text = to_text(parse(expr) if isinstance(expr, str) else expr)
        parts.append(f"${entity}={quote_plus(text, safe=_SAFE)}")
    return "&".join(parts)
