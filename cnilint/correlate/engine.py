"""Run the cross-record rules over the calls of every log, in time order.

Calls arrive merged by start second. Within one second the order between logs
is unknown, so each second's calls are buffered and put in the only order the
logs can prove: per attachment, an ADD chain follows its prevResult links
(each plugin gets the previous one's output); CHECK and DEL follow the
attachment's ADD order (and cannot be judged on order inside that second).
Then the trackers see them one by one and the rules registered for each hook
run on what the trackers produce.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from cnilint.correlate.calls import Call
from cnilint.correlate.conflist import Conflist, VersionEvidence
from cnilint.correlate.delegation import DelegationTracker, Orphan, Pairing, UpperGroup
from cnilint.correlate.lifecycle import Attachment, LifecycleTracker, Operation, OperationDone
from cnilint.engine import Engine
from cnilint.findings import Finding, Related
from cnilint.rules import CROSS_CHECKS, WRAPPER_ARTEFACT, CrossViolation

RECENT_SECONDS = 5.0  # how long calls stay visible to overlap rules
RECENT_CALLS = 64  # and at most this many per container: dates that jump back must not grow the window


@dataclass(frozen=True, eq=False)
class CallContext:
    """A call, with the calls of the same container that started shortly before."""

    call: Call
    recent_same_container: tuple[Call, ...]
    attachments: dict  # attachment key -> Attachment, as known before this call's operation ends
    conflist: Conflist | None  # the --conflist of the call's network, if given
    lifecycle: LifecycleTracker | None = None  # for questions across attachments (live_add, recent_gc...)
    versions: VersionEvidence | None = None  # VERSION replies and request versions seen before this call


@dataclass(frozen=True, eq=False)
class OperationContext:
    """An operation that ended, the attachment before and after it, and its --conflist."""

    operation: Operation
    before: Attachment
    after: Attachment
    conflist: Conflist | None
    lifecycle: LifecycleTracker | None = None


@dataclass(frozen=True, eq=False)
class EndContext:
    live: list[Attachment]
    attachments: dict
    lifecycle: LifecycleTracker | None = None


def canonical(value: Any) -> str:
    """JSON equality: key order ignored, array order kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


@dataclass
class _OpenOperation:
    command: str | None
    plugins: set[str | None]
    last_output: str | None  # None also when the last call failed


def _continues(open_op: _OpenOperation | None, call: Call) -> bool:
    """Whether `call` is the next plugin of the attachment's open operation:
    same command, a plugin not yet run, and for ADD the previous output as prevResult."""
    if open_op is None or call.command != open_op.command or call.record.plugin in open_op.plugins:
        return False
    if call.command != "ADD":
        return True
    prev = (call.facts.config or {}).get("prevResult")
    if prev is None:
        return False
    # After a failure the wrapper hid, the runtime passes on what it made of the
    # error object (an empty result), not the previous output.
    return open_op.last_output is None or canonical(prev) == open_op.last_output


def _by_log(calls: Iterable[Call]) -> list[list[Call]]:
    groups: dict[int, list[Call]] = defaultdict(list)
    for call in calls:
        groups[call.file_order].append(call)
    return [groups[order] for order in sorted(groups)]


def _has_prev(call: Call) -> bool:
    return "prevResult" in (call.facts.config or {})


def _output_key(call: Call) -> str | None:
    if call.facts.failed or call.facts.result is None:
        return None
    return canonical(call.facts.result)


