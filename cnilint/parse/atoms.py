"""Cut an interleaved region into atoms: the pieces the wrapper's writes leave.

The wrapper appends each block with its own write: the `date` line, each
separator and marker line, the `env | grep CNI` and `env` outputs, the stdin
(`tee`, no newline of its own), the `echo ""` after it, the output (`echo
"$output"`), the `Returned at:` line and the blank lines. Appends are atomic,
so a region is a shuffle of whole writes. Every write but the stdin ends with
a newline, so lines are atoms, except that a stdin can have the next write
glued to its end (`{...}INPUT:`, `{...}{...}`, `{...}CNI_CONTAINERID=...`): a
JSON body is cut where its value ends, and the rest of its line is read as the
start of another atom.
"""

from __future__ import annotations

import json
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cnilint.parse.dates import parse_date
from cnilint.parse.lexer import classify
from cnilint.parse.records import VARIABLE_NAME

# Atom kinds: the lexer's marker kinds, plus these.
DATE = "DATE"
NEWLINE = "NEWLINE"  # an empty line, or the newline right after a body
VARS = "VARS"  # one `env` or `env | grep CNI` output
BODY = "BODY"  # a stdin or an output: a JSON value, or lines of other text

CONFIG = "config"  # a network configuration: what a runtime sends on stdin
RESULT = "result"  # a result or an error: what a plugin prints

_JSON = json.JSONDecoder()
_RESULT_KEYS = frozenset({"ips", "interfaces", "routes", "dns", "code", "msg", "supportedVersions"})


@dataclass(frozen=True, slots=True)
class Atom:
    kind: str
    text: str  # a marker or date line without its newline; VARS lines with theirs; a body exactly
    line: int
    end_line: int
    key: tuple[str, ...] = ()  # VARS: its lines that mention CNI, what `env | grep CNI` keeps
    cni_only: bool = False  # VARS: every line mentions CNI, so it can be a `CNI params:` block
    eol_follows: bool = False  # BODY: the next atom is the newline ending its line
    sandboxes: frozenset[tuple[str, str]] = frozenset()  # BODY: (ifname, netns) of interfaces in a sandbox
    role: str | None = None  # BODY: CONFIG or RESULT when its JSON tells, else None


def cut_atoms(numbered_lines: Sequence[tuple[int, str]]) -> list[Atom]:
    """Atoms of consecutive log lines, given as (line number, line with its newline)."""
    if not numbered_lines:
        return []
    text = "".join(line for _, line in numbered_lines)
    return _Cutter(text, numbered_lines[0][0]).cut()


class _Cutter:
    def __init__(self, text: str, first_line: int) -> None:
        self.text = text
        self.first_line = first_line
        self.newlines = [offset for offset, char in enumerate(text) if char == "\n"]
        self.atoms: list[Atom] = []

    def cut(self) -> list[Atom]:
        offset = 0
        while offset < len(self.text):
            offset = self._atom_at(offset)
        return self.atoms

    def line_at(self, offset: int) -> int:
        return self.first_line + bisect_left(self.newlines, offset)

    def line_end(self, offset: int) -> int:
        """Offset of the newline ending the line at `offset` (or of the end)."""
        index = bisect_left(self.newlines, offset)
        return self.newlines[index] if index < len(self.newlines) else len(self.text)

    def content(self, offset: int) -> str:
        return self.text[offset : self.line_end(offset)].rstrip("\r")

    def add(self, kind: str, text: str, start: int, end: int, **facts: Any) -> None:
        last = max(start, end - 1)
        self.atoms.append(Atom(kind, text, self.line_at(start), self.line_at(last), **facts))

    def _atom_at(self, offset: int) -> int:
        """Add the atom starting at `offset`; return where the next one starts."""
        content = self.content(offset)
        end = self.line_end(offset)
        if content == "":
            self.add(NEWLINE, "", offset, offset)
            return end + 1
        if content[0] in "{[":
            decoded = _decode_json(self.text, offset)
            if decoded is not None:
                return self._json_body(offset, *decoded)
        kind = classify(content)
        if kind != "TEXT":
            self.add(kind, content, offset, end)
            return end + 1
        if VARIABLE_NAME.match(content):
            return self._variables(offset)
        if parse_date(content) is not None:
            self.add(DATE, content, offset, end)
            return end + 1
        return self._text_body(offset)

    def _json_body(self, start: int, value: Any, end: int) -> int:
        eol = self.text.startswith("\n", end) or self.text.startswith("\r\n", end)
        facts = {"eol_follows": eol, "sandboxes": _sandboxes(value), "role": _role(value)}
        self.add(BODY, self.text[start:end], start, end, **facts)
        return end

    def _variables(self, start: int) -> int:
        """A run of NAME=value lines, cut into blocks where a name comes back:
        one `env` output never prints a name twice."""
        offset = start
        blocks: list[list[tuple[int, str]]] = [[]]
        names: set[str] = set()
        while offset < len(self.text):
            content = self.content(offset)
            match = VARIABLE_NAME.match(content)
            if match is None or (offset != start and classify(content) != "TEXT"):
                break
            name = content[: match.end() - 1]
            if name in names:
                blocks.append([])
                names = set()
            names.add(name)
            blocks[-1].append((offset, content))
            offset = self.line_end(offset) + 1
        for block in blocks:
            self._variables_block(block)
        return offset

    def _variables_block(self, block: list[tuple[int, str]]) -> None:
        start, contents = block[0][0], [content for _, content in block]
        end = self.line_end(block[-1][0])
        cni_lines = tuple(content for content in contents if "CNI" in content)
        text = "".join(content + "\n" for content in contents)
        self.add(VARS, text, start, end, key=cni_lines, cni_only=len(cni_lines) == len(contents))

    def _text_body(self, start: int) -> int:
        """Lines that are none of the wrapper's: a body that is not JSON."""
        end = self.line_end(start)
        while end + 1 < len(self.text) and _is_plain_text(self.content(end + 1)):
            end = self.line_end(end + 1)
        self.add(BODY, self.text[start:end].rstrip("\r"), start, end, eol_follows=end < len(self.text))
        return end


def _decode_json(text: str, offset: int) -> tuple[Any, int] | None:
    try:
        return _JSON.raw_decode(text, offset)
    except (ValueError, RecursionError):
        return None


def _is_plain_text(content: str) -> bool:
    return (
        content != ""
        and content[0] not in "{["
        and classify(content) == "TEXT"
        and VARIABLE_NAME.match(content) is None
        and parse_date(content) is None
    )


def _role(value: Any) -> str | None:
    """Configurations name their plugin `type`; results and errors never do."""
    if not isinstance(value, dict):
        return None
    if "type" in value:
        return CONFIG
    return RESULT if _RESULT_KEYS & value.keys() else None


def _sandboxes(value: Any) -> frozenset[tuple[str, str]]:
    """(name, sandbox) of the interfaces a result (or a prevResult) puts in a
    container: the sandbox is the CNI_NETNS of the call that made it."""
    found: set[tuple[str, str]] = set()
    holders = [value, value.get("prevResult")] if isinstance(value, dict) else []
    for holder in holders:
        interfaces = holder.get("interfaces") if isinstance(holder, dict) else None
        for interface in interfaces if isinstance(interfaces, list) else []:
            if isinstance(interface, dict):
                name, sandbox = interface.get("name"), interface.get("sandbox")
                if isinstance(name, str) and isinstance(sandbox, str) and sandbox:
                    found.add((name, sandbox))
    return frozenset(found)
