#!/usr/bin/env python3
"""Write the bundled synthetic skill-cluster export: ``examples/sample_export.jsonl``, ``sample_pages.json``.

The records have the shape of the SkillEngine export endpoint (``POST /export/employees/skill_clusters``):
an employee's ``external_id`` and ``skill_clusters`` with current, related and rejected skills -- nothing
else, as the endpoint's documentation shows its records (no custom properties: filter on those through the
API's ``$employees=`` parameter, not over an export).  The data is synthetic and deterministic (seeded):
running the script again gives the same bytes, which a test checks.

It deliberately holds what breaks careless filters: nulls, empty lists, missing keys, non-ASCII names
(é, ß, Ω, CJK, emoji) and hostile strings (quotes, backslashes, ``%`` and ``_``, the words and/or/not,
SQL comment markers).

Usage::

    python scripts/make_sample_data.py                 # writes into examples/
    python scripts/make_sample_data.py --out DIR       # elsewhere
    python scripts/make_sample_data.py --employees 200000 --jsonl-only --out /tmp/big   # a large export
"""

from __future__ import annotations

import argparse
import json
import random
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SEED = 20240521
EMPLOYEES = 2500
PAGE_SIZE = 100
PAGES = 3

SOURCES = ["working_history", "education_history", "resume_document", "learning", "self_assessment"]
VALIDATION_STATES = ["validated", "suggested", "rejected"]

#: (cluster name, domain, skills); names are fixed so that a filter on them finds something.
CATALOGUE: list[tuple[str, str | None, list[str]]] = [
    ("DevOps", "Computer Science", ["Git", "Jenkins", "Kubernetes", "Helm", "Docker", "Terraform"]),
    ("Programming Languages", "Computer Science",
     ["Python", "Java", "Django", "Spring Framework", "Rust", "C++", "C#", "TypeScript"]),
    ("Financial accounting", "Finance", ["Balance Sheet", "IFRS", "Bookkeeping", "Cost accounting"]),
    ("Data Science", "Computer Science", ["Pandas", "SQL", "Machine Learning", "Statistics", "数据分析"]),
    ("Gestión de proyectos", "Management", ["Scrum", "Kanban", "Planificación", "Risk management"]),
    ("Straßenbau", "Engineering", ["Asphaltierung", "Vermessung", "Baustellenführung"]),
    ("Ωmega Physics", "Science", ["Quantum mechanics", "Ω-analysis", "Thermodynamics"]),
    ("プロジェクト管理", "Management", ["進捗管理", "品質管理", "予算管理"]),
    ("Customer Success 🚀", "Sales", ["Onboarding 🚀", "Churn analysis", "Negotiation"]),
    ("Languages", "Communication",
     ["Deutsch", "Français", "Español", "Nederlands", "日本語", "Communication écrite"]),
    # Hostile strings: quotes, backslashes, LIKE wildcards, logical words, SQL comment markers.
    ("R&D and/or QA", "Research and Development",
     ["O'Reilly publishing", 'The "Quoted" skill', "C:\\Tools\\bin", "100% growth", "snake_case_naming",
      "not applicable", "and", "or", "not"]),
    ("SQL -- comments /* and */ more", None,
     ["'; DROP TABLE employees; --", "/* block */", "back\\slash \\' quote", "%_%", "NULL", "null"]),
]

#: Human-looking ids among the UUIDs (and a tricky one).
SPECIAL_IDS = ["1", "12", "123", "2", "21", "Zoë O'Brien \"ZOB\"", "emp_100%", "emp\\001"]


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


