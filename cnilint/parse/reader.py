"""From framed units to records: build each record, and find damaged regions.

A unit the grammar accepts becomes a record, after a consistency check that
catches what the grammar cannot see (blocks of concurrent invocations glued
into a record-shaped sequence). Consecutive units in trouble are grouped:
one broken unit alone is a record cut short (reported as incomplete); more
than that is a region where invocations interleave, reported with its line
range; its raw lines go to cnilint.parse.recover, whose records take the
region's place.

Memory and time are bounded whatever the log holds: a record over
`max_record_bytes` is reported and skipped (the lexer does not even keep its
text), a run of units in trouble is settled as soon as it grows past that size
(its lines are kept for recovery only while they fit in it), and regions of
more than MAX_RECOVERED_LINES lines are reported without trying to recover
them (recovery searches, which is slow on large hostile regions).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from lark import Token

from cnilint.parse import fast
from cnilint.parse.dates import parse_date
from cnilint.parse.fields import Outcome, echoed_body, read_date, read_outcome
from cnilint.parse.framer import Unit, UnitKind, frame
from cnilint.parse.jsonpos import format_path
from cnilint.parse.lexer import (
    DEFAULT_MAX_BYTES,
    LINE_COST,
    MARKERS,
    RETURNED_PREFIX,
    Elided,
    PrebuiltRun,
    text_size,
    tokenize,
)
from cnilint.parse.records import (
    BAD_UTF8,
    CUT_STREAM,
    LONG_LINE,
    MORE_DAMAGE,
    NUL,
    Body,
    LineNote,
    Problem,
    Record,
    Variables,
    parse_variables,
)
from cnilint.parse.recover import recover

_GLUE_MARKERS = tuple(MARKERS)
_ONCE_PER_CALL = ("DATE", "PARAMS_HEADER", "ENV_HEADER", "RETURNED")  # blocks every call writes once
# The largest real burst (24 concurrent calls) is 1,246 lines; a failing search
# costs about 0.3 ms a line, so this bounds the time one region can take.
MAX_RECOVERED_LINES = 10_000
TOKEN_COST = 360  # what holding a token in a unit costs beyond its text (measured)


@dataclass(frozen=True, slots=True)
class InterleavedRegion:
    """Lines where the blocks of concurrent invocations alternate."""

    line: int
    end_line: int
    invocations: int  # recovered records, else an estimate: the most frequent once-per-call block
    recovered: bool = False  # its records were put back together (see cnilint.parse.recover)
    too_large: str | None = None  # why recovery was not tried: the region is too large

    def problem(self) -> Problem:
        why = (
            f"the region is too large to put back ({self.too_large})"
            if self.too_large
            else "their blocks cannot be put back in the wrapper's order"
        )
        return Problem(
            self.line,
            f"about {self.invocations} invocations interleave here (concurrent calls appending "
            f"to one log); {why}, so their records are not parsed",
            self.end_line,
        )


class _LineTap:
    """Passes lines through and keeps those not yet settled, so that a region
    can be read again line by line. It keeps at most `max_chars` characters:
    older lines are dropped, and a region that lost some cannot be recovered."""

    def __init__(self, lines: Iterable[str], max_chars: int) -> None:
        self._lines = lines
        self._kept: deque[str] = deque()
        self._first = 1  # line number of _kept[0]
        self._size = 0  # characters kept
        self._max = max_chars

    def __iter__(self) -> Iterator[str]:
        kept = self._kept
        for line in self._lines:
            if type(line) is PrebuiltRun:  # records read whole: the reader forgets up to their end
                yield line
                continue
            kept.append(line)
            self._size += len(line) + LINE_COST
            if self._size > self._max:
                self._shrink()
            yield line

    def _shrink(self) -> None:
        while self._size > self._max and len(self._kept) > 1:
            self._size -= len(self._kept.popleft()) + LINE_COST
            self._first += 1

    def forget_before(self, line: int) -> None:
        kept = self._kept
        count = min(line - self._first, len(kept))
        if count == len(kept):  # the usual case: everything read is settled
            kept.clear()
            self._size = 0
            self._first = max(self._first, line)  # past a record the fast path read, lines jump
            return
        if count <= 0:
            return
        self._first += count
        for _ in range(count):
            self._size -= len(kept.popleft()) + LINE_COST

    def between(self, first: int, last: int) -> tuple[tuple[int, str], ...] | None:
        """Lines first..last with their numbers, or None when some were dropped."""
        start = first - self._first
        if start < 0:
            return None
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
    stderr_header: Token | None = None
    stderr_text: Token | None = None
    exit_code: Token | None = None
    invocation: Token | None = None
    monotonic: Token | None = None
    wall_clock: Token | None = None


_OUTCOME_SLOTS = {
    "EXIT_CODE": "exit_code",
    "INVOCATION": "invocation",
    "MONOTONIC": "monotonic",
    "WALL_CLOCK": "wall_clock",
}


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
        elif kind == "STDERR_HEADER":
            found.stderr_header, slot = token, "stderr_text"
        elif kind in _OUTCOME_SLOTS:
            setattr(found, _OUTCOME_SLOTS[kind], token)
            slot = None
        elif kind == "TEXT":
            if slot is None or getattr(found, slot) is not None:
                problems.append(Problem(token.line, "unexpected text in a record", token.end_line))
            else:
                setattr(found, slot, token)
    return found


def _body(header: Token | None, text: Token | None, *, verbatim: bool) -> Body | None:
    if header is None:
        return None
    if text is None:
        return Body("", (header.line or 0) + 1)
    raw = text.value if verbatim else echoed_body(text.value)
    return Body.decode(raw, text.line or 0)


def _date(token: Token | None, prefix: str, problems: list[Problem]) -> tuple[str | None, datetime | None]:
    if token is None:
        return None, None
    return read_date(token.value, prefix, token.line or 0, problems)


def _outcome(found: _Sections, problems: list[Problem]) -> Outcome:
    lines = (found.exit_code, found.invocation, found.monotonic, found.wall_clock)
    if found.stderr_header is None or any(token is None for token in lines):
        return Outcome()
    stderr = found.stderr_text.value if found.stderr_text is not None else ""
    pairs = [(token.value, token.line or 0) for token in lines]  # type: ignore[union-attr]
    return read_outcome(stderr, *pairs, problems)


def build_record(
    tokens: tuple[Token, ...],
    *,
    file: str,
    plugin: str | None,
    index: int,
    complete: bool,
    notes: Sequence[LineNote] = (),
) -> Record:
    """The record of a unit's tokens; `notes`: damage found in its lines while reading."""
    problems: list[Problem] = []
    found = _sections(tokens, problems)
    # Terminal branch: the classic wrapper tees stdout as is; the cnilint one adds a newline.
    tty = found.input_header is None and found.output_header is not None
    started, started_at = _date(found.started, "", problems)
    outcome = _outcome(found, problems)
    returned, returned_at = _date(found.returned, RETURNED_PREFIX, problems)
    if not complete:
        problems.insert(0, Problem(tokens[0].line or 0, _incomplete_reason(found), tokens[-1].end_line))
    params = parse_variables(found.params.value) if found.params else Variables()
    env = parse_variables(found.env.value) if found.env else Variables()
    input_body = _body(found.input_header, found.input_text, verbatim=False)
    output_body = _body(found.output_header, found.output_text, verbatim=tty and found.stderr_header is None)
    for body, label in ((input_body, "INPUT"), (output_body, "OUTPUT")):
        if body is not None and body.duplicates:
            problems.extend(body.problems(label))
    if notes:
        blocks = _Blocks(found, params, env, input_body, output_body)
        problems.extend(note.problem(blocks.where(note)) for note in notes)
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
        params=params,
        env=env,
        input=input_body,
        output=output_body,
        complete=complete,
        tty=tty,
        problems=tuple(problems),
        params_line=found.params.line if found.params else None,
        env_line=found.env.line if found.env else None,
        exit_code=outcome.exit_code,
        stderr=outcome.stderr,
        duration_ms=outcome.duration_ms,
        invocation=outcome.invocation,
    )


