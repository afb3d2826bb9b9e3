"""Write ``src/skillfilter/semantics/builtin_data.py`` from ``src/skillfilter/data/*.schema.json``.

    python scripts/make_builtin_data.py

The JSON files are the schemas as documented (``docs/schema.md``); the module holds the same data, so that
reading a built-in schema (``skillfilter lint`` does at every start) needs neither the ``json`` module nor a
file.  It holds it as data, not code: the decoded JSON in :mod:`marshal`'s format (version 2, which every
Python reads), as one bytes literal.  Python compiles a bytes literal almost for free, where the same data
as dictionary literals cost the command line 0.7 ms at every start without cached bytecode; ``marshal`` is
built into the interpreter.  ``tests/test_schema.py`` fails when the module and the files differ: run this
after an edit.
"""

from __future__ import annotations

import json
import marshal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "src" / "skillfilter" / "data"
TARGET = ROOT / "src" / "skillfilter" / "semantics" / "builtin_data.py"
NAMES = ("skillengine", "export")


def render() -> str:
    schemas = {name: json.loads((DATA / f"{name}.schema.json").read_text(encoding="utf-8")) for name in NAMES}
    blob = marshal.dumps(schemas, 2)
    lines = []
    start = 0
    while start < len(blob):  # bytes literals of at most 100 characters each
        end = start + 1
        while end < len(blob) and len(repr(blob[start:end + 1])) <= 100:
            end += 1
        lines.append(f"    {blob[start:end]!r}\n")
        start = end
    return (
        '"""The built-in schemas as data: written by ``scripts/make_builtin_data.py`` from\n'
        '``skillfilter/data/*.schema.json``: edit those, then run it (``tests/test_schema.py`` checks that\n'
        "both agree).  The JSON files decoded, in marshal's format (see the script for why).\"\"\"\n"
        "\n"
        "from __future__ import annotations\n"
        "\n"
        "import marshal\n"
        "from typing import Any\n"
        "\n"
        "SCHEMAS: dict[str, Any] = marshal.loads(  # noqa: S302 - our own data, written by the script\n"
        + "".join(lines)
        + ")\n"
    )


def main() -> None:
    TARGET.write_text(render(), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
