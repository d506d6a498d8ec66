"""Network configuration lists given with --conflist (files or folders like /etc/cni/net.d)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SUFFIXES = (".conflist", ".conf", ".json")


class ConflistError(ValueError):
    """A --conflist that cannot be read; the message is one line."""


@dataclass(frozen=True)
class Conflist:
    path: str
    data: dict[str, Any]  # a list ({"name", "cniVersion", "plugins": [...]}) or a single .conf as a one-plugin list

    @property
    def name(self) -> str | None:
        name = self.data.get("name")
        return name if isinstance(name, str) else None

    @property
    def plugins(self) -> list[dict[str, Any]]:
        plugins = self.data.get("plugins")
        return [p for p in plugins if isinstance(p, dict)] if isinstance(plugins, list) else []

    def plugin(self, plugin_type: str | None) -> dict[str, Any] | None:
        return next((p for p in self.plugins if p.get("type") == plugin_type), None)

    def plugins_of(self, plugin_type: str | None) -> list[dict[str, Any]]:
        """Every plugin object of one type (a list may hold a type twice)."""
        return [p for p in self.plugins if p.get("type") == plugin_type]

    @property
    def types(self) -> list[Any]:
        """The plugins' types in list order."""
        return [p.get("type") for p in self.plugins]

    def position(self, plugin_type: str | None) -> int | None:
        """Index of a type in the list; None when absent or listed more than once."""
        types = self.types
        return types.index(plugin_type) if types.count(plugin_type) == 1 else None

    @property
    def cni_version(self) -> str | None:
        version = self.data.get("cniVersion")
        return version if isinstance(version, str) and version else None

    @property
    def cni_versions(self) -> list[str] | None:
        """The list's `cniVersions` (1.1.0), None when absent or not a list of strings."""
        versions = self.data.get("cniVersions")
        if not isinstance(versions, list) or not all(isinstance(v, str) for v in versions):
            return None
        return versions

    @property
    def versions(self) -> list[str]:
        """cniVersion and cniVersions together: the versions the list may be used at."""
        found = ([self.cni_version] if self.cni_version else []) + (self.cni_versions or [])
        return list(dict.fromkeys(found))

    def disabled(self, key: str) -> bool:
        """`disableCheck`/`disableGC` as libcni reads them: JSON true, or the
        string "true" in any case (other strings make libcni refuse the file)."""
        value = self.data.get(key)
        return value is True or (isinstance(value, str) and value.lower() == "true")


@dataclass
class VersionEvidence:
    """What the logs showed so far about supported spec versions (LIST006): each
    plugin's latest VERSION reply, and the versions the runtime spoke in its
    requests. Bounded by the number of plugins and versions."""

    supported: dict[str, frozenset[str]] = field(default_factory=dict)  # log's plugin -> supportedVersions
    spoken: set[str] = field(default_factory=set)  # cniVersion of runtime-issued requests

    def add(self, call: Any) -> None:  # a cnilint.correlate.calls.Call
        if not call.runtime_issued:
            return
        facts, command = call.facts, call.command
        if command == "VERSION":
            reply = facts.result
            versions = reply.get("supportedVersions") if isinstance(reply, dict) and not facts.failed else None
            if isinstance(versions, list) and call.record.plugin is not None:
                self.supported[call.record.plugin] = frozenset(v for v in versions if isinstance(v, str))
        elif command in ("ADD", "DEL", "CHECK", "GC", "STATUS") and isinstance(facts.declared_version, str):
            self.spoken.add(facts.declared_version)


def _load(path: Path) -> Conflist:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConflistError(f"{path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ConflistError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ConflistError(f"{path}: not a JSON object")
    if "plugins" not in data and "type" in data:  # a single-plugin .conf, as libcni reads it
        single = {key: value for key, value in data.items() if key not in ("name", "cniVersion")}
        data = {"name": data.get("name"), "cniVersion": data.get("cniVersion"), "plugins": [single]}
    return Conflist(str(path), data)


def load_conflists(paths: list[str]) -> dict[str, Conflist]:
    """Network name -> its list; folders give every .conflist/.conf/.json file in them."""
    found: dict[str, Conflist] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())
        elif path.exists():
            files = [path]
        else:
            raise ConflistError(f"{raw}: no such file or directory")
        for file in files:
            conflist = _load(file)
            if conflist.name is not None:
                found.setdefault(conflist.name, conflist)  # libcni takes the first file of a name
    return found
