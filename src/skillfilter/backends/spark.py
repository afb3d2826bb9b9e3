r"""Apache Spark: a filter as a native column expression over nested records, exactly as ``predicate()``.

>>> from skillfilter.backends.spark import to_spark_sql
>>> sql, args = to_spark_sql("skill_clusters__proficiency_level__gte=3")
>>> print(sql.replace(", x_e1", ",\n  x_e1"))
coalesce(exists(`skill_clusters`,
  x_e1 -> coalesce(x_e1.`proficiency_level` >= CAST(:p1 AS BIGINT), false)), false)
>>> args
{'p1': 3}

One row per record, as ``spark.read.schema(spark_schema(schema, entity)).json(path)`` gives it: an entity is
a struct, a to-many relation an array of structs, a ``list[text]`` an array of strings, and
``custom_properties`` a struct of the declared custom properties.  The plan
(:mod:`skillfilter.plan.planner`) is compiled node for node: ``PExists`` becomes ``exists(array, x -> ...)``
(Spark's lambdas see the outer element, so one scope over two levels stays one expression), made
two-valued with ``coalesce(..., false)``; an empty or null array offers one all-null element (rule 3) as
``CASE WHEN size(a) > 0 THEN a ELSE array(NULL) END``; rule 5 is ``translate()`` with the table computed
from :func:`~skillfilter.semantics.operators.simple_fold` (Spark's ``upper()`` is full case mapping);
an integer literal against a double column compares as doubles unless they are equal, then as the exact
values; NaN matches nothing.  No Python UDF: executors need nothing but Spark.

Spark compares strings by code point under its default (binary) collation, which this module assumes.
A ``date`` field is text in the frame; text that is an ISO date (``YYYY-MM-DD``, a real day) compares as
that date, other text with no date, as in ``predicate()``.  A ``datetime`` field is text too: text that
:func:`~skillfilter.semantics.values.parse_datetime` takes is read through the groups of the same pattern
(once per value: ``exists`` over a one-element array of a struct) into microseconds since 1970 UTC with
integer arithmetic (:func:`~skillfilter.backends.frames.datetime_micros`), and compared with the
literal's; other text compares with nothing.  :func:`read_export` reads an export so that a record that
does not fit the schema is an error (:mod:`~skillfilter.backends.frames_read`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..errors import FilterError
from ..language.ast import Expr
from ..plan.atoms import BOOLEAN, DATE, DATETIME, NUMBER, TEXT, Test
from ..plan.nodes import CPKey, Key, PAnd, PAtom, PConst, PExists, PNode, PNot, POr
from ..plan.planner import compile_plan
from ..semantics.schema import Schema
from .frames import (
    COMPARE,
    DATETIME_PATTERN,
    FrameType,
    datetime_micros,
    entity_type,
    epoch_micros,
    fold_table,
    follow,
    frame_schema,
    number_plan,
    schema_and_entity,
    valid_day,
)

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import Column, DataFrame, SparkSession
    from pyspark.sql.types import DataType, StructType

__all__ = ["read_export", "spark_schema", "to_spark", "to_spark_sql"]

E = TypeVar("E")
_ENGINE = "Spark"
_CMP = {"exact": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
_KIND = {op: kind for kind, op in _CMP.items()}


class _Ops(Generic[E]):
    """How one engine API spells the pieces (Column objects, or SQL text with parameters)."""

    def root(self, name: str) -> E: raise NotImplementedError
    def field(self, x: E, name: str) -> E: raise NotImplementedError
    def lit(self, value: Any, sql_type: str) -> E: raise NotImplementedError
    def const(self, value: bool) -> E: raise NotImplementedError
    def cmp(self, op: str, a: E, b: E) -> E: raise NotImplementedError
    def and_(self, items: list[E]) -> E: raise NotImplementedError
    def or_(self, items: list[E]) -> E: raise NotImplementedError
    def not_(self, x: E) -> E: raise NotImplementedError
    def false_if_null(self, x: E) -> E: raise NotImplementedError
    def isnull(self, x: E, null: bool) -> E: raise NotImplementedError
    def isnan(self, x: E) -> E: raise NotImplementedError
    def when(self, cond: E, then: E, other: E) -> E: raise NotImplementedError
    def fold(self, x: E) -> E: raise NotImplementedError
    def string_test(self, kind: str, x: E, lit: E) -> E: raise NotImplementedError
    def padded(self, arr: E, element: DataType) -> E: raise NotImplementedError
    def exists(self, arr: E, var: str, body: Callable[[E], E]) -> E: raise NotImplementedError
    def extract(self, x: E, pattern: str, group: int) -> E: raise NotImplementedError
    def rlike(self, x: E, pattern: str) -> E: raise NotImplementedError
    def digits(self, text: E) -> E: raise NotImplementedError
    def fraction(self, text: E) -> tuple[E, E]: raise NotImplementedError
    def sign(self, text: E) -> E: raise NotImplementedError
    def div(self, a: Any, n: int) -> Any: raise NotImplementedError
    def let(self, parts: dict[str, E], body: Callable[[dict[str, Any]], E]) -> E: raise NotImplementedError

    def date_test(self, x: E, compare: Callable[[], E]) -> E:
        """Text ``x`` that is an ISO date (a real day) and for which ``compare()`` holds (the text is the
        date: comparing the text compares the dates)."""
        parts: dict[str, Any] = {
            n: self.digits(self.extract(x, _JAVA_DATE, i)) for i, n in enumerate("ymd", 1)
        }
        parts["ok"] = self.rlike(x, _JAVA_DATE)

        def body(p: dict[str, Any]) -> E:
            return self.and_([p["ok"] & valid_day(p["y"], p["m"], p["d"], self.div), compare()])

        return self.let(parts, body)

    def datetime_test(self, x: E, compare: Callable[[E], E]) -> E:
        """Text ``x`` that :func:`~skillfilter.semantics.values.parse_datetime` takes, whose instant (in
        microseconds since 1970 UTC) ``compare`` accepts.  The parts are read once (``let``): digits from
        the pattern's groups (or none), so no cast can fail, whatever Spark evaluates first."""
        names = ("y", "m", "d", "hh", "mi", "ss")
        parts: dict[str, Any] = {
            n: self.digits(self.extract(x, _JAVA_DATETIME, i)) for i, n in enumerate(names, 1)
        }
        parts["us"], exact = self.fraction(self.extract(x, _JAVA_DATETIME, 7))
        hours, minutes = (self.digits(self.extract(x, _JAVA_DATETIME, i)) for i in (10, 11))
        sign: Any = self.sign(self.extract(x, _JAVA_DATETIME, 9))
        parts["off"] = sign * (hours * 60 + minutes)  # type: ignore[operator]
        parts["ok"] = self.rlike(x, _JAVA_DATETIME) & exact  # type: ignore[operator]

        def body(p: dict[str, Any]) -> E:
            day, time = (p["y"], p["m"], p["d"]), (p["hh"], p["mi"], p["ss"], p["us"])
            valid, micros = datetime_micros(day, time, p["off"], self.div)
            return self.and_([p["ok"] & valid, compare(micros)])

        return self.let(parts, body)


