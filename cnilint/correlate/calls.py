"""Records of several logs as one stream of calls, in time order.

Each log is in time order already; the streams are merged by start second.
The wrapper's dates have one-second resolution, so within one second the
order between files is unknown: there, runtime-issued records come before
delegated ones (an upper plugin starts before the IPAM plugin it runs), then
file order. Rules that depend on order within one second must not assume it.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from cnilint.engine import RecordResult
from cnilint.facts import Facts
from cnilint.parse import Record


@dataclass(eq=False)
class Call:
    """One record in the cross-record view."""

    result: RecordResult
    file_order: int  # position of its log among the logs of the run
    start: float | None  # epoch seconds of the `date` line, None when unreadable
    end: float | None  # epoch seconds of `Returned at:`
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def record(self) -> Record:
        return self.result.record

    @property
    def facts(self) -> Facts:
        return self.result.facts

    @property
    def command(self) -> str | None:
        return self.record.command

    @property
    def runtime_issued(self) -> bool:
        # "upper" is set once the call is paired as a delegate: also a delegate
        # given a bare ipam section, which facts.delegated cannot recognise.
        return not self.facts.delegated and "upper" not in self.notes

    @property
    def network(self) -> str | None:
        name = self.facts.config.get("name") if self.facts.config is not None else None
        return name if isinstance(name, str) else None

    @property
    def plugin_type(self) -> str | None:
        kind = self.facts.config.get("type") if self.facts.config is not None else None
        return kind if isinstance(kind, str) else None

    @property
    def attachment(self) -> tuple[str | None, str, str]:
        """(network name, CNI_CONTAINERID, CNI_IFNAME), the catalogue's attachment."""
        return self.network, self.facts.variable("CNI_CONTAINERID"), self.facts.variable("CNI_IFNAME")

    @property
    def where(self) -> str:
        return f"{self.record.file}:{self.record.line}"

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


def _epoch(record: Record, returned: bool) -> float | None:
    moment = record.returned_at if returned else record.started_at
    if moment is None:
        return None
    if moment.tzinfo is None:  # unknown zone: still orders records of one log
        return moment.timestamp()
    return moment.timestamp()


def calls_of(results: Iterable[RecordResult], file_order: int) -> Iterator[Call]:
    last_start: float | None = None
    for result in results:
        record = result.record
        start = _epoch(record, returned=False)
        start = start if start is not None else last_start
        end = _epoch(record, returned=True)
        last_start = start
        yield Call(result, file_order, start, end if end is not None else start)


def merge_in_time(streams: list[Iterable[RecordResult]]) -> Iterator[Call]:
    """Calls of every stream, by start second; see the module docstring."""
    iterators = [calls_of(stream, order) for order, stream in enumerate(streams)]

    def key(call: Call) -> tuple[float, bool, int, int]:
        start = call.start if call.start is not None else float("-inf")
        return (start, call.facts.delegated, call.file_order, call.record.index)

    return heapq.merge(*iterators, key=key)