@dataclass(frozen=True, slots=True)
class _Blocks:
    """A record's blocks, to say which one a damaged line belongs to."""

    found: _Sections
    params: Variables
    env: Variables
    input: Body | None
    output: Body | None

    def where(self, note: LineNote) -> str:
        found, line = self.found, note.line
        if _holds(found.started, line):
            return "in the date line"
        if _holds(found.returned, line):
            return "in the 'Returned at:' line"
        if found.params is not None and _holds(found.params, line):
            return _in_variables("CNI params", self.params, found.params.line or 0, line)
        if found.env is not None and _holds(found.env, line):
            return _in_variables("env", self.env, found.env.line or 0, line)
        for label, token, body in (("INPUT", found.input_text, self.input), ("OUTPUT", found.output_text, self.output)):
            if body is not None and _holds(token, line):
                path = body.path_at(line, note.column) if body.is_json else None
                return f"in {label}" + (f" at {format_path(path)}" if path is not None else "")
        return ""


def _holds(token: Token | None, line: int) -> bool:
    return token is not None and (token.line or 0) <= line <= (token.end_line or token.line or 0)


def _in_variables(block: str, variables: Variables, first: int, line: int) -> str:
    """`in the env value of NAME`: the variable printed on that line."""
    offset = first
    for name, value in variables.pairs:
        offset += value.count("\n") + 1
        if line < offset:
            return f"in the {block} value of {name}" if name else f"in the {block} block"
    return f"in the {block} block"


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


