"""Recover the records of a region where concurrent invocations interleave.

The wrapper appends each block with its own write, so a region is a shuffle of
whole writes ("atoms", see cnilint.parse.atoms) of several calls, each call's
atoms in the wrapper's fixed order: date, separator, `CNI params:`, params,
`env:`, env, `INPUT:`, stdin, newline, `OUTPUT:`, output, `Returned at:`,
separator, two blank lines.

Recovery assigns every atom to a call. Atoms that carry an identifier are tied
to their call: a params or env block by its CNI_* lines (a params block is
exactly the CNI lines of its call's env block), an output or stdin by the
`sandbox` of its interfaces (the CNI_NETNS of the call with that ifname). The
others (date lines, separators, markers, stdin, blank lines, outputs without a
sandbox) are assigned by a depth-first search that keeps each call's order,
serves first the call whose next tied atom comes soonest, then the call that
has waited longest, and backtracks when the order cannot be completed.

A second pass says how sure each record is: with each call's tied atoms fixed,
it finds every atom that could have been the call's date line, INPUT, OUTPUT
or `Returned at:` in some other complete assignment (cnilint.parse.matching).
A record is "exact" when there is none; else "likely", with a problem naming
the blocks and the other lines they could be (identical INPUT blocks, empty
OUTPUTs, anonymous outputs). Separators, markers, blank lines and date lines
with the same text are interchangeable: only their line numbers could differ.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from cnilint.parse.atoms import BODY, CONFIG, DATE, NEWLINE, RESULT, VARS, Atom, cut_atoms
from cnilint.parse.fields import read_date
from cnilint.parse.lexer import RETURNED_PREFIX
from cnilint.parse.matching import possible_partners
from cnilint.parse.records import Body, Problem, Record, Variables, parse_variables

EXACT = "exact"
LIKELY = "likely"

# The steps of one call, in the order the wrapper writes them (stdin not a terminal).
(
    STARTED, SEP1, PARAMS_HEADER, PARAMS, ENV_HEADER, ENV, INPUT_HEADER, STDIN, NL,
    OUTPUT_HEADER, OUTPUT, RETURNED, SEP2, BLANK1, BLANK2, DONE,
) = range(16)  # fmt: skip

_MARKER_STEPS = {
    "SEP": (SEP1, SEP2),
    "PARAMS_HEADER": (PARAMS_HEADER,),
    "ENV_HEADER": (ENV_HEADER,),
    "INPUT_HEADER": (INPUT_HEADER,),
    "OUTPUT_HEADER": (OUTPUT_HEADER,),
    "RETURNED": (RETURNED,),
}
# The kind of atom each step takes (OUTPUT: a body, or an empty line for an empty output).
_STEP_KIND = {
    SEP1: "SEP", PARAMS_HEADER: "PARAMS_HEADER", PARAMS: VARS, ENV_HEADER: "ENV_HEADER", ENV: VARS,
    INPUT_HEADER: "INPUT_HEADER", STDIN: BODY, NL: NEWLINE, OUTPUT_HEADER: "OUTPUT_HEADER",
    OUTPUT: BODY, RETURNED: "RETURNED", SEP2: "SEP", BLANK1: NEWLINE, BLANK2: NEWLINE,
}  # fmt: skip
_COUNTED = ("SEP", "PARAMS_HEADER", "ENV_HEADER", "INPUT_HEADER", "OUTPUT_HEADER", "RETURNED", VARS, BODY)
_SLOTS_FROM = [Counter(_STEP_KIND[s] for s in range(step, DONE) if s in _STEP_KIND) for step in range(DONE + 1)]
_INF = 1 << 60
# Moves tried per atom before a region is left unrecovered: the real captures
# need one per atom (no backtracking), so this bounds the time of hopeless regions.
SEARCH_BUDGET_PER_ATOM = 20


class _Call(NamedTuple):
    step: int  # the next step to fill
    key: tuple[str, ...] | None  # its CNI lines, once its params block is known
    atoms: tuple[int, ...]  # atom index per filled step, in step order
    since: int  # atom index at which it reached `step`: who waited longest goes first


@dataclass(frozen=True, slots=True)
class Recovery:
    records: list[Record]  # in order of their first line
    problem: Problem  # the region's, with the count of records and their confidence


def recover(
    numbered_lines: Sequence[tuple[int, str]],
    *,
    file: str,
    plugin: str | None,
    first_index: int,
    at_end: bool = False,
) -> Recovery | None:
    """The records of an interleaved region, or None when its atoms cannot be
    put back in the wrapper's order (then nothing is guessed). `at_end`: the
    region ends the log, whose last write may be cut short."""
    atoms = cut_atoms(numbered_lines)
    kept = _without_cut_tail(atoms, numbered_lines) if at_end else atoms
    calls = _Search(kept).run()
    if calls is None and at_end and len(kept) == len(atoms) and atoms[-1].kind in (VARS, BODY):
        kept = atoms[:-1]  # a body or variables block cut anywhere
        calls = _Search(kept).run()
    if not calls:
        return None
    region = (numbered_lines[0][0], numbered_lines[-1][0])
    doubts = _Doubts(kept, calls).per_call()
    calls_in_order = sorted(range(len(calls)), key=lambda n: calls[n].atoms[0])
    records = [
        _record(kept, calls[n], doubts[n], region, file=file, plugin=plugin, index=first_index + position)
        for position, n in enumerate(calls_in_order)
    ]
    return Recovery(records, _region_problem(region, records, atoms[len(kept) :]))


def _without_cut_tail(atoms: list[Atom], numbered_lines: Sequence[tuple[int, str]]) -> list[Atom]:
    """The atoms but a last one the end of the log cut: a line without its
    newline (only a stdin ends so), or an env block that stops inside the
    variables of a call's params block."""
    last = atoms[-1] if atoms else None
    if last is None:
        return atoms
    if not numbered_lines[-1][1].endswith("\n") and last.kind != BODY:
        return atoms[:-1]
    if last.kind == VARS and any(
        atom.kind == VARS and len(atom.key) > len(last.key) and atom.key[: len(last.key)] == last.key
        for atom in atoms[:-1]
    ):
        return atoms[:-1]
    return atoms


