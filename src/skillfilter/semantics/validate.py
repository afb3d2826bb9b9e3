"""Validation of filters against a schema: every problem at once, as :class:`~skillfilter.errors.Diagnostic`.

:func:`validate` returns the list of diagnostics (empty: the filter is valid); :func:`check` returns the
expression with each literal converted to its field's type and each schema-added operator resolved, or raises
:class:`~skillfilter.errors.FilterValidationError`.

Diagnostic codes (stable; ``docs/diagnostics.md`` has an example of each):

========  ============================================================================================
SF100     syntax error (text input only; one diagnostic, nothing else is checked)
SF200     unknown entity (one diagnostic, nothing else is checked)
SF201     unknown field or relation (did-you-mean, allowed names)
SF202     a path continues after a plain field
SF203     a path ends on a relation
SF210     the operator does not apply to the field's type
SF211     ``is_null`` (or an operator of its kind) without ``true``/``false``
SF212     ``null`` with an operator other than ``exact``
SF220     the literal does not convert exactly to the field's type
SF230     ``cp_`` on an entity without custom properties
SF231     custom property not among the entity's strict definitions
SF240     more logical operators than the cap (points at the first keyword beyond the cap)
========  ============================================================================================

Positions are offsets into the filter text.  For a tree built or combined in Python (some node without a
span), they are offsets into its canonical text ``to_text(expr)`` (for a tree ``to_text`` refuses, such
as ``is_null`` with a string, into the same text written plainly; ``FilterValidationError.text`` has it).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..errors import (
    Diagnostic,
    FilterArgumentError,
    FilterSyntaxError,
    FilterTypeError,
    FilterValidationError,
    type_name,
)
from ..language.ast import And, Comparison, Expr, FieldRef, Not, Or, Span
from ..language.parser import parse
from .operators import OpKind, lookup_value_problem
from .schema import ConversionError, ResolveError, Schema, convert_literal, show_literal

if TYPE_CHECKING:
    from ..language.ast import Literal

__all__ = ["DEFAULT_MAX_LOGICAL_OPERATORS", "check", "validate"]

#: The SkillEngine API allows at most this many ``and``/``or``/``not`` keywords in one filter.
DEFAULT_MAX_LOGICAL_OPERATORS = 5



def validate(
    expr_or_text: Expr | str,
    entity: str,
    *,
    schema: Schema | str | None = None,
    max_logical_operators: int | None = DEFAULT_MAX_LOGICAL_OPERATORS,
) -> list[Diagnostic]:
    """Every problem of a filter against ``entity`` of ``schema``, sorted by position; ``[]`` if valid.

    ``schema`` is a :class:`~skillfilter.semantics.schema.Schema`, the name of a built-in one
    (``"skillengine"``,
    ``"export"``), or ``None`` for the built-in SkillEngine schema.  ``max_logical_operators`` is the cap
    on ``and``/``or``/``not`` keywords (``None`` switches it off).  Text that does not parse gives one
    ``SF100`` diagnostic (``SF211``/``SF212`` for the value checks the parser makes); an unknown entity
    gives one ``SF200``.
    """
    return _run(expr_or_text, entity, schema, max_logical_operators, raise_syntax=False).diagnostics


def check(
    expr_or_text: Expr | str,
    entity: str,
    *,
    schema: Schema | str | None = None,
    max_logical_operators: int | None = DEFAULT_MAX_LOGICAL_OPERATORS,
) -> Expr:
    """The filter with its literals converted to the field types and schema-added operators resolved.

    Raises :class:`~skillfilter.errors.FilterSyntaxError` for text that does not parse and
    :class:`~skillfilter.errors.FilterValidationError` (with ``.diagnostics``) for anything
    :func:`validate` reports.  Spans are kept.
    """
    result = _run(expr_or_text, entity, schema, max_logical_operators, raise_syntax=True)
    if result.diagnostics or result.expr is None:
        raise FilterValidationError(result.diagnostics, result.text)
    return result.expr


# --------------------------------------------------------------------------------------------------
class _Result:
    """What a validation run collects.  (A plain class: a dataclass costs about a millisecond to build.)"""

    __slots__ = ("diagnostics", "expr", "text")

    def __init__(self, diagnostics: list[Diagnostic], expr: Expr | None, text: str | None) -> None:
        self.diagnostics = diagnostics
        self.expr = expr
        self.text = text


def _run(
    expr_or_text: Expr | str,
    entity: str,
    schema_arg: Schema | str | None,
    cap: int | None,
    *,
    raise_syntax: bool,
) -> _Result:
    schema = Schema.coerce(schema_arg)
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int)):
        raise FilterTypeError(f"max_logical_operators must be an int or None, not {type_name(cap)}")
    if cap is not None and cap < 0:
        raise FilterArgumentError(f"max_logical_operators must be 0 or more (or None), not {cap}")
    if not isinstance(expr_or_text, (str, Expr)):
        raise FilterTypeError(f"expected filter text or an expression, not {type_name(expr_or_text)}")
    if not isinstance(entity, str):
        raise FilterTypeError(
            f"entity must be an entity name (a str such as 'employees'), not {type_name(entity)}"
        )
    text = expr_or_text if isinstance(expr_or_text, str) else None
    if entity not in schema.entities:
        guess = difflib.get_close_matches(entity, list(schema.entities), n=1, cutoff=0.6)
        hint = f"entities of schema `{schema.name}`: {', '.join(f'`{n}`' for n in sorted(schema.entities))}"
        if guess:
            hint = f"did you mean `{guess[0]}`? {hint}"
        return _Result([Diagnostic("SF200", f"unknown entity `{entity}`", 0, 0, hint=hint, entity=entity)],
                       None, text)
    if isinstance(expr_or_text, str):
        try:
            original = parse(expr_or_text, operators=schema.operator_names(entity))
        except FilterSyntaxError as exc:
            if raise_syntax:
                raise
            return _Result([_syntax_diagnostic(exc, entity)], None, text)
        work = original
    else:
        original = expr_or_text
        if _fully_spanned(original):
            work = original
        else:
            text, work = _respan(original)

    diagnostics: list[Diagnostic] = []
    converted: list[Comparison] = []
    count = 0  # logical operators, as Expr.logical_operator_count() counts them
    for node in work.walk():
        if isinstance(node, Comparison):
            result = _check_comparison(schema, entity, node)
            if isinstance(result, Diagnostic):
                diagnostics.append(result)
            else:
                converted.append(result)
        elif isinstance(node, (And, Or)):
            count += len(node.operands) - 1
        elif isinstance(node, Not):
            count += 1
    if cap is not None and count > cap:
        from .cap import cap_diagnostic  # only for a filter over the cap

        diagnostics.append(cap_diagnostic(work, text, count, cap, entity))
    diagnostics.sort(key=lambda d: (d.start, d.end))
    if diagnostics:
        return _Result(diagnostics, None, text)
    return _Result([], _rebuild(original, iter(converted)), text)


def _syntax_diagnostic(exc: FilterSyntaxError, entity: str) -> Diagnostic:
    code = exc.code  # set where the problem was found
    message = exc.reason
    if exc.expected and code == "SF100":
        items = list(dict.fromkeys(exc.expected))
        shown = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
        message += f"; expected {shown}"
    # Offsets stay inside the text (the parser may point one past its end).
    start = min(exc.position, len(exc.text))
    end = max(start, min(exc.end, len(exc.text)))
    return Diagnostic(code, message, start, end, hint=exc.hint, entity=entity)


def _span(span: Span | None) -> tuple[int, int]:
    return (span.start, span.end) if span is not None else (0, 0)


def _check_comparison(schema: Schema, entity: str, node: Comparison) -> Comparison | Diagnostic:
    try:
        res = schema.resolve(entity, node)
    except ResolveError as exc:
        return Diagnostic(exc.code, exc.message, exc.start, exc.end, hint=exc.hint, entity=entity)
    operator = res.operator
    value = node.value
    new_value: Literal
    vstart, vend = _span(node.value_span)
    problem = lookup_value_problem(operator, value)
    if problem == "SF211":
        lookup = "__".join(res.path) + ("" if operator.name == "exact" else f"__{operator.name}")
        return Diagnostic(
            "SF211",
            f"`{operator.name}` takes `true` or `false`, not {_show(value)}",
            vstart,
            vend,
            hint=f"write `{lookup}=true` (missing) or `{lookup}=false` (present)",
            entity=entity,
        )
    if problem == "SF212":
        return Diagnostic(
            "SF212",
            f"`null` cannot be used with `{operator.name}`, only with `exact`",
            vstart,
            vend,
            hint=f"to test for a missing value write `{'__'.join(res.path)}__is_null=true`",
            entity=entity,
        )
    if operator.kind == OpKind.IS_NULL or value is None:
        new_value = value
    else:
        try:
            new_value = convert_literal(value, res.type)
        except ConversionError as exc:
            what = f"field `{res.path[-1]}`" if res.field is not None else f"custom property `{res.path[-1]}`"
            hint = exc.hint or f"write a `{res.type}` value"
            return Diagnostic(
                "SF220",
                f"{exc} (the {what} is `{res.type}`)",
                vstart,
                vend,
                hint=hint,
                entity=entity,
            )
    target = node.target
    if operator.name != node.op and isinstance(target, FieldRef) and target.path[-1] == operator.name:
        # `field__added_op=...` read with the built-in operator names: the last segment is the operator.
        target = FieldRef(target.path[:-1])
    if target is node.target and operator.name == node.op and new_value is value:
        return node
    return node.replace(target=target, op=operator.name, value=new_value)


def _lookup(node: Comparison) -> str:
    """The left-hand side as the printer writes it; for a comparison the printer refuses (``is_null``
    without a boolean, ``null`` with another operator), the plain ``path__op``."""
    from ..language.printer import format_lookup

    try:
        return format_lookup(node)
    except ValueError:
        text = node.target.text()
        return text if node.op == "exact" else f"{text}__{node.op}"


def _show(value: object) -> str:
    return show_literal(value)


def _write_literal(value: Literal) -> str:
    """A literal in the text made for a tree built in Python: canonical where possible, else described."""
    from ..language.printer import format_literal

    try:
        return format_literal(value)
    except (TypeError, ValueError):
        return show_literal(value)


# --------------------------------------------------------------------------------------------------
# trees: spans for trees built in Python, and rebuilding with converted comparisons
# --------------------------------------------------------------------------------------------------
def _fully_spanned(expr: Expr) -> bool:
    for node in expr.walk():
        if isinstance(node, Comparison):
            if node.span is None or node.target_span is None or node.value_span is None:
                return False
        elif isinstance(node, (And, Or)):
            if node.span is None or node.keyword_spans is None:
                return False
        elif isinstance(node, Not) and node.span is None:
            return False
    return True


def _respan(expr: Expr) -> tuple[str, Expr]:
    """The canonical text of ``expr`` and a copy of it whose spans point into that text: the printer's
    spans, with lenient writers for what the printer refuses (positions are all a diagnostic needs)."""
    from ..language.printer import respan  # (text input never needs the printer: loaded here)

    return respan(expr, write_lookup=_lookup, write_literal=_write_literal)


def _rebuild(node: Expr, converted: Iterator[Comparison]) -> Expr:
    """``node`` with its comparisons replaced, in order, by ``converted`` (keeping ``node``'s spans)."""
    if isinstance(node, Comparison):
        new = next(converted)
        if new is node:
            return node
        if new.target == node.target and new.op == node.op and new.value is node.value:
            return node
        return node.replace(target=new.target, op=new.op, value=new.value)
    if isinstance(node, (And, Or)):
        operands = tuple(_rebuild(op, converted) for op in node.operands)
        if all(a is b for a, b in zip(operands, node.operands, strict=True)):
            return node
        return type(node)(operands, node.keyword_spans, node.span)
    if isinstance(node, Not):
        operand = _rebuild(node.operand, converted)
        return node if operand is node.operand else Not(operand, node.span)
    raise FilterTypeError(f"{type_name(node)} is not an expression")

