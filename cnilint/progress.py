"""A progress bar for long runs: bytes read of the inputs, records and MB per second.

On stderr, only when it is a terminal (never in CI logs or captured output),
and only once a run has lasted DELAY seconds: short runs print nothing. It is
transient: the bar is erased when the run ends, before any report is written.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.text import Text

DELAY = 1.0  # seconds before the bar appears
EVERY = 64  # records between two looks at the clock: the hot loop stays cheap
REFRESH = 0.1  # seconds between two updates of the bar


def progress_wanted(console: Console, environ: Mapping[str, str] | None = None) -> bool:
    """Whether a live bar belongs on `console`: a terminal, not a CI log."""
    environ = os.environ if environ is None else environ
    if environ.get("CI") or not console.is_terminal or console.is_dumb_terminal:
        return False
    # FORCE_COLOR and TTY_COMPATIBLE ask for colours in a log, not for a live display.
    asked_for_colours = environ.get("FORCE_COLOR") or environ.get("TTY_COMPATIBLE") == "1"
    return not (asked_for_colours and not _isatty(console.file))


def log_size(log: Any) -> int:
    """Bytes on disk of an opened log (its `size` when it says, 0 for stdin)."""
    size = getattr(log, "size", None)
    if size is not None:
        return size
    try:
        return os.stat(log.file).st_size if log.file != "<stdin>" else 0
    except OSError:
        return 0


def _isatty(file: Any) -> bool:
    try:
        return bool(file.isatty())
    except (AttributeError, ValueError):
        return False


class _RecordsColumn(ProgressColumn):
    """`12,345 records 4,321/s`."""

    def render(self, task: Task) -> Text:
        records = task.fields.get("records", 0)
        elapsed = task.elapsed or 0.0
        rate = f" {records / elapsed:,.0f}/s" if elapsed > 0 else ""
        return Text(f"{records:,} records{rate}", style="progress.data.speed")


class RunProgress:
    """Counts records and the bytes of the logs read, and shows them once the run is long.

    `total` is the bytes of every input (0 when unknown: stdin). Logs are
    announced with `add_log` when opened and `log_done` when exhausted; a log's
    bytes read are its `bytes_read` while it is read, when it has one (a
    LogReader, a log read by a worker), then its size. With `enabled=False`
    every call only counts (the caller decides with `progress_wanted`).
    """

    def __init__(
        self,
        console: Console | None,
        total: int,
        *,
        enabled: bool,
        description: str = "checking",
        delay: float | None = None,
    ) -> None:
        self.console = console
        self.enabled = enabled and console is not None
        self.records = 0
        self._active: dict[int, tuple[Any, int]] = {}  # id -> (log being read, its size)
        self._done_bytes = 0
        self._total = total or None
        self._description = description
        self._delay = DELAY if delay is None else delay
        self._start = time.monotonic()
        self._next_look = EVERY
        self._last_update = 0.0
        self._bar: Progress | None = None
        self._task: Any = None

    def __enter__(self) -> RunProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def advance(self, records: int = 1) -> None:
        self.records += records
        if self.records >= self._next_look and self.enabled:
            self._next_look = self.records + EVERY
            self._update()

    def add_log(self, log: Any) -> None:
        self._active[id(log)] = (log, log_size(log))

    def log_done(self, log: Any) -> None:
        entry = self._active.pop(id(log), None)
        self._done_bytes += entry[1] if entry is not None else log_size(log)
        if self.enabled:
            self._update()

    def bytes_read(self) -> int:
        total = self._done_bytes
        for log, size in self._active.values():
            read = getattr(log, "bytes_read", None)
            if read is not None:
                total += min(read, size)
        return total

    def _update(self) -> None:
        now = time.monotonic()
        if self._bar is None:
            if now - self._start < self._delay:
                return
            self._show()
        elif now - self._last_update < REFRESH:
            return
        self._last_update = now
        self._bar.update(self._task, completed=self.bytes_read(), records=self.records)  # type: ignore[union-attr]

    def _show(self) -> None:
        self._bar = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            _RecordsColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
            redirect_stdout=False,  # reports go to stdout untouched
            redirect_stderr=False,
        )
        # Added unstarted, then started at the run's start: the rates cover the whole run.
        self._task = self._bar.add_task(self._description, total=self._total, records=self.records, start=False)
        self._bar.tasks[0].start_time = self._start
        self._bar.start()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=self.bytes_read(), records=self.records)
            self._bar.stop()
            self._bar = None
