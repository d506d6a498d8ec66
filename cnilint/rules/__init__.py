"""Rules: small pure functions of one record's facts, registered by catalogue ID.

A rule yields `Violation`s: a one-line message naming the offending value and
where it is (an env variable, or a JSON path in INPUT or OUTPUT). The engine
turns them into findings with the catalogue's severity and link.

    @rule("DEL002", needs=FAILED)
    def del_succeeds(facts: Facts) -> Iterator[Violation]:
        if facts.failed:
            yield in_output(("code",), f"DEL failed with {failure_text(facts)}")

Rules the tool cannot check yet are declared with `planned(ID, reason)`.
Several rules can share one check (the JSON Schema validation of a document
owns many rule IDs): such a check is registered with `register_check`.

What a registration tells the engine (cnilint.engine), for speed; each claim
is tested on every record of the fixture logs (tests/test_engine_plans.py):
`needs` the record conditions without which the check cannot report (its own
early returns), so it is not called on other records; `input_only` it reads
only INPUT, the command and the plugin, so its violations are kept by INPUT's
text; `reads_prev_result=False` not even INPUT.prevResult's value.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from cnilint.catalogue import catalogue
from cnilint.facts import BAD_INPUT, CONFIG, DELEGATED, INPUT, INPUT_JSON, PREV_RESULT, UPPER, Facts

JsonPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Violation:
    message: str
    document: str  # "env", "input", "output" or "record"
    path: JsonPath | str = ()  # JSON path in input/output, variable name in env
    severity: str | None = None  # only where the catalogue gives a case its own severity


def in_env(name: str, message: str) -> Violation:
    return Violation(message, "env", name)


def in_input(path: Iterable[str | int], message: str) -> Violation:
    return Violation(message, "input", tuple(path))


def in_output(path: Iterable[str | int], message: str) -> Violation:
    return Violation(message, "output", tuple(path))


def in_record(message: str) -> Violation:
    return Violation(message, "record", ())


def show(value: Any, limit: int = 60) -> str:
    """A JSON value as it would appear in the log, shortened for a message."""
    import json

    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else json.dumps(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


RuleFunction = Callable[[Facts], Iterable[Violation]]
CheckFunction = Callable[[Facts], Iterable[tuple[str, Violation]]]


@dataclass(frozen=True, slots=True)
class Check:
    """One function that may report under several rule IDs.

    `run` yields (rule ID, violation). A check of one rule also keeps its
    function, which yields bare violations (`function`, `rule_id`): the engine
    calls it directly, without a wrapper per call. `needs` are the record
    conditions (cnilint.facts: CONFIG, ERROR, ...) without which the check
    cannot report; the engine does not call it on records that lack one.
    `input_only`: what it reports depends only on INPUT's text, the command
    and the plugin, so the engine may reuse its violations for every record
    that repeats them (a node sends the same configuration on every call).
    `reads_prev_result` False: nor does it depend on INPUT.prevResult's value
    (only on whether it is present and not null), so its violations also hold
    for records whose INPUT differs only there (CHECK and DEL of each container)."""

    name: str
    rule_ids: frozenset[str]
    run: CheckFunction
    needs: int = 0
    function: RuleFunction | None = None
    rule_id: str | None = None
    input_only: bool = False
    reads_prev_result: bool = True


# The conditions worked out from INPUT, the command and the plugin alone.
INPUT_CONDITIONS = INPUT | INPUT_JSON | BAD_INPUT | CONFIG | PREV_RESULT | DELEGATED | UPPER


CHECKS: list[Check] = []
PLANNED: dict[str, str] = {}


def _known(rule_id: str) -> None:
    if rule_id not in catalogue():
        raise KeyError(f"{rule_id} is not in the rules catalogue")


def _input_only_needs(name: str, needs: int, input_only: bool, reads_prev_result: bool) -> None:
    if input_only and needs & ~INPUT_CONDITIONS:
        raise ValueError(f"{name}: a check of INPUT alone cannot need conditions of OUTPUT")
    if not reads_prev_result and not input_only:
        raise ValueError(f"{name}: reads_prev_result=False is for input_only checks")


def rule(
    rule_id: str, needs: int = 0, input_only: bool = False, reads_prev_result: bool = True
) -> Callable[[RuleFunction], RuleFunction]:
    """Register a function as the check of one catalogue rule; `needs`: the
    record conditions it cannot report without (its own early returns);
    `input_only`: it reads only INPUT, the command and the plugin, and
    `reads_prev_result` False: not INPUT.prevResult's value (see Check)."""
    _known(rule_id)

    def register(function: RuleFunction) -> RuleFunction:
        def run(facts: Facts) -> Iterator[tuple[str, Violation]]:
            for violation in function(facts):
                yield rule_id, violation

        _input_only_needs(function.__name__, needs, input_only, reads_prev_result)
        check = Check(
            function.__name__, frozenset({rule_id}), run, needs, function, rule_id, input_only, reads_prev_result
        )
        CHECKS.append(check)
        return function

    return register


