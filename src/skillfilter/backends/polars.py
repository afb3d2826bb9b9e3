"""Polars: a filter as a ``polars.Expr`` over nested records, exactly as ``predicate()``.

>>> import polars as pl
>>> from skillfilter.backends.polars import polars_schema, to_polars
>>> java = [{"proficiency_level": 4, "current_skills": [{"name": "Java"}]}]
>>> df = pl.DataFrame(
...     [{"external_id": "1", "skill_clusters": java}, {"external_id": "2", "skill_clusters": []}],
...     schema=polars_schema("export", "employees"),
... )
>>> df.filter(to_polars("not skill_clusters__current_skills__name='Java'"))["external_id"].to_list()
['2']

One row per record, as ``pl.read_ndjson(path, schema=polars_schema(schema, entity))`` gives it: an entity
is a struct, a to-many relation a list of structs, a ``list[text]`` a list of strings, and
``custom_properties`` a struct of the declared custom properties.  ``list.eval`` sees only the current
element, so the plan first goes through :func:`~skillfilter.plan.inward.push_inward` (which takes every
comparison on an outer element out of the inner existential; bounded by
:data:`~skillfilter.plan.inward.MAX_NODES`).  Then each ``PExists`` is
``list.eval(body).list.any()`` (an empty or null list: the body's value for one null element, rule 3);
every comparison is two-valued (``fill_null(False)``); ``str.contains`` is literal; rule 5 is
``str.replace_many`` with the table computed from
:func:`~skillfilter.semantics.operators.simple_fold` on non-ASCII strings (``to_uppercase`` on ASCII ones,
where the two agree); an integer literal against a float column compares as doubles unless equal, then
exactly; NaN matches nothing.  A ``date`` field is text: ISO date text (a real day) compares as the date,
other text with no date.  A ``datetime`` field is text too: text that
:func:`~skillfilter.semantics.values.parse_datetime` takes is read into microseconds since 1970 UTC by
integer arithmetic (:func:`~skillfilter.backends.frames.datetime_micros`) and compared with the literal's;
other text compares with nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import FilterError
from ..language.ast import Expr
from ..plan.atoms import BOOLEAN, DATE, DATETIME, NUMBER, TEXT, Test
from ..plan.inward import push_inward
from ..plan.nodes import ROOT, CPKey, Key, PAnd, PAtom, PConst, PExists, PNode, PNot, POr, null_truth
from ..plan.planner import compile_plan
from ..semantics.schema import Schema
from . import frames as fr

if TYPE_CHECKING:  # pragma: no cover
    import polars as pl

__all__ = ["polars_schema", "read_export", "to_polars"]

_ENGINE = "Polars"


def _need_polars() -> None:
    try:
        import polars  # noqa: F401
    except ImportError:
        raise ImportError("the Polars backend needs polars: pip install 'skillfilter[polars]'") from None


def polars_schema(schema: Schema | str | None = None, entity: str | None = None) -> pl.Schema:
    """The Polars schema of one record of ``entity``, for ``pl.read_ndjson(path, schema=...)`` and
    ``pl.scan_ndjson``: ``integer`` is ``Int64``, ``number`` ``Float64``, ``list[text]`` ``List(String)``, a
    to-many relation a list of structs, ``date``/``datetime`` ``String``; ``custom_properties`` holds the
    declared custom properties (the mapping shape).  ``None`` is the built-in ``export`` schema."""
    _need_polars()
    import polars as pl

    sch, ent = fr.schema_and_entity(schema, entity)
    return pl.Schema(_columns(fr.frame_schema(sch, ent)))


def read_export(
    paths: str | Path | Sequence[str | Path],
    *,
    schema: Schema | str | None = None,
    entity: str | None = None,
    lazy: bool = False,
) -> pl.DataFrame | pl.LazyFrame:
    """The records of JSON Lines files as a frame typed by :func:`polars_schema`, after checking that every
    record fits the schema (:mod:`~skillfilter.backends.frames_read`): a record that does not fit raises a
    :class:`~skillfilter.errors.FilterError` naming the file, the line and the value, so that
    :func:`to_polars` on the frame answers as ``predicate()`` on the records.  ``lazy=True`` gives
    ``pl.scan_ndjson``'s lazy frame (the check still reads the files once, now)."""
    _need_polars()
    import polars as pl

    from .frames_read import check_lines, file_lines

    sch, ent = fr.schema_and_entity(schema, entity)
    sources = [str(paths)] if isinstance(paths, (str, Path)) else [str(p) for p in paths]
    check_lines(file_lines(sources), fr.frame_schema(sch, ent))
    frame = pl.scan_ndjson(sources, schema=polars_schema(sch, ent))
    return frame if lazy else frame.collect()


