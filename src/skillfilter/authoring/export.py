"""The export endpoint as documented: ``POST /export/employees/skill_clusters``.

Its request body (seed documentation of the endpoint)::

    {"limit": 10,                                   # 1..100, required
     "starting_after": "<external_id>",             # at most 100 characters, optional
     "filters": [{"filter": "is_active", "is_active": true},
                 {"filter": "last_updated", "value": "2022-03-25", "operator": "gt"}],
     "include": ["sources", "current_skills", "related_skills", "rejected_skills"]}

and its pages ``{"has_next": ..., "records": [...], "next_starting_after": ...}`` hold records with only
``external_id`` and ``skill_clusters`` (the built-in ``export`` schema).

:func:`export_request` turns one filter on employees into such a body and a *local* filter: the
conjuncts on ``active`` and ``last_updated`` become the body's ``filters`` (the endpoint joins them with
``and``), the rest is checked against the ``export`` schema and is left for ``skillfilter filter`` over the
pages.  A filter that cannot be divided that way (``active`` inside ``or`` or ``not``, an operator the
endpoint does not take) is refused with a :class:`~skillfilter.errors.FilterValidationError` whose
diagnostics say why; so is a local filter that reads a part of the records that ``include`` leaves out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import Diagnostic, FilterError, FilterTypeError, FilterValidationError
from ..language.ast import And, Comparison, Expr, FieldRef

__all__ = ["INCLUDE", "ExportRequest", "check_body", "export_request"]

#: What ``include`` may name, in the documentation's order.
INCLUDE = ("sources", "current_skills", "related_skills", "rejected_skills")
#: The body's filters: the employee field -> the endpoint's filter name.
SERVER_FIELDS = {"active": "is_active", "last_updated": "last_updated"}
#: Operators the ``last_updated`` filter takes (the tutorial shows ``gt``).
TIME_OPERATORS = ("gt", "gte", "lt", "lte")
MAX_LIMIT = 100
MAX_STARTING_AFTER = 100

# Diagnostic codes of this module.
NOT_A_CONJUNCT = "SF501"
BAD_SERVER_FILTER = "SF502"
NOT_INCLUDED = "SF503"


@dataclass(frozen=True)
class ExportRequest:
    """A request body for the endpoint, and what remains to filter locally over its pages (or ``None``)."""

    body: dict[str, Any]
    local: Expr | None


def export_request(
    expr: Expr | str,
    *,
    limit: int = MAX_LIMIT,
    starting_after: str | None = None,
    include: Sequence[str] | None = None,
) -> ExportRequest:
    """The body of ``POST /export/employees/skill_clusters`` for ``expr`` (a filter on employees).

    ``include=None`` includes what the local filter reads (nothing when there is none); an explicit
    ``include`` must cover it.
    """
    from ..language.parser import parse

    text = expr if isinstance(expr, str) else None
    tree = parse(expr) if isinstance(expr, str) else expr
    if not isinstance(tree, Expr):
        raise FilterTypeError(
            f"export_request() takes filter text or an expression, not {type(expr).__name__}"
        )
    conjuncts = list(tree.operands) if isinstance(tree, And) else [tree]
    server: list[Comparison] = []
    local: list[Expr] = []
    problems: list[Diagnostic] = []
    for part in conjuncts:
        if isinstance(part, Comparison) and _server_field(part):
            server.append(part)
            continue
        inside = [node for node in part.comparisons() if _server_field(node)]
        for node in inside:
            problems.append(_diag(
                NOT_A_CONJUNCT, node,
                f"`{node.target.text()}` is filtered by the export endpoint itself, whose filters are "
                "joined with `and`: it cannot stand inside `or` or `not`",
                "send one request per operand of the `or` (`skillfilter split` lists them), or move the "
                "condition to the top level",
            ))
        if not inside:
            local.append(part)
    filters = [_server_filter(node, problems) for node in server]
    local_expr = And.of(*local) if local else None
    needed: list[str] = []
    if local_expr is not None:
        from ..semantics.validate import validate

        found = validate(local_expr, "employees", schema="export",
                         max_logical_operators=None)
        problems.extend(found)
        if not found:
            needed = _needed(local_expr)
    if include is None:
        include_list = needed
    else:
        include_list = _include(include)
        for name in needed:
            if name not in include_list:
                where = (next(c for c in local_expr.comparisons() if name in _reads(c))
                         if local_expr is not None else None)
                problems.append(_diag(
                    NOT_INCLUDED, where,
                    f"the filter reads `{name}`, which the request does not include",
                    f'add "{name}" to `include`',
                ))
    if problems:
        raise FilterValidationError(problems, text)
    body: dict[str, Any] = {"limit": limit}
    if starting_after is not None:
        body["starting_after"] = starting_after
    if filters:
        body["filters"] = filters
    if include_list:
        body["include"] = include_list
    check_body(body)
    return ExportRequest(body, local_expr)


def _server_field(node: Comparison) -> bool:
    return isinstance(node.target, FieldRef) and node.target.path in (("active",), ("last_updated",))


def _diag(code: str, node: Comparison | None, message: str, hint: str | None = None) -> Diagnostic:
    span = node.span if node is not None else None
    return Diagnostic(code, message, span.start if span else 0, span.end if span else 0, "error", hint,
                      "employees")


def _server_filter(node: Comparison, problems: list[Diagnostic]) -> dict[str, Any]:
    assert isinstance(node.target, FieldRef)
    name = node.target.path[0]
    if name == "active":
        if node.op != "exact" or not isinstance(node.value, bool):
            problems.append(_diag(BAD_SERVER_FILTER, node, "the `is_active` filter takes `active=true` or "
                                  "`active=false`"))
            return {}
        return {"filter": "is_active", "is_active": node.value}
    if node.op not in TIME_OPERATORS or not isinstance(node.value, str):
        problems.append(_diag(
            BAD_SERVER_FILTER, node,
            "the `last_updated` filter takes `gt`, `gte`, `lt` or `lte` with a date or datetime",
            "write last_updated__gt='2022-03-25'",
        ))
        return {}
    from ..semantics.schema import ConversionError, convert_literal

    try:
        convert_literal(node.value, "datetime")
    except ConversionError as exc:
        problems.append(_diag(BAD_SERVER_FILTER, node, str(exc), exc.hint))
        return {}
    return {"filter": "last_updated", "value": node.value, "operator": node.op}


def _reads(node: Comparison) -> list[str]:
    """What of ``include`` a comparison (on the export schema) needs."""
    path = node.target.path
    if len(path) >= 2 and path[0] == "skill_clusters" and path[1] in INCLUDE:
        return [path[1]]
    return []


def _needed(expr: Expr) -> list[str]:
    seen = {name for node in expr.comparisons() for name in _reads(node)}
    return [name for name in INCLUDE if name in seen]


def _include(include: Sequence[str]) -> list[str]:
    if isinstance(include, str) or not all(isinstance(x, str) for x in include):
        raise FilterTypeError("include is a list of names")
    bad = [x for x in include if x not in INCLUDE]
    if bad:
        raise FilterError(f"`include` takes {', '.join(INCLUDE)}, not {bad[0]!r}")
    return [x for x in INCLUDE if x in include]


def check_body(body: Any) -> None:
    """Raise :class:`~skillfilter.errors.FilterError` listing what in ``body`` the endpoint's documentation
    does not allow (an unknown member, ``limit`` outside 1..100, a malformed filter or ``include``)."""
    problems: list[str] = []
    if not isinstance(body, Mapping):
        raise FilterError("an export request body is a JSON object")
    for key in body:
        if key not in ("limit", "starting_after", "filters", "include"):
            problems.append(f"unknown member `{key}`")
    limit = body.get("limit")
    if type(limit) is not int or not 1 <= limit <= MAX_LIMIT:
        problems.append(f"`limit` is required, an integer from 1 to {MAX_LIMIT}, not {limit!r}")
    after = body.get("starting_after")
    if after is not None and (not isinstance(after, str) or len(after) > MAX_STARTING_AFTER):
        problems.append(f"`starting_after` is an external_id of at most {MAX_STARTING_AFTER} characters")
    filters = body.get("filters", [])
    if not isinstance(filters, list):
        problems.append("`filters` is a list")
        filters = []
    for i, item in enumerate(filters):
        where = f"`filters[{i}]`"
        if not isinstance(item, Mapping):
            problems.append(f"{where} is an object")
        elif item.get("filter") == "is_active":
            if set(item) != {"filter", "is_active"} or not isinstance(item.get("is_active"), bool):
                problems.append(f'{where}: {{"filter": "is_active", "is_active": true|false}}')
        elif item.get("filter") == "last_updated":
            if set(item) != {"filter", "value", "operator"} or item.get("operator") not in TIME_OPERATORS \
                    or not isinstance(item.get("value"), str):
                problems.append(
                    f'{where}: {{"filter": "last_updated", "value": "2022-03-25", "operator": "gt"}}'
                )
        else:
            problems.append(f"{where}: `filter` is `is_active` or `last_updated`")
    include = body.get("include", [])
    if not isinstance(include, list) or not all(x in INCLUDE for x in include):
        problems.append(f"`include` is a list of: {', '.join(INCLUDE)}")
    if problems:
        raise FilterError("not a valid export request body: " + "; ".join(problems))
