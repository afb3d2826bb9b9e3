"""The JSON form of a filter (version 1): for query builders and other tools that hold filters as data.

A document is ``{"version": 1, "filter": NODE}``; a NODE is one of::

    {"and": [NODE, NODE, ...]}            two or more operands
    {"or":  [NODE, NODE, ...]}            two or more operands
    {"not": NODE}
    {"field": ["job", "external_id"], "op": "startswith", "value": VALUE}
    {"custom_property": "language", "op": "exact", "value": VALUE}

and a VALUE carries its type, so that values JSON cannot tell apart (``1`` and ``1.0``; integers beyond
2^53, which JavaScript rounds) stay apart::

    {"type": "text", "value": "..."}
    {"type": "integer", "value": 42}          a JSON integer, or a decimal string (any size)
    {"type": "float", "value": 1.5}           a JSON number, or its decimal string
    {"type": "boolean", "value": true}
    {"type": "null"}

Every node may carry ``"span": [start, end]`` (offsets into the filter text; ``to_json(..., spans=True)``
writes them).  The JSON Schema of the form ships as ``skillfilter/data/filter-json.schema.json``.
:func:`from_json` refuses what the parser would refuse (a bad name, ``is_null`` without a boolean, a keyword
as a field, a float that is not exactly a double ...) with a :class:`FilterJSONError`, a
:class:`~skillfilter.errors.FilterSyntaxError` whose ``pointer`` is the JSON Pointer of the bad part.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ..errors import FilterArgumentError, FilterSyntaxError, FilterTypeError
from ..language.ast import MAX_DEPTH, And, Comparison, CustomProperty, Expr, FieldRef, Not, Or, Span
from ..language.parser import float_value, parse_lookup
from ..language.printer import format_literal, format_lookup

__all__ = ["SCHEMA_RESOURCE", "VERSION", "FilterJSONError", "from_json", "json_schema", "to_json"]

#: The version this module writes and reads.
VERSION = 1
#: The JSON Schema, a data file of the package.
SCHEMA_RESOURCE = "filter-json.schema.json"
#: Integers JavaScript holds exactly; larger ones are written as decimal strings.
_SAFE_INT = 2**53 - 1


class FilterJSONError(FilterSyntaxError):
    """A JSON document that is not a filter in the JSON form; ``pointer`` locates the bad part (RFC 6901)."""

    def __init__(self, message: str, pointer: str, *, hint: str | None = None) -> None:
        self.pointer = pointer
        where = pointer or "/"
        super().__init__(f"{message} (at {where})", "", 0, hint=hint)

    def _render(self) -> str:
        parts = [self.reason]
        if self.hint:
            parts.append("hint: " + self.hint)
        return "\n".join(parts)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (self.reason, self.pointer, self.hint))


def _rebuild(reason: str, pointer: str, hint: str | None) -> FilterJSONError:
    err = FilterJSONError.__new__(FilterJSONError)
    FilterSyntaxError.__init__(err, reason, "", 0, hint=hint)
    err.pointer = pointer
    return err


# --------------------------------------------------------------------------------------------------
# to JSON
# --------------------------------------------------------------------------------------------------
def to_json(expr: Expr, *, spans: bool = False) -> dict[str, Any]:
    """``expr`` as a JSON-ready dictionary ``{"version": 1, "filter": ...}`` (see the module docstring).

    ``spans=True`` adds each node's source span where the tree has one (trees from :func:`parse`).
    """
    if not isinstance(expr, Expr):
        raise FilterTypeError(f"to_json() takes an expression, not {type(expr).__name__}")
    return {"version": VERSION, "filter": _node(expr, spans)}


def _node(expr: Expr, spans: bool) -> dict[str, Any]:
    out: dict[str, Any]
    if isinstance(expr, Comparison):
        target = expr.target
        if isinstance(target, CustomProperty):
            out = {"custom_property": target.name}
        else:
            out = {"field": list(target.path)}
        out["op"] = expr.op
        out["value"] = _value(expr.value)
    elif isinstance(expr, (And, Or)):
        out = {expr.keyword: [_node(op, spans) for op in expr.operands]}
    elif isinstance(expr, Not):
        out = {"not": _node(expr.operand, spans)}
    else:  # pragma: no cover - no other node kinds
        raise FilterTypeError(f"not an expression node: {type(expr).__name__}")
    span = getattr(expr, "span", None)
    if spans and span is not None:
        out["span"] = [span.start, span.end]
    return out


def _value(value: Any) -> dict[str, Any]:
    if value is None:
        return {"type": "null"}
    if isinstance(value, bool):
        return {"type": "boolean", "value": value}
    if isinstance(value, str):
        return {"type": "text", "value": str(value)}
    if isinstance(value, int):
        n = int(value)
        try:
            format_literal(n)  # the parser's limit on digits
        except ValueError as exc:
            raise FilterArgumentError(str(exc)) from None
        return {"type": "integer", "value": n if -_SAFE_INT <= n <= _SAFE_INT else str(n)}
    if isinstance(value, float):
        if not math.isfinite(value):
            raise FilterTypeError(f"{value!r} has no JSON form (a filter cannot hold it)")
        return {"type": "float", "value": float(value)}
    raise FilterTypeError(f"a {type(value).__name__} literal has no JSON form; convert it to text first")


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the JSON form."""
    import json
    from importlib.resources import files

    data: dict[str, Any] = json.loads(
        files("skillfilter").joinpath("data").joinpath(SCHEMA_RESOURCE).read_text(encoding="utf-8")
    )
    return data


