"""The fast path: records the wrapper wrote whole, read with one regular
expression each instead of line by line.

A busy node logs about a megabyte an hour per plugin, almost all of it records
exactly as the wrapper writes them when nothing goes wrong. For those, one
match of RECORD (C speed) finds every block and rules out markers glued to
text, and the reader's other check on grammar-accepted records (`CNI params:`
equal to the CNI lines of `env:`) is one comparison of lines. Whatever does not
match exactly, and every line of a block the source could not decode cleanly,
goes to the grammar path (lexer, lark framer, reader) unchanged: the fast path
only takes records the grammar accepts, in the token shapes `SHAPES` below, and
tests/test_fast_path.py checks both paths give the same records on every
fixture and on generated logs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from cnilint.parse.fields import Outcome, read_date, read_outcome
from cnilint.parse.lexer import (
    LINE_COST,
    MARKERS,
    OUTCOME_PREFIXES,
    RETURNED_PREFIX,
    STDERR_MARKER,
    Prebuilt,
    PrebuiltRun,
)
from cnilint.parse.records import Body, Problem, Record, Variables

# A line inside a block: not a marker line of either wrapper, not a separator
# (a run of 20 '=' starts one: stricter than the lexer, so only safe misses).
_EXACT_MARKERS = "|".join(re.escape(marker) for marker in (*MARKERS, STDERR_MARKER))
_OUTCOME_MARKERS = "|".join(re.escape(prefix) for prefix in OUTCOME_PREFIXES)
_PREFIX_MARKERS = rf"{re.escape(RETURNED_PREFIX)}|{_OUTCOME_MARKERS}"
_MARKER_STARTS = "".join(sorted({text[0] for text in (*MARKERS, STDERR_MARKER, RETURNED_PREFIX, *OUTCOME_PREFIXES)}))
# Nor a line ending with a marker: one glued to other text (`{...}INPUT:`) is the sign of another call's
# lines in this record, which the reader reports (lines merely ending so go there too: rare, still right).
_NOT_GLUED = "(?:(?<!:)|" + "".join(f"(?<!{re.escape(marker)})" for marker in MARKERS) + ")"
# Atomic: a line read is never read again another way, so a record that does not match fails in linear time.
_PLAIN_LINE = (  # a line that cannot start a marker (most lines) skips the lookahead
    rf"(?>(?:[^{re.escape(_MARKER_STARTS)}=\n]|CNI_)[^\n]*+{_NOT_GLUED}\n"  # CNI_ variables: not a marker
    rf"|(?!(?:{_EXACT_MARKERS})\n|{_PREFIX_MARKERS}|={{20}})[^\n]*+{_NOT_GLUED}\n)"
)
_LINES = rf"(?:{_PLAIN_LINE})*"
_SEPARATOR = r"={20,}\n"
_MARKER_LINE_TEXTS = frozenset((*MARKERS, STDERR_MARKER))
_PREFIXES = tuple(OUTCOME_PREFIXES)  # lines the lexer reads as markers by their start (and "Returned at:")
MAX_BLANK_AFTER = 16  # blank lines read with a record; more go to the grammar path as a gap

RECORD = re.compile(
    r"(?P<date>[^\n={}\[\]][^\n]*)\n"  # a date line never starts as JSON does or ends (see reader)
    + _SEPARATOR
    + rf"CNI params:\n(?P<params>{_LINES})"
    + rf"env:\n(?P<env>{_LINES})"
    + rf"(?:INPUT:\n(?P<input>(?:{_PLAIN_LINE})+))?"  # text: at least the echoed newline; none: stdin a terminal
    + rf"OUTPUT:\n(?P<output>{_LINES})"
    + rf"(?:STDERR:\n(?P<stderr>{_LINES})"
    + r"(?P<exit>Exit code:[^\n]*)\n(?P<invocation>Invocation:[^\n]*)\n"
    + r"(?P<monotonic>Monotonic:[^\n]*)\n(?P<wall>Wall clock:[^\n]*)\n"
    # Classic wrapper: output without a final newline has "Returned at:" glued to its last line.
    + rf"|(?P<glued>(?!{_OUTCOME_MARKERS}|={{20}})[^\n]*?){_NOT_GLUED})"
    + r"(?P<returned>Returned at:[^\n]*)\n"
    + _SEPARATOR
    + rf"(?P<blank>\n{{0,{MAX_BLANK_AFTER}}})"
)
# Where a record may start: a line, a separator, `CNI params:`.
_START = re.compile(r"^[^\n={}\[\]][^\n]*\n={20,}\nCNI params:\n", re.MULTILINE)

# The token shapes the fast path reads, as the grammar's terminals (checked against lark in the tests).
SHAPES = {
    "classic": ("DATE", "SEP", "PARAMS_HEADER", "TEXT", "ENV_HEADER", "TEXT", "INPUT_HEADER", "TEXT",
                "OUTPUT_HEADER", "TEXT", "RETURNED", "SEP"),
    "cnilint": ("DATE", "SEP", "PARAMS_HEADER", "TEXT", "ENV_HEADER", "TEXT", "INPUT_HEADER", "TEXT",
                "OUTPUT_HEADER", "TEXT", "STDERR_HEADER", "TEXT", "EXIT_CODE", "INVOCATION", "MONOTONIC",
                "WALL_CLOCK", "RETURNED", "SEP"),
    "classic, terminal": ("DATE", "SEP", "PARAMS_HEADER", "TEXT", "ENV_HEADER", "TEXT", "OUTPUT_HEADER", "TEXT",
                          "RETURNED", "SEP"),
    "cnilint, terminal": ("DATE", "SEP", "PARAMS_HEADER", "TEXT", "ENV_HEADER", "TEXT", "OUTPUT_HEADER", "TEXT",
                          "STDERR_HEADER", "TEXT", "EXIT_CODE", "INVOCATION", "MONOTONIC", "WALL_CLOCK",
                          "RETURNED", "SEP"),
}  # fmt: skip


def match_record(text: str, pos: int, max_record_bytes: int) -> re.Match[str] | None:
    """The record starting at `pos` when the grammar path would read it as a
    well-formed record of one invocation, else None."""
    found = RECORD.match(text, pos)
    if found is None:
        return None
    date = found.group("date")
    if date in _MARKER_LINE_TEXTS or date.startswith(_PREFIXES) or RETURNED_PREFIX in date or date.isspace():
        return None  # the lexer reads this line as a marker (or glued output), or the reader as no date
    start, end = found.span()
    # Conservative size bound (4 bytes a character, a line a character): records near the limit take the grammar path.
    if (4 + LINE_COST) * (end - start) + LINE_COST * MAX_BLANK_AFTER > max_record_bytes:
        return None
    env, params = found.group("env", "params")
    if [line for line in env.split("\n") if "CNI" in line] != params.split("\n")[:-1]:
        return None  # `CNI params:` is `env | grep CNI`: else another call's lines got in
    return found


def _next_record(text: str, pos: int, max_record_bytes: int) -> int:
    """Where the next record the fast path reads starts after `pos`, or -1."""
    start = _START.search(text, pos + 1)
    while start is not None:
        if match_record(text, start.start(), max_record_bytes) is not None:
            return start.start()
        start = _START.search(text, start.start() + 1)
    return -1


class CleanText:
    """Lines of a log that decoded as UTF-8 with nothing the line reader notes
    (no NUL, CR or other line breaks): the fast path may read them. A holder,
    not a str subclass, so the block is never copied to make one."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def scan(items: Iterable[str | CleanText], max_record_bytes: int) -> Iterator[str | PrebuiltRun]:
    """Lines for the grammar path, with the records the fast path read in
    their place, in runs (`items`: lines, and CleanText blocks of whole lines)."""
    buffer, pos, line = "", 0, 1  # `line`: the line number at `pos`
    hold = max(max_record_bytes, 1 << 20)  # text kept while waiting for a record's end
    for item in items:
        if type(item) is CleanText:
            buffer = buffer[pos:] + item.text if pos < len(buffer) else item.text
            pos = 0
            pos, line = yield from _read(buffer, pos, line, max_record_bytes, hold, final=False)
            continue
        if pos < len(buffer):  # a damaged line: what was held goes to the grammar path first
            line = yield from _lines(buffer[pos:], line)
        buffer, pos = "", 0
        yield item  # type: ignore[misc]
        line += 1
    yield from _read(buffer, pos, line, max_record_bytes, hold, final=True)