def _columns(columns: list[tuple[str, object]]) -> dict[str, pl.DataType]:
    return {n: _dtype(t) for n, t in columns}


def _dtype(t: object) -> pl.DataType:
    import polars as pl

    if isinstance(t, tuple):
        return pl.List(_dtype(t[1]))
    if isinstance(t, list):
        return pl.Struct(_columns(t))
    return {
        "text": pl.String(), "integer": pl.Int64(), "number": pl.Float64(), "boolean": pl.Boolean(),
        "date": pl.String(), "datetime": pl.String(), "list[text]": pl.List(pl.String()),
    }[str(t)]


def to_polars(expr: Expr | str, *, schema: Schema | str | None = None, entity: str | None = None) -> pl.Expr:
    """``expr`` as a ``polars.Expr`` for ``df.filter(...)``/``lf.filter(...)``: true exactly for the records
    ``predicate(expr, schema=schema, entity=entity)`` accepts, on a frame typed by :func:`polars_schema`.
    Raises :class:`~skillfilter.errors.FilterError` for a filter the schema rejects or the backend cannot
    run exactly (an untyped custom property, a scope too entangled to push inward)."""
    _need_polars()
    sch, ent = fr.schema_and_entity(schema, entity)
    plan, _ = compile_plan(expr, schema=sch, entity=ent)
    plan = push_inward(plan)
    return _Compiler(sch).node(plan, None, {ROOT: fr.entity_type(ent)})


class _Compiler:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    def node(self, node: PNode, cur: str | None, types: dict[str, fr.FrameType]) -> pl.Expr:
        import polars as pl

        if isinstance(node, PConst):
            return pl.lit(node.value)
        if isinstance(node, (PAnd, POr)):
            items = [self.node(i, cur, types) for i in node.items]
            out = items[0]
            for i in items[1:]:
                out = (out & i) if isinstance(node, PAnd) else (out | i)
            return out
        if isinstance(node, PNot):
            return ~self.node(node.item, cur, types)
        if isinstance(node, PAtom):
            value, t = self.value(node.var, node.keys, cur, types)
            return self.test(node.test, value, t)
        assert isinstance(node, PExists)
        arr, t = self.value(node.parent, node.keys, cur, types)
        if t.kind != "entities" and t.name != "list[text]":  # pragma: no cover - typed plans only
            raise FilterError(f"{_ENGINE}: `{t.where}` is not a list")
        body = self.node(node.body, node.var, {**types, node.var: t.element})
        found = arr.list.eval(body).list.any()
        if node.skip_null:
            return found.fill_null(False)
        empty = null_truth(node.body, {node.var})
        if empty is None:  # pragma: no cover - push_inward leaves no outer reference
            raise FilterError(f"{_ENGINE}: internal error: a list body refers to an outer element")
        return pl.when(arr.list.len() > 0).then(found.fill_null(False)).otherwise(pl.lit(empty))

    def value(
        self, var: str, keys: tuple[Key, ...], cur: str | None, types: dict[str, fr.FrameType]
    ) -> tuple[pl.Expr, fr.FrameType]:
        import polars as pl

        x: pl.Expr | None
        if var == cur:
            x = pl.element()
        elif var == ROOT and cur is None:
            x = None
        else:  # pragma: no cover - push_inward leaves no outer reference
            raise FilterError(f"{_ENGINE}: internal error: `{var}` is not visible here")
        for key in keys:
            names = ["custom_properties", key.name] if isinstance(key, CPKey) else [key]
            for name in names:
                x = pl.col(name) if x is None else x.struct.field(name)
        assert x is not None
        return x, fr.follow(self.schema, types[var], keys, _ENGINE)

    def test(self, test: Test, value: pl.Expr, t: fr.FrameType) -> pl.Expr:
        import polars as pl

        if test.kind in ("isnull", "notnull"):
            return value.is_null() if test.kind == "isnull" else value.is_not_null()
        kind = test.kind
        if test.vtype == DATETIME and t.name == "datetime":
            valid, micros = _datetime(value)
            lit = pl.lit(fr.epoch_micros(test.value), dtype=pl.Int64)
            return (valid & _cmp(kind, micros, lit)).fill_null(False)
        if test.vtype == DATE and t.name == "date":
            # ISO text of a real date compares as the date: guard, then compare the text.
            iso = pl.lit(test.value.isoformat(), dtype=pl.String)
            return _valid_date(value) & _cmp(kind, value, iso).fill_null(False)
        if test.vtype == TEXT:
            x = _fold(value) if test.ci else value
            lit = pl.lit(test.value, dtype=pl.String)
            if kind == "contains":
                out = x.str.contains(test.value, literal=True)
            elif kind == "startswith":
                out = x.str.starts_with(lit)
            elif kind == "endswith":
                out = x.str.ends_with(lit)
            else:
                out = _cmp(kind, x, lit)
            return out.fill_null(False)
        if test.vtype == BOOLEAN:
            return (value == pl.lit(test.value, dtype=pl.Boolean)).fill_null(False)
        if test.vtype == NUMBER and t.name in ("integer", "number"):
            plan = fr.number_plan(kind, t.name, test.value)
            is_double = t.name == "number"
            if plan.static is not None:
                out = value.is_not_null() if plan.static else pl.lit(False)
            else:
                lit = pl.lit(plan.literal, dtype=pl.Float64 if is_double else pl.Int64)
                out = _cmp(kind, value, lit)
                if plan.tie is not None:
                    out = pl.when(value == lit).then(pl.lit(plan.tie)).otherwise(out)
            out = out.fill_null(False)
            return (out & ~value.is_nan().fill_null(False)) if is_double else out
        raise FilterError(  # pragma: no cover - the schema converted the literal to the field's type
            f"{_ENGINE}: a {test.vtype} literal against the {t.name} field `{t.where}`"
        )


