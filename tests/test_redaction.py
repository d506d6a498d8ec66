"""Secrets in a log never reach anything cnilint writes, unless --no-redact."""

from __future__ import annotations

import json

import pytest
from conftest import FIXTURES

from cnilint import parse
from cnilint.cli import main
from cnilint.redact import MARK, Redactor

LOG = str(FIXTURES / "secrets" / "bridge")
SECRETS = (
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",  # AWS_SECRET_ACCESS_KEY
    "hunter2-correct-horse",  # DB_PASSWORD
    "ghp_0123456789abcdefghijABCDEFGHIJ012345",  # GITHUB_TOKEN
    "ghp_9876543210abcdefghijABCDEFGHIJ987654",  # a token in CNI_ARGS, shown in a finding
    "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ",  # a JWT under a harmless name
    "p4ssw0rd-in-config",  # "password" in the configuration
)


def _run(capsys, tmp_path, *argv: str) -> str:
    main(list(argv))
    written = capsys.readouterr().out
    for path in tmp_path.iterdir():
        written += path.read_text(errors="replace")
    return written


def _leaks(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


@pytest.mark.parametrize("fmt", ["rich", "concise", "json", "jsonl", "csv", "html", "sarif", "junit", "github"])
def test_no_report_format_shows_a_secret(capsys, tmp_path, fmt) -> None:
    out = tmp_path / f"report.{fmt}"
    text = _run(
        capsys, tmp_path, "check", LOG, "--format", fmt, "--output", str(out), "--records-csv", str(tmp_path / "r.csv")
    )
    assert _leaks(text) == []
    assert MARK in text or fmt in ("junit",)  # junit shows no env and no message with a secret


@pytest.mark.parametrize("fmt", ["jsonl", "table", "csv"])
def test_records_never_show_a_secret(capsys, tmp_path, fmt, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    text = _run(capsys, tmp_path, "records", LOG, "--format", fmt)
    assert _leaks(text) == []


def test_records_keep_the_names_and_hide_the_values(capsys, tmp_path) -> None:
    (record,) = [json.loads(line) for line in _run(capsys, tmp_path, "records", LOG).splitlines()]
    assert record["env"]["DB_PASSWORD"] == MARK and record["env"]["PATH"].startswith("/usr")
    assert record["input"]["password"] == MARK and record["input"]["type"] == "bridge"
    assert record["container_id"].startswith("4b2e4211")  # identifiers are not secrets


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_timeline_never_shows_a_secret(capsys, tmp_path, fmt, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    assert _leaks(_run(capsys, tmp_path, "timeline", LOG, "--format", fmt)) == []


def test_no_redact_shows_what_was_logged(capsys, tmp_path) -> None:
    text = _run(capsys, tmp_path, "records", LOG, "--no-redact")
    assert set(_leaks(text)) == set(SECRETS)


def test_the_parsed_record_keeps_every_value() -> None:
    (record,) = list(parse(LOG))
    assert record.env["DB_PASSWORD"] == "hunter2-correct-horse"
    assert record.input.value["password"] == "p4ssw0rd-in-config"


def test_configured_names_are_redacted_too(capsys, tmp_path, monkeypatch) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / ".cnilint.toml").write_text('redact-names = ["^JOURNAL_"]\n')
    monkeypatch.chdir(project)
    main(["records", LOG])
    (record,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert record["env"]["JOURNAL_STREAM"] == MARK


def test_credential_formats_and_key_blocks_keep_line_counts() -> None:
    redactor = Redactor()
    block = "-----BEGIN RSA PRIVATE KEY-----\nabc\ndef\n-----END RSA PRIVATE KEY-----"
    assert redactor.text(f"x\n{block}\ny") == f"x\n{MARK}\n\n\n\ny"  # still six lines
    assert redactor.text("https://admin:pw@host/") == f"https://{MARK}@host/"
    assert redactor.text("Authorization: Bearer abcdefghijklmnopqrstuvwxyz") == f"Authorization: Bearer {MARK}"
    assert redactor.variables({"KEYBOARD": "us", "API_KEY": "x1", "MONKEY": "y"}) == {
        "KEYBOARD": "us",
        "API_KEY": MARK,
        "MONKEY": "y",
    }


def test_a_secret_learned_later_is_hidden_in_text_already_redacted_once() -> None:
    from cnilint.redact import MARK, Redactor

    redactor = Redactor()
    line = "netns of pod s3cr3t-value-42"
    assert redactor.text(line) == line  # nothing known yet (and the answer is remembered)
    redactor.observe({"API_TOKEN": "s3cr3t-value-42"})
    assert redactor.text(line) == f"netns of pod {MARK}"
