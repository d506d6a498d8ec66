"""Operations and attachments: the ADD, CHECK and DEL of one attachment over time.

Catalogue definitions: an attachment is (INPUT.name, CNI_CONTAINERID,
CNI_IFNAME). An operation is the runtime-issued records of one attachment and
one command that the runtime ran as one pass over the plugin list: an ADD
operation starts at a record without prevResult, and a new operation starts
when a plugin repeats or the command changes. The final ADD result is the
OUTPUT of the last record of the latest successful ADD operation; an
attachment is live from a successful ADD operation until the next DEL.

State is kept per attachment; attachments that are no longer live are kept
as small tombstones (for "DEL again", "CHECK after DEL") up to a bound, so
memory follows the live attachments, not the length of the logs.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from cnilint.correlate.calls import Call

AttachmentKey = tuple[str | None, str, str]
OPERATION_COMMANDS = ("ADD", "DEL", "CHECK")
MAX_TOMBSTONES = 10_000


@dataclass(eq=False)
class Operation:
    command: str
    attachment: AttachmentKey
    calls: list[Call] = field(default_factory=list)

    @property
    def plugins(self) -> list[str | None]:
        return [call.record.plugin for call in self.calls]

    @property
    def failed(self) -> bool:
        return any(call.facts.failed for call in self.calls)

    @property
    def first_failure(self) -> Call | None:
        return next((call for call in self.calls if call.facts.failed), None)

    @property
    def final_result(self) -> Any:
        """The last record's OUTPUT (the result the runtime keeps), for ADD."""
        return self.calls[-1].facts.result if self.calls else None

    @property
    def start(self) -> float | None:
        return self.calls[0].start if self.calls else None


@dataclass(eq=False)
class Attachment:
    key: AttachmentKey
    live: bool = False
    last_add: Operation | None = None  # latest ADD operation, successful or not
    live_add: Operation | None = None  # the successful ADD that made it live
    last_del: Operation | None = None
    last_operation: Operation | None = None
    history: list[Operation] = field(default_factory=list)  # operations of the current life, for reports


@dataclass(frozen=True, eq=False)
class OperationDone:
    """An operation that ended, with the attachment as it was before it."""

    operation: Operation
    before: Attachment
    after: Attachment


class LifecycleTracker:
    def __init__(self) -> None:
        self.attachments: OrderedDict[AttachmentKey, Attachment] = OrderedDict()
        self.current: dict[AttachmentKey, Operation] = {}  # operations not yet ended

    def add(self, call: Call) -> Iterator[OperationDone]:
        """Feed the next runtime-issued call in time order."""
        if not call.runtime_issued or call.command not in OPERATION_COMMANDS:
            return
        key = call.attachment
        current = self.current.get(key)
        if current is not None and self._continues(current, call):
            current.calls.append(call)
            return
        if current is not None:
            yield self._finish(current)
        self.current[key] = Operation(call.command or "", key, [call])

    @staticmethod
    def _continues(operation: Operation, call: Call) -> bool:
        if call.command != operation.command or call.record.plugin in operation.plugins:
            return False
        # An ADD operation starts at a record without prevResult.
        return not (call.command == "ADD" and "prevResult" not in (call.facts.config or {}))

    def _finish(self, operation: Operation) -> OperationDone:
        del self.current[operation.attachment]
        attachment = self.attachments.get(operation.attachment) or Attachment(operation.attachment)
        before = Attachment(
            attachment.key,
            attachment.live,
            attachment.last_add,
            attachment.live_add,
            attachment.last_del,
            attachment.last_operation,
            list(attachment.history),
        )
        if operation.command == "ADD":
            attachment.last_add = operation
            if not operation.failed:
                attachment.live, attachment.live_add = True, operation
                attachment.history = [operation]
        elif operation.command == "DEL":
            attachment.last_del = operation
            attachment.live, attachment.live_add = False, None
        if operation.command != "ADD" or operation.failed:
            attachment.history.append(operation)
        attachment.last_operation = operation
        self.attachments[operation.attachment] = attachment
        self.attachments.move_to_end(operation.attachment)
        self._prune()
        return OperationDone(operation, before, attachment)

    def _prune(self) -> None:
        dead = [key for key, attachment in self.attachments.items() if not attachment.live]
        for key in dead[: max(0, len(dead) - MAX_TOMBSTONES)]:
            del self.attachments[key]

    def finish(self) -> Iterator[OperationDone]:
        for operation in sorted(self.current.values(), key=lambda op: op.start or 0.0):
            yield self._finish(operation)

    def live(self) -> list[Attachment]:
        return [attachment for attachment in self.attachments.values() if attachment.live]
