"""Completion at a cursor position, on text being typed (incomplete or broken).

:func:`complete` reads the text with a tolerant tokenizer of its own (it never raises on bad text), works out
what may stand at the cursor (a field reference and which entity it has reached, an operator, a value, a
keyword) and returns the candidates that fit what is typed so far.  It does not parse: a filter of API
size is a few dozen tokens, and one pass over them is all a call costs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import FilterTypeError
from ..semantics.operators import BUILTIN_OPERATORS, KEYWORDS

if TYPE_CHECKING:
    from ..semantics.schema import Entity, Field, Schema

__all__ = ["Completion", "complete"]

KINDS = ("field", "relation", "custom_property", "operator", "keyword", "value")


@dataclass(frozen=True, slots=True)
class Completion:
    """One candidate: replace ``text[start:end]`` with ``insert``.

    ``kind`` is one of ``field``, ``relation``, ``custom_property``, ``operator``, ``keyword``, ``value``;
    ``detail`` is a short description (a field's type, the entity a relation leads to, what an operator does).
    """

    label: str
    kind: str
    insert: str
    start: int
    end: int
    detail: str = ""


_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      |(?P<lp>\()
      |(?P<rp>\))
      |(?P<str>'(?:[^'\\]|\\.?)*'?|"(?:[^"\\]|\\.?)*"?)
      |(?P<num>-?[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]*)?)
      |(?P<word>[A-Za-z_][A-Za-z0-9_]*)
      |(?P<eq>=)
      |(?P<other>.)""",
    re.VERBOSE | re.DOTALL,
)

# States of the scan over the tokens before the cursor.
_TERM, _FIELD, _VALUE, _AFTER = "term", "field", "value", "after"

_DATE = "'2024-01-31'"
_DATETIME = "'2024-01-31T09:00:00Z'"


class _Context:
    """The schema side: the entity a field reference starts from (``None``: schemaless)."""

    def __init__(self, schema: Schema | None, entity: Entity | None) -> None:
        self.schema = schema
        self.entity = entity

    def walk(self, segments: list[str]) -> tuple[Entity | None, Field | None, str | None, bool]:
        """Follow ``segments`` (complete names) from the root: (entity reached, field, custom property
        type, known).  ``known`` is False where a name is not in the schema (or there is none)."""
        entity = self.entity
        if entity is None or self.schema is None:
            return None, None, None, False
        for i, seg in enumerate(segments):
            if i == 0 and seg.startswith("cp_") and len(seg) > 3 and entity.custom_properties is not None:
                if len(segments) > 1:
                    return None, None, None, False
                return entity, None, entity.custom_properties.definitions.get(seg[3:], "any"), True
            rel = entity.relations.get(seg)
            if rel is not None:
                entity = self.schema.entities.get(rel.target)
                if entity is None:
                    return None, None, None, False
                continue
            fld = entity.fields.get(seg)
            if fld is not None and i == len(segments) - 1:
                return entity, fld, None, True
            return None, None, None, False
        return entity, None, None, True

    def operators(
        self, entity: Entity | None, fld: Field | None, cp_type: str | None
    ) -> list[tuple[str, str]]:
        if self.schema is None or entity is None:
            return [(name, op.description) for name, op in BUILTIN_OPERATORS.items()]
        type_name = fld.type if fld is not None else (None if cp_type in (None, "any") else cp_type)
        table = self.schema.operators_for(entity)
        names = self.schema.allowed_operators(entity, type_name, fld)
        return [(n, table[n].description if n in table else "") for n in names]


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.lastgroup or "other", m.start(), m.end()) for m in _TOKEN.finditer(text)]


