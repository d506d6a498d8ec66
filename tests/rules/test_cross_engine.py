"""The cross-record engine runs each rule only where it can report, and its
state follows the recent and live calls, not the length of the logs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from conftest import FIXTURES
from rulekit import records_of, with_env

from cnilint.correlate import engine as cross_engine
from cnilint.correlate.calls import merge_in_time
from cnilint.correlate.conflist import load_conflists
from cnilint.correlate.engine import CrossEngine
from cnilint.engine import Engine
from cnilint.options import Options
from cnilint.parse import Record
from cnilint.rules import CROSS_CHECKS, CrossCheck, CrossViolation, in_record

S02B = "02b-bridge-1.0.0"  # 3 pods, CNI 1.0.0: ADD, CHECK, DEL through bridge and host-local
S01 = "01-classic-0.3.1"  # CNI 0.3.1


def _run(logs: list[list[Record]], options: Options | None = None, conflists: dict | None = None) -> CrossEngine:
    engine = Engine(options or Options())
    cross = CrossEngine(engine, conflists)
    for _ in cross.run(merge_in_time([engine.check(records) for records in logs])):
        pass
    return cross


def _spy(hook: str, rule_id: str, seen: list, monkeypatch: pytest.MonkeyPatch, report=None) -> CrossCheck:
    """A rule of `hook` that notes every context it is given (and may report)."""

    def spy(context) -> Iterator[CrossViolation]:  # type: ignore[no-untyped-def]
        seen.append(context)
        if report is not None:
            yield CrossViolation(report(context), in_record("spy"))

    check = CrossCheck("spy", rule_id, hook, spy)
    monkeypatch.setitem(CROSS_CHECKS, hook, [*CROSS_CHECKS[hook], check])
    return check


def test_call_rules_get_only_records_of_their_commands_and_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list = []
    _spy("call", "SEQ007", seen, monkeypatch)  # the catalogue gives SEQ007 to ADD from 1.0.0
    _run([records_of(S01, "bridge"), records_of(S02B, "bridge"), records_of(S02B, "host-local")])
    assert seen, "the rule never ran"
    assert {(context.call.command, context.call.facts.version) for context in seen} == {("ADD", (1, 0, 0))}


def test_operation_rules_get_only_operations_of_their_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list = []
    _spy("operation", "SEQ005", seen, monkeypatch)  # DEL only
    _run([records_of(S02B, "bridge"), records_of(S02B, "host-local")])
    assert [context.operation.command for context in seen] == ["DEL"] * 3


def test_deselected_rules_do_not_run(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list = []
    _spy("call", "SEQ007", seen, monkeypatch)
    _run([records_of(S02B, "bridge")], Options(ignore=("SEQ007",)))
    assert seen == []


def test_conflist_rules_run_only_with_a_conflist(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list = []
    check = _spy("call", "LIST005", seen, monkeypatch)
    monkeypatch.setattr(cross_engine, "_CONFLIST_ONLY", {check.run})
    logs = [records_of(S02B, "bridge"), records_of(S02B, "host-local")]
    _run(logs)
    assert seen == []
    _run(logs, conflists=load_conflists([str(FIXTURES / "conflists" / S02B)]))
    assert seen and all(context.conflist is not None for context in seen)


def test_a_rule_reporting_off_its_hooks_subject_is_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # The engine skips a pairing rule where the delegate's command and version do not
    # apply; a rule that reports on the upper instead could then be skipped wrongly.
    _spy("pairing", "DLG001", [], monkeypatch, report=lambda pairing: pairing.upper)
    cross = _run([records_of(S02B, "bridge"), records_of(S02B, "host-local")])
    assert cross.errors and all("spy (DLG001)" in error and "subject" in error for error in cross.errors)


def _pods(count: int) -> list[list[Record]]:
    """`count` pods one after the other, each ADD then DEL through bridge and host-local,
    2 seconds apart, with fresh container ids and namespaces (as bench_memory.py builds)."""
    bridge, host_local = records_of(S02B, "bridge"), records_of(S02B, "host-local")
    upper_add, upper_del, ipam_add, ipam_del = bridge[0], bridge[6], host_local[0], host_local[6]
    logs: list[list[Record]] = [[], []]
    for pod in range(count):
        variables = {"CNI_CONTAINERID": f"{pod:064x}", "CNI_NETNS": f"/var/run/netns/pod-{pod}"}
        for step, (upper, ipam) in enumerate(((upper_add, ipam_add), (upper_del, ipam_del))):
            shift = timedelta(seconds=4 * pod + 2 * step)
            for log, record in ((logs[0], upper), (logs[1], ipam)):
                started = upper_add.started_at + shift
                moved = replace(record, started_at=started, returned_at=started + timedelta(seconds=1))
                log.append(replace(with_env(moved, **variables), index=len(log), line=len(log) + 1))
    return logs


def test_state_follows_recent_calls_not_the_length_of_the_logs() -> None:
    engine = Engine(Options())
    cross = CrossEngine(engine)
    sizes: list[tuple[int, ...]] = []

    def watched(calls: Iterator) -> Iterator:  # notes the engine's state before each call
        for call in calls:
            delegation = cross.delegation
            sizes.append(
                (
                    len(cross._recent),
                    len(cross._recent_heap),
                    len(cross.lifecycle._ends),
                    len(delegation._closing),
                    len(delegation._by_container) + len(delegation._by_netns),
                )
            )
            yield call

    for _ in cross.run(watched(merge_in_time([engine.check(records) for records in _pods(300)]))):
        pass
    assert not cross.errors
    assert len(sizes) == 4 * 300
    # Containers, call ends and uppers of the last few seconds only (pods are 4 s apart).
    largest = [max(column) for column in zip(*sizes, strict=True)]  # [2, 6, 2, 2, 4] today
    assert all(size <= bound for size, bound in zip(largest, [4, 8, 4, 4, 4], strict=True)), largest
    assert len(cross._dispatch) < 20