def _region_problem(region: tuple[int, int], records: list[Record], cut_tail: list[Atom]) -> Problem:
    confidence = Counter(record.confidence for record in records)
    cut_short = sum(1 for record in records if not record.complete)
    detail = f"{confidence[EXACT]} exact, {confidence[LIKELY]} likely"
    if cut_short:
        detail += f", {cut_short} cut short"
    message = (
        f"{len(records)} invocations interleave here (concurrent calls appending to one log); "
        f"their records are recovered ({detail})"
    )
    if cut_tail:
        message += f"; the log ends inside a block (line {cut_tail[0].line}), left out"
    return Problem(region[0], message, region[1])


# --- assigning atoms to calls -------------------------------------------------


class _Search:
    """Depth-first search for one assignment of every atom to a call."""

    def __init__(self, atoms: list[Atom]) -> None:
        self.atoms = atoms
        self.budget = SEARCH_BUDGET_PER_ATOM * len(atoms) + 1000
        self.owners = _body_owners(atoms)
        self.tied: dict[tuple[str, ...], list[int]] = {}  # atoms only that call can take, by key
        self.tied_bodies: dict[tuple[str, ...], list[int]] = {}
        first_of_key: dict[tuple[str, ...], int] = {}
        for index, atom in enumerate(atoms):
            if atom.kind == VARS:
                self.tied.setdefault(atom.key, []).append(index)
                first_of_key.setdefault(atom.key, index)
            for key in self.owners[index]:
                self.tied.setdefault(key, []).append(index)
                self.tied_bodies.setdefault(key, []).append(index)
        for positions in self.tied.values():
            positions.sort()
        self.new_identities = sorted(first_of_key.values())  # where anonymous calls get a key
        self.prefix = _prefix_counts(atoms)

    def run(self) -> tuple[_Call, ...] | None:
        failed: set[tuple] = set()
        stack: list[tuple[tuple, Iterable[tuple[int, tuple[_Call, ...]]]]] = []
        index, calls, tried = 0, (), 0
        while True:
            if index == len(self.atoms):
                return calls
            state = self._state(index, calls)
            hopeless = state in failed or not self._counts_allow(index, calls)
            stack.append((state, iter(() if hopeless else self._moves(index, calls))))
            while stack:
                following = next(stack[-1][1], None)  # type: ignore[call-overload]
                if following is not None:
                    index, calls = following
                    tried += 1
                    break
                failed.add(stack.pop()[0])
            if not stack or tried > self.budget:
                return None

    def _state(self, index: int, calls: tuple[_Call, ...]) -> tuple:
        """What the rest of the search depends on: calls with tied atoms still
        ahead are told apart by key, the others only by step."""
        return (index, tuple(sorted((call.step, self._pending_key(call, index) or ()) for call in calls)))

    def _pending_key(self, call: _Call, index: int) -> tuple[str, ...] | None:
        positions = self.tied.get(call.key) if call.key is not None else None
        return call.key if positions and positions[-1] >= index else None

    def _deadline(self, call: _Call, index: int) -> int:
        """Atom index of the next atom this call must take."""
        positions = self.new_identities if call.key is None else self.tied.get(call.key, [])
        found = bisect_left(positions, index)
        return positions[found] if found < len(positions) else _INF

    def _expects_tied_body(self, call: _Call, index: int) -> bool:
        positions = self.tied_bodies.get(call.key) if call.key is not None else None
        return bool(positions) and positions[-1] >= index

    def _moves(self, index: int, calls: tuple[_Call, ...]) -> list[tuple[int, tuple[_Call, ...]]]:
        atom = self.atoms[index]
        if atom.kind == DATE:
            return [(index + 1, (*calls, _Call(SEP1, None, (index,), index)))]
        options: list[tuple[tuple[int, ...], tuple, int, int, _Call]] = []
        for position, call in enumerate(calls):
            for rank, following, taken in self._takes(atom, index, call):
                order = (rank, self._deadline(call, index), call.since, call.atoms[0])
                alike = (call.step, self._pending_key(call, index), rank)
                options.append((order, alike, following, position, taken))
        options.sort(key=lambda option: option[0])
        moves = []
        seen: set[tuple] = set()
        for _, alike, following, n, taken in options:
            if alike not in seen:  # calls alike for the rest of the search are interchangeable: try one
                seen.add(alike)
                moves.append((following, (*calls[:n], taken, *calls[n + 1 :])))
        if atom.kind == NEWLINE:
            moves.append((index + 1, calls))  # a blank line of a call outside the region
        return moves

    def _takes(self, atom: Atom, index: int, call: _Call) -> list[tuple[int, int, _Call]]:
        """How `call` can take `atom`: (preference, next atom index, call after)."""
        step = call.step
        if atom.kind in _MARKER_STEPS:
            return [(0, index + 1, _advance(call, index))] if step in _MARKER_STEPS[atom.kind] else []
        if atom.kind == VARS:
            if step == ENV and call.key == atom.key:
                return [(0, index + 1, _advance(call, index))]
            if step == PARAMS and call.key is None and atom.cni_only:
                return [(1, index + 1, _advance(call, index, atom.key))]
            return []
        if atom.kind == BODY:
            return self._takes_body(atom, index, call)
        if atom.kind == NEWLINE:
            if step == NL:
                return [(0, index + 1, _advance(call, index))]
            if step == OUTPUT and not self._expects_tied_body(call, index):
                return [(1, index + 1, _advance(call, index))]  # an empty output
            if step in (BLANK1, BLANK2):
                return [(2, index + 1, _advance(call, index))]
        return []

    def _takes_body(self, atom: Atom, index: int, call: _Call) -> list[tuple[int, int, _Call]]:
        owners = self.owners[index]
        if owners and call.key not in owners:
            return []
        if call.step == STDIN:
            return [(int(atom.role == RESULT), index + 1, _advance(call, index))]
        # An output ends with its own newline; a call whose output names its
        # sandbox further on cannot take an anonymous one.
        if call.step == OUTPUT and atom.eol_follows and (owners or not self._expects_tied_body(call, index)):
            return [(int(atom.role == CONFIG), index + 2, _advance(call, index))]
        return []

    def _counts_allow(self, index: int, calls: tuple[_Call, ...]) -> bool:
        """Cheap necessary conditions: enough calls to take the atoms left of
        each kind, and enough atoms for each call to reach its next tied atom."""
        future_calls = self._count(DATE, index, len(self.atoms))
        for kind in _COUNTED:
            slots = sum(_SLOTS_FROM[call.step][kind] for call in calls) + future_calls * _SLOTS_FROM[SEP1][kind]
            if self._count(kind, index, len(self.atoms)) > slots:
                return False
        needs: Counter[str] = Counter()
        identified = [(self._deadline(call, index), call) for call in calls if call.key is not None]
        for deadline, call in sorted(identified, key=lambda pair: pair[0]):
            if deadline >= _INF:
                break
            target = ENV if self.atoms[deadline].kind == VARS else (STDIN if call.step <= STDIN else OUTPUT)
            needs.update(_STEP_KIND[s] for s in range(call.step, target))
            if any(self._count(kind, index, deadline) < count for kind, count in needs.items()):
                return False
        return True

    def _count(self, kind: str, start: int, end: int) -> int:
        counts = self.prefix.get(kind)
        return counts[end] - counts[start] if counts else 0