def complete(
    text: str,
    cursor: int | None = None,
    *,
    schema: Schema | str | None = None,
    entity: str | None = None,
) -> list[Completion]:
    """The candidates at ``cursor`` (an offset into ``text``; ``None``: its end).

    With ``entity`` (and ``schema``, by default the built-in SkillEngine schema) fields, relations and
    custom properties of the entity reached so far are offered, and the operators and values the field's
    type takes; with neither, the completion is schemaless (keywords, operators, value forms).
    """
    if not isinstance(text, str):
        raise FilterTypeError(f"complete() takes the filter text as a str, not {type(text).__name__}")
    if cursor is None:
        cursor = len(text)
    if isinstance(cursor, bool) or not isinstance(cursor, int):
        raise FilterTypeError(f"the cursor is an int offset, not {type(cursor).__name__}")
    cursor = max(0, min(cursor, len(text)))
    ctx = _context(schema, entity)
    tokens = _tokens(text)

    # The token under the cursor (a word, number or string being typed), and those before it.
    current: tuple[str, int, int] | None = None
    before: list[tuple[str, int, int]] = []
    for tok in tokens:
        kind, start, end = tok
        if kind in ("word", "num", "str") and start <= cursor <= end and (start < cursor or kind == "word"):
            current = tok
            break
        if end > cursor:
            break
        if kind != "ws":
            before.append(tok)

    state, depth, field_text = _scan(text, before)
    if current is None:
        return _candidates(ctx, text, state, depth, field_text, prefix="", start=cursor, end=cursor,
                           token_kind=None)
    kind, start, end = current
    return _candidates(ctx, text, state, depth, field_text, prefix=text[start:cursor], start=start, end=end,
                       token_kind=kind)


def _context(schema: Schema | str | None, entity: str | None) -> _Context:
    if schema is None and entity is None:
        return _Context(None, None)
    from ..semantics.schema import Schema

    sch = Schema.coerce(schema)
    name = entity if entity is not None else sch.implied_entity()
    if name is None or name not in sch.entities:
        return _Context(sch, None)
    return _Context(sch, sch.entities[name])


def _scan(text: str, before: list[tuple[str, int, int]]) -> tuple[str, int, str]:
    """What the tokens before the cursor expect next, the open parentheses, and the last field typed."""
    state = _TERM
    depth = 0
    field_text = ""
    for kind, start, end in before:
        word = text[start:end] if kind == "word" else ""
        if state == _TERM:
            if kind == "lp":
                depth += 1
            elif kind == "word" and word == "not":
                pass
            elif kind == "word" and word not in KEYWORDS:
                state, field_text = _FIELD, word
            elif kind == "rp":
                depth, state = max(0, depth - 1), _AFTER
        elif state == _FIELD:
            if kind == "eq":
                state = _VALUE
            elif kind == "word" and word in ("and", "or"):
                state = _TERM
        elif state == _VALUE:
            state = _AFTER
        elif kind == "word" and word in ("and", "or", "not"):  # _AFTER
            state = _TERM
        elif kind == "rp":
            depth = max(0, depth - 1)
    return state, depth, field_text


def _candidates(
    ctx: _Context,
    text: str,
    state: str,
    depth: int,
    field_text: str,
    *,
    prefix: str,
    start: int,
    end: int,
    token_kind: str | None,
) -> list[Completion]:
    out: list[Completion] = []
    if state == _TERM:
        if token_kind not in (None, "word"):
            return out
        _term(ctx, out, prefix, start=start, word=text[start:end])
        if "__" not in prefix:
            for label, detail in (("not", "negate what follows"), ("(", "group")):
                if label.startswith(prefix):
                    out.append(Completion(label, "keyword", label + " " if label == "not" else label,
                                          start, end, detail))
    elif state == _FIELD:
        if token_kind is None:
            out.append(Completion("=", "operator", "=", start, end, "compare (exact)"))
    elif state == _VALUE:
        _values(ctx, out, field_text, prefix=prefix, start=start, end=end, token_kind=token_kind)
    elif token_kind in (None, "word"):
        words = [("and", "both must hold"), ("or", "either may hold")]
        if depth > 0:
            words.append((")", "close the group"))
        for label, detail in words:
            if label.startswith(prefix) and (token_kind is None or label != ")"):
                out.append(Completion(label, "keyword", label + " " if label != ")" else label,
                                      start, end, detail))
    return out


