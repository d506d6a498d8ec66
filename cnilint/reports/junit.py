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
from collections import defaultdict
from datetime import datetime
from typing import Any, TextIO

from cnilint.catalogue import severity_rank
from cnilint.findings import Finding
from cnilint.reports.csv_report import records_in_file_order
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


def _testcase(row: RecordRow, findings: list[Finding], fail_on: str) -> tuple[ET.Element, bool]:
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
    return case, bool(failing)


def _span(problem: dict[str, Any]) -> str:
    return (
        f"{problem['line']}-{problem['end_line']}" if problem["end_line"] != problem["line"] else f"{problem['line']}"
    )


def junit_tree(data: ReportData) -> ET.Element:
    fail_on = data.options.fail_on
    by_record: dict[tuple[str, int], list[Finding]] = defaultdict(list)
    for finding in data.findings:
        by_record[(finding.file, finding.record)].append(finding)
    rows_of: dict[str, list[RecordRow]] = defaultdict(list)
    for row in records_in_file_order(data):
        rows_of[row.file].append(row)

    root = ET.Element("testsuites", name="cnilint")
    total = failures = 0
    for file in data.files:
        suite = ET.SubElement(root, "testsuite", name=xml_text(file))
        failed = 0
        for row in rows_of.get(file, ()):
            case, failing = _testcase(row, by_record.get((row.file, row.record), []), fail_on)
            suite.append(case)
            failed += failing
        problems = data.problems_of(file)
        if problems:
            lines = [f"{file}:{_span(p)}: [parse] {p['message']}" for p in problems]
            ET.SubElement(suite, "system-out").text = xml_text("\n".join(lines))
        tests = len(rows_of.get(file, ()))
        for name, value in (("tests", tests), ("failures", failed), ("errors", 0), ("skipped", 0)):
            suite.set(name, str(value))
        total += tests
        failures += failed
    for name, value in (("tests", total), ("failures", failures), ("errors", 0)):
        root.set(name, str(value))
    return root


def write(data: ReportData, out: TextIO) -> None:
    root = junit_tree(data)
    ET.indent(root)
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n')
    out.write(ET.tostring(root, encoding="unicode"))
    out.write("\n")
