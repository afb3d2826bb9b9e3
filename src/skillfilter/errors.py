"""The library's own exceptions and the :class:`Diagnostic` record.

:class:`Diagnostic`, :class:`FilterValidationError` and the text helpers (:func:`line_column`,
:func:`render_caret`, :func:`visible`) live in :mod:`skillfilter.diagnostics` and are found here too; that
module loads on first use (a command that parses and prints, such as ``skillfilter fmt``, never compiles it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from . import _lazy_getattr

if TYPE_CHECKING:
    from .diagnostics import Diagnostic, FilterValidationError, Severity, line_column, render_caret, visible

__all__ = [
    "Diagnostic",
    "FilterArgumentError",
    "FilterError",
    "FilterSyntaxError",
    "FilterTypeError",
    "FilterValidationError",
    "QueryStringError",
    "Severity",
    "line_column",
    "render_caret",
    "type_name",
    "visible",
]

#: The names :mod:`skillfilter.diagnostics` defines, looked up there on first use.
_DIAGNOSTICS = ("Diagnostic", "FilterValidationError", "Severity", "line_column", "render_caret", "visible")
__getattr__ = _lazy_getattr(dict.fromkeys(_DIAGNOSTICS, "diagnostics"), globals())


class FilterError(Exception):
    """Base of every error the library raises on bad input."""


class FilterTypeError(FilterError, TypeError):
    """A function got an argument of the wrong type (``validate("a=1", None)``): a ``TypeError`` too."""


class FilterArgumentError(FilterError, ValueError):
    """A function got an argument of the right type but a value it cannot take (``max_depth=0``): a
    ``ValueError`` too."""


def type_name(value: object) -> str:
    """The type of ``value`` as a message names it."""
    return "None" if value is None else type(value).__name__


class FilterSyntaxError(FilterError, ValueError):
    """The filter text is not in the language.

    ``position`` is a 0-based offset, ``line`` and ``column`` are 1-based, ``expected`` lists what could
    have stood at that position, in plain words.  ``code`` is the diagnostic code, set where the problem is
    found: ``SF100`` (not in the grammar) unless the raiser knows better (``SF211``/``SF212`` for the
    ``is_null``/``null`` rule of :func:`skillfilter.semantics.operators.lookup_value_problem`).
    """

    def __init__(
        self,
        message: str,
        text: str = "",
        position: int = 0,
        *,
        expected: Sequence[str] = (),
        hint: str | None = None,
        end: int | None = None,
        code: str = "SF100",
    ) -> None:
        from .diagnostics import line_column, visible

        self.reason = visible(message)
        self.code = code
        self.text = text
        self.position = position
        self.end = end if end is not None else position + 1
        self.line, self.column = line_column(text, position)
        self.expected = tuple(expected)
        self.hint = visible(hint) if hint is not None else None
        super().__init__(self._render())

    def _render(self) -> str:
        from .diagnostics import or_list, render_caret

        parts = [f"{self.reason} (line {self.line}, column {self.column})"]
        if self.text:
            parts.append(render_caret(self.text, self.position, self.end))
        if self.expected:
            parts.append("expected " + or_list(self.expected))
        if self.hint:
            parts.append("hint: " + self.hint)
        return "\n".join(parts)

    def __reduce__(self) -> tuple[object, ...]:  # keep pickling working with keyword-only arguments
        state = {"expected": self.expected, "hint": self.hint, "end": self.end, "code": self.code}
        return (_rebuild_syntax_error, (type(self), (self.reason, self.text, self.position), state))


def _rebuild_syntax_error(
    cls: type[FilterSyntaxError], args: tuple[str, str, int], state: dict[str, object]
) -> FilterSyntaxError:
    return cls(*args, **state)  # type: ignore[arg-type]


class QueryStringError(FilterSyntaxError):
    """A query string that cannot be decoded (bad key, the same entity twice, invalid UTF-8)."""
