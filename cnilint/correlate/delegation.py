"""Pair each delegated record (an IPAM plugin run by bridge, ptp, macvlan...)
with the upper record that ran it.

The catalogue's definition: the upper record is in the log of INPUT.type, has
the same CNI_CONTAINERID and CNI_IFNAME, encloses the delegate in time, and
runs the same command (or ADD, for a cleanup DEL). What the logs also hold
breaks ties when many pods are added at once: the delegate's INPUT is
byte-identical to its upper's and its SHLVL is one higher. An upper stays
open while the stream has not passed its return second; then it is closed
and its whole group (upper + delegates) is judged. Memory holds only the
uppers still open.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from cnilint.correlate.calls import Call

SLACK_SECONDS = 1.0  # dates are whole seconds


@dataclass(eq=False)
class UpperGroup:
    upper: Call
    delegates: list[Call] = field(default_factory=list)


@dataclass(frozen=True, eq=False)
class Pairing:
    upper: Call
    delegate: Call
    ambiguous: bool  # several uppers fitted equally well


@dataclass(frozen=True, eq=False)
class Orphan:
    delegate: Call
    reason: str


def _shlvl(call: Call) -> int | None:
    value = call.record.env.get("SHLVL")
    return int(value) if value is not None and value.isdigit() else None


def _command_fits(upper: Call, delegate: Call) -> bool:
    return upper.command == delegate.command or (upper.command == "ADD" and delegate.command == "DEL")


def _score(upper: Call, delegate: Call) -> int:
    score = 0
    if upper.record.input is not None and delegate.record.input is not None:
        score += 4 * (upper.record.input.raw == delegate.record.input.raw)
    shlvl_upper, shlvl_delegate = _shlvl(upper), _shlvl(delegate)
    if shlvl_upper is not None and shlvl_delegate is not None:
        score += 2 * (shlvl_delegate == shlvl_upper + 1)
    score += upper.command == delegate.command
    score += upper.facts.variable("CNI_NETNS") == delegate.facts.variable("CNI_NETNS")
    return score


class DelegationTracker:
    def __init__(self) -> None:
        self._open: dict[tuple[str | None, str, str], list[UpperGroup]] = {}

    @staticmethod
    def _key(plugin: str | None, call: Call) -> tuple[str | None, str, str]:
        return plugin, call.facts.variable("CNI_CONTAINERID"), call.facts.variable("CNI_IFNAME")

    def add(self, call: Call) -> Iterator[UpperGroup | Pairing | Orphan]:
        """Feed the next call in time order; yield closed groups, pairings and orphans."""
        if call.start is not None:
            yield from self._close_before(call.start)
        if call.facts.delegated:
            yield self._pair(call)
        elif call.facts.ipam_type is not None:
            # A runtime-issued call whose configuration names an IPAM plugin may delegate.
            self._open.setdefault(self._key(call.record.plugin, call), []).append(UpperGroup(call))

    def _pair(self, delegate: Call) -> Pairing | Orphan:
        groups = self._open.get(self._key(delegate.plugin_type, delegate), [])
        fitting = [g for g in groups if _command_fits(g.upper, delegate) and g.upper.encloses(delegate)]
        if not fitting:
            return Orphan(delegate, f"no {delegate.plugin_type} record of the same attachment encloses it")
        best = max(_score(g.upper, delegate) for g in fitting)
        winners = [g for g in fitting if _score(g.upper, delegate) == best]
        # Same score: the most recent upper still running is the likeliest caller.
        chosen = max(winners, key=lambda g: (g.upper.start or 0.0, g.upper.record.index))
        chosen.delegates.append(delegate)
        return Pairing(chosen.upper, delegate, ambiguous=len(winners) > 1)

    def _close_before(self, now: float) -> Iterator[UpperGroup]:
        for key in list(self._open):
            groups = self._open[key]
            closed = [g for g in groups if g.upper.end is not None and g.upper.end + SLACK_SECONDS < now]
            if closed:
                remaining = [g for g in groups if g not in closed]
                if remaining:
                    self._open[key] = remaining
                else:
                    del self._open[key]
                yield from closed

    def finish(self) -> Iterator[UpperGroup]:
        groups = [group for groups in self._open.values() for group in groups]
        self._open.clear()
        yield from sorted(groups, key=lambda g: (g.upper.start or 0.0, g.upper.file_order, g.upper.record.index))

    @property
    def open_count(self) -> int:
        return sum(len(groups) for groups in self._open.values())
