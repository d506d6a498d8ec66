"""A finding: one rule broken by one record, located to the exact log line."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
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
