"""From framed units to records: build each record, and find damaged regions.

A unit the grammar accepts becomes a record, after a consistency check that
catches what the grammar cannot see (blocks of concurrent invocations glued
into a record-shaped sequence). Consecutive units in trouble are grouped:
one broken unit alone is a record cut short (reported as incomplete); more
than that is a region where invocations interleave, reported with its line
range; its raw lines go to cnilint.parse.recover, whose records take the
region's place.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace

from lark import Token

from cnilint.parse.dates import parse_date
from cnilint.parse.framer import Unit, UnitKind, frame
from cnilint.parse.lexer import MARKERS, RETURNED_PREFIX, tokenize
from cnilint.parse.records import Body, Problem, Record, Variables, parse_variables
from cnilint.parse.recover import recover

_GLUE_MARKERS = tuple(MARKERS)
_ONCE_PER_CALL = ("DATE", "PARAMS_HEADER", "ENV_HEADER", "RETURNED")  # blocks every call writes once


@dataclass(frozen=True, slots=True)
class InterleavedRegion:
    """Lines where the blocks of concurrent invocations alternate."""

    line: int
    end_line: int
    invocations: int  # recovered records, else an estimate: the most frequent once-per-call block
    recovered: bool = False  # its records were put back together (see cnilint.parse.recover)

    def problem(self) -> Problem:
        return Problem(
            self.line,
            f"about {self.invocations} invocations interleave here (concurrent calls appending "
            "to one log); their blocks cannot be put back in the wrapper's order, so their "
            "records are not parsed",
            self.end_line,
        )


class _LineTap:
    """Passes lines through and keeps those not yet settled, so that a region
    can be read again line by line; memory stays bounded by the largest region."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines = lines
        self._kept: deque[str] = deque()
        self._first = 1  # line number of _kept[0]

    def __iter__(self) -> Iterator[str]:
        for line in self._lines:
            self._kept.append(line)
            yield line

    def forget_before(self, line: int) -> None:
        while self._first < line and self._kept:
            self._kept.popleft()
            self._first += 1

    def between(self, first: int, last: int) -> tuple[tuple[int, str], ...]:
        start = first - self._first
        return tuple((first + offset, self._kept[start + offset]) for offset in range(last - first + 1))


@dataclass(slots=True)
class _Sections:
    started: Token | None = None
    returned: Token | None = None
    params: Token | None = None
    env: Token | None = None
    input_header: Token | None = None
    input_text: Token | None = None
    output_header: Token | None = None
    output_text: Token | None = None


def _sections(tokens: Iterable[Token], problems: list[Problem]) -> _Sections:
    found = _Sections()
    slot = None
    for token in tokens:
        kind = token.type
        if kind == "DATE":
            found.started = token
        elif kind == "RETURNED":
            found.returned = token
        elif kind == "PARAMS_HEADER":
            slot = "params"
        elif kind == "ENV_HEADER":
            slot = "env"
        elif kind == "INPUT_HEADER":
            found.input_header, slot = token, "input_text"
        elif kind == "OUTPUT_HEADER":
            found.output_header, slot = token, "output_text"
        elif kind == "TEXT":
            if slot is None or getattr(found, slot) is not None:
                problems.append(Problem(token.line, "unexpected text in a record", token.end_line))
            else:
                setattr(found, slot, token)
    return found


def _strip_echoed_newline(text: str) -> str:
    """The wrapper ends INPUT with `echo ""` and OUTPUT with `echo "$output"`:
    one newline that is not part of the body."""
    return text[:-1] if text.endswith("\n") else text


def _body(header: Token | None, text: Token | None, *, verbatim: bool) -> Body | None:
    if header is None:
        return None
    if text is None:
        return Body("", (header.line or 0) + 1)
    raw = text.value if verbatim else _strip_echoed_newline(text.value)
    return Body.decode(raw, text.line or 0)


