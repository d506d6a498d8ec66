"""run_checks as a library call: it leaves the interpreter as it found it."""

from __future__ import annotations

import gc

from conftest import REAL

from cnilint import parse
from cnilint.checker import COLLECT_AFTER_ALLOCATIONS, fewer_collections, run_checks
from cnilint.engine import Engine


def test_the_collector_runs_less_often_during_a_check_only() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] == max(before[0], COLLECT_AFTER_ALLOCATIONS)
    assert gc.get_threshold() == before
    reader = parse(REAL / "07-errors" / "bridge")
    run = run_checks([(reader, iter(reader))], Engine())
    assert run.summary.records and gc.get_threshold() == before