def _term(ctx: _Context, out: list[Completion], prefix: str, *, start: int, word: str) -> None:
    """A field reference being typed: ``prefix`` is the word up to the cursor."""
    segments = prefix.split("__")
    done, partial = segments[:-1], segments[-1]
    seg_start = start + len(prefix) - len(partial)
    # The replaced span: the segment under the cursor, up to the end of that segment in the word.
    rest = word[len(prefix):]
    seg_end = start + len(prefix) + (rest.find("__") if "__" in rest else len(rest))
    reached, fld, cp_type, known = ctx.walk(done)
    if fld is not None or cp_type is not None or (done and not known):
        # After a field (or an unknown name): operators.
        for name, detail in ctx.operators(reached, fld, cp_type):
            if name.startswith(partial):
                out.append(Completion(name, "operator", name + "=", seg_start, seg_end, detail))
        return
    entity = reached if known else None
    if entity is None:
        return
    assert ctx.schema is not None
    for name, f in entity.fields.items():
        if name.startswith(partial):
            out.append(Completion(name, "field", name, seg_start, seg_end, f.type))
    for name, rel in entity.relations.items():
        if name.startswith(partial):
            many = "to-many, " if rel.many else ""
            out.append(Completion(name, "relation", name + "__", seg_start, seg_end, f"{many}{rel.target}"))
    if not done and entity.custom_properties is not None:
        for name, type_name in entity.custom_properties.definitions.items():
            label = "cp_" + name
            if label.startswith(partial):
                out.append(Completion(label, "custom_property", label, seg_start, seg_end, type_name))
        if not entity.custom_properties.strict and ("cp_".startswith(partial) or partial.startswith("cp_")):
            typed = partial if len(partial) > 3 else "cp_"
            out.append(Completion(typed, "custom_property", typed, seg_start, seg_end,
                                  "a custom property: cp_ and its name"))
    # A complete field name at the cursor: its operators may follow.
    if partial in entity.fields and seg_end == start + len(prefix):
        f = entity.fields[partial]
        for name, detail in ctx.operators(entity, f, None):
            out.append(Completion("__" + name, "operator", "__" + name + "=", seg_end, seg_end, detail))


def _values(
    ctx: _Context, out: list[Completion], field_text: str, *, prefix: str, start: int, end: int,
    token_kind: str | None,
) -> None:
    segments = field_text.split("__")
    names = (ctx.schema.operator_names(ctx.entity.name) if ctx.schema is not None and ctx.entity is not None
             else BUILTIN_OPERATORS)
    op = segments.pop() if len(segments) > 1 and segments[-1] in names else "exact"
    _, fld, cp_type, _ = ctx.walk(segments)
    type_name = fld.type if fld is not None else cp_type if cp_type not in (None, "any") else None
    candidates: list[tuple[str, str]] = []
    if op == "is_null":
        candidates = [("true", "is null"), ("false", "is not null")]
    else:
        if type_name == "boolean" or type_name is None:
            candidates += [("true", "boolean"), ("false", "boolean")]
        if op == "exact" and (fld is None or fld.nullable):
            candidates.append(("null", "no value (is_null=true)"))
        if type_name == "date":
            candidates.append((_DATE, "date, ISO 8601 (YYYY-MM-DD)"))
        elif type_name == "datetime":
            candidates.append((_DATETIME, "datetime, ISO 8601 (naive means UTC)"))
            candidates.append((_DATE, "date: its midnight UTC"))
        elif type_name in ("text", "list[text]") or type_name is None:
            candidates.append(("''", "text, in quotes"))
        if type_name in ("integer", "number"):
            candidates.append(("0", type_name))
    in_string = token_kind == "str"  # noqa: S105 - a token kind, not a secret
    for label, detail in candidates:
        if in_string and not label.startswith("'"):
            continue
        if label.startswith(prefix) or (in_string and label[:1] == prefix[:1]):
            out.append(Completion(label, "value", label, start, end, detail))
