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

This module is the path a valid filter takes (``skillfilter lint`` compiles it at every start when there is
no cached bytecode); the words of each problem are in :mod:`.diagnose`, and the spans of trees built in
Python and the rebuilding of a checked tree in :mod:`.trees`, both loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import FilterSyntaxError, FilterValidationError
from ..language.ast import And, Comparison, Expr, Not, Or
from ..language.parser import parse
from .literals import ConversionError, convert_literal
from .model import Schema
from .operators import OpKind, lookup_value_problem
from .resolve import ResolveError

if TYPE_CHECKING:
    from ..errors import Diagnostic

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
    return _run(expr_or_text, entity, schema, max_logical_operators, check=False)[0]


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
    diagnostics, expr, text = _run(expr_or_text, entity, schema, max_logical_operators, check=True)
    if diagnostics or expr is None:
        raise FilterValidationError(diagnostics, text)
    return expr


# --------------------------------------------------------------------------------------------------
def _run(
    expr_or_text: Expr | str,
    entity: str,
    schema_arg: Schema | str | None,
    cap: int | None,
    *,
    check: bool,
) -> tuple[list[Diagnostic], Expr | None, str | None]:
    """The diagnostics, the checked expression (only with ``check``, and only when there is no
    diagnostic) and the text positions refer to.  With ``check`` a syntax error is raised."""
    schema = Schema.coerce(schema_arg)
    if not (cap is None or (type(cap) is int and cap >= 0)) or not isinstance(expr_or_text, (str, Expr)) \
            or not isinstance(entity, str):
        from .diagnose import check_arguments

        check_arguments(expr_or_text, entity, cap)  # raises (but for a cap of an int subclass)
    text = expr_or_text if isinstance(expr_or_text, str) else None
    if entity not in schema.entities:
        from .diagnose import entity_diagnostic

        return [entity_diagnostic(schema, entity)], None, text
    if isinstance(expr_or_text, str):
        try:
            original = work = parse(expr_or_text, operators=schema.operator_names(entity))
        except FilterSyntaxError as exc:
            if check:
                raise
            from .diagnose import syntax_diagnostic

            return [syntax_diagnostic(exc, entity)], None, text
    else:
        from .trees import spanned

        original = expr_or_text
        text, work = spanned(original)

    diagnostics: list[Diagnostic] = []
    converted: list[Comparison] = []
    count = 0  # logical operators, as Expr.logical_operator_count() counts them
    for node in work.walk():
        if isinstance(node, Comparison):
            result = _check_comparison(schema, entity, node)
            if isinstance(result, Comparison):
                converted.append(result)
            else:
                diagnostics.append(result)
        elif isinstance(node, (And, Or)):
            count += len(node.operands) - 1
        elif isinstance(node, Not):
            count += 1
    if cap is not None and count > cap:
        from .cap import cap_diagnostic  # only for a filter over the cap

        diagnostics.append(cap_diagnostic(work, text, count, cap, entity))
    if diagnostics:
        diagnostics.sort(key=lambda d: (d.start, d.end))
        return diagnostics, None, text
    if not check:
        return [], None, text
    from .trees import rebuild

    return [], rebuild(original, iter(converted)), text


def _check_comparison(schema: Schema, entity: str, node: Comparison) -> Comparison | Diagnostic:
    """``node`` with its literal converted and a schema-added operator resolved, or its diagnostic."""
    try:
        res = schema.resolve(entity, node)
    except ResolveError as exc:
        from .diagnose import resolve_diagnostic

        return resolve_diagnostic(exc, entity)
    operator = res.operator
    value = node.value
    problem = lookup_value_problem(operator, value)
    new_value = value
    if problem is None and operator.kind != OpKind.IS_NULL and value is not None:
        try:
            new_value = convert_literal(value, res.type)
        except ConversionError as exc:
            from .diagnose import conversion_diagnostic

            return conversion_diagnostic(exc, node, res, entity)
    elif problem is not None:
        from .diagnose import lookup_diagnostic

        return lookup_diagnostic(problem, node, res, entity)
    target = node.target
    if operator.name != node.op:  # `field__added_op=...` read with the built-in operator names
        from .trees import without_operator

        target = without_operator(target, operator.name)
    if target is node.target and operator.name == node.op and new_value is value:
        return node
    return node.replace(target=target, op=operator.name, value=new_value)
