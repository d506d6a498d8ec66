"""One checking run over several logs: single-record rules per record, then
cross-record rules over all logs merged in time order."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from cnilint.correlate.calls import merge_in_time
from cnilint.correlate.conflist import Conflist
from cnilint.correlate.engine import CrossEngine
from cnilint.correlate.lifecycle import Attachment
from cnilint.engine import Engine, RecordResult
from cnilint.findings import Finding
from cnilint.parse import LogReader, Problem, Record
from cnilint.reports.data import RecordRow
from cnilint.summary import Summary


@dataclass
class CheckRun:
    findings: dict[str, list[Finding]] = field(default_factory=dict)  # by file, files in input order
    summary: Summary = field(default_factory=Summary)
    errors: list[str] = field(default_factory=list)  # cnilint bugs met (a rule that crashed)
    live: list[Attachment] = field(default_factory=list)  # attachments still live at the end
    problems: dict[str, list[Problem]] = field(default_factory=dict)  # records' own parse problems, by file
    records: list[RecordRow] | None = None  # every record, when a report asked for them

    def all_findings(self) -> Iterator[Finding]:
        for findings in self.findings.values():
            yield from findings


def run_checks(
    logs: list[tuple[LogReader, Iterable[Record]]],
    engine: Engine,
    conflists: dict[str, Conflist] | None = None,
    keep_records: bool = False,
) -> CheckRun:
    """Check every record of `logs` ((reader, its records) pairs) alone and together;
    `keep_records` keeps a RecordRow per record for the record-level reports."""
    run = CheckRun(records=[] if keep_records else None)
    run.summary.files = len(logs)
    with_findings: set[tuple[str, int]] = set()

    def observed(reader: LogReader, records: Iterable[Record]) -> Iterator[RecordResult]:
        bucket = run.findings.setdefault(reader.file, [])
        for result in engine.check(records):
            run.summary.add(result)
            run.errors.extend(result.errors)
            bucket.extend(result.findings)
            if result.record.problems:
                run.problems.setdefault(reader.file, []).extend(result.record.problems)
            if result.findings:
                with_findings.add((reader.file, result.record.index))
            if run.records is not None:
                run.records.append(RecordRow.of(result))
            yield result
        run.summary.add_file_problems(reader.problems)

    cross = CrossEngine(engine, conflists)
    for call, finding in cross.run(merge_in_time([observed(reader, records) for reader, records in logs])):
        run.findings.setdefault(finding.file, []).append(finding)
        run.summary.add_cross(finding, first=(finding.file, call.record.index) not in with_findings)
        with_findings.add((finding.file, call.record.index))
    run.errors.extend(cross.errors)
    run.live = cross.lifecycle.live()
    run.summary.live_attachments = len(run.live)
    for findings in run.findings.values():
        findings.sort(key=lambda f: (f.line, f.rule))
    return run
