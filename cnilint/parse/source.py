"""Opening logs: the one place the parser touches files and streams."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from cnilint.parse.reader import LogReader

ENCODING = "utf-8"


def _lines(stream: IO[str]) -> Iterator[str]:
    try:
        yield from stream
    finally:
        stream.close()


def open_text(path: str | os.PathLike[str]) -> IO[str]:
    # newline="\n": lines end at LF only and keep their terminator untouched,
    # so bodies are rebuilt byte for byte (a CR stays part of the text).
    return open(path, encoding=ENCODING, errors="replace", newline="\n")


def parse(
    source: str | os.PathLike[str] | IO[str] | IO[bytes],
    *,
    plugin: str | None = None,
    name: str | None = None,
) -> LogReader:
    """Records of one wrapper log, streamed one at a time.

    `source` is a path or an open stream (text or binary). The plugin is the
    log's file name unless `plugin` is given; `name` overrides the file name
    shown in records (streams default to "<stdin>"). Opening errors (missing
    file, permissions) are raised here, before any record is read.
    """
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        stream: IO[str] = open_text(path)
        file = name or str(source)
        plugin = plugin if plugin is not None else path.name
    else:
        if isinstance(source, (io.RawIOBase, io.BufferedIOBase)) or "b" in getattr(source, "mode", ""):
            stream = io.TextIOWrapper(source, encoding=ENCODING, errors="replace", newline="\n")  # type: ignore[arg-type]
        else:
            stream = source  # type: ignore[assignment]
        file = name or getattr(source, "name", None) or "<stdin>"
        if not isinstance(file, str):
            file = "<stdin>"
    return LogReader(_lines(stream), file=file, plugin=plugin)
