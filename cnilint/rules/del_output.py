"""DEL: what a DEL prints, and whether it may fail (single record)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from cnilint.facts import FAILED, OUTPUT, SUCCEEDED, Facts
from cnilint.rules import Violation, in_output, rule, show

TRY_AGAIN_LATER = 11  # well-known code: a transient condition, the runtime should retry


def failure_text(facts: Facts) -> str:
    """How a failed record failed, for a message: the error's code and msg,
    or the non-JSON text it printed."""
    error = facts.error
    if error is not None:
        code, msg = error.get("code"), error.get("msg")
        text = f"error code {show(code)}" + (f" {show(msg)}" if msg is not None else "")
        if code == TRY_AGAIN_LATER:
            text += " (try again later)"
        return text
    output = facts.record.output
    return f"non-JSON output {show(output.raw.strip() if output is not None else '')}"


@rule("DEL001", needs=OUTPUT | SUCCEEDED)
def successful_del_prints_nothing(facts: Facts) -> Iterator[Violation]:
    # Only ADD and VERSION define a success output; a printed DEL result is discarded.
    # Non-JSON text on DEL is a failure (record model), judged by DEL002 and ERR001.
    output = facts.record.output
    if output is None or output.empty or facts.failed:
        return
    yield in_output((), f"DEL succeeded but printed {show(output.value)}; a successful DEL prints nothing")


@rule("DEL002", needs=FAILED)
def del_succeeds(facts: Facts) -> Iterator[Violation]:
    # DEL is best effort: plugins should complete it without error even when
    # resources are already gone; a failed DEL leaks them and blocks cleanup.
    if facts.failed:
        violation = in_output(_error_path(facts), f"DEL failed with {failure_text(facts)}")
        if facts.error is not None and facts.error.get("code") == TRY_AGAIN_LATER:
            violation = replace(violation, severity="info")  # the catalogue: code 11 is still reported, as info
        yield violation


@rule("DEL003", needs=FAILED)
def del_without_netns_or_prev_result_succeeds(facts: Facts) -> Iterator[Violation]:
    # 0.4.0: without CNI_NETNS and/or prevResult a plugin should clean up what it
    # can and succeed; HEAD: tolerate an empty prevResult.
    if not facts.failed:
        return
    missing = []
    if not facts.variable("CNI_NETNS"):
        missing.append("CNI_NETNS is empty")
    if facts.config is not None and not facts.config.get("prevResult"):
        missing.append("prevResult is empty" if "prevResult" in facts.config else "there is no prevResult")
    if missing:
        yield in_output(
            _error_path(facts),
            f"DEL failed with {failure_text(facts)} although {' and '.join(missing)}: it should clean up and succeed",
        )


def _error_path(facts: Facts) -> tuple[str, ...]:
    return ("code",) if facts.error is not None and "code" in facts.error else ()
