"""What every report format is written from: one checking run, as plain data.

Each format is one small module with `write(data: ReportData, out: TextIO)`.
Formats that show every record (HTML, JUnit, --records-csv) ask for
`RecordRow`s, which the checker then keeps (in a RowStore: on disk past a few
thousand); the others need only findings. Both are read again on each pass
(`ReportData.findings`, `ReportData.rows()`), never all held by a report.
"""

from __future__ import annotations

import bisect
import heapq
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from cnilint.engine import RecordResult
from cnilint.findings import Finding, FindingList
from cnilint.options import Options
from cnilint.reports.records import outcome
from cnilint.rules.addresses import parse_cidr
from cnilint.spill import Run, SpillFile
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
    def of(result: RecordResult, bodies: bool = True) -> RecordRow:
        """The row of a checked record; without `bodies`, its CNI params, INPUT and
        OUTPUT are left out (JUnit and --records-csv do not show them)."""
        record, facts = result.record, result.facts
        error = facts.error or {}
        shown = record if bodies else None
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
            params=dict(shown.params) if shown is not None else {},
            input_raw=shown.input.raw if shown is not None and shown.input is not None else None,
            output_raw=shown.output.raw if shown is not None and shown.output is not None else None,
            input_line=shown.input.line if shown is not None and shown.input is not None else None,
            output_line=shown.output.line if shown is not None and shown.output is not None else None,
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


# Records a check keeps in memory for the record-level reports, of 0.3 KB each (without
# bodies); with their CNI params, INPUT and OUTPUT (~4 KB) a quarter as many.
ROWS_HELD = 4096


