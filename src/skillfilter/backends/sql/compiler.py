"""The SQL compiler: the plan (:mod:`skillfilter.plan.nodes`) as one SQL condition over mapped tables.

The planner decides every rule of LANGUAGE.md section 3; this module only says how SQL spells each plan node
over the tables of a :class:`~skillfilter.backends.sql.mapping.SchemaMapping`, in the words of a
:class:`~skillfilter.backends.sql.dialect.Dialect`:

- :class:`~skillfilter.plan.nodes.PExists` over a to-many relation, a list field or a custom property that
  may hold a list is ``EXISTS (SELECT 1 FROM <its rows> WHERE <link> AND <body>)``; the empty-relation
  element of the plan is ``OR (NOT EXISTS (<its rows>) AND <the body with a null element>)``, worked out
  while writing (usually it vanishes).  Custom properties in a JSON column have that element in their rows
  already.  A to-one relation on the way is joined (at most one row; none is the null element).
- An *entangled* existential (one holding another over an independent list: several lists chosen together)
  is one ``EXISTS`` over all of them (:mod:`~skillfilter.backends.sql.joint`).
- :class:`~skillfilter.plan.nodes.PAtom` is the test on a column, on a JSON value, or on a custom property
  read in place; under an odd number of ``not`` it is guarded (``x IS NOT NULL AND ...``) so that SQL's NULL
  never leaks into a ``NOT``.
- Where the dialect asks for it (DuckDB, for filters with many subqueries), the tests through each relation
  prefix are columns of one subquery instead of an ``EXISTS`` each (:mod:`~skillfilter.backends.sql.combine`).
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Callable, Iterator, Sequence
from collections.abc import Mapping as AbcMapping
from dataclasses import dataclass
from typing import Any

from ...language.ast import Expr
from ...plan.atoms import Test
from ...plan.nodes import CPKey, Key, PAnd, PAtom, PConst, PExists, PNode, PNot, POr
from ...semantics.schema import Entity, Schema
from ...semantics.values import canonical_datetime
from . import combine as combining
from .dialect import Dialect
from .fragments import AND, ATOM, FALSE, TRUE, Frag, join, negate, paren, wrap
from .mapping import ListMapping, MappingError, PropertyTable, SchemaMapping, TableMapping

__all__ = ["Bind", "Compiler", "Condition", "Env", "Step", "compile_condition", "resolve_mapping", "to_sql"]

_STORAGE_KIND = {
    "text": "text", "list[text]": "text", "integer": "number", "number": "number", "boolean": "boolean",
    "date": "date", "datetime": "datetime",
}


@dataclass(frozen=True, slots=True)
class Bind:
    """What a plan variable stands for in SQL: ``row`` (a row of an entity's table), ``list`` (a row of a
    list field's table), ``cp`` (a custom property's element in a JSON column), ``cprow`` (a row of a
    property table), ``inline`` (a custom property read in place, known to be a JSON value of one kind)."""

    kind: str
    ref: str
    entity: Entity | None = None
    path: tuple[str, ...] = ()
    node: TableMapping | ListMapping | PropertyTable | None = None
    #: For ``inline``: (the ``jsonb`` SQL, the ``text`` SQL, their parameters, the JSON kind).
    inline: tuple[str, str, tuple[Any, ...], str] | None = None


#: Variables of the plan -> their binding (``None``: the null element).
Env = dict[str, Bind | None]


@dataclass(frozen=True, slots=True)
class Step:
    """One table (or JSON domain) on the way to a list's elements: ``FROM``/``JOIN`` item, its parameters,
    and the condition linking it to the step before (or to the parent; ``""``: none needed)."""

    source: str
    params: tuple[Any, ...]
    on: str
    on_params: tuple[Any, ...]


class Compiler:
    def __init__(self, dialect: Dialect, mapping: SchemaMapping, root_ref: str, *,
                 combine: bool = False) -> None:
        self.d = dialect
        self.mapping = mapping
        self.root_ref = root_ref
        self.alias_prefix = "_sf"
        while root_ref.strip('"').startswith(self.alias_prefix):
            self.alias_prefix += "_"
        self.counter = 0
        #: Scopes of combined subqueries (:mod:`~skillfilter.backends.sql.combine`): the root's if combining.
        self.scopes: list[combining.Scope] = [combining.Scope(root_ref if combine else None)]

    def condition(self, plan: PNode) -> Frag:
        """The whole plan as a condition on the root row (the one entry point: it closes the subqueries
        that combine tests, where the dialect asks for them)."""
        frag = self.node(plan, self.root_env(), False)
        return combining.close(self.scopes[0], frag)

    # -- tests combined per relation prefix -------------------------------------------------------
    @contextlib.contextmanager
    def barrier(self) -> Iterator[None]:
        """Inside a subquery written whole (not a group's): no combining across it."""
        self.scopes.append(combining.Scope(None))
        try:
            yield
        finally:
            self.scopes.pop()

    def rows_where(self, parent: Bind, keys: tuple[Key, ...], listy: bool,
                   body: Callable[[Bind], Frag]) -> Frag:
        """"Some row reached from ``parent`` through ``keys`` makes ``body`` (of its binding) true": a column
        of the subquery of that prefix where combining (:mod:`~skillfilter.backends.sql.combine`), else
        ``EXISTS (...)``."""
        if self.scopes[-1].owner != parent.ref:
            alias, raw = self.alias()
            steps, bind = self.steps(parent, keys, alias, raw, listy)
            with self.barrier():
                where = body(bind)
            return self.exists_sql(steps, where)
        return combining.column(self, parent, keys, listy, body)

    def root_env(self) -> Env:
        m = self.mapping
        return {"r": Bind("row", self.root_ref, m.schema.entities[m.entity], (), m.root)}

    def alias(self) -> tuple[str, str]:
        self.counter += 1
        raw = f"{self.alias_prefix}{self.counter}"
        return f'"{raw}"', raw

    def join(self, kind: str, parts: Sequence[Frag]) -> Frag:
        return join(kind, parts, chain_limit=self.d.chain_limit, deep_first=self.d.deep_first)

    # -- plan nodes --------------------------------------------------------------------------------
    def node(self, n: PNode, env: Env, neg: bool) -> Frag:
        if isinstance(n, PAtom):
            return self.atom(n, env, neg)
        if isinstance(n, PExists):
            return self.exists(n, env, neg)
        if isinstance(n, PNot):
            return negate(self.node(n.item, env, not neg))
        if isinstance(n, PConst):
            return TRUE if n.value else FALSE
        return self.join("and" if isinstance(n, PAnd) else "or", [self.node(i, env, neg) for i in n.items])

    def exists(self, n: PExists, env: Env, neg: bool, *, listy: bool = True) -> Frag:
        if n.var in env:  # chosen together with an enclosing list (an entangled scope)
            return self.node(n.body, env, neg)
        parent = env[n.parent]
        if parent is None:  # a null element offers one null element in turn
            return self.node(n.body, {**env, n.var: None}, neg)
        from .joint import chosen_together, joint

        group = chosen_together(n)
        if len(group) > 1 and sum(1 for e in group if e.parent not in {g.var for g in group}) > 1:
            with self.barrier():
                return joint(self, n, group, env)
        cp_json = bool(n.keys) and isinstance(n.keys[-1], CPKey) and isinstance(parent.node, TableMapping) \
            and isinstance(parent.node.custom_properties, str) and len(n.keys) == 1
        if cp_json and len(group) == 1:
            fast = self.cp_equals(n, parent, neg, listy)
            if fast is not None:
                return fast
            if self.d.inline_cp:
                with self.barrier():
                    return self.cp_inline(n, env, parent, neg, listy)
        some = self.rows_where(parent, n.keys, listy, lambda b: self.node(n.body, {**env, n.var: b}, False))
        if cp_json:
            return some  # the domain of a custom property holds its null element
        nulls = self.node(n.body, {**env, n.var: None}, neg)
        if nulls.const is False:
            return some
        empty = negate(self.rows_where(parent, n.keys, listy, lambda b: TRUE))
        return self.join("or", [some, self.join("and", [empty, nulls])])

    def exists_sql(self, steps: list[Step], where: Frag) -> Frag:
        if where.const is False:
            return FALSE
        first = steps[0]
        if not first.on and where.const is True and len(steps) == 1:
            return TRUE  # a JSON domain is never empty
        source = first.source + "".join(f" JOIN {s.source} ON {s.on}" for s in steps[1:])
        params: list[Any] = [*first.params]
        for s in steps[1:]:
            params.extend(s.params)
            params.extend(s.on_params)
        conds = [Frag(first.on, first.on_params, AND)] if first.on else []
        body = self.join("and", [*conds, where])
        depth = wrap(body, AND)[1]
        where_sql = "" if body.const is True else f" WHERE {body.sql}"
        return Frag(f"EXISTS (SELECT 1 FROM {source}{where_sql})", (*params, *body.params), ATOM,
                    depth=depth + 4 + source.count("("))

    # -- where the elements are --------------------------------------------------------------------
    def steps(self, parent: Bind, keys: tuple[Key, ...], alias: str, raw: str,
              listy: bool) -> tuple[list[Step], Bind]:
        """The rows reached from ``parent`` through ``keys`` (to-one relations, then a to-many relation, a
        list field or a custom property), the last as ``alias``; and the binding of that last one."""
        d = self.d
        out: list[Step] = []
        cur = parent
        for i, key in enumerate(keys):
            last = i == len(keys) - 1
            ref = alias if last else self.alias()[0]
            if cur.kind != "row" or cur.entity is None or not isinstance(cur.node, TableMapping):
                raise MappingError(f"`{key}` does not follow a record or relation")  # pragma: no cover
            table = cur.node
            if isinstance(key, CPKey):
                cp = table.custom_properties
                if cp is None:
                    raise MappingError(f"the mapping of `{cur.entity.name}` has no custom properties column")
                if isinstance(cp, str):
                    source, params = d.cp_domain(cur.ref, cp, key.name, alias=ref, aux=raw, listy=listy)
                    out.append(Step(source, params, "", ()))
                    return out, Bind("cp", ref)
                owner_col = cp.link_to or table.key
                on = (f"{ref}.{d.ident(cp.link)} = {cur.ref}.{d.ident(owner_col)} "
                      f"AND {ref}.{d.ident(cp.name)} COLLATE {d.binary} = {d.placeholder}")
                out.append(Step(f"{d.ident(cp.table)} AS {ref}", (), on, (key.name,)))
                return out, Bind("cprow", ref, node=cp)
            path = (*cur.path, key)
            rel = cur.entity.relations.get(key)
            if rel is not None:
                child = self.mapping.table(path)
                assert child.link is not None
                if rel.many:
                    on = f"{ref}.{d.ident(child.link)} = {cur.ref}.{d.ident(child.link_to or table.key)}"
                else:
                    on = f"{ref}.{d.ident(child.link_to or child.key)} = {cur.ref}.{d.ident(child.link)}"
                out.append(Step(f"{d.ident(child.table)} AS {ref}", (), on, ()))
                cur = Bind("row", ref, self.mapping.schema.entities[rel.target], path, child)
                continue
            lst = self.mapping.node(path)
            assert isinstance(lst, ListMapping)
            on = f"{ref}.{d.ident(lst.link)} = {cur.ref}.{d.ident(lst.link_to or table.key)}"
            out.append(Step(f"{d.ident(lst.table)} AS {ref}", (), on, ()))
            return out, Bind("list", ref, path=path, node=lst)
        return out, cur

    # -- comparisons ---------------------------------------------------------------------------------
    def atom(self, n: PAtom, env: Env, neg: bool) -> Frag:
        test = n.test
        bind = env[n.var]
        if bind is None:
            return TRUE if test.null_truth else FALSE
        if test.kind == "false":
            return FALSE
        keys = n.keys
        if bind.kind == "inline":
            assert bind.inline is not None
            return self.inline_leaf(bind.inline, test)
        if bind.kind == "row" and keys and isinstance(keys[-1], CPKey):
            # a custom property that holds one value: its one element (the value itself)
            var = f"{n.var}.{keys[-1].name}"
            return self.exists(PExists(var, n.var, keys, PAtom(var, (), test)), env, neg, listy=False)
        if bind.kind == "row" and len(keys) > 1:
            # to-one relations on the way: the row they reach, or none (the null element)
            last = PAtom("_", keys[-1:], test)
            some = self.rows_where(bind, keys[:-1], False,
                                   lambda target: self.atom(last, {**env, "_": target}, False))
            if not test.null_truth:
                return some
            empty = negate(self.rows_where(bind, keys[:-1], False, lambda target: TRUE))
            return self.join("or", [some, empty])
        d = self.d
        if bind.kind in ("cp", "cprow"):
            row = bind.kind == "cprow"
            column = ""
            if row:
                assert isinstance(bind.node, PropertyTable)
                column = f"{bind.ref}.{d.ident(bind.node.value)}"
            if test.kind in ("isnull", "notnull"):
                null = Frag(d.json_isnull(column) if row else d.cp_isnull(bind.ref))
                return null if test.kind == "isnull" else negate(null)
            if row and d.json_contains and test.kind == "exact" and not test.ci:
                equal = self.json_equals(column, test)
                if equal is not None:
                    return equal if not neg else self.join("and", [Frag(f"{column} IS NOT NULL"), equal])
            vtype = test.vtype if test.vtype in ("number", "boolean") else "text"
            x = d.json_value(column, vtype) if row else d.cp_value(bind.ref, vtype)
            if test.vtype in ("date", "datetime"):
                cmp = d.text(x, test.kind, _json_temporal(test), False)
            else:
                cmp = self.compare(x, test, "json")
        else:
            if bind.kind == "list":
                assert isinstance(bind.node, ListMapping) and not keys
                x, storage = f"{bind.ref}.{d.ident(bind.node.value)}", "text"
            else:
                assert bind.entity is not None and isinstance(bind.node, TableMapping) and len(keys) == 1
                name = keys[0]
                assert isinstance(name, str)
                x, storage = f"{bind.ref}.{d.ident(bind.node.column(name))}", bind.entity.fields[name].type
            if test.kind in ("isnull", "notnull"):
                return Frag(f"{x} IS NULL" if test.kind == "isnull" else f"{x} IS NOT NULL")
            if _STORAGE_KIND[storage] != test.vtype:
                return FALSE
            cmp = self.compare(x, test, storage)
        if cmp.const is not None or not neg:
            return cmp
        return self.join("and", [Frag(f"{paren(x)} IS NOT NULL"), cmp])

    def compare(self, x: str, test: Test, storage: str) -> Frag:
        """``test`` on the value ``x``, stored as ``storage`` (a schema type, or ``json``)."""
        d = self.d
        if test.vtype == "text":
            return d.text(x, test.kind, test.value, test.ci)
        if test.vtype == "number":
            return d.number(paren(x), test.kind, test.value, storage)
        if test.vtype == "boolean":
            return d.boolean(paren(x), test.value)
        return d.temporal(x, test.kind, test.value, test.vtype)

    def json_equals(self, column: str, test: Test) -> Frag | None:
        """``column`` (a JSON value) is the literal, as JSON equality (where the dialect has it)."""
        value = test.value
        if test.vtype == "datetime":
            value = canonical_datetime(value)
        elif test.vtype == "date" or (isinstance(value, float) and not math.isfinite(value)):
            return None
        elif isinstance(value, str) and "\x00" in value:
            return FALSE  # JSON in the database cannot hold NUL: nothing equals this value
        return self.d.json_equals(column, json.dumps(value, ensure_ascii=False))

    # -- custom properties in a JSON column, without rows ------------------------------------------
    def cp_equals(self, n: PExists, parent: Bind, neg: bool, listy: bool) -> Frag | None:
        """Custom property ``=`` one of some values, as JSON containment (``{"name": value}`` for the value
        itself, ``{"name": [value]}`` for an element of a list: a containment one level down matches only
        elements, as the scope wants).  A text value itself is compared as ``column ->> 'name'`` instead
        (``cp_text_equals``), faster unless an index serves the containment
        (``custom_properties_indexed``)."""
        if not self.d.json_contains:
            return None
        atoms = n.body.items if isinstance(n.body, POr) else [n.body]
        table = parent.node
        assert isinstance(table, TableMapping) and isinstance(table.custom_properties, str)
        key = n.keys[-1]
        assert isinstance(key, CPKey)
        col = f"{parent.ref}.{self.d.ident(table.custom_properties)}"
        texts: list[Frag] = []
        documents: list[str] = []
        for item in atoms:
            if not isinstance(item, PAtom) or item.var != n.var or item.keys:
                return None
            test = item.test
            if test.kind != "exact" or test.ci or test.vtype not in ("text", "number", "boolean", "datetime"):
                return None
            value = test.value
            if test.vtype == "datetime":
                value = canonical_datetime(value)
            elif isinstance(value, float) and not math.isfinite(value):
                return None
            elif isinstance(value, str) and "\x00" in value:
                continue  # JSON in the database cannot hold NUL: nothing equals this value
            if test.vtype == "text" and not table.custom_properties_indexed:
                texts.append(self.d.cp_text_equals(col, key.name, value))
            else:
                documents.append(json.dumps({key.name: value}, ensure_ascii=False))
            if listy:
                documents.append(json.dumps({key.name: [value]}, ensure_ascii=False))
        parts = [*texts]
        if documents:
            parts.append(self.d.cp_contains(parent.ref, table.custom_properties, documents))
        found = self.join("or", parts)
        if not neg or found.const is not None:
            return found
        if texts:  # `->>` is NULL for a missing property: keep the answer two-valued under `not`
            return Frag(f"coalesce({found.sql}, FALSE)", found.params, ATOM, depth=found.depth + 1)
        return self.join("and", [Frag(f"{col} IS NOT NULL"), found])  # `@>` is NULL for a NULL column

    def cp_inline(self, n: PExists, env: Env, parent: Bind, neg: bool, listy: bool) -> Frag:
        """A custom property alone in its scope, read in place rather than as rows: one ``CASE`` on the
        value's JSON kind, each branch the condition on a value of that kind (written once the kind is
        known: no NULLs, comparisons with another kind already false), and for a list (where the property
        may hold one) ``EXISTS`` over its elements."""
        d = self.d
        table = parent.node
        assert isinstance(table, TableMapping) and isinstance(table.custom_properties, str)
        key_name = n.keys[-1]
        assert isinstance(key_name, CPKey)
        get = d.cp_get(parent.ref, table.custom_properties)
        text_get = d.cp_get_text(parent.ref, table.custom_properties)
        key = (key_name.name,)

        def on(json_kind: str) -> Frag:
            self.counter += 1
            bind = Bind("inline", f"\x00cp{self.counter}", inline=(get, text_get, key, json_kind))
            return self.node(n.body, {**env, n.var: bind}, neg)

        nulls = self.node(n.body, {**env, n.var: None}, neg)
        branches: list[tuple[str, Frag]] = []
        if listy:
            alias, _ = self.alias()
            inner = self.node(n.body, {**env, n.var: Bind("cp", alias)}, False)
            if inner.const is not None:
                arr = inner  # an array offers at least one element (its null one when empty)
            else:
                source_params: tuple[Any, ...] = key
                source = get
                if nulls.const is not False:  # an empty list offers its null element
                    source = d.cp_empty_as_null(get)
                    source_params = key + key
                arr = Frag(d.cp_array_exists(source, alias, inner.sql), (*source_params, *inner.params), ATOM,
                           depth=inner.depth + 5)
            branches.append(("array", arr))
        other = on("other")
        branches += [("number", on("number")), ("string", on("string")), ("boolean", on("boolean")),
                     ("object", other)]
        if not listy:
            branches.append(("array", other))
        # missing, or JSON null: the ELSE branch
        kept = [(k, f) for k, f in branches if not (f.const is not None and f.const == nulls.const)]
        if not kept:
            return nulls
        parts: list[str] = []
        params: list[Any] = list(key)
        depth = 0
        for json_kind, f in [*kept, ("", nulls)]:
            text = str(f.const).upper() if f.const is not None else wrap(f, ATOM)[0]
            parts.append(f"WHEN '{json_kind}' THEN {text}" if json_kind else f"ELSE {text}")
            params.extend(f.params)
            depth = max(depth, f.depth)
        return Frag(f"CASE {d.cp_kind(get)} {' '.join(parts)} END", tuple(params), ATOM, depth=depth + 2)

    def inline_leaf(self, inline: tuple[str, str, tuple[Any, ...], str], test: Test) -> Frag:
        """A comparison on a custom property read in place, whose value is known (by the enclosing ``CASE``)
        to be a JSON value of ``json_kind`` (``other``: an object, or a list that offers no elements)."""
        get, text_get, key, json_kind = inline
        if test.kind in ("isnull", "notnull"):
            return FALSE if test.kind == "isnull" else TRUE
        wanted = {"number": "number", "boolean": "boolean"}.get(test.vtype, "string")
        if wanted != json_kind:
            return FALSE
        x = text_get if json_kind == "string" else self.d.json_cast(get, json_kind)
        if test.vtype in ("date", "datetime"):
            cmp = self.d.text(x, test.kind, _json_temporal(test), False)
        else:
            cmp = self.compare(x, test, "json")
        if cmp.const is not None:
            return cmp
        # `x` (holding the placeholder of `key` once) starts every comparison, before its own placeholders
        return Frag(cmp.sql, (*key, *cmp.params), cmp.prec, depth=cmp.depth)


@dataclass(frozen=True, slots=True)
class Condition:
    """A compiled filter: SQL text over the root table, its parameters (in text order), and its truth when
    it is a constant (``TRUE``/``FALSE``)."""

    sql: str
    params: tuple[Any, ...]
    const: bool | None
    #: How tightly the text binds (an ``OR`` chain least, then ``AND``, ``NOT``, an atom).
    _prec: int

    def text(self, within: str = "atom") -> str:
        """The text, parenthesised where needed to stand as an operand: ``atom`` (anywhere) or ``and`` (an
        operand of ``AND``, as ``WHERE ... AND <condition>`` in the caller's own query)."""
        least = ATOM if within == "atom" else AND
        return self.sql if self._prec >= least else f"({self.sql})"


def compile_condition(plan: PNode, *, dialect: Dialect | str, mapping: SchemaMapping,
                      root_ref: str) -> Condition:
    """The plan (:func:`~skillfilter.plan.planner.compile_plan` over ``mapping``'s schema and entity) as a
    condition on the root table, named ``root_ref`` (an SQL reference, quoted), in ``dialect``'s words.

    Where the dialect combines subqueries (:attr:`~skillfilter.backends.sql.dialect.Dialect.
    combine_exists_from`) and the plan has at least that many, the tests through each relation prefix are
    combined into one subquery."""
    from .dialect import dialect as get_dialect

    d = get_dialect(dialect) if isinstance(dialect, str) else dialect
    limit = d.combine_exists_from
    combine = bool(limit) and combining.subqueries(plan, limit) >= limit
    frag = Compiler(d, mapping, root_ref, combine=combine).condition(plan)
    return Condition(frag.sql, frag.params, frag.const, frag.prec)


def _json_temporal(test: Test) -> str:
    """A date or datetime literal as the text a JSON value holds for it."""
    return canonical_datetime(test.value) if test.vtype == "datetime" else str(test.value.isoformat())


# --------------------------------------------------------------------------------------------------
# the public function
# --------------------------------------------------------------------------------------------------
def resolve_mapping(mapping: Any, schema: Any, entity: str | None) -> SchemaMapping:
    """The :class:`SchemaMapping` that ``to_sql``'s ``mapping``, ``schema`` and ``entity`` arguments name
    (the default mapping of a schema is made once and reused)."""
    if isinstance(mapping, SchemaMapping):
        if schema is not None and Schema.coerce(schema) is not mapping.schema:
            raise MappingError("`schema` differs from the mapping's schema: pass one of them")
        if entity is not None and entity != mapping.entity:
            raise MappingError(f"the mapping is for entity `{mapping.entity}`, not `{entity}`")
        return mapping
    if mapping is not None and not isinstance(mapping, AbcMapping):
        raise MappingError(
            f"`mapping` is a SchemaMapping or a dict of overrides, not {type(mapping).__name__}"
        )
    if mapping:
        return SchemaMapping(schema, entity, mapping)
    # The default mapping of a schema (schemas are immutable), found by identity among the last few used:
    # its nodes are derived once, not on every call.
    resolved = Schema.coerce(schema)
    for s, e, m in list(_DEFAULT_MAPPINGS):
        if s is resolved and e == entity:
            return m
    made = SchemaMapping(resolved, entity)
    _DEFAULT_MAPPINGS.insert(0, (resolved, entity, made))
    del _DEFAULT_MAPPINGS[8:]
    return made


#: The default mappings used last, most recent first: ``(schema, entity, mapping)``.
_DEFAULT_MAPPINGS: list[tuple[Schema, str | None, SchemaMapping]] = []


def to_sql(
    expr: Expr | str,
    *,
    dialect: str = "sqlite",
    schema: Schema | str | None = None,
    entity: str | None = None,
    mapping: SchemaMapping | AbcMapping[str, Any] | None = None,
    select: bool = False,
    alias: str | None = None,
    max_logical_operators: int | None = None,
    layout: str = "tables",
) -> tuple[str, list[Any]]:
    """The filter as SQL and its parameters: a condition on the entity's table, or (``select=True``) a
    whole ``SELECT`` of the keys of the matching rows.

    ``dialect``: ``sqlite`` (parameters ``?``), ``postgresql`` (psycopg's ``%s``), or another registered
    dialect (:func:`~skillfilter.backends.sql.dialect.dialect_names`).
    ``schema``: a :class:`Schema` or a built-in schema's name (default ``skillengine``); ``entity``: the
    filtered entity (default: the schema's default entity, else ``employees``).  ``mapping``: a
    :class:`SchemaMapping`, or a dict of overrides of the default one (see ``docs/sql.md``).  ``alias``: the
    name the condition uses for the entity's table (default: the table's name).  The cap on logical
    operators is off unless ``max_logical_operators`` is given.  ``layout="nested"`` (DuckDB only): over one
    row per record with lists of structs (:mod:`skillfilter.backends.duckdb_nested`).

    Raises :class:`~skillfilter.errors.FilterSyntaxError` or
    :class:`~skillfilter.errors.FilterValidationError` for a bad filter, and another
    :class:`~skillfilter.errors.FilterError` (also a :class:`ValueError`) for a bad dialect or mapping.

    >>> sql, params = to_sql("external_id__startswith='1' or active=true", dialect="postgresql")
    >>> print(sql)
    ("employees"."external_id" COLLATE "C" LIKE %s ESCAPE E'\\\\' OR "employees"."active" = %s)
    >>> params
    ['1%', True]
    """
    from ...plan.planner import compile_plan
    from ...semantics.validate import check
    from .dialect import dialect as get_dialect

    if layout != "tables":
        return _nested(expr, dialect, layout, schema, entity)
    d = get_dialect(dialect)
    m = resolve_mapping(mapping, schema, entity)
    if max_logical_operators is not None:  # checked once, with the cap
        expr = check(expr, m.entity, schema=m.schema, max_logical_operators=max_logical_operators)
        plan, _ = compile_plan(expr, schema=m.schema, entity=m.entity, checked=True)
    else:
        plan, _ = compile_plan(expr, schema=m.schema, entity=m.entity)
    root = m.root
    root_ref = d.ident(alias if alias is not None else root.table)
    frag = compile_condition(plan, dialect=d, mapping=m, root_ref=root_ref)
    if not select:
        # A condition that is an OR at its top is parenthesised, so that `... AND <condition>` in the
        # caller's own query means what it says.
        return frag.text("and"), list(frag.params)
    table = d.ident(root.table) + (f" AS {root_ref}" if alias is not None else "")
    where = "" if frag.const is True else f" WHERE {frag.sql}"
    return f"SELECT {root_ref}.{d.ident(root.key)} FROM {table}{where}", list(frag.params)


def _nested(
    expr: Expr | str, name: str, layout: str, schema: Any, entity: str | None
) -> tuple[str, list[Any]]:
    from .dialect import DialectError

    if layout != "nested":
        raise DialectError(f"unknown layout {layout!r}: `tables` (the default) or `nested` (DuckDB)")
    if name != "duckdb":  # the one engine with a nested layout (a module of its own)
        raise DialectError(f"layout='nested' is DuckDB's (dialect='duckdb'), not {name}'s")
    import importlib

    try:
        nested = importlib.import_module("skillfilter.backends.duckdb_nested")
    except ModuleNotFoundError as exc:  # pragma: no cover - shipped with the package
        raise DialectError("layout='nested' is not available in this installation") from exc
    result: tuple[str, list[Any]] = nested.to_sql_nested(expr, schema=schema, entity=entity)
    return result
