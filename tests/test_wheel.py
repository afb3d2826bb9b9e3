"""The wheel: built with ``python -m build``, installed into a fresh virtual environment, it carries
``grammar.lark`` and parses filters; ``skillfilter fmt`` works there.  One test (it takes some seconds);
it runs in CI like every other test."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None, input: str | None = None,
         check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, cwd=cwd, env=env, input=input, capture_output=True, text=True, timeout=600,
                            check=False)
    if check:
        assert result.returncode == 0, f"{cmd} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    return result


def _lark_into(links: Path, site_packages: Path, cwd: Path) -> None:
    """Put lark where the venv's pip finds it: download it, or else copy the one installed here."""
    version = importlib.metadata.version("lark")
    got = _run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", f"lark=={version}", "-d", str(links)],
               cwd=cwd, check=False)
    if got.returncode == 0 and list(links.glob("lark-*.whl")):
        return
    dist = importlib.metadata.distribution("lark")  # offline: lark is pure Python, copy it
    source = Path(str(dist.locate_file("lark")))
    shutil.copytree(source, site_packages / "lark")
    shutil.copytree(Path(str(dist._path)), site_packages / Path(str(dist._path)).name)  # type: ignore[attr-defined]


def test_wheel_in_a_fresh_venv(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)], cwd=tmp_path)
    (wheel,) = dist.glob("skillfilter-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert "skillfilter/grammar.lark" in names
        assert "skillfilter/py.typed" in names
        assert "skillfilter/data/filter-json.schema.json" in names  # the JSON form's schema (docs/authoring.md)
        assert zf.read("skillfilter/grammar.lark") == (ROOT / "grammar.lark").read_bytes()
        metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
        assert "Requires-Dist: lark" in zf.read(metadata).decode()
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        assert "skillfilter = skillfilter.cli:main" in zf.read(entry_points).decode()

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=tmp_path)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / "python"
    site_packages = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                              cwd=tmp_path).stdout.strip())
    links = tmp_path / "links"
    links.mkdir()
    _lark_into(links, site_packages, tmp_path)
    _run([str(python), "-m", "pip", "install", "--quiet", "--no-index", "--find-links", str(links),
          "--find-links", str(dist), "skillfilter"], cwd=tmp_path)

    # Run away from the checkout, with a fresh table cache: the grammar must come from the wheel.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["SKILLFILTER_CACHE_DIR"] = str(tmp_path / "cache")
    check = (
        "import importlib.resources, pathlib, skillfilter\n"
        "from skillfilter.language.parser import grammar_text\n"
        "here = pathlib.Path(skillfilter.__file__).resolve()\n"
        f"assert str(here).startswith(str(pathlib.Path(r'{venv}').resolve())), here\n"
        "packaged = importlib.resources.files('skillfilter').joinpath('grammar.lark')\n"
        "assert packaged.is_file() and grammar_text() == packaged.read_text(encoding='utf-8')\n"
        "e = skillfilter.parse(\"(a = 1 or b__icontains='x') and not cp_l=null\")\n"
        "print(skillfilter.to_text(e))\n"
        "print(skillfilter.parse_query_string(skillfilter.to_query_string({'employees': e}))['employees'] == e)\n"
    )
    result = _run([str(python), "-c", check], cwd=tmp_path, env=env)
    assert result.stdout.splitlines() == ["(a=1 or b__icontains='x') and not cp_l=null", "True"]

    fmt = _run([str(bindir / "skillfilter"), "fmt", "a = 1  and b='x'"], cwd=tmp_path, env=env)
    assert fmt.stdout == "a=1 and b='x'\n"
    bad = _run([str(bindir / "skillfilter"), "fmt", "a=1 AND b=2"], cwd=tmp_path, env=env, check=False)
    assert bad.returncode == 1 and "keywords are lowercase" in bad.stderr and "Traceback" not in bad.stderr
    module = _run([str(python), "-m", "skillfilter", "fmt", "--pretty"], cwd=tmp_path, env=env, input="not (a=1)\n")
    assert module.stdout == "not a=1\n"
    # The built-in schemas ship as data files: lint and typed predicates work from the wheel alone.
    lint = _run([str(bindir / "skillfilter"), "lint", "--entity", "employees", "externl_id='1'"], cwd=tmp_path,
                env=env, check=False)
    assert lint.returncode == 1 and "did you mean `external_id`?" in lint.stdout
    typed = _run([str(python), "-c", "import skillfilter as sf; print(sf.predicate("
                  "\"skill_clusters__proficiency_level__gte=3\", schema='export', entity='employees')("
                  "{'skill_clusters': [{'proficiency_level': 4}]}))"], cwd=tmp_path, env=env)
    assert typed.stdout == "True\n"
    schema = _run([str(python), "-c", "from skillfilter.authoring.jsonform import json_schema; "
                   "print(json_schema()['title'])"], cwd=tmp_path, env=env)
    assert "JSON form" in schema.stdout
    # The playground's page ships in the wheel (no build step, nothing fetched) and is read from it.
    with zipfile.ZipFile(wheel) as zf:
        for name in ("index.html", "app.js", "style.css"):
            packaged = zf.read(f"skillfilter/playground/static/{name}")
            assert packaged == (ROOT / "src/skillfilter/playground/static" / name).read_bytes()
    page = _run([str(python), "-c", "from skillfilter.playground.server import _static; "
                 "print(b'/static/app.js' in _static('index.html'), len(_static('app.js')) > 1000)"],
                cwd=tmp_path, env=env)
    assert page.stdout == "True True\n"
