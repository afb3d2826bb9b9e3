"""The playground's server side of one page update, on the bundled sample export (2,500 employees).

Times :meth:`Workbench.analyze` (diagnostics, canonical and pretty forms, JSON form, split when over the cap,
SQL for each dialect, and the matches over every loaded record) for each filter below, with the caches
emptied before every call (each update a filter never seen before), and :meth:`Workbench.complete`; then the
same analysis through HTTP on 127.0.0.1 (one request, JSON in and out).  Best and median of ``--rounds``.

    PYTHONPATH=src python benchmarks/bench_playground.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import threading
import time
from pathlib import Path

from skillfilter.cli.records import read_sources
from skillfilter.playground import Workbench, make_server
from skillfilter.semantics.schema import Schema

ROOT = Path(__file__).resolve().parents[1]

FILTERS = [
    ("flat", "external_id__startswith='1'"),
    ("misspelt field (diagnostic)", "external_id='1' and skill_clusterz__name='x'"),
    ("nested scope", "skill_clusters__current_skills__name='Python' and skill_clusters__proficiency_level__gte=3"),
    ("not", "not skill_clusters__domain_name='Finance'"),
    ("over the cap (split)", " or ".join(f"external_id__startswith='{i}'" for i in range(8))),
    ("query string", "$employees=skill_clusters__sources='learning'&$skill_clusters=domain_name='Sales'"),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=20)
    args = ap.parse_args()
    records = list(read_sources([ROOT / "examples" / "sample_export.jsonl"]))
    bench = Workbench(Schema.builtin("export"), "employees", records, schema_name="export")
    for _, text in FILTERS:  # warm up imports and the parser's tables
        bench.analyze(text)
    print(f"{len(records)} records; best / median of {args.rounds} rounds, caches emptied before each call\n")
    print("| filter | analyze (ms) | complete at the end (ms) | over HTTP (ms) |")
    print("|---|---:|---:|---:|")
    server = make_server(bench, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for name, text in FILTERS:
            direct, comp, http_times = [], [], []
            for _ in range(args.rounds):
                bench._answers.clear()
                bench._predicates.clear()
                t0 = time.perf_counter()
                bench.analyze(text)
                direct.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                bench.complete(text, len(text))
                comp.append(time.perf_counter() - t0)
                bench._answers.clear()
                bench._predicates.clear()
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                t0 = time.perf_counter()
                conn.request("POST", "/api/analyze", json.dumps({"text": text}),
                             {"Content-Type": "application/json"})
                json.loads(conn.getresponse().read())
                http_times.append(time.perf_counter() - t0)
                conn.close()

            def fmt(xs: list[float]) -> str:
                return f"{min(xs) * 1000:.1f} / {statistics.median(xs) * 1000:.1f}"

            print(f"| {name} | {fmt(direct)} | {fmt(comp)} | {fmt(http_times)} |")
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