class _Compiler(Generic[E]):
    def __init__(self, ops: _Ops[E], schema: Schema) -> None:
        self.ops = ops
        self.schema = schema
        self.types = _SparkTypes(schema)

    def node(self, node: PNode, env: dict[str, tuple[E | None, FrameType]]) -> E:
        ops = self.ops
        if isinstance(node, PConst):
            return ops.const(node.value)
        if isinstance(node, PAnd):
            return ops.and_([self.node(i, env) for i in node.items])
        if isinstance(node, POr):
            return ops.or_([self.node(i, env) for i in node.items])
        if isinstance(node, PNot):
            return ops.not_(self.node(node.item, env))
        if isinstance(node, PAtom):
            value, t = self.value(env[node.var], node.keys)
            return self.test(node.test, value, t)
        assert isinstance(node, PExists)
        arr, t = self.value(env[node.parent], node.keys)
        if t.kind != "entities" and t.name != "list[text]":  # pragma: no cover - typed plans only
            raise FilterError(f"{_ENGINE}: `{t.where}` is not a list")
        element = t.element
        if not node.skip_null:
            arr = ops.padded(arr, self.types.data_type(element))

        def body(x: E) -> E:
            return self.node(node.body, {**env, node.var: (x, element)})

        return ops.false_if_null(ops.exists(arr, node.var, body))

    def value(self, start: tuple[E | None, FrameType], keys: tuple[Key, ...]) -> tuple[E, FrameType]:
        x, t = start
        for key in keys:
            if isinstance(key, CPKey):
                cps = "custom_properties"
                x = self.ops.root(cps) if x is None else self.ops.field(x, cps)
                x = self.ops.field(x, key.name)
            else:
                x = self.ops.root(key) if x is None else self.ops.field(x, key)
        t = follow(self.schema, t, keys, _ENGINE)
        assert x is not None
        return x, t

    def test(self, test: Test, value: E, t: FrameType) -> E:
        ops = self.ops
        if test.kind in ("isnull", "notnull"):
            return ops.isnull(value, test.kind == "isnull")
        if test.vtype == DATETIME and t.name == "datetime":
            lit = ops.lit(epoch_micros(test.value), "BIGINT")
            op = _CMP[test.kind]
            return ops.false_if_null(ops.datetime_test(value, lambda micros: ops.cmp(op, micros, lit)))
        if test.vtype == DATE and t.name == "date":
            # ISO text of a real date compares as the date: guard, then compare the text.
            lit = ops.lit(test.value.isoformat(), "STRING")
            return ops.false_if_null(ops.date_test(value, lambda: ops.cmp(_CMP[test.kind], value, lit)))
        if test.vtype == TEXT:
            x = ops.fold(value) if test.ci else value
            lit = ops.lit(test.value, "STRING")
            if test.kind in _CMP:
                return ops.false_if_null(ops.cmp(_CMP[test.kind], x, lit))
            return ops.false_if_null(ops.string_test(test.kind, x, lit))
        if test.vtype == BOOLEAN:
            return ops.false_if_null(ops.cmp("=", value, ops.lit(test.value, "BOOLEAN")))
        if test.vtype == NUMBER and t.name in ("integer", "number"):
            plan = number_plan(test.kind, t.name, test.value)
            is_double = t.name == "number"
            guard = ops.not_(ops.false_if_null(ops.isnan(value))) if is_double else None
            if plan.static is not None:
                out = ops.isnull(value, False) if plan.static else ops.const(False)
            else:
                lit = ops.lit(plan.literal, "DOUBLE" if is_double else "BIGINT")
                out = ops.cmp(_CMP[test.kind], value, lit)
                if plan.tie is not None:
                    out = ops.when(ops.cmp("=", value, lit), ops.const(plan.tie), out)
            out = ops.false_if_null(out)
            return ops.and_([guard, out]) if guard is not None else out
        raise FilterError(  # pragma: no cover - the schema converted the literal to the field's type
            f"{_ENGINE}: a {test.vtype} literal against the {t.name} field `{t.where}`"
        )


