"""Line classifier: turns log lines into the terminals of grammars/wrapper_log.lark.

Tokens are whole lines (markers) or runs of lines (TEXT), so a record is about a
dozen tokens whatever the size of its JSON bodies. Two lookahead facts need the
next line: the `date` line is the line just before an opening separator, and in
the terminal branch the plugin's last output line can carry "Returned at:" glued
to its end (tee copies stdout verbatim), which only counts when a separator
follows.

Memory is bounded: the text between two separators (a record's blocks, or the
lines between records) is kept up to `max_bytes` (its characters, plus
LINE_COST per line). Past that, TEXT runs are elided: their token value is an
`Elided` that keeps sizes and line numbers but not the text, and the reader
skips the record that holds one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from lark import Token

DEFAULT_MAX_BYTES = 16 * 1024 * 1024  # text kept between two separators (the default --max-record-bytes)
# What holding a line costs beyond its characters (a str object, a list slot):
# sizes are counted with it, so a record of a million empty lines is large too.
LINE_COST = 64
SEPARATOR_CHAR = "="
MIN_SEPARATOR_LENGTH = 20  # the wrapper writes 65; shorter runs of '=' are text
RETURNED_PREFIX = "Returned at:"

MARKERS = {
    "CNI params:": "PARAMS_HEADER",
    "env:": "ENV_HEADER",
    "INPUT:": "INPUT_HEADER",
    "OUTPUT:": "OUTPUT_HEADER",
}
# What the cnilint wrapper (`cnilint capture`) adds after OUTPUT; the classic wrapper never writes them.
STDERR_MARKER = "STDERR:"
OUTCOME_PREFIXES = {
    "Exit code:": "EXIT_CODE",
    "Invocation:": "INVOCATION",
    "Monotonic:": "MONOTONIC",
    "Wall clock:": "WALL_CLOCK",
}


def _content(line: str) -> str:
    """The line without its terminator (CRLF tolerated for classification)."""
    return line.rstrip("\n").rstrip("\r")


def is_separator(content: str) -> bool:
    return len(content) >= MIN_SEPARATOR_LENGTH and content.strip(SEPARATOR_CHAR) == ""


def classify(content: str) -> str:
    """The terminal type of one line, before lookahead: a marker or TEXT
    (the classic wrapper's markers only)."""
    if content.startswith(RETURNED_PREFIX):
        return "RETURNED"
    kind = MARKERS.get(content)
    if kind is not None:
        return kind
    if content[:1] == SEPARATOR_CHAR and is_separator(content):
        return "SEP"
    return "TEXT"


def classify_any(content: str) -> str:
    """The terminal type of one line, the cnilint wrapper's markers included."""
    kind = classify(content)
    if kind != "TEXT":
        return kind
    if content == STDERR_MARKER:
        return "STDERR_HEADER"
    if content[:1] in "EIMW":
        for prefix, kind in OUTCOME_PREFIXES.items():
            if content.startswith(prefix):
                return kind
    return "TEXT"


def _token(kind: str, value: str, line: int, end_line: int | None = None) -> Token:
    return Token(kind, value, line=line, end_line=end_line if end_line is not None else line)


class Prebuilt:
    """A record the fast path (cnilint.parse.fast) read whole, in place of its lines."""

    __slots__ = ("end_line", "env_lines", "line", "match", "next_line", "output_header", "params_lines")

    def __init__(
        self,
        match: object,
        line: int,
        end_line: int,
        next_line: int,
        params_lines: int,
        env_lines: int,
        output_header: int,
    ) -> None:
        self.match = match
        self.line = line  # its date line
        self.end_line = end_line  # its closing separator
        self.next_line = next_line  # the first line after it (blank lines after it are read with it)
        self.params_lines = params_lines  # lines of its blocks, counted once
        self.env_lines = env_lines
        self.output_header = output_header  # the line of "OUTPUT:"


class PrebuiltRun:
    """Consecutive records the fast path read, passed on together: one step of
    the lexer, framer and reader for a whole block of well-formed records."""

    __slots__ = ("next_line", "records")

    def __init__(self, records: list[Prebuilt]) -> None:
        self.records = records
        self.next_line = records[-1].next_line


class Elided(str):
    """The value of a TEXT token whose lines were not kept (over the size limit).

    As text it is empty, so nothing downstream mistakes it for a body; `size`
    is the number of characters dropped and `blank` tells whether they were
    all whitespace (tens of thousands of blank lines are not junk).
    """

    size: int
    blank: bool

    def __new__(cls, size: int, blank: bool) -> Elided:
        value = super().__new__(cls, "")
        value.size = size
        value.blank = blank
        return value


def text_size(value: str) -> int:
    """Characters a token stands for, kept or not."""
    return value.size if isinstance(value, Elided) else len(value)


class _TextRun:
    """Consecutive TEXT lines waiting to be emitted as one token."""

    __slots__ = ("blank", "count", "dropped", "elided", "first", "lines", "tail")

    def __init__(self) -> None:
        self.first = 0
        self._reset()

    def _reset(self) -> None:
        self.lines: list[str] = []
        self.elided = False
        self.count = 0  # elided: lines in the run
        self.dropped = 0  # elided: characters not kept, the tail aside
        self.blank = True  # elided: the dropped lines were all whitespace
        self.tail: str | None = None  # elided: the last line, kept (it may be a date line)

    def add(self, lineno: int, line: str) -> None:
        if self.elided:
            if not self.count:
                self.first = lineno
            self._drop(line)
            return
        if not self.lines:
            self.first = lineno
        self.lines.append(line)

    def elide(self) -> None:
        """Stop keeping lines: the text since the last separator is over the limit."""
        if self.elided:
            return
        kept = self.lines
        self.lines, self.elided = [], True
        for line in kept:
            self._drop(line)

    def _drop(self, line: str) -> None:
        if self.tail is not None:
            self.dropped += len(self.tail)
            self.blank = self.blank and self.tail.isspace()
        self.tail = line
        self.count += 1

    def flush(self) -> Iterator[Token]:
        if self.elided:
            if self.count:
                tail = self.tail or ""
                value = Elided(self.dropped + len(tail), self.blank and (tail == "" or tail.isspace()))
                yield _token("TEXT", value, self.first, self.first + self.count - 1)
            self._reset()
        elif self.lines:
            last = self.first + len(self.lines) - 1
            yield _token("TEXT", "".join(self.lines), self.first, last)
            self.lines = []

    def _pop(self) -> str | None:
        """The run's last line, taken out of it."""
        if not self.elided:
            return self.lines.pop() if self.lines else None
        if not self.count:
            return None
        line, self.tail = self.tail, None
        self.count -= 1
        return line

    def _append(self, line: str) -> None:
        if self.elided:
            self.tail = line
            self.count += 1
        else:
            self.lines.append(line)

    def flush_before_separator(self) -> Iterator[Token]:
        """Emit the run when the next line is a separator.

        Its last line is then either the record's `date` line or, in the
        terminal branch, output with "Returned at: ..." glued to its end.
        """
        last_line = self._pop()
        if last_line is None:
            return
        last_no = self.first + (self.count if self.elided else len(self.lines))
        content = _content(last_line)
        glued_at = content.find(RETURNED_PREFIX)
        if glued_at > 0:
            self._append(last_line[:glued_at])  # output without a final newline
            yield from self.flush()
            yield _token("RETURNED", content[glued_at:], last_no)
            return
        yield from self.flush()
        yield _token("DATE", content, last_no)


def tokenize(lines: Iterable[str | PrebuiltRun], max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[Token | PrebuiltRun]:
    """Yield the terminals of a log given its lines (terminators kept).

    Marker tokens carry the line content; TEXT tokens carry the raw lines,
    terminators included, so bodies can be rebuilt byte for byte. Past
    `max_bytes` characters since the last separator, TEXT runs are elided.
    Records the fast path already read (a `PrebuiltRun` among the lines) pass
    through as is.
    """
    run = _TextRun()
    lineno = 0
    window = 0  # characters since the last separator
    for line in lines:
        if type(line) is not str:
            if run.lines or run.elided:
                yield from run.flush()
            yield line  # type: ignore[misc]
            lineno, window = line.next_line - 1, 0  # type: ignore[union-attr]
            continue
        lineno += 1
        window += len(line) + LINE_COST
        if window > max_bytes:
            run.elide()
        content = _content(line)
        kind = classify_any(content)
        if kind == "TEXT":
            run.add(lineno, line)
            continue
        if kind == "SEP":
            yield from run.flush_before_separator()
            window = 0
        else:
            yield from run.flush()
        yield _token(kind, content, lineno)
    yield from run.flush()
