"""The rules catalogue (rules.yaml, shipped unchanged): the contract of rule IDs.

Titles, severities, versions, commands and SPEC links come from here and are
never retyped in code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from cnilint.versions import Version, VersionRange

SEVERITIES = ("info", "warning", "error")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: str
    title: str
    severity: str
    severity_by_version: tuple[tuple[VersionRange, str], ...]
    versions: VersionRange
    commands: tuple[str, ...]
    source: str
    section: str
    url: str
    also: tuple[str, ...]
    reads: tuple[str, ...]
    checks: str
    example_fail: str
    needs: tuple[str, ...]
    notes: str

    @property
    def family(self) -> str:
        return self.id.rstrip("0123456789")

    @property
    def multi_record(self) -> bool:
        return bool(self.needs)

    def severity_for(self, version: Version | None) -> str:
        if version is not None:
            for versions, severity in self.severity_by_version:
                if version in versions:
                    return severity
        return self.severity

    def applies_to_command(self, command: str | None, known: tuple[str, ...]) -> bool:
        if "any" in self.commands or command in self.commands:
            return True
        # A record without a valid command still gets the rules meant for every command.
        return command not in known and set(known) <= set(self.commands)


def _info(entry: dict) -> RuleInfo:
    return RuleInfo(
        id=entry["id"],
        title=entry["title"],
        severity=entry["severity"],
        severity_by_version=tuple(
            (VersionRange.parse(versions), severity)
            for versions, severity in (entry.get("severity_by_version") or {}).items()
        ),
        versions=VersionRange.parse(entry["versions"]),
        commands=tuple(entry["commands"]),
        source=entry["source"],
        section=entry["section"],
        url=entry["url"],
        also=tuple(entry.get("also") or ()),
        reads=tuple(entry.get("reads") or ()),
        checks=entry["checks"],
        example_fail=entry["example_fail"],
        needs=tuple(entry.get("needs") or ()),
        notes=entry.get("notes") or "",
    )


@lru_cache(maxsize=1)
def catalogue() -> dict[str, RuleInfo]:
    """Every rule of the catalogue by ID, in catalogue order."""
    text = resources.files(__package__).joinpath("rules.yaml").read_text(encoding="utf-8")
    return {entry["id"]: _info(entry) for entry in _load_yaml(text)}


@lru_cache(maxsize=1)
def explanations() -> dict[str, dict[str, str]]:
    """Per rule: `why` it matters and `example_pass` (explanations.yaml)."""
    source = resources.files(__package__).joinpath("explanations.yaml")
    if not source.is_file():
        return {}
    return _load_yaml(source.read_text(encoding="utf-8")) or {}


def _load_yaml(text: str) -> Any:
    """Safe loading, with libyaml where PyYAML has it (10x faster: every run reads the catalogue)."""
    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