# --------------------------------------------------------------------------------------------------
# column expressions
# --------------------------------------------------------------------------------------------------
class _ColumnOps(_Ops["Column"]):
    def __init__(self) -> None:
        _need_pyspark()
        from pyspark.sql import functions

        self.F = functions

    def root(self, name: str) -> Column:
        return self.F.col(_quote(name))

    def field(self, x: Column, name: str) -> Column:
        return x.getField(name)

    def lit(self, value: Any, sql_type: str) -> Column:
        return self.F.lit(value).cast(sql_type.lower())

    def const(self, value: bool) -> Column:
        return self.F.lit(value)

    def cmp(self, op: str, a: Column, b: Column) -> Column:
        out: Column = COMPARE[_KIND[op]](a, b)
        return out

    def and_(self, items: list[Column]) -> Column:
        out = items[0]
        for i in items[1:]:
            out = out & i
        return out

    def or_(self, items: list[Column]) -> Column:
        out = items[0]
        for i in items[1:]:
            out = out | i
        return out

    def not_(self, x: Column) -> Column:
        return ~x

    def false_if_null(self, x: Column) -> Column:
        return self.F.coalesce(x, self.F.lit(False))

    def isnull(self, x: Column, null: bool) -> Column:
        return x.isNull() if null else x.isNotNull()

    def isnan(self, x: Column) -> Column:
        return self.F.isnan(x)

    def when(self, cond: Column, then: Column, other: Column) -> Column:
        return self.F.when(cond, then).otherwise(other)

    def fold(self, x: Column) -> Column:
        src, dst = fold_table()
        return self.F.translate(x, src, dst)

    def string_test(self, kind: str, x: Column, lit: Column) -> Column:
        if kind == "contains":
            return x.contains(lit)
        if kind == "startswith":
            return x.startswith(lit)
        return x.endswith(lit)

    def padded(self, arr: Column, element: DataType) -> Column:
        from pyspark.sql import functions as F

        return F.when(F.size(arr) > 0, arr).otherwise(F.array(F.lit(None).cast(element)))

    def exists(self, arr: Column, var: str, body: Callable[[Column], Column]) -> Column:
        from pyspark.sql.functions import exists

        return exists(arr, body)

    def extract(self, x: Column, pattern: str, group: int) -> Column:
        return self.F.regexp_extract(x, pattern, group)

    def rlike(self, x: Column, pattern: str) -> Column:
        return x.rlike(pattern)

    def digits(self, text: Column) -> Column:
        """ASCII digits (or none: 0) as a BIGINT; never fails, also under ANSI mode."""
        return self.F.concat(self.F.lit("0"), text).cast("bigint")

    def fraction(self, text: Column) -> tuple[Column, Column]:
        F = self.F
        us = self.digits(F.substring(F.concat(text, F.lit("000000")), 1, 6))
        return us, F.substring(text, 7, 1_000_000).rlike(_JAVA_ZEROS)

    def sign(self, text: Column) -> Column:
        return self.F.when(text == "-", -1).otherwise(1)

    def div(self, a: Any, n: int) -> Any:
        return self.F.floor(a / self.F.lit(n)).cast("bigint")

    def let(self, parts: dict[str, Column], body: Callable[[dict[str, Any]], Column]) -> Column:
        from pyspark.sql import functions as F

        one = F.array(F.struct(*(v.alias(k) for k, v in parts.items())))
        return F.exists(one, lambda p: body({k: p.getField(k) for k in parts}))


