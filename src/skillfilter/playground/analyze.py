"""What the playground page shows for a filter, computed on the server from the filter text alone.

:class:`Workbench` holds the schema, the entity and the records loaded once at start;
:meth:`Workbench.analyze` answers one update of the page (a JSON-ready dict) and :meth:`Workbench.complete`
the completions at the
cursor.  Text that starts with ``$`` or ``?`` is a query string (``$employees=...&$jobs=...``): each of its
filters is analysed against its own entity, and its diagnostics are placed in the whole text.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import Diagnostic, FilterError, QueryStringError

if TYPE_CHECKING:
    from ..semantics.schema import Schema

__all__ = ["MAX_TEXT", "Workbench"]

#: Longest filter text the page may send (characters); the API's own filters are far shorter.
MAX_TEXT = 20_000
#: Matching records sent to the page (the count covers them all).
SHOWN_RECORDS = 10
#: The API's cap on logical operators.
CAP = 5
_CACHE = 256


def _diagnostic(d: Diagnostic, text: str, shift: int, entity: str | None) -> dict[str, Any]:
    """``d`` as JSON, its span moved by ``shift`` into the whole text (the page works out lines itself)."""
    data = d.to_dict()
    data.update(start=d.start + shift, end=max(d.end, d.start) + shift, entity=entity)
    return data


class Workbench:
    """The schema, the default entity and the loaded records; answers the page's requests."""

    def __init__(self, schema: Schema, entity: str, records: Sequence[Any], *, source: str = "",
                 schema_name: str = "") -> None:
        self.schema = schema
        self.entity = entity
        self.records = list(records)
        self.source = source
        self.schema_name = schema_name
        self._predicates: OrderedDict[tuple[str, str], Callable[[Any], bool]] = OrderedDict()
        self._answers: OrderedDict[tuple[str, str], dict[str, Any]] = OrderedDict()
        self._record_text: dict[int, str] = {}  # a record's JSON text, made the first time it is shown

    # ----------------------------------------------------------------------------------------------
    def info(self) -> dict[str, Any]:
        return {
            "schema": self.schema_name,
            "entity": self.entity,
            "entities": sorted(self.schema.entities),
            "records": len(self.records),
            "source": self.source,
            "cap": CAP,
            "max_text": MAX_TEXT,
        }

    def _parts(self, text: str, entity: str) -> tuple[list[tuple[str, str, int, bool]], list[dict[str, Any]]]:
        """(entity, filter text, offset in ``text``, spans exact) for each filter; problems of the query
        string itself."""
        if not text.lstrip(" \t").startswith(("$", "?")):
            return [(entity, text, 0, True)], []
        from ..language.querystring import query_string_filters

        lead = len(text) - len(text.lstrip(" \t"))
        qs = text.strip(" \t")
        try:
            filters = query_string_filters(qs)
        except QueryStringError as exc:
            d = Diagnostic("SF100", exc.reason, exc.position, max(exc.end, exc.position), hint=exc.hint)
            return [], [_diagnostic(d, qs, lead, None)]
        if not filters:
            d = Diagnostic(
                "SF100", "the query string has no filter parameter", 0, len(qs),
                hint="filters are given as `$<entity>=<filter>`, as in `$employees=external_id='1'`",
            )
            return [], [_diagnostic(d, qs, lead, None)]
        parts = [(name, ft, lead + off, qs[off: off + len(ft)] == ft) for name, (ft, off) in filters.items()]
        return parts, []

    def analyze(self, text: str, entity: str | None = None) -> dict[str, Any]:
        """Everything the page shows for ``text`` (checked against ``entity``, default the workbench's)."""
        began = time.perf_counter()
        entity = entity or self.entity
        key = (text, entity)
        answer = self._answers.get(key)
        cached = answer is not None
        if answer is None:
            answer = self._analyze(text, entity)
            self._answers[key] = answer
            if len(self._answers) > _CACHE:
                self._answers.popitem(last=False)
        else:
            self._answers.move_to_end(key)
        return {**answer, "cached": cached, "elapsed_ms": round((time.perf_counter() - began) * 1000, 3)}

    def _analyze(self, text: str, entity: str) -> dict[str, Any]:
        if entity not in self.schema.entities:
            d = Diagnostic("SF200", f"unknown entity `{entity}`", 0, 0,
                           hint="entities: " + ", ".join(sorted(self.schema.entities)))
            return {"text": text, "diagnostics": [_diagnostic(d, text, 0, entity)], "parts": []}
        parts, problems = self._parts(text, entity)
        out_parts = [self._part(name, ft, off, exact) for name, ft, off, exact in parts]
        diagnostics = problems + [d for p in out_parts for d in p.pop("_diagnostics")]
        diagnostics.sort(key=lambda d: (d["start"], d["end"]))
        return {"text": text, "diagnostics": diagnostics, "parts": out_parts}

    def _part(self, entity: str, text: str, offset: int, exact: bool) -> dict[str, Any]:
        from ..semantics.validate import validate

        diagnostics = validate(text, entity, schema=self.schema, max_logical_operators=None)
        part: dict[str, Any] = {"entity": entity, "filter": text, "offset": offset, "valid": not diagnostics}
        part["_diagnostics"] = [
            _diagnostic(d, text, offset, entity) if exact else
            {**_diagnostic(d, text, offset, entity), "start": offset, "end": offset + len(text)}
            for d in diagnostics
        ]
        if diagnostics:
            return part
        from ..authoring.jsonform import to_json
        from ..language.parser import parse
        from ..language.printer import to_text

        expr = parse(text)
        count = expr.logical_operator_count()
        part["canonical"] = to_text(expr)
        part["pretty"] = to_text(expr, pretty=True)
        part["json"] = json.dumps(to_json(expr), indent=2, ensure_ascii=False)
        part["logical_operators"] = {"count": count, "cap": CAP, "over": count > CAP}
        if count > CAP:
            part["split"] = self._split(expr, entity)
        part["sql"] = self._sql(text, entity)
        if entity == self.entity:
            part["records"] = self._records(text, entity)
        return part

    def _split(self, expr: Any, entity: str) -> dict[str, Any]:
        from ..authoring.split import split
        from ..language.querystring import to_query_string

        try:
            pieces = split(expr, max_logical_operators=CAP, schema=self.schema, entity=entity)
        except FilterError as exc:
            return {"error": str(exc)}
        return {"requests": [to_query_string({entity: p}) for p in pieces]}

    def _sql(self, text: str, entity: str) -> list[dict[str, Any]]:
        from ..backends.sql import DIALECTS, to_sql

        out: list[dict[str, Any]] = []
        for dialect in DIALECTS:
            try:
                sql, params = to_sql(text, dialect=dialect, schema=self.schema, entity=entity)
            except (FilterError, ValueError, KeyError) as exc:
                out.append({"dialect": dialect, "error": str(exc)})
                continue
            out.append({"dialect": dialect, "sql": sql,
                        "params": json.dumps(params, ensure_ascii=False, default=repr)})
        return out

    def _predicate(self, text: str, entity: str) -> Callable[[Any], bool]:
        from ..backends.python import predicate

        key = (text, entity)
        test = self._predicates.get(key)
        if test is None:
            test = predicate(text, schema=self.schema, entity=entity)
            self._predicates[key] = test
            if len(self._predicates) > _CACHE:
                self._predicates.popitem(last=False)
        return test

    def _records(self, text: str, entity: str) -> dict[str, Any]:
        test = self._predicate(text, entity)
        count = 0
        shown: list[str] = []
        for i, record in enumerate(self.records):
            if test(record):
                count += 1
                if len(shown) < SHOWN_RECORDS:
                    rendered = self._record_text.get(i)
                    if rendered is None:
                        rendered = json.dumps(record, indent=2, ensure_ascii=False, default=str)
                        self._record_text[i] = rendered
                    shown.append(rendered)
        return {"count": count, "total": len(self.records), "shown": shown}

    # ----------------------------------------------------------------------------------------------
    def complete(self, text: str, cursor: int, entity: str | None = None) -> dict[str, Any]:
        """The completions at ``cursor``; in a query string, those of the filter the cursor is in."""
        from ..authoring.complete import complete

        entity = entity or self.entity
        if entity not in self.schema.entities:
            return {"completions": []}
        cursor = max(0, min(cursor, len(text)))
        parts, _ = self._parts(text, entity)
        for name, ft, off, exact in parts:
            if exact and off <= cursor <= off + len(ft):
                found = complete(ft, cursor - off, schema=self.schema, entity=name)
                return {"completions": [
                    {"label": c.label, "kind": c.kind, "insert": c.insert, "start": c.start + off,
                     "end": c.end + off, "detail": c.detail} for c in found
                ]}
        return {"completions": []}
