"""Records of several logs as one stream of calls, in time order.

Each log is in time order already; the streams are merged by start second.
The wrapper's dates have one-second resolution, so within one second the
order between files is unknown: there, runtime-issued records come before
delegated ones (an upper plugin starts before the IPAM plugin it runs), then
file order. Rules that depend on order within one second must not assume it.
"""

from __future__ import annotations

import heapq
import json
import math
from collections.abc import Iterable, Iterator
from operator import attrgetter
from typing import Any

from cnilint.engine import RecordResult
from cnilint.facts import Facts
from cnilint.parse import Record

_UNSET: Any = object()  # a lazily derived value not worked out yet


# json.dumps(value, sort_keys=True, separators=(",", ":")) without building an
# encoder per call; decoded JSON cannot be circular.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), check_circular=False).encode


def canonical(value: Any) -> str:
    """JSON equality: key order ignored, array order kept."""
    return _CANONICAL(value)


class Call:
    """One record in the cross-record view.

    What every tracker and rule asks of a call (its command, attachment,
    network...) is read from the record once, here: the cross-record stage
    asks it many times per call."""

    __slots__ = (
        "_output_key",
        "_prev_key",
        "attachment",
        "command",
        "container",
        "delegated",
        "end",
        "facts",
        "file_order",
        "ifname",
        "memo",
        "merge_key",
        "netns",
        "network",
        "notes",
        "plugin",
        "plugin_type",
        "record",
        "result",
        "second",
        "start",
        "upper",
    )

    def __init__(
        self,
        result: RecordResult,
        file_order: int,  # position of its log among the logs of the run
        start: float | None,  # epoch seconds of the `date` line, None when unreadable
        end: float | None,  # epoch seconds of `Returned at:`
        notes: dict[str, Any] | None = None,
    ) -> None:
        self.result = result
        self.file_order = file_order
        self.start = start
        self.end = end
        self.notes: dict[str, Any] = {} if notes is None else notes
        record: Record = result.record
        facts: Facts = result.facts
        self.record = record
        self.facts = facts
        self.command: str | None = record.command
        self.plugin: str | None = record.plugin
        config = facts.config
        name = config.get("name") if config is not None else None
        kind = config.get("type") if config is not None else None
        self.network: str | None = name if isinstance(name, str) else None
        self.plugin_type: str | None = kind if isinstance(kind, str) else None
        self.container: str = record.variable("CNI_CONTAINERID") or ""
        self.ifname: str = record.variable("CNI_IFNAME") or ""
        self.netns: str = record.variable("CNI_NETNS") or ""
        # (network name, CNI_CONTAINERID, CNI_IFNAME), the catalogue's attachment.
        self.attachment: tuple[str | None, str, str] = (self.network, self.container, self.ifname)
        self.delegated: bool = facts.delegated
        self.upper: Call | None = None  # the upper call, once paired as its delegate
        self.second: int | None = math.floor(start) if start is not None else None
        self.merge_key = (start if start is not None else -math.inf, self.delegated, file_order, record.index)
        self.memo: dict[str, Any] = {}  # values rules derive from the call once (see cnilint.rules)
        self._prev_key: Any = _UNSET
        self._output_key: Any = _UNSET

    def __repr__(self) -> str:
        return f"Call({self.plugin} {self.command} {self.where})"

    @property
    def runtime_issued(self) -> bool:
        # `upper` is set once the call is paired as a delegate: also a delegate
        # given a bare ipam section, which facts.delegated cannot recognise.
        return not self.delegated and self.upper is None

    @property
    def where(self) -> str:
        return f"{self.record.file}:{self.record.line}"

    @property
    def prev_key(self) -> str | None:
        """INPUT.prevResult as canonical JSON text, None when absent."""
        key = self._prev_key
        if key is _UNSET:
            config = self.facts.config
            prev = config.get("prevResult") if config is not None else None
            key = self._prev_key = canonical(prev) if prev is not None else None
        return key

    @property
    def output_key(self) -> str | None:
        """The result as canonical JSON text, None when the call failed or printed no JSON."""
        key = self._output_key
        if key is _UNSET:
            facts = self.facts
            key = None if facts.failed or facts.result is None else canonical(facts.result)
            self._output_key = key
        return key

    def encloses(self, other: Call) -> bool:
        """`other` ran inside this call's [start, return] interval (to the second)."""
        if None in (self.start, self.end, other.start, other.end):
            return False
        return self.start <= other.start and other.end <= self.end  # type: ignore[operator]

    def certainly_overlaps(self, other: Call) -> bool:
        """One started in a later second than the other and before the other's
        return second: the only overlap one-second dates prove."""
        if None in (self.start, self.end, other.start, other.end):
            return False
        first, second = (self, other) if self.start <= other.start else (other, self)  # type: ignore[operator]
        return first.start < second.start < first.end  # type: ignore[operator]


def _epoch(moment: Any) -> float | None:
    # A date without zone still orders the records of one log.
    return moment.timestamp() if moment is not None else None


def calls_of(results: Iterable[RecordResult], file_order: int) -> Iterator[Call]:
    last_start: float | None = None
    for result in results:
        record = result.record
        start = _epoch(record.started_at)
        start = start if start is not None else last_start
        end = _epoch(record.returned_at)
        last_start = start
        yield Call(result, file_order, start, end if end is not None else start)


def merge_in_time(streams: list[Iterable[RecordResult]]) -> Iterator[Call]:
    """Calls of every stream, by start second; see the module docstring."""
    iterators = [calls_of(stream, order) for order, stream in enumerate(streams)]
    if len(iterators) == 1:
        return iterators[0]  # one log: already in its own order
    return heapq.merge(*iterators, key=attrgetter("merge_key"))
