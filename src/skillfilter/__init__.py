"""skillfilter: the filter language of the TechWolf SkillEngine API.

Parse, inspect, compose and print filters; lint them against a schema; evaluate them over records in
memory; translate them into parameterised SQL.  See ``docs/`` for the language and the API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .ast import And, Comparison, CustomProperty, Expr, FieldRef, Not, Or, Span, Transformer, Visitor
from .builder import Q
from .errors import (
    Diagnostic,
    FilterError,
    FilterSyntaxError,
    FilterValidationError,
    QueryStringError,
)
from .parser import parse
from .printer import to_text
from .querystring import parse_query_string, to_query_string
from .validate import check, validate

if TYPE_CHECKING:  # pragma: no cover
    from .backends.python import predicate
    from .backends.sql import to_sql
    from .schema import Schema

__version__ = "0.1.0"

__all__ = [
    "And",
    "Comparison",
    "CustomProperty",
    "Diagnostic",
    "Expr",
    "FieldRef",
    "FilterError",
    "FilterSyntaxError",
    "FilterValidationError",
    "Not",
    "Or",
    "Q",
    "QueryStringError",
    "Schema",
    "Span",
    "Transformer",
    "Visitor",
    "check",
    "parse",
    "parse_query_string",
    "predicate",
    "to_query_string",
    "to_sql",
    "to_text",
    "validate",
]

# The heavier stages load on first use, so that `import skillfilter` and the CLI start fast.
_LAZY = {
    "Schema": ("schema", "Schema"),
    "predicate": ("backends.python", "predicate"),
    "to_sql": ("backends.sql", "to_sql"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'skillfilter' has no attribute {name!r}")
