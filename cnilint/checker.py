"""One checking run over several logs: single-record rules per record, then
cross-record rules over all logs merged in time order.

`check_paths` is `cnilint check PATH...` without the writing: logs named by
paths in, report data (redacted) and one-line errors out; the CLI and
cnilint.dask both use it. Under it, `run_checks` runs both stages in this
process; `check_results` runs only the cross-record stage, on records already
checked alone (by worker processes, see cnilint.parallel). Both give the same
CheckRun for the same records.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from rich.console import Console

from cnilint.correlate.calls import merge_in_time
from cnilint.correlate.conflist import Conflist
from cnilint.correlate.engine import CrossEngine
from cnilint.correlate.lifecycle import Attachment
from cnilint.engine import Engine, RecordResult
from cnilint.findings import Finding, FindingStore
from cnilint.inputs import DEFAULT_MAX_RECORD_BYTES
from cnilint.options import Options
from cnilint.parallel import OrderedLogs, RemoteLog, WorkerPool
from cnilint.parse import LogReader, Problem, Record
from cnilint.parse.source import LineExcerpts
from cnilint.progress import RunProgress, log_size, progress_wanted
from cnilint.redact import Redactor
from cnilint.reports.data import RecordRow, ReportData, RowStore, report_data
from cnilint.rules import checked_rule_ids
from cnilint.summary import Summary

COLLECT_AFTER_ALLOCATIONS = 50_000  # the collector's first-generation threshold during a check (default 700)


class LogLike(Protocol):
    """What the run needs of a log besides its records: a LogReader, or a log
    read by a worker process."""

    file: str
    problems: list[Problem]  # complete once its records are exhausted


class Progress(Protocol):
    """Told of every record checked and every log finished (cnilint.progress)."""

    def advance(self, records: int = 1) -> None: ...

    def log_done(self, log: LogLike) -> None: ...


@dataclass
class CheckRun:
    findings: FindingStore = field(default_factory=FindingStore)  # by file, each sorted by line when read
    summary: Summary = field(default_factory=Summary)
    errors: list[str] = field(default_factory=list)  # cnilint bugs met (a rule that crashed)
    live: list[Attachment] = field(default_factory=list)  # attachments still live at the end
    problems: dict[str, list[Problem]] = field(default_factory=dict)  # records' own parse problems, by file
    records: RowStore | None = None  # every record, when a report asked for them

    def all_findings(self) -> Iterator[Finding]:
        return iter(self.findings)


def run_checks(
    logs: list[tuple[LogReader, Iterable[Record]]],
    engine: Engine,
    conflists: dict[str, Conflist] | None = None,
    keep_records: bool = False,
    progress: Progress | None = None,
    *,
    record_bodies: bool = True,
) -> CheckRun:
    """Check every record of `logs` ((reader, its records) pairs) alone and together;
    `keep_records` keeps a RecordRow per record for the record-level reports (with
    its CNI params, INPUT and OUTPUT when `record_bodies`)."""
    # engine.check is lazy: records are read and checked alone as the merge asks for them.
    checked = [(reader, engine.check(records)) for reader, records in logs]
    return check_results(checked, engine, conflists, keep_records, progress, record_bodies=record_bodies)


def check_results(
    logs: list[tuple[LogLike, Iterable[RecordResult]]],
    engine: Engine,
    conflists: dict[str, Conflist] | None = None,
    keep_records: bool = False,
    progress: Progress | None = None,
    *,
    record_bodies: bool = True,
) -> CheckRun:
    """The run over records already checked alone ((log, its results) pairs, each
    log's results in its own order): counts, findings, then the cross-record stage."""
    with fewer_collections():
        return _run(logs, engine, conflists, RowStore(bodies=record_bodies) if keep_records else None, progress)


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the cyclic garbage collector less often: a check makes millions of
    short-lived objects without cycles (refcounts free them), and each pass of
    the collector over the live ones is wasted (measured: 4-14% of a check)."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], COLLECT_AFTER_ALLOCATIONS), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _run(
    logs: list[tuple[LogLike, Iterable[RecordResult]]],
    engine: Engine,
    conflists: dict[str, Conflist] | None,
    records: RowStore | None,
    progress: Progress | None,
) -> CheckRun:
    run = CheckRun(records=records)
    run.summary.files = len(logs)
    with_findings = _RecordMarks()

    def observed(log: LogLike, results: Iterable[RecordResult]) -> Iterator[RecordResult]:
        store, file = run.findings, log.file
        store.add(file, ())  # the file's place among the files
        for result in results:
            run.summary.add(result)
            run.errors.extend(result.errors)
            if result.findings:
                store.add(file, result.findings)
                with_findings.mark(file, result.record.index)
            if result.record.problems:
                run.problems.setdefault(file, []).extend(result.record.problems)
            if run.records is not None:
                run.records.add(RecordRow.of(result, run.records.bodies))
            if progress is not None:
                progress.advance()
            yield result
        run.summary.add_file_problems(log.problems)
        if progress is not None:
            progress.log_done(log)

    cross = CrossEngine(engine, conflists)
    for call, finding in cross.run(merge_in_time([observed(log, results) for log, results in logs])):
        run.findings.add(finding.file, (finding,))
        run.summary.add_cross(finding, first=with_findings.mark(finding.file, call.record.index))
    run.errors.extend(cross.errors)
    run.live = cross.lifecycle.live()
    run.summary.live_attachments = len(run.live)
    return run


