"""Resolution: where a comparison leads in a schema, or why it does not fit.

:func:`resolve` (``Schema.resolve``) is the one place where a comparison meets a schema: it walks the
relations, finds the field or custom property, picks the operator (a schema may add operators) and raises
:class:`ResolveError`, carrying its diagnostic code, where something does not fit.  The validator turns
those into diagnostics; the planner uses the :class:`~.model.Resolution` to compile.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ..errors import FilterError
from ..language.ast import CustomProperty
from .model import Entity, Field, Relation, Resolution, Schema
from .operators import BUILTIN_OPERATORS, FIELD_KIND, Operator, OpKind, ValueKind

if TYPE_CHECKING:
    from ..language.ast import Comparison, Literal

__all__ = ["ResolveError", "resolve"]


class ResolveError(FilterError):
    """A comparison that does not fit the schema; ``code`` is the diagnostic code (set where the problem is
    found), ``start``/``end`` the span of the text at fault, ``hint`` a suggestion.

    A :class:`~skillfilter.errors.FilterError` (and so an ``Exception``, as before)."""

    def __init__(self, code: str, message: str, start: int, end: int, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.start = start
        self.end = end
        self.hint = hint

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.code, self.message, self.start, self.end, self.hint))


def _suggest(word: str, candidates: list[str]) -> str | None:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return close[0] if close else None


def _allowed_list(names: list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names) if names else "none"


def resolve(schema: Schema, entity_name: str, node: Comparison) -> Resolution:
    """Check one comparison against ``entity_name``; raise :class:`ResolveError` where it does not fit.

    A last path segment naming an operator the schema adds (the parser knows only the built-ins) is
    taken as that operator.
    """
    entity = schema.entities.get(entity_name)
    span = node.target_span
    base = span.start if span is not None else 0
    lhs_end = span.end if span is not None else 0
    if entity is None:
        raise ResolveError(
            "SF200",
            f"unknown entity `{entity_name}`",
            0,
            0,
            _hint_names(entity_name, sorted(schema.entities), "entity"),
        )
    table = schema.operators_for(entity)
    op_name = node.op
    target = node.target
    if isinstance(target, CustomProperty):
        cp = entity.custom_properties
        end = base + len(target.text())
        if cp is None:
            raise ResolveError(
                "SF230",
                f"`{entity.name}` has no custom properties",
                base,
                end,
                f"custom properties (`cp_...`) exist on: "
                f"{_allowed_list(sorted(e.name for e in schema.entities.values() if e.custom_properties))}",
            )
        type_name = cp.definitions.get(target.name)
        if type_name is None and cp.strict:
            names = sorted(cp.definitions)
            hint = _hint_names(target.name, names, "custom property", prefix="cp_")
            raise ResolveError(
                "SF231",
                f"`{entity.name}` has no custom property `{target.name}`",
                base,
                end,
                hint,
            )
        operator = _operator(
            schema, entity, op_name, type_name=type_name, fld=None, table=table, lhs_start=base,
            lhs_end=lhs_end, node=node,
        )
        return Resolution(entity, (), None, target.name, type_name, operator)

    path = list(target.path)
    relations: list[Relation] = []
    current = entity
    pos = base
    for i, seg in enumerate(path):
        seg_end = pos + len(seg)
        last = i == len(path) - 1
        if seg in current.relations:
            rel = current.relations[seg]
            relations.append(rel)
            if last:
                target_entity = schema.entities[rel.target]
                raise ResolveError(
                    "SF203",
                    f"`{seg}` is a relation to `{rel.target}`, not a field",
                    pos,
                    seg_end,
                    f"compare one of its fields: {_allowed_list(target_entity.names()[:12])}, "
                    f"as in `{'__'.join(path)}__{_first_field(target_entity)}=...`",
                )
            current = schema.entities[rel.target]
            pos = seg_end + 2
            continue
        if seg in current.fields:
            fld = current.fields[seg]
            table = schema.operators_for(current)
            if not last:
                nxt = path[i + 1]
                if (
                    i + 1 == len(path) - 1
                    and node.op == "exact"
                    and nxt in table
                    and nxt not in BUILTIN_OPERATORS
                ):
                    # `field__added_op=value` parsed with the built-in operator names only: the last
                    # segment is an operator the schema adds.
                    op_name = nxt
                else:
                    if nxt in table:
                        hint = (
                            f"`{nxt}` is an operator and comes last: write "
                            f"`{'__'.join(path[: i + 2])}=...`"
                        )
                    else:
                        hint = (
                            f"`{nxt}` is not an operator; operators are: {_allowed_list(sorted(table))}"
                        )
                    raise ResolveError(
                        "SF202",
                        f"`{seg}` is a field of `{current.name}`, not a relation: nothing can follow it",
                        pos + len(seg),
                        base + len(target.text()),
                        hint,
                    )
            operator = _operator(
                schema, current, op_name, type_name=fld.type, fld=fld, table=table, lhs_start=base,
                lhs_end=lhs_end, node=node,
            )
            return Resolution(entity, tuple(relations), fld, None, fld.type, operator)
        names = current.names()
        guess = _suggest(seg, names)
        allowed = f"`{current.name}` has: {_allowed_list(names)}"
        raise ResolveError(
            "SF201",
            f"`{seg}` is not a field or relation of `{current.name}`",
            pos,
            seg_end,
            f"did you mean `{guess}`? {allowed}" if guess is not None else allowed,
        )
    raise AssertionError("unreachable")  # pragma: no cover


def _operator(
    schema: Schema,
    entity: Entity,
    op_name: str,
    *,
    type_name: str | None,
    fld: Field | None,
    table: Mapping[str, Operator],
    lhs_start: int,
    lhs_end: int,
    node: Comparison,
) -> Operator:
    operator = table.get(op_name)
    if operator is not None and _takes(entity, operator, type_name, fld, node.value):
        return operator
    allowed = schema.allowed_operators(entity, type_name, fld)
    op_start = lhs_end - len(op_name) if node.op != "exact" or op_name != "exact" else lhs_start
    what = f"a `{type_name}` field" if type_name else "this field"
    if type_name is None and fld is None and operator is not None:
        kind = _literal_kind(node.value)
        what = f"a {kind} value"
        allowed = sorted(n for n, op in table.items() if kind in op.kinds or op.kind == OpKind.IS_NULL)
    if fld is not None and fld.operators is not None:
        what = f"`{fld.name}`"
    raise ResolveError(
        "SF210",
        f"`{op_name}` does not apply to {what}",
        op_start,
        lhs_end,
        f"allowed: {_allowed_list(allowed)}",
    )


def _takes(
    entity: Entity, operator: Operator, type_name: str | None, fld: Field | None, value: Literal = None
) -> bool:
    """Whether ``operator`` applies (the membership test of :meth:`allowed_operators`).

    An untyped target (an undeclared custom property) is judged by the literal's kind, as rule 7 says:
    booleans take only ``exact`` and ``is_null``, string operators apply to text only.
    """
    if fld is not None and fld.operators is not None:
        return operator.name in fld.operators
    if type_name is None:
        kind = _literal_kind(value)
        return kind is None or operator.kind == OpKind.IS_NULL or kind in operator.kinds
    if type_name in entity.type_operators:
        return operator.name in entity.type_operators[type_name]
    return FIELD_KIND[type_name] in operator.kinds


def _literal_kind(value: Literal) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return ValueKind.BOOLEAN
    if isinstance(value, (int, float)):
        return ValueKind.NUMBER
    if isinstance(value, str):
        return ValueKind.TEXT
    return ValueKind.TEMPORAL



def _first_field(entity: Entity) -> str:
    return next(iter(entity.fields), "external_id")


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
