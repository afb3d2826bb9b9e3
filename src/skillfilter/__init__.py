"""skillfilter: the filter language of the TechWolf SkillEngine API.

Parse, inspect, compose and print filters; lint them against a schema; evaluate them over records in
memory; translate them into parameterised SQL.  See ``docs/`` for the language and the API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Callable

    from .authoring.complete import Completion, complete
    from .authoring.jsonform import from_json, to_json
    from .authoring.simplify import simplify
    from .authoring.split import split
    from .backends.polars import polars_schema, to_polars
    from .backends.python import predicate
    from .backends.spark import spark_schema, to_spark, to_spark_sql
    from .backends.sql import to_sql
    from .errors import Diagnostic, FilterError, FilterSyntaxError, FilterValidationError, QueryStringError
    from .language.ast import (
        And,
        Comparison,
        CustomProperty,
        Expr,
        FieldRef,
        Not,
        Or,
        Span,
        Transformer,
        Visitor,
    )
    from .language.builder import Q
    from .language.parser import parse
    from .language.printer import to_text
    from .language.querystring import parse_query_string, to_query_string
    from .semantics.schema import Schema
    from .semantics.validate import check, validate

__version__ = "0.1.0"

__all__ = [
    "And",
    "Comparison",
    "Completion",
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
    "complete",
    "from_json",
    "parse",
    "parse_query_string",
    "polars_schema",
    "predicate",
    "simplify",
    "spark_schema",
    "split",
    "to_json",
    "to_polars",
    "to_query_string",
    "to_spark",
    "to_spark_sql",
    "to_sql",
    "to_text",
    "validate",
]

# Every name loads its module on first use (`skillfilter.parse`, `from skillfilter import parse`), so that
# `import skillfilter` and the command line import only what they run.
_LAZY = {
    "And": "language.ast",
    "Comparison": "language.ast",
    "CustomProperty": "language.ast",
    "Expr": "language.ast",
    "FieldRef": "language.ast",
    "Not": "language.ast",
    "Or": "language.ast",
    "Span": "language.ast",
    "Transformer": "language.ast",
    "Visitor": "language.ast",
    "Q": "language.builder",
    "Diagnostic": "errors",
    "FilterError": "errors",
    "FilterSyntaxError": "errors",
    "FilterValidationError": "errors",
    "QueryStringError": "errors",
    "parse": "language.parser",
    "to_text": "language.printer",
    "parse_query_string": "language.querystring",
    "to_query_string": "language.querystring",
    "Schema": "semantics.schema",
    "check": "semantics.validate",
    "validate": "semantics.validate",
    "predicate": "backends.python",
    "to_sql": "backends.sql",
    "to_spark": "backends.spark",
    "to_spark_sql": "backends.spark",
    "spark_schema": "backends.spark",
    "to_polars": "backends.polars",
    "polars_schema": "backends.polars",
    "Completion": "authoring.complete",
    "complete": "authoring.complete",
    "from_json": "authoring.jsonform",
    "to_json": "authoring.jsonform",
    "simplify": "authoring.simplify",
    "split": "authoring.split",
}


def _lazy_getattr(table: dict[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """The module ``__getattr__`` (PEP 562) of the module whose globals are `namespace`: `table` maps a
    name to the module, relative to that module's package, that defines it; the value is kept in
    `namespace`, so it is looked up once.  It lives here because ``import skillfilter`` loads no submodule."""
    module_name, package = namespace["__name__"], namespace["__package__"]

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        import importlib

        value = getattr(importlib.import_module(f".{module}", package), name)
        namespace[name] = value
        return value

    return __getattr__


__getattr__ = _lazy_getattr(_LAZY, globals())


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