class RowStore:
    """The RecordRows of a check by file, in the order added (each file's in
    record order); past `limit` held, pickled to an anonymous temporary file.
    Each row keeps its place in the check (`as_checked`: time order across files)."""

    def __init__(self, limit: int | None = None, *, bodies: bool = True) -> None:
        self.limit = (ROWS_HELD if not bodies else max(ROWS_HELD // 4, 1)) if limit is None else limit
        self.bodies = bodies  # False: rows are made without CNI params, INPUT and OUTPUT (RecordRow.of)
        self._held: dict[str, list[tuple[int, RecordRow]]] = {}
        self._runs: dict[str, list[Run]] = {}
        self._chunks: dict[str, list[tuple[int, int, int]]] = {}  # file -> (first record, offset, size)
        self._counts: dict[str, int] = {}
        self._last: dict[str, int] = {}
        self._unordered: set[str] = set()  # files whose rows did not come in record order
        self._added = 0
        self._holding = 0
        self._spill = SpillFile(chunk=128)  # as_checked holds a chunk of each file at once, pick one

    def add(self, row: RecordRow) -> None:
        file = row.file
        bucket = self._held.get(file)
        if bucket is None:
            bucket = self._held[file] = []
        if row.record < self._last.get(file, -1):
            self._unordered.add(file)
        self._last[file] = row.record
        bucket.append((self._added, row))
        self._added += 1
        self._counts[file] = self._counts.get(file, 0) + 1
        self._holding += 1
        if self._holding > self.limit:
            for name, rows in self._held.items():
                if rows:
                    run = self._spill.write(rows)
                    self._runs.setdefault(name, []).append(run)
                    chunks = self._chunks.setdefault(name, [])
                    for number, (offset, size) in enumerate(run):
                        chunks.append((rows[number * self._spill.chunk][1].record, offset, size))
                    rows.clear()
            self._holding = 0

    def __len__(self) -> int:
        return self._added

    def count(self, file: str) -> int:
        return self._counts.get(file, 0)

    def _numbered(self, file: str) -> Iterator[tuple[int, RecordRow]]:
        for run in self._runs.get(file, ()):
            yield from self._spill.read(run)
        yield from list(self._held.get(file, ()))

    def of(self, file: str) -> Iterator[RecordRow]:
        """The file's rows by record index."""
        rows = (row for _, row in self._numbered(file))
        if file in self._unordered:  # not met in practice: a file's records are checked in order
            return iter(sorted(rows, key=lambda row: row.record))
        return rows

    def as_checked(self) -> Iterator[RecordRow]:
        """Every row in the order added."""
        merged = heapq.merge(*(self._numbered(file) for file in self._held), key=lambda item: item[0])
        return (row for _, row in merged)

    def pick(self, keys: Iterable[tuple[str, int]]) -> Iterator[RecordRow | None]:
        """The rows of (file, record index) keys, in the order asked (None for no such
        row): a row on disk is read with its chunk, not its file (the last chunk read
        of each file is kept: rows asked for in order share them)."""
        chunks_read: dict[str, tuple[int, dict[int, RecordRow]]] = {}  # file -> (offset, rows by record)
        for file, record in keys:
            if file in self._unordered:  # not met in practice: a file's records are checked in order
                yield next((row for row in self.of(file) if row.record == record), None)
                continue
            held = self._held.get(file, [])
            at = bisect.bisect_right(held, record, key=lambda item: item[1].record) - 1
            if at >= 0 and held[at][1].record == record:
                yield held[at][1]
                continue
            chunks = self._chunks.get(file, [])
            at = bisect.bisect_right(chunks, record, key=lambda chunk: chunk[0]) - 1
            if at < 0:
                yield None
                continue
            _, offset, size = chunks[at]
            read = chunks_read.get(file)
            if read is None or read[0] != offset:
                read = chunks_read[file] = (offset, {row.record: row for _, row in self._spill.read([(offset, size)])})
            yield read[1].get(record)

    def close(self) -> None:
        self._spill.close()


def _same(row: RecordRow) -> RecordRow:
    return row


class RecordRows:
    """A report's records, read again on each pass from where they are kept: by
    file (in `files` order) then index, in the order the check met them (time
    order across files), or by key. `map` transforms them as they are read; a
    map changes what a row shows of the log (redaction: params, bodies, error
    message), never its place, plugin, times or outcome (see as_checked_unmapped)."""

    def __init__(
        self,
        by_file: Callable[[str], Iterator[RecordRow]],
        files: list[str],
        counts: Callable[[str], int],
        as_checked: Callable[[], Iterator[RecordRow]],
        pick: Callable[[Iterable[tuple[str, int]]], Iterator[RecordRow | None]],
        transform: Callable[[RecordRow], RecordRow] = _same,
    ) -> None:
        self._by_file = by_file
        self.files = files
        self._counts = counts
        self._as_checked = as_checked
        self._pick = pick
        self._transform = transform

    @classmethod
    def of(cls, rows: Iterable[RecordRow], files: list[str] | None = None) -> RecordRows:
        """Rows given as a list, in the order the check met them."""
        listed = list(rows)
        order = list(files or [])
        kept: dict[str, list[RecordRow]] = {}
        for row in listed:
            kept.setdefault(row.file, []).append(row)
        order += [file for file in kept if file not in order]
        for file_rows in kept.values():
            file_rows.sort(key=lambda row: row.record)
        by_key = {(row.file, row.record): row for row in listed}
        return cls(
            lambda file: iter(kept.get(file, ())),
            order,
            lambda file: len(kept.get(file, ())),
            listed.__iter__,
            lambda keys: (by_key.get(key) for key in keys),
        )

    @classmethod
    def stored(cls, store: RowStore, files: list[str]) -> RecordRows:
        return cls(store.of, files, store.count, store.as_checked, store.pick)

    def of_file(self, file: str) -> Iterator[RecordRow]:
        rows = self._by_file(file)
        return rows if self._transform is _same else map(self._transform, rows)

    def as_checked_unmapped(self) -> Iterator[RecordRow]:
        """as_checked before the maps: for a pass that reads only each row's place,
        plugin, times and outcome, which no map changes (nothing redacted for it)."""
        return self._as_checked()

    def pick(self, keys: Iterable[tuple[str, int]]) -> Iterator[RecordRow | None]:
        """The rows of (file, record index) keys, in that order (None for no such row)."""
        rows = self._pick(keys)
        transform = self._transform
        return rows if transform is _same else (row if row is None else transform(row) for row in rows)

    def __iter__(self) -> Iterator[RecordRow]:
        for file in self.files:
            yield from self.of_file(file)

    def count_of(self, file: str) -> int:
        return self._counts(file)

    def __len__(self) -> int:
        return sum(self._counts(file) for file in self.files)

    def map(self, function: Callable[[RecordRow], RecordRow]) -> RecordRows:
        before = self._transform
        composed = function if before is _same else lambda row: function(before(row))
        return RecordRows(self._by_file, self.files, self._counts, self._as_checked, self._pick, composed)


@dataclass
class ReportData:
    findings: FindingList  # every finding reported, by file (input order) then line: read on each pass
    summary: Summary
    problems: list[dict[str, Any]]  # parse problems: {file, line, end_line, message}
    files: list[str]
    options: Options
    records: RecordRows | None = None  # when a format asked for them; their counts: rows()
    read_lines: Callable[[str, set[int]], dict[int, str]] = lambda file, wanted: {}
    baseline: dict[str, Any] = field(default_factory=dict)  # {"suppressed": n, "stale": [...]} with --baseline

    def __post_init__(self) -> None:
        if not isinstance(self.findings, FindingList):  # a list given by a caller
            self.findings = FindingList.of(list(self.findings))
        if self.records is not None and not isinstance(self.records, RecordRows):
            self.records = RecordRows.of(self.records, self.files)

    def rows(self) -> Iterator[RecordRow]:
        """Every record (when kept), by file then index, its findings counted by
        severity from `findings` (so a baseline's suppressions count too)."""
        if self.records is None:
            return
        for file in self.records.files:
            counts = SeverityCounts()
            for finding in self.findings.of_file(file):
                counts.add(finding.record, finding.severity)
            for row in self.records.of_file(file):
                found = counts.of(row.record)
                yield row if row.findings == found else replace(row, findings=found)

    def problems_of(self, file: str) -> list[dict[str, Any]]:
        return [problem for problem in self.problems if problem["file"] == file]


FindingCounts = dict[tuple[str, int], dict[str, int]]


def finding_counts(findings: Iterable[Finding], only: set[tuple[str, int]]) -> FindingCounts:
    """(file, record) -> severity -> count, of the records in `only` (a few: the HTML report's)."""
    counts: FindingCounts = {}
    for finding in findings:
        key = (finding.file, finding.record)
        if key in only:
            found = counts.setdefault(key, {})
            found[finding.severity] = found.get(finding.severity, 0) + 1
    return counts


class SeverityCounts:
    """One file's findings per record and severity: a 16-bit counter per record
    index and severity (6 bytes a record; a dict per record would be ~300)."""

    def __init__(self) -> None:
        self._counts: dict[str, array[int]] = {}

    def add(self, record: int, severity: str) -> None:
        counts = self._counts.get(severity)
        if counts is None:
            counts = self._counts[severity] = array("H")
        if record >= len(counts):
            counts.frombytes(bytes(2 * (record + 1 - len(counts) + len(counts) // 2)))  # zeros, grown geometrically
        counts[record] = min(counts[record] + 1, 0xFFFF)

    def of(self, record: int) -> dict[str, int]:
        found = {}
        for severity, counts in self._counts.items():
            if record < len(counts) and counts[record]:
                found[severity] = counts[record]
        return found


def counted(row: RecordRow, counts: FindingCounts) -> RecordRow:
    """The row with its findings counted by severity."""
    found = counts.get((row.file, row.record), {})
    return row if row.findings == found else replace(row, findings=found)


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
    records = RecordRows.stored(checked.records, files) if checked.records is not None else None
    return ReportData(findings, checked.summary, problems, files, options, records, read_lines)
