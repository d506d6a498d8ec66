"""ERR: error objects printed by any command - their shape, the codes each
spec version reserves, and what codes 2 and 4 must say.

An error record is a record whose OUTPUT is a JSON object with `code`
(`facts.error`), or (ERR001 only) a DEL/CHECK/GC/STATUS record whose
non-empty OUTPUT is not a JSON object. The wrapper logs neither the exit
status nor stderr, so stdout is all these rules can judge.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from cnilint.facts import CONFIG, EMPTY_COMMANDS, ERROR, OUTPUT, Facts
from cnilint.rules import JsonPath, Violation, in_output, register_check, rule, show
from cnilint.rules.schema import document_violations, owned_rules
from cnilint.versions import Version

ERROR_SCHEMA = "error.json"

# Codes below 100 each spec version defines (Well-known Error Codes of each
# tag; 1.1.0 adds 50 and 51 in its STATUS section), newest first.
_DEFINED_CODES: tuple[tuple[Version, frozenset[int]], ...] = (
    ((1, 1, 0), frozenset({1, 2, 3, 4, 5, 6, 7, 11, 50, 51})),
    ((1, 0, 0), frozenset({1, 2, 3, 4, 5, 6, 7, 11})),
    ((0, 4, 0), frozenset({1, 2, 3, 11})),
    ((0, 2, 0), frozenset({1, 2})),
    ((0, 1, 0), frozenset({1})),
)

# Codes that come from libcni, not from the SPEC (pkg/types/types.go).
_LIBCNI_CODES = {
    0: "libcni's ErrUnknown, not a SPEC code",
    8: "libcni's ErrInvalidNetNS (CNI_NETNS is the plugin's own namespace, libcni >= 1.2), not a SPEC code",
    999: "libcni's ErrInternal: the plugin returned an untyped Go error",
}

# Code 4 must name the invalid variables; libcni's ValidateContainerID and
# ValidateInterfaceName say "containerID" and "interface name" instead.
_VARIABLE_NAMES = re.compile(
    r"CNI_(?:COMMAND|CONTAINERID|NETNS|IFNAME|ARGS|PATH)|containerID|interface name", re.IGNORECASE
)


def _code(facts: Facts) -> int | None:
    """The error object's code when it is a JSON integer (not a bool)."""
    code = facts.error.get("code") if facts.error is not None else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _error_text(error: dict[str, Any]) -> str:
    """msg and details, the two places a message may say something."""
    return " ".join(part for part in (error.get("msg"), error.get("details")) if isinstance(part, str))


def defined_codes(version: Version) -> frozenset[int]:
    """The codes below 100 that spec `version` defines (an unreleased later
    version is read as the newest one)."""
    for since, codes in _DEFINED_CODES:
        if version >= since:
            return codes
    return frozenset()


def _error_object_schema(facts: Facts) -> Iterator[tuple[str, Violation]]:
    # Structure of the error object: ERR001 (code and msg present), ERR002-ERR005.
    output = facts.record.output
    if facts.error is not None and output is not None:
        yield from document_violations(ERROR_SCHEMA, output.raw, facts.error, "output")


register_check("error_object_schema", owned_rules(ERROR_SCHEMA), _error_object_schema, needs=ERROR)


@rule("ERR001", needs=OUTPUT)
def error_output_is_an_object(facts: Facts) -> Iterator[Violation]:
    # DEL/CHECK/GC/STATUS print nothing on success, so any other output is an
    # error report, and the SPEC's error report is a JSON object.
    output = facts.record.output
    if facts.command not in EMPTY_COMMANDS or output is None or output.empty:
        return
    if output.is_json and isinstance(output.value, dict):
        return
    shown = show(output.value) if output.is_json else show(output.raw.strip())
    yield in_output((), f"{facts.command} printed {shown}, which is not a JSON error object with code and msg")


@rule("ERR002", needs=ERROR)
def code_is_not_a_fraction(facts: Facts) -> Iterator[Violation]:
    # JSON Schema counts 7.0 as an integer; libcni's uint decoding does not.
    code = facts.error.get("code") if facts.error is not None else None
    if isinstance(code, float) and code.is_integer():
        yield in_output(("code",), f"code {json.dumps(code)} is written as a fraction, not an unsigned integer")


@rule("ERR006", needs=ERROR)
def error_version_matches_request(facts: Facts) -> Iterator[Violation]:
    error, requested = facts.error, facts.declared_version
    if error is None or "cniVersion" not in error or not isinstance(requested, str) or not requested:
        return
    if error["cniVersion"] != requested:
        yield in_output(
            ("cniVersion",),
            f"error cniVersion {show(error['cniVersion'])} differs from the request's cniVersion {show(requested)}",
        )


@rule("ERR007", needs=ERROR | CONFIG)
def reserved_code_is_defined(facts: Facts) -> Iterator[Violation]:
    code = _code(facts)
    # Without a readable INPUT object the request's version is unknown (the
    # 0.1.0 default only stands for a config that omits cniVersion).
    if code is None or facts.config is None or facts.version is None:
        return
    if not 0 <= code < 100 or code in _LIBCNI_CODES:  # >= 100 is free; 0 and 8 are ERR008's
        return
    codes = defined_codes(facts.version)
    if code not in codes:
        listed = ", ".join(map(str, sorted(codes)))
        yield in_output(
            ("code",),
            f"code {code} is reserved but not defined by cniVersion {facts.version_label} (it defines {listed})",
        )


@rule("ERR008", needs=ERROR)
def library_only_code(facts: Facts) -> Iterator[Violation]:
    code = _code(facts)
    if code in _LIBCNI_CODES:
        yield in_output(("code",), f"code {code} is {_LIBCNI_CODES[code]}")


@rule("ERR009", needs=ERROR)
def status_codes_outside_status(facts: Facts) -> Iterator[Violation]:
    code = _code(facts)
    if code in (50, 51):
        yield in_output(("code",), f"code {code} is defined for STATUS only, but answers {facts.command}")


@rule("ERR010", needs=ERROR)
def code_4_names_the_variables(facts: Facts) -> Iterator[Violation]:
    if _code(facts) != 4:
        return
    error = facts.error or {}
    if not _VARIABLE_NAMES.search(_error_text(error)):
        yield in_output(
            ("msg",), f"code 4 but msg {show(error.get('msg'))} and details name no CNI_* environment variable"
        )


def _render(value: Any) -> str:
    """A JSON value as a message would print it."""
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _keys_and_values(node: Any, depth: int = 0) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair of a JSON document, at any depth."""
    if depth > 64:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            yield key, value
            yield from _keys_and_values(value, depth + 1)
    elif isinstance(node, list):
        for value in node:
            yield from _keys_and_values(value, depth + 1)


@rule("ERR011", needs=ERROR | CONFIG)
def code_2_names_field_and_value(facts: Facts) -> Iterator[Violation]:
    if _code(facts) != 2 or facts.config is None:
        return
    error = facts.error or {}
    text = _error_text(error)
    if not any(key in text and _render(value) in text for key, value in _keys_and_values(facts.config)):
        where: JsonPath = ("msg",)
        yield in_output(where, f"code 2 but msg {show(error.get('msg'))} and details name no INPUT key with its value")
