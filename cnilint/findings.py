"""A finding: one rule broken by one record, located to the exact log line."""

from __future__ import annotations

import hashlib
import heapq
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from cnilint.spill import Run, SpillFile


@dataclass(frozen=True, slots=True)
class Related:
    file: str
    line: int
    record: int

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "record": self.record}


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: str  # after version and profile
    title: str
    message: str
    file: str
    line: int
    record: int  # 0-based index of the record in its file
    document: str  # "env", "input", "output" or "record"
    path: str  # "$.ips[0].interface", "CNI_IFNAME" or ""
    url: str
    plugin: str | None
    command: str | None
    version: str  # the record's spec version
    deviation: str | None = None  # set when the profile lowered the severity
    related: tuple[Related, ...] = field(default=())
    fingerprint: str = ""  # stable across re-captures: rule, path and the record's content, not its line

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "title": self.title,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "record": self.record,
            "document": self.document,
            "path": self.path,
            "url": self.url,
            "plugin": self.plugin,
            "command": self.command,
            "version": self.version,
            "deviation": self.deviation,
            "related": [item.to_dict() for item in self.related],
            "fingerprint": self.fingerprint,
        }


# Keys of a configuration that change from one capture to the next (runtime state).
_VOLATILE_KEYS = frozenset({"prevResult", "runtimeConfig", "args", "cni.dev/valid-attachments", "cni.dev/attachments"})


def config_text(config: Any) -> str:
    """The part of a configuration a fingerprint hashes, as JSON text: less its
    runtime-generated keys (null when INPUT is not an object)."""
    stable = {k: v for k, v in config.items() if k not in _VOLATILE_KEYS} if isinstance(config, dict) else None
    return json.dumps(stable, sort_keys=True, default=str)


def fingerprint(rule: str, path: str, plugin: str | None, command: str | None, config: Any, version: str) -> str:
    """What identifies a finding when the log is captured again: the rule, where in
    the document, and the record's plugin, command, version and configuration
    (less its runtime-generated keys); never line numbers, container IDs or times."""
    return fingerprint_from(rule, path, plugin, command, version, config_text(config))


def fingerprint_from(
    rule: str, path: str, plugin: str | None, command: str | None, version: str, configuration: str
) -> str:
    """`fingerprint` with the configuration already as `config_text` (worked
    out once per record, not once per finding). The hashed text is
    json.dumps([rule, path, plugin, command, version, stable], sort_keys=True)."""
    head = json.dumps([rule, path, plugin, command, version])
    text = f"{head[:-1]}, {configuration}]"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


class StringPool:
    """One object for equal strings: a log of a million records repeats the same
    messages, paths and fingerprints in its findings, all kept until the report."""

    MAX_STRINGS = 100_000  # bounded: past it, start again (sharing is only a saving)

    def __init__(self) -> None:
        self._strings: dict[str, str] = {}

    def share(self, text: str | None) -> str | None:
        if text is None:
            return None
        known = self._strings.setdefault(text, text)
        if len(self._strings) > self.MAX_STRINGS:
            self._strings = {}
        return known

    def finding(self, finding: Finding) -> Finding:
        """The finding with its strings shared (for findings unpickled from a worker)."""
        share = self.share
        return replace(
            finding,
            message=share(finding.message),
            path=share(finding.path),
            command=share(finding.command),
            version=share(finding.version),
            fingerprint=share(finding.fingerprint),
            title=share(finding.title),
            url=share(finding.url),
            plugin=share(finding.plugin),
            file=share(finding.file),
        )


SPILL_AFTER = 50_000  # findings a check holds in memory; past it they go to a temporary file


def _order(finding: Finding) -> tuple[int, str]:
    return finding.line, finding.rule


class FindingStore:
    """The findings of a check by file, read back sorted by (line, rule), equal ones in the order
    they were added. Past `limit` findings held (SPILL_AFTER), each file's are sorted and pickled to
    an anonymous temporary file as one run; reading merges the runs with what is still held, so a
    check's memory does not grow with its findings (a log of a million calls can have a million)."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = SPILL_AFTER if limit is None else limit
        self._held: dict[str, list[Finding]] = {}  # files in the order first seen
        self._runs: dict[str, list[Run]] = {}
        self._spill = SpillFile()
        self._holding = 0
        self._counts: dict[str, int] = {}

    def __len__(self) -> int:
        return sum(self._counts.values())

    def count(self, file: str) -> int:
        return self._counts.get(file, 0)

    def files(self) -> list[str]:
        return list(self._held)

    def add(self, file: str, findings: Iterable[Finding]) -> None:
        bucket = self._held.get(file)
        if bucket is None:
            bucket = self._held[file] = []
        before = len(bucket)
        bucket.extend(findings)
        added = len(bucket) - before
        self._counts[file] = self._counts.get(file, 0) + added
        self._holding += added
        if self._holding > self.limit:
            self._write_runs()

    def _write_runs(self) -> None:
        for file, bucket in self._held.items():
            if bucket:
                bucket.sort(key=_order)
                self._runs.setdefault(file, []).append(self._spill.write(bucket))
                bucket.clear()
        self._holding = 0

    def of(self, file: str) -> Iterator[Finding]:
        """The file's findings, sorted."""
        bucket = self._held.get(file, [])
        bucket.sort(key=_order)  # stable, and quick when already sorted
        runs = self._runs.get(file)
        if not runs:
            return iter(bucket)
        return heapq.merge(*(self._spill.read(run) for run in runs), bucket, key=_order)  # stable: runs in order

    def __iter__(self) -> Iterator[Finding]:
        for file in self.files():
            yield from self.of(file)

    def close(self) -> None:
        self._spill.close()


class FindingList:
    """A report's findings, read again on each pass from where they are kept (a FindingStore, maybe
    on disk): a report, the exit code and a baseline each pass over them without holding them all.
    `map` gives a view whose findings are transformed as they are read. Indexing (the HTML report)
    holds them all."""

    def __init__(
        self,
        source: Callable[[], Iterator[Finding]],
        count: int,
        by_file: Callable[[str], Iterator[Finding]] | None = None,
    ) -> None:
        self._source = source
        self._count = count
        self._by_file = by_file  # one file's findings without reading the others
        self._all: list[Finding] | None = None

    @classmethod
    def of(cls, findings: list[Finding]) -> FindingList:
        return cls(lambda: iter(findings), len(findings))

    def __iter__(self) -> Iterator[Finding]:
        return iter(self._all) if self._all is not None else self._source()

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __getitem__(self, index: int) -> Finding:
        if self._all is None:
            self._all = list(self._source())
        return self._all[index]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (FindingList, list, tuple)):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def of_file(self, file: str) -> Iterator[Finding]:
        by_file = self._by_file
        if by_file is not None and self._all is None:
            return by_file(file)
        return (finding for finding in self if finding.file == file)

    def map(self, function: Callable[[Finding], Finding]) -> FindingList:
        by_file = self._by_file
        return FindingList(
            lambda: map(function, self._source()),
            self._count,
            (lambda file: map(function, by_file(file))) if by_file is not None else None,
        )
