"""Network configuration lists given with --conflist (files or folders like /etc/cni/net.d)."""

from __future__ import annotations

import json
from dataclasses import dataclass
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
