"""`--format sarif`: SARIF 2.1.0 for GitHub code scanning (`upload-sarif`).

One run; `tool.driver.rules` lists the catalogue rules that have a finding in
this run (in catalogue order; listing all 163 would only bloat the file), each
with its title, what it checks, why it matters with failing and passing
examples, and its SPEC link. Each finding is one result located at its exact
log line; records it names (`related`) are relatedLocations; parse problems
are tool execution notifications.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import quote

from cnilint import __version__
from cnilint.catalogue import RuleInfo, catalogue, explanations
from cnilint.findings import Finding
from cnilint.reports.data import ReportData

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
# cnilint has no published home yet: point at the SPEC it checks against.
INFORMATION_URI = "https://github.com/containernetworking/cni/blob/main/SPEC.md"
FINGERPRINT_KEY = "cnilint/v1"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}


def artifact_uri(file: str) -> str:
    """The log's path as given, relative and with forward slashes, as a URI
    reference: code scanning resolves it against the repository root. An
    absolute path under the working directory is made relative to it; any
    other absolute path stays absolute (a file: URI)."""
    path = Path(file)
    if path.is_absolute():
        try:
            path = path.relative_to(Path.cwd())
        except ValueError:
            return path.as_uri()
    return quote(path.as_posix(), safe="/")


def _fence(text: str) -> str:
    """A Markdown code block that the text cannot close (it may hold backticks)."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}text\n{text}\n{ticks}"


def rule_descriptor(info: RuleInfo) -> dict[str, Any]:
    explained = explanations().get(info.id, {})
    why = explained.get("why", "")
    passing = explained.get("example_pass", "")
    text = f"{info.checks}\n\nWhy it matters: {why}\n\nFailing example:\n{info.example_fail}\n"
    markdown = f"{info.checks}\n\n**Why it matters:** {why}\n\n**Failing example:**\n\n{_fence(info.example_fail)}\n"
    if passing:
        text += f"\nPassing example:\n{passing}\n"
        markdown += f"\n**Passing example:**\n\n{_fence(passing)}\n"
    text += f"\nSPEC: {info.section} ({info.url})"
    markdown += f"\n[{_link_text(info.section)}]({info.url})"
    return {
        "id": info.id,
        "name": info.id,
        "shortDescription": {"text": info.title},
        "fullDescription": {"text": info.checks},
        "help": {"text": text, "markdown": markdown},
        "helpUri": info.url,
        "defaultConfiguration": {"level": LEVELS[info.severity]},
        "properties": {"tags": [info.family, info.source]},
    }


def _location(file: str, line: int) -> dict[str, Any]:
    return {"physicalLocation": {"artifactLocation": {"uri": artifact_uri(file)}, "region": {"startLine": line}}}


def _link_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _message(finding: Finding) -> str:
    """The finding's message; code scanning shows relatedLocations only when the
    message links to them (`[text](id)`), so related records are appended as links."""
    if not finding.related:
        return finding.message
    links = ", ".join(
        f"[{_link_text(f'{item.file}:{item.line}')}]({index})" for index, item in enumerate(finding.related, start=1)
    )
    return f"{finding.message} (related: {links})"


def _result(finding: Finding, rule_index: int, occurrence: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": _message(finding)},
        "locations": [_location(finding.file, finding.line)],
        # The fingerprint ignores lines and container IDs, so identical records of one log
        # share it; numbering them (as GitHub numbers equal line hashes) keeps each its own alert.
        "partialFingerprints": {FINGERPRINT_KEY: f"{finding.fingerprint}:{occurrence}"},
    }
    if finding.related:
        result["relatedLocations"] = [
            {
                "id": index,
                **_location(item.file, item.line),
                "message": {"text": f"record {item.record} of {item.file}"},
            }
            for index, item in enumerate(finding.related, start=1)
        ]
    properties: dict[str, Any] = {
        "record": finding.record,
        "document": finding.document,
        "path": finding.path,
        "plugin": finding.plugin,
        "command": finding.command,
        "cniVersion": finding.version,
    }
    if finding.deviation:
        properties["deviation"] = finding.deviation
    result["properties"] = properties
    return result


def _document(data: ReportData) -> dict[str, Any]:
    """The SARIF document with an empty `results`."""
    rules = catalogue()
    found = {finding.rule for finding in data.findings}
    descriptors = [rule_descriptor(info) for rule_id, info in rules.items() if rule_id in found]
    notifications = [
        {
            "level": "warning",
            "message": {"text": problem["message"]},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": artifact_uri(problem["file"])},
                        "region": {"startLine": problem["line"], "endLine": problem["end_line"]},
                    }
                }
            ],
        }
        for problem in data.problems
    ]
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "cnilint",
                        "version": __version__,
                        "semanticVersion": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": descriptors,
                    }
                },
                "invocations": [invocation],
                "results": [],
            }
        ],
    }


def _results(data: ReportData, descriptors: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    index = {descriptor["id"]: position for position, descriptor in enumerate(descriptors)}
    seen: dict[tuple[str, str], int] = {}
    for finding in data.findings:
        key = (finding.file, finding.fingerprint)
        seen[key] = seen.get(key, 0) + 1
        yield _result(finding, index[finding.rule], seen[key])


RESULTS_INDENT = " " * 8  # runs[0].results[i] in a document indented by 2


def write(data: ReportData, out: TextIO) -> None:
    """The document as json.dump(indent=2) writes it, a result at a time: the results
    go where the document's empty list is (JSON text has no raw newline in a
    string, so each result's lines can be indented as a nested dump would)."""
    document = _document(data)
    text = json.dumps(document, ensure_ascii=False, indent=2)
    empty = '"results": []'
    at = text.rindex(empty) + len(empty) - 1  # results is the run's last key: its last occurrence
    head, tail = text[: at - 1], text[at + 1 :]
    results = _results(data, document["runs"][0]["tool"]["driver"]["rules"])
    first = next(results, None)
    if first is None:
        out.write(text + "\n")
        return
    out.write(head + "[")
    for number, result in enumerate(itertools.chain((first,), results)):
        lines = json.dumps(result, ensure_ascii=False, indent=2).split("\n")
        out.write(("," if number else "") + "\n" + "\n".join(RESULTS_INDENT + line for line in lines))
    out.write("\n" + RESULTS_INDENT[:-2] + "]" + tail + "\n")
