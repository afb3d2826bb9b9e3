"""The playground's server: its JSON API against the library and the CLI, its limits, and the command.

The browser side is tests/test_playground_browser.py.  Expected values come from the library's own entry
points (validate, to_text, to_sql, split) and from `skillfilter filter` run as a command, never from the
playground itself.
"""

from __future__ import annotations

import http.client
import json
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import skillfilter
from skillfilter.cli.records import read_sources
from skillfilter.playground import Workbench, make_server
from skillfilter.playground.server import MAX_BODY
from skillfilter.semantics.schema import Schema

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "examples" / "sample_export.jsonl"

HOSTILE_ID = "'; DROP TABLE employees; --"
SCRIPT = "<script>document.body.dataset.pwned='1'</script>"
IMG = "<img src=x onerror=\"document.body.dataset.pwned='2'\">"


def _cluster(name: str, skills: list[str], level: int = 2) -> dict[str, Any]:
    return {
        "skill_cluster_id": f"id-{name}", "skill_cluster_name": name, "domain_name": "Ünïcode ✓ Straße – Ελληνικά",
        "proficiency_level": level, "validation_state": "suggested",
        "current_skills": [{"name": s, "skill_id": f"s-{s}", "validation_state": "validated",
                            "skill_sources": ["learning"]} for s in skills],
        "related_skills": [], "rejected_skills": [], "sources": ["learning"],
    }


def write_hostile_records(path: Path) -> Path:
    """A small export with a hostile record (SQL, markup and non-ASCII in its strings)."""
    records = [
        {"external_id": HOSTILE_ID, "skill_clusters": [_cluster(SCRIPT, [IMG, "Python"], 4)]},
        {"external_id": "2-Ærøskøbing 🚀", "skill_clusters": [_cluster("Programming", ["Python", "Java"], 3)]},
        {"external_id": "3", "skill_clusters": [_cluster("Sales", ["Negotiation"], 1)]},
        {"external_id": "4\\\"%_", "skill_clusters": []},
    ]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


class Client:
    def __init__(self, port: int) -> None:
        self.port = port

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            res = conn.getresponse()
            return res.status, {k.lower(): v for k, v in res.getheaders()}, res.read()
        finally:
            conn.close()

    def post(self, path: str, data: Any) -> tuple[int, Any]:
        status, _, body = self.request("POST", path, json.dumps(data).encode(),
                                       {"Content-Type": "application/json"})
        return status, json.loads(body)


