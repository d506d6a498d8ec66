"""Pair each delegated record (an IPAM plugin run by bridge, ptp, macvlan...)
with the upper record that ran it.

The catalogue's definition: the upper record is in the log of INPUT.type, has
the same CNI_CONTAINERID and CNI_IFNAME, encloses the delegate in time, and
runs the same command (or ADD, for a cleanup DEL). Dates are whole seconds, so
when many pods are added at once, or one attachment is handled several times in
one second, several uppers can enclose a delegate. What the logs also hold
breaks the tie, strongest first:

- the delegate's INPUT is byte-identical to its upper's (the upper execs it
  with its own stdin);
- its SHLVL is one higher (the upper's wrapper shell started it);
- the command is plausible: the same, or a cleanup DEL inside an ADD that failed;
- for ADD, the outcomes agree: the delegate's addresses are in the upper's
  result, or both failed;
- same CNI_NETNS, INPUT.type names the upper's plugin;
- the upper has not had a delegate of that command yet (each upper forwards a
  command once).

Still tied uppers of one log, parsed as whole records, ran one after the other
(concurrent calls interleave in the file), so the earliest is the caller; other
ties are marked `ambiguous` and list every `candidates`. When no upper of the
same attachment and command fits, a single enclosing upper with the identical
INPUT that shares the container id or netns is taken (so DLG001/DLG002 can
report the difference); otherwise the delegate is an `Orphan`.

An upper stays open while the stream has not passed its return second; then its
whole group (upper + delegates) is closed and judged. A failed upper ADD whose
delegated ADD succeeded and was not released inside it waits, still open, for
the delegated DEL of a later runtime DEL, the next ADD of the attachment or the
end of the logs (DLG009). Memory holds the uppers still running, those waits,
and the calls of the current second.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cnilint.correlate.calls import Call
from cnilint.rules.addresses import parse_cidr

SLACK_SECONDS = 1.0  # dates are whole seconds
DELEGATING_COMMANDS = ("ADD", "DEL", "CHECK", "GC", "STATUS")


@dataclass(frozen=True, eq=False)
class Pairing:
    upper: Call
    delegate: Call
    ambiguous: bool  # several uppers fitted equally well and their order proves nothing
    candidates: tuple[Call, ...] = ()  # every upper that fitted as well as `upper` (upper included)
    evidence: str = "attachment"  # "attachment": same container, ifname and command; "input": identical INPUT

    @property
    def uppers(self) -> tuple[Call, ...]:
        """The uppers the delegate may belong to: the chosen one, or all tied ones when ambiguous."""
        return self.candidates if self.ambiguous and self.candidates else (self.upper,)


@dataclass(eq=False)
class UpperGroup:
    upper: Call
    delegates: list[Call] = field(default_factory=list)
    pairings: list[Pairing] = field(default_factory=list)  # one per delegate, same order
    contested: list[Pairing] = field(default_factory=list)  # ambiguous pairings this upper lost
    logs_seen: set[str] = field(default_factory=set)  # plugins whose log had a record before it closed
    released_by: Call | None = None  # DLG009: the later delegated DEL that released its allocation
    next_add: Call | None = None  # DLG009: the next ADD of the attachment, before any release
    is_open: bool = field(default=False, repr=False)  # still among the tracker's running uppers

    def delegates_of(self, command: str | None, plugin: str | None = None) -> list[Call]:
        return [
            call for call in self.delegates if call.command == command and (plugin is None or call.plugin == plugin)
        ]

    @property
    def unreleased_add(self) -> Call | None:
        """A failed upper ADD: its successful delegated ADD when no successful
        delegated DEL followed it inside the upper (DLG009)."""
        upper = self.upper
        if upper.command != "ADD" or not upper.facts.failed:
            return None
        allocated: Call | None = None
        for call in self.delegates:
            if call.command == "ADD" and not call.facts.failed and output_certain(call):
                allocated = call
            elif (
                call.command == "DEL"
                and not call.facts.failed
                and allocated is not None
                and call.record.plugin == allocated.record.plugin
            ):
                allocated = None
        return allocated


@dataclass(frozen=True, eq=False)
class Orphan:
    delegate: Call
    reason: str


def output_certain(call: Call) -> bool:
    """The record's OUTPUT is its own: a record put back together from an
    interleaved region may hold another call's anonymous output ("likely")."""
    record = call.record
    return not getattr(record, "recovered", False) or getattr(record, "confidence", None) == "exact"


def _shlvl(call: Call) -> int | None:
    memo = call.memo
    if "shlvl" not in memo:
        value = call.record.env.get("SHLVL")
        memo["shlvl"] = int(value) if value is not None and value.isdigit() else None
    return memo["shlvl"]