class CrossEngine:
    def __init__(self, engine: Engine, conflists: dict[str, Conflist] | None = None) -> None:
        self.engine = engine
        self.conflists = conflists or {}
        self.versions = VersionEvidence()
        self.delegation = DelegationTracker()
        self.lifecycle = LifecycleTracker()
        self._recent: dict[str, deque[Call]] = defaultdict(deque)
        self.errors: list[str] = []

    def run(self, calls: Iterable[Call]) -> Iterator[tuple[Call, Finding]]:
        """Yield (call the finding sits on, finding) as soon as each is known."""
        second: float | None = None
        buffer: list[Call] = []
        for call in calls:
            this_second = math.floor(call.start) if call.start is not None else second
            if buffer and this_second != second:
                yield from self._flush(buffer)
                buffer = []
            second = this_second
            buffer.append(call)
        yield from self._flush(buffer)
        yield from self._finish()

    def _order(self, calls: list[Call]) -> list[Call]:
        """One second's calls: each log's own order is kept; between logs, a call
        that continues its attachment's open operation goes first."""
        queues = [deque(group) for group in _by_log(call for call in calls if call.runtime_issued)]
        open_ops = {
            key: _OpenOperation(op.command, set(op.plugins), _output_key(op.calls[-1]))
            for key, op in self.lifecycle.current.items()
        }
        ordered: list[Call] = []
        while any(queues):
            heads = [queue for queue in queues if queue]
            continuing = [q for q in heads if _continues(open_ops.get(q[0].attachment), q[0])]
            # Several fit (a pass-through plugin echoes its prevResult): take the
            # order the attachment's ADD or the conflist gives; still unproven.
            queue = min(continuing, key=lambda q: self._expected_rank(q[0])) if continuing else None
            if queue is None:
                starts = [q for q in heads if q[0].command == "ADD" and not _has_prev(q[0])]
                queue = starts[0] if starts else min(heads, key=lambda q: self._expected_rank(q[0]))
            call = queue.popleft()
            open_op = open_ops.get(call.attachment)
            if _continues(open_op, call):
                open_op.plugins.add(call.record.plugin)  # type: ignore[union-attr]
                open_op.last_output = _output_key(call)  # type: ignore[union-attr]
            else:
                open_ops[call.attachment] = _OpenOperation(call.command, {call.record.plugin}, _output_key(call))
            ordered.append(call)
        same_second = [call for call in ordered if sum(c.attachment == call.attachment for c in ordered) > 1]
        for call in same_second:
            call.notes["same_second"] = True  # order against the other logs is not proven
        return ordered + [call for call in calls if not call.runtime_issued]

    def _expected_rank(self, call: Call) -> int:
        """Where the plugin should come in its operation: the conflist's order when
        given, else the attachment's ADD order (reversed for DEL)."""
        conflist = self.conflists.get(call.network or "")
        order: list[str | None] = [plugin.get("type") for plugin in conflist.plugins] if conflist is not None else []
        if not order:
            add = self.lifecycle.current.get(call.attachment)
            if add is None or add.command != "ADD":
                known = self.lifecycle.attachments.get(call.attachment)
                add = known.last_add if known is not None else None
            order = list(add.plugins) if add is not None else []
        if call.command == "DEL":
            order.reverse()
        return order.index(call.record.plugin) if call.record.plugin in order else len(order)

    def _flush(self, calls: list[Call]) -> Iterator[tuple[Call, Finding]]:
        for call in self._order(calls):
            recent = self._remember(call)
            conflist = self.conflists.get(call.network or "")
            context = CallContext(call, recent, self.lifecycle.attachments, conflist, self.lifecycle, self.versions)
            yield from self._hook("call", context)
            self.versions.add(call)
            for event in self.delegation.add(call):
                yield from self._delegation_event(event)
            for done in self.lifecycle.add(call):
                yield from self._operation(done)

    def _operation(self, done: OperationDone) -> Iterator[tuple[Call, Finding]]:
        conflist = self.conflists.get(done.operation.attachment[0] or "")
        context = OperationContext(done.operation, done.before, done.after, conflist, self.lifecycle)
        yield from self._hook("operation", context)

    def _remember(self, call: Call) -> tuple[Call, ...]:
        container = call.facts.variable("CNI_CONTAINERID")
        window = self._recent.setdefault(container, deque(maxlen=RECENT_CALLS))
        if call.start is not None:
            while window and window[0].start is not None and window[0].start < call.start - RECENT_SECONDS:
                window.popleft()
        recent = tuple(window)
        window.append(call)
        self._forget_before(call.start)
        return recent

    def _forget_before(self, now: float | None) -> None:
        """Drop the windows of containers with no call in the last RECENT_SECONDS
        (memory follows the containers seen lately, not all containers ever seen)."""
        if now is None:
            return
        stale = [
            key
            for key, calls in self._recent.items()
            if not calls or (calls[-1].start is not None and calls[-1].start < now - RECENT_SECONDS)
        ]
        for key in stale:
            del self._recent[key]

    def _delegation_event(self, event: UpperGroup | Pairing | Orphan) -> Iterator[tuple[Call, Finding]]:
        if isinstance(event, Pairing):
            event.delegate.notes["upper"] = event.upper
            yield from self._hook("pairing", event)
        elif isinstance(event, Orphan):
            yield from self._hook("orphan", event)
        else:
            yield from self._hook("group", event)

    def _finish(self) -> Iterator[tuple[Call, Finding]]:
        for group in self.delegation.finish():
            yield from self._hook("group", group)
        for done in self.lifecycle.finish():
            yield from self._operation(done)
        yield from self._hook("end", EndContext(self.lifecycle.live(), self.lifecycle.attachments, self.lifecycle))

    def _hook(self, hook: str, context: Any) -> Iterator[tuple[Call, Finding]]:
        for check in CROSS_CHECKS[hook]:
            if not self.engine.options.enabled(check.rule_id):
                continue
            try:
                for crossed in check.run(context):
                    finding = self._finding(check.rule_id, crossed)
                    if finding is not None:
                        yield crossed.subject, finding
            except Exception as exc:  # a bug in one rule must not stop the others
                self.errors.append(f"internal error in {check.name} ({check.rule_id}): {exc!r}")

    def _finding(self, rule_id: str, crossed: CrossViolation) -> Finding | None:
        facts = crossed.subject.facts
        if not self.engine.rule_applies(rule_id, facts):
            return None
        related = tuple(
            Related(call.record.file, call.record.line, call.record.index)
            for call in crossed.related
            if call is not crossed.subject
        )
        known = WRAPPER_ARTEFACT if crossed.wrapper_artefact else None
        return self.engine.cross_finding(rule_id, crossed.violation, facts, related, known)
