"""CHAIN: the records of one operation over a network configuration list.

What the logs prove about order: each log is in time order, but the dates
have one-second resolution, so two records of different plugins that start
in the same second have no proven order. The engine still puts them in some
order (and marks them `same_second`); these rules never report an order
violation from that. The only proofs used are an earlier start second and,
in an ADD operation, the first record (the one without prevResult).

The wrapper hides failures: it exits 0 and drops stderr, so a runtime takes
an error object for an (empty) result and goes on, and a plugin that crashed
shows up as an empty OUTPUT, which reads as success for CHECK and DEL. So an
empty CHECK/DEL output never proves the plugin succeeded: a CHECK or DEL
operation that stops early may have stopped on such a hidden failure (hence
"a prefix" is always accepted), and a chain that goes on after a crash
cannot be reported.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from typing import Any

from cnilint.correlate.calls import Call
from cnilint.correlate.engine import CallContext, OperationContext
from cnilint.correlate.lifecycle import Operation
from cnilint.parse.jsonpos import format_path
from cnilint.rules import CrossViolation, cross_rule, in_env, in_input, in_output, show

_ABSENT = object()

# Pass-through plugins (CHAIN004): portmap and sbr print prevResult unchanged.
_ECHO_PLUGINS = ("portmap", "sbr")

# CHAIN006: the parameters every plugin of one operation gets alike.
_OPERATION_ENVIRONMENT = (
    "CNI_COMMAND",
    "CNI_CONTAINERID",
    "CNI_NETNS",
    "CNI_IFNAME",
    "CNI_ARGS",
    "CNI_PATH",
)

# What libcni keeps of a result when it reads and re-marshals it (all versions together).
_ITEM_KEYS = {
    "interfaces": ("name", "mac", "mtu", "sandbox", "socketPath", "pciID"),
    "ips": ("interface", "address", "gateway"),
    "routes": ("dst", "gw", "mtu", "advmss", "priority", "table", "scope"),
}
_DNS_KEYS = ("nameservers", "domain", "search", "options")
_KEEP_ZERO = ("interface",)  # Go pointers: 0 is a value, not "omitted"


# ---------------------------------------------------------------- shared helpers


def _config(call: Call) -> dict[str, Any]:
    return call.facts.config or {}


def _prev(call: Call) -> Any:
    return _config(call).get("prevResult", _ABSENT)


def _second(call: Call) -> int | None:
    return math.floor(call.start) if call.start is not None else None


def _proven_before(first: Call, second: Call) -> bool:
    """The dates prove `first` started before `second`: an earlier start second."""
    a, b = _second(first), _second(second)
    return a is not None and b is not None and a < b


def _add_proves_before(operation: Operation, first: Call, second: Call) -> bool:
    """In an ADD operation the record without prevResult ran first; otherwise the dates decide."""
    if first is second:
        return False
    opener = operation.calls[0]
    if first is opener and _prev(opener) is _ABSENT:
        return True
    return _proven_before(first, second)


def _omitted(key: str, value: Any) -> bool:
    """Go's omitempty: libcni drops these when it re-marshals a result."""
    if value is None or value == "" or value == [] or value == {}:
        return True
    return value == 0 and not isinstance(value, bool) and key not in _KEEP_ZERO


