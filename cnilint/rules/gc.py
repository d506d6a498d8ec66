"""GC (1.1.0): its output, the valid-attachments list, and GC on older configurations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cnilint.facts import CONFIG, OUTPUT, OUTPUT_LOGGED, SUCCEEDED, Facts
from cnilint.rules import Violation, in_input, in_output, rule, show
from cnilint.rules.chk_output import printed_non_error
from cnilint.rules.env import CONTAINER_ID, ifname_problem

# spec-v1.1.0's text names the key "cni.dev/attachments"; HEAD, libcni and the
# plugins use "cni.dev/valid-attachments" (libcni sends both).
VALID_ATTACHMENTS = "cni.dev/valid-attachments"
ATTACHMENTS = "cni.dev/attachments"
ATTACHMENT_KEYS = (VALID_ATTACHMENTS, ATTACHMENTS)


def _attachment_lists(facts: Facts) -> Iterator[tuple[str, list[Any]]]:
    config = facts.config or {}
    for key in ATTACHMENT_KEYS:
        value = config.get(key)
        if isinstance(value, list):
            yield key, value


@rule("GC001", needs=OUTPUT)
def gc_prints_nothing_or_an_error(facts: Facts) -> Iterator[Violation]:
    printed = printed_non_error(facts)
    if printed is not None:
        yield in_output((), f"GC printed {printed}; it must print nothing or an error object")


@rule("GC002", needs=CONFIG, input_only=True, reads_prev_result=False)
def gc_carries_valid_attachments(facts: Facts) -> Iterator[Violation]:
    config = facts.config
    if config is None:
        return  # INPUT that is not a JSON object is CONF001's
    present = [key for key in ATTACHMENT_KEYS if key in config]
    if not present:
        yield in_input((), f"GC INPUT has neither {show(VALID_ATTACHMENTS)} nor {show(ATTACHMENTS)}")
    for key in present:
        if not isinstance(config[key], list):
            yield in_input((key,), f"GC INPUT {key} is {show(config[key])}, not a list of attachments")


@rule("GC003", needs=CONFIG, input_only=True, reads_prev_result=False)
def attachment_entries_are_well_formed(facts: Facts) -> Iterator[Violation]:
    for key, entries in _attachment_lists(facts):
        for index, entry in enumerate(entries):
            if not isinstance(entry, dict):
                yield in_input((key, index), f"{key}[{index}] {show(entry)} is not an object")
                continue
            yield from _entry_problems(key, index, entry)


def _entry_problems(key: str, index: int, entry: dict[str, Any]) -> Iterator[Violation]:
    container_id = entry.get("containerID")
    if not isinstance(container_id, str):
        found = f"is {show(container_id)}" if "containerID" in entry else "is missing"
        yield in_input((key, index), f"{key}[{index}].containerID {found} (keys: {', '.join(entry) or 'none'})")
    elif not CONTAINER_ID.fullmatch(container_id):
        yield in_input(
            (key, index, "containerID"),
            f"{key}[{index}].containerID {show(container_id)} is not a valid container ID",
        )
    ifname = entry.get("ifname")
    if not isinstance(ifname, str):
        found = f"is {show(ifname)}" if "ifname" in entry else "is missing"
        yield in_input((key, index), f"{key}[{index}].ifname {found} (keys: {', '.join(entry) or 'none'})")
    else:
        problem = "is empty" if not ifname else ifname_problem(ifname)
        if problem is not None:
            yield in_input((key, index, "ifname"), f"{key}[{index}].ifname {problem}")


def _pairs(entries: list[Any]) -> set[tuple[Any, Any]]:
    return {
        (entry.get("containerID"), entry.get("ifname"))
        for entry in entries
        if isinstance(entry, dict)
        and isinstance(entry.get("containerID"), str)
        and isinstance(entry.get("ifname"), str)
    }


@rule("GC004", needs=CONFIG, input_only=True, reads_prev_result=False)
def attachment_keys_agree(facts: Facts) -> Iterator[Violation]:
    lists = dict(_attachment_lists(facts))
    if len(lists) < 2:
        return
    # Order does not matter: the SPEC's list is a set of still-valid attachments.
    valid, spec = _pairs(lists[VALID_ATTACHMENTS]), _pairs(lists[ATTACHMENTS])
    if valid != spec:
        yield in_input(
            (ATTACHMENTS,),
            f"{ATTACHMENTS} and {VALID_ATTACHMENTS} differ: {_describe(valid - spec)} only in {VALID_ATTACHMENTS}, "
            f"{_describe(spec - valid)} only in {ATTACHMENTS}",
        )


def _describe(pairs: set[tuple[Any, Any]]) -> str:
    if not pairs:
        return "nothing"
    container_id, ifname = min(pairs)
    first = f"{container_id[:12]}/{ifname}"
    return first if len(pairs) == 1 else f"{len(pairs)} attachments ({first}, …)"


@rule("GC005", needs=OUTPUT_LOGGED | SUCCEEDED)
def gc_below_110_fails(facts: Facts) -> Iterator[Violation]:
    # GC exists from 1.1.0; libcni's skel refuses an older config (code 1). Any
    # failure will do: older plugins do not know GC and fail with code 3 or 4.
    if facts.record.output is not None and not facts.failed:
        yield in_output((), f"GC with cniVersion {show(facts.version_label)} succeeded; it must fail")
