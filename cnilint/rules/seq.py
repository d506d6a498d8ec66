"""SEQ: the lifecycle of attachments across records (ADD, CHECK, DEL over time)."""

from __future__ import annotations

from collections.abc import Iterator

from cnilint.correlate.engine import OperationContext
from cnilint.rules import CrossViolation, cross_rule, in_env


def _second_add(context: OperationContext) -> Iterator[CrossViolation]:
    operation, before = context.operation, context.before
    if operation.command != "ADD" or not before.live or before.live_add is None:
        return
    first, earlier = operation.calls[0], before.live_add.calls[0]
    network, container, ifname = operation.attachment
    yield CrossViolation(
        first,
        in_env(
            "CNI_CONTAINERID",
            f"second ADD of live attachment {container[:12]}/{ifname} on {network!r}: the ADD at "
            f"{earlier.where} succeeded and was not followed by a DEL",
        ),
        (earlier,),
    )


@cross_rule("SEQ001", "operation")
def no_second_add_of_live_attachment_040(context: OperationContext) -> Iterator[CrossViolation]:
    # 0.4.0: MUST NOT, keyed by (network, container, ifname).
    yield from _second_add(context)
