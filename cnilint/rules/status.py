"""STATUS (1.1.0): how readiness and unavailability are reported (single record)."""

from __future__ import annotations

from collections.abc import Iterator

from cnilint.facts import ERROR, FAILED, OUTPUT, OUTPUT_LOGGED, SUCCEEDED, Facts
from cnilint.rules import Violation, in_output, rule, show

UNAVAILABLE_CODES = (50, 51)  # 50 not available; 51 not available, existing containers may suffer


def error_object_problem(facts: Facts) -> tuple[tuple[str, ...], str] | None:
    """(path, why) when a failed record's OUTPUT is not a well-formed error
    object: one JSON object with an unsigned integer code, a non-empty string
    msg and an optional string details (the SPEC's Error, ERR001-ERR004)."""
    output = facts.record.output
    error = facts.error
    if error is None:
        text = output.raw.strip() if output is not None else ""
        return (), f"{show(text)} is not a JSON error object"
    code = error.get("code")
    if isinstance(code, bool) or not isinstance(code, int) or code < 0:
        return ("code",), f"error code {show(code)} is not an unsigned integer"
    if "msg" not in error:
        return (), "the error has no msg"
    msg = error["msg"]
    if not isinstance(msg, str) or not msg:
        return ("msg",), f"error msg {show(msg)} is not a non-empty string"
    if "details" in error and not isinstance(error["details"], str):
        return ("details",), f"error details {show(error['details'])} is not a string"
    return None


@rule("STATUS001", needs=FAILED)
def status_failure_is_an_error_object(facts: Facts) -> Iterator[Violation]:
    # 1.1.0: a plugin that cannot serve ADD exits non-zero and prints an error on stdout.
    if not facts.failed:
        return
    problem = error_object_problem(facts)
    if problem is not None:
        path, why = problem
        yield in_output(path, f"STATUS failed but its output is not a valid error: {why}")


@rule("STATUS002", needs=OUTPUT | SUCCEEDED)
def ready_status_prints_nothing(facts: Facts) -> Iterator[Violation]:
    # 1.1.0: a ready plugin exits zero; STATUS defines no success output.
    output = facts.record.output
    if output is None or output.empty or facts.failed:
        return
    yield in_output((), f"STATUS succeeded but printed {show(output.value)}; a ready plugin prints nothing")


@rule("STATUS003", needs=ERROR)
def status_errors_use_unavailable_codes(facts: Facts) -> Iterator[Violation]:
    # A code that is not an unsigned integer at all is STATUS001's (and ERR002's).
    code = facts.error.get("code") if facts.error is not None else None
    if isinstance(code, int) and not isinstance(code, bool) and code not in UNAVAILABLE_CODES:
        yield in_output(
            ("code",),
            f"STATUS error code {show(code)} is neither 50 nor 51: "
            "the runtime cannot tell 'not ready' from a broken call",
        )


@rule("STATUS004", needs=OUTPUT_LOGGED | SUCCEEDED)
def status_below_110_fails(facts: Facts) -> Iterator[Violation]:
    # STATUS exists from 1.1.0; libcni's skel refuses an older config (code 1).
    # Any failure will do: older plugins do not know STATUS and fail with code 3 or 4.
    if facts.record.output is not None and not facts.failed:
        yield in_output((), f"STATUS with cniVersion {show(facts.version_label)} succeeded; it must fail")
