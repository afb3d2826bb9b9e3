"""Parse time of skillfilter against peer filter-language parsers, in one run; and process start-up time.

    python benchmarks/bench_parse.py [--repeat N] [--no-startup]

Three filters, each written in every peer's language with the same structure (same comparisons, same
and/or/not nesting):

- small: 1 comparison;
- medium: 5 logical operators (the API's cap): ``(a or b) and not c and d and e``;
- long: 30 comparisons in 15 parenthesised pairs, some negated.

Peers: pygeofilter (OGC ECQL, lark LALR), luqum (Lucene, PLY), scim2-filter-parser (SCIM, SLY),
odata-query (OData $filter, SLY).  Each parser object is built once, outside the timing; the figure is
the best of ``--repeat`` rounds (per parse, microseconds; each round times every parser in turn, so a
busy moment of a shared machine does not fall on one parser only), and the ratio is to the fastest peer
on the same filter.  The goal (issue 2): the medium filter in at most half the time of the fastest
peer.

skillfilter rows:

- ``skillfilter``: ``skillfilter.parse`` as shipped;
- ``skillfilter, cold lookups``: the memo of field-name splits cleared before every parse;
- ``lark parser, same builders``: lark's own LALR parser (basic lexer, builders as its inline
  transformer), i.e. what the driver replaces.  No parse results are cached anywhere: every round parses.

Start-up: a whole ``skillfilter fmt`` process against ``python -c pass``, best wall time and median CPU time
(user + system) of ``--runs`` interleaved runs, with the parse-table cache warm and cold.  Subprocesses get bytecode caching in a temporary directory (as an
installed package has its .pyc files) even where PYTHONDONTWRITEBYTECODE is set.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass

# --------------------------------------------------------------------------------------------------
# the filters, as one structure rendered in each language
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cmp:
    field: str
    kind: str  # eq, gte, startswith, contains
    value: str | int
    negate: bool = False


Node = object  # Cmp | tuple[str, list[Node]]  ("and"/"or", operands)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


class Render:
    """One language: how to write a comparison, a negation and the two connectives."""

    and_: str
    or_: str

    def cmp(self, c: Cmp) -> str:
        raise NotImplementedError

    def neg(self, text: str) -> str:
        raise NotImplementedError

    def node(self, node: Node, top: bool = True) -> str:
        if isinstance(node, Cmp):
            text = self.cmp(node)
            return self.neg(text) if node.negate else text
        kind, operands = node  # type: ignore[misc]
        sep = f" {self.and_ if kind == 'and' else self.or_} "
        text = sep.join(self.node(o, top=False) for o in operands)
        return text if top or kind == "and" else f"({text})"


class SkillFilter(Render):
    and_, or_ = "and", "or"

    def cmp(self, c: Cmp) -> str:
        value = repr(c.value) if isinstance(c.value, str) else str(c.value)
        op = {"eq": "", "gte": "__gte", "startswith": "__startswith", "contains": "__icontains"}[c.kind]
        return f"{c.field}{op}={value}"

    def neg(self, text: str) -> str:
        return f"not {text}"


class ECQL(Render):
    and_, or_ = "AND", "OR"

    def cmp(self, c: Cmp) -> str:
        if c.kind == "eq":
            return f"{c.field} = '{c.value}'" if isinstance(c.value, str) else f"{c.field} = {c.value}"
        if c.kind == "gte":
            return f"{c.field} >= {c.value}"
        if c.kind == "startswith":
            return f"{c.field} LIKE '{c.value}%'"
        return f"{c.field} ILIKE '%{c.value}%'"

    def neg(self, text: str) -> str:
        return f"NOT {text}"


class Lucene(Render):
    and_, or_ = "AND", "OR"

    def cmp(self, c: Cmp) -> str:
        if c.kind == "eq":
            return f"{c.field}:{c.value}"
        if c.kind == "gte":
            return f"{c.field}:[{c.value} TO *]"
        if c.kind == "startswith":
            return f"{c.field}:{c.value}*"
        return f"{c.field}:*{c.value}*"

    def neg(self, text: str) -> str:
        return f"NOT {text}"


class SCIM(Render):
    and_, or_ = "and", "or"

    def cmp(self, c: Cmp) -> str:
        field = _camel(c.field)
        value = f'"{c.value}"' if isinstance(c.value, str) else str(c.value)
        op = {"eq": "eq", "gte": "ge", "startswith": "sw", "contains": "co"}[c.kind]
        return f"{field} {op} {value}"

    def neg(self, text: str) -> str:
        return f"not ({text})"


class OData(Render):
    and_, or_ = "and", "or"

    def cmp(self, c: Cmp) -> str:
        value = f"'{c.value}'" if isinstance(c.value, str) else str(c.value)
        if c.kind == "eq":
            return f"{c.field} eq {value}"
        if c.kind == "gte":
            return f"{c.field} ge {value}"
        return f"{c.kind}({c.field},{value})"

    def neg(self, text: str) -> str:
        return f"not ({text})"


SMALL: Node = Cmp("external_id", "eq", "1")
MEDIUM: Node = (
    "and",
    [
        ("or", [Cmp("external_id", "startswith", "1"), Cmp("external_id", "startswith", "2")]),
        Cmp("language", "eq", "de", negate=True),
        Cmp("proficiency_level", "gte", 3),
        Cmp("name", "contains", "python"),
    ],
)
_KINDS = ["eq", "gte", "startswith", "contains"]
LONG: Node = (
    "and",
    [
        (
            "or",
            [
                # Numbers have one digit: scim2-filter-parser 0.4 lexes `12` as two numbers.
                Cmp(f"field_{2 * i}", _KINDS[i % 4], i % 10 if _KINDS[i % 4] == "gte" else f"v{i}"),
                Cmp(f"field_{2 * i + 1}", _KINDS[(i + 1) % 4], i % 10 if _KINDS[(i + 1) % 4] == "gte" else f"w{i}",
                    negate=i % 3 == 0),
            ],
        )
        for i in range(15)
    ],
)
FILTERS = {"small": SMALL, "medium": MEDIUM, "long": LONG}


# --------------------------------------------------------------------------------------------------
# the parsers
# --------------------------------------------------------------------------------------------------
def parsers() -> dict[str, tuple[Render, Callable[[str], object]]]:
    import skillfilter
    from skillfilter.language import lookups as sf_lookups
    from skillfilter.language import parser as sf_parser

    def cold(text: str) -> object:
        sf_lookups._LOOKUPS.clear()
        return skillfilter.parse(text)

    def lark_reference(text: str) -> object:
        return sf_parser._parse_reference(text)

    out: dict[str, tuple[Render, Callable[[str], object]]] = {
        "skillfilter": (SkillFilter(), skillfilter.parse),
        "skillfilter, cold lookups": (SkillFilter(), cold),
        "lark parser, same builders": (SkillFilter(), lark_reference),
    }
    try:
        from pygeofilter.parsers.ecql import parse as ecql_parse

        out["pygeofilter (ECQL)"] = (ECQL(), ecql_parse)
    except ImportError:  # pragma: no cover
        print("pygeofilter is not installed", file=sys.stderr)
    try:
        from luqum.parser import parser as luqum_parser

        out["luqum (Lucene)"] = (Lucene(), luqum_parser.parse)
    except ImportError:  # pragma: no cover
        print("luqum is not installed", file=sys.stderr)
    try:
        from scim2_filter_parser.lexer import SCIMLexer
        from scim2_filter_parser.parser import SCIMParser

        scim_lexer, scim_parser = SCIMLexer(), SCIMParser()
        out["scim2-filter-parser"] = (SCIM(), lambda text: scim_parser.parse(scim_lexer.tokenize(text)))
    except ImportError:  # pragma: no cover
        print("scim2-filter-parser is not installed", file=sys.stderr)
    try:
        from odata_query.grammar import ODataLexer, ODataParser

        odata_lexer, odata_parser = ODataLexer(), ODataParser()
        out["odata-query"] = (OData(), lambda text: odata_parser.parse(odata_lexer.tokenize(text)))
    except ImportError:  # pragma: no cover
        print("odata-query is not installed", file=sys.stderr)
    return out


OURS = ("skillfilter", "skillfilter, cold lookups", "lark parser, same builders")


def bench_parse(repeat: int) -> dict[str, dict[str, float]]:
    """Best per-parse time (seconds) of each parser on each filter.

    The rounds are interleaved (each round times every parser once, in turn), so that a slower moment of
    a shared machine does not fall on one parser only; the best round counts.
    """
    cases: list[tuple[str, str, Callable[[], object], int]] = []
    for name, (render, parse) in parsers().items():
        for size, node in FILTERS.items():
            text = render.node(node)
            if parse(text) is None:  # each peer must accept its text
                raise SystemExit(f"{name} could not parse {text!r}")
            call = functools.partial(parse, text)
            number, _ = timeit.Timer(call).autorange()  # about 0.2 s
            cases.append((name, size, call, max(1, number // 10)))
    table: dict[str, dict[str, float]] = {}
    for _ in range(repeat):
        for name, size, call, number in cases:
            seconds = timeit.Timer(call).timeit(number) / number
            row = table.setdefault(name, {})
            row[size] = min(seconds, row.get(size, seconds))
    return table


def print_parse_table(table: dict[str, dict[str, float]]) -> bool:
    import skillfilter

    medium_text = SkillFilter().node(MEDIUM)
    assert skillfilter.parse(medium_text).logical_operator_count() == 5
    assert len(list(skillfilter.parse(SkillFilter().node(LONG)).comparisons())) == 30
    peers = [n for n in table if n not in OURS]
    fastest = {size: min(table[p][size] for p in peers) for size in FILTERS} if peers else {}
    print("Parse time per filter, microseconds (best of the rounds); ratio = time / fastest peer's time")
    header = f"{'parser':30}" + "".join(f"{size:>10} {'ratio':>6}" for size in FILTERS)
    print(header)
    print("-" * len(header))
    for name, row in table.items():
        line = f"{name:30}"
        for size in FILTERS:
            ratio = row[size] / fastest[size] if fastest else float("nan")
            line += f"{row[size] * 1e6:10.1f} {ratio:6.2f}"
        print(line)
    print()
    for size, node in FILTERS.items():
        print(f"{size:7} skillfilter: {SkillFilter().node(node)[:150]}")
    if not fastest:
        return True
    ratio = table["skillfilter"]["medium"] / fastest["medium"]
    met = ratio <= 0.5
    print(f"\ngoal: medium filter in at most half the time of the fastest peer: ratio {ratio:.2f} -> "
          f"{'met' if met else 'NOT met'}"
          f" (cold lookups: {table['skillfilter, cold lookups']['medium'] / fastest['medium']:.2f})")
    return met


# --------------------------------------------------------------------------------------------------
# start-up
# --------------------------------------------------------------------------------------------------
def run_once(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system, of the child) of one whole process, in seconds."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def bench_startup(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pyc")
        warm = {**env, "SKILLFILTER_CACHE_DIR": os.path.join(tmp, "tables")}
        cold = {**env, "SKILLFILTER_CACHE_DIR": ""}
        exe = shutil.which("skillfilter")
        fmt = [exe] if exe else [sys.executable, "-m", "skillfilter"]
        rows = [
            ("python -c pass", [sys.executable, "-c", "pass"], env),
            ("python -c 'import skillfilter'", [sys.executable, "-c", "import skillfilter"], env),
            ("skillfilter fmt (tables cached)", [*fmt, "fmt", "a = 1 and b='x'"], warm),
            ("skillfilter fmt (no table cache)", [*fmt, "fmt", "a = 1 and b='x'"], cold),
        ]
        for _label, cmd, e in rows:
            run_once(cmd, e)  # warm the OS caches and the .pyc files
        best = [float("inf")] * len(rows)
        cpu: list[list[float]] = [[] for _ in rows]
        for _ in range(runs):  # interleaved, as for the parse times
            for i, (_label, cmd, e) in enumerate(rows):
                wall, used = run_once(cmd, e)
                best[i] = min(best[i], wall)
                cpu[i].append(used)
        import statistics

        results = [(label, seconds, statistics.median(used))
                   for (label, _cmd, _e), seconds, used in zip(rows, best, cpu, strict=True)]
    base, base_cpu = results[0][1], results[0][2]
    print(f"\nStart-up, whole process, {runs} runs, milliseconds: best wall time; median CPU time (user + "
          "system: what a busy machine does not inflate)")
    for label, seconds, used in results:
        print(f"{label:36}{seconds * 1e3:8.1f}   (+{(seconds - base) * 1e3:.1f} over python -c pass)"
              f"   CPU {used * 1e3:6.1f} (+{(used - base_cpu) * 1e3:.1f})")


def main() -> int:
    options = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    options.add_argument("--repeat", type=int, default=15, help="interleaved timing rounds (default 15)")
    options.add_argument("--runs", type=int, default=15, help="process runs for start-up (default 15)")
    options.add_argument("--no-startup", action="store_true", help="skip the start-up measurement")
    args = options.parse_args()
    import lark

    print(f"Python {sys.version.split()[0]}, lark {lark.__version__}\n")
    print_parse_table(bench_parse(args.repeat))
    if not args.no_startup:
        bench_startup(args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
