"""skillfilter: the filter language of the TechWolf SkillEngine API.

Parse, inspect, compose and print filters; lint them against a schema; evaluate them over records in
memory; translate them into parameterised SQL.  See ``docs/`` for the language and the API.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .ast import And, Comparison, CustomProperty, Expr, FieldRef, Not, Or, Span, Transformer, Visitor
    from .backends.python import predicate
    from .backends.sql import to_sql
    from .builder import Q
    from .errors import Diagnostic, FilterError, FilterSyntaxError, FilterValidationError, QueryStringError
    from .parser import parse
    from .printer import to_text
    from .querystring import parse_query_string, to_query_string
    from .schema import Schema
    from .validate import check, validate

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

# Every name loads its module on first use (`skillfilter.parse`, `from skillfilter import parse`), so that
# `import skillfilter` and the command line import only what they run.
_LAZY = {
    "And": "ast",
    "Comparison": "ast",
    "CustomProperty": "ast",
    "Expr": "ast",
    "FieldRef": "ast",
    "Not": "ast",
    "Or": "ast",
    "Span": "ast",
    "Transformer": "ast",
    "Visitor": "ast",
    "Q": "builder",
    "Diagnostic": "errors",
    "FilterError": "errors",
    "FilterSyntaxError": "errors",
    "FilterValidationError": "errors",
    "QueryStringError": "errors",
    "parse": "parser",
    "to_text": "printer",
    "parse_query_string": "querystring",
    "to_query_string": "querystring",
    "Schema": "schema",
    "check": "validate",
    "validate": "validate",
    "predicate": "backends.python",
    "to_sql": "backends.sql",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'skillfilter' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


class _Package(types.ModuleType):
    """The package module.  Importing the submodule ``skillfilter.validate`` sets the package's attribute
    ``validate`` to that module; the public name is the function of that name, so it stays the function."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "validate" and isinstance(value, types.ModuleType):
            value = value.validate
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
