"""Field references: ``job__job_family__external_id__startswith`` split into a target and an operator.

The rules the grammar cannot say (``grammar.lark``'s FIELD is one word): the word splits on ``__`` into
non-empty names, a final operator name is the operator, ``cp_<name>`` may only be followed by an operator,
and a keyword is not a field.  The parser, the builder (``Q``) and the printer (which checks that what it
writes reads back) all use :func:`parse_lookup`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from ..errors import FilterSyntaxError
from ..semantics.operators import KEYWORDS, OPERATOR_NAMES, SF211_IS_NULL_VALUE
from .ast import CustomProperty, FieldRef
from .lexer import shorten

__all__ = ["lookup_value_error", "parse_lookup"]

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# Lookups of the built-in operators, memoised: a filter names few distinct fields, and the results are
# immutable.  Bounded; cleared when full.
_LOOKUPS: dict[str, tuple[FieldRef | CustomProperty, str]] = {}
_LOOKUPS_MAX = 4096


def builtin_lookup(text: str, source: str, offset: int) -> tuple[FieldRef | CustomProperty, str]:
    """:func:`parse_lookup` with the built-in operators, memoised."""
    found = _LOOKUPS.get(text)
    if found is None:
        found = parse_lookup(text, source=source, offset=offset)
        if len(_LOOKUPS) >= _LOOKUPS_MAX:
            _LOOKUPS.clear()
        _LOOKUPS[text] = found
    return found


def parse_lookup(
    text: str,
    *,
    operators: Collection[str] = OPERATOR_NAMES,
    source: str | None = None,
    offset: int = 0,
) -> tuple[FieldRef | CustomProperty, str]:
    """Split a lookup (``job__job_family__external_id__startswith``) the way Django does.

    Returns the target and the operator; raises :class:`FilterSyntaxError` with positions relative to
    ``source`` (the whole filter) when given, else to ``text``.
    """
    src = text if source is None else source
    parts = text.split("__")
    pos = offset
    for i, part in enumerate(parts):
        if not part or not _NAME_RE.match(part):
            message, start, end, hint = _bad_name(text, part, i=i, last=len(parts) - 1, pos=pos,
                                                  offset=offset)
            raise FilterSyntaxError(message, src, start, end=end, hint=hint)
        pos += len(part) + 2
    op = "exact"
    if len(parts) >= 2 and parts[-1] in operators:
        op = parts.pop()
    first = parts[0]
    if first.startswith("cp_") and len(first) > 3:
        if len(parts) > 1:
            bad_pos = offset + len(first) + 2
            raise FilterSyntaxError(
                f"`{shorten(parts[1])}` is not an operator; only an operator may follow a custom property",
                src,
                bad_pos,
                end=offset + len(text),
                expected=sorted(operators),
                hint=_did_you_mean(parts[1], operators, "an operator")
                or "custom properties have no relations: write `cp_name__operator=value`",
            )
        return CustomProperty(first[3:]), op
    if len(parts) == 1 and parts[0] in KEYWORDS:
        raise FilterSyntaxError(
            f"`{parts[0]}` is a keyword, not a field",
            src,
            offset,
            end=offset + len(parts[0]),
            hint="a field cannot be named `and`, `or`, `not`, `true`, `false` or `null`",
        )
    return FieldRef(tuple(parts)), op


def _bad_name(text: str, part: str, *, i: int, last: int, pos: int, offset: int
              ) -> tuple[str, int, int, str | None]:
    """What is wrong with ``part``, the ``i``-th name (of ``last + 1``) of the lookup ``text`` found at
    ``offset``, ``part`` at ``pos``: the message, its span and its hint."""
    if part:
        message = f"`{shorten(part)}` is not a valid name: a name starts with a letter or `_`"
        return message, pos, pos + len(part), None
    if i == last and i > 0:
        return ("field name ends in `__`", offset + len(text) - 2, offset + len(text),
                "`__` separates a relation from its field or a field from its operator: "
                f"add an operator (`{shorten(text)}icontains=...`) or remove the trailing `__`")
    return ("empty name in field reference" if i else "field name starts with `__`", pos, pos + 2,
            "names in a field reference are separated by exactly one `__`")


def _did_you_mean(word: str, candidates: Iterable[str], what: str) -> str | None:
    import difflib

    if len(word) > 40:
        return None
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    if close:
        return f"did you mean {what} `{close[0]}`?"
    return None


def lookup_value_error(
    problem: str,
    op: str,
    target: FieldRef | CustomProperty,
    lookup: str,
    source: str,
    *,
    start: int,
    end: int,
    python: bool = False,
) -> FilterSyntaxError:
    """The error for a ``problem`` of :func:`~skillfilter.semantics.operators.lookup_value_problem`
    (``SF211``/``SF212``, its code) in the comparison ``lookup=value`` with ``target`` and operator ``op``:
    for the parser, or with ``python`` for ``Q(lookup=value)`` (the hint then spells Python)."""
    if python:
        yes, no, spell = "True", "False", "Q({}={})".format
        name, field = lookup, target.text()
    else:
        yes, no, spell = "true", "false", "`{}={}`".format
        name, field = shorten(lookup), shorten(target.text())
    if problem == SF211_IS_NULL_VALUE:
        return FilterSyntaxError(
            "`is_null` takes `true` or `false`",
            source,
            start,
            end=end,
            expected=[yes, no],
            hint=f"write {spell(name, yes)} or {spell(name, no)}",
            code=problem,
        )
    return FilterSyntaxError(
        f"`null` cannot be used with `{op}`, only with `exact`",
        source,
        start,
        end=end,
        hint=f"to test for a missing value write {spell(field + '__is_null', yes)}",
        code=problem,
    )
