"""CHAIN: the records of one operation over a network configuration list."""

from __future__ import annotations

from collections.abc import Iterator

from cnilint.correlate.engine import OperationContext
from cnilint.rules import CrossViolation, cross_rule, in_input


@cross_rule("CHAIN001", "operation")
def first_plugin_gets_no_prev_result(context: OperationContext) -> Iterator[CrossViolation]:
    operation = context.operation
    if operation.command != "ADD":
        return
    first = operation.calls[0]
    if "prevResult" in (first.facts.config or {}):
        message = (
            f"the first {first.record.plugin} ADD of the operation carries a prevResult: a plugin ran before it "
            "whose log is missing, or the runtime injected a stale result"
        )
        yield CrossViolation(first, in_input(("prevResult",), message))
