"""Findings for people: grouped by file, each with the log lines around it."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from typing import TextIO

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from cnilint.findings import Finding
from cnilint.parse import Problem
from cnilint.reports.data import ReportData
from cnilint.summary import Summary

STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}
CONTEXT = 1  # log lines shown before and after a finding's line
CHUNK = 1000  # findings printed per read of their log lines: memory holds a chunk, not a file's


def excerpt_lines(findings: Sequence[Finding]) -> set[int]:
    return {n for f in findings for n in range(max(1, f.line - CONTEXT), f.line + CONTEXT + 1)}


def print_file(
    console: Console,
    file: str,
    findings: Iterable[Finding],
    problems: Sequence[Problem],
    read_lines: Callable[[str, set[int]], dict[int, str]],
) -> None:
    """A file's parse problems, then its findings with their log lines, a chunk
    of findings at a time (their lines read as the chunk needs them)."""
    remaining = iter(findings)
    chunks = iter(lambda: list(itertools.islice(remaining, CHUNK)), [])
    first = next(chunks, [])
    if not first and not problems:
        return
    console.print(Text(file, style="bold underline"))
    for problem in problems:
        span = f"-{problem.end_line}" if problem.end_line and problem.end_line != problem.line else ""
        console.print(
            Text.assemble(f"  {file}:{problem.line}{span}: ", ("[parse]", "magenta"), " ", problem.message),
            soft_wrap=True,
        )
    for chunk in itertools.chain([first], chunks):
        lines = read_lines(file, excerpt_lines(chunk))
        for finding in chunk:
            print_finding(console, file, finding, lines)
    console.print()


def print_finding(console: Console, file: str, finding: Finding, lines: dict[int, str]) -> None:
    header = Text.assemble(
        (f"  {file}:{finding.line}", "bold"),
        " ",
        (finding.rule, STYLE[finding.severity]),
        " ",
        (f"[{finding.severity}]", STYLE[finding.severity]),
        " ",
        finding.message,
    )
    if finding.path not in ("", "$") and finding.path not in finding.message:
        header.append(f"  ({finding.path})", style="dim")
    console.print(header, soft_wrap=True)
    if finding.deviation:
        console.print(Text(f"      known libcni deviation: {finding.deviation}", style="dim italic"))
    for number in range(max(1, finding.line - CONTEXT), finding.line + CONTEXT + 1):
        if number in lines:
            marker = ">" if number == finding.line else " "
            text = lines[number].rstrip("\n")
            if len(text) > 160:
                text = text[:159] + "…"
            style = "" if marker == ">" else "dim"
            console.print(Text(f"    {marker}{number:>6} │ {text}", style=style), soft_wrap=True)


def print_summary(console: Console, summary: Summary, *, fail_on: str) -> None:
    if summary.records == 0 and summary.parse_problems == 0:
        console.print("No wrapper records found.")
        return
    if summary.findings == 0:
        console.print(
            f"[green]✓[/green] {summary.records} records in {summary.files} files: no findings "
            f"({summary.rules_checked} rules checked)"
            + (f", {summary.parse_problems} parse problems" if summary.parse_problems else "")
        )
        return
    table = Table(title="Findings by rule", show_edge=False, pad_edge=False)
    table.add_column("count", justify="right")
    table.add_column("rule")
    table.add_column("severity")
    table.add_column("title")
    for rule, count, title in summary.statistics():
        severity = summary.severities[rule]
        table.add_row(str(count), rule, Text(severity, style=STYLE[severity]), escape(title))
    console.print(table)
    counts = ", ".join(
        f"[{STYLE[s]}]{summary.by_severity.get(s, 0)} {s}[/{STYLE[s]}]" for s in ("error", "warning", "info")
    )
    console.print(
        f"{summary.findings} findings ({counts}) in {summary.records} records of {summary.files} files: "
        f"{summary.records_valid} valid, {summary.records_with_findings} with findings, "
        f"{summary.failed_calls} failed calls"
        + (f", {summary.incomplete_records} incomplete" if summary.incomplete_records else "")
        + (f", {summary.parse_problems} parse problems" if summary.parse_problems else "")
        + f"; {summary.rules_checked} rules checked, failing on {fail_on} and above."
    )


def write(data: ReportData, out: TextIO) -> None:
    """Every file's findings with their log lines, then the summary."""
    console = Console(file=out, highlight=False)
    for file in data.files:
        problems = [
            Problem(problem["line"], problem["message"], problem["end_line"]) for problem in data.problems_of(file)
        ]
        print_file(console, file, data.findings.of_file(file), problems, data.read_lines)
    print_summary(console, data.summary, fail_on=data.options.fail_on)
    if data.baseline:
        stale = data.baseline.get("stale", [])
        console.print(
            f"Baseline: {data.baseline.get('suppressed', 0)} known findings suppressed"
            + (f", {len(stale)} baseline entries no longer found (stale)" if stale else "")
        )
