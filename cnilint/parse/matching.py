"""Which partners each slot could have, over every matching that fills all
slots and keeps every required partner taken.

Recovery uses it to say how sure an assignment is: slots are a call's blocks,
partners the atoms that fit there (every body must belong to some call; blank
lines need not). Given one such matching, slot u can move from its partner to
v when the slot holding v can move on, and so on, until a free partner or u's
own (a cycle); u's own partner must then be optional or be taken in turn by a
slot that frees an optional one. Chains are not checked for overlapping each
other, so the answer can only be too generous, never miss a possibility.
"""

from __future__ import annotations

from collections.abc import Collection, Hashable, Mapping
from typing import TypeVar

Slot = TypeVar("Slot", bound=Hashable)
Partner = TypeVar("Partner", bound=Hashable)


def possible_partners(
    edges: Mapping[Slot, Collection[Partner]],
    matching: Mapping[Slot, Partner],
    required: Collection[Partner] = (),
) -> dict[Slot, set[Partner]]:
    """For each slot, the partners it has in some matching that fills every
    slot and takes every `required` partner, given one such `matching` (which
    must use edges only)."""
    chains = _Chains(edges, matching, required)
    return {slot: chains.partners_of(slot) for slot in edges}


class _Chains:
    def __init__(
        self,
        edges: Mapping[Slot, Collection[Partner]],
        matching: Mapping[Slot, Partner],
        required: Collection[Partner],
    ) -> None:
        self.edges = edges
        self.matching = matching
        self.required = set(required)
        self.holder = {partner: slot for slot, partner in matching.items()}
        self.takers: dict[Partner, list[Slot]] = {}
        for slot, options in edges.items():
            for partner in options:
                self.takers.setdefault(partner, []).append(slot)
        self.free = set(self.takers) - self.holder.keys()
        self.reach: dict[Partner, set[Partner]] = {}

    def partners_of(self, slot: Slot) -> set[Partner]:
        own = self.matching[slot]
        found = {own}
        own_can_go: bool | None = None  # computed once, when first needed
        for partner in self.edges[slot]:
            if partner in found:
                continue
            reachable = self._reachable(partner)
            if own in reachable:
                found.add(partner)  # a cycle: each slot takes the next one's partner
            elif reachable & self.free:
                if own_can_go is None:
                    own_can_go = self._can_release(own, slot)
                if own_can_go:
                    found.add(partner)
        return found

    def _reachable(self, start: Partner) -> set[Partner]:
        """Partners reachable from `start` by moving its holder to another
        partner, that partner's holder to another, and so on."""
        if start in self.reach:
            return self.reach[start]
        seen = {start}
        todo = [start]
        while todo:
            holder = self.holder.get(todo.pop())
            for following in self.edges[holder] if holder is not None else ():
                if following not in seen:
                    seen.add(following)
                    todo.append(following)
        self.reach[start] = seen
        return seen

    def _can_release(self, own: Partner, mover: Slot) -> bool:
        """Whether `own` may be left by `mover`: it is optional, or another
        slot can take it, freeing a partner that is optional or taken in turn."""
        seen = {own}
        todo = [own]
        while todo:
            partner = todo.pop()
            if partner not in self.required:
                return True
            for slot in self.takers.get(partner, ()):
                released = self.matching[slot]
                if slot != mover and released not in seen:
                    seen.add(released)
                    todo.append(released)
        return False
