"""Every example in the documentation runs.

- ``>>>`` examples in README.md and docs/*.md run as doctests (each file is one namespace).
- ``console`` blocks: each ``$ command`` line runs in bash from the repository root; the lines after it, up to
  the next ``$`` line, are its expected standard output (exactly, after trimming trailing spaces).
  A command expected to fail is followed by a line ``[exit N]``.
"""

from __future__ import annotations

import doctest
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
_CONSOLE_RE = re.compile(r"^```console\n(.*?)^```", re.S | re.M)


def _ids(paths: list[Path]) -> list[str]:
    return [str(p.relative_to(ROOT)) for p in paths]


@pytest.mark.parametrize("path", DOC_FILES, ids=_ids(DOC_FILES))
def test_doctests(path: Path) -> None:
    result = doctest.testfile(
        str(path),
        module_relative=False,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        encoding="utf-8",
        raise_on_error=False,
        verbose=False,
    )
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {path.name}"


def _modules() -> list[str]:
    import pkgutil

    import skillfilter

    skip = ("skillfilter.__main__", "skillfilter.integrations.django")
    return [m.name for m in pkgutil.walk_packages(skillfilter.__path__, "skillfilter.") if m.name not in skip]


@pytest.mark.parametrize("module", _modules())
def test_module_doctests(module: str) -> None:
    import importlib

    result = doctest.testmod(
        importlib.import_module(module), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples failed in {module}"


def _console_examples() -> list[tuple[str, str, str, int]]:
    out = []
    for path in DOC_FILES:
        text = path.read_text(encoding="utf-8")
        for block in _CONSOLE_RE.findall(text):
            command: str | None = None
            expected: list[str] = []
            status = 0

            def flush() -> None:
                if command is not None:
                    out.append((path.name, command, "\n".join(expected).rstrip(), status))

            for line in block.splitlines():
                if line.startswith("$ "):
                    flush()
                    command, expected, status = line[2:], [], 0
                elif m := re.fullmatch(r"\[exit (\d+)\]", line.strip()):
                    status = int(m.group(1))
                else:
                    expected.append(line.rstrip())
            flush()
    return out


CONSOLE = _console_examples()


@pytest.mark.parametrize(("doc", "command", "expected", "status"), CONSOLE,
                         ids=[f"{d}: {c[:60]}" for d, c, _, _ in CONSOLE])
def test_console_examples(doc: str, command: str, expected: str, status: int) -> None:
    bindir = Path(sys.executable).parent
    env_path = f"{bindir}:{Path('/usr/bin')}:{Path('/bin')}"
    proc = subprocess.run(
        ["bash", "-c", command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={"PATH": env_path, "NO_COLOR": "1", "LC_ALL": "C.UTF-8", "PYTHONIOENCODING": "utf-8"},
    )
    got = "\n".join(line.rstrip() for line in proc.stdout.splitlines()).rstrip()
    assert proc.returncode == status, f"{command!r} exited {proc.returncode}: {proc.stderr}"
    assert got == expected, f"{doc}: output of {command!r} differs"


def test_docs_exist() -> None:
    names = {p.name for p in DOC_FILES}
    for required in ("README.md", "language.md", "semantics.md", "cli.md", "python-api.md", "schema.md",
                     "sql.md", "diagnostics.md"):
        assert required in names, f"docs/{required} is missing"
