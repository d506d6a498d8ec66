"""Baselines: the known findings of captured logs, so CI fails only on new ones.

`--write-baseline FILE` records every reported finding as an entry keyed by
(rule, file, fingerprint) with how many times it occurs; `--baseline FILE`
suppresses up to that many findings per key and reports the entries no longer
found (stale). The fingerprint (`cnilint.findings.fingerprint`) leaves out line
numbers, container IDs, netns, dates and the runtime-generated config keys, so
a re-captured log still matches; the count makes one more occurrence of a known
problem a new finding. Files are matched as given on the command line.

The file is JSON, sorted and stable so that refreshing it gives a small diff:

    {"cnilint-baseline": 1, "entries": [{"file": ..., "rule": ..., "fingerprint": ...,
      "count": 2, "line": 57, "message": ...}, ...]}

`line` and `message` are those of the first occurrence: a hint for people,
never used for matching.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

from cnilint.findings import Finding, FindingList
from cnilint.reports.data import ReportData
from cnilint.summary import Summary

VERSION = 1
MARKER = "cnilint-baseline"  # the version key: says what the file is
STDIN = "<stdin>"

Key = tuple[str, str, str]  # (rule, file, fingerprint)
Writer = Callable[[ReportData, TextIO], None]


class BaselineError(Exception):
    """A baseline file that cannot be read, parsed or written; the message is one line."""


@dataclass(frozen=True)
class Entry:
    rule: str
    file: str
    fingerprint: str
    count: int
    line: int | None = None  # hint: the first occurrence's line when written
    message: str = ""  # hint: the first occurrence's message

    @property
    def key(self) -> Key:
        return key_of(self.rule, self.file, self.fingerprint)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "rule": self.rule,
            "fingerprint": self.fingerprint,
            "count": self.count,
            "line": self.line,
            "message": self.message,
        }


def normal_file(file: str) -> str:
    # `./captures/bridge` and `captures/bridge` name the same file; nothing more
    # is resolved (a path is matched as given, relative to where cnilint runs).
    return file if file == STDIN else os.path.normpath(file)


def key_of(rule: str, file: str, fingerprint: str) -> Key:
    return rule, normal_file(file), fingerprint


def finding_key(finding: Finding) -> Key:
    return key_of(finding.rule, finding.file, finding.fingerprint)


def entries(findings: Iterable[Finding]) -> list[Entry]:
    """One entry per key, with its count and its first occurrence as the hint; sorted."""
    counts: Counter[Key] = Counter()
    first: dict[Key, Finding] = {}
    for finding in findings:
        key = finding_key(finding)
        counts[key] += 1
        first.setdefault(key, finding)
    found = [Entry(*key, count, first[key].line, first[key].message) for key, count in counts.items()]
    return sorted(found, key=lambda entry: (entry.file, entry.rule, entry.fingerprint))


def dumps(findings: Iterable[Finding]) -> str:
    document = {MARKER: VERSION, "entries": [entry.to_dict() for entry in entries(findings)]}
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def save(findings: Iterable[Finding], path: str) -> None:
    """Write the findings as a baseline (`--write-baseline`)."""
    text = dumps(findings)
    try:
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    except OSError as exc:
        raise BaselineError(f"{path}: cannot write the baseline: {exc.strerror or exc}") from None


def load(path: str) -> dict[Key, Entry]:
    """The entries of a baseline file by key (`--baseline`); BaselineError if it is not one."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise BaselineError(f"{path}: cannot read the baseline: {reason}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path}: not a cnilint baseline: invalid JSON at line {exc.lineno}: {exc.msg}") from None
    if not isinstance(document, dict) or MARKER not in document:
        raise BaselineError(f'{path}: not a cnilint baseline (no "{MARKER}" key; write one with --write-baseline)')
    if document[MARKER] != VERSION:
        raise BaselineError(
            f"{path}: baseline format {document[MARKER]!r} is not supported (this cnilint reads {VERSION})"
        )
    raw_entries = document.get("entries")
    if not isinstance(raw_entries, list):
        raise BaselineError(f'{path}: not a cnilint baseline: "entries" must be a list')
    known: dict[Key, Entry] = {}
    for index, raw in enumerate(raw_entries):
        entry = _entry(raw, f"{path}: entry {index}")
        if entry.key in known:  # a hand-merged file: the counts add up
            entry = replace(known[entry.key], count=known[entry.key].count + entry.count)
        known[entry.key] = entry
    return known