def _body_end_or_blank_as_date(tokens: tuple[Token, ...]) -> int | None:
    """Line of a "date line" that is a body's last line (`}`, `]`) or blank: what the line
    before a separator is when another call's separator follows this call's output."""
    token = tokens[0]
    if token.type == "DATE" and (token.value[:1] in ("}", "]") or not token.value.strip()):
        return token.line
    return None


def _mixed_reason(unit: Unit) -> str | None:
    glued = _glued_marker(unit.tokens)
    if glued is not None:
        return f"line {glued} has a log marker glued to other text"
    not_a_date = _body_end_or_blank_as_date(unit.tokens)
    if not_a_date is not None:
        return f"line {not_a_date} stands where its date line should, but is no date line"
    if not _params_match_env(unit.tokens):
        return "its CNI params block does not match the CNI_ lines of its env block"
    return None


def _is_blank_gap(unit: Unit) -> bool:
    if unit.kind is not UnitKind.GAP:
        return False
    value = unit.tokens[0].value
    return value.blank if isinstance(value, Elided) else value.strip() == ""


def _unit_size(unit: Unit) -> int:
    """Memory a unit in trouble holds: its text and its tokens."""
    return sum(text_size(token.value) + TOKEN_COST for token in unit.tokens)


def _elided(unit: Unit) -> bool:
    for token in unit.tokens:  # noqa: SIM110 - a loop is faster than any(), and this runs per unit
        if type(token.value) is Elided:
            return True
    return False


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit >= 1 << 20 and limit % (1 << 20) == 0 else f"{limit:,} bytes"


