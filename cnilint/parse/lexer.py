"""Line classifier: turns log lines into the terminals of grammars/wrapper_log.lark.

Tokens are whole lines (markers) or runs of lines (TEXT), so a record is about a
dozen tokens whatever the size of its JSON bodies. Two lookahead facts need the
next line: the `date` line is the line just before an opening separator, and in
the terminal branch the plugin's last output line can carry "Returned at:" glued
to its end (tee copies stdout verbatim), which only counts when a separator
follows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from lark import Token

SEPARATOR_CHAR = "="
MIN_SEPARATOR_LENGTH = 20  # the wrapper writes 65; shorter runs of '=' are text
RETURNED_PREFIX = "Returned at:"

MARKERS = {
    "CNI params:": "PARAMS_HEADER",
    "env:": "ENV_HEADER",
    "INPUT:": "INPUT_HEADER",
    "OUTPUT:": "OUTPUT_HEADER",
}


def _content(line: str) -> str:
    """The line without its terminator (CRLF tolerated for classification)."""
    return line.rstrip("\n").rstrip("\r")


def is_separator(content: str) -> bool:
    return len(content) >= MIN_SEPARATOR_LENGTH and content.strip(SEPARATOR_CHAR) == ""


def classify(content: str) -> str:
    """The terminal type of one line, before lookahead: a marker or TEXT."""
    if content.startswith(RETURNED_PREFIX):
        return "RETURNED"
    kind = MARKERS.get(content)
    if kind is not None:
        return kind
    if content[:1] == SEPARATOR_CHAR and is_separator(content):
        return "SEP"
    return "TEXT"


def _token(kind: str, value: str, line: int, end_line: int | None = None) -> Token:
    return Token(kind, value, line=line, end_line=end_line if end_line is not None else line)


class _TextRun:
    """Consecutive TEXT lines waiting to be emitted as one token."""

    __slots__ = ("first", "lines")

    def __init__(self) -> None:
        self.first = 0
        self.lines: list[str] = []

    def add(self, lineno: int, line: str) -> None:
        if not self.lines:
            self.first = lineno
        self.lines.append(line)

    def flush(self) -> Iterator[Token]:
        if self.lines:
            last = self.first + len(self.lines) - 1
            yield _token("TEXT", "".join(self.lines), self.first, last)
            self.lines = []

    def flush_before_separator(self) -> Iterator[Token]:
        """Emit the run when the next line is a separator.

        Its last line is then either the record's `date` line or, in the
        terminal branch, output with "Returned at: ..." glued to its end.
        """
        if not self.lines:
            return
        last_line = self.lines.pop()
        last_no = self.first + len(self.lines)
        content = _content(last_line)
        glued_at = content.find(RETURNED_PREFIX)
        if glued_at > 0:
            self.lines.append(last_line[:glued_at])  # output without a final newline
            yield from self.flush()
            yield _token("RETURNED", content[glued_at:], last_no)
            return
        yield from self.flush()
        yield _token("DATE", content, last_no)


def tokenize(lines: Iterable[str]) -> Iterator[Token]:
    """Yield the terminals of a log given its lines (terminators kept).

    Marker tokens carry the line content; TEXT tokens carry the raw lines,
    terminators included, so bodies can be rebuilt byte for byte.
    """
    run = _TextRun()
    lineno = 0
    for lineno, line in enumerate(lines, start=1):
        content = _content(line)
        kind = classify(content)
        if kind == "TEXT":
            run.add(lineno, line)
            continue
        if kind == "SEP":
            yield from run.flush_before_separator()
        else:
            yield from run.flush()
        yield _token(kind, content, lineno)
    yield from run.flush()
