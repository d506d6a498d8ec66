"""Turn command-line PATH arguments into logs to read (the CLI's I/O edge)."""

from __future__ import annotations

import argparse
import os
import re
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cnilint.parse import LogReader, parse
from cnilint.parse.source import DEFAULT_MAX_RECORD_BYTES, plugin_name

STDIN = "-"
_UNITS = {"": 1, "k": 1000, "kb": 1000, "kib": 1024, "m": 1000**2, "mb": 1000**2, "mib": 1024**2, "g": 1000**3}
_UNITS |= {"gb": 1000**3, "gib": 1024**3}
_SIZE = re.compile(r"\s*(\d+)\s*([a-z]*)\s*", re.IGNORECASE)


class InputError(Exception):
    """A PATH the user gave that cannot be read; the message is one line."""


def byte_size(text: str) -> int:
    """`--max-record-bytes` values: 16777216, 500k, 16MiB, 1GB."""
    match = _SIZE.fullmatch(text)
    unit = _UNITS.get(match.group(2).lower()) if match else None
    if match is None or unit is None or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"expected a size like 16MiB, 500k or 1000000, got {text!r}")
    return int(match.group(1)) * unit


@dataclass(frozen=True, slots=True)
class LogInput:
    name: str  # as shown in output
    path: Path | None  # None for stdin
    plugin: str | None
    error: str | None = None  # why it cannot be read, found while listing its directory

    def open(self, max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES) -> LogReader:
        if self.error is not None:
            raise InputError(f"{self.name}: {self.error}")
        try:
            if self.path is None:
                stream = getattr(sys.stdin, "buffer", sys.stdin)  # bytes: gzip on stdin works too
                return parse(stream, plugin=self.plugin, name=self.name, max_record_bytes=max_record_bytes)
            return parse(self.path, plugin=self.plugin, name=self.name, max_record_bytes=max_record_bytes)
        except OSError as exc:
            raise InputError(f"{self.name}: {exc.strerror or exc}") from None


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _listed(path: Path) -> str | None:
    """None for a regular file to read, "" for an entry to skip (FIFOs, devices
    and sockets could block or never end), else why it cannot be read."""
    try:
        mode = os.stat(path).st_mode  # follows symlinks: a loop or a dangling link fails here
    except OSError as exc:
        return _reason(exc)
    return None if stat.S_ISREG(mode) else ""


def _walk(directory: Path) -> Iterator[tuple[Path, str | None]]:
    """Regular files under a directory, sorted, hidden entries skipped, with
    why each cannot be read (or None). Symlinked directories are not followed
    (no loops); unreadable directories and files are reported, not skipped."""
    errors: list[OSError] = []
    for root, dirs, files in os.walk(directory, onerror=errors.append, followlinks=False):
        yield from ((Path(error.filename or root), _reason(error)) for error in errors)
        errors.clear()
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for filename in sorted(name for name in files if not name.startswith(".")):
            path = Path(root) / filename
            why = _listed(path)
            if why != "":
                yield path, why
    yield from ((Path(error.filename or directory), _reason(error)) for error in errors)


def expand(paths: list[str], *, plugin: str | None = None) -> Iterator[LogInput]:
    """Logs named by PATH arguments: files, directories (recursively, plugin
    from each file name without rotation suffixes) and `-` for stdin (plugin
    from --plugin)."""
    for raw in paths:
        if raw == STDIN:
            yield LogInput("<stdin>", None, plugin)
            continue
        path = Path(raw)
        try:
            os.stat(path)
        except FileNotFoundError:
            raise InputError(f"{raw}: no such file or directory") from None
        except OSError as exc:  # a symlink loop, say
            raise InputError(f"{raw}: {_reason(exc)}") from None
        if path.is_dir():
            for found, why in _walk(path):
                yield LogInput(str(found), found, plugin if plugin is not None else plugin_name(found), why)
        else:
            yield LogInput(raw, path, plugin if plugin is not None else plugin_name(path))
