"""Turn command-line PATH arguments into logs to read (the CLI's I/O edge)."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cnilint.parse import LogReader, parse

STDIN = "-"


class InputError(Exception):
    """A PATH the user gave that cannot be read; the message is one line."""


@dataclass(frozen=True, slots=True)
class LogInput:
    name: str  # as shown in output
    path: Path | None  # None for stdin
    plugin: str | None

    def open(self) -> LogReader:
        try:
            if self.path is None:
                return parse(sys.stdin, plugin=self.plugin, name=self.name)
            return parse(self.path, plugin=self.plugin, name=self.name)
        except OSError as exc:
            raise InputError(f"{self.name}: {exc.strerror or exc}") from None


def _walk(directory: Path) -> Iterator[Path]:
    """Regular files under a directory, sorted, hidden entries skipped.
    Symlinked directories are not followed (no loops)."""
    for root, dirs, files in os.walk(directory, onerror=None, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for filename in sorted(files):
            path = Path(root) / filename
            if not filename.startswith(".") and path.is_file():
                yield path


def expand(paths: list[str], *, plugin: str | None = None) -> Iterator[LogInput]:
    """Logs named by PATH arguments: files, directories (recursively, plugin
    from each file name) and `-` for stdin (plugin from --plugin)."""
    for raw in paths:
        if raw == STDIN:
            yield LogInput("<stdin>", None, plugin)
            continue
        path = Path(raw)
        if path.is_dir():
            for found in _walk(path):
                yield LogInput(str(found), found, plugin if plugin is not None else found.name)
        elif path.exists():
            yield LogInput(raw, path, plugin if plugin is not None else path.name)
        else:
            raise InputError(f"{raw}: no such file or directory")
