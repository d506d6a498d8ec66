"""The typed, immutable record of one plugin invocation, and its JSON form."""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cnilint.parse.jsonpos import Path, duplicate_keys, format_path, value_positions


@dataclass(frozen=True, slots=True)
class Problem:
    """Something the parser could not read as the wrapper writes it."""

    line: int
    message: str
    end_line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"line": self.line, "message": self.message}
        if self.end_line is not None and self.end_line != self.line:
            data["end_line"] = self.end_line
        return data


# Kinds of LineNote.
BAD_UTF8 = "bad utf-8"
NUL = "nul"
LONG_LINE = "long line"  # its record is skipped
CUT_STREAM = "cut stream"  # compressed data cut short or corrupt: the log ends there
MORE_DAMAGE = "more damage"  # damaged lines past the first ones, counted


@dataclass(frozen=True, slots=True)
class LineNote:
    """Damage found in one line while reading it (before any parsing):
    invalid UTF-8, NUL bytes, a line over the size limit, a cut compressed stream."""

    line: int
    column: int  # 1-based character; 0 when it is about the whole line
    kind: str  # BAD_UTF8, NUL, ...
    what: str  # "invalid UTF-8"
    detail: str  # "(byte 0xff): read as U+FFFD, ..."

    def problem(self, where: str = "") -> Problem:
        """The note as a problem; `where` names the block, e.g. "in INPUT"."""
        place = f" {where}" if where else ""
        column = f" at column {self.column}" if self.column else ""
        return Problem(self.line, f"{self.what}{place}{column} {self.detail}")


class Variables(Mapping[str, str]):
    """An ordered, read-only `NAME=value` mapping, as `env` printed it.

    A name printed twice (only possible in a damaged log) keeps its last value
    for lookups; `pairs` keeps everything as printed. Built from text, the
    lines are split only when first read: most records are read, some never.
    """

    __slots__ = ("_index", "_pairs", "_text")

    def __init__(self, pairs: tuple[tuple[str, str], ...] = ()) -> None:
        self._pairs: tuple[tuple[str, str], ...] | None = pairs
        self._index: dict[str, str] | None = None
        self._text: str | None = None

    @classmethod
    def from_text(cls, text: str) -> Variables:
        variables = cls.__new__(cls)
        variables._pairs, variables._index, variables._text = None, None, text
        return variables

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        if self._pairs is None:
            self._pairs = _variable_pairs(self._text or "")
            self._text = None
        return self._pairs

    @property
    def _lookup(self) -> dict[str, str]:
        if self._index is None:
            self._index = dict(self.pairs)
        return self._index

    def __getitem__(self, name: str) -> str:
        return self._lookup[name]

    def get(self, name: str, default: Any = None) -> Any:  # Mapping.get through KeyError is slow
        return self._lookup.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._lookup

    def __iter__(self) -> Iterator[str]:
        return iter(self._lookup)

    def __len__(self) -> int:
        return len(self._lookup)

    def __repr__(self) -> str:
        return f"Variables({self._lookup!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Variables):
            return self.pairs == other.pairs
        return super().__eq__(other)

    def __hash__(self) -> int:
        return hash(self.pairs)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Variables, (self.pairs,))


VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*(?:%%)?=")  # how `env` starts a variable's line
# The usual block: every line is NAME=value (no value spans lines, no CR): one C-level pass.
_VARIABLE_LINES = re.compile(r"^([A-Za-z_][A-Za-z0-9_.-]*(?:%%)?)=(.*)$", re.MULTILINE)


def parse_variables(text: str) -> Variables:
    """Parse `env` output. A line that does not start with `NAME=` continues the
    value above it (values may span lines)."""
    return Variables(_variable_pairs(text))


def _variable_pairs(text: str) -> tuple[tuple[str, str], ...]:
    if "\r" not in text:
        lines = text.count("\n") + (0 if text.endswith("\n") or not text else 1)
        found = _VARIABLE_LINES.findall(text)
        if len(found) == lines:
            return tuple(found)
    pairs: list[list[str]] = []
    for line in text.split("\n")[:-1] if text.endswith("\n") else text.split("\n"):
        line = line.rstrip("\r")
        match = VARIABLE_NAME.match(line)
        if match:
            pairs.append([line[: match.end() - 1], line[match.end() :]])
        elif pairs:
            pairs[-1][1] += "\n" + line
        elif line:
            pairs.append(["", line])  # orphan continuation: keep it visible
    return tuple((name, value) for name, value in pairs)