def _advance(call: _Call, index: int, key: tuple[str, ...] | None = None) -> _Call:
    return _Call(call.step + 1, key if key is not None else call.key, (*call.atoms, index), index)


def _prefix_counts(atoms: list[Atom]) -> dict[str, list[int]]:
    prefix: dict[str, list[int]] = {}
    for kind in {atom.kind for atom in atoms}:
        counts = [0]
        for atom in atoms:
            counts.append(counts[-1] + (atom.kind == kind))
        prefix[kind] = counts
    return prefix


def _identity(key: tuple[str, ...]) -> tuple[str | None, str | None]:
    """(CNI_IFNAME, CNI_NETNS) of a call, from its CNI lines."""
    values = dict(line.partition("=")[::2] for line in key)
    return values.get("CNI_IFNAME"), values.get("CNI_NETNS")


def _body_owners(atoms: list[Atom]) -> list[frozenset[tuple[str, ...]]]:
    """For each body, the keys of the calls its sandboxes name (empty: any call)."""
    by_sandbox: dict[tuple[str | None, str | None], set[tuple[str, ...]]] = {}
    for atom in atoms:
        if atom.kind == VARS:
            by_sandbox.setdefault(_identity(atom.key), set()).add(atom.key)
    owners = []
    for atom in atoms:
        keys = set().union(*(by_sandbox.get(sandbox, set()) for sandbox in atom.sandboxes))
        owners.append(frozenset(keys))
    return owners


