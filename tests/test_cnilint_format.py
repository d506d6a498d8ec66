"""Logs of the cnilint wrapper (`cnilint capture install`, the default format):
the classic blocks plus the plugin's exit code, stderr, invocation id and times."""

from __future__ import annotations

import json

from conftest import FIXTURES

from cnilint.cli import main
from cnilint.parse import parse

LOG = FIXTURES / "cnilint-wrapper" / "bridge"


def test_outcome_fields_are_read_from_the_cnilint_wrapper_format() -> None:
    add, delete, version = parse(LOG)
    assert (add.exit_code, add.stderr, add.duration_ms) == (0, "", 67.25)
    assert add.invocation == "5b0e7c1e-8d3a-4d59-9a4e-2f0c1b2a3d4e"
    assert add.output is not None and add.output.value["ips"][0]["address"] == "10.85.0.5/16"
    assert add.output.raw.endswith("}\n")  # stdout exactly: the wrapper's own newline is not part of it
    assert (delete.exit_code, delete.stderr) == (2, "panic: runtime error\ngoroutine 1 [running]:\n")
    assert delete.duration_ms == 3.5  # wall clock, microseconds: /proc/uptime was not readable ("- -")
    assert version.exit_code == 134 and version.input is not None and version.input.raw == ""
    assert version.duration_ms == 10.0  # the wall clock went back: the monotonic times are used
    assert not any(record.problems for record in (add, delete, version))


def test_output_values_point_at_their_log_lines() -> None:
    add = next(iter(parse(LOG)))
    assert add.output is not None and add.output.line_of(("ips", 0, "address")) == 33  # grep -n 10.85.0.5 on the log


def test_classic_logs_have_no_outcome() -> None:
    record = next(iter(parse(FIXTURES / "real" / "01-classic-0.3.1" / "bridge")))
    assert (record.exit_code, record.stderr, record.duration_ms, record.invocation) == (None, None, None, None)


def test_fast_and_grammar_paths_read_the_outcome_alike() -> None:
    assert list(parse(LOG)) == list(parse(LOG, fast_path=False))


def test_unreadable_outcome_values_are_record_problems(tmp_path) -> None:
    text = (
        LOG.read_text().replace("Exit code: 0", "Exit code: zero", 1).replace("Monotonic: 8123.45", "Monotonic: x", 1)
    )
    log = tmp_path / "bridge"
    log.write_text(text)
    add = next(iter(parse(log)))
    assert add.exit_code is None
    messages = [problem.message for problem in add.problems]
    assert "cannot read the exit code 'zero'" in messages
    assert any(message.startswith("cannot read the monotonic times") for message in messages)


def test_records_command_shows_exit_code_stderr_and_duration(capsys) -> None:
    assert main(["records", "--format", "jsonl", str(LOG)]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(row["exit_code"], row["duration_ms"]) for row in rows] == [(0, 67.25), (2, 3.5), (134, 10.0)]
    assert rows[1]["stderr"].startswith("panic: runtime error")
    assert rows[0]["invocation"] == "5b0e7c1e-8d3a-4d59-9a4e-2f0c1b2a3d4e"