#: The whole text (Java's ``$`` would also match before a final line break).
_JAVA_DATE = r"\A([0-9]{4})-([0-9]{2})-([0-9]{2})\z"
_JAVA_DATETIME = r"\A" + DATETIME_PATTERN + r"\z"
#: Digits finer than a microsecond: only zeros may be left out.
_JAVA_ZEROS = r"\A0*\z"


def _quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


# --------------------------------------------------------------------------------------------------
# SQL text with named parameters
# --------------------------------------------------------------------------------------------------
#: One-argument forms of Spark SQL.
_TEMPLATES = {
    "not": "NOT ({})", "false_if_null": "coalesce({}, false)", "isnull": "({} IS NULL)",
    "notnull": "({} IS NOT NULL)", "isnan": "isnan({})",
}


class _SqlOps(_Ops[str]):
    def __init__(self) -> None:
        self.args: dict[str, Any] = {}
        self.fold_names: tuple[str, str] | None = None
        self.patterns: dict[str, str] = {}
        self.lets = 0

    def param(self, value: Any) -> str:
        name = f"p{len(self.args) + 1}"
        self.args[name] = value
        return ":" + name

    def root(self, name: str) -> str:
        return _quote(name)

    def field(self, x: str, name: str) -> str:
        return f"{x}.{_quote(name)}"

    def lit(self, value: Any, sql_type: str) -> str:
        p = self.param(value)
        return p if sql_type == "STRING" else f"CAST({p} AS {sql_type})"

    def const(self, value: bool) -> str:
        return "true" if value else "false"

    def cmp(self, op: str, a: str, b: str) -> str:
        return f"{a} {op} {b}"

    def and_(self, items: list[str]) -> str:
        return "(" + " AND ".join(items) + ")"

    def or_(self, items: list[str]) -> str:
        return "(" + " OR ".join(items) + ")"

    def not_(self, x: str) -> str:
        return _TEMPLATES["not"].format(x)

    def false_if_null(self, x: str) -> str:
        return _TEMPLATES["false_if_null"].format(x)

    def isnull(self, x: str, null: bool) -> str:
        return _TEMPLATES["isnull" if null else "notnull"].format(x)

    def isnan(self, x: str) -> str:
        return _TEMPLATES["isnan"].format(x)

    def when(self, cond: str, then: str, other: str) -> str:
        return f"CASE WHEN {cond} THEN {then} ELSE {other} END"

    def fold(self, x: str) -> str:
        if self.fold_names is None:
            src, dst = fold_table()
            self.fold_names = (self.param(src), self.param(dst))
        return f"translate({x}, {self.fold_names[0]}, {self.fold_names[1]})"

    def string_test(self, kind: str, x: str, lit: str) -> str:
        return f"{kind}({x}, {lit})"

    def padded(self, arr: str, element: DataType) -> str:
        return f"CASE WHEN size({arr}) > 0 THEN {arr} ELSE array(CAST(NULL AS {element.simpleString()})) END"

    def exists(self, arr: str, var: str, body: Callable[[str], str]) -> str:
        x = f"x_{var}"
        return f"exists({arr}, {x} -> {body(x)})"

    def extract(self, x: str, pattern: str, group: int) -> str:
        return f"regexp_extract({x}, {self.pattern(pattern)}, {group})"

    def rlike(self, x: str, pattern: str) -> str:
        return _Sql(f"({x} RLIKE {self.pattern(pattern)})")

    def pattern(self, pattern: str) -> str:
        if pattern not in self.patterns:
            self.patterns[pattern] = self.param(pattern)
        return self.patterns[pattern]

    def digits(self, text: str) -> str:
        return _Sql(f"CAST(concat('0', {text}) AS BIGINT)")

    def fraction(self, text: str) -> tuple[str, str]:
        us = self.digits(f"substring(concat({text}, '000000'), 1, 6)")
        return us, self.rlike(f"substring({text}, 7)", _JAVA_ZEROS)

    def sign(self, text: str) -> str:
        return _Sql(f"CASE WHEN {text} = '-' THEN -1 ELSE 1 END")

    def div(self, a: Any, n: int) -> Any:
        return _Sql(f"floor({a} / {n})")

    def let(self, parts: dict[str, str], body: Callable[[dict[str, Any]], str]) -> str:
        self.lets += 1
        v = f"x_let{self.lets}"
        fields = ", ".join(f"'{k}', {e}" for k, e in parts.items())
        return f"exists(array(named_struct({fields})), {v} -> {body({k: _Sql(f'{v}.{k}') for k in parts})})"


