"""The progress bar: bytes, records/s and MB/s in a terminal after a short
delay; nothing at all when stderr is not a terminal, in CI, or for short runs."""

from __future__ import annotations

import io

import pytest
from conftest import REAL
from rich.console import Console
from rich.text import Text

from cnilint import progress as progress_module
from cnilint.cli import main
from cnilint.progress import RunProgress, progress_wanted


class _Log:
    """A log being read, as the bar sees it."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.bytes_read = 0


def _terminal() -> tuple[Console, io.StringIO]:
    stream = io.StringIO()
    return Console(file=stream, force_terminal=True, width=150), stream


def test_a_terminal_shows_bytes_records_and_rates() -> None:
    console, stream = _terminal()
    assert progress_wanted(console, environ={})
    log = _Log(4_000_000)
    with RunProgress(console, log.size, enabled=True, delay=0) as bar:
        bar.add_log(log)
        for _ in range(1000):
            log.bytes_read += 2000
            bar.advance()
        assert bar.bytes_read() == 2_000_000
        bar.log_done(log)
        assert bar.bytes_read() == 4_000_000
    shown = Text.from_ansi(stream.getvalue()).plain
    assert "checking" in shown and "1,000 records" in shown and "records 0/s" not in shown
    assert "4.0/4.0 MB" in shown and "B/s" in shown  # bytes read of the total, and their rate


def test_a_short_run_shows_nothing() -> None:
    console, stream = _terminal()
    with RunProgress(console, 1000, enabled=True, delay=60) as bar:
        for _ in range(1000):
            bar.advance()
    assert stream.getvalue() == ""


@pytest.mark.parametrize(
    ("environ", "terminal"),
    [
        ({}, False),  # a file or a pipe
        ({"CI": "true"}, True),  # a CI log, even through a pseudo-terminal
        ({"FORCE_COLOR": "1"}, False),  # colours asked for a log, not a live display
        ({"TTY_COMPATIBLE": "1"}, False),
    ],
)
def test_no_bar_outside_a_terminal(environ, terminal) -> None:
    console = Console(file=io.StringIO(), force_terminal=True if terminal else None, _environ=environ)
    assert not progress_wanted(console, environ=environ)


def test_the_cli_writes_nothing_on_stderr_when_it_is_not_a_terminal(capsys, monkeypatch) -> None:
    monkeypatch.setattr(progress_module, "DELAY", 0.0)  # long enough: it would show if it were wanted
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    code = main(["check", str(REAL / "07-errors"), "--format", "json", "--jobs", "2"])
    captured = capsys.readouterr()
    assert code == 1 and captured.err == "" and captured.out.startswith("{")


def test_the_cli_shows_the_bar_on_a_terminal_and_erases_it(capsys, monkeypatch) -> None:
    monkeypatch.setattr(progress_module, "DELAY", 0.0)
    monkeypatch.setattr("cnilint.checker.progress_wanted", lambda console: True)
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich writes a live display to the captured stderr
    code = main(["check", str(REAL / "07-errors"), "--format", "json"])
    captured = capsys.readouterr()
    assert code == 1 and captured.out.startswith("{")
    assert "checking" in captured.err and "records" in captured.err
    assert captured.err.endswith("\x1b[1A\x1b[2K")  # erased at the end: up a line, clear it (transient)


def test_a_reader_counts_the_bytes_of_its_file_up_to_its_size() -> None:
    from conftest import REAL

    from cnilint.parse import parse

    log = REAL / "07-errors" / "bridge"
    reader = parse(log)
    assert reader.bytes_read == 0
    records = list(reader)
    assert records and reader.bytes_read == log.stat().st_size