class Generator:
    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        ids = random.Random(seed + 1)
        self.cluster_ids = {name: _uuid(ids) for name, _, _ in CATALOGUE}
        self.skill_ids = {skill: _uuid(ids) for _, _, skills in CATALOGUE for skill in skills}

    def skill(self, name: str) -> dict[str, Any]:
        rng = self.rng
        skill: dict[str, Any] = {
            "name": name,
            "skill_id": self.skill_ids[name],
            "validation_state": rng.choice(VALIDATION_STATES),
            "skill_sources": rng.sample(SOURCES, rng.randint(0, 2)),
        }
        roll = rng.random()
        if roll < 0.03:
            skill["validation_state"] = None
        elif roll < 0.05:
            del skill["validation_state"]
        elif roll < 0.07:
            del skill["skill_sources"]
        return skill

    def cluster(self) -> dict[str, Any]:
        rng = self.rng
        name, domain, skills = rng.choice(CATALOGUE)
        chosen = rng.sample(skills, min(len(skills), rng.randint(0, 4)))
        n_current = rng.randint(0, len(chosen))
        cluster: dict[str, Any] = {
            "skill_cluster_id": self.cluster_ids[name],
            "skill_cluster_name": name,
            "domain_name": domain,
            "proficiency_level": rng.randint(1, 5),
            "validation_state": rng.choice(["validated", "suggested"]),
            "current_skills": [self.skill(s) for s in chosen[:n_current]],
            "related_skills": [self.skill(s) for s in chosen[n_current:]],
            "rejected_skills": [],
            "sources": rng.sample(SOURCES, rng.randint(0, 3)),
        }
        if rng.random() < 0.15:
            cluster["rejected_skills"] = [self.skill(rng.choice(skills))]
        roll = rng.random()
        if roll < 0.20:
            del cluster["validation_state"]  # as in the API's own example
        elif roll < 0.23:
            cluster["validation_state"] = None
        roll = rng.random()
        if roll < 0.04:
            cluster["proficiency_level"] = None
        elif roll < 0.06:
            del cluster["proficiency_level"]
        if rng.random() < 0.05:
            del cluster["related_skills"]
        if rng.random() < 0.3:
            del cluster["rejected_skills"]
        if rng.random() < 0.03:
            cluster["sources"] = None
        return cluster

    def employee(self, index: int) -> dict[str, Any]:
        rng = self.rng
        external_id = SPECIAL_IDS[index // 300] if index % 300 == 7 and index // 300 < len(SPECIAL_IDS) \
            else _uuid(rng)
        record: dict[str, Any] = {"external_id": external_id}
        roll = rng.random()
        if roll < 0.04:
            pass  # no skill_clusters key at all
        elif roll < 0.10:
            record["skill_clusters"] = []
        else:
            record["skill_clusters"] = [self.cluster() for _ in range(rng.randint(1, 3))]
        return record

    def employees(self, count: int) -> Iterator[dict[str, Any]]:
        for index in range(count):
            yield self.employee(index)


def dumps(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"))


def write_jsonl(path: Path, records: Iterator[dict[str, Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for record in records:
            out.write(dumps(record) + "\n")
            count += 1
    return count


def write_pages(path: Path, records: list[dict[str, Any]], page_size: int) -> int:
    """Pages as a client following ``has_next`` saves them: one pretty-printed response after another."""
    pages = [records[i : i + page_size] for i in range(0, len(records), page_size)]
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for number, page in enumerate(pages):
            has_next = number < len(pages) - 1
            response = {
                "has_next": has_next,
                "records": page,
                "next_starting_after": page[-1]["external_id"] if has_next else None,
            }
            out.write(json.dumps(response, ensure_ascii=False, indent=2) + "\n")
    return len(pages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "examples")
    parser.add_argument("--employees", type=int, default=EMPLOYEES)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--jsonl-only", action="store_true", help="write only sample_export.jsonl")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    count = write_jsonl(args.out / "sample_export.jsonl", Generator(args.seed).employees(args.employees))
    print(f"wrote {count} records to {args.out / 'sample_export.jsonl'}")
    if not args.jsonl_only:
        # The pages hold other employees than the JSON Lines file (a second export run, seeded apart).
        page_records = list(Generator(args.seed + 2).employees(PAGE_SIZE * PAGES - PAGE_SIZE // 2))
        pages = write_pages(args.out / "sample_pages.json", page_records, PAGE_SIZE)
        print(f"wrote {pages} pages ({len(page_records)} records) to {args.out / 'sample_pages.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