class LogReader(Iterator[Record]):
    """Records of one log, streamed; file-level problems and interleaved
    regions collect in `problems` and `regions` as the reader advances.

    `notes` is the damage its source found in lines as it read them (invalid
    UTF-8, NUL bytes, lines over the limit), in line order: each is put on the
    record holding its line, else among the file's problems. A record larger
    than `max_record_bytes` characters is reported and skipped.
    """

    def __init__(
        self,
        lines: Iterable[str],
        *,
        file: str,
        plugin: str | None,
        notes: deque[LineNote] | None = None,
        max_record_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.file = file
        self.plugin = plugin
        self.problems: list[Problem] = []
        self.regions: list[InterleavedRegion] = []
        self.max_record_bytes = max_record_bytes
        self._notes: deque[LineNote] = notes if notes is not None else deque()
        self._kept: list[Problem] = []  # file problems that stay when there is no record at all
        self._binary = False  # some line held bytes that are not UTF-8 text
        self._stretch: _Stretch | None = None  # units in trouble being reported as they overflow
        self._skipped = 0  # records over the size limit
        self._tap = _LineTap(lines, max_record_bytes)
        self._records = self._read(self._tap)
        self.position: Callable[[], int | None] | None = None  # set by cnilint.parse.source

    @property
    def bytes_read(self) -> int | None:
        """Bytes of the stored file read so far (for progress), or None for a stream."""
        return self.position() if self.position is not None else None

    def __next__(self) -> Record:
        return next(self._records)

    def __iter__(self) -> Iterator[Record]:
        return self._records  # `for record in reader` resumes the generator directly

    def _read(self, lines: Iterable[str]) -> Iterator[Record]:
        index = 0
        trouble: list[Unit] = []
        trouble_size = 0
        held: _Held | None = None  # a record after an orphaned date line: see _hold
        for unit in frame(tokenize(lines, self.max_record_bytes)):
            if type(unit) is PrebuiltRun:  # well-formed records read by the fast path
                if held is not None:
                    for record in self._settle_held(held, trouble, index):
                        index += 1
                        yield record
                    held, trouble, trouble_size = None, [], 0
                first = unit.records[0]
                if len(unit.records) == 1 and self._holds_orphan(trouble):
                    held = self._hold(trouble[0], fast.record_lines(first), first.end_line, first.line - 1)
                    held.record = fast.build(first, file=self.file, plugin=self.plugin, index=index)
                    trouble, trouble_size = [], 0
                    self._tap.forget_before(unit.next_line)
                    continue
                if trouble or self._stretch is not None:
                    for record in self._settle(trouble, index):
                        index += 1
                        yield record
                    trouble, trouble_size = [], 0
                self._tap.forget_before(unit.next_line)
                self._file_notes(first.line - 1)
                build, file, plugin = fast.build, self.file, self.plugin
                for prebuilt in unit.records:
                    yield build(prebuilt, file=file, plugin=plugin, index=index)
                    index += 1
                continue
            if _is_blank_gap(unit):
                continue
            too_large = unit.tokens[0].type == "DATE" and _elided(unit)  # a record: skipped, reported
            if too_large or (unit.kind is UnitKind.RECORD and _mixed_reason(unit) is None):
                if held is not None:
                    for record in self._settle_held(held, trouble, index):
                        index += 1
                        yield record
                    held, trouble, trouble_size = None, [], 0
                if not too_large and self._holds_orphan(trouble):
                    lines_of_record = self._tap.between(unit.line, unit.end_line)
                    if lines_of_record is not None:
                        held = self._hold(trouble[0], lines_of_record, unit.end_line, unit.line - 1)
                        held.record = self._record(unit, index, complete=True)
                        trouble, trouble_size = [], 0
                        self._tap.forget_before(unit.end_line + 1)
                        continue
                for record in self._settle(trouble, index):
                    index += 1
                    yield record
                trouble, trouble_size = [], 0
                self._tap.forget_before(unit.end_line + 1)
                record = self._record(unit, index, complete=unit.kind is UnitKind.RECORD)
                if record is not None:
                    yield record
                    index += 1
                continue
            trouble.append(unit)
            trouble_size += _unit_size(unit)
            if trouble_size > self.max_record_bytes:  # report it now: memory stays bounded
                if held is not None:
                    for record in self._release(held, index):
                        index += 1
                        yield record
                    held = None
                if len(trouble) == 1 and self._stretch is None:
                    for record in self._settle(trouble, index):
                        index += 1
                        yield record
                else:
                    self._overflow(trouble)
                trouble, trouble_size = [], 0
        settled = self._settle_held(held, trouble, index, at_end=True) if held is not None else None
        for record in settled or self._settle(trouble, index, at_end=True):
            index += 1
            yield record
        self._file_notes(None)
        if index == 0 and self.problems and not self.regions and not self._skipped:
            self._no_records()

    def _no_records(self) -> None:
        first = min(problem.line for problem in self.problems)
        last = max(problem.end_line or problem.line for problem in self.problems)
        hint = " It holds bytes that are not UTF-8 text." if self._binary else ""
        summary = Problem(first, f"no wrapper records found (is this a CNI wrapper log?{hint})", last)
        self.problems[:] = [summary, *self._kept]

    # --- damage found while reading lines ---------------------------------

    def _file_notes(self, last: int | None) -> None:
        """Notes up to line `last` (None: all) among the file's problems."""
        notes = self._notes
        while notes and (last is None or notes[0].line <= last):
            self._file_problem(notes.popleft())

    def _file_problem(self, note: LineNote) -> None:
        problem = note.problem()
        self.problems.append(problem)
        if note.kind in (LONG_LINE, CUT_STREAM):
            self._kept.append(problem)
        elif note.kind in (BAD_UTF8, NUL, MORE_DAMAGE):
            self._binary = True

    def _notes_in(self, first: int, last: int) -> list[LineNote]:
        """Notes of lines first..last; those of earlier lines go to the file."""
        notes = self._notes
        if not notes:
            return []
        self._file_notes(first - 1)
        taken = []
        while notes and notes[0].line <= last:
            taken.append(notes.popleft())
        return taken

    # --- records and units in trouble -------------------------------------

    def _record(self, unit: Unit, index: int, *, complete: bool, problem: Problem | None = None) -> Record | None:
        """The record of a unit, or None when it is over the size limit (reported)."""
        notes = self._notes_in(unit.line, unit.end_line)
        if _elided(unit) or any(note.kind == LONG_LINE for note in notes):
            self._skip(unit, notes)
            return None
        record = build_record(
            unit.tokens, file=self.file, plugin=self.plugin, index=index, complete=complete, notes=notes
        )
        return _with_problem(record, problem) if problem is not None else record

    def _skip(self, unit: Unit, notes: list[LineNote]) -> None:
        message = (
            f"record larger than the size limit ({_size(self.max_record_bytes)}, --max-record-bytes): "
            "skipped, its lines are not checked"
        )
        self.problems.append(Problem(unit.line, message, unit.end_line))
        self._skipped += 1
        for note in notes:
            if note.kind != LONG_LINE:
                self._file_problem(note)

    def _settle(self, trouble: list[Unit], index: int, *, at_end: bool = False) -> Iterator[Record]:
        """Report a run of units in trouble that ended (`at_end`: with the log)."""
        if self._stretch is not None:  # the end of a run too large to hold: no recovery
            if trouble:
                self._overflow(trouble)
            self._stretch = None
            return
        if not trouble:
            return
        if len(trouble) == 1:
            yield from self._settle_one(trouble[0], index)
            return
        yield from self._settle_region(trouble, index, at_end)

    def _overflow(self, trouble: list[Unit]) -> None:
        """Report units in trouble as part of a stretch too large to recover:
        one problem (and region) for the whole stretch, however long."""
        first, last = trouble[0].line, trouble[-1].end_line
        self._file_notes(last)
        self._tap.forget_before(last + 1)
        stretch = self._stretch
        if stretch is None:
            stretch = self._stretch = _Stretch(first, last, 0, len(self.problems))
            self.problems.append(Problem(first, ""))  # filled in below
        stretch.last, stretch.invocations = last, stretch.invocations + _estimate(trouble)
        too_large = f"over {_size(self.max_record_bytes)}"
        if stretch.invocations < 2:
            self.problems[stretch.problem] = _not_records(stretch.first, last)
            return
        region = InterleavedRegion(stretch.first, last, stretch.invocations, too_large=too_large)
        if stretch.region is None:
            stretch.region = len(self.regions)
            self.regions.append(region)
        self.regions[stretch.region] = region
        self.problems[stretch.problem] = region.problem()

    # --- a record between an orphaned date line and the rest of its call --------
    #
    # A call appends its date line, another call appends its whole record (taking the first call's
    # separator as its closing one), then the first call appends the rest of its own: the date line
    # is alone before a well-formed record, the rest has no date line, and neither is a record. So a
    # record right after a lone date line is held until the next unit says which: more records
    # (nothing was interleaved: report the line, give the record) or lines in trouble (recover the
    # whole stretch, the held record's lines included).

    def _holds_orphan(self, trouble: list[Unit]) -> bool:
        """Whether the trouble before a record is only a lone date line (and nothing else is pending)."""
        if len(trouble) != 1 or trouble[0].kind is not UnitKind.GAP or self._stretch is not None or self._notes:
            return False
        value = trouble[0].tokens[0].value
        if type(value) is Elided:
            return False
        content = value.strip()
        return bool(content) and "\n" not in content and parse_date(content) is not None

    def _hold(self, orphan: Unit, record_lines: Sequence[tuple[int, str]], end_line: int, before: int) -> _Held:
        token = orphan.tokens[0]
        line = _first_non_blank_line(token)
        text = token.value.split("\n")[line - (token.line or 0)] + "\n"
        return _Held(orphan, ((line, text), *record_lines), end_line, before)

    def _release(self, held: _Held, index: int) -> Iterator[Record]:
        """What the reader gives when nothing was interleaved: the lone line reported, the record."""
        self._file_notes(held.before)
        yield from self._settle_one(held.orphan, index)
        if held.record is not None:  # built with this index: nothing was given since
            yield held.record

    def _settle_held(self, held: _Held, trouble: list[Unit], index: int, *, at_end: bool = False) -> Iterator[Record]:
        """Recover the held record's call and the calls of the trouble after it together; else
        release the record and settle the trouble alone."""
        rest = self._tap.between(held.end_line + 1, trouble[-1].end_line) if trouble else None
        if rest is not None and len(held.lines) + len(rest) <= MAX_RECOVERED_LINES:
            lines = (*held.lines, *rest)
            recovery = recover(lines, file=self.file, plugin=self.plugin, first_index=index, at_end=at_end)
            if recovery is not None and len(recovery.records) >= 2:
                first, last = lines[0][0], lines[-1][0]
                self._file_notes(last)
                self._tap.forget_before(last + 1)
                self.regions.append(InterleavedRegion(first, last, len(recovery.records), recovered=True))
                self.problems.append(recovery.problem)
                yield from recovery.records
                return
        released = 0
        for record in self._release(held, index):
            released += 1
            yield record
        yield from self._settle(trouble, index + released, at_end=at_end)

    def _settle_one(self, unit: Unit, index: int) -> Iterator[Record]:
        if unit.kind is UnitKind.BROKEN and unit.tokens[0].type == "DATE":
            record = self._record(unit, index, complete=False)
            if record is not None:
                yield record
            return
        if unit.kind is UnitKind.RECORD:
            reason = _mixed_reason(unit)
            problem = Problem(unit.line, f"record may mix two invocations: {reason}", unit.end_line)
            record = self._record(unit, index, complete=True, problem=problem)
            if record is not None:
                yield record
            return
        self._file_notes(unit.end_line)
        if unit.kind is UnitKind.GAP:
            line = _first_non_blank_line(unit.tokens[0])
            self.problems.append(Problem(line, "unexpected text outside a record", unit.end_line))
        else:
            message = f"unexpected '{unit.tokens[0].value}' outside a record"
            self.problems.append(Problem(unit.line, message, unit.end_line))

    def _settle_region(self, trouble: list[Unit], index: int, at_end: bool) -> Iterator[Record]:
        """Recover the records of an interleaved region, or report it whole."""
        first, last = trouble[0].line, trouble[-1].end_line
        self._file_notes(last)
        lines = self._tap.between(first, last)
        self._tap.forget_before(last + 1)
        too_large = _too_large_to_recover(first, last, lines, self.max_record_bytes)
        recovery = None
        if too_large is None and lines is not None:
            recovery = recover(lines, file=self.file, plugin=self.plugin, first_index=index, at_end=at_end)
        if recovery is None:
            self._unrecovered(trouble, too_large)
            return
        self.regions.append(InterleavedRegion(first, last, len(recovery.records), recovered=True))
        self.problems.append(recovery.problem)
        yield from recovery.records

    def _unrecovered(self, trouble: list[Unit], too_large: str | None) -> None:
        first, last = trouble[0].line, trouble[-1].end_line
        estimate = _estimate(trouble)
        if estimate < 2:  # not two calls: lines of the wrapper out of any order (only separators, say)
            self.problems.append(_not_records(first, last))
            return
        region = InterleavedRegion(first, last, estimate, too_large=too_large)
        self.regions.append(region)
        self.problems.append(region.problem())


@dataclass(slots=True)
class _Held:
    """A well-formed record read right after a lone date line, held back (see LogReader._hold)."""

    orphan: Unit  # the GAP of the lone date line
    lines: tuple[tuple[int, str], ...]  # the date line and the record's lines, numbered
    end_line: int  # the record's last line
    before: int  # the line before the record (file notes up to it are filed when it is given)
    record: Record | None = None  # as the reader would give it


@dataclass(slots=True)
class _Stretch:
    """A run of units in trouble too large to hold, reported piece by piece as one."""

    first: int
    last: int
    invocations: int
    problem: int  # its index in LogReader.problems
    region: int | None = None  # its index in LogReader.regions, once it looks like two calls or more


def _estimate(trouble: list[Unit]) -> int:
    """Calls in a run of units: the most frequent block every call writes once."""
    counts = dict.fromkeys(_ONCE_PER_CALL, 0)
    for unit in trouble:
        for token in unit.tokens:
            if token.type in counts:
                counts[token.type] += 1
    return max(counts.values())


def _not_records(first: int, last: int) -> Problem:
    return Problem(first, "these lines do not form records (wrapper lines out of order)", last)


def _too_large_to_recover(first: int, last: int, lines: object, max_chars: int) -> str | None:
    if lines is None:
        return f"over {_size(max_chars)}"
    if last - first + 1 > MAX_RECOVERED_LINES:
        return f"{last - first + 1:,} lines, over {MAX_RECOVERED_LINES:,}"
    return None


def _first_non_blank_line(token: Token) -> int:
    lines = token.value.split("\n")
    blank = next((i for i, line in enumerate(lines) if line.strip()), 0)
    return (token.line or 0) + blank


def _with_problem(record: Record, problem: Problem) -> Record:
    return replace(record, problems=(*record.problems, problem))
