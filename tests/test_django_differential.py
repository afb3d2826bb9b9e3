"""Differential tests: the in-memory backend against Django's ORM, the engine behind the SkillEngine API.

One schema (to-one ``job``, to-many ``skill_clusters`` with to-many ``current_skills``, custom properties)
is both a skillfilter schema and a set of Django models (``tests/sf_djapp``).  Hypothesis generates data and
filters; the data goes into SQLite and into a real PostgreSQL server; for each filter,
``predicate()``'s records must equal ``Employee.objects.filter(to_q(expr)).distinct()`` on both engines,
whenever Django's own answer does not depend on operand order.

Where Django deviates from LANGUAGE.md the case is named (``DJANGO_DEVIATIONS``), counted, and shown by a
witness test below; ``docs/semantics.md`` explains each one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from reference import Reference
from skillfilter import And, Comparison, CustomProperty, Expr, FieldRef, Not, Or, Transformer, parse
from skillfilter.backends.python import predicate
from skillfilter.semantics.schema import Schema

pytestmark = pytest.mark.postgres

SCHEMA = Schema.from_dict(
    {
        "name": "django-differential",
        "entities": {
            "employees": {
                "fields": {"external_id": "text", "active": "boolean", "level": "integer"},
                "relations": {
                    "job": {"entity": "jobs"},
                    "skill_clusters": {"entity": "skill_clusters", "many": True},
                },
                "custom_properties": {"definitions": {"language": "text", "team": "text"}},
            },
            "jobs": {"fields": {"job_name": "text", "level": "integer"}},
            "skill_clusters": {
                "fields": {"skill_cluster_name": "text", "proficiency_level": "integer"},
                "relations": {"current_skills": {"entity": "skills", "many": True}},
            },
            "skills": {"fields": {"name": "text", "validation_state": "text"}},
        },
    }
)

#: Named deviations of Django from LANGUAGE.md (docs/semantics.md, "Where Django differs").
DJANGO_DEVIATIONS = {
    "D1-operand-order": "Django's answer changes when the operands of and/or are reordered "
    "(negation over a to-many relation next to a positive condition on it).",
    "D2-sqlite-case": "On SQLite Django's contains/startswith/endswith are case-blind for ASCII (LIKE), and "
    "its i* lookups fold ASCII only.",
    "D3-nested-negation": "A negation inside a negation over a to-many relation: Django's subquery for the "
    "inner `not` lacks the NULL guard for the empty relation, so its answer differs from the spec's.",
    "D4-shared-scope-negation": "A `not` over a to-many relation that the enclosing scope also goes through: "
    "LANGUAGE.md refers to the element chosen outside; Django's negation subquery looks at every element.",
    "D5-split-negated-conjunction": "A `not` over an `and` of comparisons through the same to-many prefix: "
    "LANGUAGE.md makes them one element; Django gives each comparison its own EXISTS subquery.",
}
TO_MANY = {("skill_clusters",), ("skill_clusters", "current_skills")}
#: The independent judge (tests/reference.py): enumerates element choices literally from the spec.
REFERENCE = Reference(listy=lambda keys: keys in TO_MANY)

# Strings chosen to break things: case pairs, non-ASCII (é/É, ß/SS, ı/I), LIKE wildcards, quotes,
# backslashes, keywords as values.
POOL = ["", "a", "A", "ab", "Python", "python", "PYTHON", "é", "É", "ß", "SS", "Straße", "x%y", "x_y", "%",
        "_", "'", '"', "\\", "a'b", "and", "or", "not", "null", "日本", "ı", "I"]
TEXT_OPS = ["exact", "iexact", "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith",
            "gt", "gte", "lt", "lte", "is_null"]
NUMBER_OPS = ["exact", "gt", "gte", "lt", "lte", "is_null"]
BOOL_OPS = ["exact", "is_null"]
LIKE_OPS = {"iexact", "contains", "icontains", "startswith", "istartswith", "endswith", "iendswith"}
TARGETS: list[tuple[FieldRef | CustomProperty, str]] = [
    (FieldRef(("external_id",)), "text"),
    (FieldRef(("active",)), "boolean"),
    (FieldRef(("level",)), "integer"),
    (FieldRef(("job", "job_name")), "text"),
    (FieldRef(("job", "level")), "integer"),
    (FieldRef(("skill_clusters", "skill_cluster_name")), "text"),
    (FieldRef(("skill_clusters", "proficiency_level")), "integer"),
    (FieldRef(("skill_clusters", "current_skills", "name")), "text"),
    (FieldRef(("skill_clusters", "current_skills", "validation_state")), "text"),
    (CustomProperty("language"), "text"),
    (CustomProperty("team"), "text"),
]

texts = st.one_of(st.none(), st.sampled_from(POOL))
small_ints = st.one_of(st.none(), st.integers(-1, 4))
skills = st.fixed_dictionaries({"name": texts, "validation_state": st.one_of(st.none(), st.sampled_from(
    ["validated", "suggested", "Validated"]))})
clusters = st.fixed_dictionaries(
    {"skill_cluster_name": texts, "proficiency_level": small_ints, "current_skills": st.lists(skills, max_size=3)}
)
employees = st.fixed_dictionaries(
    {
        "external_id": texts,
        "active": st.one_of(st.none(), st.booleans()),
        "level": small_ints,
        "job": st.one_of(st.none(), st.fixed_dictionaries({"job_name": texts, "level": small_ints})),
        "skill_clusters": st.lists(clusters, max_size=3),
        "custom_properties": st.dictionaries(st.sampled_from(["language", "team"]), st.sampled_from(POOL)),
    }
)


@st.composite
def comparisons(draw: st.DrawFn) -> Comparison:
    target, type_name = draw(st.sampled_from(TARGETS))
    ops = {"text": TEXT_OPS, "integer": NUMBER_OPS, "boolean": BOOL_OPS}[type_name]
    op = draw(st.sampled_from(ops))
    value: Any
    if op == "is_null":
        value = draw(st.booleans())
    elif op == "exact" and draw(st.integers(0, 9)) == 0:
        value = None
    elif type_name == "text":
        value = draw(st.sampled_from(POOL))
    elif type_name == "integer":
        value = draw(st.integers(-1, 4))
    else:
        value = draw(st.booleans())
    return Comparison(target, op, value)


filters = st.recursive(
    comparisons(),
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: And.of(*xs)),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: Or.of(*xs)),
        inner.map(Not),
    ),
    max_leaves=6,
)


class _Reorder(Transformer):
    def __init__(self, mode: str) -> None:
        self.mode = mode

    def _order(self, ops: tuple[Expr, ...]) -> list[Expr]:
        ops_list = [self.visit(o) for o in ops]
        return ops_list[::-1] if self.mode == "reverse" else ops_list[1:] + ops_list[:1]

    def visit_And(self, node: And) -> Expr:
        return And.of(*self._order(node.operands))

    def visit_Or(self, node: Or) -> Expr:
        return Or.of(*self._order(node.operands))


# --------------------------------------------------------------------------------------------------
# Django set-up: both engines, once per session
# --------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def django_aliases(postgres_dsn: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    import django
    from django.conf import settings as dj_settings
    from psycopg.conninfo import conninfo_to_dict

    info = conninfo_to_dict(postgres_dsn)
    if not dj_settings.configured:
        dj_settings.configure(
            DATABASES={
                "default": {
                    "ENGINE": "django.db.backends.sqlite3",
                    "NAME": str(tmp_path_factory.mktemp("django") / "db.sqlite3"),
                },
                "pg": {
                    "ENGINE": "django.db.backends.postgresql",
                    "NAME": info.get("dbname", "postgres"),
                    "USER": info.get("user", ""),
                    "PASSWORD": info.get("password", ""),
                    "HOST": info.get("host", "127.0.0.1"),
                    "PORT": str(info.get("port", "")),
                },
            },
            INSTALLED_APPS=["sf_djapp"],
            USE_TZ=True,
            DEFAULT_AUTO_FIELD="django.db.models.AutoField",
        )
        django.setup()
    from django.db import connections

    from sf_djapp import models as m

    for alias in ("default", "pg"):
        with connections[alias].schema_editor() as editor:
            for model in (m.Job, m.Employee, m.SkillCluster, m.Skill, m.CustomPropertyValue):
                editor.create_model(model)
    yield ["default", "pg"]
    for alias in ("default", "pg"):
        with connections[alias].schema_editor() as editor:
            for model in (m.CustomPropertyValue, m.Skill, m.SkillCluster, m.Employee, m.Job):
                editor.delete_model(model)
        connections[alias].close()


def _load(alias: str, records: list[dict[str, Any]]) -> None:
    from django.db import transaction

    from sf_djapp import models as m

    with transaction.atomic(using=alias):
        for model in (m.CustomPropertyValue, m.Skill, m.SkillCluster, m.Employee, m.Job):
            model.objects.using(alias).all().delete()
        jobs, emps, cls, sks, cps = [], [], [], [], []
        cluster_id = skill_id = 0
        for i, rec in enumerate(records, start=1):
            job_id = None
            if rec["job"] is not None:
                job_id = i
                jobs.append(m.Job(id=i, job_name=rec["job"]["job_name"], level=rec["job"]["level"]))
            emps.append(m.Employee(id=i, external_id=rec["external_id"], active=rec["active"],
                                   level=rec["level"], job_id=job_id))
            for c in rec["skill_clusters"]:
                cluster_id += 1
                cls.append(m.SkillCluster(id=cluster_id, employee_id=i, skill_cluster_name=c["skill_cluster_name"],
                                          proficiency_level=c["proficiency_level"]))
                for s in c["current_skills"]:
                    skill_id += 1
                    sks.append(m.Skill(id=skill_id, cluster_id=cluster_id, name=s["name"],
                                       validation_state=s["validation_state"]))
            for name, value in rec["custom_properties"].items():
                cps.append(m.CustomPropertyValue(employee_id=i, name=name, value=value))
        for model, rows in ((m.Job, jobs), (m.Employee, emps), (m.SkillCluster, cls), (m.Skill, sks),
                            (m.CustomPropertyValue, cps)):
            model.objects.using(alias).bulk_create(rows)


def django_answer(alias: str, expr: Expr) -> set[int]:
    from sf_djapp.models import Employee
    from skillfilter.integrations.django import to_q

    q = to_q(expr, Employee, schema=SCHEMA, entity="employees", max_logical_operators=None,
             custom_properties="custom_property_values")
    return set(Employee.objects.using(alias).filter(q).distinct().values_list("pk", flat=True))


def our_answer(expr: Expr, records: list[dict[str, Any]]) -> set[int]:
    test = predicate(expr, schema=SCHEMA, entity="employees")
    return {i for i, rec in enumerate(records, start=1) if test(rec)}


def _nested_negation(expr: Expr) -> bool:
    """A `not` inside the operand of another `not`, the inner one going through a to-many relation."""
    for node in expr.walk():
        if isinstance(node, Not):
            for inner in node.operand.walk():
                if isinstance(inner, Not) and any(
                    isinstance(c.target, FieldRef) and c.target.path[:1] == ("skill_clusters",)
                    for c in inner.comparisons()
                ):
                    return True
    return False


def _to_many_prefixes(c: Comparison) -> set[tuple[str, ...]]:
    path = c.target.path if isinstance(c.target, FieldRef) else ()
    return {path[: i + 1] for i in range(len(path)) if path[: i + 1] in TO_MANY}


def _shared_scope_negation(expr: Expr) -> bool:
    """A `not` whose operand goes through a to-many prefix that a comparison outside it also uses."""
    every = list(expr.comparisons())
    for node in expr.walk():
        if isinstance(node, Not):
            inside_ids = {id(c) for c in node.comparisons()}
            inside = set().union(*(_to_many_prefixes(c) for c in node.comparisons()))
            outside = set().union(*(_to_many_prefixes(c) for c in every if id(c) not in inside_ids))
            if inside & outside:
                return True
    return False


def _split_negated_conjunction(expr: Expr) -> bool:
    """A `not` whose operand has an `and` two of whose operands hold comparisons through one to-many prefix,
    with no further `not` between the `and` and those comparisons.

    LANGUAGE.md makes such comparisons speak of one element (one scope); in a negated branch Django turns
    every comparison on a to-many relation into an ``EXISTS`` subquery of its own, so each may find a
    different element ("the conditions in a single exclude() call will not necessarily refer to the same
    item").  Under an `or` the split changes nothing (``exists`` distributes over `or`), so only `and` counts.
    """

    def prefixes(node: Expr) -> set[tuple[str, ...]]:  # the to-many prefixes reached without crossing a `not`
        if isinstance(node, Comparison):
            return _to_many_prefixes(node)
        if isinstance(node, (And, Or)):
            return set().union(*(prefixes(o) for o in node.operands))
        return set()

    def split(node: Expr) -> bool:  # an `and` that Django splits, reached without crossing a `not`
        if isinstance(node, And):
            seen: set[tuple[str, ...]] = set()
            for operand in node.operands:
                mine = prefixes(operand)
                if mine & seen:
                    return True
                seen |= mine
        return isinstance(node, (And, Or)) and any(split(o) for o in node.operands)

    return any(isinstance(node, Not) and split(node.operand) for node in expr.walk())


def _uses(expr: Expr, ops: set[str]) -> bool:
    return any(c.op in ops for c in expr.comparisons())


STATS: dict[str, int] = {"compared": 0, **dict.fromkeys(DJANGO_DEVIATIONS, 0)}


@settings(
    max_examples=int(os.environ.get("SF_DJANGO_EXAMPLES", "100")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large],
)
@given(records=st.lists(employees, min_size=1, max_size=6), exprs=st.lists(filters, min_size=15, max_size=15))
# Found by this test (D5): no cluster is both unnamed and named '', but Django sees one of each.
@example(
    records=[{"external_id": None, "active": None, "level": None, "job": None, "custom_properties": {},
              "skill_clusters": [{"skill_cluster_name": name, "proficiency_level": None, "current_skills": []}
                                 for name in (None, "")]}],
    exprs=[parse("not (skill_clusters__skill_cluster_name=null and skill_clusters__skill_cluster_name__iexact='')")],
)
def test_predicate_equals_django(django_aliases: list[str], records: list[dict[str, Any]], exprs: list[Expr]) -> None:
    for alias in django_aliases:
        _load(alias, records)
    mismatches = []
    compared = 0
    for expr in exprs:
        ours = our_answer(expr, records)
        for alias in django_aliases:
            if alias == "default" and _uses(expr, LIKE_OPS):
                STATS["D2-sqlite-case"] += 1
                continue
            theirs = django_answer(alias, expr)
            reordered = [django_answer(alias, _Reorder(mode).visit(expr)) for mode in ("reverse", "rotate")]
            if any(r != theirs for r in reordered):
                STATS["D1-operand-order"] += 1
                continue
            compared += 1
            if ours != theirs:
                spec = {i for i, rec in enumerate(records, start=1) if REFERENCE(expr, rec)}
                if ours == spec and _nested_negation(expr):
                    STATS["D3-nested-negation"] += 1
                    continue
                if ours == spec and _shared_scope_negation(expr):
                    STATS["D4-shared-scope-negation"] += 1
                    continue
                if ours == spec and _split_negated_conjunction(expr):
                    STATS["D5-split-negated-conjunction"] += 1
                    continue
                mismatches.append((alias, str(expr), sorted(ours), sorted(theirs), sorted(spec)))
    STATS["compared"] += compared
    print("django differential:", STATS)
    assert compared > 0
    assert not mismatches, "predicate() and Django disagree:\n" + "\n".join(map(repr, mismatches))


# --------------------------------------------------------------------------------------------------
# Witnesses: each named deviation really happens (and the spec's answer is what predicate() gives)
# --------------------------------------------------------------------------------------------------
def _employee(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"external_id": "e", "active": True, "level": 1, "job": None, "skill_clusters": [],
                            "custom_properties": {}}
    base.update(overrides)
    return base


def test_witness_sqlite_case(django_aliases: list[str]) -> None:
    records = [_employee(external_id="Python"), _employee(external_id="É")]
    for alias in django_aliases:
        _load(alias, records)
    case_sensitive = parse("external_id__contains='python'")
    assert our_answer(case_sensitive, records) == set()
    assert django_answer("pg", case_sensitive) == set()
    assert django_answer("default", case_sensitive) == {1}  # SQLite's LIKE ignores ASCII case
    folded = parse("external_id__iexact='é'")
    assert our_answer(folded, records) == {2}
    assert django_answer("pg", folded) == {2}
    assert django_answer("default", folded) == set()  # ... and knows no case beyond ASCII


def test_witness_operand_order(django_aliases: list[str]) -> None:
    # One cluster named 'a' at level 1 and another named 'b' at level 3.
    records = [
        _employee(skill_clusters=[
            {"skill_cluster_name": "a", "proficiency_level": 1, "current_skills": []},
            {"skill_cluster_name": "b", "proficiency_level": 3, "current_skills": []},
        ])
    ]
    for alias in django_aliases:
        _load(alias, records)
    expr = parse("skill_clusters__skill_cluster_name='a' and not skill_clusters__proficiency_level__gte=3")
    swapped = parse("not skill_clusters__proficiency_level__gte=3 and skill_clusters__skill_cluster_name='a'")
    # LANGUAGE.md: one scope, the same cluster: cluster 'a' has level 1 -> matches, in either order.
    assert our_answer(expr, records) == our_answer(swapped, records) == {1}
    for alias in django_aliases:
        # Positive condition first: Django reuses its join, the same cluster, as LANGUAGE.md says.
        assert django_answer(alias, expr) == {1}, alias
        # Negation first: Django negates with a subquery over *all* clusters ("no cluster at level >= 3").
        assert django_answer(alias, swapped) == set(), alias


def _cluster(name: str | None, level: int | None = None, skills: list[str | None] | None = None) -> dict[str, Any]:
    return {"skill_cluster_name": name, "proficiency_level": level,
            "current_skills": [{"name": s, "validation_state": None} for s in skills or []]}


def test_witness_shared_scope_negation(django_aliases: list[str]) -> None:
    # Cluster 'x' has one skill, 'a'; cluster 'y' has no skills.
    records = [_employee(skill_clusters=[_cluster("x", skills=["a"]), _cluster("y")])]
    for alias in django_aliases:
        _load(alias, records)
    expr = parse("skill_clusters__skill_cluster_name='' or not skill_clusters__current_skills__name=null")
    # LANGUAGE.md: some cluster is named '' or has no skill without a name: cluster 'x' -> match.
    assert our_answer(expr, records) == {1}
    assert {i for i, rec in enumerate(records, start=1) if REFERENCE(expr, rec)} == {1}
    for alias in django_aliases:
        theirs = django_answer(alias, expr)
        reordered = django_answer(alias, _Reorder("reverse").visit(expr))
        # Django, in either order: cluster 'y' (no skills: a NULL name in the join) excludes the employee.
        assert theirs == reordered == set(), (alias, theirs, reordered)


def test_witness_nested_negation(django_aliases: list[str]) -> None:
    # Employee 1 has no clusters; employee 2 has a cluster without skills and one with a skill named ''.
    records = [_employee(), _employee(skill_clusters=[_cluster(None), _cluster(None, skills=[""])])]
    for alias in django_aliases:
        _load(alias, records)
    expr = parse("not (skill_clusters__skill_cluster_name__iexact='' "
                 "or not skill_clusters__current_skills__name=null)")
    spec = {i for i, rec in enumerate(records, start=1) if REFERENCE(expr, rec)}
    assert our_answer(expr, records) == spec == {1}
    assert django_answer("pg", expr) == {1, 2}


def test_witness_split_negated_conjunction(django_aliases: list[str]) -> None:
    # Employee 1: cluster 'a' at level 1 and cluster 'b' at level 3; employee 2: cluster 'a' at level 3;
    # employee 3: no clusters.
    records = [_employee(skill_clusters=[_cluster("a", 1), _cluster("b", 3)]),
               _employee(skill_clusters=[_cluster("a", 3)]), _employee()]
    for alias in django_aliases:
        _load(alias, records)
    expr = parse("not (skill_clusters__skill_cluster_name='a' and skill_clusters__proficiency_level__gte=3)")
    assert _split_negated_conjunction(expr)
    # LANGUAGE.md: no cluster is both 'a' and at level 3 or more: employees 1 and 3.
    spec = {i for i, rec in enumerate(records, start=1) if REFERENCE(expr, rec)}
    assert our_answer(expr, records) == spec == {1, 3}
    for alias in django_aliases:
        # Django: not (some cluster is 'a' and some cluster, maybe another, is at level >= 3), in either order.
        assert django_answer(alias, expr) == django_answer(alias, _Reorder("reverse").visit(expr)) == {3}, alias
    # The same through a nested prefix: a cluster above level 0 and a skill with a validation state, which
    # LANGUAGE.md ties to that cluster.  Employee 1: a cluster at level 1 without skills and a cluster at
    # level 0 with a validated skill; employee 2: both in one cluster.
    records = [
        _employee(skill_clusters=[_cluster(None, 1), {"skill_cluster_name": None, "proficiency_level": 0,
                                                       "current_skills": [{"name": None,
                                                                           "validation_state": "validated"}]}]),
        _employee(skill_clusters=[{"skill_cluster_name": None, "proficiency_level": 1,
                                   "current_skills": [{"name": None, "validation_state": "validated"}]}]),
    ]
    for alias in django_aliases:
        _load(alias, records)
    nested = parse("not (skill_clusters__proficiency_level__gt=0 "
                   "and skill_clusters__current_skills__validation_state__contains='')")
    assert _split_negated_conjunction(nested)
    spec = {i for i, rec in enumerate(records, start=1) if REFERENCE(nested, rec)}
    assert our_answer(nested, records) == spec == {1}
    for alias in django_aliases:
        assert django_answer(alias, nested) == set(), alias
    # Under `or` Django's split changes nothing, and the classifier does not claim it.
    either = parse("not (skill_clusters__proficiency_level__gt=0 "
                   "or skill_clusters__current_skills__validation_state__contains='')")
    assert not _split_negated_conjunction(either)
    assert not _split_negated_conjunction(parse("not (skill_clusters__proficiency_level__gt=0 and level=1)"))
    assert not _split_negated_conjunction(parse("not skill_clusters__proficiency_level__gt=0 "
                                                "and skill_clusters__skill_cluster_name='a'"))
    for alias in django_aliases:
        assert django_answer(alias, either) == our_answer(either, records) == set(), alias
