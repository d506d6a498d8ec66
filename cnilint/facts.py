"""What the rules need to know about a record, worked out once per record.

Definitions follow the catalogue's "Record model and shared definitions":
record version, outcome, delegated record.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cnilint.parse import Record
from cnilint.versions import COMMANDS, Version, parse_version, version_text

EMPTY_COMMANDS = ("DEL", "CHECK", "GC", "STATUS")  # commands that print nothing on success


@dataclass(frozen=True)
class Facts:
    record: Record

    @property
    def command(self) -> str | None:
        return self.record.command

    @property
    def known_command(self) -> bool:
        return self.command in COMMANDS

    @cached_property
    def config(self) -> dict[str, Any] | None:
        """INPUT when it is one JSON object."""
        body = self.record.input
        value = body.value if body is not None and body.is_json else None
        return value if isinstance(value, dict) else None

    @cached_property
    def result(self) -> Any:
        """OUTPUT's decoded JSON (any type), None when empty or not JSON."""
        body = self.record.output
        return body.value if body is not None and body.is_json else None

    @cached_property
    def declared_version(self) -> Any:
        """INPUT.cniVersion as written (any JSON type), None when absent."""
        return self.config.get("cniVersion") if self.config is not None else None

    @cached_property
    def version_text(self) -> str:
        """The record version: INPUT.cniVersion; absent or empty reads as
        0.1.0 (libcni DecodeVersion), or 0.2.0 for VERSION records."""
        declared = self.declared_version
        if declared is None or declared == "":
            return "0.2.0" if self.command == "VERSION" else "0.1.0"
        return declared if isinstance(declared, str) else str(declared)

    @cached_property
    def version(self) -> Version | None:
        """The record version as numbers; None when malformed."""
        return parse_version(self.version_text)

    @property
    def version_label(self) -> str:
        return version_text(self.version) if self.version else self.version_text

    @cached_property
    def error(self) -> dict[str, Any] | None:
        """The error object, when OUTPUT is a JSON object with `code`."""
        result = self.result
        return result if isinstance(result, dict) and "code" in result else None

    @cached_property
    def failed(self) -> bool:
        """Outcome: an error object, or for DEL/CHECK/GC/STATUS any non-empty
        OUTPUT that is not JSON."""
        if self.error is not None:
            return True
        output = self.record.output
        if self.command in EMPTY_COMMANDS and output is not None and not output.empty:
            return not output.is_json
        return False

    @cached_property
    def delegated(self) -> bool:
        """The plugin that logged the record is not INPUT.type but its IPAM type."""
        config = self.config
        if config is None or self.record.plugin is None:
            return False
        return self.record.plugin != config.get("type") and self.record.plugin == self.ipam_type

    @cached_property
    def ipam_type(self) -> str | None:
        ipam = self.config.get("ipam") if self.config is not None else None
        kind = ipam.get("type") if isinstance(ipam, dict) else None
        return kind if isinstance(kind, str) else None

    def variable(self, name: str) -> str:
        """A CNI_* variable; absent and empty are alike (as in libcni)."""
        return self.record.variable(name) or ""