def _cmp(kind: str, a: pl.Expr, b: pl.Expr) -> pl.Expr:
    out: pl.Expr = fr.COMPARE[kind](a, b)
    return out


def _div(a: pl.Expr, n: int) -> pl.Expr:
    return a // n


def _valid_date(x: pl.Expr) -> pl.Expr:
    """Whether text ``x`` is an ISO date as predicate() reads one: the pattern, and a real day."""
    import polars as pl

    y, m, d = (x.str.slice(a, n).cast(pl.Int64, strict=False) for a, n in ((0, 4), (5, 2), (8, 2)))
    day: pl.Expr = fr.valid_day(y, m, d, _div)
    return (x.str.contains("^" + fr.DATE_PATTERN + "$") & day).fill_null(False)


def _datetime(x: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """``(valid, micros)`` for text ``x``: whether :func:`~skillfilter.semantics.values.parse_datetime`
    takes it, and its instant in microseconds since 1970 UTC."""
    import polars as pl

    pattern = "^" + fr.DATETIME_PATTERN + "$"

    def group(i: int) -> pl.Expr:
        return x.str.extract(pattern, i)

    def number(i: int) -> pl.Expr:
        return group(i).cast(pl.Int64, strict=False).fill_null(0)

    y, m, d, hh, mi, ss = (number(i) for i in range(1, 7))
    fraction = group(7).fill_null("")
    us = (fraction + "000000").str.slice(0, 6).cast(pl.Int64, strict=False)
    exact = fraction.str.slice(6).str.contains("^0*$")  # no digit finer than a microsecond is lost
    sign = pl.when(group(9) == "-").then(-1).otherwise(1)
    offset = sign * (number(10) * 60 + number(11))
    valid, micros = fr.datetime_micros((y, m, d), (hh, mi, ss, us), offset, _div)
    return (x.str.contains(pattern) & exact & valid).fill_null(False), micros


def _fold(x: pl.Expr) -> pl.Expr:
    """Rule 5: ``to_uppercase`` where the text is ASCII (there it is the simple mapping), else the table."""
    import polars as pl

    src, dst = fr.fold_table()
    return (
        pl.when(x.str.contains(r"[^\x00-\x7F]"))
        .then(x.str.replace_many(list(src), list(dst)))
        .otherwise(x.str.to_uppercase())
    )
