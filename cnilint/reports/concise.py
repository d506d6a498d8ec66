"""`--format concise`: `file:line: RULE [severity] message`, one finding per line
(the default when stdout is not a terminal), then one summary line."""

from __future__ import annotations

from typing import TextIO

from cnilint.reports.data import ReportData


def write(data: ReportData, out: TextIO) -> None:
    for problem in data.problems:
        span = f"-{problem['end_line']}" if problem["end_line"] != problem["line"] else ""
        out.write(f"{problem['file']}:{problem['line']}{span}: [parse] {problem['message']}\n")
    for finding in data.findings:
        out.write(f"{finding.file}:{finding.line}: {finding.rule} [{finding.severity}] {finding.message}\n")
    summary = data.summary
    counts = ", ".join(f"{summary.by_severity.get(s, 0)} {s}" for s in ("error", "warning", "info"))
    out.write(f"Found {summary.findings} findings ({counts}) in {summary.records} records of {summary.files} files.\n")
