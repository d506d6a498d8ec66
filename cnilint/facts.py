"""What the rules need to know about a record, worked out once per record.

Definitions follow the catalogue's "Record model and shared definitions":
record version, outcome, delegated record.

Every fact is computed on first use and then kept on the instance (a plain
attribute from then on: the rules ask for the same facts many times).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from json.decoder import scanstring
from typing import Any, Generic, TypeVar

from cnilint.parse import Record
from cnilint.versions import COMMANDS, Version, parse_version, version_text

EMPTY_COMMANDS = ("DEL", "CHECK", "GC", "STATUS")  # commands that print nothing on success

# Conditions a record meets (bits of `Facts.conditions`). A check registered
# with `needs` (cnilint.rules) cannot report on a record that lacks one of them,
# so the engine does not call it there.
INPUT = 1 << 0  # an INPUT block was logged
INPUT_JSON = 1 << 1  # INPUT decoded as JSON (any type)
BAD_INPUT = 1 << 2  # INPUT was logged but is empty or not JSON
CONFIG = 1 << 3  # INPUT is a JSON object (`config`)
PREV_RESULT = 1 << 4  # INPUT.prevResult is present and not null
OUTPUT_LOGGED = 1 << 5  # an OUTPUT block was logged (possibly empty)
OUTPUT = 1 << 6  # OUTPUT was logged and is not empty
ERROR = 1 << 7  # OUTPUT is an error object (`error`)
FAILED = 1 << 8  # the outcome is a failure (`failed`)
SUCCEEDED = 1 << 9  # not `failed`
DELEGATED = 1 << 10  # `delegated`
UPPER = 1 << 11  # not `delegated`

T = TypeVar("T")

# INPUT texts longer than this are not searched or kept as memo keys (a hostile megabyte body).
MEMO_MAX_TEXT = 1 << 13


# ---------------------------------------------------------------- where a value sits in JSON text

_SPACE = re.compile(r"[ \t\n\r]*")
_KEY = re.compile(r'[ \t\n\r]*"')  # to the opening quote of an object's first key
_COLON = re.compile(r"[ \t\n\r]*:[ \t\n\r]*")  # from a key to its value
_NEXT_KEY = re.compile(r'[ \t\n\r]*,[ \t\n\r]*"')  # from a value to the next key's opening quote
_NEXT_ITEM = re.compile(r"[ \t\n\r]*,[ \t\n\r]*")  # from an item to the next
_SKIP_VALUE = json.JSONDecoder().scan_once  # the json module's C scanner: steps over a whole value


def value_start(text: str, path: tuple[str | int, ...]) -> tuple[int, int]:
    """In valid JSON `text`: how many steps of `path` exist, and where the
    value they lead to starts (for a key given twice, its first occurrence,
    as cnilint.parse.jsonpos.value_positions keeps it). It walks only down
    `path`, stepping over the other values at C speed, instead of scanning
    every token of the document."""
    at = found = _SPACE.match(text, 0).end()
    depth = 0
    for step in path:
        opening = text[at]
        hit = None
        if opening == "{" and isinstance(step, str):
            quote = _KEY.match(text, at + 1)
            while quote is not None:
                key, at = scanstring(text, quote.end())
                at = _COLON.match(text, at).end()  # type: ignore[union-attr]
                if key == step:
                    hit = at
                    break
                quote = _NEXT_KEY.match(text, _SKIP_VALUE(text, at)[1])
        elif opening == "[" and isinstance(step, int) and not isinstance(step, bool) and step >= 0:
            at = _SPACE.match(text, at + 1).end()
            if text[at] != "]":
                index = 0
                while index != step:
                    comma = _NEXT_ITEM.match(text, _SKIP_VALUE(text, at)[1])
                    if comma is None:
                        break
                    at = comma.end()
                    index += 1
                else:
                    hit = at
        if hit is None:
            break
        at = found = hit
        depth += 1
    return depth, found


def value_span(text: str, path: tuple[str | int, ...]) -> tuple[int, int] | None:
    """(start, end) of the JSON text of the value at `path` in valid JSON
    `text` (its first occurrence when a key is given twice); None when there
    is none."""
    depth, start = value_start(text, path)
    if depth < len(path):
        return None
    return start, _SKIP_VALUE(text, start)[1]


class lazy(Generic[T]):
    """A value computed on first access and stored on the instance, which then
    shadows this descriptor (functools.cached_property, without its lock)."""

    def __init__(self, function: Callable[[Any], T]) -> None:
        self.function = function
        self.name = function.__name__
        self.__doc__ = function.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> T:
        if instance is None:
            return self  # type: ignore[return-value]
        value = self.function(instance)
        instance.__dict__[self.name] = value
        return value


class _core:
    """A fact of the core set (config, result, error, outcome, delegation,
    conditions): every record needs them all (the engine's plan is chosen by
    them), so the first access to any works them all out in one call."""

    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.name = function.__name__
        self.__doc__ = function.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            return self
        instance._work_out_core()
        return instance.__dict__[self.name]


_VERSIONS: dict[str, Version | None] = {}  # parse_version by text: a log speaks a handful


def _parse_version(text: str) -> Version | None:
    found = _VERSIONS.get(text, _VERSIONS)
    if found is _VERSIONS:
        if len(_VERSIONS) >= 256:
            _VERSIONS.clear()
        found = _VERSIONS[text] = parse_version(text)
    return found  # type: ignore[return-value]


# Facts sent along with a record to another process (see Facts.__getstate__).
_SHIPPED = (
    "record", "config", "result", "error", "failed", "delegated", "ipam_type", "conditions", "command",
    "declared_version", "version_text", "version", "version_label", "prev_result_span",
)  # fmt: skip


class Facts:
    """The facts of one record (read-only: never assign to one)."""

    def __init__(self, record: Record) -> None:
        self.record = record

    def __repr__(self) -> str:
        return f"Facts({self.record.file}:{self.record.line})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Facts) and other.record == self.record

    __hash__ = None  # type: ignore[assignment] - as a record's: its bodies hold dicts

    def __getstate__(self) -> dict[str, Any]:
        """The record crosses a process boundary with the small facts already worked
        out (values, or references into its bodies, which pickle shares): the process
        that receives them, the cross-record stage's, need not work them out again.
        The others (kept texts would double the payload) are worked out again on demand."""
        state = self.__dict__
        return {name: state[name] for name in _SHIPPED if name in state}

    @lazy
    def variables(self) -> dict[str, str]:
        """The `env:` variables (`variable` falls back on `CNI params:`, as
        Record.variable does; truncated records may have only those)."""
        return dict(self.record.env.pairs)

    def kept(self, key: str, compute: Callable[[Facts], T]) -> T:
        """A value a rule family derives from the record (`key` names it),
        worked out on first use and then kept with the other facts."""
        try:
            return self.__dict__[key]  # type: ignore[no-any-return]
        except KeyError:
            value = self.__dict__[key] = compute(self)
            return value

    def variable(self, name: str) -> str:
        """A CNI_* variable; absent and empty are alike (as in libcni)."""
        value = self.variables.get(name)
        if value is None:
            value = self.record.params.get(name)
        return value or ""

    @lazy
    def command(self) -> str | None:
        value = self.variables.get("CNI_COMMAND")
        return value if value is not None else self.record.params.get("CNI_COMMAND")

    @property
    def known_command(self) -> bool:
        return self.command in COMMANDS

    @_core
    def config(self) -> dict[str, Any] | None:
        """INPUT when it is one JSON object."""

    @_core
    def result(self) -> Any:
        """OUTPUT's decoded JSON (any type), None when empty or not JSON."""

    @lazy
    def declared_version(self) -> Any:
        """INPUT.cniVersion as written (any JSON type), None when absent."""
        return self.config.get("cniVersion") if self.config is not None else None

    @lazy
    def version_text(self) -> str:
        """The record version: INPUT.cniVersion; absent or empty reads as
        0.1.0 (libcni DecodeVersion), or 0.2.0 for VERSION records."""
        declared = self.declared_version
        if declared is None or declared == "":
            return "0.2.0" if self.command == "VERSION" else "0.1.0"
        return declared if isinstance(declared, str) else str(declared)

    @lazy
    def version(self) -> Version | None:
        """The record version as numbers; None when malformed."""
        return _parse_version(self.version_text)

    @lazy
    def version_label(self) -> str:
        return version_text(self.version) if self.version else self.version_text

    @lazy
    def prev_result_span(self) -> tuple[int, int] | None:
        """Where INPUT.prevResult's value sits in INPUT's text, (start, end);
        None when absent or null, or when it cannot be told apart (a key given
        twice: json keeps the last, the text search finds the first; an INPUT
        too long to search)."""
        body = self.record.input
        if not self.conditions & PREV_RESULT or body is None or body.duplicates or len(body.raw) > MEMO_MAX_TEXT:
            return None
        try:
            return value_span(body.raw, ("prevResult",))
        except (ValueError, IndexError, AttributeError, StopIteration):  # pragma: no cover - INPUT decoded as JSON
            return None

    @lazy
    def input_without_prev_result(self) -> str | None:
        """INPUT's text less prevResult's value: equal for every record whose
        INPUT differs at most in prevResult (a CHECK or DEL carries the result
        of its own ADD). None when INPUT is not logged or too long to keep."""
        body = self.record.input
        if body is None or len(body.raw) > MEMO_MAX_TEXT:
            return None
        span = self.prev_result_span
        return body.raw if span is None else body.raw[: span[0]] + body.raw[span[1] :]

    @_core
    def error(self) -> dict[str, Any] | None:
        """The error object, when OUTPUT is a JSON object with `code`."""

    @_core
    def failed(self) -> bool:
        """Outcome: a non-zero exit code where the log has one (cnilint
        wrapper), else guessed from OUTPUT: an error object, or for
        DEL/CHECK/GC/STATUS any non-empty OUTPUT that is not JSON."""

    @_core
    def delegated(self) -> bool:
        """The plugin that logged the record is not INPUT.type but its IPAM type."""

    @_core
    def ipam_type(self) -> str | None:
        """INPUT.ipam.type when it is a string."""

    @_core
    def conditions(self) -> int:
        """The conditions (INPUT, CONFIG, ...) this record meets, as bits."""

    def _work_out_core(self) -> None:
        record = self.record
        found = 0
        config = None
        body = record.input
        if body is not None:
            found |= INPUT
            if body.is_json:
                found |= INPUT_JSON
                if isinstance(body.value, dict):
                    config = body.value
                    found |= CONFIG
                    if config.get("prevResult") is not None:
                        found |= PREV_RESULT
            else:
                found |= BAD_INPUT
        result = error = None
        failed = False
        output = record.output
        if output is not None:
            found |= OUTPUT_LOGGED
            if not output.empty:
                found |= OUTPUT
                if output.error is None:
                    result = output.value
                    if isinstance(result, dict) and "code" in result:
                        error = result
                        found |= ERROR
                        failed = True
                elif self.command in EMPTY_COMMANDS:
                    failed = True  # DEL/CHECK/GC/STATUS print nothing on success
        if record.exit_code is not None:  # the cnilint wrapper logs it: no need to guess from OUTPUT
            failed = record.exit_code != 0
        ipam = config.get("ipam") if config is not None else None
        ipam_type = ipam.get("type") if isinstance(ipam, dict) else None
        if not isinstance(ipam_type, str):
            ipam_type = None
        plugin = record.plugin
        delegated = config is not None and plugin is not None and plugin != config.get("type") and plugin == ipam_type
        found |= (FAILED if failed else SUCCEEDED) | (DELEGATED if delegated else UPPER)
        self.__dict__.update(
            config=config,
            result=result,
            error=error,
            failed=failed,
            delegated=delegated,
            ipam_type=ipam_type,
            conditions=found,
        )
