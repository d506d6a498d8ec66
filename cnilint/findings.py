"""A finding: one rule broken by one record, located to the exact log line."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
        }
