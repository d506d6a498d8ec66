"""Operations and attachments: the ADD, CHECK and DEL of one attachment over time.

Catalogue definitions: an attachment is (INPUT.name, CNI_CONTAINERID,
CNI_IFNAME). An operation is the runtime-issued records of one attachment and
one command that the runtime ran as one pass over the plugin list: an ADD
operation starts at a record without prevResult, and a new operation starts
when a plugin repeats or the command changes. The final ADD result is the
OUTPUT of the last record of the latest successful ADD operation; an
attachment is live from a successful ADD operation until the next DEL.

An operation ends when the next operation of its attachment starts, or when
the stream has passed its last record's return by more than a runtime ever
waits between two plugins of one pass (so the state is current for rules
that compare attachments with each other), or at the end of the logs.

State is kept per attachment; attachments that are no longer live are kept
as small tombstones (for "DEL again", "CHECK after DEL") up to a bound, and
each attachment keeps a bounded history, so memory follows the live
attachments, not the length of the logs. A report that wants every operation
(the timeline) registers a listener and keeps what it needs itself.
"""

from __future__ import annotations

import heapq
import itertools
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cnilint.correlate.calls import Call

AttachmentKey = tuple[str | None, str, str]
OPERATION_COMMANDS = ("ADD", "DEL", "CHECK")
# Attachments no longer live, kept for "DEL again" and "CHECK after DEL". Each
# holds its records, so the bound is what keeps memory flat on long logs
# (benchmarks/bench_memory.py: ~49 MB peak from 4 to 34 MB of logs); a repeat
# call after 256 other attachments died is then simply not judged.
MAX_TOMBSTONES = 256
MAX_HISTORY = 32  # operations kept per attachment for the checks
MAX_PENDING_FAILURES = 8  # failed ADDs not yet followed by a DEL, per attachment
MAX_NETWORK_PLUGINS = 1_024  # (plugin, network) pairs whose last ADD is remembered
OPERATION_GAP_SECONDS = 2.0  # a runtime starts the next plugin of a pass at once; dates are whole seconds
GC_SLACK_SECONDS = 1.0


@dataclass(eq=False)
class Operation:
    command: str
    attachment: AttachmentKey
    calls: list[Call] = field(default_factory=list)
    seq: int = 0  # order in which the operations started, across the whole run
    # ADD only: the ADD operations that kept other attachments of the same
    # container live when this one started (the state then, not at its end).
    live_peers: tuple[Operation, ...] = ()
    notes: dict[str, Any] = field(default_factory=dict)  # facts rules derived once (e.g. its addresses)
    delegated: list[Call] = field(default_factory=list)  # delegated (IPAM) records its calls ran, once paired

    @property
    def plugins(self) -> list[str | None]:
        return [call.plugin for call in self.calls]

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

    @property
    def end(self) -> float | None:
        return self.calls[-1].end if self.calls else None

    @property
    def network(self) -> str | None:
        return self.attachment[0]

    @property
    def container(self) -> str:
        return self.attachment[1]

    @property
    def ifname(self) -> str:
        return self.attachment[2]

    def call_of(self, plugin: str | None) -> Call | None:
        """This operation's record of one plugin."""
        for call in self.calls:
            if call.plugin == plugin:
                return call
        return None


@dataclass(eq=False)
class Attachment:
    key: AttachmentKey
    live: bool = False
    last_add: Operation | None = None  # latest ADD operation, successful or not
    live_add: Operation | None = None  # the successful ADD that made it live
    last_del: Operation | None = None
    last_operation: Operation | None = None
    history: list[Operation] = field(default_factory=list)  # current life, the last MAX_HISTORY operations
    pending_failures: list[Operation] = field(default_factory=list)  # failed ADDs with no DEL after them yet


@dataclass(frozen=True, eq=False)
class OperationDone:
    """An operation that ended, with the attachment as it was before it."""

    operation: Operation
    before: Attachment
    after: Attachment


def _snapshot(attachment: Attachment) -> Attachment:
    return Attachment(
        attachment.key,
        attachment.live,
        attachment.last_add,
        attachment.live_add,
        attachment.last_del,
        attachment.last_operation,
        list(attachment.history),
        list(attachment.pending_failures),
    )