def parse_cni_args(raw: str) -> tuple[tuple[str, str], ...]:
    """CNI_ARGS `K=V;K2=V2` as pairs, in order; an item without '=' gets ''."""
    if not raw:
        return ()
    pairs = []
    for item in raw.split(";"):
        name, _, value = item.partition("=")
        pairs.append((name, value))
    return tuple(pairs)


@dataclass(frozen=True, slots=True)
class JsonError:
    message: str
    line: int  # in the log file
    column: int

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "line": self.line, "column": self.column}


class _Duplicate(Exception):
    """An object has a key twice: decode again, the plain way, and find where."""


class _NotANumber(ValueError):
    """A number Go's encoding/json cannot read (and Python would misread)."""

    def __init__(self, text: str, message: str) -> None:
        super().__init__(message)
        self.text = text


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise _Duplicate
    return obj


def _float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise _NotANumber(text, f"number too large: {_short(text)} is out of range for a 64-bit float")
    return value


def _constant(text: str) -> float:
    raise _NotANumber(text, f"{text} is not JSON")


# Objects go through a hook that only compares two lengths: measured cheaper
# than any check on the text, and bodies without duplicate keys decode as before.
_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_float=_float, parse_constant=_constant)
_SCAN = _DECODER.scan_once
_STRING_OR_NUMBER = re.compile(r'"(?:[^"\\]|\\.)*"|(?P<number>-?(?:Infinity|\d[\d.eE+-]*)|NaN)')


def _short(text: str, keep: int = 20) -> str:
    return text if len(text) <= keep else f"{text[:keep]}... ({len(text):,} characters)"


def _number_error(raw: str, exc: ValueError) -> tuple[str, int] | None:
    """Message and offset of the number a decode stopped at, if it was one."""
    if isinstance(exc, _NotANumber):
        wanted = exc.text
        message = f"{exc} (Go's encoding/json cannot read it either)"
        found = next((m for m in _STRING_OR_NUMBER.finditer(raw) if m.group("number") == wanted), None)
        return message, found.start() if found else 0
    if "digits" not in str(exc):  # Python's guard against huge ints: int(text) is quadratic
        return None
    limit = sys.get_int_max_str_digits()
    for match in _STRING_OR_NUMBER.finditer(raw):
        number = match.group("number")
        if number and len(number) > limit:
            digits = len(number.lstrip("-"))
            message = f"number too large: {digits:,} digits (Go's encoding/json cannot read it either)"
            return message, match.start()
    return "number too large (Go's encoding/json cannot read it either)", 0


def _line_column(raw: str, offset: int) -> tuple[int, int]:
    line = raw.count("\n", 0, offset) + 1
    return line, offset - (raw.rfind("\n", 0, offset) + 1) + 1


MAX_DUPLICATES_REPORTED = 20  # per body; a hostile one can repeat keys by the thousand
MAX_SCANNED = 1 << 20  # characters of a body scanned to name the JSON path a damaged byte is in


@dataclass(frozen=True, slots=True)
class DuplicateKey:
    """A key an object of a body has twice: Go (and json.loads) keep the last value."""

    path: Path  # of the value that wins
    line: int  # in the log, of the later key
    column: int
    first_line: int  # in the log, of the earlier key


