"""Reading the one-line fields of a record: dates, and what the cnilint
wrapper adds after OUTPUT (exit code, stderr, invocation id, times). Shared by
the grammar path (reader), the fast path (fast) and recovery (recover)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cnilint.parse.dates import parse_date
from cnilint.parse.records import Problem

MISSING_TIME = "-"  # the wrapper writes `Monotonic: - -` where /proc/uptime cannot be read


def read_date(value: str, prefix: str, line: int, problems: list[Problem]) -> tuple[str, datetime | None]:
    """The raw date of a date line (after `prefix`) and its datetime; a date
    that cannot be read is a problem of the record."""
    raw = value[len(prefix) :].strip() if prefix else value
    raw = raw.strip("\x00")  # zeros a crash left before the line (reported as NUL bytes)
    moment = parse_date(raw)
    if moment is None:
        problems.append(Problem(line, f"cannot read the date {raw!r}"))
    return raw, moment


def echoed_body(text: str) -> str:
    """The wrapper ends each body with one newline that is not part of it
    (classic: `echo ""` after stdin, `echo "$output"`; cnilint: always one)."""
    return text[:-1] if text.endswith("\n") else text


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the cnilint wrapper logs beyond the classic blocks."""

    exit_code: int | None = None
    stderr: str | None = None
    invocation: str | None = None
    duration_ms: float | None = None


def _value(content: str) -> str:
    return content.partition(":")[2].strip()


def _times(content: str, line: int, what: str, problems: list[Problem]) -> tuple[float, float] | None:
    fields = _value(content).split()
    if fields == [MISSING_TIME, MISSING_TIME]:
        return None
    try:
        start, end = (float(field) for field in fields)
    except ValueError:
        problems.append(Problem(line, f"cannot read the {what} times {_value(content)!r}"))
        return None
    return start, end


def read_outcome(
    stderr: str | None,
    exit_code: tuple[str, int],
    invocation: tuple[str, int],
    monotonic: tuple[str, int],
    wall_clock: tuple[str, int],
    problems: list[Problem],
) -> Outcome:
    """The outcome block from its lines ((content, line) pairs); `stderr` is the
    STDERR block's text as logged (None when empty)."""
    code: int | None
    try:
        code = int(_value(exit_code[0]))
    except ValueError:
        code = None
        problems.append(Problem(exit_code[1], f"cannot read the exit code {_value(exit_code[0])!r}"))
    steady = _times(monotonic[0], monotonic[1], "monotonic", problems)
    wall = _times(wall_clock[0], wall_clock[1], "wall clock", problems)
    duration = None
    if wall is not None and wall[1] >= wall[0]:  # microseconds, unless the clock was set back meanwhile
        duration = round((wall[1] - wall[0]) * 1000, 3)
    elif steady is not None:
        duration = round((steady[1] - steady[0]) * 1000, 3)
    return Outcome(
        exit_code=code,
        stderr=echoed_body(stderr or ""),
        invocation=_value(invocation[0]) or None,
        duration_ms=duration,
    )