def _shlvl_step(upper: Call, delegate: Call) -> bool | None:
    """The delegate's shell is one level below the upper's; None when unknown."""
    mine, theirs = _shlvl(delegate), _shlvl(upper)
    return None if mine is None or theirs is None else mine == theirs + 1


def _same_input(upper: Call, delegate: Call) -> bool:
    return (
        upper.record.input is not None
        and delegate.record.input is not None
        and (upper.record.input.raw == delegate.record.input.raw)
    )


def _attachment(call: Call) -> tuple[str, str]:
    return call.container, call.ifname


def may_delegate(call: Call) -> bool:
    """A runtime-issued call that may run a delegate: its configuration names an
    IPAM plugin, or its configuration was not logged (stdin was a terminal)."""
    if not call.runtime_issued or call.command not in DELEGATING_COMMANDS:
        return False
    return call.facts.ipam_type is not None or call.record.input is None


def could_delegate_to(upper: Call, delegate: Call) -> bool:
    """The upper's configuration names the delegate's plugin as its IPAM type;
    for an upper whose configuration was not logged, the delegate's INPUT.type
    names the upper's plugin."""
    if upper.facts.config is not None:
        return upper.facts.ipam_type == delegate.record.plugin
    return upper.record.input is None and upper.record.plugin == delegate.plugin_type


def _command_fits(upper: Call, delegate: Call) -> bool:
    return upper.command == delegate.command or (upper.command == "ADD" and delegate.command == "DEL")


def _command_plausible(upper: Call, delegate: Call) -> bool:
    # A cleanup DEL runs inside an ADD that fails (the reference plugins never
    # release their IPAM allocation on success).
    return upper.command == delegate.command or upper.facts.failed


def addresses(result: Any) -> list[str]:
    """The addresses of a result, normalised (ips[].address, or ip4/ip6.ip for 0.1.0/0.2.0)."""
    if not isinstance(result, dict):
        return []
    found: list[Any] = []
    if isinstance(result.get("ips"), list):
        found = [ip.get("address") for ip in result["ips"] if isinstance(ip, dict)]
    for family in ("ip4", "ip6"):
        block = result.get(family)
        if isinstance(block, dict):
            found.append(block.get("ip"))
    return [normal_cidr(text) for text in found if isinstance(text, str)]


def _addresses_of(call: Call) -> set[str]:
    """addresses() of a call's result, worked out once per call."""
    memo = call.memo
    found = memo.get("addresses")
    if found is None:
        found = memo["addresses"] = set(addresses(call.facts.result))
    return found


@lru_cache(maxsize=1024)  # pairing and the DLG rules read each address several times
def normal_cidr(text: str) -> str:
    """`IP/prefix` as Go would print it back (so fd00::2/64 equals fd00:0::2/64)."""
    parsed = parse_cidr(text)
    return f"{parsed[0]}/{parsed[1]}" if parsed is not None else text


def _results_agree(upper: Call, delegate: Call) -> bool:
    if upper.command != "ADD" or delegate.command != "ADD" or not output_certain(delegate):
        return False
    if delegate.facts.failed or upper.facts.failed:
        return delegate.facts.failed and upper.facts.failed
    mine = _addresses_of(delegate)
    return bool(mine) and mine <= _addresses_of(upper)


def _order_proven(groups: list[UpperGroup]) -> bool:
    """Whole records of one log never overlap: concurrent calls interleave."""
    files = {group.upper.record.file for group in groups}
    return len(files) == 1 and not any(getattr(group.upper.record, "recovered", False) for group in groups)


def _start_order(group: UpperGroup) -> tuple[float, int, int]:
    upper = group.upper
    return (upper.start if upper.start is not None else -math.inf, upper.file_order, upper.record.index)


