"""VER: VERSION requests and replies (single record).

The reply's structure (VER002, VER003) is checked by schemas/version-result.json;
what a schema cannot say (the request's INPUT, entries that are not released
versions, the reply against the request) is checked here. VER007 compares
requests with a VERSION record of the same plugin, so it needs several records.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cnilint.facts import INPUT, OUTPUT, OUTPUT_LOGGED, Facts
from cnilint.rules import Violation, in_input, in_output, planned, register_check, rule, show
from cnilint.rules.schema import document_violations, owned_rules
from cnilint.versions import RELEASED, parse_version

SCHEMA = "version-result.json"


def _reply(facts: Facts) -> Any:
    """The decoded VERSION reply when it is a success to judge (None when the
    record ends before OUTPUT or the plugin answered with an error object)."""
    output = facts.record.output
    if output is None or facts.error is not None:
        return None
    return facts.result


def _supported_versions(facts: Facts) -> list[Any] | None:
    reply = _reply(facts)
    versions = reply.get("supportedVersions") if isinstance(reply, dict) else None
    return versions if isinstance(versions, list) else None


@rule("VER001", needs=INPUT, input_only=True, reads_prev_result=False)
def version_input_names_the_protocol_version(facts: Facts) -> Iterator[Violation]:
    # 1.x: VERSION input is {"cniVersion": ...}; libcni's runtime always sends it.
    # No INPUT block at all means the wrapper could not log stdin (a terminal):
    # what the plugin was given is unknown, so there is nothing to judge.
    body = facts.record.input
    if body is None:
        return
    if body.empty:
        yield in_input((), "VERSION INPUT is empty: the request does not name its protocol version (cniVersion)")
    elif not body.is_json:
        yield in_input((), f"VERSION INPUT {show(body.raw.strip())} is not valid JSON")
    elif not isinstance(body.value, dict):
        yield in_input((), f"VERSION INPUT {show(body.value)} is not a JSON object")
    elif "cniVersion" not in body.value:
        yield in_input((), "VERSION INPUT has no cniVersion")
    elif not isinstance(body.value["cniVersion"], str) or not body.value["cniVersion"]:
        yield in_input(("cniVersion",), f"VERSION INPUT cniVersion {show(body.value['cniVersion'])} is not a version")


def version_reply_structure(facts: Facts) -> Iterator[tuple[str, Violation]]:
    """VER002 and VER003 through the schema; a reply that is not JSON at all
    is VER002's too (libcni's decoder fails on it)."""
    output = facts.record.output
    if output is None or facts.error is not None:
        return
    if output.empty:
        yield "VER002", in_output((), "VERSION printed nothing: a JSON object with cniVersion is expected")
    elif not output.is_json:
        yield "VER002", in_output((), f"VERSION output {show(output.raw.strip())} is not JSON")
    else:
        yield from document_violations(SCHEMA, output.raw, output.value, "output")


register_check("version_reply_structure", owned_rules(SCHEMA), version_reply_structure, needs=OUTPUT_LOGGED)


@rule("VER004", needs=OUTPUT)
def version_reply_echoes_the_request(facts: Facts) -> Iterator[Violation]:
    # 1.x VERSION Success: cniVersion is "the value of cniVersion specified on input".
    reply = _reply(facts)
    asked = facts.declared_version
    answered = reply.get("cniVersion") if isinstance(reply, dict) else None
    if isinstance(asked, str) and isinstance(answered, str) and answered and answered != asked:
        yield in_output(
            ("cniVersion",),
            f"VERSION answered in cniVersion {show(answered)} but was asked in {show(asked)}",
        )


@rule("VER005", needs=OUTPUT)
def supported_versions_are_released(facts: Facts) -> Iterator[Violation]:
    seen: set[str] = set()
    for index, entry in enumerate(_supported_versions(facts) or ()):
        if not isinstance(entry, str):
            continue  # VER003
        where = ("supportedVersions", index)
        if entry in seen:
            yield in_output(where, f"supportedVersions lists {show(entry)} twice")
        elif parse_version(entry) is None:
            yield in_output(where, f"supportedVersions entry {show(entry)} is not a Semantic Version")
        elif entry not in RELEASED:
            yield in_output(where, f"supportedVersions entry {show(entry)} is not a released spec version")
        seen.add(entry)


@rule("VER006", needs=OUTPUT)
def unsupported_request_version_fails(facts: Facts) -> Iterator[Violation]:
    # Error code 1 is "Incompatible CNI version": a plugin asked in a version it
    # does not list should refuse, not answer as if it spoke it.
    supported = _supported_versions(facts)
    asked = facts.declared_version
    if supported is None or not isinstance(asked, str) or not asked:
        return
    if asked not in supported:
        yield in_output(
            ("supportedVersions",),
            f"VERSION succeeded for cniVersion {show(asked)}, which its supportedVersions "
            f"{show(supported)} does not list (expected error code 1)",
        )


planned(
    "VER007",
    "cross-record rule, not checked yet: it needs a VERSION record of the same plugin "
    "(its supportedVersions) next to the plugin's other requests",
)