def register_check(
    name: str,
    rule_ids: Iterable[str],
    run: CheckFunction,
    needs: int = 0,
    input_only: bool = False,
    reads_prev_result: bool = True,
) -> None:
    ids = frozenset(rule_ids)
    for rule_id in ids:
        _known(rule_id)
    _input_only_needs(name, needs, input_only, reads_prev_result)
    CHECKS.append(Check(name, ids, run, needs, input_only=input_only, reads_prev_result=reads_prev_result))


class TextMemo:
    """A bounded LRU of values worked out from documents' text, keyed by that
    text (never by a record's identity: equal texts decode to equal values)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.entries: OrderedDict[Any, Any] = OrderedDict()
        _TEXT_MEMOS.add(self)

    def get(self, key: Any) -> Any:
        found = self.entries.get(key)
        if found is not None:
            self.entries.move_to_end(key)
        return found

    def put(self, key: Any, value: Any) -> Any:
        self.entries[key] = value
        if len(self.entries) > self.size:
            self.entries.popitem(last=False)
        return value

    def clear(self) -> None:
        self.entries.clear()


_TEXT_MEMOS: weakref.WeakSet[TextMemo] = weakref.WeakSet()


def clear_text_memos() -> None:
    """Empty every TextMemo (benchmarks measure a cold start)."""
    for memo in list(_TEXT_MEMOS):
        memo.clear()


@dataclass(frozen=True, eq=False)
class CrossViolation:
    """A rule broken between records: the finding sits on `subject` (the record
    that broke it) and names the others in `related`."""

    subject: Any  # cnilint.correlate.calls.Call
    violation: Violation
    related: tuple[Any, ...] = ()
    wrapper_artefact: bool = False  # likely caused by the logging wrapper hiding a failure


WRAPPER_ARTEFACT = (
    "the logging wrapper exits 0 whatever the plugin did, so its caller took this failure for a "
    "success; what followed is likely the wrapper's doing, not the runtime's"
)


# When a cross-record rule runs, and what it is given (see cnilint.correlate.engine):
#   "pairing"    a delegated record and its upper record (Pairing)
#   "group"      an upper record with every record it delegated, once it returned (UpperGroup)
#   "orphan"     a delegated record no upper record explains (Orphan)
#   "operation"  an ADD/CHECK/DEL operation that ended, its attachment before and after (OperationContext)
#   "call"       every record, in time order, with the cross-record state (CallContext)
#   "end"        the state at the end of the logs (EndContext)
CROSS_HOOKS = ("pairing", "group", "orphan", "operation", "call", "end")
CrossFunction = Callable[[Any], Iterable[CrossViolation]]


@dataclass(frozen=True, slots=True)
class CrossCheck:
    name: str
    rule_id: str
    hook: str
    run: CrossFunction


CROSS_CHECKS: dict[str, list[CrossCheck]] = {hook: [] for hook in CROSS_HOOKS}


def cross_rule(rule_id: str, hook: str) -> Callable[[CrossFunction], CrossFunction]:
    """Register a function as the check of a rule that needs several records."""
    _known(rule_id)
    if hook not in CROSS_HOOKS:
        raise ValueError(f"unknown hook {hook!r}")

    def register(function: CrossFunction) -> CrossFunction:
        CROSS_CHECKS[hook].append(CrossCheck(function.__name__, rule_id, hook, function))
        return function

    return register


def planned(rule_id: str, reason: str) -> None:
    """A catalogue rule that is not checked (yet), and why."""
    _known(rule_id)
    PLANNED[rule_id] = reason


def checked_rule_ids() -> frozenset[str]:
    load_all()
    single = {rule_id for check in CHECKS for rule_id in check.rule_ids}
    cross = {check.rule_id for checks in CROSS_CHECKS.values() for check in checks}
    return frozenset(single | cross)


_loaded = False


def load_all() -> None:
    """Import every rule family module (each registers its rules)."""
    global _loaded
    if _loaded:
        return
    _loaded = True
    from cnilint.rules import families  # noqa: F401 - imported for its registrations

    _plan_unregistered()


_NEEDS = {
    "time_order": "the records of several invocations in time order",
    "start_and_return_times": "the start and return times of several records",
    "chain_logs": "the logs of every plugin of the chain",
    "delegate_log": "the log of the delegated plugin",
    "version_record": "a VERSION record of the same plugin",
    "conflist": "the network configuration list (--conflist)",
}


def _plan_unregistered() -> None:
    """Every catalogue rule no family registered is planned, with what it needs."""
    checked = {rule_id for check in CHECKS for rule_id in check.rule_ids}
    checked |= {check.rule_id for checks in CROSS_CHECKS.values() for check in checks}
    for info in catalogue().values():
        if info.id not in PLANNED and info.id not in checked:
            needs = "; ".join(_NEEDS.get(need, need) for need in info.needs) or "the previous result of the chain"
            planned(info.id, f"not checked yet: it needs {needs}")
