"""``skillfilter playground``: a local page to write a filter and see it checked, formatted, translated and
run.

Usage::

    skillfilter playground [--schema FILE|NAME] [--entity E] [--records FILE] [--port N]

Serves the page on 127.0.0.1 (never another address) and prints its address; ``--port 0`` (the default)
picks a free port.  Default: the built-in ``export`` schema, its default entity (``employees``) and the
bundled sample export (``examples/sample_export.jsonl`` in a checkout).  The records are read once, at start
(JSON array, JSON Lines or export pages).  Ctrl-C stops it.

Exit status: 0 stopped, 2 a usage error (bad schema, unknown entity, unreadable records, a port in use).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ._common import UsageError, load_schema

if TYPE_CHECKING:
    import argparse

#: The bundled sample export, in a checkout (``--records`` names another file).
SAMPLE = Path(__file__).resolve().parents[4] / "examples" / "sample_export.jsonl"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--schema", "-s", default="export", metavar="FILE",
                   help="schema file (JSON), or a built-in schema: export (default), skillengine")
    p.add_argument("--entity", "-e", default=None,
                   help="the entity of the filter and of the records (default: the schema's default entity)")
    p.add_argument("--records", "-r", default=None, metavar="FILE",
                   help="records to filter (default: the bundled sample export; `none` for no records)")
    p.add_argument("--port", "-p", type=int, default=0, metavar="N", help="port on 127.0.0.1 (0: a free one)")


def _records(spec: str | None) -> tuple[list[object], str]:
    from ..records import RecordError, read_sources

    if spec is None:
        if not SAMPLE.is_file():
            return [], ""
        spec = str(SAMPLE)
    if spec == "none":
        return [], ""
    if not Path(spec).is_file():
        raise UsageError(f"--records: no such file: {spec}")
    try:
        return list(read_sources([spec])), spec
    except (RecordError, OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--records: {exc}") from None


def run(args: argparse.Namespace, *, stdin: TextIO, stdout: TextIO, stderr: TextIO) -> int:
    from ...playground import Workbench, make_server

    try:
        schema = load_schema(args.schema)
        entity = args.entity or schema.implied_entity()
        if entity is None or entity not in schema.entities:
            raise UsageError(f"which entity? pass --entity ({', '.join(sorted(schema.entities))})"
                             if entity is None else f"unknown entity `{entity}`")
        if not 0 <= args.port <= 65535:
            raise UsageError("--port is 0 to 65535")
        records, source = _records(args.records)
        bench = Workbench(schema, entity, records, source=source, schema_name=args.schema)
        try:
            server = make_server(bench, args.port)
        except OSError as exc:
            raise UsageError(f"cannot listen on 127.0.0.1:{args.port}: {exc.strerror or exc}") from None
    except UsageError as exc:
        stderr.write(f"skillfilter playground: {exc}\n")
        return 2
    stdout.write(f"skillfilter playground: {server.url} ({len(records)} records, entity {entity}); "
                 "Ctrl-C stops it\n")
    stdout.flush()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
