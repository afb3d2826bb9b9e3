"""The in-memory backend: ``predicate(expr)`` compiles a filter once into a fast test on records.

Records are mappings as decoded from JSON.  The meaning (LANGUAGE.md section 3, ``docs/semantics.md``) is
decided by the planner (:mod:`skillfilter.plan.planner`); this backend only runs the plan.  The plan is
written as Python source (:func:`~.codegen.generate`) that reads like a hand-written function, compiled once;
plans whose loops would multiply independent lists are evaluated jointly (:mod:`.joint`).

Plan-level entry points (for tests, and for comparing another backend with this one on the same plan):
:func:`~skillfilter.plan.planner.compile_plan` makes the plan, :func:`plan_predicate` turns a plan into the
test :func:`predicate` returns (for a caller that needs the plan too), :func:`~.codegen.generate` compiles it,
:func:`~.interpret.interpret` evaluates it by closures (the slow twin).  Modules: :mod:`.runtime` (the
helpers generated code calls), :mod:`.codegen`, :mod:`.interpret`, :mod:`.joint`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from ...language.ast import Expr
from ...language.printer import to_text
from ...plan.nodes import PNode
from ...plan.planner import compile_plan
from ...semantics.schema import Schema
from .codegen import generate
from .interpret import interpret
from .joint import entangled, joint_predicate

__all__ = ["compile_plan", "generate", "interpret", "plan_predicate", "predicate", "predicate_source"]

Record = Mapping[str, Any]


def predicate(
    expr: Expr | str,
    *,
    schema: Schema | str | None = None,
    entity: str | None = None,
) -> Callable[[Record], bool]:
    """Compile ``expr`` (an expression or filter text) once into a test on records.

    Without ``schema`` and ``entity`` the filter is schemaless: a comparison holds only between values of
    the same kind, and any value on a path may turn out to be a list.  With an ``entity`` (of ``schema``: a
    :class:`~skillfilter.semantics.schema.Schema`, the name of a built-in one, or ``None`` for the built-in
    SkillEngine schema) the filter is validated first (raising
    :class:`~skillfilter.errors.FilterValidationError`), its literals are converted to the field types once,
    dates and datetimes compare as times, and only to-many relations and ``list[text]`` fields are lists.

    The test takes a mapping and returns ``True`` or ``False``; it never raises on data: a record that is
    not a mapping, or a value of the wrong type anywhere, just does not match.

    >>> test = predicate("external_id__startswith='1' or not cp_language='de'")
    >>> test({"external_id": "2", "custom_properties": {"language": "de"}})
    False
    >>> test({"external_id": "2"})
    True
    """
    return _compile(expr, schema, entity)[0]


def predicate_source(
    expr: Expr | str,
    *,
    schema: Schema | str | None = None,
    entity: str | None = None,
) -> str:
    """The Python source :func:`predicate` generates for ``expr`` (for the curious and for debugging)."""
    return _compile(expr, schema, entity)[1]


def _compile(
    expr: Expr | str, schema: Schema | str | None, entity: str | None
) -> tuple[Callable[[Record], bool], str]:
    plan, tree = compile_plan(expr, schema=schema, entity=entity)
    return _from_plan(plan, tree)


def plan_predicate(plan: PNode, tree: Expr) -> Callable[[Record], bool]:
    """The test :func:`predicate` makes, from the ``(plan, tree)`` that
    :func:`~skillfilter.plan.planner.compile_plan` returned: for a caller that needs the plan too, so that
    the filter is checked and planned once."""
    return _from_plan(plan, tree)[0]


def _from_plan(plan: PNode, tree: Expr) -> tuple[Callable[[Record], bool], str]:
    description = "skillfilter predicate: " + _describe(tree)
    if entangled(plan):
        # Nested loops would cost the product of the sizes of independent lists: evaluate by vectors.
        fn = joint_predicate(plan)
        fn.__doc__ = description
        return fn, "# evaluated jointly (skillfilter.backends.python.joint): entangled independent lists\n"
    try:
        return generate(plan, description=description)
    except (SyntaxError, RecursionError, MemoryError, ValueError, OverflowError):  # pragma: no cover
        # Python refused the generated source (limits of its parser): interpret the same plan.
        fn = interpret(plan)
        return fn, "# interpreted\n"


def _describe(tree: Expr) -> str:
    try:
        text = to_text(tree)
    except (TypeError, ValueError):  # pragma: no cover - a literal the printer cannot write
        text = repr(tree)
    return text if len(text) <= 200 else text[:199] + "…"


