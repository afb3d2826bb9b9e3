"""``skillfilter lint``: check filters against a schema and show every problem with its position.

Usage::

    skillfilter lint [--entity E] [--schema FILE|skillengine|export] [--max-logical-operators N|none]
                     [--format text|json] [--color auto|always|never] [FILTER ...]

Filters come from the arguments, or else one per non-blank line of standard input.  An input that starts
with ``$`` or ``?`` is a query string (``$employees=...&$jobs=...``): it names the entity of each of its
filters itself, and positions are reported relative to each decoded filter.  A plain filter is checked
against ``--entity``; without it, against the schema's ``default_entity`` (``employees`` in the built-in
``export`` schema) or its only entity; if there is neither (the built-in ``skillengine`` schema has five
entities), the command stops with a usage error.

Exit status: 0 every filter is valid, 1 some filter has a problem, 2 usage error (bad option, unknown
``--entity``, unreadable or invalid schema file, a plain filter without an entity) or input or output
that fails (see :mod:`skillfilter.cli`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

from ...errors import Diagnostic, QueryStringError, line_column, render_caret, visible
from ._common import UsageError, filters_from, load_schema

if TYPE_CHECKING:
    import argparse

    from ...semantics.model import Schema


def _cap(text: str) -> int | None:
    """``--max-logical-operators``: a number; a negative one, ``none`` or ``off`` switch the cap off."""
    if text.strip().lower() in ("none", "off", "unlimited"):
        return None
    try:
        value = int(text)
    except ValueError:
        import argparse

        raise argparse.ArgumentTypeError(
            f"expected a whole number, or `none` to switch the cap off, not {text!r}"
        ) from None
    return None if value < 0 else value


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "filters",
        nargs="*",
        metavar="FILTER",
        help="filters or query strings ($employees=...); without any, one per line on standard input",
    )
    p.add_argument(
        "--entity",
        "-e",
        help="entity of the plain filters (default: the schema's `default_entity`, or its only entity)",
    )
    p.add_argument(
        "--schema",
        "-s",
        default="skillengine",
        metavar="FILE",
        help="schema file (JSON, see docs/schema.md), or a built-in schema: skillengine (default), export",
    )
    p.add_argument(
        "--max-logical-operators",
        type=_cap,
        default=5,
        metavar="N",
        help="most and/or/not keywords allowed (default 5, as the API); a negative number or `none` "
        "switches the cap off",
    )
    p.add_argument("--format", "-f", choices=("text", "json"), default="text", help="output format")
    p.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour in text output (auto: only on a terminal, and not when NO_COLOR is set)",
    )


class LintResult:
    """One linted filter (a query string gives one per entity); ``label`` is ``$<entity>`` for a filter
    from a query string.  (A plain class: a dataclass costs about a millisecond at every start.)"""

    __slots__ = ("diagnostics", "entity", "filter", "label")

    def __init__(self, filter: str, entity: str | None, diagnostics: list[Diagnostic], label: str) -> None:
        self.filter = filter
        self.entity = entity
        self.diagnostics = diagnostics
        self.label = label

    @property
    def valid(self) -> bool:
        return not self.diagnostics

    def to_dict(self) -> dict[str, object]:
        return {
            "filter": self.filter,
            "entity": self.entity,
            "valid": self.valid,
            "diagnostics": [d.to_dict(self.filter) for d in self.diagnostics],
        }


def lint_inputs(
    inputs: Iterator[str] | list[str],
    *,
    schema: Schema,
    entity: str | None,
    max_logical_operators: int | None,
) -> Iterator[LintResult]:
    """Lint each input (a filter or a query string); :class:`UsageError` for a filter without an entity."""
    from ...semantics.validate import validate

    for text in inputs:
        if text.lstrip(" \t").startswith(("$", "?")):
            from ...language.querystring import query_string_filters

            qs = text.strip(" \t")
            try:
                filters = query_string_filters(qs)
            except QueryStringError as exc:
                d = Diagnostic(exc.code, exc.reason, exc.position, max(exc.end, exc.position), hint=exc.hint)
                yield LintResult(qs, None, [d], "query string")
                continue
            if not filters:
                d = Diagnostic(
                    "SF100",
                    "the query string has no filter parameter",
                    0,
                    len(qs),
                    hint="filters are given as `$<entity>=<filter>`, as in `$employees=external_id='1'`",
                )
                yield LintResult(qs, None, [d], "query string")
                continue
            for name, (filter_text, _offset) in filters.items():
                diagnostics = validate(
                    filter_text, name, schema=schema, max_logical_operators=max_logical_operators
                )
                yield LintResult(filter_text, name, diagnostics, f"${name}")
            continue
        if entity is None:
            raise UsageError(
                f"which entity? pass --entity ({schema.entity_list()})"
                " or give a query string such as \"$employees=external_id='1'\""
            )
        diagnostics = validate(text, entity, schema=schema, max_logical_operators=max_logical_operators)
        yield LintResult(text, entity, diagnostics, "filter")


# --------------------------------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------------------------------
_RED = "\x1b[31m"
_BOLD_RED = "\x1b[1;31m"
_CYAN = "\x1b[36m"
_DIM = "\x1b[2m"
_BOLD = "\x1b[1m"
_RESET = "\x1b[0m"


def use_color(choice: str, stream: TextIO) -> bool:
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR", ""):
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):
        return False


def render_text(result: LintResult, *, color: bool) -> str:
    """The text report of one filter: nothing when valid, else for each diagnostic the filter's line
    with a caret line under the span, ``CODE message`` and ``  hint: ...``.

    A filter from a query string is preceded by a line naming its parameter (``$employees:``).
    """
    if result.valid:
        return ""

    def paint(code: str, s: str) -> str:
        return f"{code}{s}{_RESET}" if color else s

    lines = []
    if result.label.startswith("$"):
        lines.append(paint(_BOLD, result.label + ":"))
    for d in result.diagnostics:
        if d.code == "SF200":  # the entity is not in the text: show the filter without a caret
            lines.append(result.filter.split("\n", 1)[0])
        else:
            source, marks = render_caret(result.filter, d.start, d.end).split("\n")
            lines.append(source)
            lines.append(paint(_RED, marks))
        where = ""
        if "\n" in result.filter:  # the caret shows one line: say which
            line, column = line_column(result.filter, d.start)
            where = " " + paint(_DIM, f"(line {line}, column {column})")
        lines.append(f"{paint(_BOLD_RED, d.code)} {visible(d.message)}{where}")
        if d.hint:
            lines.append("  " + paint(_CYAN, "hint:") + " " + visible(d.hint))
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace, *, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    try:
        schema = load_schema(args.schema)
    except UsageError as exc:
        stderr.write(f"skillfilter lint: {exc}\n")
        return 2
    entity = args.entity
    if entity is not None and entity not in schema.entities:
        stderr.write(
            f"skillfilter lint: unknown entity `{entity}`; schema `{schema.name}` has: "
            f"{schema.entity_list()}\n"
        )
        return 2
    if entity is None:
        entity = schema.implied_entity()
    color = args.format == "text" and use_color(args.color, stdout)
    failed = 0
    try:
        for result in lint_inputs(
            filters_from(args.filters, stdin),
            schema=schema,
            entity=entity,
            max_logical_operators=args.max_logical_operators,
        ):
            failed += not result.valid
            if args.format == "json":
                import json

                stdout.write(json.dumps(result.to_dict(), ensure_ascii=False) + "\n")
            else:
                stdout.write(render_text(result, color=color))
    except UsageError as exc:
        stderr.write(f"skillfilter lint: {exc}\n")
        return 2
    except UnicodeDecodeError as exc:
        stderr.write(f"skillfilter lint: the input is not valid text: {exc}\n")
        return 2
    except UnicodeEncodeError as exc:
        stderr.write(f"skillfilter lint: cannot write the output: {exc}\n")
        return 2
    # An OSError (output to a full disk or a closed stream, a reader that went away, input that fails)
    # is reported by skillfilter.cli, the same way for every command.
    return 1 if failed else 0