def _infix(op: str) -> Callable[[_Sql, object], _Sql]:
    def method(self: _Sql, other: object) -> _Sql:
        return _Sql(f"({self} {op} {other})")

    return method


class _Sql(str):
    """SQL text that Python's arithmetic and comparison operators extend (for the shared date arithmetic)."""

    __add__ = _infix("+")
    __sub__ = _infix("-")
    __mul__ = _infix("*")
    __mod__ = _infix("%")
    __and__ = _infix("AND")
    __or__ = _infix("OR")
    __eq__ = _infix("=")  # type: ignore[assignment]
    __ne__ = _infix("<>")  # type: ignore[assignment]
    __lt__ = _infix("<")  # type: ignore[assignment]
    __le__ = _infix("<=")  # type: ignore[assignment]
    __gt__ = _infix(">")  # type: ignore[assignment]
    __ge__ = _infix(">=")  # type: ignore[assignment]
    __hash__ = str.__hash__


# --------------------------------------------------------------------------------------------------
# types
# --------------------------------------------------------------------------------------------------
class _SparkTypes:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema

    def data_type(self, t: FrameType) -> DataType:
        from pyspark.sql import types as T

        if t.kind == "entity":
            return _struct(frame_schema(self.schema, t.name))
        if t.kind == "entities":
            return T.ArrayType(_struct(frame_schema(self.schema, t.name)))
        return _leaf(t.name)


def _leaf(name: object) -> DataType:
    from pyspark.sql import types as T

    if isinstance(name, tuple):
        return T.ArrayType(_leaf(name[1]))
    if isinstance(name, list):
        return _struct(name)
    return {
        "text": T.StringType(), "integer": T.LongType(), "number": T.DoubleType(),
        "boolean": T.BooleanType(), "date": T.StringType(), "datetime": T.StringType(),
        "list[text]": T.ArrayType(T.StringType()),
    }[str(name)]


def _struct(columns: list[tuple[str, object]]) -> StructType:
    from pyspark.sql import types as T

    return T.StructType([T.StructField(n, _leaf(t)) for n, t in columns])