def _date(token: Token | None, prefix: str, problems: list[Problem]):
    if token is None:
        return None, None
    raw = token.value[len(prefix) :].strip() if prefix else token.value
    moment = parse_date(raw)
    if moment is None:
        problems.append(Problem(token.line or 0, f"cannot read the date {raw!r}"))
    return raw, moment


def build_record(tokens: tuple[Token, ...], *, file: str, plugin: str | None, index: int, complete: bool) -> Record:
    problems: list[Problem] = []
    found = _sections(tokens, problems)
    tty = found.input_header is None and found.output_header is not None
    started, started_at = _date(found.started, "", problems)
    returned, returned_at = _date(found.returned, RETURNED_PREFIX, problems)
    if not complete:
        problems.insert(0, Problem(tokens[0].line or 0, _incomplete_reason(found), tokens[-1].end_line))
    return Record(
        file=file,
        plugin=plugin,
        index=index,
        line=tokens[0].line or 0,
        end_line=tokens[-1].end_line or 0,
        started=started,
        returned=returned,
        started_at=started_at,
        returned_at=returned_at,
        params=parse_variables(found.params.value) if found.params else Variables(),
        env=parse_variables(found.env.value) if found.env else Variables(),
        input=_body(found.input_header, found.input_text, verbatim=False),
        output=_body(found.output_header, found.output_text, verbatim=tty),
        complete=complete,
        tty=tty,
        problems=tuple(problems),
        params_line=found.params.line if found.params else None,
        env_line=found.env.line if found.env else None,
    )


def _incomplete_reason(found: _Sections) -> str:
    if found.started is None:
        return "record without its date line and separator"
    if found.output_header is None:
        last = "INPUT" if found.input_header else "env" if found.env else "CNI params"
        return f"record cut short after its {last} block (no OUTPUT, no 'Returned at:')"
    if found.returned is None:
        return "record cut short in its OUTPUT (no 'Returned at:' line)"
    return "record without its closing separator"


def _ends_with_glued_marker(content: str) -> bool:
    """`{...}INPUT:` or `{...}env:`: stdin (which has no final newline) with the
    next block of another invocation written right after it."""
    for marker in _GLUE_MARKERS:
        if content.endswith(marker) and content[: -len(marker)].rstrip().endswith(("}", "]")):
            return True
    return False


def _glued_marker(tokens: tuple[Token, ...]) -> int | None:
    """Line of a wrapper marker glued to the end of other text: the sign of a
    concurrent invocation writing between an INPUT and its newline."""
    for token in tokens:
        if token.type == "DATE" and token.value[:1] in ("{", "["):
            return token.line  # `{...}Fri Nov 27 ...`: a date line never starts so
        if token.type != "TEXT":
            continue
        for offset, line in enumerate(token.value.split("\n")):
            content = line.rstrip("\r")
            if _ends_with_glued_marker(content):
                return (token.line or 0) + offset
    return None


def _params_match_env(tokens: tuple[Token, ...]) -> bool:
    """`CNI params:` is `env | grep CNI`: its lines are exactly the env lines
    that contain CNI, in order, unless another invocation's lines got in."""
    params = env = ""
    previous = None
    for token in tokens:
        if token.type == "TEXT" and previous == "PARAMS_HEADER":
            params = token.value
        elif token.type == "TEXT" and previous == "ENV_HEADER":
            env = token.value
        previous = token.type
    expected = [line for line in env.splitlines() if "CNI" in line]
    return params.splitlines() == expected


def _mixed_reason(unit: Unit) -> str | None:
    glued = _glued_marker(unit.tokens)
    if glued is not None:
        return f"line {glued} has a log marker glued to other text"
    if not _params_match_env(unit.tokens):
        return "its CNI params block does not match the CNI_ lines of its env block"
    return None


def _is_blank_gap(unit: Unit) -> bool:
    return unit.kind is UnitKind.GAP and unit.tokens[0].value.strip() == ""