# --------------------------------------------------------------------------------------------------
# from JSON
# --------------------------------------------------------------------------------------------------
def from_json(data: Any) -> Expr:
    """The expression a JSON form document (a decoded ``dict``, or its text) describes.

    Raises :class:`FilterJSONError` (a :class:`~skillfilter.errors.FilterSyntaxError`) on anything the JSON
    Schema or the parser would refuse.
    """
    if isinstance(data, (str, bytes, bytearray)):
        import json

        try:
            data = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise FilterJSONError(f"not JSON: {exc}", "") from None
    if not isinstance(data, Mapping):
        raise FilterJSONError(f"a JSON form document is an object, not {_kind(data)}", "")
    _keys(data, "", required={"version", "filter"}, optional=set())
    version = data["version"]
    if type(version) is not int or version != VERSION:
        raise FilterJSONError(
            f"unsupported version {version!r}", "/version", hint=f"this library reads version {VERSION}"
        )
    return _expr(data["filter"], "/filter", 1)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


def _esc(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _keys(node: Mapping[str, Any], at: str, *, required: set[str], optional: set[str]) -> None:
    for key in node:
        if key not in required and key not in optional:
            allowed = ", ".join(f"`{k}`" for k in sorted(required | optional))
            raise FilterJSONError(f"unknown member `{key}`", f"{at}/{_esc(str(key))}",
                                  hint=f"this object takes {allowed}")
    for key in sorted(required):
        if key not in node:
            raise FilterJSONError(f"missing member `{key}`", at)


def _span(node: Mapping[str, Any], at: str) -> Span | None:
    raw = node.get("span")
    if raw is None:
        return None
    if (
        not isinstance(raw, list)
        or len(raw) != 2
        or not all(type(x) is int and x >= 0 for x in raw)
        or raw[0] > raw[1]
    ):
        raise FilterJSONError("`span` is [start, end]: two offsets, 0 <= start <= end", at + "/span")
    return Span(raw[0], raw[1])


_LOGICAL = ("and", "or", "not")


def _expr(node: Any, at: str, depth: int) -> Expr:
    if depth > MAX_DEPTH:
        raise FilterJSONError(f"filter nested deeper than {MAX_DEPTH} levels", at)
    if not isinstance(node, Mapping):
        raise FilterJSONError(f"a filter node is an object, not {_kind(node)}", at)
    kinds = [k for k in (*_LOGICAL, "field", "custom_property") if k in node]
    if len(kinds) != 1:
        what = "none" if not kinds else " and ".join(f"`{k}`" for k in kinds)
        raise FilterJSONError(
            "a filter node has exactly one of `and`, `or`, `not`, `field`, `custom_property`; "
            f"this has {what}",
            at,
        )
    kind = kinds[0]
    span = _span(node, at)
    if kind == "not":
        _keys(node, at, required={"not"}, optional={"span"})
        return Not(_expr(node["not"], at + "/not", depth + 1), span)
    if kind in ("and", "or"):
        _keys(node, at, required={kind}, optional={"span"})
        items = node[kind]
        if not isinstance(items, list) or len(items) < 2:
            raise FilterJSONError(f"`{kind}` takes an array of two or more filter nodes", f"{at}/{kind}")
        cls = And if kind == "and" else Or
        operands: list[Expr] = []
        for i, item in enumerate(items):
            operand = _expr(item, f"{at}/{kind}/{i}", depth + 1)
            if isinstance(operand, cls):  # nested `and` in `and`: flatten, as the parser does
                operands.extend(operand.operands)
            else:
                operands.append(operand)
        return cls(tuple(operands), None, span)
    return _comparison(node, at, kind, span)


def _comparison(node: Mapping[str, Any], at: str, kind: str, span: Span | None) -> Comparison:
    _keys(node, at, required={kind, "op", "value"}, optional={"span"})
    op = node["op"]
    if not isinstance(op, str):
        raise FilterJSONError(f"`op` is an operator name, not {_kind(op)}", at + "/op")
    target: FieldRef | CustomProperty
    if kind == "field":
        path = node["field"]
        if not isinstance(path, list) or not path or not all(isinstance(s, str) for s in path):
            raise FilterJSONError("`field` is a non-empty array of names", at + "/field")
        lookup = "__".join(path)
        target = FieldRef(tuple(path))
    else:
        name = node["custom_property"]
        if not isinstance(name, str) or not name:
            raise FilterJSONError("`custom_property` is a non-empty name", at + "/custom_property")
        lookup = "cp_" + name
        target = CustomProperty(name)
    value = _literal(node["value"], at + "/value")
    try:
        found_target, found_op = parse_lookup(lookup + ("" if op == "exact" else "__" + op))
    except FilterSyntaxError as exc:
        raise FilterJSONError(exc.reason, at + "/" + kind, hint=exc.hint) from None
    if found_op != op and op == "exact":
        raise FilterJSONError(
            f"the last name `{found_op}` of `field` is an operator", at + "/" + kind,
            hint=f'write it as "op": "{found_op}"',
        )
    if found_op != op:
        raise FilterJSONError(
            f"unknown operator `{op}`", at + "/op",
            hint="a schema's own operators are written as the last name of `field` with `op` `exact`",
        )
    if found_target != target:
        raise FilterJSONError(
            f"a field named `{lookup}` reads as the custom property `{found_target.text()[3:]}`",
            at + "/" + kind,
            hint=f'write {{"custom_property": "{found_target.text()[3:]}", ...}}',
        )
    result = Comparison(target, op, value, span)
    try:
        format_lookup(result)
    except ValueError as exc:
        raise FilterJSONError(str(exc), at, hint=None) from None
    return result


def _literal(raw: Any, at: str) -> Any:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("type"), str):
        raise FilterJSONError('a value is an object with a `type`, as {"type": "text", "value": "x"}', at)
    kind = raw["type"]
    if kind == "null":
        _keys(raw, at, required={"type"}, optional=set())
        return None
    _keys(raw, at, required={"type", "value"}, optional=set())
    value = raw["value"]
    vat = at + "/value"
    if kind == "text":
        if not isinstance(value, str):
            raise FilterJSONError(f"a text value is a string, not {_kind(value)}", vat)
        return value
    if kind == "boolean":
        if not isinstance(value, bool):
            raise FilterJSONError(f"a boolean value is true or false, not {_kind(value)}", vat)
        return value
    if kind == "integer":
        return _integer(value, vat)
    if kind == "float":
        return _float(value, vat)
    raise FilterJSONError(
        f"unknown value type `{kind}`", at + "/type", hint="types: text, integer, float, boolean, null"
    )