def _entry(raw: Any, where: str) -> Entry:
    if not isinstance(raw, dict):
        raise BaselineError(f"{where}: must be an object")
    for name in ("rule", "file", "fingerprint"):
        if not isinstance(raw.get(name), str) or not raw[name]:
            raise BaselineError(f"{where}: {name!r} must be a non-empty string")
    count = raw.get("count", 1)
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise BaselineError(f"{where}: 'count' must be a positive integer")
    line = raw.get("line")
    return Entry(
        rule=raw["rule"],
        file=raw["file"],
        fingerprint=raw["fingerprint"],
        count=count,
        line=line if isinstance(line, int) and not isinstance(line, bool) else None,
        message=str(raw.get("message") or ""),
    )


def apply(data: ReportData, known: dict[Key, Entry]) -> None:
    """Drop the known findings from `data` (up to each entry's count, first ones
    first), recount the summary (the records count theirs from the findings),
    and fill `data.baseline`. The findings stay where they are kept: each pass
    over `data.findings` drops the known ones again."""
    counts = {key: entry.count for key, entry in known.items()}
    findings = data.findings
    files = data.files

    def kept(left: dict[Key, int], found: Iterable[Finding]) -> Iterator[Finding]:
        for finding in found:
            key = finding_key(finding)
            if left.get(key, 0) > 0:
                left[key] -= 1
            else:
                yield finding

    def kept_of(file: str) -> Iterator[Finding]:
        # Keys hold the normalised file: only files with the same one share counts.
        left = dict(counts)
        for other in files:
            if normal_file(other) == normal_file(file):
                found = kept(left, findings.of_file(other))
                if other == file:
                    yield from found
                    return
                for _ in found:
                    pass

    left = dict(counts)  # what is left of each entry after a pass over every file, in order
    summary, remaining = _recount(data, lambda file: kept(left, findings.of_file(file)))
    data.summary = summary
    data.findings = FindingList(lambda: kept(dict(counts), findings), remaining, kept_of)
    checked = {normal_file(file) for file in data.files}
    stale = [
        {**known[key].to_dict(), "count": count, "recorded": known[key].count}
        for key, count in left.items()
        if count > 0 and data.options.enabled(known[key].rule) and _judged(known[key].file, checked)
    ]
    stale.sort(key=lambda entry: (entry["file"], entry["rule"], entry["fingerprint"]))
    data.baseline = {"suppressed": len(findings) - remaining, "stale": stale}


def _judged(file: str, checked: set[str]) -> bool:
    """An entry can be stale only if its file was checked in this run, or is gone:
    a pre-commit hook checks just the changed logs, the others are not stale
    (nor are the entries of rules this run does not select)."""
    normal = normal_file(file)
    return normal in checked or (normal != STDIN and not Path(normal).exists())


def _recount(data: ReportData, kept_of: Callable[[str], Iterable[Finding]]) -> tuple[Summary, int]:
    """The summary's finding counts after suppression (the other counts stand),
    and how many findings are kept; a file at a time (its records with findings
    before and after), in the files' order."""
    summary = data.summary
    by_severity: Counter[str] = Counter()
    by_rule: Counter[str] = Counter()
    remaining = cleared = 0  # cleared: records whose every finding was known
    for file in dict.fromkeys(data.files):
        before = {finding.record for finding in data.findings.of_file(file)}
        after = set()
        for finding in kept_of(file):
            by_severity[finding.severity] += 1
            by_rule[finding.rule] += 1
            after.add(finding.record)
            remaining += 1
        cleared += len(before - after)
    summary = replace(
        summary,
        by_severity=by_severity,
        by_rule=by_rule,
        records_valid=summary.records_valid + cleared,
        records_with_findings=summary.records_with_findings - cleared,
    )
    return summary, remaining


def stale_lines(info: dict[str, Any]) -> list[str]:
    """One line per stale entry, for the text formats."""
    return [
        f"{entry['file']}: [baseline] stale: {entry['rule']} no longer found "
        f"({entry['count']} of {entry['recorded']}): {entry['message']} (recorded at line {entry['line']})"
        for entry in info.get("stale", ())
    ]


def with_stale_lines(fmt: str, writer: Writer) -> Writer:
    """`writer`, followed in the text formats (rich, concise) by the baseline's
    outcome and a line per stale entry; the JSON format carries `data.baseline`."""
    if fmt not in ("rich", "concise"):
        return writer

    def write(data: ReportData, out: TextIO) -> None:
        writer(data, out)
        if not data.baseline:
            return
        if fmt == "concise":  # rich already ends with this count
            stale = len(data.baseline["stale"])
            entries = "entry" if stale == 1 else "entries"
            out.write(
                f"Baseline: {data.baseline['suppressed']} known findings suppressed"
                + (f", {stale} baseline {entries} no longer found (stale)" if stale else "")
                + ".\n"
            )
        for line in stale_lines(data.baseline):
            out.write(line + "\n")

    return write