def _serve(bench: Workbench) -> Iterator[Client]:
    server = make_server(bench, 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Client(server.port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


@pytest.fixture(scope="module")
def hostile_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_hostile_records(tmp_path_factory.mktemp("play") / "hostile.jsonl")


@pytest.fixture(scope="module")
def client(hostile_file: Path) -> Iterator[Client]:
    schema = Schema.builtin("export")
    bench = Workbench(schema, "employees", list(read_sources([hostile_file])), schema_name="export")
    yield from _serve(bench)


@pytest.fixture(scope="module")
def sample_client() -> Iterator[Client]:
    bench = Workbench(Schema.builtin("export"), "employees", list(read_sources([SAMPLE])), schema_name="export")
    yield from _serve(bench)


def cli_count(filter_text: str, path: Path) -> int:
    """The number of records `skillfilter filter` writes for ``filter_text`` on ``path``."""
    result = subprocess.run([sys.executable, "-m", "skillfilter", "filter", "--schema", "export", filter_text,
                             str(path)], capture_output=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return len(result.stdout.splitlines())


# --------------------------------------------------------------------------------------------------
def test_binds_to_loopback_only() -> None:
    server = make_server(Workbench(Schema.builtin("export"), "employees", []), 0)
    try:
        assert server.server_address[0] == "127.0.0.1"
        assert server.port > 0
        assert server.url == f"http://127.0.0.1:{server.port}/"
    finally:
        server.server_close()


def test_page_and_static_files(client: Client) -> None:
    status, headers, body = client.request("GET", "/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b'<script src="/static/app.js"' in body
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp
    assert headers["x-content-type-options"] == "nosniff"
    for name, kind in (("app.js", "text/javascript"), ("style.css", "text/css")):
        status, headers, body = client.request("GET", f"/static/{name}")
        assert status == 200 and headers["content-type"].startswith(kind) and body
    # The page never puts data in as markup.
    js = (ROOT / "src/skillfilter/playground/static/app.js").read_text()
    assert "innerHTML" not in js and "insertAdjacentHTML" not in js and "document.write" not in js
    for path in ("/static/../server.py", "/static/analyze.py", "/nothing", "/static/"):
        assert client.request("GET", path)[0] == 404


def test_refuses_other_hosts(client: Client) -> None:
    status, _, _ = client.request("GET", "/", headers={"Host": "evil.example:80"})
    assert status == 403
    status, _, _ = client.request("POST", "/api/analyze", json.dumps({"text": "a=1"}).encode(),
                                  {"Content-Type": "application/json", "Host": "attacker.test"})
    assert status == 403


def test_request_checks(client: Client) -> None:
    body = json.dumps({"text": "external_id='1'"}).encode()
    assert client.request("POST", "/api/analyze", body, {"Content-Type": "text/plain"})[0] == 415
    assert client.request("POST", "/api/analyze", body, {"Content-Type": "application/x-www-form-urlencoded"})[0] == 415
    big = json.dumps({"text": "x" * (MAX_BODY + 10)}).encode()
    assert client.request("POST", "/api/analyze", big, {"Content-Type": "application/json"})[0] == 413
    long_text = json.dumps({"text": "a" * 30_000}).encode()
    assert client.request("POST", "/api/analyze", long_text, {"Content-Type": "application/json"})[0] == 413
    assert client.request("POST", "/api/analyze", b"{nope", {"Content-Type": "application/json"})[0] == 400
    assert client.post("/api/analyze", ["external_id='1'"])[0] == 400
    assert client.post("/api/analyze", {"text": 1})[0] == 400
    assert client.post("/api/complete", {"text": "a", "cursor": "1"})[0] == 400
    assert client.post("/api/nothing", {"text": "a"})[0] == 404


def test_misspelt_field_gives_sf201_with_did_you_mean(client: Client) -> None:
    text = "external_id='1' and skill_clusterz__name='Python'"
    status, data = client.post("/api/analyze", {"text": text})
    assert status == 200
    expected = skillfilter.validate(text, "employees", schema="export", max_logical_operators=None)
    got = [(d["code"], d["start"], d["end"], d["message"], d["hint"]) for d in data["diagnostics"]]
    assert got == [(d.code, d.start, d.end, d.message, d.hint) for d in expected]
    (d,) = data["diagnostics"]
    assert d["code"] == "SF201" and text[d["start"]:d["end"]] == "skill_clusterz"
    assert "did you mean `skill_clusters`" in d["hint"]
    assert data["parts"][0]["valid"] is False and "records" not in data["parts"][0]


def test_valid_filter_outputs_match_the_library_and_the_cli(client: Client, hostile_file: Path) -> None:
    text = "skill_clusters__current_skills__name='Python' and skill_clusters__proficiency_level__gte=3"
    status, data = client.post("/api/analyze", {"text": text, "entity": "employees"})
    assert status == 200 and data["diagnostics"] == []
    (part,) = data["parts"]
    expr = skillfilter.parse(text)
    assert part["canonical"] == skillfilter.to_text(expr)
    assert part["pretty"] == skillfilter.to_text(expr, pretty=True)
    assert json.loads(part["json"]) == skillfilter.to_json(expr)
    assert part["logical_operators"] == {"count": 1, "cap": 5, "over": False}
    for entry in part["sql"]:
        sql, params = skillfilter.to_sql(text, dialect=entry["dialect"], schema="export", entity="employees")
        assert entry["sql"] == sql and json.loads(entry["params"]) == params
    records = part["records"]
    assert records["count"] == cli_count(text, hostile_file) == 2
    assert records["total"] == 4
    shown = [json.loads(r) for r in records["shown"]]
    assert shown[0]["external_id"] == HOSTILE_ID  # data comes back as JSON text, to be shown as text


def test_matches_count_equals_the_cli_on_the_sample(sample_client: Client) -> None:
    for text in ("skill_clusters__sources='learning'",
                 "not skill_clusters__domain_name='Finance' and external_id__startswith='a'"):
        status, data = sample_client.post("/api/analyze", {"text": text})
        assert status == 200 and data["diagnostics"] == []
        records = data["parts"][0]["records"]
        assert records["count"] == cli_count(text, SAMPLE)
        assert len(records["shown"]) == min(10, records["count"])


def test_over_the_cap_shows_the_split(client: Client) -> None:
    ids = [str(i) for i in range(8)]
    text = " or ".join(f"external_id='{i}'" for i in ids)
    status, data = client.post("/api/analyze", {"text": text})
    assert status == 200 and data["diagnostics"] == []
    (part,) = data["parts"]
    assert part["logical_operators"] == {"count": 7, "cap": 5, "over": True}
    pieces = skillfilter.split(text, schema="export", entity="employees")
    assert part["split"]["requests"] == [skillfilter.to_query_string({"employees": p}) for p in pieces]
    assert len(part["split"]["requests"]) >= 2


def test_query_string_places_diagnostics_in_the_whole_text(client: Client) -> None:
    text = "$employees=external_id='1'&$skill_clusters=domain_nam='Sales'"
    status, data = client.post("/api/analyze", {"text": text})
    assert status == 200
    (d,) = data["diagnostics"]
    assert d["code"] == "SF201" and d["entity"] == "skill_clusters"
    assert text[d["start"]:d["end"]] == "domain_nam"
    assert [p["entity"] for p in data["parts"]] == ["employees", "skill_clusters"]
    assert "records" in data["parts"][0] and "records" not in data["parts"][1]


def test_completion(client: Client) -> None:
    text = "external_id='1' and skill_cl"
    status, data = client.post("/api/complete", {"text": text, "cursor": len(text)})
    assert status == 200
    expected = skillfilter.complete(text, len(text), schema="export", entity="employees")
    assert [(c["label"], c["insert"], c["start"], c["end"]) for c in data["completions"]] == \
        [(c.label, c.insert, c.start, c.end) for c in expected]
    assert any(c["insert"] == "skill_clusters__" for c in data["completions"])
    # In a query string: the filter the cursor is in, placed in the whole text.
    qs = "$employees=external_id='1'&$skill_clusters=doma"
    status, data = client.post("/api/complete", {"text": qs, "cursor": len(qs)})
    assert status == 200
    labels = {c["label"] for c in data["completions"]}
    assert "domain_name" in labels
    c = next(c for c in data["completions"] if c["label"] == "domain_name")
    assert qs[c["start"]:c["end"]] == "doma"


def test_unknown_entity_is_a_diagnostic(client: Client) -> None:
    status, data = client.post("/api/analyze", {"text": "a=1", "entity": "nope"})
    assert status == 200 and data["diagnostics"][0]["code"] == "SF200"
    assert client.post("/api/complete", {"text": "a", "entity": "nope"}) == (200, {"completions": []})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.lists(st.sampled_from([*"ab_ =<>'\"()\\$&?%\u00e9\U0001f680\n", "and ", "or ", "not ",
                                      "external_id", "skill_clusters__", "__gte", "null"]),
                    max_size=20).map("".join),
       cursor=st.integers(-5, 60))
def test_any_text_gets_an_answer(client: Client, text: str, cursor: int) -> None:
    status, data = client.post("/api/analyze", {"text": text})
    assert status == 200
    assert isinstance(data["diagnostics"], list)
    for d in data["diagnostics"]:
        assert 0 <= d["start"] <= d["end"] <= max(len(text), d["start"])
        assert re.fullmatch(r"SF\d{3}", d["code"])
    status, comp = client.post("/api/complete", {"text": text, "cursor": cursor})
    assert status == 200 and isinstance(comp["completions"], list)


# --------------------------------------------------------------------------------------------------
def test_command_prints_its_address_and_serves(hostile_file: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "skillfilter", "playground", "--records", str(hostile_file),
                             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        assert "4 records" in line
        status, data = Client(int(match.group(1))).post("/api/analyze", {"text": "external_id='3'"})
        assert status == 200 and data["parts"][0]["records"]["count"] == 1
        proc.send_signal(signal.SIGINT)  # Ctrl-C: a quiet stop
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0 and "Traceback" not in err
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)


@pytest.mark.parametrize(("args", "message"), [
    (["--entity", "nope"], "unknown entity"),
    (["--records", "/nonexistent/file.jsonl"], "no such file"),
    (["--schema", "/nonexistent/schema.json"], ""),
    (["--port", "70000"], "--port"),
])
def test_command_usage_errors(args: list[str], message: str) -> None:
    result = subprocess.run([sys.executable, "-m", "skillfilter", "playground", *args], capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert result.stderr.startswith("skillfilter playground: ") and message in result.stderr