class LifecycleTracker:
    def __init__(self) -> None:
        self.attachments: OrderedDict[AttachmentKey, Attachment] = OrderedDict()
        self.current: dict[AttachmentKey, Operation] = {}  # operations not yet ended
        self.listeners: list[Callable[[OperationDone], None]] = []  # told of every operation that ends
        self._tombstones: OrderedDict[AttachmentKey, None] = OrderedDict()  # attachments not live, oldest first
        # Attachments live or with an operation under way, by container and by network.
        self._by_container: dict[str, set[AttachmentKey]] = {}
        self._by_network: dict[str | None, set[AttachmentKey]] = {}
        self._recent_gc: dict[str | None, deque[Call]] = {}
        self._last_add_call: OrderedDict[tuple[str | None, str | None], Call] = OrderedDict()
        self._seq = 0
        # (end, tick, operation) of each current operation's last record, to find
        # idle operations without a scan; entries of ended operations or of an
        # earlier last record are skipped when they come up.
        self._ends: list[tuple[float, int, Operation]] = []
        self._ticks = itertools.count()
        # What rules derive across operations and keep up to date themselves (an
        # index, by rule ID); each rule keeps its entry bounded by the live attachments.
        self.rule_state: dict[str, Any] = {}

    # -- feeding -----------------------------------------------------------

    def add(self, call: Call) -> Iterator[OperationDone]:
        """Feed the next call in time order (delegated and GC calls only move the clock)."""
        if call.start is not None:
            yield from self._close_idle(call.start)
        runtime_issued = call.runtime_issued
        if runtime_issued and call.command == "GC":
            self._recent_gc.setdefault(call.network, deque()).append(call)
        if call.upper is not None:
            self._adopt_delegate(call)
        if not runtime_issued or call.command not in OPERATION_COMMANDS:
            return
        key = call.attachment
        current = self.current.get(key)
        if current is not None and self._continues(current, call):
            current.calls.append(call)
            self._watch_end(current)
            self._remember_add(call)
            return
        if current is not None:
            yield from self._end(current)
        self._seq += 1
        operation = Operation(call.command or "", key, [call], self._seq)
        if operation.command == "ADD":
            operation.live_peers = tuple(self.live_adds_of_container(key[1], exclude=key))
        self.current[key] = operation
        self._watch_end(operation)
        self._index(key)
        self._remember_add(call)

    def _adopt_delegate(self, call: Call) -> None:
        """A delegated record already paired with its upper (Call.upper) joins the upper's operation."""
        upper = call.upper
        operation = self.current.get(upper.attachment) if upper is not None else None
        if operation is not None and any(mine is upper for mine in operation.calls):
            operation.delegated.append(call)

    @staticmethod
    def _continues(operation: Operation, call: Call) -> bool:
        if call.command != operation.command or any(mine.plugin == call.plugin for mine in operation.calls):
            return False
        # An ADD operation starts at a record without prevResult.
        return not (call.command == "ADD" and "prevResult" not in (call.facts.config or {}))

    def _watch_end(self, operation: Operation) -> None:
        end = operation.end
        if end is not None:
            heapq.heappush(self._ends, (end, next(self._ticks), operation))

    def _close_idle(self, now: float) -> Iterator[OperationDone]:
        """End the operations whose last record returned long enough ago."""
        ends = self._ends
        if ends and ends[0][0] + OPERATION_GAP_SECONDS < now:
            idle: dict[int, Operation] = {}
            while ends and ends[0][0] + OPERATION_GAP_SECONDS < now:
                end, _, operation = heapq.heappop(ends)
                # Still current, and this is still its last record's return.
                if self.current.get(operation.attachment) is operation and operation.end == end:
                    idle[id(operation)] = operation
            for operation in sorted(idle.values(), key=lambda op: op.seq):
                yield from self._end(operation)
        if len(ends) > 4 * len(self.current) + 1024:  # entries of ended operations: drop them
            self._ends = [entry for entry in ends if self.current.get(entry[2].attachment) is entry[2]]
            heapq.heapify(self._ends)
        if self._recent_gc:
            for network in list(self._recent_gc):
                window = self._recent_gc[network]
                while window and window[0].end is not None and window[0].end + GC_SLACK_SECONDS < now:
                    window.popleft()
                if not window:
                    del self._recent_gc[network]

    def _remember_add(self, call: Call) -> None:
        if call.command != "ADD":
            return
        key = (call.record.plugin, call.network)
        self._last_add_call[key] = call
        self._last_add_call.move_to_end(key)
        while len(self._last_add_call) > MAX_NETWORK_PLUGINS:
            self._last_add_call.popitem(last=False)

    def _finish(self, operation: Operation) -> OperationDone:
        del self.current[operation.attachment]
        attachment = self.attachments.get(operation.attachment) or Attachment(operation.attachment)
        before = _snapshot(attachment)
        if operation.command == "ADD":
            attachment.last_add = operation
            if not operation.failed:
                attachment.live, attachment.live_add = True, operation
                attachment.history = [operation]
            elif len(attachment.pending_failures) < MAX_PENDING_FAILURES:
                attachment.pending_failures.append(operation)
        elif operation.command == "DEL":
            attachment.last_del = operation
            attachment.live, attachment.live_add = False, None
            attachment.pending_failures = []
        if operation.command != "ADD" or operation.failed:
            attachment.history.append(operation)
            del attachment.history[:-MAX_HISTORY]
        attachment.last_operation = operation
        self.attachments[operation.attachment] = attachment
        self.attachments.move_to_end(operation.attachment)
        if attachment.live:
            self._tombstones.pop(operation.attachment, None)
        else:
            self._tombstones[operation.attachment] = None
            self._tombstones.move_to_end(operation.attachment)
            self._unindex(operation.attachment)
        self._prune()
        done = OperationDone(operation, before, attachment)
        for listener in self.listeners:
            listener(done)
        return done

    def _prune(self) -> None:
        while len(self._tombstones) > MAX_TOMBSTONES:
            key, _ = self._tombstones.popitem(last=False)
            del self.attachments[key]

    def _index(self, key: AttachmentKey) -> None:
        self._by_container.setdefault(key[1], set()).add(key)
        self._by_network.setdefault(key[0], set()).add(key)

    def _unindex(self, key: AttachmentKey) -> None:
        _discard(self._by_container, key[1], key)
        _discard(self._by_network, key[0], key)

    def finish(self) -> Iterator[OperationDone]:
        for operation in sorted(self.current.values(), key=lambda op: op.seq):
            yield from self._end(operation)

    def _end(self, operation: Operation) -> Iterator[OperationDone]:
        yield self._finish(operation)
        # Once the rules have seen it, the start-time state is no longer needed:
        # dropping it keeps ended operations from holding on to others.
        operation.live_peers = ()

    # -- questions the rules ask -------------------------------------------

    def live(self) -> list[Attachment]:
        return [attachment for attachment in self.attachments.values() if attachment.live]

    def live_add(self, key: AttachmentKey) -> Operation | None:
        """The ADD operation that keeps `key` live now: a DEL that started ends
        it, an ADD in progress that has not failed (yet) makes it."""
        current = self.current.get(key)
        if current is not None:
            if current.command == "DEL":
                return None
            if current.command == "ADD" and not current.failed:
                return current
        attachment = self.attachments.get(key)
        return attachment.live_add if attachment is not None and attachment.live else None

    def live_adds_of_container(self, container: str, exclude: AttachmentKey | None = None) -> list[Operation]:
        """The ADD operations keeping attachments of one container live now, in start order."""
        return self._live_adds(self._by_container.get(container, set()), exclude)

    def keeps_live(self, operation: Operation) -> bool:
        """`operation` is the ADD that keeps its attachment live now: one of
        live_adds_of_network(its network)."""
        key = operation.attachment
        return key in self._by_network.get(key[0], ()) and self.live_add(key) is operation

    def live_count(self, network: str | None) -> int:
        """Attachments of a network that are live or have an operation under way."""
        return len(self._by_network.get(network, ()))

    def live_adds_of_network(self, network: str | None, exclude: AttachmentKey | None = None) -> list[Operation]:
        """The ADD operations keeping attachments of one network (INPUT.name) live now, in start order."""
        return self._live_adds(self._by_network.get(network, set()), exclude)

    def _live_adds(self, keys: set[AttachmentKey], exclude: AttachmentKey | None) -> list[Operation]:
        found = [op for key in keys if key != exclude and (op := self.live_add(key)) is not None]
        return sorted(found, key=lambda op: op.seq)

    def keys_of_network(self, network: str | None) -> list[AttachmentKey]:
        return sorted(self._by_network.get(network, set()), key=lambda key: (key[1], key[2]))

    def recent_gc(self, network: str | None) -> tuple[Call, ...]:
        """GC records of a network that may still be running."""
        return tuple(self._recent_gc.get(network, ()))

    def last_add_call(self, plugin: str | None, network: str | None) -> Call | None:
        """The latest runtime-issued ADD record of a plugin on a network."""
        return self._last_add_call.get((plugin, network))

    def running(self, network: str | None) -> list[Operation]:
        """Operations of a network not yet ended."""
        return sorted((op for key, op in self.current.items() if key[0] == network), key=lambda op: op.seq)


def _discard(index: dict[Any, set[AttachmentKey]], part: Any, key: AttachmentKey) -> None:
    keys = index.get(part)
    if keys is not None:
        keys.discard(key)
        if not keys:
            del index[part]
