"""What every report format is written from: one checking run, as plain data.

Each format is one small module with `write(data: ReportData, out: TextIO)`.
Formats that show every record (HTML, JUnit, --records-csv) ask for
`RecordRow`s, which the checker then keeps; the others need only findings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cnilint.engine import RecordResult
from cnilint.findings import Finding, FindingList
from cnilint.options import Options
from cnilint.reports.records import outcome
from cnilint.rules.addresses import parse_cidr
from cnilint.summary import Summary


@dataclass(frozen=True)
class RecordRow:
    """One record, as the record-level reports show it."""

    file: str
    plugin: str | None
    record: int
    line: int
    end_line: int
    started: str | None  # ISO 8601 when the date parsed, else the raw date
    returned: str | None
    command: str | None
    container_id: str | None
    ifname: str | None
    netns: str | None
    cni_version: str
    outcome: str  # "result", "error 999", "empty", "not JSON", "not logged"
    failed: bool
    error_code: Any
    error_msg: Any
    addresses: tuple[str, ...]
    params: dict[str, str]
    input_raw: str | None
    output_raw: str | None
    input_line: int | None
    output_line: int | None
    complete: bool
    recovered: bool
    findings: dict[str, int] = field(default_factory=dict)  # severity -> count

    @staticmethod
    def of(result: RecordResult) -> RecordRow:
        record, facts = result.record, result.facts
        error = facts.error or {}
        return RecordRow(
            file=record.file,
            plugin=record.plugin,
            record=record.index,
            line=record.line,
            end_line=record.end_line,
            started=record.started_at.isoformat() if record.started_at else record.started,
            returned=record.returned_at.isoformat() if record.returned_at else record.returned,
            command=record.command,
            container_id=record.container_id,
            ifname=record.ifname,
            netns=record.netns,
            cni_version=facts.version_label,
            outcome=outcome(record),
            failed=facts.failed,
            error_code=error.get("code"),
            error_msg=error.get("msg"),
            addresses=_addresses(facts.result),
            params=dict(record.params),
            input_raw=record.input.raw if record.input is not None else None,
            output_raw=record.output.raw if record.output is not None else None,
            input_line=record.input.line if record.input is not None else None,
            output_line=record.output.line if record.output is not None else None,
            complete=record.complete,
            recovered=getattr(record, "recovered", False),
        )


def _addresses(result: Any) -> tuple[str, ...]:
    """The IP/prefix addresses of a success result, any version."""
    if not isinstance(result, dict) or "code" in result:
        return ()
    found: list[str] = []
    for entry in result.get("ips") or ():
        if isinstance(entry, dict) and parse_cidr(entry.get("address")) is not None:
            found.append(entry["address"])
    for block in ("ip4", "ip6"):
        value = result.get(block)
        if isinstance(value, dict) and parse_cidr(value.get("ip")) is not None:
            found.append(value["ip"])
    return tuple(found)


@dataclass
class ReportData:
    findings: FindingList  # every finding reported, by file (input order) then line: read on each pass
    summary: Summary
    problems: list[dict[str, Any]]  # parse problems: {file, line, end_line, message}
    files: list[str]
    options: Options
    records: list[RecordRow] | None = None  # when a format asked for them
    read_lines: Callable[[str, set[int]], dict[int, str]] = lambda file, wanted: {}
    baseline: dict[str, Any] = field(default_factory=dict)  # {"suppressed": n, "stale": [...]} with --baseline

    def __post_init__(self) -> None:
        if not isinstance(self.findings, FindingList):  # a list given by a caller
            self.findings = FindingList.of(list(self.findings))

    def findings_of(self, file: str) -> list[Finding]:
        return list(self.findings.of_file(file))

    def problems_of(self, file: str) -> list[dict[str, Any]]:
        return [problem for problem in self.problems if problem["file"] == file]


def report_data(
    checked: Any,  # cnilint.checker.CheckRun
    readers: list[Any],  # the LogReaders, in input order
    options: Options,
    read_lines: Callable[[str, set[int]], dict[int, str]],
) -> ReportData:
    """Findings in file order then line, parse problems of the logs and of their records."""
    files = [reader.file for reader in readers]
    store = checked.findings
    count = sum(store.count(file) for file in files)
    wanted = set(files)
    findings = FindingList(
        lambda: (finding for file in files for finding in store.of(file)),
        count,
        lambda file: store.of(file) if file in wanted else iter(()),
    )
    problems: list[dict[str, Any]] = []
    for reader in readers:
        found = sorted([*reader.problems, *checked.problems.get(reader.file, [])], key=lambda p: p.line)
        problems.extend(
            {"file": reader.file, "line": p.line, "end_line": p.end_line or p.line, "message": p.message} for p in found
        )
    records = checked.records
    if records is not None:
        rows = {(row.file, row.record): row for row in records}
        for finding in findings:
            row = rows.get((finding.file, finding.record))
            if row is not None:
                row.findings[finding.severity] = row.findings.get(finding.severity, 0) + 1
    return ReportData(findings, checked.summary, problems, files, options, records, read_lines)
