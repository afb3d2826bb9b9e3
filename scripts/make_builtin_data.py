"""Write ``src/skillfilter/semantics/builtin_data.py`` from ``src/skillfilter/data/*.schema.json``.

    python scripts/make_builtin_data.py

The JSON files are the schemas as documented (``docs/schema.md``); the module holds the same data as Python
literals, so that reading a built-in schema (``skillfilter lint`` does at every start) needs neither the
``json`` module nor a file.  ``tests/test_schema.py`` fails when the two differ: run this after an edit.
"""

from __future__ import annotations

import json
import pprint
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "src" / "skillfilter" / "data"
TARGET = ROOT / "src" / "skillfilter" / "semantics" / "builtin_data.py"
NAMES = ("skillengine", "export")


def render() -> str:
    schemas = {name: json.loads((DATA / f"{name}.schema.json").read_text(encoding="utf-8")) for name in NAMES}
    body = pprint.pformat(schemas, width=105, sort_dicts=False)
    return (
        '"""The built-in schemas as Python data: written by ``scripts/make_builtin_data.py`` from\n'
        '``skillfilter/data/*.schema.json``: edit those, then run it (``tests/test_schema.py`` checks that\n'
        'both agree)."""\n'
        "\n"
        "from __future__ import annotations\n"
        "\n"
        "from typing import Any\n"
        "\n"
        f"SCHEMAS: dict[str, Any] = {body}\n"
    )


def main() -> None:
    TARGET.write_text(render(), encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
