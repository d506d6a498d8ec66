"""Logs of the cnilint wrapper carry each call's exit code: the checker takes a
failure from it instead of guessing from OUTPUT, and what a runtime did after a
failure it saw is its own doing, not the wrapper's."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from rulekit import cross_findings, real

from cnilint.facts import Facts
from cnilint.parse import Record

sys.path.insert(0, str(Path(__file__).parent / "rules"))
from test_chain_rules import BADCHAIN_PLUGINS, ERRORS, logs


def _as_the_cnilint_wrapper_logs(records: list[Record]) -> list[Record]:
    """The same calls with the exit codes the plugins really gave (07-errors: failures print an error object)."""
    return [replace(record, exit_code=1 if Facts(record).failed else 0) for record in records]


def test_a_non_zero_exit_code_is_a_failure_whatever_stdout_says() -> None:
    add = real("01-classic-0.3.1", "bridge", 0)
    assert not Facts(add).failed
    assert Facts(replace(add, exit_code=1)).failed


def test_exit_code_zero_is_a_success_even_with_an_error_object_on_stdout() -> None:
    failure = next(r for r in logs(ERRORS, ("bridge",))[0] if Facts(r).error is not None)
    assert Facts(failure).failed
    assert not Facts(replace(failure, exit_code=0)).failed


def test_without_exit_codes_a_chain_going_on_after_a_failure_is_blamed_on_the_wrapper() -> None:
    found = cross_findings(logs(ERRORS, BADCHAIN_PLUGINS), "CHAIN011")
    assert found and all(f.severity == "info" and f.deviation for f in found)


def test_with_exit_codes_a_chain_going_on_after_a_failure_is_the_runtimes_error() -> None:
    wrapped = [_as_the_cnilint_wrapper_logs(log) for log in logs(ERRORS, BADCHAIN_PLUGINS)]
    found = cross_findings(wrapped, "CHAIN011")
    assert found and all(f.severity == "error" and f.deviation is None for f in found)
