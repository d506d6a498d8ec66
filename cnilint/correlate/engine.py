"""Run the cross-record rules over the calls of every log, in time order.

Calls arrive merged by start second. Within one second the order between logs
is unknown, so each second's calls are buffered and put in the only order the
logs can prove: per attachment, an ADD chain follows its prevResult links
(each plugin gets the previous one's output); CHECK and DEL follow the
attachment's ADD order (and cannot be judged on order inside that second).
Then the trackers see them one by one and the rules registered for each hook
run on what the trackers produce.

Speed: a rule runs only where it can report. A rule's finding sits on its
hook's subject (the call of "call", the delegate of "pairing" and "orphan",
the upper of "group", a record of the operation, of its command, for
"operation"), and a rule reports only on records of the commands and versions
the catalogue gives it; so per hook and subject the rules that apply are
worked out once per command and version. A rule that reports elsewhere is
reported as an internal error (it would be skipped where it should run).
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from cnilint.correlate.calls import Call, canonical
from cnilint.correlate.conflist import Conflist, VersionEvidence
from cnilint.correlate.delegation import DelegationTracker, Orphan, Pairing, UpperGroup
from cnilint.correlate.lifecycle import Attachment, LifecycleTracker, Operation, OperationDone
from cnilint.engine import Engine
from cnilint.facts import Facts
from cnilint.findings import Finding, Related
from cnilint.rules import CROSS_CHECKS, CROSS_HOOKS, WRAPPER_ARTEFACT, CrossCheck, CrossViolation
from cnilint.versions import COMMANDS

__all__ = ["CallContext", "CrossEngine", "EndContext", "OperationContext", "canonical", "needs_conflist"]

RECENT_SECONDS = 5.0  # how long calls stay visible to overlap rules
RECENT_CALLS = 64  # and at most this many per container: dates that jump back must not grow the window
MAX_DISPATCH_KEYS = 4_096  # (hook, command, version) combinations remembered: logs may hold any version

Found = list[tuple[Call, Finding]]


@dataclass(eq=False, slots=True)
class CallContext:
    """A call, with the calls of the same container that started shortly before."""

    call: Call
    recent_same_container: tuple[Call, ...]
    attachments: dict  # attachment key -> Attachment, as known before this call's operation ends
    conflist: Conflist | None  # the --conflist of the call's network, if given
    lifecycle: LifecycleTracker | None = None  # for questions across attachments (live_add, recent_gc...)
    versions: VersionEvidence | None = None  # VERSION replies and request versions seen before this call


@dataclass(eq=False, slots=True)
class OperationContext:
    """An operation that ended, the attachment before and after it, and its --conflist."""

    operation: Operation
    before: Attachment
    after: Attachment
    conflist: Conflist | None
    lifecycle: LifecycleTracker | None = None


@dataclass(eq=False, slots=True)
class EndContext:
    live: list[Attachment]
    attachments: dict
    lifecycle: LifecycleTracker | None = None


# Rules that say nothing without the --conflist of the call's network (LIST):
# without any --conflist they are not run at all.
_CONFLIST_ONLY: set[Callable[..., Any]] = set()
_Rule = TypeVar("_Rule", bound=Callable[..., Any])


def needs_conflist(function: _Rule) -> _Rule:
    """Mark a cross-record rule as silent when its context has no conflist."""
    _CONFLIST_ONLY.add(function)
    return function


@dataclass
class _OpenOperation:
    command: str | None
    plugins: set[str | None]
    last_output: str | None  # None also when the last call failed


def _continues(open_op: _OpenOperation | None, call: Call) -> bool:
    """Whether `call` is the next plugin of the attachment's open operation:
    same command, a plugin not yet run, and for ADD the previous output as prevResult."""
    if open_op is None or call.command != open_op.command or call.plugin in open_op.plugins:
        return False
    if call.command != "ADD":
        return True
    prev = call.prev_key
    if prev is None:
        return False
    # After a failure the wrapper hid, the runtime passes on what it made of the
    # error object (an empty result), not the previous output.
    return open_op.last_output is None or prev == open_op.last_output


def _has_prev(call: Call) -> bool:
    return "prevResult" in (call.facts.config or {})


class CrossEngine:
    def __init__(self, engine: Engine, conflists: dict[str, Conflist] | None = None) -> None:
        self.engine = engine
        self.conflists = conflists or {}
        self.versions = VersionEvidence()
        self.delegation = DelegationTracker()
        self.lifecycle = LifecycleTracker()
        self.errors: list[str] = []
        enabled = engine.options.enabled
        self._enabled: dict[str, tuple[CrossCheck, ...]] = {
            hook: tuple(
                check
                for check in CROSS_CHECKS[hook]
                if enabled(check.rule_id) and (self.conflists or check.run not in _CONFLIST_ONLY)
            )
            for hook in CROSS_HOOKS
        }
        self._dispatch: dict[tuple[str, str | None, Any, bool], tuple[CrossCheck, ...]] = {}
        self._applies: dict[tuple[str, str | None, Any], bool] = {}
        # Calls of each container seen lately; the heap holds (start, tick, container)
        # of each window's last call, to forget windows gone quiet without a scan.
        self._recent: dict[str, deque[Call]] = {}
        self._recent_heap: list[tuple[float, int, str]] = []
        self._recent_tick: dict[str, int] = {}  # container -> tick of its window's valid heap entry
        self._ticks = itertools.count()

    def run(self, calls: Iterable[Call]) -> Iterator[tuple[Call, Finding]]:
        """Yield (call the finding sits on, finding) as soon as each is known
        (each second's findings once the second is over)."""
        second: int | None = None
        buffer: list[Call] = []
        for call in calls:
            this_second = call.second if call.start is not None else second
            if buffer and this_second != second:
                yield from self._flush(buffer)
                buffer = []
            second = this_second
            buffer.append(call)
        yield from self._flush(buffer)
        yield from self._finish()

    # -- order within one second ---------------------------------------------

    def _order(self, calls: list[Call]) -> list[Call]:
        """One second's calls: each log's own order is kept; between logs, a call
        that continues its attachment's open operation goes first."""
        runtime = [call for call in calls if call.runtime_issued]
        by_log: dict[int, list[Call]] = {}
        for call in runtime:
            by_log.setdefault(call.file_order, []).append(call)
        # One log: its own order, nothing to choose.
        ordered = self._interleave([deque(by_log[order]) for order in sorted(by_log)]) if len(by_log) > 1 else runtime
        if len(ordered) > 1:
            counts = Counter(call.attachment for call in ordered)
            for call in ordered:
                if counts[call.attachment] > 1:
                    call.notes["same_second"] = True  # order against the other logs is not proven
        if len(runtime) == len(calls):
            return ordered
        return ordered + [call for call in calls if not call.runtime_issued]

    def _interleave(self, queues: list[deque[Call]]) -> list[Call]:
        current = self.lifecycle.current
        open_ops: dict[tuple[str | None, str, str], _OpenOperation | None] = {}

        def open_op(key: tuple[str | None, str, str]) -> _OpenOperation | None:
            # The attachment's operation as the second started, then as this second moved it on.
            if key not in open_ops:
                operation = current.get(key)
                open_ops[key] = (
                    _OpenOperation(operation.command, set(operation.plugins), operation.calls[-1].output_key)
                    if operation is not None
                    else None
                )
            return open_ops[key]

        ranks: dict[Call, int] = {}  # the state _expected_rank reads does not change in here

        def first_expected(candidates: list[deque[Call]]) -> deque[Call]:
            def rank(queue: deque[Call]) -> int:
                call = queue[0]
                found = ranks.get(call)
                if found is None:
                    found = ranks[call] = self._expected_rank(call)
                return found

            return min(candidates, key=rank)

        ordered: list[Call] = []
        while True:
            heads = [queue for queue in queues if queue]
            if len(heads) <= 1:
                if heads:
                    ordered.extend(heads[0])  # one log left: its own order
                return ordered
            continuing = [q for q in heads if _continues(open_op(q[0].attachment), q[0])]
            # Several fit (a pass-through plugin echoes its prevResult): take the
            # order the attachment's ADD or the conflist gives; still unproven.
            if continuing:
                queue = continuing[0] if len(continuing) == 1 else first_expected(continuing)
            else:
                starts = [q for q in heads if q[0].command == "ADD" and not _has_prev(q[0])]
                queue = starts[0] if starts else first_expected(heads)
            call = queue.popleft()
            operation = open_op(call.attachment)
            if _continues(operation, call):
                operation.plugins.add(call.plugin)  # type: ignore[union-attr]
                operation.last_output = call.output_key  # type: ignore[union-attr]
            else:
                open_ops[call.attachment] = _OpenOperation(call.command, {call.plugin}, call.output_key)
            ordered.append(call)

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
        return order.index(call.plugin) if call.plugin in order else len(order)

    # -- feeding the trackers and the rules ------------------------------------

    def _flush(self, calls: list[Call]) -> Found:
        found: Found = []
        lifecycle, delegation, versions = self.lifecycle, self.delegation, self.versions
        for call in self._order(calls):
            recent = self._remember(call)
            conflist = self.conflists.get(call.network or "") if self.conflists else None
            checks = self._checks_on("call", call, conflist is not None)
            if checks:
                context = CallContext(call, recent, lifecycle.attachments, conflist, lifecycle, versions)
                self._run(checks, context, call, found)
            versions.add(call)
            for event in delegation.add(call):
                found.extend(self._delegation_event(event))
            for done in lifecycle.add(call):
                self._operation(done, found)
        return found

    def _operation(self, done: OperationDone, found: Found) -> None:
        operation = done.operation
        conflist = self.conflists.get(operation.attachment[0] or "") if self.conflists else None
        checks = self._operation_checks(operation.command, conflist is not None)
        if not checks:
            return
        context = OperationContext(operation, done.before, done.after, conflist, self.lifecycle)
        self._run(checks, context, None, found, operation.command)

    def _remember(self, call: Call) -> tuple[Call, ...]:
        container = call.container
        window = self._recent.get(container)
        if window is None:
            window = self._recent[container] = deque(maxlen=RECENT_CALLS)
        start = call.start
        if start is not None:
            limit = start - RECENT_SECONDS
            while window and window[0].start is not None and window[0].start < limit:
                window.popleft()
        recent = tuple(window)
        window.append(call)
        if start is None:
            self._recent_tick.pop(container, None)  # its last call has no date: never stale
            return recent
        tick = next(self._ticks)
        self._recent_tick[container] = tick
        heapq.heappush(self._recent_heap, (start, tick, container))
        self._forget_before(start)
        return recent

    def _forget_before(self, now: float) -> None:
        """Drop the windows of containers with no call in the last RECENT_SECONDS
        (memory follows the containers seen lately, not all containers ever seen)."""
        heap, ticks = self._recent_heap, self._recent_tick
        limit = now - RECENT_SECONDS
        while heap and heap[0][0] < limit:
            _, tick, container = heapq.heappop(heap)
            if ticks.get(container) == tick:
                del self._recent[container]
                del ticks[container]
        if len(heap) > 4 * len(ticks) + 1024:  # entries of calls that are no longer their window's last
            self._recent_heap = [entry for entry in heap if ticks.get(entry[2]) == entry[1]]
            heapq.heapify(self._recent_heap)

    def _delegation_event(self, event: UpperGroup | Pairing | Orphan) -> Iterable[tuple[Call, Finding]]:
        found: Found = []
        if isinstance(event, Pairing):
            event.delegate.upper = event.upper
            self._run(self._checks_on("pairing", event.delegate), event, event.delegate, found)
        elif isinstance(event, Orphan):
            self._run(self._checks_on("orphan", event.delegate), event, event.delegate, found)
        else:
            self._run(self._checks_on("group", event.upper), event, event.upper, found)
        return found

    def _finish(self) -> Found:
        found: Found = []
        for group in self.delegation.finish():
            self._run(self._checks_on("group", group.upper), group, group.upper, found)
        for done in self.lifecycle.finish():
            self._operation(done, found)
        checks = self._enabled["end"]
        if checks:
            lifecycle = self.lifecycle
            self._run(checks, EndContext(lifecycle.live(), lifecycle.attachments, lifecycle), None, found)
        return found

    # -- which rules run -------------------------------------------------------

    def _checks_on(self, hook: str, subject: Call, with_conflist: bool = True) -> tuple[CrossCheck, ...]:
        """The enabled rules of a hook that apply to its subject's command and version."""
        facts = subject.facts
        key = (hook, subject.command, facts.version, with_conflist)
        checks = self._dispatch.get(key)
        if checks is None:
            if len(self._dispatch) >= MAX_DISPATCH_KEYS:
                self._dispatch.clear()
            checks = tuple(
                check
                for check in self._enabled[hook]
                if (with_conflist or check.run not in _CONFLIST_ONLY) and self._rule_applies(check.rule_id, facts)
            )
            self._dispatch[key] = checks
        return checks

    def _operation_checks(self, command: str, with_conflist: bool) -> tuple[CrossCheck, ...]:
        """The enabled operation rules of the catalogue's commands (each reports
        on a record of the operation, so of its command)."""
        key = ("operation", command, None, with_conflist)
        checks = self._dispatch.get(key)
        if checks is None:
            rules = self.engine.rules
            checks = tuple(
                check
                for check in self._enabled["operation"]
                if (with_conflist or check.run not in _CONFLIST_ONLY)
                and rules[check.rule_id].applies_to_command(command, COMMANDS)
            )
            self._dispatch[key] = checks
        return checks

    def _rule_applies(self, rule_id: str, facts: Facts) -> bool:
        # Engine.rule_applies depends on the record's command and version only.
        key = (rule_id, facts.record.command, facts.version)
        applies = self._applies.get(key)
        if applies is None:
            if len(self._applies) >= MAX_DISPATCH_KEYS:
                self._applies.clear()
            applies = self._applies[key] = self.engine.rule_applies(rule_id, facts)
        return applies

    def _run(
        self,
        checks: tuple[CrossCheck, ...],
        context: Any,
        subject: Call | None,
        found: Found,
        command: str | None = None,
    ) -> None:
        """Run `checks` on `context`; `subject` (or `command`) is where their findings must sit."""
        for check in checks:
            try:
                for crossed in check.run(context):
                    if (subject is not None and crossed.subject is not subject) or (
                        command is not None and crossed.subject.command != command
                    ):
                        self.errors.append(
                            f"internal error in {check.name} ({check.rule_id}): it reported on a record other "
                            "than its hook's subject, so it may be skipped where it applies"
                        )
                    finding = self._finding(check.rule_id, crossed)
                    if finding is not None:
                        found.append((crossed.subject, finding))
            except Exception as exc:  # a bug in one rule must not stop the others
                self.errors.append(f"internal error in {check.name} ({check.rule_id}): {exc!r}")

    def _finding(self, rule_id: str, crossed: CrossViolation) -> Finding | None:
        facts = crossed.subject.facts
        if not self._rule_applies(rule_id, facts):
            return None
        related = tuple(
            Related(call.record.file, call.record.line, call.record.index)
            for call in crossed.related
            if call is not crossed.subject
        )
        # A wrapper that logs exit codes (cnilint's) passes them on: the runtime saw the failure.
        hidden = crossed.wrapper_artefact and all(
            call.record.exit_code is None for call in (crossed.subject, *crossed.related)
        )
        known = WRAPPER_ARTEFACT if hidden else None
        return self.engine.cross_finding(rule_id, crossed.violation, facts, related, known)
