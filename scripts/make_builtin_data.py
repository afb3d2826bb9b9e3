"""Write ``src/skillfilter/semantics/builtin_data.py`` from ``src/skillfilter/data/*.schema.json``.

    python scripts/make_builtin_data.py

The JSON files are the schemas as documented (``docs/schema.md``).  This script reads each with the
checking reader (``Schema.from_dict``) and writes the schema it gives as plain tuples, the arguments of the
model's constructors (:func:`encode`), so that building a built-in schema (``skillfilter lint`` does at every
start) needs neither the ``json`` module, nor a file, nor the checks (``semantics.builtin.decode``).
It writes them as data, not code: in :mod:`marshal`'s format (version 2, which every Python reads), as one
bytes literal.  Python compiles a bytes literal almost for free, where the same data as literals of
dictionaries cost the command line about a millisecond at every start without cached bytecode; ``marshal``
is built into the interpreter.  ``tests/test_schema.py`` fails when the module and the files differ: run this
after an edit.
"""

from __future__ import annotations

import json
import marshal
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from skillfilter.semantics.model import Schema  # noqa: E402
from skillfilter.semantics.operators import Operator  # noqa: E402

DATA = ROOT / "src" / "skillfilter" / "data"
TARGET = ROOT / "src" / "skillfilter" / "semantics" / "builtin_data.py"
NAMES = ("skillengine", "export")


def _operators(table: Any) -> list[Any]:
    ops: list[Operator] = list(table.values())
    return [(o.name, str(o.kind), o.case_insensitive, sorted(map(str, o.kinds)), o.description) for o in ops]


def encode(schema: Schema) -> tuple[Any, ...]:
    """``schema`` as plain data (tuples, lists, dicts, str, bool, None); ``builtin.decode`` builds it back."""
    entities = []
    for e in schema.entities.values():
        cp = e.custom_properties
        entities.append((
            e.name,
            e.description,
            [(f.name, str(f.type), f.nullable, None if f.operators is None else sorted(f.operators),
              f.description) for f in e.fields.values()],
            [(r.name, r.target, r.many, r.description) for r in e.relations.values()],
            None if cp is None else (cp.strict, {k: str(v) for k, v in cp.definitions.items()}),
            _operators(e.operators),
            [(str(t), sorted(names)) for t, names in e.type_operators.items()],
        ))
    return (schema.name, schema.description, schema.default_entity, _operators(schema.operators), entities)


def render() -> str:
    schemas = {}
    for name in NAMES:
        data = json.loads((DATA / f"{name}.schema.json").read_text(encoding="utf-8"))
        schemas[name] = encode(Schema.from_dict(data, source=f"built-in schema {name}"))
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
        "both agree).  Each schema as the arguments of the model's constructors, in marshal's format\n"
        '(see the script for why)."""\n'
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
