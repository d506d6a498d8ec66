"""`--format junit`: JUnit XML, so CI systems show captured logs as a test report.

One testsuite per log file, one testcase per record (named by plugin, command,
short container ID and line; classname is the file). A record fails when it
has a finding at or above --fail-on (`<failure>` lists the findings, `type` is
the highest severity); its findings below --fail-on go to `<system-out>`.
Parse problems of a file go to its testsuite's `<system-out>`.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, TextIO

from cnilint.catalogue import severity_rank
from cnilint.findings import Finding
from cnilint.reports.data import RecordRow, ReportData

# Characters XML 1.0 cannot carry, even as references: a log can hold any of them
# (terminal escapes, NULs) and one would make the whole report unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """The text with each character XML cannot hold written as a visible `\\xNN`."""
    return _NOT_XML.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def testcase_name(row: RecordRow) -> str:
    container = (row.container_id or "-")[:12]  # the short ID docker and crictl show
    return f"{row.plugin or '?'} {row.command or '?'} {container} line {row.line}"


def _finding_line(finding: Finding) -> str:
    return f"{finding.file}:{finding.line}: {finding.rule} [{finding.severity}] {finding.title}: {finding.message}"


def _duration(row: RecordRow) -> str | None:
    """Seconds from the call to its return (whole seconds: the wrapper's dates)."""
    try:
        started = datetime.fromisoformat(row.started or "")
        returned = datetime.fromisoformat(row.returned or "")
        seconds = (returned - started).total_seconds()
    except (ValueError, TypeError):  # a raw date, or one with a zone and one without
        return None
    return f"{seconds:g}" if seconds >= 0 else None


def _testcase(row: RecordRow, findings: list[Finding], fail_on: str) -> ET.Element:
    case = ET.Element("testcase", name=xml_text(testcase_name(row)), classname=xml_text(row.file))
    duration = _duration(row)
    if duration is not None:
        case.set("time", duration)
    failing = [f for f in findings if severity_rank(f.severity) >= severity_rank(fail_on)]
    passing = [f for f in findings if severity_rank(f.severity) < severity_rank(fail_on)]
    if failing:
        worst = max(failing, key=lambda f: severity_rank(f.severity))
        rules = ", ".join(dict.fromkeys(f.rule for f in failing))
        failure = ET.SubElement(
            case, "failure", message=xml_text(f"{len(failing)} finding(s) at or above {fail_on}: {rules}")
        )
        failure.set("type", worst.severity)
        failure.text = xml_text("\n".join(_finding_line(f) for f in failing))
    if passing:
        ET.SubElement(case, "system-out").text = xml_text("\n".join(_finding_line(f) for f in passing))
    return case


def _span(problem: dict[str, Any]) -> str:
    return (
        f"{problem['line']}-{problem['end_line']}" if problem["end_line"] != problem["line"] else f"{problem['line']}"
    )


def _failing_records(findings: Iterable[Finding], fail_on: str) -> int:
    bar = severity_rank(fail_on)
    return len({finding.record for finding in findings if severity_rank(finding.severity) >= bar})


def _start_tag(name: str, attributes: dict[str, str]) -> str:
    empty = ET.tostring(ET.Element(name, attributes), encoding="unicode")  # <name a="..." />
    return empty.removesuffix(" />") + ">"


def write(data: ReportData, out: TextIO) -> None:
    """The report, a testcase at a time: a first pass over the findings counts
    each suite's failures (the start tags carry them), then each file's records
    are read with its findings, so memory holds one file's findings at most."""
    fail_on = data.options.fail_on
    records = data.records
    counts = []
    for file in data.files:
        tests = records.count_of(file) if records is not None else 0
        counts.append((tests, _failing_records(data.findings.of_file(file), fail_on) if tests else 0))
    totals = {"tests": str(sum(t for t, _ in counts)), "failures": str(sum(f for _, f in counts)), "errors": "0"}
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = {"name": "cnilint", **totals}
    if not data.files:
        out.write(ET.tostring(ET.Element("testsuites", root), encoding="unicode") + "\n")
        return
    out.write(_start_tag("testsuites", root) + "\n")
    for file, (tests, failed) in zip(data.files, counts, strict=True):
        attributes = {"name": xml_text(file), "tests": str(tests), "failures": str(failed)}
        attributes.update(errors="0", skipped="0")
        problems = data.problems_of(file)
        if not tests and not problems:
            out.write("  " + ET.tostring(ET.Element("testsuite", attributes), encoding="unicode") + "\n")
            continue
        out.write("  " + _start_tag("testsuite", attributes) + "\n")
        by_record: dict[int, list[Finding]] = {}
        for finding in data.findings.of_file(file) if tests else ():
            by_record.setdefault(finding.record, []).append(finding)
        for row in _rows_of(data, file):
            case = _testcase(row, by_record.get(row.record, []), fail_on)
            ET.indent(case, level=2)
            out.write("    " + ET.tostring(case, encoding="unicode") + "\n")
        if problems:
            lines = [f"{file}:{_span(p)}: [parse] {p['message']}" for p in problems]
            system_out = ET.Element("system-out")
            system_out.text = xml_text("\n".join(lines))
            out.write("    " + ET.tostring(system_out, encoding="unicode") + "\n")
        out.write("  </testsuite>\n")
    out.write("</testsuites>\n")


def _rows_of(data: ReportData, file: str) -> Iterator[RecordRow]:
    return data.records.of_file(file) if data.records is not None else iter(())
