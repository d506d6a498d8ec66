"""Run the registered rules over records and turn violations into findings.

Each rule runs only on records of the spec versions and commands the
catalogue gives it, judged by the record's own cniVersion; severities follow
`severity_by_version` and the profile.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from cnilint.catalogue import RuleInfo, catalogue
from cnilint.facts import Facts
from cnilint.findings import Finding, Related, fingerprint
from cnilint.options import Options
from cnilint.parse import Record
from cnilint.parse.jsonpos import format_path
from cnilint.profiles import deviation
from cnilint.rules import CHECKS, Check, Violation, load_all
from cnilint.versions import COMMANDS, Version


@dataclass
class RecordResult:
    record: Record
    facts: Facts
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # a rule that crashed: a cnilint bug


class Engine:
    def __init__(self, options: Options | None = None) -> None:
        load_all()
        self.options = options or Options()
        self.rules = catalogue()
        self._active: dict[tuple[str | None, Version | None], list[tuple[Check, frozenset[str]]]] = {}

    def _applies(self, info: RuleInfo, command: str | None, version: Version | None) -> bool:
        if not self.options.enabled(info.id):
            return False
        if version is None:
            if not info.versions.open_from_first:
                return False
        elif version not in info.versions:
            return False
        return info.applies_to_command(command, COMMANDS)

    def _checks_for(self, command: str | None, version: Version | None) -> list[tuple[Check, frozenset[str]]]:
        key = (command if command in COMMANDS else None, version)
        active = self._active.get(key)
        if active is None:
            active = []
            for check in CHECKS:
                ids = frozenset(r for r in check.rule_ids if self._applies(self.rules[r], command, version))
                if ids:
                    active.append((check, ids))
            self._active[key] = active
        return active

    def check_record(self, record: Record) -> RecordResult:
        facts = Facts(record)
        result = RecordResult(record, facts)
        for check, ids in self._checks_for(facts.command, facts.version):
            try:
                for rule_id, violation in check.run(facts):
                    if rule_id in ids:
                        finding = self._finding(rule_id, violation, facts)
                        if finding is not None:
                            result.findings.append(finding)
            except Exception as exc:  # a bug in one rule must not stop the others
                result.errors.append(f"{record.file}:{record.line}: internal error in {check.name}: {exc!r}")
        result.findings.sort(key=lambda f: (f.line, f.rule))
        return result

    def rule_applies(self, rule_id: str, facts: Facts) -> bool:
        """Whether a rule runs on this record: selected, and the record's
        version and command are the rule's."""
        return self._applies(self.rules[rule_id], facts.command, facts.version)

    def _finding(
        self,
        rule_id: str,
        violation: Violation,
        facts: Facts,
        related: tuple[Related, ...] = (),
        known: str | None = None,
    ) -> Finding | None:
        record = facts.record
        options = self.options
        if options.ignored_for(rule_id, record.file, record.plugin):
            return None
        info = self.rules[rule_id]
        severity = violation.severity or info.severity_for(facts.version)
        known = known or deviation(options.profile, rule_id, facts)
        if known is not None:
            severity = "info"
        if not options.reports(severity):
            return None
        line, path = _locate(violation, record)
        return Finding(
            rule=rule_id,
            severity=severity,
            title=info.title,
            message=violation.message,
            file=record.file,
            line=line,
            record=record.index,
            document=violation.document,
            path=path,
            url=info.url,
            plugin=record.plugin,
            command=record.command,
            version=facts.version_label,
            deviation=known,
            related=related,
            fingerprint=fingerprint(rule_id, path, record.plugin, record.command, facts.config, facts.version_label),
        )

    def cross_finding(
        self, rule_id: str, violation: Violation, facts: Facts, related: tuple[Related, ...], known: str | None
    ) -> Finding | None:
        return self._finding(rule_id, violation, facts, related, known)

    def check(self, records: Iterable[Record]) -> Iterator[RecordResult]:
        for record in records:
            yield self.check_record(record)


def _locate(violation: Violation, record: Record) -> tuple[int, str]:
    if violation.document == "env":
        name = str(violation.path)
        return record.line_of_variable(name), name
    body = record.input if violation.document == "input" else record.output
    if violation.document in ("input", "output") and body is not None:
        path = violation.path if isinstance(violation.path, tuple) else ()
        return body.line_of(path), format_path(path)
    return record.line, ""
