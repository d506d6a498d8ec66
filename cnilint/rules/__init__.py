"""Rules: small pure functions of one record's facts, registered by catalogue ID.

A rule yields `Violation`s: a one-line message naming the offending value and
where it is (an env variable, or a JSON path in INPUT or OUTPUT). The engine
turns them into findings with the catalogue's severity and link.

    @rule("ENV001")
    def command_is_set(facts: Facts) -> Iterator[Violation]:
        if not facts.variable("CNI_COMMAND"):
            yield in_env("CNI_COMMAND", "CNI_COMMAND is absent or empty")

Rules the tool cannot check yet are declared with `planned(ID, reason)`.
Several rules can share one check (the JSON Schema validation of a document
owns many rule IDs): such a check is registered with `register_check`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from cnilint.catalogue import catalogue
from cnilint.facts import Facts

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
    """One function that may report under several rule IDs."""

    name: str
    rule_ids: frozenset[str]
    run: CheckFunction


CHECKS: list[Check] = []
PLANNED: dict[str, str] = {}


def _known(rule_id: str) -> None:
    if rule_id not in catalogue():
        raise KeyError(f"{rule_id} is not in the rules catalogue")


def rule(rule_id: str) -> Callable[[RuleFunction], RuleFunction]:
    """Register a function as the check of one catalogue rule."""
    _known(rule_id)

    def register(function: RuleFunction) -> RuleFunction:
        def run(facts: Facts) -> Iterator[tuple[str, Violation]]:
            for violation in function(facts):
                yield rule_id, violation

        CHECKS.append(Check(function.__name__, frozenset({rule_id}), run))
        return function

    return register


def register_check(name: str, rule_ids: Iterable[str], run: CheckFunction) -> None:
    ids = frozenset(rule_ids)
    for rule_id in ids:
        _known(rule_id)
    CHECKS.append(Check(name, ids, run))


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