# --- how sure each record is --------------------------------------------------

_DOUBTED = {STARTED: "date line", STDIN: "INPUT", OUTPUT: "OUTPUT", RETURNED: "'Returned at:' line"}


class _Doubts:
    """Other atoms each call's date, INPUT, OUTPUT and return could have been,
    with every call's tied atoms kept where they are."""

    def __init__(self, atoms: list[Atom], calls: tuple[_Call, ...]) -> None:
        self.atoms = atoms
        self.calls = calls
        self.owners = _body_owners(atoms)
        keys = Counter(call.key for call in calls if call.key is not None)
        self.shared_keys = {key for key, count in keys.items() if count > 1}
        self.env_of_key = {
            call.key: call.atoms[ENV]
            for call in calls
            if call.key is not None and call.key not in self.shared_keys and len(call.atoms) > ENV
        }

    def per_call(self) -> list[list[str]]:
        doubts: list[list[str]] = [[] for _ in self.calls]
        for n, call in enumerate(self.calls):
            if call.key in self.shared_keys:
                doubts[n].append("CNI params and env are the same as another call's here")
        for group in ((STARTED,), (RETURNED,), (STDIN, NL, OUTPUT, BLANK1, BLANK2)):
            for (n, step), partners in self._partners(group).items():
                if step in _DOUBTED:
                    doubt = self._doubt(step, self.calls[n].atoms[step], partners)
                    if doubt:
                        doubts[n].append(doubt)
        return doubts

    def _partners(self, steps: tuple[int, ...]) -> dict[tuple[int, int], set[int]]:
        edges: dict[tuple[int, int], list[int]] = {}
        matching: dict[tuple[int, int], int] = {}
        for n, call in enumerate(self.calls):
            tied = self._tied_steps(n)
            for step in steps:
                if step < len(call.atoms):
                    edges[(n, step)] = self._fits(n, step, tied)
                    matching[(n, step)] = call.atoms[step]
        # Every date, return and body belongs to some call; blank lines need not.
        required = {index for index in matching.values() if self.atoms[index].kind != NEWLINE}
        return possible_partners(edges, matching, required)

    def _tied_steps(self, n: int) -> dict[int, int]:
        """Atom index per step for the atoms only this call can hold."""
        call = self.calls[n]
        if call.key is None or call.key in self.shared_keys:
            return {}
        tied = {step: call.atoms[step] for step in (PARAMS, ENV) if step < len(call.atoms)}
        for step in (STDIN, OUTPUT):
            if step < len(call.atoms) and self._only_owner(call.atoms[step]) == call.key:
                tied[step] = call.atoms[step]
        return tied

    def _only_owner(self, index: int) -> tuple[str, ...] | None:
        """The one call a body's sandbox can belong to. The ADD and the DEL of
        one container name the same sandbox, but a body comes after its call's
        env block, which is tied: a call whose env comes later cannot own it."""
        possible = {key for key in self.owners[index] if key not in self.env_of_key or self.env_of_key[key] < index}
        return possible.pop() if len(possible) == 1 else None

    def _fits(self, n: int, step: int, tied: dict[int, int]) -> list[int]:
        """Atoms that could fill this step of call n: of the right kind, between
        the call's tied atoms, not tied to another call."""
        if step in tied:
            return [tied[step]]
        low = max((index for s, index in tied.items() if s < step), default=-1)
        high = min((index for s, index in tied.items() if s > step), default=len(self.atoms))
        key, own = self.calls[n].key, self.calls[n].atoms[step]
        return [
            index
            for index in range(low + 1, high)
            if (index == own or self._kind_fits(step, self.atoms[index]))
            and (not self.owners[index] or key in self.owners[index])
        ]

    @staticmethod
    def _kind_fits(step: int, atom: Atom) -> bool:
        """Whether an atom can fill a step, taking a configuration never to be
        an output and a result never to be a stdin."""
        if step == STARTED:
            return atom.kind == DATE
        if step == STDIN:
            return atom.kind == BODY and atom.role != RESULT
        if step == OUTPUT:
            return atom.kind == NEWLINE or (atom.kind == BODY and atom.eol_follows and atom.role != CONFIG)
        return atom.kind == _STEP_KIND[step]

    def _doubt(self, step: int, own: int, partners: set[int]) -> str | None:
        """What to say about a block other atoms could have been, if anything:
        date lines matter only when their text differs."""
        others = sorted(partners - {own})
        own_text = self._text(own)
        different = [index for index in others if self._text(index) != own_text]
        what = f"{_DOUBTED[step]} (line {self.atoms[own].line})"
        if step in (STARTED, RETURNED):
            if not different:
                return None
            texts = sorted({self._text(index) for index in different})
            return f"{what} was assigned by order: it could also be {' or '.join(repr(t) for t in texts)}"
        if not others:
            return None
        lines = _line_list(self.atoms[index].line for index in others)
        if different:
            return f"{what} was assigned by order: {len(others)} other blocks could be this call's (lines {lines})"
        same = "empty lines" if own_text == "" else "identical blocks"
        return f"{what} is one of {len(others) + 1} {same} that could be this call's (also lines {lines}): same content"

    def _text(self, index: int) -> str:
        atom = self.atoms[index]
        if atom.kind == "RETURNED":
            return atom.text[len(RETURNED_PREFIX) :].strip()
        return "" if atom.kind == NEWLINE else atom.text