class DelegationTracker:
    def __init__(self) -> None:
        self._open: dict[tuple[str, str], list[UpperGroup]] = {}  # by (CNI_CONTAINERID, CNI_IFNAME)
        # The same open groups by CNI_CONTAINERID and by CNI_NETNS (when set): the
        # uppers that may have given a delegate of another attachment its INPUT.
        self._by_container: dict[str, list[UpperGroup]] = {}
        self._by_netns: dict[str, list[UpperGroup]] = {}
        # (return time, tick, group) of the open groups, to see when one may close without a scan.
        self._closing: list[tuple[float, int, UpperGroup]] = []
        self._ticks = itertools.count()
        self._awaiting: dict[tuple[str | None, str, str], UpperGroup] = {}  # DLG009: by (IPAM plugin, cid, ifname)
        self._pending: list[Call] = []  # this second's calls that may be bare-config delegates
        self.logs_seen: set[str] = set()

    def add(self, call: Call) -> Iterator[UpperGroup | Pairing | Orphan]:
        """Feed the next call in time order; yield closed groups, pairings and orphans."""
        if call.plugin is not None:
            self.logs_seen.add(call.plugin)
        if call.start is not None:
            closing = self._closing
            while closing and not closing[0][2].is_open:
                heapq.heappop(closing)
            if closing and closing[0][0] + SLACK_SECONDS < call.start:
                yield from self._close_before(call.start)
            if self._pending:
                second = math.floor(call.start)
                self._pending = [old for old in self._pending if old.start is not None and old.second >= second]
        if call.delegated:
            event = self._pair(call)
            yield event
            if isinstance(event, Pairing):
                yield from self._release(event)
        elif may_delegate(call):
            group = UpperGroup(call, logs_seen=self.logs_seen)
            yield from self._supersede(call)
            self._open_group(group)
            yield from self._adopt_pending(group)
        elif self._may_be_bare(call):
            pairing = self._pair_bare(call)
            if pairing is None:
                self._pending.append(call)
            else:
                yield pairing
                yield from self._release(pairing)

    # Pairing

    def _acceptable(self, group: UpperGroup, delegate: Call) -> bool:
        """The upper may have run the delegate: it names the delegate's plugin,
        encloses it, and either has its attachment and a fitting command, or
        gave it the same INPUT bytes and shares its container id or netns (then
        a variable or the command was passed wrongly: DLG001, DLG002)."""
        upper = group.upper
        if not could_delegate_to(upper, delegate) or not upper.encloses(delegate):
            return False
        if _attachment(upper) == _attachment(delegate) and _command_fits(upper, delegate):
            return True
        return (
            _same_input(upper, delegate)
            and _shlvl_step(upper, delegate) is not False
            and (upper.container == delegate.container != "" or upper.netns == delegate.netns != "")
        )

    def _open_group(self, group: UpperGroup) -> None:
        upper = group.upper
        group.is_open = True
        self._open.setdefault(_attachment(upper), []).append(group)
        if upper.container:
            self._by_container.setdefault(upper.container, []).append(group)
        if upper.netns:
            self._by_netns.setdefault(upper.netns, []).append(group)
        if upper.end is not None:
            heapq.heappush(self._closing, (upper.end, next(self._ticks), group))

    def _unindex(self, group: UpperGroup) -> None:
        group.is_open = False
        upper = group.upper
        for index, key in ((self._by_container, upper.container), (self._by_netns, upper.netns)):
            groups = index.get(key)
            if groups is not None:
                groups.remove(group)
                if not groups:
                    del index[key]

    def _candidates(self, delegate: Call) -> list[UpperGroup]:
        """The open groups that may be acceptable: of the delegate's attachment, or
        sharing its container id or netns (see _acceptable)."""
        found = self._open.get(_attachment(delegate), [])
        others = [
            groups
            for groups in (self._by_container.get(delegate.container), self._by_netns.get(delegate.netns))
            if groups
        ]
        if not others:
            return found
        pool = {id(group): group for group in found}
        for groups in others:
            for group in groups:
                pool.setdefault(id(group), group)
        return list(pool.values())

    def _pair(self, delegate: Call) -> Pairing | Orphan:
        # The order of `fitting` does not matter: _choose depends on the set only.
        fitting = [group for group in self._candidates(delegate) if self._acceptable(group, delegate)]
        upper_name = delegate.plugin_type or "upper"
        if not fitting:
            return Orphan(delegate, f"no {upper_name} record of the same attachment and command encloses it")
        return self._choose(fitting, delegate) or Orphan(
            delegate,
            f"{len(fitting)} {upper_name} records enclose it with the same INPUT, none of its attachment",
        )

    def _evidence(self, group: UpperGroup, delegate: Call) -> tuple[bool, ...]:
        upper = group.upper
        return (
            _attachment(upper) == _attachment(delegate),
            _same_input(upper, delegate),
            _command_fits(upper, delegate),
            _shlvl_step(upper, delegate) is not False,
            _command_plausible(upper, delegate),
            _results_agree(upper, delegate),
            upper.netns == delegate.netns,
            delegate.plugin_type == upper.plugin,
            not group.delegates_of(delegate.command, delegate.plugin),
        )

    def _choose(self, fitting: list[UpperGroup], delegate: Call) -> Pairing | None:
        if len(fitting) == 1:  # nothing to weigh: only what the pairing records is needed
            (group,) = fitting
            upper = group.upper
            same = _attachment(upper) == _attachment(delegate)
            evidence = "attachment" if same and _command_fits(upper, delegate) else "input"
            return self._attach(group, delegate, ambiguous=False, candidates=fitting, evidence=evidence)
        scored = [(self._evidence(group, delegate), group) for group in fitting]
        best = max(score for score, _ in scored)
        tied = [group for score, group in scored if score == best]
        same_attachment, slot_open = best[0], best[-1]
        if not same_attachment and len(tied) > 1:
            return None  # only INPUT ties it to uppers of other attachments: too weak to choose
        # Equal evidence: the earliest upper still waiting for this command.
        chosen = min(tied, key=_start_order)
        ambiguous = len(tied) > 1 and not (slot_open and _order_proven(tied))
        evidence = "attachment" if same_attachment and best[2] else "input"
        return self._attach(chosen, delegate, ambiguous=ambiguous, candidates=tied, evidence=evidence)

    @staticmethod
    def _attach(
        chosen: UpperGroup, delegate: Call, *, ambiguous: bool, candidates: list[UpperGroup], evidence: str
    ) -> Pairing:
        ordered = sorted(candidates, key=_start_order)
        pairing = Pairing(chosen.upper, delegate, ambiguous, tuple(group.upper for group in ordered), evidence)
        chosen.delegates.append(delegate)
        chosen.pairings.append(pairing)
        if ambiguous:
            for group in candidates:
                if group is not chosen:
                    group.contested.append(pairing)
        return pairing

    # A delegate given a bare ipam section (INPUT.type is the IPAM plugin itself)
    # does not look delegated; it is recognised inside an upper of the same
    # attachment that names its plugin, one shell level below it (DLG003).

    @staticmethod
    def _may_be_bare(call: Call) -> bool:
        config = call.facts.config
        return (
            call.runtime_issued
            and call.command in DELEGATING_COMMANDS
            and config is not None
            and call.facts.ipam_type is None
            and call.record.plugin is not None
        )

    @staticmethod
    def _bare_fits(group: UpperGroup, call: Call) -> bool:
        upper = group.upper
        return (
            upper.facts.ipam_type == call.record.plugin
            and _attachment(upper) == _attachment(call)
            and upper.encloses(call)
            and _command_fits(upper, call)
            and _shlvl_step(upper, call) is True
        )

    def _pair_bare(self, call: Call) -> Pairing | None:
        fitting = [group for group in self._open.get(_attachment(call), []) if self._bare_fits(group, call)]
        return self._choose(fitting, call) if fitting else None  # same attachment: never None

    def _adopt_pending(self, group: UpperGroup) -> Iterator[Pairing]:
        for call in [call for call in self._pending if self._bare_fits(group, call)]:
            self._pending.remove(call)
            pairing = self._attach(group, call, ambiguous=False, candidates=[group], evidence="attachment")
            yield pairing

    # DLG009: a failed upper ADD that kept its delegate's allocation

    @staticmethod
    def _release_key(call: Call, plugin: str | None) -> tuple[str | None, str, str]:
        return (plugin, *_attachment(call))

    def _release(self, pairing: Pairing) -> Iterator[UpperGroup]:
        delegate = pairing.delegate
        if delegate.command != "DEL" or delegate.facts.failed:
            return
        key = self._release_key(delegate, delegate.record.plugin)
        waiting = self._awaiting.pop(key, None)
        if waiting is not None:
            waiting.released_by = delegate
            yield waiting
        for group in self._open.get(_attachment(delegate), []):
            if group.upper is not pairing.upper and group.released_by is None and group.next_add is None:
                allocated = group.unreleased_add
                if allocated is not None and allocated.record.plugin == delegate.record.plugin:
                    group.released_by = delegate

    def _supersede(self, upper: Call) -> Iterator[UpperGroup]:
        if upper.command != "ADD":
            return
        key = self._release_key(upper, upper.facts.ipam_type)
        waiting = self._awaiting.pop(key, None)
        if waiting is not None:
            waiting.next_add = upper
            yield waiting
        for group in self._open.get(_attachment(upper), []):
            if group.released_by is None and group.next_add is None and group.unreleased_add is not None:
                group.next_add = upper

    # Closing

    def _close(self, group: UpperGroup) -> Iterator[UpperGroup]:
        allocated = group.unreleased_add
        if allocated is not None and group.released_by is None and group.next_add is None:
            self._awaiting[self._release_key(group.upper, allocated.record.plugin)] = group
        else:
            yield group

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
                for group in closed:
                    self._unindex(group)
                    yield from self._close(group)

    def finish(self) -> Iterator[UpperGroup]:
        groups = [group for groups in self._open.values() for group in groups]
        groups += list(self._awaiting.values())
        for group in groups:
            group.is_open = False
        self._open.clear()
        self._by_container.clear()
        self._by_netns.clear()
        self._closing.clear()
        self._awaiting.clear()
        self._pending.clear()
        yield from sorted(groups, key=_start_order)

    @property
    def open_count(self) -> int:
        return sum(len(groups) for groups in self._open.values()) + len(self._awaiting)
