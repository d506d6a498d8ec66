"""CHK: what a CHECK prints, and CHECK on configurations too old for it (single record)."""

from __future__ import annotations

from collections.abc import Iterator

from cnilint.facts import OUTPUT, OUTPUT_LOGGED, Facts
from cnilint.rules import Violation, in_output, rule, show

INCOMPATIBLE_VERSION = 1
# Codes libcni's skel answers before it looks at the version (environment 3/4,
# stdin 5, config decoding and validation 6/7): such a refusal says nothing
# about the plugin ignoring the version.
REFUSED_BEFORE_VERSION_CHECK = frozenset({3, 4, 5, 6, 7})


def printed_non_error(facts: Facts) -> str | None:
    """What a DEL/CHECK/GC-style command printed when it is neither nothing
    nor an error object (shared with GC001)."""
    output = facts.record.output
    if output is None or output.empty or facts.error is not None:
        return None
    return show(output.value) if output.is_json else show(output.raw.strip())


def _is_code(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@rule("CHK001", needs=OUTPUT)
def check_prints_nothing_or_an_error(facts: Facts) -> Iterator[Violation]:
    # 0.4.0: CHECK's result is nothing on success, or an error.
    printed = printed_non_error(facts)
    if printed is not None:
        yield in_output((), f"CHECK printed {printed}; it must print nothing or an error object")


@rule("CHK002", needs=OUTPUT_LOGGED)
def check_below_040_fails(facts: Facts) -> Iterator[Violation]:
    # CHECK exists from 0.4.0; libcni's skel refuses an older config with code 1.
    version = facts.version_label
    if facts.record.output is None:
        return  # the record ends before OUTPUT: the outcome is unknown
    if not facts.failed:
        yield in_output((), f"CHECK with cniVersion {show(version)} succeeded; it must fail with code 1")
        return
    code = facts.error.get("code") if facts.error is not None else None
    if _is_code(code) and code != INCOMPATIBLE_VERSION and code not in REFUSED_BEFORE_VERSION_CHECK:
        yield in_output(
            ("code",),
            f"CHECK with cniVersion {show(version)} failed with code {code} from the check itself; "
            "it must be refused with code 1 before checking",
        )
