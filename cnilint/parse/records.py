"""The typed, immutable record of one plugin invocation, and its JSON form."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cnilint.parse.jsonpos import Path, format_path, value_positions


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


class Variables(Mapping[str, str]):
    """An ordered, read-only `NAME=value` mapping, as `env` printed it.

    A name printed twice (only possible in a damaged log) keeps its last value
    for lookups; `pairs` keeps everything as printed.
    """

    __slots__ = ("_index", "pairs")

    def __init__(self, pairs: tuple[tuple[str, str], ...] = ()) -> None:
        self.pairs = pairs
        self._index = dict(pairs)

    def __getitem__(self, name: str) -> str:
        return self._index[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __repr__(self) -> str:
        return f"Variables({self._index!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Variables):
            return self.pairs == other.pairs
        return super().__eq__(other)

    def __hash__(self) -> int:
        return hash(self.pairs)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Variables, (self.pairs,))


VARIABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*(?:%%)?=")  # how `env` starts a variable's line


def parse_variables(text: str) -> Variables:
    """Parse `env` output. A line that does not start with `NAME=` continues the
    value above it (values may span lines)."""
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
    return Variables(tuple((name, value) for name, value in pairs))


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


_NOT_DECODED = object()


@dataclass(frozen=True, slots=True)
class Body:
    """INPUT or OUTPUT: the raw text and, when it is JSON, its decoded value.

    `line` is the log line of the body's first character. The decoded value is
    the json module's (dicts and lists): treat it as read-only.
    """

    raw: str
    line: int
    value: Any = None
    error: JsonError | None = None
    _positions: dict[Path, tuple[int, int]] = field(default_factory=dict, repr=False, compare=False)

    @property
    def empty(self) -> bool:
        return self.raw.strip() == ""

    @property
    def is_json(self) -> bool:
        return not self.empty and self.error is None

    def position(self, path: Path) -> tuple[int, int] | None:
        """(line, column) in the log of the value at `path`, or of its nearest
        ancestor that exists."""
        if not self._positions and not self.empty:
            self._positions.update(value_positions(self.raw))
        path = tuple(path)
        while True:
            found = self._positions.get(path)
            if found is not None:
                line, column = found
                return self.line + line - 1, column
            if not path:
                return None
            path = path[:-1]

    def line_of(self, path: Path) -> int:
        found = self.position(path)
        return found[0] if found else self.line

    @staticmethod
    def decode(raw: str, line: int) -> Body:
        if raw.strip() == "":
            return Body(raw, line)
        try:
            return Body(raw, line, json.loads(raw))
        except json.JSONDecodeError as exc:
            return Body(raw, line, None, JsonError(exc.msg, line + exc.lineno - 1, exc.colno))
        except (RecursionError, ValueError) as exc:
            return Body(raw, line, None, JsonError(str(exc) or type(exc).__name__, line, 1))


@dataclass(frozen=True, slots=True)
class Record:
    """One plugin invocation as the wrapper logged it."""

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
    "JsonError",
    "Problem",
    "Record",
    "Variables",
    "format_path",
    "parse_cni_args",
    "parse_variables",
]