@dataclass(slots=True)  # read-only by convention, as Record: two per record, built for millions
class Body:
    """INPUT or OUTPUT: the raw text and, when it is JSON, its decoded value.

    `line` is the log line of the body's first character. The decoded value is
    the json module's (dicts and lists): treat it as read-only, as bodies of
    one text may share it (see `_DECODED`). When an object
    has a key twice its last value is kept, as Go does, and `duplicates` says
    where.
    """

    raw: str
    line: int
    value: Any = None
    error: JsonError | None = None
    _positions: dict[Path, tuple[int, int]] | None = field(default=None, repr=False, compare=False)  # when asked
    duplicates: tuple[DuplicateKey, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.raw or self.raw.isspace()

    @property
    def is_json(self) -> bool:
        return not self.empty and self.error is None

    def position(self, path: Path) -> tuple[int, int] | None:
        """(line, column) in the log of the value at `path`, or of its nearest
        ancestor that exists."""
        positions = self._scanned()
        path = tuple(path)
        while True:
            found = positions.get(path)
            if found is not None:
                line, column = found
                return self.line + line - 1, column
            if not path:
                return None
            path = path[:-1]

    def _scanned(self) -> dict[Path, tuple[int, int]]:
        """Where each value of the body is (scanned on first use: most bodies never need it)."""
        if self._positions is None:
            self._positions = {} if self.empty else dict(value_positions(self.raw))
        return self._positions  # type: ignore[return-value]

    def line_of(self, path: Path) -> int:
        found = self.position(path)
        return found[0] if found else self.line

    def path_at(self, line: int, column: int) -> Path | None:
        """The path of the innermost value starting at or before a log
        position: the string a damaged byte was found in, say."""
        if len(self.raw) > MAX_SCANNED:  # a scan costs about a second a megabyte: not for a note
            return None
        positions = self._scanned()
        target = (line - self.line + 1, column)
        starts = [(position, path) for path, position in positions.items() if position <= target]
        return max(starts, key=lambda start: start[0])[1] if starts else None

    def problems(self, label: str) -> list[Problem]:
        """Problems of a body that decoded: its duplicate keys (`label`: INPUT, OUTPUT)."""
        problems = [_duplicate_problem(key, label) for key in self.duplicates[:MAX_DUPLICATES_REPORTED]]
        if len(self.duplicates) > MAX_DUPLICATES_REPORTED:
            more = self.duplicates[MAX_DUPLICATES_REPORTED]
            problems.append(Problem(more.line, f"more duplicate keys in {label} from here (not reported one by one)"))
        return problems

    @staticmethod
    def decode(raw: str, line: int) -> Body:
        if not raw or raw.isspace():
            return Body(raw, line)
        value = _DECODED.get(raw, _MISSING)
        if value is not _MISSING:
            return Body(raw, line, value)
        try:
            value = _decoded(raw)
        except _Duplicate:
            return _with_duplicates(raw, line)
        except json.JSONDecodeError as exc:
            return Body(raw, line, None, JsonError(exc.msg, line + exc.lineno - 1, exc.colno))
        except RecursionError as exc:
            return Body(raw, line, None, JsonError(str(exc) or type(exc).__name__, line, 1))
        except ValueError as exc:
            return _number_failure(raw, line, exc)
        _remember(raw, value)
        return Body(raw, line, value)


def _decoded(raw: str) -> Any:
    """The JSON value of a body: the C scanner straight when the body is one
    value without surrounding whitespace (the wrapper's case); else, and for
    every error, JSONDecoder.decode (which checks and words them)."""
    try:
        value, end = _SCAN(raw, 0)
    except StopIteration:
        return _DECODER.decode(raw)  # raises the error, worded as json.loads words it
    if end != len(raw) and not raw[end:].isspace():
        return _DECODER.decode(raw)  # "Extra data"
    return value


# Bodies decoded lately, by text: a network's configuration and a plugin's VERSION answer come back
# call after call, so most bodies of a busy log are decoded once. Bodies of one text then share one
# value (read-only, as documented). Bounded: emptied when full.
_DECODED: dict[str, Any] = {}
_MISSING = object()
MAX_DECODED = 512  # bodies
MAX_DECODED_CHARS = 512 << 10  # their text, in all (the values take some times more)
MAX_DECODED_BODY = 16 << 10  # larger bodies are rarely repeated: not kept
_decoded_chars = 0


def _remember(raw: str, value: Any) -> None:
    global _decoded_chars
    if len(raw) > MAX_DECODED_BODY:
        return
    if len(_DECODED) >= MAX_DECODED or _decoded_chars + len(raw) > MAX_DECODED_CHARS:
        _DECODED.clear()
        _decoded_chars = 0
    _DECODED[raw] = value
    _decoded_chars += len(raw)


def _duplicate_problem(key: DuplicateKey, label: str) -> Problem:
    return Problem(
        key.line,
        f"duplicate key {str(key.path[-1])!r} in {label} at line {key.line} ({format_path(key.path)}, "
        f"first at line {key.first_line}): Go keeps the last value, and so does cnilint",
    )


def _with_duplicates(raw: str, line: int) -> Body:
    """Decoded as Go does (the last value of a key wins), with where each key repeats."""
    try:
        value = json.loads(raw, parse_float=_float, parse_constant=_constant)
    except ValueError as exc:  # pragma: no cover - the first decode got past every number
        return _number_failure(raw, line, exc)
    where = duplicate_keys(raw, MAX_DUPLICATES_REPORTED + 1)
    found = tuple(DuplicateKey(path, line + at[0] - 1, at[1], line + first[0] - 1) for path, at, first in where)
    return Body(raw, line, value, duplicates=found)


def _number_failure(raw: str, line: int, exc: ValueError) -> Body:
    located = _number_error(raw, exc)
    if located is None:
        return Body(raw, line, None, JsonError(str(exc) or type(exc).__name__, line, 1))
    message, offset = located
    at_line, column = _line_column(raw, offset)
    return Body(raw, line, None, JsonError(message, line + at_line - 1, column))


@dataclass(slots=True)
class Record:
    """One plugin invocation as the wrapper logged it. Treat it as read-only
    (not frozen only because a frozen dataclass costs twice as much to build,
    and a log has millions of records): `dataclasses.replace` gives an edited copy."""

    file: str
    plugin: str | None
    index: int  # 0-based position among the records of its file
    line: int  # first line (the `date` line), 1-based
    end_line: int
    started: str | None  # the raw `date` line
    returned: str | None  # the raw date after "Returned at: "
    started_at: datetime | None
    returned_at: datetime | None
    params: Variables
    env: Variables
    input: Body | None  # None in the terminal branch or when not logged
    output: Body | None  # None when the record ends before OUTPUT
    complete: bool
    tty: bool  # stdin was a terminal: no INPUT block
    problems: tuple[Problem, ...] = ()
    params_line: int | None = None  # first line of the `CNI params:` lines
    env_line: int | None = None  # first line of the `env:` lines
    recovered: bool = False  # put back together from an interleaved region (lines not contiguous)
    confidence: str | None = None  # recovered records: "exact" or "likely" (see cnilint.parse.recover)
    # Logged by the cnilint wrapper only (None in classic logs):
    exit_code: int | None = None  # the plugin's exit status (128+N: killed by signal N)
    stderr: str | None = None  # the plugin's stderr, exactly
    duration_ms: float | None = None
    invocation: str | None = None  # the wrapper's id of this call

    def line_of_variable(self, name: str) -> int:
        """Log line where NAME is printed: in `CNI params:` if there, else in
        `env:`, else the record's first line."""
        for block, first in ((self.params, self.params_line), (self.env, self.env_line)):
            if first is None:
                continue
            offset = 0
            for key, value in block.pairs:
                if key == name:
                    return first + offset
                offset += value.count("\n") + 1
        return self.line

    def variable(self, name: str) -> str | None:
        """A CNI_* parameter: from `env:`, else from `CNI params:` (truncated
        records may have only the latter)."""
        value = self.env.get(name)
        if value is None:
            value = self.params.get(name)
        return value

    @property
    def command(self) -> str | None:
        return self.variable("CNI_COMMAND")

    @property
    def container_id(self) -> str | None:
        return self.variable("CNI_CONTAINERID")

    @property
    def ifname(self) -> str | None:
        return self.variable("CNI_IFNAME")

    @property
    def netns(self) -> str | None:
        return self.variable("CNI_NETNS")

    @property
    def cni_args(self) -> str | None:
        return self.variable("CNI_ARGS")

    @property
    def cni_args_pairs(self) -> tuple[tuple[str, str], ...]:
        return parse_cni_args(self.cni_args or "")

    @property
    def cni_path(self) -> str | None:
        return self.variable("CNI_PATH")

    def to_dict(self) -> dict[str, Any]:
        """The `records --format jsonl` contract (see README)."""
        return {
            "file": self.file,
            "plugin": self.plugin,
            "record": self.index,
            "line": self.line,
            "end_line": self.end_line,
            "started": self.started,
            "returned": self.returned,
            "started_at": _iso(self.started_at),
            "returned_at": _iso(self.returned_at),
            "command": self.command,
            "container_id": self.container_id,
            "ifname": self.ifname,
            "netns": self.netns,
            "cni_args": self.cni_args,
            "cni_args_pairs": [list(pair) for pair in self.cni_args_pairs],
            "cni_path": self.cni_path,
            "params": dict(self.params),
            "env": dict(self.env),
            "input": _value(self.input),
            "output": _value(self.output),
            "input_raw": self.input.raw if self.input is not None else None,
            "output_raw": self.output.raw if self.output is not None else None,
            "input_error": _error(self.input),
            "output_error": _error(self.output),
            "complete": self.complete,
            "tty": self.tty,
            "recovered": self.recovered,
            "confidence": self.confidence,
            "exit_code": self.exit_code,
            "stderr": self.stderr,
            "duration_ms": self.duration_ms,
            "invocation": self.invocation,
            "problems": [problem.to_dict() for problem in self.problems],
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _value(body: Body | None) -> Any:
    return body.value if body is not None and body.is_json else None


def _error(body: Body | None) -> dict[str, Any] | None:
    return body.error.to_dict() if body is not None and body.error is not None else None


__all__ = [
    "Body",
    "DuplicateKey",
    "JsonError",
    "LineNote",
    "Problem",
    "Record",
    "Variables",
    "format_path",
    "parse_cni_args",
    "parse_variables",
]