@dataclass
class CheckedPaths:
    """What `cnilint check PATH...` writes, before writing it."""

    data: ReportData  # findings, summary, problems (and records when asked), secrets redacted
    io_errors: list[str]  # paths that could not be listed, opened or read: one line each
    errors: list[str]  # cnilint bugs met (a rule that crashed)


def check_paths(
    paths: Sequence[str],
    options: Options,
    conflists: dict[str, Conflist] | None = None,
    *,
    plugin: str | None = None,
    keep_records: bool = False,
    record_bodies: bool = True,
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    jobs: int = 1,
    console: Console | None = None,
) -> CheckedPaths:
    """Check the logs `paths` name (files, directories, `-` for stdin) together.

    `jobs` > 1 reads and checks each log alone on that many worker processes
    (the same data, in the same order, as with 1). `console`: where a progress
    bar goes on long runs, when it is a terminal.
    """
    redactor = Redactor(enabled=options.redact, extra_names=options.redact_names)
    with contextlib.ExitStack() as stack:
        pool = stack.enter_context(WorkerPool(jobs, options, max_record_bytes)) if jobs > 1 else None
        logs = OrderedLogs(paths, plugin, max_record_bytes, pool)
        if pool is not None:
            pool.start(logs.files)  # the workers boot while this process loads the rules
        engine = Engine(options)
        readers = list(logs.opened())
        shown = console is not None and progress_wanted(console)
        total = sum(log_size(reader) for reader in readers) if shown else 0
        progress = stack.enter_context(RunProgress(console, total, enabled=shown))
        for reader in readers:
            progress.add_log(reader)
        streams = [(reader, _checked_alone(engine, redactor, reader, logs.read(reader))) for reader in readers]
        checked = check_results(streams, engine, conflists, keep_records, progress, record_bodies=record_bodies)
    _learn_secrets(redactor, readers)
    checked.summary.rules_checked = sum(1 for rule_id in checked_rule_ids() if options.enabled(rule_id))
    # The records keep their values; what is written (reports, baseline hints) does not.
    data = redactor.report(report_data(checked, readers, options, _excerpt_reader()))
    return CheckedPaths(data, logs.io_errors, checked.errors)


def _checked_alone(engine: Engine, redactor: Redactor, reader: Any, items: Iterable[Any]) -> Iterable[RecordResult]:
    """A log's records checked alone: here, or already by a worker (a RemoteLog,
    which also collects the secrets the redactor learns: see _learn_secrets)."""
    if isinstance(reader, RemoteLog):
        return items
    return engine.check(_observed(redactor, items))


def _observed(redactor: Redactor, records: Iterable[Record]) -> Iterator[Record]:
    """Records unchanged, while the redactor learns their secret values."""
    for record in records:
        redactor.observe(record.env)
        yield record


def _learn_secrets(redactor: Redactor, readers: Iterable[Any]) -> None:
    """What _observed learns record by record, from the secret-looking
    variables the workers found."""
    for reader in readers:
        for name, value in getattr(reader, "secrets", ()):
            redactor.observe({name: value})


def _excerpt_reader() -> Callable[[str, set[int]], dict[int, str]]:
    """The log lines shown around findings: one more pass over each file, read as
    the parser reads it (decompressed, decoded line by line), a chunk of a
    file's findings at a time (LineExcerpts)."""
    excerpts = LineExcerpts()

    def excerpt_lines(path: str, wanted: set[int]) -> dict[int, str]:
        if not wanted or not Path(path).is_file():
            return {}
        return excerpts(path, wanted)

    return excerpt_lines


class _RecordMarks:
    """Which records have a finding: a bit per record index, per file (a set of
    (file, index) pairs costs ~100 bytes a record on logs with many findings)."""

    def __init__(self) -> None:
        self._bits: dict[str, bytearray] = {}

    def mark(self, file: str, index: int) -> bool:
        """Mark a record; whether it was not marked yet."""
        bits = self._bits.get(file)
        if bits is None:
            bits = self._bits[file] = bytearray()
        byte, bit = divmod(index, 8)
        if byte >= len(bits):
            bits.extend(bytes(byte - len(bits) + 1 + len(bits) // 2))  # grow geometrically
        if bits[byte] >> bit & 1:
            return False
        bits[byte] |= 1 << bit
        return True