def _read(
    text: str, pos: int, line: int, max_record_bytes: int, hold: int, *, final: bool
) -> Iterator[str | PrebuiltRun]:
    size = len(text)
    run: list[Prebuilt] = []
    following = None  # the match at `pos`, when already made
    while pos < size:
        found = following or match_record(text, pos, max_record_bytes)
        following = None
        if found is not None:
            end, blank_start = found.end(), found.start("blank")
            if end > blank_start:  # blank lines after the closing separator
                # Read with the record only when a record follows (or the log ends): else they go with
                # what follows to the grammar path, as that path would read them.
                following = match_record(text, end, max_record_bytes) if end < size else None
                if following is None and not (final and end == size):
                    end = blank_start
            # Lines counted once, block by block: the record's end, and where its blocks start.
            params_lines = text.count("\n", *found.span("params"))
            env_lines = text.count("\n", *found.span("env"))
            output_header = line + 4 + params_lines + env_lines  # date, separator, two headers
            in_start, in_end = found.span("input")
            if in_start >= 0:
                output_header += 1 + text.count("\n", in_start, in_end)
            next_line = output_header + 1 + text.count("\n", found.start("output"), end)
            blank = end - blank_start
            run.append(Prebuilt(found, line, next_line - 1 - blank, next_line, params_lines, env_lines, output_header))
            pos, line = end, next_line
            continue
        if run:
            yield PrebuiltRun(run)
            run = []
        upto = _next_record(text, pos, max_record_bytes)
        if upto < 0:
            if not final and size - pos <= hold:
                break  # maybe a record whose end is in the next block
            upto = size
        line = yield from _lines(text[pos:upto], line)
        pos = upto
    if run:
        yield PrebuiltRun(run)
    return pos, line


