"""The words of every problem a filter can have against a schema: the :class:`~.resolve.ResolveError` of
:func:`~.resolve.resolve` (codes ``SF200``–``SF231``) and the :class:`~skillfilter.errors.Diagnostic` of
:func:`~.validate.validate` (codes in its docstring), with their positions and hints.

Loaded only when a filter has a problem: a valid filter never needs it (see :mod:`.validate`).
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from ..errors import (
    Diagnostic,
    FilterArgumentError,
    FilterSyntaxError,
    FilterTypeError,
    type_name,
)
from ..language.ast import CustomProperty, Expr, FieldRef
from .literals import show_literal
from .operators import FIELD_KIND, OpKind
from .resolve import ResolveError, literal_kind

if TYPE_CHECKING:
    from ..language.ast import Comparison
    from .literals import ConversionError
    from .model import Entity, Field, Resolution, Schema
    from .operators import Operator

__all__ = [
    "allowed_operators",
    "check_arguments",
    "conversion_diagnostic",
    "custom_property_error",
    "entity_diagnostic",
    "lookup_diagnostic",
    "operator_error",
    "path_error",
    "resolve_diagnostic",
    "syntax_diagnostic",
    "unknown_entity_error",
]


# --------------------------------------------------------------------------------------------------
# resolution (raised by .resolve)
# --------------------------------------------------------------------------------------------------
def _suggest(word: str, candidates: list[str]) -> str | None:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return close[0] if close else None


def _allowed_list(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names) if names else "none"


def _hint_names(word: str, names: list[str], what: str, prefix: str = "") -> str | None:
    """``did you mean `x`?`` (when a name is close) followed by the known names."""
    guess = _suggest(word, names)
    parts = []
    if guess is not None:
        parts.append(f"did you mean `{prefix}{guess}`?")
    if names:
        shown = names if len(names) <= 30 else [*names[:30], "..."]
        listed = ", ".join(f"`{prefix}{n}`" if n != "..." else n for n in shown)
        parts.append(f"known {what} names: {listed}")
    return " ".join(parts) or None


def allowed_operators(schema: Schema, entity: Entity, type_name: str | None, fld: Field | None) -> list[str]:
    """``Schema.allowed_operators``: the operator names a value of ``type_name`` takes on ``entity`` (all of
    them when untyped)."""
    table = schema.operators_for(entity)
    if fld is not None and fld.operators is not None:
        return sorted(fld.operators)
    if type_name is not None and type_name in entity.type_operators:
        return sorted(entity.type_operators[type_name])
    if type_name is None:
        return sorted(table)
    kind = FIELD_KIND[type_name]
    return sorted(name for name, op in table.items() if kind in op.kinds)


def _lhs(node: Comparison) -> tuple[int, int]:
    span = node.target_span
    return (span.start, span.end) if span is not None else (0, 0)


def unknown_entity_error(schema: Schema, entity_name: str) -> ResolveError:
    return ResolveError(
        "SF200", f"unknown entity `{entity_name}`", 0, 0,
        _hint_names(entity_name, sorted(schema.entities), "entity"),
    )


def custom_property_error(schema: Schema, entity: Entity, node: Comparison) -> ResolveError:
    """``SF230`` (no custom properties) or ``SF231`` (not among the strict definitions)."""
    target = node.target
    assert isinstance(target, CustomProperty)
    base = _lhs(node)[0]
    end = base + len(target.text())
    cp = entity.custom_properties
    if cp is None:
        having = sorted(e.name for e in schema.entities.values() if e.custom_properties)
        return ResolveError(
            "SF230", f"`{entity.name}` has no custom properties", base, end,
            f"custom properties (`cp_...`) exist on: {_allowed_list(having)}",
        )
    hint = _hint_names(target.name, sorted(cp.definitions), "custom property", prefix="cp_")
    return ResolveError("SF231", f"`{entity.name}` has no custom property `{target.name}`", base, end, hint)


def path_error(schema: Schema, current: Entity, node: Comparison, i: int) -> ResolveError:
    """Segment ``i`` of the path (in ``current``) does not fit: ``SF203`` (a relation ends the path),
    ``SF202`` (something follows a field) or ``SF201`` (no such field or relation)."""
    target = node.target
    assert isinstance(target, FieldRef)
    path = list(target.path)
    seg = path[i]
    base = _lhs(node)[0]
    pos = base + sum(len(s) + 2 for s in path[:i])
    seg_end = pos + len(seg)
    rel = current.relations.get(seg)
    if rel is not None:
        target_entity = schema.entities[rel.target]
        first = next(iter(target_entity.fields), "external_id")
        return ResolveError(
            "SF203", f"`{seg}` is a relation to `{rel.target}`, not a field", pos, seg_end,
            f"compare one of its fields: {_allowed_list(target_entity.names()[:12])}, "
            f"as in `{'__'.join(path)}__{first}=...`",
        )
    if seg in current.fields:
        table = schema.operators_for(current)
        nxt = path[i + 1]
        if nxt in table:
            hint = f"`{nxt}` is an operator and comes last: write `{'__'.join(path[: i + 2])}=...`"
        else:
            hint = f"`{nxt}` is not an operator; operators are: {_allowed_list(sorted(table))}"
        return ResolveError(
            "SF202", f"`{seg}` is a field of `{current.name}`, not a relation: nothing can follow it",
            pos + len(seg), base + len(target.text()), hint,
        )
    names = current.names()
    guess = _suggest(seg, names)
    allowed = f"`{current.name}` has: {_allowed_list(names)}"
    return ResolveError(
        "SF201", f"`{seg}` is not a field or relation of `{current.name}`", pos, seg_end,
        f"did you mean `{guess}`? {allowed}" if guess is not None else allowed,
    )


def operator_error(  # noqa: PLR0917 - called through resolve._fail
    schema: Schema, entity: Entity, node: Comparison, op_name: str, type_name: str | None, fld: Field | None,
    operator: Operator | None,
) -> ResolveError:
    """``SF210``: the operator does not apply (or is unknown) where the comparison leads."""
    lhs_start, lhs_end = _lhs(node)
    allowed = schema.allowed_operators(entity, type_name, fld)
    op_start = lhs_end - len(op_name) if node.op != "exact" or op_name != "exact" else lhs_start
    what = f"a `{type_name}` field" if type_name else "this field"
    if type_name is None and fld is None and operator is not None:
        kind = literal_kind(node.value)
        what = f"a {kind} value"
        table = schema.operators_for(entity)
        allowed = sorted(n for n, op in table.items() if kind in op.kinds or op.kind == OpKind.IS_NULL)
    if fld is not None and fld.operators is not None:
        what = f"`{fld.name}`"
    return ResolveError(
        "SF210", f"`{op_name}` does not apply to {what}", op_start, lhs_end,
        f"allowed: {_allowed_list(allowed)}",
    )


# --------------------------------------------------------------------------------------------------
# validation (returned by .validate)
# --------------------------------------------------------------------------------------------------
def check_arguments(expr_or_text: object, entity: object, cap: object) -> None:
    """Raise for the first problem with the arguments of ``validate``/``check``, in this order: the cap
    (an int, not a bool, 0 or more, or None), the filter (text or an expression), the entity (a str)."""
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


def entity_diagnostic(schema: Schema, entity: str) -> Diagnostic:
    """``SF200``: ``entity`` is not an entity of ``schema``."""
    guess = difflib.get_close_matches(entity, list(schema.entities), n=1, cutoff=0.6)
    hint = f"entities of schema `{schema.name}`: {', '.join(f'`{n}`' for n in sorted(schema.entities))}"
    if guess:
        hint = f"did you mean `{guess[0]}`? {hint}"
    return Diagnostic("SF200", f"unknown entity `{entity}`", 0, 0, hint=hint, entity=entity)


def syntax_diagnostic(exc: FilterSyntaxError, entity: str) -> Diagnostic:
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


def resolve_diagnostic(exc: ResolveError, entity: str) -> Diagnostic:
    return Diagnostic(exc.code, exc.message, exc.start, exc.end, hint=exc.hint, entity=entity)


def _value_span(node: Comparison) -> tuple[int, int]:
    span = node.value_span
    return (span.start, span.end) if span is not None else (0, 0)


def lookup_diagnostic(problem: str, node: Comparison, res: Resolution, entity: str) -> Diagnostic:
    """``SF211`` (``is_null`` without ``true``/``false``) or ``SF212`` (``null`` with another operator
    than ``exact``), as :func:`~.operators.lookup_value_problem` found."""
    operator = res.operator
    vstart, vend = _value_span(node)
    if problem == "SF211":
        lookup = "__".join(res.path) + ("" if operator.name == "exact" else f"__{operator.name}")
        return Diagnostic(
            "SF211", f"`{operator.name}` takes `true` or `false`, not {show_literal(node.value)}",
            vstart, vend,
            hint=f"write `{lookup}=true` (missing) or `{lookup}=false` (present)", entity=entity,
        )
    return Diagnostic(
        "SF212", f"`null` cannot be used with `{operator.name}`, only with `exact`", vstart, vend,
        hint=f"to test for a missing value write `{'__'.join(res.path)}__is_null=true`", entity=entity,
    )


def conversion_diagnostic(exc: ConversionError, node: Comparison, res: Resolution, entity: str) -> Diagnostic:
    """``SF220``: the literal does not convert exactly to the field's type."""
    vstart, vend = _value_span(node)
    what = f"field `{res.path[-1]}`" if res.field is not None else f"custom property `{res.path[-1]}`"
    return Diagnostic(
        "SF220", f"{exc} (the {what} is `{res.type}`)", vstart, vend,
        hint=exc.hint or f"write a `{res.type}` value", entity=entity,
    )
