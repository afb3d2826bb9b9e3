"""The :class:`Diagnostic` record, :class:`FilterValidationError`, and the text helpers messages use.

Part of :mod:`skillfilter.errors`, which finds every name here on first use (so that a parse does not load
this module); import them from there.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from .errors import FilterError
from .semantics.frozen import Frozen

__all__ = ["Diagnostic", "FilterValidationError", "line_column", "or_list", "render_caret", "visible"]

Severity = Literal["error", "warning"]


def line_column(text: str, position: int) -> tuple[int, int]:
    """1-based line and column of a 0-based offset."""
    position = max(0, min(position, len(text)))
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return line, column


# Characters that would act on a terminal rather than show: C0/C1 controls (but tab), line and paragraph
# separators, bidirectional overrides and isolates, and lone surrogates.
_INVISIBLE = "[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"


def _escape(match: re.Match[str]) -> str:
    return match.group().encode("unicode_escape", "backslashreplace").decode("ascii")


def visible(text: str) -> str:
    """``text`` safe to print on a terminal: invisible or terminal-controlling characters as escapes."""
    if text.isascii() and text.isprintable():  # the common case, without compiling the pattern
        return text
    return re.sub(_INVISIBLE, _escape, text)


def render_caret(text: str, start: int, end: int | None = None) -> str:
    """The line of ``text`` holding ``start`` with carets beneath ``[start, end)`` (at least one).

    Control characters in the line are shown escaped (see :func:`visible`), and the carets follow them.
    """
    start = max(0, min(start, len(text)))
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    if line_end == -1:
        line_end = len(text)
    line = text[line_start:line_end]
    col = start - line_start
    width = 1 if end is None else max(1, min(end, line_end) - start)
    # Keep very long lines readable: show a window around the spot.
    window = 100
    if len(line) > window and col > window // 2:
        cut = col - window // 2
        line = "…" + line[cut:]
        col = col - cut + 1
    if len(line) > window:
        line = line[:window] + "…"
        width = max(1, min(width, window - col))
    shown = [visible(ch) for ch in line]
    # Tabs keep their width so that the caret lines up; an escaped character is as wide as its escape.
    pad = "".join("\t" if ch == "\t" else " " * len(piece)
                  for ch, piece in zip(line[:col], shown[:col], strict=True))
    marks = sum(len(piece) for piece in shown[col : col + width]) or 1
    return f"{''.join(shown)}\n{pad}{'^' * marks}"


def or_list(items: Sequence[str]) -> str:
    items = list(dict.fromkeys(items))
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " or " + items[-1]


class Diagnostic(Frozen):
    """One problem found in a filter.

    ``start``/``end`` are offsets into the filter text (half-open); ``code`` is stable (``SF...``).
    Immutable; equal when all but ``entity`` are equal, and hashable.  (A written-out
    :class:`~skillfilter.semantics.frozen.Frozen` record rather than a dataclass: it is built at every
    start of the command line.)
    """

    __slots__ = ("code", "end", "entity", "hint", "message", "severity", "start")
    _fields = ("code", "message", "start", "end", "severity", "hint", "entity")
    __match_args__ = ("code", "message", "start", "end", "severity", "hint", "entity")

    code: str
    message: str
    start: int
    end: int
    severity: Severity
    hint: str | None
    #: Entity the filter was checked against, when known.
    entity: str | None

    def __init__(  # noqa: PLR0917 - positional, as the dataclass it replaces
        self,
        code: str,
        message: str,
        start: int,
        end: int,
        severity: Severity = "error",
        hint: str | None = None,
        entity: str | None = None,
    ) -> None:
        self._set_fields(code, message, start, end, severity, hint, entity)

    def _key(self) -> tuple[object, ...]:
        return (self.code, self.message, self.start, self.end, self.severity, self.hint)  # not the entity

    def to_dict(self, text: str | None = None) -> dict[str, object]:
        data: dict[str, object] = {
            "code": self.code,
            "message": self.message,
            "severity": self.severity,
            "start": self.start,
            "end": self.end,
        }
        if text is not None:
            data["line"], data["column"] = line_column(text, self.start)
        data["hint"] = self.hint
        return data


class FilterValidationError(FilterError, ValueError):
    """The filter parses but does not fit the schema; ``diagnostics`` lists every problem."""

    def __init__(self, diagnostics: Sequence[Diagnostic], text: str | None = None) -> None:
        self.diagnostics = list(diagnostics)
        self.text = text
        lines = []
        for d in self.diagnostics:
            lines.append(f"{d.code} {visible(d.message)}")
            if text and (d.end > d.start or d.start > 0):  # an entity-level problem has no span to mark
                lines.append(render_caret(text, d.start, d.end))
            if d.hint:
                lines.append(f"hint: {visible(d.hint)}")
        super().__init__("\n".join(lines) if lines else "invalid filter")