# --------------------------------------------------------------------------------------------------
# the public functions
# --------------------------------------------------------------------------------------------------
def spark_schema(schema: Schema | str | None = None, entity: str | None = None) -> StructType:
    """The ``StructType`` of one record of ``entity``, to read exports with
    ``spark.read.schema(spark_schema(...)).option("mode", "FAILFAST").json(path)``.

    ``integer`` is ``bigint``, ``number`` ``double``, ``list[text]`` ``array<string>``, a to-many relation an
    array of structs, ``date``/``datetime`` a string; ``custom_properties`` holds the declared custom
    properties (the mapping shape ``{"name": value}``).  ``None`` is the built-in ``export`` schema.
    """
    _need_pyspark()
    sch, ent = schema_and_entity(schema, entity)
    return _struct(frame_schema(sch, ent))


def read_export(
    spark: SparkSession | None,
    paths: str | Sequence[str],
    *,
    schema: Schema | str | None = None,
    entity: str | None = None,
) -> DataFrame:
    """The records of JSON Lines files as a frame typed by :func:`spark_schema`, after checking that every
    record fits the schema (:mod:`~skillfilter.backends.frames_read`): a record that does not fit raises a
    :class:`~skillfilter.errors.FilterError` naming the file and the value, so that :func:`to_spark` on
    the frame answers as ``predicate()`` on the records.  ``spark=None`` takes the active session.

    The check is one Spark job over the lines (``spark.read.text``) that runs Python on the executors, so
    on a cluster they need skillfilter installed, and a classic session (Spark Connect has no RDDs; the
    filter itself needs nothing but Spark); then the
    files are read with ``spark.read.schema(...).option("mode", "FAILFAST").json(paths)``."""
    _need_pyspark()
    from functools import partial

    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    from .frames_read import partition_misfits, raise_misfit

    session = spark if spark is not None else SparkSession.getActiveSession()
    if session is None:
        raise FilterError("read_export needs a Spark session: start one, or pass it")
    sch, ent = schema_and_entity(schema, entity)
    sources = [paths] if isinstance(paths, str) else list(paths)
    lines = session.read.text(sources).select(F.input_file_name(), "value")
    found = lines.rdd.mapPartitions(partial(partition_misfits, columns=frame_schema(sch, ent))).take(1)
    if found:
        source, line, why = found[0]
        raise_misfit(source, line, why)
    return session.read.schema(spark_schema(sch, ent)).option("mode", "FAILFAST").json(sources)


def _need_pyspark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise ImportError(
            "the Spark backend needs pyspark: pip install 'skillfilter[spark]' (and a Java runtime)"
        ) from None


def _compile(ops: _Ops[E], expr: Expr | str, schema: Schema | str | None, entity: str | None) -> E:
    _need_pyspark()
    sch, ent = schema_and_entity(schema, entity)
    plan, _ = compile_plan(expr, schema=sch, entity=ent)
    return _Compiler(ops, sch).node(plan, {"r": (None, entity_type(ent))})


def to_spark(expr: Expr | str, *, schema: Schema | str | None = None, entity: str | None = None) -> Column:
    """``expr`` as a ``pyspark.sql.Column`` for ``df.where(...)``/``df.filter(...)``: true exactly for the
    records ``predicate(expr, schema=schema, entity=entity)`` accepts, on a frame read with
    :func:`spark_schema`.  Needs pyspark (the ``spark`` extra) and an active Spark session.  Raises
    :class:`~skillfilter.errors.FilterError` for a filter the schema rejects or the backend cannot run
    exactly (an untyped custom property)."""
    return _compile(_ColumnOps(), expr, schema, entity)


def to_spark_sql(
    expr: Expr | str, *, schema: Schema | str | None = None, entity: str | None = None
) -> tuple[str, dict[str, Any]]:
    """``expr`` as a Spark SQL condition and its named arguments, for
    ``spark.sql(f"SELECT * FROM t WHERE {sql}", args=args)``.  Values are parameters (``:p1`` ...), never
    SQL text; identifiers come from the schema, quoted where needed."""
    ops = _SqlOps()
    sql = _compile(ops, expr, schema, entity)
    return sql, ops.args