def _line_list(lines: Iterable[int], shown: int = 6) -> str:
    unique = sorted(set(lines))
    text = ", ".join(str(line) for line in unique[:shown])
    return text + (f" and {len(unique) - shown} more" if len(unique) > shown else "")


# --- building the records -----------------------------------------------------


def _record(
    atoms: list[Atom],
    call: _Call,
    doubts: list[str],
    region: tuple[int, int],
    *,
    file: str,
    plugin: str | None,
    index: int,
) -> Record:
    def atom(step: int) -> Atom | None:
        return atoms[call.atoms[step]] if step < len(call.atoms) else None

    problems: list[Problem] = []
    complete = call.step > SEP2
    first = atoms[call.atoms[0]]
    last = atoms[call.atoms[min(len(call.atoms), SEP2 + 1) - 1]]
    if not complete:
        problems.append(Problem(first.line, _cut_short_reason(call.step), last.end_line))
    started, started_at = _date(atom(STARTED), "", problems)
    returned, returned_at = _date(atom(RETURNED), RETURNED_PREFIX, problems)
    confidence = LIKELY if doubts else EXACT
    if doubts:
        where = f"recovered from the interleaved lines {region[0]}-{region[1]}, likely but not certain: "
        problems.append(Problem(first.line, where + "; ".join(doubts), last.end_line))
    params, env = atom(PARAMS), atom(ENV)
    input_body, output_body = _body(atom(INPUT_HEADER), atom(STDIN)), _body(atom(OUTPUT_HEADER), atom(OUTPUT))
    for body, label in ((input_body, "INPUT"), (output_body, "OUTPUT")):
        if body is not None and body.duplicates:
            problems.extend(body.problems(label))
    return Record(
        file=file,
        plugin=plugin,
        index=index,
        line=first.line,
        end_line=last.end_line,
        started=started,
        returned=returned,
        started_at=started_at,
        returned_at=returned_at,
        params=parse_variables(params.text) if params else Variables(),
        env=parse_variables(env.text) if env else Variables(),
        input=input_body,
        output=output_body,
        complete=complete,
        tty=False,
        problems=tuple(problems),
        params_line=params.line if params else None,
        env_line=env.line if env else None,
        recovered=True,
        confidence=confidence,
    )


def _body(header: Atom | None, text: Atom | None) -> Body | None:
    if header is None:
        return None
    if text is None or text.kind == NEWLINE:  # cut short, or an empty output
        return Body("", text.line if text is not None else header.line + 1)
    return Body.decode(text.text, text.line)


def _date(atom: Atom | None, prefix: str, problems: list[Problem]) -> tuple[str | None, datetime | None]:
    if atom is None:
        return None, None
    return read_date(atom.text, prefix, atom.line, problems)


_LAST_BLOCK = {
    SEP1: "date line",
    PARAMS_HEADER: "separator",
    PARAMS: "'CNI params:' line",
    ENV_HEADER: "CNI params block",
    ENV: "'env:' line",
    INPUT_HEADER: "env block",
    STDIN: "'INPUT:' line",
    NL: "INPUT",
    OUTPUT_HEADER: "INPUT",
    OUTPUT: "'OUTPUT:' line",
    RETURNED: "OUTPUT",
    SEP2: "'Returned at:' line",
}


def _cut_short_reason(step: int) -> str:
    return f"record cut short after its {_LAST_BLOCK[step]} (recovered from an interleaved region)"