def _lines(text: str, line: int) -> Iterator[str]:
    lines = text.splitlines(keepends=True)  # CleanText has no line break but "\n"
    yield from lines
    return line + len(lines)


def record_lines(prebuilt: Prebuilt) -> tuple[tuple[int, str], ...]:
    """The lines of a record the fast path read, numbered (blank lines read with it left out)."""
    found: re.Match[str] = prebuilt.match  # type: ignore[assignment]
    text = found.string[found.start() : found.start("blank")]
    return tuple(enumerate(text.splitlines(keepends=True), prebuilt.line))


_NO_OUTCOME = Outcome()  # classic records


def build(prebuilt: Prebuilt, *, file: str, plugin: str | None, index: int) -> Record:
    """The record of a fast-path match, as the grammar path builds it."""
    found: re.Match[str] = prebuilt.match  # type: ignore[assignment]
    text, first = found.string, prebuilt.line
    date, params, env, stderr, returned_line = found.group("date", "params", "env", "stderr", "returned")
    params_lines, output_header = prebuilt.params_lines, prebuilt.output_header
    input_line = first + 5 + params_lines + prebuilt.env_lines  # when piped: the line after INPUT:
    # Bodies are cut from the log's text by their spans: one copy each, without the wrapper's newline.
    in_start, in_end = found.span("input")
    tty = in_start < 0  # stdin a terminal: no INPUT
    out_start, out_end = found.span("output")
    glued_end = found.end("glued")
    if glued_end > out_end:
        out_end = glued_end  # the lexer splits "Returned at:" off the output's last line
    problems: list[Problem] = []
    started, started_at = read_date(date, "", first, problems)
    outcome = _NO_OUTCOME
    if stderr is not None:
        exit_line = output_header + 2 + text.count("\n", out_start, out_end) + stderr.count("\n")
        outcome = read_outcome(
            stderr,
            (found.group("exit"), exit_line),
            (found.group("invocation"), exit_line + 1),
            (found.group("monotonic"), exit_line + 2),
            (found.group("wall"), exit_line + 3),
            problems,
        )
    returned, returned_at = read_date(returned_line, RETURNED_PREFIX, prebuilt.end_line - 1, problems)
    input_body = None if tty else Body.decode(text[in_start : in_end - 1], input_line)  # ends with its newline
    if out_end == out_start:
        output_body = Body("", output_header + 1)
    else:
        # The classic wrapper tees a terminal's stdout as is; else the wrapper added one newline.
        if not (tty and stderr is None) and text[out_end - 1] == "\n":
            out_end -= 1
        output_body = Body.decode(text[out_start:out_end], output_header + 1)
    if input_body is not None and input_body.duplicates:
        problems.extend(input_body.problems("INPUT"))
    if output_body.duplicates:
        problems.extend(output_body.problems("OUTPUT"))
    # Positional, in the order of Record's fields (pinned by a test): a third of the keyword call's cost.
    return Record(
        file,
        plugin,
        index,
        first,  # line
        prebuilt.end_line,
        started,
        returned,
        started_at,
        returned_at,
        Variables.from_text(params) if params else Variables(),
        Variables.from_text(env) if env else Variables(),
        input_body,
        output_body,
        True,  # complete
        tty,
        tuple(problems) if problems else (),
        first + 3 if params else None,  # params_line
        first + 4 + params_lines if env else None,  # env_line
        False,  # recovered
        None,  # confidence
        outcome.exit_code,
        outcome.stderr,
        outcome.duration_ms,
        outcome.invocation,
    )
