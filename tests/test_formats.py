"""Report formats: golden files of a real capture, SARIF schema, JUnit XML, GitHub escaping, CLI pairing.

The goldens in fixtures/golden/ are the output of one run on the 07-errors capture, from the
repository root with relative paths. After a deliberate change of a format (or of the findings),
regenerate them with `CNILINT_UPDATE_GOLDEN=1 pytest tests/test_formats.py` and review the diff.
"""

from __future__ import annotations

import io
import json
import os
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import pandas as pd
import pytest
from conftest import FIXTURES, ROOT
from logwriter import wrapper_record

from cnilint.cli import main
from cnilint.reports import github

GOLDEN = FIXTURES / "golden"
UPDATE = os.environ.get("CNILINT_UPDATE_GOLDEN") == "1"
SARIF_SCHEMA = FIXTURES / "schemas" / "sarif-schema-2.1.0.json"

LOGS = [f"fixtures/real/07-errors/{plugin}" for plugin in ("bridge", "host-local", "tuning", "portmap", "macvlan")]
CHECK = ["check", *LOGS, "--conflist", "fixtures/conflists/07-errors"]
GOLDEN_FILES = {
    "concise": "07-errors.concise.txt",
    "json": "07-errors.json",
    "jsonl": "07-errors.jsonl",
    "csv": "07-errors.csv",
    "sarif": "07-errors.sarif",
    "junit": "07-errors.junit.xml",
    "github": "07-errors.github.txt",
}
RECORDS_CSV = "07-errors.records.csv"


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")  # exact: no newline translation


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every format of one run, each to its own file (and --records-csv), keyed by golden name."""
    folder = tmp_path_factory.mktemp("formats")
    argv = list(CHECK)
    for fmt, name in GOLDEN_FILES.items():
        argv += ["--format", fmt, "--output", str(folder / name)]
    argv += ["--records-csv", str(folder / RECORDS_CSV)]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        patch.delenv("GITHUB_ACTIONS", raising=False)
        assert main(argv) == 1  # 07-errors has errors
    return {name: read(folder / name) for name in [*GOLDEN_FILES.values(), RECORDS_CSV]}


@pytest.fixture
def at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("name", [*GOLDEN_FILES.values(), RECORDS_CSV])
def test_each_format_matches_its_golden_file(outputs: dict[str, str], name: str) -> None:
    golden = GOLDEN / name
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        golden.write_bytes(outputs[name].encode("utf-8"))
    assert golden.is_file(), f"missing {golden}: run with CNILINT_UPDATE_GOLDEN=1"
    assert outputs[name] == read(golden)


@pytest.mark.parametrize("fmt", ["concise", "sarif", "github"])
def test_a_format_on_stdout_equals_its_file(capsys, at_root, outputs: dict[str, str], fmt: str) -> None:
    code, out, err = run(capsys, *CHECK, "--format", fmt)
    assert (code, err) == (1, "")
    assert out == outputs[GOLDEN_FILES[fmt]]


# ---------------------------------------------------------------- CLI pairing


def test_more_outputs_than_formats_is_a_usage_error(capsys, at_root, tmp_path: Path) -> None:
    first, second = tmp_path / "a.sarif", tmp_path / "b.txt"
    code, out, err = run(capsys, *CHECK, "--format", "sarif", "--output", str(first), "--output", str(second))
    assert code == 2 and out == ""
    assert err.strip() == "cnilint: error: more --output than --format options"
    assert not first.exists() and not second.exists()


def test_two_formats_cannot_share_stdout(capsys, at_root) -> None:
    code, _, err = run(capsys, *CHECK, "--format", "sarif", "--format", "junit")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_github_actions_adds_annotations_to_the_default_output(capsys, at_root, monkeypatch, outputs) -> None:
    code, plain, _ = run(capsys, *CHECK)
    assert code == 1 and "::" not in "".join(line[:2] for line in plain.splitlines())
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    code, out, _ = run(capsys, *CHECK)
    assert code == 1
    assert out == outputs[GOLDEN_FILES["concise"]] + outputs[GOLDEN_FILES["github"]]


def test_github_actions_leaves_an_explicit_format_alone(capsys, at_root, monkeypatch, outputs) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    _, out, _ = run(capsys, *CHECK, "--format", "jsonl")
    assert out == outputs[GOLDEN_FILES["jsonl"]]


# ---------------------------------------------------------------- CSV


def json_findings(outputs: dict[str, str]) -> list[dict]:
    return json.loads(outputs[GOLDEN_FILES["json"]])["findings"]


def test_csv_has_every_field_of_the_json_finding(outputs: dict[str, str]) -> None:
    frame = pd.read_csv(io.StringIO(outputs[GOLDEN_FILES["csv"]]), dtype=str, keep_default_na=False)
    findings = json_findings(outputs)
    assert list(frame.columns) == list(findings[0])
    assert len(frame) == len(findings)
    for row, finding in zip(frame.to_dict("records"), findings, strict=True):
        assert json.loads(row["related"]) == finding["related"]
        for key, value in finding.items():
            if key != "related":
                assert row[key] == ("" if value is None else str(value)), key


def test_records_csv_has_one_row_per_record_with_finding_counts(outputs: dict[str, str]) -> None:
    frame = pd.read_csv(io.StringIO(outputs[RECORDS_CSV]), keep_default_na=False)
    summary = json.loads(outputs[GOLDEN_FILES["json"]])["summary"]
    assert len(frame) == summary["records"] == 73
    for column, severity in (("errors", "error"), ("warnings", "warning"), ("infos", "info")):
        assert frame[column].sum() == summary["by_severity"][severity]
    assert list(frame["file"].drop_duplicates()) == LOGS  # input order, then record order
    assert (frame.groupby("file")["record"].diff().dropna() == 1).all()
    assert frame["error_code"].astype(str).str.fullmatch(r"\d*").all()  # integers, never "4.0"
    assert json.loads(frame.loc[1, "addresses"]) == ["10.85.0.2/16", "fd00:85::2/64"]


# ---------------------------------------------------------------- SARIF


def sarif_validator() -> jsonschema.Draft7Validator:
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    # This copy keeps the log object under definitions/Root and puts no constraint at its
    # top level, so validating against the file as it is would accept anything.
    return jsonschema.Draft7Validator({**schema, "$ref": "#/definitions/Root"})


def test_sarif_is_valid_against_the_2_1_0_schema(outputs: dict[str, str]) -> None:
    validator = sarif_validator()
    document = json.loads(outputs["07-errors.sarif"])
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]
    assert errors == []
    assert not validator.is_valid({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]})  # driver needs a name


def test_sarif_results_point_at_the_exact_line_of_each_finding(outputs: dict[str, str]) -> None:
    run_ = json.loads(outputs["07-errors.sarif"])["runs"][0]
    rules, results = run_["tool"]["driver"]["rules"], run_["results"]
    findings = json_findings(outputs)
    assert len(results) == len(findings)
    levels = {"error": "error", "warning": "warning", "info": "note"}
    for result, finding in zip(results, findings, strict=True):
        assert result["ruleId"] == finding["rule"] == rules[result["ruleIndex"]]["id"]
        assert result["level"] == levels[finding["severity"]]
        # Code scanning shows related locations only when the message links to them.
        links = ", ".join(f"[{r['file']}:{r['line']}]({i})" for i, r in enumerate(finding["related"], start=1))
        assert result["message"]["text"] == (
            f"{finding['message']} (related: {links})" if links else finding["message"]
        )
        location = result["locations"][0]["physicalLocation"]
        uri = location["artifactLocation"]["uri"]
        assert uri == finding["file"] and not urlsplit(uri).scheme and "\\" not in uri
        assert location["region"]["startLine"] == finding["line"]
        related = [
            (r["physicalLocation"]["artifactLocation"]["uri"], r["physicalLocation"]["region"]["startLine"])
            for r in result.get("relatedLocations", [])
        ]
        assert related == [(r["file"], r["line"]) for r in finding["related"]]
    fingerprints = [r["partialFingerprints"]["cnilint/v1"] for r in results]
    assert len(set(fingerprints)) == len(fingerprints)  # one alert per finding, even for identical records
    assert {r["id"] for r in rules} == {f["rule"] for f in findings}
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert "**Why it matters:**" in rule["help"]["markdown"] and "Passing example" in rule["help"]["text"]
        assert rule["helpUri"].startswith("https://github.com/containernetworking/")


def test_sarif_uris_are_relative_with_forward_slashes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cnilint.reports.sarif import artifact_uri

    monkeypatch.chdir(tmp_path)
    assert artifact_uri("./logs//bridge") == "logs/bridge"
    assert artifact_uri(str(tmp_path / "logs" / "host local")) == "logs/host%20local"
    assert artifact_uri("a:b") == "a%3Ab"  # not read as a scheme
    assert artifact_uri("/elsewhere/bridge") == "file:///elsewhere/bridge"


# ---------------------------------------------------------------- JUnit


def test_junit_counts_match_records_and_fail_on(capsys, at_root, outputs: dict[str, str]) -> None:
    findings = json_findings(outputs)
    records = pd.read_csv(io.StringIO(outputs[RECORDS_CSV]), keep_default_na=False)
    for fail_on, text in (("error", outputs["07-errors.junit.xml"]), ("warning", None)):
        if text is None:
            _, text, _ = run(capsys, *CHECK, "--format", "junit", "--fail-on", fail_on)
        root = ET.fromstring(text)
        failing_severities = {"error"} if fail_on == "error" else {"error", "warning"}
        failing = {(f["file"], f["record"]) for f in findings if f["severity"] in failing_severities}
        suites = root.findall("testsuite")
        assert [s.get("name") for s in suites] == LOGS
        assert int(root.get("tests")) == len(root.findall(".//testcase")) == len(records)
        assert int(root.get("failures")) == len(root.findall(".//failure")) == len(failing)
        for suite in suites:
            assert int(suite.get("tests")) == Counter(records["file"])[suite.get("name")]
            assert int(suite.get("failures")) == len(suite.findall(".//failure"))
    assert len({"error", "warning"} & {f["severity"] for f in findings}) == 2  # both runs meant something


def test_junit_names_each_testcase_by_plugin_command_container_and_line(outputs: dict[str, str]) -> None:
    case = ET.fromstring(outputs["07-errors.junit.xml"]).find("testsuite/testcase")
    assert case is not None
    assert case.get("name") == "bridge ADD 6cd1b485e46a line 1"
    assert case.get("classname") == "fixtures/real/07-errors/bridge"
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "error" and "CONF001" in (failure.text or "")
    assert "ERR005 [info]" in (case.findtext("system-out") or "")  # below --fail-on


def test_junit_stays_valid_xml_whatever_the_log_holds(capsys, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)
    container = "ctr\x1b[31m\x01\x0b-ID]]>&<"
    log = wrapper_record(
        started="Mon Jan  1 00:00:00 UTC 2024",
        returned="Mon Jan  1 00:00:01 UTC 2024",
        env=[("CNI_COMMAND", "ADD"), ("CNI_CONTAINERID", container), ("CNI_IFNAME", "eth0\x00")],
        stdin='{"cniVersion":"1.0.0","name":"n\x07","type":"bridge"}',
        stdout='{"code":999,"msg":"bad \\u0000\\u001b[0m ]]> \\ud800"}',
    )
    path = tmp_path / "bridge\x1b"
    path.write_text(log, encoding="utf-8")
    code, out, err = run(capsys, "check", str(path), "--format", "junit")
    assert code == 1 and err == ""
    root = ET.fromstring(out.encode("utf-8"))
    case = root.find("testsuite/testcase")
    assert case is not None and root.find("testsuite").get("name") == str(tmp_path / "bridge\\x1b")
    assert case.get("name") == "bridge\\x1b ADD ctr\\x1b[31m\\x01\\x0b-I line 1"  # the short container ID
    assert root.get("tests") == "1" and root.get("failures") == "1"


# ---------------------------------------------------------------- GitHub


def test_github_escapes_data_and_properties_as_the_toolkit_does() -> None:
    line = github.annotation("error", "50% done\r\nnext::error x", file="a:b,c%", line=3, title="R1 a, b: c")
    assert line == "::error file=a%3Ab%2Cc%25,line=3,title=R1 a%2C b%3A c::50%25 done%0D%0Anext::error x\n"


def test_github_annotations_are_one_line_each_by_severity(outputs: dict[str, str]) -> None:
    lines = outputs["07-errors.github.txt"].splitlines()
    findings = json_findings(outputs)
    assert len(lines) == len(findings)
    commands = {"error": "::error ", "warning": "::warning ", "info": "::notice "}
    for line, finding in zip(lines, findings, strict=True):
        assert line.startswith(commands[finding["severity"]])
        assert f"file={finding['file']},line={finding['line']},title={finding['rule']} " in line


def test_parse_problems_reach_sarif_junit_and_github(capsys, at_root, tmp_path: Path) -> None:
    log = "fixtures/real/08-concurrency/bridge"  # an interleaved region, recovered
    sarif, junit = tmp_path / "out.sarif", tmp_path / "out.xml"
    argv = ["check", log, "--format", "sarif", "--output", str(sarif), "--format", "junit", "--output", str(junit)]
    _, out, _ = run(capsys, *argv, "--format", "json")
    problems = json.loads(out)["problems"]
    assert problems and problems[0]["end_line"] > problems[0]["line"]

    document = json.loads(sarif.read_text(encoding="utf-8"))
    assert sarif_validator().is_valid(document)
    notes = document["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes] == [p["message"] for p in problems]
    assert notes[0]["locations"][0]["physicalLocation"]["region"] == {
        "startLine": problems[0]["line"],
        "endLine": problems[0]["end_line"],
    }
    suite_out = ET.fromstring(junit.read_text(encoding="utf-8")).findtext("testsuite/system-out") or ""
    assert f"{log}:{problems[0]['line']}-{problems[0]['end_line']}: [parse]" in suite_out

    _, out, _ = run(capsys, "check", log, "--format", "github")
    notices = [line for line in out.splitlines() if "title=cnilint parse problem" in line]
    assert len(notices) == len(problems) and out.splitlines()[-len(notices) :] == notices  # after the findings
    assert notices[0].startswith(f"::notice file={log},line={problems[0]['line']},endLine={problems[0]['end_line']},")
