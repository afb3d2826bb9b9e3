"""``skillfilter export-request FILTER [--limit N] [--starting-after ID] [--include NAME ...]``: the body of
``POST /export/employees/skill_clusters`` for a filter on employees, and the filter left to apply locally.

Prints one JSON object: ``{"body": {...}, "local_filter": "..." | null}``; the local filter is for
``skillfilter filter --schema export`` over the pages the request returns.  Exit status: 0, 1 for a filter
that cannot be divided between the request and a local filter (the reasons on standard error), 2 for a
usage error.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, TextIO

from ...errors import FilterError

if TYPE_CHECKING:
    import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ...authoring.export import INCLUDE

    p.add_argument("filter", metavar="FILTER", help="a filter on employees")
    p.add_argument("--limit", type=int, default=100, help="records per page, 1 to 100 (default 100)")
    p.add_argument("--starting-after", default=None, metavar="ID", help="continue after this external_id")
    p.add_argument("--include", nargs="+", choices=INCLUDE, default=None, metavar="NAME",
                   help="parts of the records to include (default: what the local filter reads); "
                   + ", ".join(INCLUDE))


def run(args: argparse.Namespace, *, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    from ...authoring.export import export_request
    from ...language.printer import to_text

    try:
        request = export_request(args.filter, limit=args.limit, starting_after=args.starting_after,
                                 include=args.include)
    except FilterError as exc:
        stderr.write(f"{exc}\n")
        return 1
    local = to_text(request.local) if request.local is not None else None
    stdout.write(json.dumps({"body": request.body, "local_filter": local}, ensure_ascii=False) + "\n")
    return 0
