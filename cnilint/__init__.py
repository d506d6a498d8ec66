"""cnilint: parse and check the logs of CNI plugin logging wrappers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING

from cnilint.parse import Body, Problem, Record, parse

if TYPE_CHECKING:
    from cnilint.findings import Finding
    from cnilint.options import Options

__version__ = "0.1.0"


def check(
    source: str | os.PathLike[str] | IO[str] | IO[bytes],
    *,
    options: Options | None = None,
    plugin: str | None = None,
) -> Iterator[Finding]:
    """Findings of every record of one log, in log order (see cnilint.options.Options)."""
    from cnilint.engine import Engine

    engine = Engine(options)
    for result in engine.check(parse(source, plugin=plugin)):
        yield from result.findings


__all__ = ["Body", "Problem", "Record", "__version__", "check", "parse"]