def _integer(value: Any, at: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str, float)):
        raise FilterJSONError(
            f"an integer value is a JSON integer or a decimal string, not {_kind(value)}", at
        )
    if isinstance(value, float):
        if not value.is_integer():
            raise FilterJSONError(f"{value!r} is not an integer", at, hint='use {"type": "float", ...}')
        value = int(value)
    elif isinstance(value, str):
        text = value
        body = text[1:] if text.startswith("-") else text
        if not body or not body.isascii() or not body.isdigit():
            raise FilterJSONError(f"{_short(text)!r} is not a decimal integer", at)
        try:
            value = int(text)
        except ValueError:  # more digits than Python converts
            raise FilterJSONError("integer has too many digits", at) from None
    try:
        format_literal(value)
    except ValueError as exc:
        raise FilterJSONError(str(exc), at) from None
    return int(value)


def _float(value: Any, at: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise FilterJSONError(f"a float value is a JSON number or its decimal string, not {_kind(value)}", at)
    if isinstance(value, str):
        import re

        if not re.fullmatch(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?", value):
            raise FilterJSONError(f"{_short(value)!r} is not a decimal number", at)
        number, exact = float_value(value)
        if not exact:
            raise FilterJSONError(f"{_short(value)} is not exactly a 64-bit floating point value", at)
        return number
    if isinstance(value, int):
        number = float(value)
        if number != value:
            raise FilterJSONError(f"{value} is not exactly a 64-bit floating point value", at)
        return number
    if not math.isfinite(value):
        raise FilterJSONError(f"{value!r} cannot be written in a filter", at)
    return float(value)


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "…"
