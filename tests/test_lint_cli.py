"""``skillfilter lint``: inputs, output formats, colour and exit codes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from skillfilter.cli import main
from skillfilter.semantics.schema import Schema
from skillfilter.semantics.validate import validate

ANSI = "\x1b["


class TTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def run(*argv: str, stdin: str = "", stdout: io.StringIO | None = None) -> tuple[int, str, str]:
    out = stdout if stdout is not None else io.StringIO()
    err = io.StringIO()
    code = main(["lint", *argv], stdin=io.StringIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


# The documented shape (API.md): exactly these keys, with these types.
TOP = {"filter": str, "entity": (str, type(None)), "valid": bool, "diagnostics": list}
DIAG = {
    "code": str,
    "message": str,
    "severity": str,
    "start": int,
    "end": int,
    "line": int,
    "column": int,
    "hint": (str, type(None)),
}


def assert_shape(obj: dict[str, object]) -> None:
    assert list(obj) == list(TOP)
    for key, types in TOP.items():
        assert isinstance(obj[key], types), key
    diags = obj["diagnostics"]
    assert isinstance(diags, list)
    assert obj["valid"] is (not diags)
    for d in diags:
        assert list(d) == list(DIAG)
        for key, types in DIAG.items():
            assert isinstance(d[key], types) and not isinstance(d[key], bool), key
        assert d["severity"] in ("error", "warning")
        assert 0 <= d["start"] <= d["end"] <= len(obj["filter"])  # type: ignore[arg-type]
        text = obj["filter"]
        assert isinstance(text, str)
        before = text[: d["start"]]
        assert d["line"] == before.count("\n") + 1
        assert d["column"] == d["start"] - (before.rfind("\n") + 1) + 1


# --------------------------------------------------------------------------------------------------
def test_valid_filters_exit_0_and_print_nothing() -> None:
    code, out, err = run("--entity", "employees", "external_id='1'", "cp_language='de' or active=true")
    assert (code, out, err) == (0, "", "")


def test_problems_exit_1_with_caret_code_message_hint() -> None:
    text = "externl_id='1' and active='x'"
    code, out, _ = run("-e", "employees", text, "external_id='2'")
    assert code == 1
    assert ANSI not in out
    assert out.splitlines() == [
        text,
        "^" * len("externl_id"),
        "SF201 `externl_id` is not a field or relation of `employees`",
        "  hint: did you mean `external_id`? `employees` has: `active`, `assigned_position`, "
        "`assigned_position_id`, `external_id`, `last_updated`, `low_data_availability`, `organisational_unit`",
        text,
        " " * text.index("'x'") + "^^^",
        "SF220 'x' is not a boolean (the field `active` is `boolean`)",
        "  hint: write `true` or `false`",
    ]


def test_text_output_of_a_multiline_filter_says_where() -> None:
    text = "external_id='1'\n  and actve=true"
    code, out, _ = run("-e", "employees", text)
    assert code == 1
    lines = out.splitlines()
    assert lines[:3] == [
        "  and actve=true",
        "      ^^^^^",
        "SF201 `actve` is not a field or relation of `employees` (line 2, column 7)",
    ]


def test_text_output_names_the_query_string_parameter() -> None:
    code, out, _ = run("$employees=external_id='1'&$jobs=job_nme='x'")
    assert code == 1
    assert out.splitlines()[:3] == ["$jobs:", "job_nme='x'", "^^^^^^^"]


def test_stdin_one_filter_per_line_and_blank_lines_skipped() -> None:
    code, out, _ = run("-e", "jobs", "--format", "json", stdin="job_name='x'\n\n  \njob_famly__external_id='1'\r\n")
    assert code == 1
    objs = json_lines(out)
    assert [o["valid"] for o in objs] == [True, False]
    assert objs[1]["filter"] == "job_famly__external_id='1'"


def test_arguments_win_over_stdin() -> None:
    code, out, _ = run("-e", "jobs", "--format", "json", "job_name='x'", stdin="nonsense\n")
    assert code == 0
    assert len(json_lines(out)) == 1


def test_json_shape_and_agreement_with_validate() -> None:
    filters = [
        "externl_id='1' and active='x'",
        "external_id=",
        "a=1 or b=2 or c=3 or d=4 or e=5 or f=6 or g=7",
        "external_id='1'\nand cp_x__gt=3",
        "cp_x=1",
    ]
    code, out, err = run("-e", "employees", "--format", "json", *filters)
    assert code == 1, err
    objs = json_lines(out)
    assert len(objs) == len(filters)
    for obj, text in zip(objs, filters):
        assert_shape(obj)
        assert obj["filter"] == text and obj["entity"] == "employees"
        expected = validate(text, "employees")
        assert [(d["code"], d["start"], d["end"], d["hint"]) for d in obj["diagnostics"]] == [  # type: ignore[union-attr,index]
            (d.code, d.start, d.end, d.hint) for d in expected
        ]


def test_json_multiline_filter_line_and_column() -> None:
    text = "external_id='1'\n  and actve=true"
    _, out, _ = run("-e", "employees", "-f", "json", text)
    (obj,) = json_lines(out)
    assert_shape(obj)
    (d,) = obj["diagnostics"]  # type: ignore[misc]
    assert (d["line"], d["column"]) == (2, 7)


def test_query_strings_name_their_entities() -> None:
    qs = "$employees=externl_id%3D%271%27&other=1&$jobs=job_family__external_id='x'+and+cp_a=1"
    code, out, _ = run("--format", "json", qs, "?$courses=active=true")
    assert code == 1
    objs = json_lines(out)
    for o in objs:
        assert_shape(o)
    assert [(o["entity"], o["filter"], o["valid"]) for o in objs] == [
        ("employees", "externl_id='1'", False),
        ("jobs", "job_family__external_id='x' and cp_a=1", False),
        ("courses", "active=true", True),
    ]
    # positions are relative to the decoded filter
    assert [(d["code"], d["start"], d["end"]) for d in objs[0]["diagnostics"]] == [("SF201", 0, 10)]  # type: ignore[union-attr,index]
    start = "job_family__external_id='x' and cp_a=1".index("cp_a")
    assert [(d["code"], d["start"], d["end"]) for d in objs[1]["diagnostics"]] == [("SF230", start, start + 4)]  # type: ignore[union-attr,index]


def test_query_string_entity_wins_over_the_option() -> None:
    code, out, _ = run("-e", "jobs", "-f", "json", "$employees=external_id='1'")
    assert code == 0
    assert json_lines(out)[0]["entity"] == "employees"


def test_query_string_problems() -> None:
    code, out, _ = run("-f", "json", "$employees=a=1&$employees=b=2", "?x=1", "$nobody=a=1")
    assert code == 1
    objs = json_lines(out)
    for o in objs:
        assert_shape(o)
    assert objs[0]["entity"] is None and objs[0]["diagnostics"][0]["code"] == "SF100"  # type: ignore[index]
    assert objs[1]["entity"] is None and objs[1]["diagnostics"][0]["code"] == "SF100"  # type: ignore[index]
    assert objs[2]["entity"] == "nobody" and [d["code"] for d in objs[2]["diagnostics"]] == ["SF200"]  # type: ignore[union-attr,index]


def test_text_output_of_sf200_has_no_caret() -> None:
    code, out, _ = run("$nobody=a=1")
    assert code == 1
    assert out.splitlines() == [
        "$nobody:",
        "a=1",
        "SF200 unknown entity `nobody`",
        "  hint: entities of schema `skillengine`: `courses`, `employees`, `job_families`, `jobs`, `vacancies`",
    ]


def test_max_logical_operators_option(capsys: pytest.CaptureFixture[str]) -> None:
    text = "external_id='1' or external_id='2' or external_id='3'"
    assert run("-e", "employees", "--max-logical-operators", "2", text)[0] == 0
    code, out, _ = run("-e", "employees", "--max-logical-operators", "1", "-f", "json", text)
    assert code == 1
    (d,) = json_lines(out)[0]["diagnostics"]  # type: ignore[misc]
    assert d["code"] == "SF240" and d["start"] == text.index("or", text.index("or") + 1)
    long = " or ".join(f"external_id='{i}'" for i in range(30))
    for off in ("none", "None", "off", "-1"):
        assert run("-e", "employees", "--max-logical-operators", off, long)[0] == 0
    assert run("-e", "employees", long)[0] == 1
    code, _, err = run("-e", "employees", "--max-logical-operators", "many", text)
    err += capsys.readouterr().err  # argparse writes usage errors to sys.stderr
    assert code == 2 and "--max-logical-operators" in err


def test_no_entity_is_a_usage_error() -> None:
    code, out, err = run("external_id='1'")
    assert code == 2
    assert out == ""
    assert "--entity" in err and "employees" in err and "Traceback" not in err


def test_no_entity_from_stdin_stops_with_usage_error() -> None:
    code, _, err = run(stdin="$employees=external_id='1'\nexternal_id='1'\n")
    assert code == 2 and "--entity" in err


def test_unknown_entity_option_is_a_usage_error() -> None:
    code, _, err = run("-e", "employes", "external_id='1'")
    assert code == 2 and "employes" in err and "employees" in err


def test_export_schema_defaults_to_employees() -> None:
    code, out, _ = run("--schema", "export", "-f", "json", "skill_clusters__proficiency_level__gte=3")
    assert code == 0
    assert json_lines(out)[0]["entity"] == "employees"


def test_schema_file(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"entities": {"things": {"fields": {"size": "integer"}}}}), encoding="utf-8")
    code, out, _ = run("--schema", str(path), "-f", "json", "size__gte='4'", "size='four'")
    assert code == 1
    assert [o["valid"] for o in json_lines(out)] == [True, False]
    assert json_lines(out)[0]["entity"] == "things"  # the only entity


@pytest.mark.parametrize(
    "content",
    [None, "{not json", '{"entities": {}}', '{"entities": {"a": {"fields": {"x": "float"}}}}', b"\xff\xfe"],
)
def test_bad_schema_file_is_exit_2_without_traceback(tmp_path: Path, content: str | bytes | None) -> None:
    path = tmp_path / "schema.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    code, out, err = run("--schema", str(path), "-e", "a", "x=1")
    assert code == 2
    assert out == ""
    assert err.startswith("skillfilter lint: ") and "Traceback" not in err


def test_bad_schema_as_a_process(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "skillfilter", "lint", "--schema", str(tmp_path / "missing.json"), "x=1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "missing.json" in proc.stderr


def test_colour_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    tty = TTY()
    assert run("-e", "employees", "active='x'", stdout=tty)[0] == 1
    assert ANSI in tty.getvalue()
    plain = io.StringIO()
    run("-e", "employees", "active='x'", stdout=plain)
    assert ANSI not in plain.getvalue()
    # the same text without the escapes
    assert _strip_ansi(tty.getvalue()) == plain.getvalue()


def test_no_color_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    tty = TTY()
    run("-e", "employees", "active='x'", stdout=tty)
    assert ANSI not in tty.getvalue()
    forced = io.StringIO()
    run("--color", "always", "-e", "employees", "active='x'", stdout=forced)
    assert ANSI in forced.getvalue()


def test_json_has_no_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    tty = TTY()
    run("-f", "json", "-e", "employees", "active='x'", stdout=tty)
    assert ANSI not in tty.getvalue()
    json_lines(tty.getvalue())


def test_hostile_text_in_json_round_trips() -> None:
    text = "external_id='é\\'\"%_ and or not \\\\' or cp_x=\"\\u\""
    code, out, _ = run("-e", "employees", "-f", "json", text)
    (obj,) = json_lines(out)
    assert obj["filter"] == text
    assert_shape(obj)
    assert code == 1 and obj["diagnostics"][0]["code"] == "SF100"  # type: ignore[index]


def test_empty_input_is_fine() -> None:
    assert run(stdin="") == (0, "", "")


def test_every_output_object_matches_validate_on_the_builtin_schemas() -> None:
    schema = Schema.builtin("export")
    filters = ["skill_clusters__current_skills='x'", "skill_clusters__sources__gt='a'", "external_id__x=1"]
    _, out, _ = run("--schema", "export", "-f", "json", *filters)
    for obj, text in zip(json_lines(out), filters):
        assert_shape(obj)
        assert [d["code"] for d in obj["diagnostics"]] == [  # type: ignore[union-attr,index]
            d.code for d in validate(text, "employees", schema=schema)
        ]


def _strip_ansi(s: str) -> str:
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", s)


class BadStdin(io.StringIO):
    def __iter__(self):  # type: ignore[no-untyped-def]
        raise UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte")


def test_undecodable_stdin_is_exit_2() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = main(["lint", "-e", "employees"], stdin=BadStdin(), stdout=out, stderr=err)
    assert code == 2 and "not valid text" in err.getvalue()
