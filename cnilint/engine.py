"""Run the registered rules over records and turn violations into findings.

Each rule runs only on records of the spec versions and commands the
catalogue gives it, judged by the record's own cniVersion; severities follow
`severity_by_version` and the profile.

Speed: which checks run on a record is decided once per kind of record (its
command, version and conditions, see cnilint.facts) and kept as a plan; a
check that cannot report on such a record (an error rule on a success) is not
called at all. The checks of INPUT alone (`input_only`) report the same
violations for every record with the same INPUT text, command and plugin (a
node sends the same configuration on every call): they run once per such
INPUT, kept in a bounded LRU; those that ignore prevResult's value, once per
INPUT text less that value (a CHECK or DEL carries its own ADD's result).
What is worked out from a document's text (the log line of a JSON path, the
configuration as fingerprinted) is kept by that text too; nothing is ever
kept by record.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cnilint.catalogue import RuleInfo, catalogue
from cnilint.facts import MEMO_MAX_TEXT, Facts, value_start
from cnilint.findings import Finding, Related, StringPool, config_text, fingerprint_from
from cnilint.options import Options
from cnilint.parse import Body, Record
from cnilint.parse.jsonpos import MAX_DEPTH, format_path
from cnilint.profiles import LIBCNI_DEVIATIONS, deviation
from cnilint.rules import CHECKS, INPUT_CONDITIONS, Check, TextMemo, Violation, load_all
from cnilint.versions import COMMANDS, Version


@dataclass
class RecordResult:
    record: Record
    facts: Facts
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # a rule that crashed: a cnilint bug


# One step of a plan: the function to call, the rule it reports under when it
# is a single rule's check (it yields bare violations), else None and the IDs
# of the check's rules that apply (it yields (rule ID, violation) pairs).
Step = tuple[Any, str | None, frozenset[str], str]
PlanKey = tuple[str | None, Version | None, int]
# The checks of INPUT less prevResult's value, of INPUT, of the whole record.
Plan = tuple[list[Step], list[Step], list[Step]]
INPUT_MEMO_ENTRIES = 1024  # distinct (INPUT, command, plugin) kept; a node has a few dozen


class Engine:
    def __init__(self, options: Options | None = None) -> None:
        load_all()
        self.options = options or Options()
        self.rules = catalogue()
        self._active: dict[tuple[str | None, Version | None], list[tuple[Check, frozenset[str]]]] = {}
        self._plans: dict[PlanKey, Plan] = {}
        # ("config" or "input", INPUT text (less prevResult's value), command,
        # plugin...) -> the (rule ID, violation) pairs of the plan's input_only
        # checks of that kind, in plan order. Per engine: plans follow its options.
        self._input_violations = TextMemo(INPUT_MEMO_ENTRIES)
        self._severities: dict[tuple[str, Version | None], str] = {}
        self._applicable: dict[tuple[str, str | None, Version | None], bool] = {}
        # Findings are dropped only by per-file/per-plugin ignores or below --severity.
        self._plain = not self.options.per_file_ignores and not self.options.per_plugin_ignores
        self._strings = StringPool()

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

    def _plan(self, key: PlanKey, command: str | None) -> Plan:
        """The checks to call on records of one command, version and set of
        conditions: those of INPUT less prevResult's value, those of INPUT, and
        the others, each in registration order."""
        _, version, conditions = key
        plan: Plan = ([], [], [])
        for check, ids in self._checks_for(command, version):
            if check.needs & conditions != check.needs:
                continue  # it cannot report on such a record
            steps = plan[2] if not check.input_only else plan[1] if check.reads_prev_result else plan[0]
            if check.function is not None and check.rule_id is not None:
                steps.append((check.function, check.rule_id, ids, check.name))
            else:
                steps.append((check.run, None, ids, check.name))
        self._plans[key] = plan
        return plan

    def check_record(self, record: Record) -> RecordResult:
        facts = Facts(record)
        result = RecordResult(record, facts)
        command = facts.command
        key = (command if command in COMMANDS else None, facts.version, facts.conditions)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plan(key, command)
        config_steps, input_steps, steps = plan
        found: list[tuple[str, Violation]] = []
        errors = result.errors
        # Which input_only checks run follows from INPUT, the command and the
        # plugin (version and INPUT's conditions are worked out from them).
        if config_steps:
            text = facts.input_without_prev_result  # INPUT less prevResult's value
            if text is None and record.input is not None:
                self._run(config_steps, facts, found, errors)  # too long to keep
            else:
                # The conditions say whether prevResult is null, which the text no longer does.
                key = ("config", text, command, record.plugin, facts.conditions & INPUT_CONDITIONS)
                self._kept_run(config_steps, key, facts, found, errors)
        if input_steps:
            body = record.input
            text = body.raw if body is not None else None
            if text is not None and len(text) > MEMO_MAX_TEXT:
                self._run(input_steps, facts, found, errors)
            else:
                self._kept_run(input_steps, ("input", text, command, record.plugin), facts, found, errors)
        self._run(steps, facts, found, errors)
        findings = result.findings
        for rule_id, violation in found:
            try:
                finding = self._finding(rule_id, violation, facts)
            except Exception as exc:  # a bug locating one finding must not stop the others
                result.errors.append(f"{record.file}:{record.line}: internal error in {rule_id}: {exc!r}")
                continue
            if finding is not None:
                findings.append(finding)
        if len(findings) > 1:
            findings.sort(key=_finding_order)
        return result

    def _kept_run(
        self,
        steps: list[Step],
        key: tuple[Any, ...],
        facts: Facts,
        found: list[tuple[str, Violation]],
        errors: list[str],
    ) -> None:
        """_run, or what it gave on an earlier record with the same `key`."""
        kept = self._input_violations.get(key)
        if kept is None:
            fresh: list[tuple[str, Violation]] = []
            if self._run(steps, facts, fresh, errors):
                self._input_violations.put(key, tuple(fresh))
            found.extend(fresh)
        else:
            found.extend(kept)

    @staticmethod
    def _run(steps: list[Step], facts: Facts, found: list[tuple[str, Violation]], errors: list[str]) -> bool:
        """Call `steps` on a record, adding their (rule ID, violation) pairs to
        `found`; False when one crashed (its error added to `errors`)."""
        clean = True
        for function, rule_id, ids, name in steps:
            try:
                if rule_id is not None:
                    for violation in function(facts):
                        found.append((rule_id, violation))
                else:
                    for pair in function(facts):
                        if pair[0] in ids:
                            found.append(pair)
            except Exception as exc:  # a bug in one rule must not stop the others
                record = facts.record
                errors.append(f"{record.file}:{record.line}: internal error in {name}: {exc!r}")
                clean = False
        return clean

    def rule_applies(self, rule_id: str, facts: Facts) -> bool:
        """Whether a rule runs on this record: selected, and the record's
        version and command are the rule's (kept per rule, command and version:
        the cross-record stage asks for every call)."""
        command = facts.command
        key = (rule_id, command if command in COMMANDS else None, facts.version)
        applies = self._applicable.get(key)
        if applies is None:
            applies = self._applicable[key] = self._applies(self.rules[rule_id], command, facts.version)
        return applies

    def _severity(self, rule_id: str, version: Version | None) -> str:
        severity = self._severities.get((rule_id, version))
        if severity is None:
            severity = self._severities[(rule_id, version)] = self.rules[rule_id].severity_for(version)
        return severity

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
        if not self._plain and options.ignored_for(rule_id, record.file, record.plugin):
            return None
        severity = violation.severity or self._severity(rule_id, facts.version)
        if known is None and rule_id in LIBCNI_DEVIATIONS:
            known = deviation(options.profile, rule_id, facts)
        if known is not None:
            severity = "info"
        if not options.reports(severity):
            return None
        info = self.rules[rule_id]
        line, path = _locate(violation, record)
        command = facts.command
        shared = self._strings.share
        return Finding(
            rule=rule_id,
            severity=severity,
            title=info.title,
            message=shared(violation.message),
            file=record.file,
            line=line,
            record=record.index,
            document=violation.document,
            path=shared(path),
            url=info.url,
            plugin=record.plugin,
            command=shared(command),
            version=shared(facts.version_label),
            deviation=known,
            related=related,
            fingerprint=shared(_fingerprint(rule_id, path, record.plugin, command, facts.version_label, facts)),
        )

    def cross_finding(
        self, rule_id: str, violation: Violation, facts: Facts, related: tuple[Related, ...], known: str | None
    ) -> Finding | None:
        return self._finding(rule_id, violation, facts, related, known)

    def check(self, records: Iterable[Record]) -> Iterator[RecordResult]:
        for record in records:
            yield self.check_record(record)


def _finding_order(finding: Finding) -> tuple[int, str]:
    return finding.line, finding.rule


_format_path = lru_cache(maxsize=1024)(format_path)  # findings sit at the same few paths


def _locate(violation: Violation, record: Record) -> tuple[int, str]:
    if violation.document == "env":
        name = str(violation.path)
        return record.line_of_variable(name), name
    body = record.input if violation.document == "input" else record.output
    if violation.document in ("input", "output") and body is not None:
        path = violation.path if isinstance(violation.path, tuple) else ()
        return _line_of(body, path), _format_path(path)
    return record.line, ""


# ---------------------------------------------------------------- kept by text


def _line_of(body: Body, path: tuple[Any, ...]) -> int:
    """Body.line_of: the log line of the value at `path`, or of its nearest
    ancestor that exists; the body's first line when none does."""
    raw = body.raw
    if "\n" not in raw.rstrip():
        return body.line  # every value starts on the body's one line
    if not body.is_json:
        return body.line_of(path)  # best effort on broken text: the parser's own scan
    if len(raw) > MEMO_MAX_TEXT:
        return body.line + _newlines_before(raw, path)
    return body.line + _kept_newlines_before(raw, path)