class LogReader(Iterator[Record]):
    """Records of one log, streamed; file-level problems and interleaved
    regions collect in `problems` and `regions` as the reader advances."""

    def __init__(self, lines: Iterable[str], *, file: str, plugin: str | None) -> None:
        self.file = file
        self.plugin = plugin
        self.problems: list[Problem] = []
        self.regions: list[InterleavedRegion] = []
        self._tap = _LineTap(lines)
        self._records = self._read(self._tap)

    def __next__(self) -> Record:
        return next(self._records)

    def _read(self, lines: Iterable[str]) -> Iterator[Record]:
        index = 0
        trouble: list[Unit] = []
        for unit in frame(tokenize(lines)):
            if _is_blank_gap(unit):
                continue
            if unit.kind is UnitKind.RECORD and (_mixed_reason(unit) is None):
                for record in self._settle(trouble, index):
                    index += 1
                    yield record
                trouble = []
                self._tap.forget_before(unit.end_line + 1)
                yield build_record(unit.tokens, file=self.file, plugin=self.plugin, index=index, complete=True)
                index += 1
            else:
                trouble.append(unit)
        for record in self._settle(trouble, index, at_end=True):
            index += 1
            yield record
        if index == 0 and self.problems and not self.regions:
            first, last = self.problems[0].line, self.problems[-1].end_line or self.problems[-1].line
            self.problems[:] = [Problem(first, "no wrapper records found (is this a CNI wrapper log?)", last)]

    def _settle(self, trouble: list[Unit], index: int, *, at_end: bool = False) -> Iterator[Record]:
        """Report a run of units in trouble that ended (`at_end`: with the log)."""
        if not trouble:
            return
        if len(trouble) == 1:
            yield from self._settle_one(trouble[0], index)
            return
        yield from self._settle_region(trouble, index, at_end)

    def _settle_one(self, unit: Unit, index: int) -> Iterator[Record]:
        if unit.kind is UnitKind.BROKEN and unit.tokens[0].type == "DATE":
            yield build_record(unit.tokens, file=self.file, plugin=self.plugin, index=index, complete=False)
            return
        if unit.kind is UnitKind.RECORD:
            record = build_record(unit.tokens, file=self.file, plugin=self.plugin, index=index, complete=True)
            reason = _mixed_reason(unit)
            problem = Problem(unit.line, f"record may mix two invocations: {reason}", unit.end_line)
            yield _with_problem(record, problem)
            return
        if unit.kind is UnitKind.GAP:
            line = _first_non_blank_line(unit.tokens[0])
            self.problems.append(Problem(line, "unexpected text outside a record", unit.end_line))
        else:
            message = f"unexpected '{unit.tokens[0].value}' outside a record"
            self.problems.append(Problem(unit.line, message, unit.end_line))

    def _settle_region(self, trouble: list[Unit], index: int, at_end: bool) -> Iterator[Record]:
        """Recover the records of an interleaved region, or report it whole."""
        first, last = trouble[0].line, trouble[-1].end_line
        lines = self._tap.between(first, last)
        self._tap.forget_before(last + 1)
        recovery = recover(lines, file=self.file, plugin=self.plugin, first_index=index, at_end=at_end)
        if recovery is None:
            tokens = [token for unit in trouble for token in unit.tokens]
            estimate = max(sum(1 for token in tokens if token.type == kind) for kind in _ONCE_PER_CALL)
            region = InterleavedRegion(first, last, estimate)
            self.regions.append(region)
            self.problems.append(region.problem())
            return
        self.regions.append(InterleavedRegion(first, last, len(recovery.records), recovered=True))
        self.problems.append(recovery.problem)
        yield from recovery.records


def _first_non_blank_line(token: Token) -> int:
    lines = token.value.split("\n")
    blank = next((i for i, line in enumerate(lines) if line.strip()), 0)
    return (token.line or 0) + blank


def _with_problem(record: Record, problem: Problem) -> Record:
    return replace(record, problems=(*record.problems, problem))
