"""Counts over a checking run, for the summary of every report format."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from cnilint.catalogue import SEVERITIES
from cnilint.engine import RecordResult
from cnilint.findings import Finding
from cnilint.parse import Problem


@dataclass
class Summary:
    files: int = 0
    records: int = 0
    records_valid: int = 0  # no finding at all
    records_with_findings: int = 0
    failed_calls: int = 0  # the plugin answered with an error
    incomplete_records: int = 0
    by_severity: Counter = field(default_factory=Counter)
    by_rule: Counter = field(default_factory=Counter)
    titles: dict[str, str] = field(default_factory=dict)
    severities: dict[str, str] = field(default_factory=dict)
    parse_problems: int = 0
    rules_checked: int = 0
    live_attachments: int = 0  # still live when the logs end: running pods, or leaks

    def add(self, result: RecordResult) -> None:
        self.records += 1
        self.failed_calls += result.facts.failed
        self.incomplete_records += not result.record.complete
        self.parse_problems += len(result.record.problems)
        if result.findings:
            self.records_with_findings += 1
        else:
            self.records_valid += 1
        for finding in result.findings:
            self.by_severity[finding.severity] += 1
            self.by_rule[finding.rule] += 1
            self.titles[finding.rule] = finding.title
            self.severities.setdefault(finding.rule, finding.severity)

    def add_cross(self, finding: Finding, *, first: bool) -> None:
        """A finding of a cross-record rule; `first` when its record had none yet."""
        if first:
            self.records_valid -= 1
            self.records_with_findings += 1
        self.by_severity[finding.severity] += 1
        self.by_rule[finding.rule] += 1
        self.titles[finding.rule] = finding.title
        self.severities.setdefault(finding.rule, finding.severity)

    def add_file_problems(self, problems: list[Problem]) -> None:
        self.parse_problems += len(problems)

    @property
    def findings(self) -> int:
        return sum(self.by_rule.values())

    def statistics(self) -> list[tuple[str, int, str]]:
        """(rule, count, title), most frequent first, like `ruff --statistics`."""
        return [(rule, count, self.titles[rule]) for rule, count in sorted(self.by_rule.items(), key=_most_first)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "records": self.records,
            "records_valid": self.records_valid,
            "records_with_findings": self.records_with_findings,
            "failed_calls": self.failed_calls,
            "incomplete_records": self.incomplete_records,
            "parse_problems": self.parse_problems,
            "rules_checked": self.rules_checked,
            "live_attachments": self.live_attachments,
            "findings": self.findings,
            "by_severity": {severity: self.by_severity.get(severity, 0) for severity in reversed(SEVERITIES)},
            "by_rule": dict(sorted(self.by_rule.items(), key=_most_first)),
        }


def _most_first(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]