@lru_cache(maxsize=512)
def _kept_newlines_before(raw: str, path: tuple[Any, ...]) -> int:
    return _newlines_before(raw, path)


def _newlines_before(raw: str, path: tuple[Any, ...]) -> int:
    try:
        offset = value_start(raw, path[:MAX_DEPTH])[1]  # value_positions records no deeper path
    except (ValueError, IndexError, AttributeError, StopIteration):  # pragma: no cover - raw decoded as JSON
        offset = 0
    return raw.count("\n", 0, offset)


def _fingerprint(rule_id: str, path: str, plugin: str | None, command: str | None, version: str, facts: Facts) -> str:
    """fingerprint_from with the record's configuration text worked out once
    per configuration, and each fingerprint hashed once: the same findings
    recur on every record of a configuration."""
    configuration = facts.kept("engine.fingerprint_config", _fingerprint_config)
    if len(configuration) > MEMO_MAX_TEXT:
        return fingerprint_from(rule_id, path, plugin, command, version, configuration)
    return _kept_fingerprint(rule_id, path, plugin, command, version, configuration)


_kept_fingerprint = lru_cache(maxsize=4096)(fingerprint_from)


def _fingerprint_config(facts: Facts) -> str:
    """findings.config_text of the record's INPUT, kept by INPUT's text less prevResult's
    value (a fingerprint leaves prevResult out: CHECK and DEL share their ADD's)."""
    text = facts.input_without_prev_result
    if text is None or facts.config is None:
        return config_text(facts.config)
    found = _CONFIG_TEXTS.get(text)
    if found is None:
        found = _CONFIG_TEXTS.put(text, config_text(facts.config))
    return found  # type: ignore[no-any-return]


_CONFIG_TEXTS = TextMemo(256)


def clear_caches() -> None:
    """Forget everything kept by text (benchmarks measure a cold start)."""
    from cnilint.rules import clear_text_memos
    from cnilint.rules.addresses import clear_caches as clear_addresses

    _kept_newlines_before.cache_clear()
    _format_path.cache_clear()
    _kept_fingerprint.cache_clear()
    clear_text_memos()
    clear_addresses()
