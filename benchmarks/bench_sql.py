"""The SQL backend: generation time per filter, and generated SQL against hand-written SQL on PostgreSQL.

1. **Generation.**  Microseconds per :func:`skillfilter.to_sql` call for filters from one comparison to a
   thousand, against the baseline of :func:`skillfilter.check` on the same tree (the validation that
   ``to_sql`` itself starts with), measured in the same run.
2. **Queries.**  100,000 employees in the export schema's shape (about 1.3 million rows in all: skill
   clusters, their sources, current, related and rejected skills, custom properties as JSONB), loaded with
   :func:`skillfilter.backends.sql.load.load_records`; indexes on ``external_id`` (the loader's text columns
   are ``COLLATE "C"``, so a plain btree serves both ``=`` and ``LIKE 'prefix%'``), on the skill-cluster
   name and on the skill name, and the loader's indexes on every link.  For each filter the generated query
   and an equivalent hand-written query (what one would write for this mapping) run interleaved; the figure
   is the median time of each and their ratio (goal: the generated query within 1.2x).  Both answer the
   same keys (checked).  Then ``EXPLAIN`` of the generated SQL for ``exact`` and ``startswith`` on the
   indexed column.

3. **DuckDB planning** (``--duckdb-planning``): the time DuckDB takes to plan (``EXPLAIN``) filters of 50,
   100, 200, 400 comparisons through to-many relations, each under a ``not`` (a subquery each in the plain
   shape), in the plain shape (one ``EXISTS`` per scope; 400 left out: minutes) and in the combined one
   (``Dialect.combine_exists_from``: one subquery per relation prefix), the same run; best of 3 (1 for the
   plain shape past 50), and each size's time over the time at 50.

PostgreSQL: ``--dsn`` (or ``SKILLFILTER_BENCH_DSN``), else a throwaway server is started the way the test
suite starts one (``tests/conftest.py``).  Everything goes into a schema of its own, dropped at the end.

Run: ``python benchmarks/bench_sql.py [--rows 100000] [--rounds 9] [--dsn DSN]``;
``python benchmarks/bench_sql.py --duckdb-planning`` for part 3 alone.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import skillfilter
from skillfilter import And, Comparison, FieldRef, Or
from skillfilter.backends.sql import install_functions, to_sql
from skillfilter.backends.sql.load import create_tables, load_records
from skillfilter.semantics.schema import Schema

# The export schema's employees with the API's (untyped) custom properties, which the export records
# themselves do not have: the benchmark measures custom-property SQL on the same tables.
EXPORT = Schema.builtin("export").extend({"entities": {"employees": {"merge": True, "custom_properties": True}}})
CLUSTERS = ["DevOps", "Programming Languages", "Financial accounting", "Data Science", "Cloud", "Security",
            "Design", "Sales", "Marketing", "Law"] + [f"Cluster {i}" for i in range(40)]
SKILLS = ["Git", "Jenkins", "Kubernetes", "Python", "Java", "Helm", "Django", "SQL", "Excel", "IFRS"] + \
    [f"Skill {i}" for i in range(490)]
SOURCES = ["working_history", "resume_document", "education_history", "learning"]
STATES = ["validated", "suggested", "rejected"]
LANGUAGES = ["de", "en", "fr", "nl"]


# --------------------------------------------------------------------------------------------------
# 1. generation
# --------------------------------------------------------------------------------------------------
GEN_FILTERS = {
    "1 comparison": "external_id='emp-000042'",
    "startswith or not cp": "external_id__startswith='emp-0001' or not cp_language='de'",
    "one cluster, two conditions": "skill_clusters__skill_cluster_name='DevOps' and skill_clusters__proficiency_level__gte=3",
    "nested not": "not skill_clusters__current_skills__name='Java'",
    "export tutorial (3 comparisons)": "skill_clusters__proficiency_level__gte=3 and skill_clusters__current_skills__name='Python' and skill_clusters__current_skills__validation_state='validated'",
}


def _big(n: int, rng: random.Random) -> Any:
    fields = [("external_id",), ("skill_clusters", "skill_cluster_name"), ("skill_clusters", "current_skills", "name"),
              ("skill_clusters", "sources")]
    ops = ["exact", "startswith", "icontains", "gt"]
    leaves = [Comparison(FieldRef(rng.choice(fields)), rng.choice(ops), f"v{rng.randrange(1000)}") for _ in range(n)]
    return And.of(*(Or.of(*leaves[i:i + 4]) for i in range(0, n, 4)))


def bench_generation(rounds: int) -> None:
    rng = random.Random(1)
    cases: dict[str, Any] = {name: skillfilter.parse(text) for name, text in GEN_FILTERS.items()}
    cases["100 comparisons"] = _big(100, rng)
    cases["1000 comparisons"] = _big(1000, rng)
    print("SQL generation (to_sql, microseconds per filter; baseline: check() of the same tree)")
    print(f"  {'filter':34} {'check':>10} {'sqlite':>10} {'postgresql':>11} {'ratio pg/check':>15}")
    for name, expr in cases.items():
        number = max(1, 2000 // max(1, sum(1 for _ in expr.comparisons())))

        def timed(fn: Any, number: int = number) -> float:
            best = float("inf")
            for _ in range(rounds):
                start = time.perf_counter()
                for _ in range(number):
                    fn()
                best = min(best, (time.perf_counter() - start) / number)
            return best * 1e6

        base = timed(lambda e=expr: skillfilter.check(e, "employees", schema=EXPORT, max_logical_operators=None))
        lite = timed(lambda e=expr: to_sql(e, dialect="sqlite", schema=EXPORT))
        pg = timed(lambda e=expr: to_sql(e, dialect="postgresql", schema=EXPORT))
        print(f"  {name:34} {base:10.1f} {lite:10.1f} {pg:11.1f} {pg / base:15.2f}")


# --------------------------------------------------------------------------------------------------
# 2. queries on PostgreSQL
# --------------------------------------------------------------------------------------------------
def records(n: int) -> list[dict[str, Any]]:
    rng = random.Random(20240131)
    out = []

    def skills(k: int) -> list[dict[str, Any]]:
        return [{"name": rng.choice(SKILLS), "skill_id": f"s{rng.randrange(10**6)}",
                 "validation_state": rng.choice(STATES),
                 "skill_sources": rng.sample(SOURCES, rng.randint(0, 2))} for _ in range(k)]

    for i in range(n):
        clusters = []
        for _ in range(rng.choice([0, 1, 1, 2, 2, 3, 4])):
            clusters.append({
                "skill_cluster_id": f"c{rng.randrange(10**6)}", "skill_cluster_name": rng.choice(CLUSTERS),
                "domain_name": rng.choice(["Computer Science", "Finance", None]),
                "proficiency_level": rng.randint(1, 5), "validation_state": rng.choice(STATES),
                "sources": rng.sample(SOURCES, rng.randint(0, 2)),
                "current_skills": skills(rng.randint(0, 3)), "related_skills": skills(rng.randint(0, 1)),
                "rejected_skills": skills(rng.choice([0, 0, 1])),
            })
        props: dict[str, Any] = {"language": rng.choice(LANGUAGES), "level": rng.randint(1, 9)}
        odd = rng.random()
        if odd < 0.04:  # a few lists (the elements are the values of an untyped property) ...
            props["language"] = rng.sample(LANGUAGES, rng.randint(0, 2))
        elif odd < 0.06:  # ... values of another kind (never equal to a literal of a different kind) ...
            props["language"], props["level"] = 1, str(rng.randint(1, 9))
        elif odd < 0.08:
            props["level"] = [rng.randint(1, 9), rng.randint(1, 9)]
        elif odd < 0.09:  # ... and missing ones
            del props["language"]
        out.append({"external_id": f"emp-{i:06d}", "skill_clusters": clusters, "custom_properties": props})
    return out


# The hand-written twin of each generated query: what a competent engineer would write by hand for the
# loader's tables and for exactly the filter's semantics (LANGUAGE.md section 3), with the values inline.
# Each pair is checked to select the same keys before it is timed.
#
# Custom properties in the export schema are untyped: a value may be a list (whose elements are then the
# values) and of any kind, and only a value of the literal's kind compares.  So `cp_language='de'` is "the
# string de, or a list holding it": `-> 'language' @> '"de"'` says exactly that (a JSON array contains a
# scalar it holds; a scalar contains only itself; a number never contains a string).  The common shortcut
# `->> 'language' = 'de'` is not equivalent for an untyped property (it misses lists and reads the number 1
# as the text '1').  With the property declared `text` (TYPED below) a list or another kind never compares,
# and `->> 'language' = 'de'` is then exact for this value (no number, boolean, array or object reads as
# 'de'), so that is the hand-written query there.
E, C, S = '"employees"', '"employees__skill_clusters"', '"employees__skill_clusters__current_skills"'
#: The export schema with the custom properties' types declared (neither is a list).
TYPED = EXPORT.extend({"entities": {"employees": {"merge": True, "custom_properties": {
    "definitions": {"language": "text", "level": "number"}}}}})
LEVEL_UNTYPED = (  # some value or element of a list that is a number >= 7
    "CASE jsonb_typeof(e.custom_properties -> 'level') "
    "WHEN 'number' THEN (e.custom_properties ->> 'level')::numeric >= 7 "
    "WHEN 'array' THEN EXISTS (SELECT 1 FROM jsonb_array_elements(e.custom_properties -> 'level') AS x(v) "
    "WHERE jsonb_typeof(x.v) = 'number' AND (x.v #>> '{}')::numeric >= 7) ELSE false END")
QUERIES: list[tuple[str, str, Schema, str]] = [
    ("exact on an indexed column", "external_id='emp-004242'", EXPORT,
     f"SELECT e.id FROM {E} e WHERE e.external_id = 'emp-004242'"),
    ("startswith on an indexed column", "external_id__startswith='emp-0042'", EXPORT,
     f"SELECT e.id FROM {E} e WHERE e.external_id LIKE 'emp-0042%'"),
    ("one cluster with both conditions",
     "skill_clusters__skill_cluster_name='DevOps' and skill_clusters__proficiency_level__gte=4", EXPORT,
     f"SELECT e.id FROM {E} e WHERE EXISTS (SELECT 1 FROM {C} c WHERE c.parent_id = e.id "
     "AND c.skill_cluster_name = 'DevOps' AND c.proficiency_level >= 4)"),
    ("no Java skill at all (nested not)", "not skill_clusters__current_skills__name='Java'", EXPORT,
     f"SELECT e.id FROM {E} e WHERE NOT EXISTS (SELECT 1 FROM {C} c JOIN {S} s ON s.parent_id = c.id "
     "WHERE c.parent_id = e.id AND s.name = 'Java')"),
    ("export tutorial: validated Python in a cluster >= 3",
     "skill_clusters__proficiency_level__gte=3 and skill_clusters__current_skills__name='Python' "
     "and skill_clusters__current_skills__validation_state='validated'", EXPORT,
     f"SELECT e.id FROM {E} e WHERE EXISTS (SELECT 1 FROM {C} c JOIN {S} s ON s.parent_id = c.id "
     "WHERE c.parent_id = e.id AND c.proficiency_level >= 3 AND s.name = 'Python' "
     "AND s.validation_state = 'validated')"),
    ("cp_language='de' (untyped)", "cp_language='de'", EXPORT,
     f"""SELECT e.id FROM {E} e WHERE e.custom_properties -> 'language' @> '"de"'"""),
    ("startswith or not cp_language='de' (untyped)", "external_id__startswith='emp-00' or not cp_language='de'",
     EXPORT,
     f"""SELECT e.id FROM {E} e WHERE e.external_id LIKE 'emp-00%' """
     """OR (e.custom_properties -> 'language' @> '"de"') IS NOT TRUE"""),
    ("cp_level__gte=7 (untyped)", "cp_level__gte=7", EXPORT, f"SELECT e.id FROM {E} e WHERE {LEVEL_UNTYPED}"),
    ("cp_language='de' (typed text)", "cp_language='de'", TYPED,
     f"SELECT e.id FROM {E} e WHERE e.custom_properties ->> 'language' = 'de'"),
    ("startswith or not cp_language='de' (typed text)",
     "external_id__startswith='emp-00' or not cp_language='de'", TYPED,
     f"SELECT e.id FROM {E} e WHERE e.external_id LIKE 'emp-00%' "
     "OR (e.custom_properties ->> 'language') IS DISTINCT FROM 'de'"),
    ("cp_level__gte=7 (typed number)", "cp_level__gte=7", TYPED,
     f"SELECT e.id FROM {E} e WHERE jsonb_typeof(e.custom_properties -> 'level') = 'number' "
     "AND (e.custom_properties ->> 'level')::numeric >= 7"),
]
#: With a GIN index on the column, `cp_x=value` is what the index serves: containment.  The mapping says
#: so (`custom_properties_indexed`), and the hand-written query uses it too.
INDEXED = {"": {"custom_properties_indexed": True}}
GIN_QUERIES: list[tuple[str, str, Schema, str]] = [
    ("cp_language='de' (untyped)", "cp_language='de'", EXPORT,
     f"""SELECT e.id FROM {E} e WHERE e.custom_properties @> '{{"language": "de"}}' """
     """OR e.custom_properties @> '{"language": ["de"]}'"""),
    ("cp_language='nl' or cp_language='fr' (untyped)", "cp_language='nl' or cp_language='fr'", EXPORT,
     f"""SELECT e.id FROM {E} e WHERE e.custom_properties @> '{{"language": "nl"}}' """
     """OR e.custom_properties @> '{"language": ["nl"]}' OR e.custom_properties @> '{"language": "fr"}' """
     """OR e.custom_properties @> '{"language": ["fr"]}'"""),
    ("cp_language='de' (typed text)", "cp_language='de'", TYPED,
     f"""SELECT e.id FROM {E} e WHERE e.custom_properties @> '{{"language": "de"}}'"""),
]
#: Custom properties as rows (owner_id, name, value) of a table of their own (``PropertyTable``), loaded into
#: a second schema: the hand-written query looks the property's rows up by owner and name.
AS_TABLE = {"": {"custom_properties": {"table": "employee_properties"}}}
P = '"employee_properties"'
TABLE_QUERIES: list[tuple[str, str, Schema, str]] = [
    ("cp_language='de' (untyped)", "cp_language='de'", EXPORT,
     f"""SELECT e.id FROM {E} e WHERE EXISTS (SELECT 1 FROM {P} p WHERE p.owner_id = e.id """
     """AND p.name = 'language' AND p.value = '"de"')"""),
    ("not cp_language='de' (untyped)", "not cp_language='de'", EXPORT,
     f"""SELECT e.id FROM {E} e WHERE NOT EXISTS (SELECT 1 FROM {P} p WHERE p.owner_id = e.id """
     """AND p.name = 'language' AND p.value = '"de"')"""),
    ("cp_level__gte=7 (untyped)", "cp_level__gte=7", EXPORT,
     f"SELECT e.id FROM {E} e WHERE EXISTS (SELECT 1 FROM {P} p WHERE p.owner_id = e.id "
     "AND p.name = 'level' AND CASE WHEN jsonb_typeof(p.value) = 'number' THEN p.value::numeric >= 7 END)"),
]


def _start_server() -> tuple[str, Any]:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from conftest import start_postgres  # type: ignore[import-not-found]

    server = start_postgres()
    return server.dsn, server


def _median_ms(conn: Any, sql: str, params: list[Any] | None, rounds: int) -> tuple[float, list[Any]]:
    times = []
    rows: list[Any] = []
    for _ in range(rounds):
        start = time.perf_counter()
        rows = conn.execute(sql, params).fetchall()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, rows


def _compare(conn: Any, queries: list[tuple[str, str, Schema, str]], rounds: int,
             mapping: dict[str, Any] | None, data: list[dict[str, Any]], keys: list[Any]) -> list[float]:
    """Each generated query against its hand-written twin: both select the keys of the records
    ``predicate()`` selects (asserted first), then the median times of interleaved runs and their ratio."""
    print(f"  {'filter':52} {'generated ms':>13} {'hand ms':>9} {'ratio':>7} {'rows':>7}")
    ratios = []
    for name, text, schema, hand_sql in queries:
        sql, params = to_sql(text, dialect="postgresql", schema=schema, mapping=mapping, select=True)
        gen_keys = {r[0] for r in conn.execute(sql, params).fetchall()}
        hand_keys = {r[0] for r in conn.execute(hand_sql).fetchall()}
        test = skillfilter.predicate(text, schema=schema, entity="employees")
        want = {k for k, r in zip(keys, data, strict=True) if test(r)}
        assert gen_keys == want, f"{name}: the generated query selects other records than predicate()"
        assert hand_keys == want, f"{name}: the hand-written query is not equivalent"
        conn.execute(sql, params).fetchall()  # warm up both (caches)
        conn.execute(hand_sql).fetchall()
        gen_times, hand_times = [], []
        for _ in range(rounds):  # interleaved
            gen_times.append(_median_ms(conn, sql, params, 1)[0])
            hand_times.append(_median_ms(conn, hand_sql, None, 1)[0])  # no parameters: `%` as is
        g, h = statistics.median(gen_times), statistics.median(hand_times)
        ratios.append(g / h)
        print(f"  {name:52} {g:13.2f} {h:9.2f} {g / h:7.2f} {len(gen_keys):7,}")
    return ratios


def bench_queries(dsn: str, n: int, rounds: int) -> None:
    import psycopg

    conn = psycopg.connect(dsn, autocommit=True)
    conn.prepare_threshold = None  # plan each run with its parameters, the same for both sides
    schema_name = "sf_bench_" + uuid.uuid4().hex[:8]
    conn.execute(f'CREATE SCHEMA "{schema_name}"')
    conn.execute(f'SET search_path TO "{schema_name}"')
    try:
        install_functions(conn)
        create_tables(conn, EXPORT, "employees")
        start = time.perf_counter()
        data = records(n)
        made = time.perf_counter() - start
        start = time.perf_counter()
        keys = load_records(conn, data, EXPORT, "employees")
        loaded = time.perf_counter() - start
        conn.execute(f"CREATE INDEX ON {E} (external_id)")
        conn.execute(f"CREATE INDEX ON {C} (skill_cluster_name)")
        conn.execute(f"CREATE INDEX ON {S} (name)")
        conn.execute("ANALYZE")
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for (t,) in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1").fetchall()}
        version = conn.execute("SHOW server_version").fetchone()[0]
        print(f"\nPostgreSQL {version}: {sum(counts.values()):,} rows ({n:,} employees), made in {made:.1f}s, "
              f"loaded with COPY in {loaded:.1f}s")
        ratios = _compare(conn, QUERIES, rounds, None, data, keys)
        print(f"  geometric mean of the ratios: {statistics.geometric_mean(ratios):.2f} "
              f"(max {max(ratios):.2f}; goal: within 1.2)")
        conn.execute(f"CREATE INDEX ON {E} USING gin (custom_properties jsonb_path_ops)")
        conn.execute("ANALYZE")
        print("  with a GIN index (jsonb_path_ops) on custom_properties, the mapping saying so:")
        _compare(conn, GIN_QUERIES, rounds, INDEXED, data, keys)
        for text in ("external_id='emp-004242'", "external_id__startswith='emp-0042'"):
            sql, params = to_sql(text, dialect="postgresql", schema=EXPORT, select=True)
            plan = [r[0] for r in conn.execute("EXPLAIN " + sql, params).fetchall()]
            print(f"\nEXPLAIN {text}\n  " + "\n  ".join(plan))
        sql, params = to_sql("cp_language='de'", dialect="postgresql", schema=EXPORT, mapping=INDEXED,
                             select=True)
        plan = [r[0] for r in conn.execute("EXPLAIN " + sql, params).fetchall()]
        print("\nEXPLAIN cp_language='de' (custom_properties_indexed, GIN index)\n  " + "\n  ".join(plan))
        conn.execute(f'CREATE SCHEMA "{schema_name}_t"')
        conn.execute(f'SET search_path TO "{schema_name}_t", "{schema_name}"')  # the function stays visible
        create_tables(conn, EXPORT, "employees", AS_TABLE)
        start = time.perf_counter()
        keys = load_records(conn, data, EXPORT, "employees", AS_TABLE)
        loaded = time.perf_counter() - start
        conn.execute("ANALYZE")
        rows = conn.execute(f"SELECT count(*) FROM {P}").fetchone()[0]
        print(f"\ncustom properties as a table of (owner_id, name, value) rows ({rows:,} rows; loaded in "
              f"{loaded:.1f}s; index on owner_id):")
        _compare(conn, TABLE_QUERIES, rounds, AS_TABLE, data, keys)
    finally:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema_name}_t" CASCADE')
        conn.execute(f'DROP SCHEMA "{schema_name}" CASCADE')
        conn.close()


def bench_duckdb_planning() -> None:
    import duckdb

    from skillfilter.backends.sql.duckdb import DuckDB

    conn = duckdb.connect()
    create_tables(conn, "export", "employees", dialect="duckdb")

    def text(n: int) -> str:  # a third of them two levels down
        return " and ".join(f"not skill_clusters__skill_cluster_name='c{i}'" if i % 3
                            else f"not skill_clusters__current_skills__name='s{i}'" for i in range(n))

    def plan_time(n: int, limit: int, rounds: int) -> float:
        DuckDB.combine_exists_from = limit
        sql, params = to_sql(text(n), schema="export", dialect="duckdb", select=True)
        best = float("inf")
        for _ in range(rounds):
            start = time.perf_counter()
            conn.execute("EXPLAIN " + sql, params).fetchall()
            best = min(best, time.perf_counter() - start)
        return best

    default = DuckDB.combine_exists_from
    print(f"\nDuckDB planning (duckdb {duckdb.__version__}), load average {os.getloadavg()[0]:.1f}")
    print(f"{'comparisons':>12} {'plain s':>9} {'x of 50':>8} {'combined s':>11} {'x of 50':>8}")
    base: dict[str, float] = {}
    try:
        for n in (50, 100, 200, 400):
            plain = plan_time(n, 0, 3 if n == 50 else 1) if n <= 200 else float("nan")
            combined = plan_time(n, default, 3)
            base.setdefault("plain", plain)
            base.setdefault("combined", combined)
            print(f"{n:>12} {plain:9.3f} {plain / base['plain']:8.1f} {combined:11.3f} "
                  f"{combined / base['combined']:8.1f}")
    finally:
        DuckDB.combine_exists_from = default


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="employees to load (default 100,000)")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--dsn", default=os.environ.get("SKILLFILTER_BENCH_DSN"))
    parser.add_argument("--no-postgres", action="store_true", help="generation only")
    parser.add_argument("--duckdb-planning", action="store_true", help="DuckDB's planning time alone")
    args = parser.parse_args()
    if args.duckdb_planning:
        bench_duckdb_planning()
        return
    bench_generation(max(3, args.rounds // 2))
    if args.no_postgres:
        return
    server = None
    dsn = args.dsn
    if dsn is None:
        dsn, server = _start_server()
    try:
        bench_queries(dsn, args.rows, args.rounds)
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