def _kept_fields(item: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The `fields` of an object that libcni keeps, in `fields` order."""
    kept: dict[str, Any] = {}
    for name in fields:
        if name in item:
            value = item[name]
            # A string is omitted only when empty: decided here without a call.
            if (value != "") if type(value) is str else not _omitted(name, value):
                kept[name] = value
    return kept


def _reading(result: Any) -> Any:
    """A result as libcni reads and re-marshals it, cniVersion aside: unknown keys
    and empty values dropped, ips[].version dropped (it follows from the address,
    and converting between 0.4.0 and 1.0.0 adds or removes it)."""
    if not isinstance(result, dict):
        return result
    out: dict[str, Any] = {}
    for key, fields in _ITEM_KEYS.items():
        items = result.get(key)
        if isinstance(items, list) and items:
            out[key] = [_kept_fields(item, fields) if isinstance(item, dict) else item for item in items]
        elif not _omitted(key, items):
            out[key] = items  # malformed: kept, so it is compared as written
    dns = result.get("dns")
    if isinstance(dns, dict):
        dns = _kept_fields(dns, _DNS_KEYS)
    if not _omitted("dns", dns):
        out["dns"] = dns
    for key in ("ip4", "ip6"):  # 0.1.0/0.2.0 results
        if not _omitted(key, result.get(key)):
            out[key] = result[key]
    return out


def _difference(expected: Any, got: Any, path: tuple[str | int, ...] = ()) -> tuple[tuple, Any, Any] | None:
    """The first place where two JSON values differ: (path, expected, got)."""
    if isinstance(expected, dict) and isinstance(got, dict):
        for key in [*expected, *(k for k in got if k not in expected)]:
            if key not in got:
                return (*path, key), expected[key], _ABSENT
            if key not in expected:
                return (*path, key), _ABSENT, got[key]
            found = _difference(expected[key], got[key], (*path, key))
            if found is not None:
                return found
        return None
    if isinstance(expected, list) and isinstance(got, list):
        for index, (a, b) in enumerate(zip(expected, got, strict=False)):
            found = _difference(a, b, (*path, index))
            if found is not None:
                return found
        if len(expected) != len(got):
            index = min(len(expected), len(got))
            return (
                (*path, index),
                expected[index] if index < len(expected) else _ABSENT,
                got[index] if index < len(got) else _ABSENT,
            )
        return None
    return None if expected == got else (path, expected, got)


def _shown(value: Any) -> str:
    return "nothing" if value is _ABSENT else show(value, 48)


def _describe(expected: Any, got: Any, where: str) -> str:
    """`ips[0].address "10.1.0.6/16" where <where> has "10.1.0.5/16"`."""
    found = _difference(expected, got)
    if found is None:
        return "they differ"
    path, want, have = found
    return f"{format_path(path) or '$'} {_shown(have)} where {where} has {_shown(want)}"


def _version_of(value: Any) -> str | None:
    version = value.get("cniVersion") if isinstance(value, dict) else None
    return version if isinstance(version, str) else None


def _prev_reading(call: Call) -> Any:
    """_reading of the call's prevResult, worked out once per call."""
    memo = call.memo
    if "chain_prev_reading" not in memo:
        memo["chain_prev_reading"] = _reading(_prev(call))
    return memo["chain_prev_reading"]


def _result_reading(call: Call) -> Any:
    """_reading of the call's result, worked out once per call."""
    memo = call.memo
    if "chain_result_reading" not in memo:
        memo["chain_result_reading"] = _reading(call.facts.result)
    return memo["chain_result_reading"]


def _gives_prev_result(call: Call, source: Call) -> bool:
    """`call`'s prevResult equals `source`'s output after version conversion: only
    cniVersion may be added or converted to `call`'s request version."""
    prev, output = _prev(call), source.facts.result
    if not isinstance(prev, dict) or not isinstance(output, dict):
        return False
    if _prev_reading(call) != _result_reading(source):
        return False
    declared = call.facts.declared_version
    allowed = {_version_of(output), declared if isinstance(declared, str) else None}
    return _version_of(prev) in allowed


def _gets_empty_reading(call: Call) -> bool:
    """What libcni makes of an error object it took for a result (the wrapper
    exited 0): a prevResult with nothing but cniVersion (and an empty dns)."""
    return isinstance(_prev(call), dict) and _prev_reading(call) == {}


def _possible_predecessors(calls: list[Call], index: int) -> list[Call]:
    """The records that may have run right before calls[index]: its engine
    predecessor, every other record of its start second, and every record of the
    latest earlier second (their order within that second is not proven)."""
    call = calls[index]
    here = _second(call)
    others = [c for i, c in enumerate(calls) if i != index]
    if here is None:
        return [calls[index - 1]]
    earlier = [s for c in others if (s := _second(c)) is not None and s < here]
    last = max(earlier, default=None)
    found = [c for c in others if _second(c) in (here, last)]
    return found if calls[index - 1] in found else [calls[index - 1], *found]


def _possible_finals(operation: Operation) -> list[Call]:
    """The records of an ADD operation that may have run last: those of its last
    start second (the opener, proven first, only when it is alone)."""
    calls = operation.calls
    last = _second(calls[-1])
    found = [c for c in calls if _second(c) == last and (c is not calls[0] or len(calls) == 1)]
    return found or [calls[-1]]


def _order(calls: Iterable[Call]) -> str:
    return " → ".join(str(call.record.plugin) for call in calls)


# ---------------------------------------------------------------- CHAIN001


@cross_rule("CHAIN001", "operation")
def first_plugin_gets_no_prev_result(context: OperationContext) -> Iterator[CrossViolation]:
    operation = context.operation
    if operation.command != "ADD":
        return
    first = operation.calls[0]
    if "prevResult" in (first.facts.config or {}):
        message = (
            f"the first {first.record.plugin} ADD of the operation carries a prevResult: a plugin ran before it "
            "whose log is missing, or the runtime injected a stale result"
        )
        yield CrossViolation(first, in_input(("prevResult",), message))


# ---------------------------------------------------------------- CHAIN002


@cross_rule("CHAIN002", "operation")
def prev_result_is_previous_output(context: OperationContext) -> Iterator[CrossViolation]:
    # Each next plugin of an ADD gets the previous plugin's result (SPEC, Adding an attachment).
    operation = context.operation
    if operation.command != "ADD":
        return
    calls = operation.calls
    for index in range(1, len(calls)):
        call = calls[index]
        prev = _prev(call)
        if prev is _ABSENT:
            continue
        candidates = _possible_predecessors(calls, index)
        succeeded = [c for c in candidates if not c.facts.failed]
        if any(_gives_prev_result(call, c) for c in succeeded):
            continue
        failed = [c for c in candidates if c.facts.failed]
        if failed and _gets_empty_reading(call):
            # The wrapper exited 0, so libcni read the error object as an empty result and passed it on.
            source = failed[0]
            message = (
                f"prevResult {show(prev)} is libcni's empty reading of {source.record.plugin}'s ADD error at "
                f"{source.where}, not a result: the runtime took the error for a success"
            )
            yield CrossViolation(call, in_input(("prevResult",), message), (source,), wrapper_artefact=True)
            continue
        before = calls[index - 1]
        if before.facts.failed:
            detail = f"{before.record.plugin} returned an error, not a result"
        elif not isinstance(before.facts.result, dict):
            detail = f"{before.record.plugin} printed no JSON result"
        else:
            detail = _describe(_reading(before.facts.result), _reading(prev), "its output")
            if detail == "they differ":
                detail = f"cniVersion {show(_version_of(prev))} is neither the output's nor the request's"
        others = "" if len(candidates) == 1 else " (nor any other record that may have run just before it)"
        message = f"prevResult differs from {before.record.plugin}'s ADD output at {before.where}{others}: {detail}"
        yield CrossViolation(call, in_input(("prevResult",), message), tuple(candidates))


# ---------------------------------------------------------------- CHAIN003 and CHAIN004 (one record)


def _chained_add(context: CallContext) -> tuple[Call, dict[str, Any]] | None:
    """A runtime-issued ADD that received a prevResult object and did not fail."""
    call = context.call
    prev = _prev(call)
    if not call.runtime_issued or call.command != "ADD" or not isinstance(prev, dict) or call.facts.failed:
        return None
    return call, prev


def _interface_keys(result: dict[str, Any]) -> list[tuple[Any, Any]]:
    items = result.get("interfaces")
    return (
        [(i.get("name"), i.get("sandbox") or None) for i in items if isinstance(i, dict)]
        if isinstance(items, list)
        else []
    )


def _ip_keys(result: dict[str, Any]) -> list[Any]:
    items = result.get("ips")
    return [i.get("address") for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def _route_keys(result: dict[str, Any]) -> list[tuple[Any, Any]]:
    items = result.get("routes")
    return (
        [(r.get("dst"), r.get("gw") or None) for r in items if isinstance(r, dict)] if isinstance(items, list) else []
    )


@cross_rule("CHAIN003", "call")
def chained_plugin_keeps_prev_result(context: CallContext) -> Iterator[CrossViolation]:
    # 1.x: a plugin MUST output prevResult with its modifications; 0.3.x/0.4.0 let it
    # suppress parts (the catalogue's severity_by_version makes those info).
    found = _chained_add(context)
    if found is None:
        return
    call, prev = found
    output = call.record.output
    if output is None or output.empty:
        message = (
            f"{call.record.plugin} ADD received a prevResult but printed nothing (the wrapper also hides a crash: "
            "it drops stderr and the exit code)"
        )
        yield CrossViolation(call, in_output((), message))
        return
    result = call.facts.result
    if not isinstance(result, dict):
        return  # not a JSON object: RES001/RES004 report the output itself
    lost: list[str] = []
    kept = set(_interface_keys(result))
    lost += [f"interface {show(name)}" for name, sandbox in _interface_keys(prev) if (name, sandbox) not in kept]
    addresses = set(_ip_keys(result))
    lost += [f"address {show(address)}" for address in _ip_keys(prev) if address not in addresses]
    routes = set(_route_keys(result))
    lost += [
        f"route {show(dst)}" + (f" via {show(gw)}" if gw else "")
        for dst, gw in _route_keys(prev)
        if (dst, gw) not in routes
    ]
    if lost:
        message = f"{call.record.plugin} ADD output lost what prevResult reported: {', '.join(lost[:4])}"
        if len(lost) > 4:
            message += f" and {len(lost) - 4} more"
        yield CrossViolation(call, in_output((), message))


def _without_interface_fields(result: Any, ifname: str, fields: tuple[str, ...]) -> Any:
    if not isinstance(result, dict) or not isinstance(result.get("interfaces"), list):
        return result
    interfaces = [
        {k: v for k, v in item.items() if k not in fields}
        if isinstance(item, dict) and item.get("name") == ifname
        else item
        for item in result["interfaces"]
    ]
    return {**result, "interfaces": interfaces}


@cross_rule("CHAIN004", "call")
def pass_through_plugin_echoes_prev_result(context: CallContext) -> Iterator[CrossViolation]:
    # portmap and sbr print prevResult unchanged; tuning may only change the mac/mtu
    # of CNI_IFNAME; bandwidth may only append interfaces (its ifb device).
    found = _chained_add(context)
    if found is None:
        return
    call, _ = found
    plugin, result = call.record.plugin, call.facts.result
    if not isinstance(result, dict):
        return  # empty or not JSON: CHAIN003/RES001
    expected, got = _prev_reading(call), _result_reading(call)  # shared: never changed in place
    if plugin == "tuning":
        ifname = call.facts.variable("CNI_IFNAME")
        expected = _without_interface_fields(expected, ifname, ("mac", "mtu"))
        got = _without_interface_fields(got, ifname, ("mac", "mtu"))
        allowed = f"only the mac or mtu of {ifname}"
    elif plugin == "bandwidth":
        kept = len(expected.get("interfaces", [])) if isinstance(expected.get("interfaces"), list) else 0
        if isinstance(got.get("interfaces"), list) and len(got["interfaces"]) > kept:
            got = {**got, "interfaces": got["interfaces"][:kept]}
            if not got["interfaces"]:
                del got["interfaces"]
        allowed = "only appended interfaces"
    elif plugin in _ECHO_PLUGINS:
        allowed = "nothing"
    else:
        return
    if expected != got:
        detail = _describe(expected, got, "prevResult")
        yield CrossViolation(call, in_output((), f"{plugin} ADD may change {allowed} of prevResult, but {detail}"))


# ---------------------------------------------------------------- CHAIN005 and CHAIN006


@cross_rule("CHAIN005", "operation")
def operation_has_one_version(context: OperationContext) -> Iterator[CrossViolation]:
    # The runtime replaces every plugin's cniVersion with the list's (SPEC 0.4.0, Network
    # Configuration Lists). The name is the same by construction: it is part of the attachment.
    calls = context.operation.calls
    first = calls[0]
    mine = first.facts.declared_version
    for call in calls[1:]:
        theirs = call.facts.declared_version
        if theirs != mine:
            message = (
                f"cniVersion {show(theirs)} differs from {show(mine)} of {first.record.plugin} at {first.where} "
                f"in the same {context.operation.command} operation"
            )
            yield CrossViolation(call, in_input(("cniVersion",), message), (first,))


@cross_rule("CHAIN005", "call")
def chained_add_keeps_network_name(context: CallContext) -> Iterator[CrossViolation]:
    # A chained ADD whose prevResult is the output of another network's ADD of the same
    # container and interface continues that network's operation under another name.
    call = context.call
    prev = _prev(call)
    if not call.runtime_issued or call.command != "ADD" or not isinstance(prev, dict) or _gets_empty_reading(call):
        return
    ifname = call.ifname
    sources = [
        other
        for other in context.recent_same_container
        if other.runtime_issued
        and other.command == "ADD"
        and other.ifname == ifname
        and not other.facts.failed
        and _gives_prev_result(call, other)
    ]
    if not sources or any(source.network == call.network for source in sources):
        return
    source = sources[-1]
    message = (
        f"name {show(call.network)} differs from {show(source.network)} of {source.record.plugin}'s ADD at "
        f"{source.where}, whose output is this record's prevResult"
    )
    yield CrossViolation(call, in_input(("name",), message), (source,))


@cross_rule("CHAIN006", "operation")
def operation_has_one_environment(context: OperationContext) -> Iterator[CrossViolation]:
    # Every plugin of one pass gets the same parameters (SPEC 0.4.0, Network Configuration Lists).
    calls = context.operation.calls
    first = calls[0]
    for call in calls[1:]:
        for name in _OPERATION_ENVIRONMENT:
            mine, theirs = first.facts.variable(name), call.facts.variable(name)
            if mine != theirs:
                message = (
                    f"{name}={show(theirs)} differs from {show(mine)} of {first.record.plugin} at {first.where} "
                    f"in the same {context.operation.command} operation"
                )
                yield CrossViolation(call, in_env(name, message), (first,))


# ---------------------------------------------------------------- CHAIN007 and CHAIN008


def _final_add(context: OperationContext) -> Operation | None:
    """The successful ADD operation after the attachment's previous DEL, when the
    log holds it and no failed ADD came after it (then the cached result is unknown)."""
    before = context.before
    live = before.live_add
    if live is None or before.last_add is not live or live.failed:
        return None
    return live


def _gets_final_result(context: OperationContext, rule_command: str) -> Iterator[CrossViolation]:
    operation = context.operation
    if operation.command != rule_command:
        return
    add = _final_add(context)
    if add is None:
        return
    finals = [c for c in _possible_finals(add) if isinstance(c.facts.result, dict) and not c.facts.failed]
    if not finals:
        return
    last = add.calls[-1] if add.calls[-1] in finals else finals[-1]
    for call in operation.calls:
        prev = _prev(call)
        if prev is _ABSENT:
            if rule_command == "DEL":  # CHECK without prevResult is CONF024's finding
                message = (
                    f"{call.record.plugin} DEL carries no prevResult although the ADD operation ending at "
                    f"{last.where} succeeded: it must get that final result"
                )
                yield CrossViolation(call, in_input((), message), (last,))
            continue
        if any(_gives_prev_result(call, final) for final in finals):
            continue
        detail = _describe(_reading(last.facts.result), _reading(prev), "the final ADD result")
        message = (
            f"prevResult differs from the final ADD result ({last.record.plugin}'s output at {last.where}): {detail}"
        )
        yield CrossViolation(call, in_input(("prevResult",), message), tuple(finals))


@cross_rule("CHAIN007", "operation")
def check_gets_final_add_result(context: OperationContext) -> Iterator[CrossViolation]:
    # CHECK's previous result is always the final result of the ADD (SPEC 1.x, Checking an attachment).
    yield from _gets_final_result(context, "CHECK")


@cross_rule("CHAIN008", "operation")
def del_gets_final_add_result(context: OperationContext) -> Iterator[CrossViolation]:
    # DEL's previous result is always the final result of the ADD (SPEC 1.x, Deleting an attachment).
    yield from _gets_final_result(context, "DEL")


# ---------------------------------------------------------------- CHAIN009 and CHAIN010


def _order_violation(context: OperationContext, reverse: bool) -> Iterator[CrossViolation]:
    """Compare an operation's order with the ADD's, on what the dates prove only.

    A pair breaks the order when both operations prove opposite orders for it;
    a plugin of the ADD is skipped when the operation ran one that should come
    after it. Stopping early (a prefix) is always accepted: the wrapper hides
    the failures that would explain it."""
    operation, add = context.operation, context.before.last_add
    if add is None:
        return
    add_calls = {call.record.plugin: call for call in add.calls}
    ours = [call for call in operation.calls if call.record.plugin in add_calls]
    command = operation.command

    def should_precede(a: Call, b: Call) -> bool:
        """The ADD proves plugin a must come before plugin b in this operation."""
        first, second = add_calls[a.record.plugin], add_calls[b.record.plugin]
        return _add_proves_before(add, second, first) if reverse else _add_proves_before(add, first, second)

    for x in ours:
        for y in ours:
            if _proven_before(x, y) and should_precede(y, x):
                expected = list(reversed(add.calls)) if reverse else add.calls
                message = (
                    f"{command} ran {x.record.plugin} before {y.record.plugin} ({y.where}), but the ADD ran "
                    f"{_order(add.calls)}: {command} must run {_order(expected)}"
                )
                yield CrossViolation(
                    x, in_env("CNI_COMMAND", message), (y, add_calls[x.record.plugin], add_calls[y.record.plugin])
                )
                return
    ran = {call.record.plugin for call in operation.calls}
    for plugin, skipped in add_calls.items():
        if plugin in ran:
            continue
        for call in ours:
            # `call` ran although `skipped` had to come before it.
            if should_precede(skipped, call):
                message = (
                    f"{command} ran {call.record.plugin} but never {plugin}, which must come before it "
                    f"(ADD order {_order(add.calls)}, {plugin} ADD at {skipped.where})"
                )
                yield CrossViolation(call, in_env("CNI_COMMAND", message), (skipped,))
                return


@cross_rule("CHAIN009", "operation")
def del_runs_in_reverse_order(context: OperationContext) -> Iterator[CrossViolation]:
    if context.operation.command == "DEL":
        yield from _order_violation(context, reverse=True)


@cross_rule("CHAIN010", "operation")
def check_runs_in_add_order(context: OperationContext) -> Iterator[CrossViolation]:
    if context.operation.command == "CHECK":
        yield from _order_violation(context, reverse=False)


# ---------------------------------------------------------------- CHAIN011


def _ran_after_failure(operation: Operation, failure: Call, call: Call) -> bool:
    """Proven: a later start second, or (ADD) a prevResult that is libcni's empty
    reading of an error while no successful record printed it."""
    if _proven_before(failure, call):
        return True
    if operation.command != "ADD" or not _gets_empty_reading(call):
        return False
    index = operation.calls.index(call)
    if index == 0:
        return False
    candidates = _possible_predecessors(operation.calls, index)
    produced = any(_gives_prev_result(call, c) for c in candidates if not c.facts.failed)
    return failure in candidates and not produced


def _expected_after(context: OperationContext, failure: Call, call: Call) -> str | None:
    """What proves `call` had to run after `failure` in this operation, when the
    dates cannot: the network configuration list, or the order the ADD proved.
    Then `call` either ran after the error or the plugins ran out of order."""
    operation = context.operation
    if context.conflist is not None:
        order = [plugin.get("type") for plugin in context.conflist.plugins]
        if operation.command == "DEL":
            order.reverse()
        if failure.record.plugin in order and call.record.plugin in order:
            after = order.index(call.record.plugin) > order.index(failure.record.plugin)
            return f"the network configuration list {context.conflist.path}" if after else None
    add = context.before.last_add
    if add is None:
        return None
    add_calls = {c.record.plugin: c for c in add.calls}
    first, second = add_calls.get(failure.record.plugin), add_calls.get(call.record.plugin)
    if first is None or second is None:
        return None
    proven = (
        _add_proves_before(add, second, first) if operation.command == "DEL" else _add_proves_before(add, first, second)
    )
    return f"the ADD order ({_order(add.calls)})" if proven else None


@cross_rule("CHAIN011", "operation")
def operation_stops_at_first_error(context: OperationContext) -> Iterator[CrossViolation]:
    # ADD and DEL halt at the first error; CHECK too from 1.0.0 (0.4.0 lets the runtime choose).
    operation = context.operation
    failures = [call for call in operation.calls if call.facts.failed]
    if not failures:
        return
    for call in operation.calls:
        if call.facts.failed and call is failures[0]:
            continue
        if operation.command == "CHECK" and (call.facts.version is None or call.facts.version < (1, 0, 0)):
            continue
        failure = next((f for f in failures if f is not call and _ran_after_failure(operation, f, call)), None)
        because = None
        if failure is None:
            failure = next((f for f in failures if f is not call and _expected_after(context, f, call)), None)
            if failure is None:
                continue
            because = _expected_after(context, failure, call)
        code = failure.facts.error.get("code") if failure.facts.error else None
        what = f"error (code {code})" if code is not None else "failure"
        if because is None:
            message = (
                f"{call.record.plugin} {operation.command} ran after {failure.record.plugin}'s {what} at "
                f"{failure.where} in the same operation: the runtime must halt at the first error"
            )
        else:
            message = (
                f"{call.record.plugin} {operation.command} ran in the operation where {failure.record.plugin} "
                f"failed with an {what} at {failure.where}; {because} puts it after {failure.record.plugin}, "
                "so the runtime either did not halt at the error or ran the plugins out of order "
                "(the one-second dates cannot tell which)"
            )
        yield CrossViolation(call, in_env("CNI_COMMAND", message), (failure,), wrapper_artefact=True)
