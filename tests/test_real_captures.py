"""Every real capture parses to what the runtime really sent and got (truth.json)."""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import REAL, SCENARIOS, log_files

from cnilint import parse

SEQUENTIAL = [s for s in SCENARIOS if s != "08-concurrency"]


def _truth(scenario: str) -> list[dict]:
    calls = json.loads((REAL / scenario / "truth.json").read_text())
    return sorted(calls, key=lambda call: call["started_epoch"])


def _expected_output(call: dict) -> str:
    # `echo "$output"` after `$(...)` drops the plugin's trailing newlines;
    # in the terminal branch tee copies stdout as is.
    return call["stdout"] if call["stdin_is_tty"] else call["stdout"].rstrip("\n")


def _expected_per_log(scenario: str) -> dict[str, list[tuple[dict, dict | None]]]:
    """(call, delegation) pairs in the order each log file holds them:
    delegation is None for the call itself, else the IPAM call it caused."""
    per_log: dict[str, list[tuple[dict, dict | None]]] = defaultdict(list)
    for call in _truth(scenario):
        per_log[call["plugin"]].append((call, None))
        for delegated in call["delegated"]:
            per_log[delegated["plugin"]].append((call, delegated))
    return per_log


def _assert_parameters(record, call: dict) -> None:
    assert record.container_id == call["containerId"]
    assert record.ifname == call["ifName"]
    assert record.netns == call["netns"]
    assert record.cni_args == call["cniArgs"]
    assert record.cni_path == call["cniPath"]


@pytest.mark.parametrize("scenario", SEQUENTIAL)
def test_record_count_per_log_matches_expected(scenario: str) -> None:
    expected = json.loads((REAL / scenario / "expected.json").read_text())["expected_records_per_log_file"]
    for path in log_files(scenario):
        reader = parse(path)
        records = list(reader)
        assert len(records) == expected[path.name], path
        assert all(record.complete and not record.problems for record in records), path
        assert reader.problems == []


@pytest.mark.parametrize("scenario", SEQUENTIAL)
def test_every_invocation_matches_truth(scenario: str) -> None:
    for plugin, expected in _expected_per_log(scenario).items():
        records = list(parse(REAL / scenario / plugin))
        assert len(records) == len(expected), plugin
        for record, (call, delegated) in zip(records, expected, strict=True):
            where = f"{record.file}:{record.line}"
            _assert_parameters(record, call)
            if delegated is None:
                assert record.command == call["command"], where
                assert record.tty == call["stdin_is_tty"], where
                if call["stdin_is_tty"]:
                    assert record.input is None, where
                else:
                    assert record.input.raw == call["stdin"], where
                assert record.output.raw == _expected_output(call), where
                for assignment in call["env_sent"]:
                    name, _, value = assignment.partition("=")
                    if name != "SHLVL":  # the wrapper's bash increments it
                        assert record.env.get(name) == value, (where, name)
            else:
                # The delegate gets the upper plugin's stdin and environment.
                assert record.command == delegated["command"], where
                assert not record.tty
                if not call["stdin_is_tty"]:
                    assert record.input.raw == call["stdin"], where
                assert record.env["SHLVL"] == "3", where


def test_json_bodies_decode_where_they_are_json() -> None:
    for scenario in SEQUENTIAL:
        for call in _truth(scenario):
            records = [r for r in parse(REAL / scenario / call["plugin"])]
            for record in records:
                if record.output.raw.strip():
                    try:
                        expected = json.loads(record.output.raw)
                    except ValueError:
                        assert record.output.error is not None
                        assert record.output.error.line >= record.output.line
                    else:
                        assert record.output.value == expected


def _concurrency_records(plugin: str):
    reader = parse(REAL / "08-concurrency" / plugin)
    return list(reader), reader


@pytest.mark.parametrize("plugin", ["bridge", "host-local"])
def test_interleaved_records_are_recovered_and_match_truth(plugin: str) -> None:
    records, reader = _concurrency_records(plugin)
    calls = _truth("08-concurrency")
    by_key = {(call["containerId"], call["command"]): call for call in calls}
    # Every call of truth.json is exactly one record, recovered or not.
    assert sorted((r.container_id, r.command) for r in records) == sorted(by_key)
    for record in records:
        call = by_key[(record.container_id, record.command)]
        where = f"{record.file}:{record.line}"
        _assert_parameters(record, call)
        assert record.complete, where
        assert record.input.raw == call["stdin"], where
        if plugin == "bridge":
            assert record.output.raw == _expected_output(call), where
            assert record.env["SHLVL"] == "2", where
        else:  # the delegated IPAM call: a result for ADD, nothing for DEL
            assert record.env["SHLVL"] == "3", where
            assert record.output.is_json if record.command == "ADD" else record.output.raw == "", where
    # The burst is reported as a region with its line range; its records are
    # inside it and marked, the others outside it and untouched.
    (region,) = reader.regions
    (problem,) = reader.problems
    assert (problem.line, problem.end_line) == (region.line, region.end_line) and region.line < region.end_line
    assert region.recovered and "24 invocations interleave here" in problem.message
    for record in records:
        if record.recovered:
            assert region.line <= record.line and record.end_line <= region.end_line
            assert record.confidence in ("exact", "likely")
        else:
            assert record.end_line < region.line or record.line > region.end_line
            assert record.confidence is None and record.problems == ()
    assert sum(record.recovered for record in records) == 24


def test_real_captures_have_no_unreadable_dates() -> None:
    for scenario in SCENARIOS:
        for path in log_files(scenario):
            for record in parse(path):
                assert record.started_at is not None and record.returned_at is not None
                assert record.started_at <= record.returned_at
                assert record.started_at.utcoffset() is not None


def test_log_files_exist() -> None:
    assert all(path.is_file() for scenario in SCENARIOS for path in log_files(scenario))
    assert isinstance(REAL, Path)
