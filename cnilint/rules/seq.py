"""SEQ: the lifecycle of attachments across records (ADD, CHECK, DEL over time).

Dates have one-second resolution: an order between two records is taken as
proven only when both are in one log (each log is in time order) or started
in different seconds; overlaps only when certain (Call.certainly_overlaps) or
when the records' lines interleave in one log.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from typing import Any

from cnilint.correlate.calls import Call
from cnilint.correlate.engine import CallContext, EndContext, OperationContext, canonical
from cnilint.correlate.lifecycle import Attachment, LifecycleTracker, Operation
from cnilint.rules import CrossViolation, JsonPath, Violation, cross_rule, in_env, in_input, in_output, in_record, show
from cnilint.rules.addresses import IPAddress, parse_cidr, parse_ip

OPERATIONS = ("ADD", "DEL", "CHECK")
VALID_LISTS = ("cni.dev/valid-attachments", "cni.dev/attachments")  # libcni sends both (see GC002)
HOST_LOCAL_DATA_DIR = "/var/lib/cni/networks"  # host-local's default dataDir


# -- shared helpers -------------------------------------------------------------


def _label(key: tuple[str | None, str, str]) -> str:
    network, container, ifname = key
    return f"{container[:12] or '(no container)'}/{ifname or '(no ifname)'} on {show(network)}"


def _second(call: Call) -> int | None:
    return math.floor(call.start) if call.start is not None else None


def _proven_before(earlier: Operation, later: Operation) -> bool:
    """The logs prove `earlier` ran before `later`: they share a log (whose
    order is kept), or started in different seconds."""
    if {call.record.file for call in earlier.calls} & {call.record.file for call in later.calls}:
        return True
    first, last = _second(earlier.calls[-1]), _second(later.calls[0])
    return first is not None and last is not None and first < last


def _last_add_or_del(attachment: Attachment) -> Operation | None:
    candidates = [op for op in (attachment.last_add, attachment.last_del) if op is not None]
    return max(candidates, key=lambda op: op.seq) if candidates else None


def _failure_text(call: Call) -> str:
    error = call.facts.error
    if error is None:
        return "a non-JSON OUTPUT"
    return f"code {show(error.get('code'))} {show(error.get('msg'), 50)}"


def _hidden_failure(call: Call) -> bool:
    """The failure is an error object the plugin printed: the logging wrapper
    exited 0 over it, so the runtime took it for a success."""
    return call.facts.error is not None


def _clock(moment: datetime | None) -> str:
    """A record's time as its log wrote it (the log's own zone)."""
    return moment.strftime("%H:%M:%S") if moment is not None else "?"


# -- SEQ001, SEQ002: no second ADD of a live attachment ---------------------------


def _second_add(context: OperationContext) -> Iterator[CrossViolation]:
    operation, before = context.operation, context.before
    if operation.command != "ADD" or not before.live or before.live_add is None:
        return
    first, earlier = operation.calls[0], before.live_add.calls[0]
    network, container, ifname = operation.attachment
    yield CrossViolation(
        first,
        in_env(
            "CNI_CONTAINERID",
            f"second ADD of live attachment {container[:12]}/{ifname} on {show(network)}: the ADD at "
            f"{earlier.where} succeeded and was not followed by a DEL",
        ),
        (earlier,),
    )


@cross_rule("SEQ001", "operation")
def no_second_add_of_live_attachment_040(context: OperationContext) -> Iterator[CrossViolation]:
    # 0.4.0: MUST NOT, keyed by (network, container, ifname).
    yield from _second_add(context)


@cross_rule("SEQ002", "operation")
def no_second_add_of_live_attachment_1x(context: OperationContext) -> Iterator[CrossViolation]:
    # 1.x: SHOULD NOT, keyed by (CNI_CONTAINERID, CNI_IFNAME) on any network.
    yield from _second_add(context)
    operation = context.operation
    if operation.command != "ADD":
        return
    first = operation.calls[0]
    for peer in operation.live_peers:
        # live_peers: ADDs live when this one started; one that failed in the end made nothing live.
        if peer.ifname != operation.ifname or peer.failed:
            continue
        earlier = peer.calls[0]
        message = (
            f"second ADD of {operation.container[:12]}/{operation.ifname} (on {show(operation.network)}): "
            f"the ADD at {earlier.where} on {show(peer.network)} succeeded and was not followed by a DEL"
        )
        yield CrossViolation(first, in_env("CNI_CONTAINERID", message), (earlier,))


# -- SEQ003: CHECK only on a live attachment ---------------------------------------


@cross_rule("SEQ003", "operation")
def check_only_on_live_attachment(context: OperationContext) -> Iterator[CrossViolation]:
    # "A runtime must not call CHECK for a container that has not been ADDed, or has
    # been DELeted after its last ADD": live is exactly "ADDed (successfully), no DEL
    # since". A CHECK with no earlier ADD or DEL is not judged: the log may start late.
    operation, before = context.operation, context.before
    if operation.command != "CHECK" or before.live:
        return
    last = _last_add_or_del(before)
    if last is None or not _proven_before(last, operation):
        return
    first = operation.calls[0]
    if last.command == "DEL":
        message = f"CHECK of {_label(operation.attachment)} after its DEL at {last.calls[0].where}"
        yield CrossViolation(first, in_env("CNI_COMMAND", message), (last.calls[0],))
        return
    failure = last.first_failure or last.calls[0]
    message = (
        f"CHECK of {_label(operation.attachment)}, whose ADD failed ({failure.record.plugin}: "
        f"{_failure_text(failure)} at {failure.where}): the attachment was never live"
    )
    # CHECKing an attachment whose ADD failed is a reaction to a failure the wrapper hid.
    yield CrossViolation(first, in_env("CNI_COMMAND", message), (failure,), wrapper_artefact=_hidden_failure(failure))


# -- SEQ004, SEQ005: CHECK and DEL use the ADD's parameters -----------------------


def _args_pairs(value: str) -> list[str]:
    # Order of the pairs carries no meaning; compare them as a set.
    return sorted(pair for pair in value.split(";") if pair)


def _same_parameter(name: str, mine: str, theirs: str) -> bool:
    return _args_pairs(mine) == _args_pairs(theirs) if name == "CNI_ARGS" else mine == theirs


def _parameter_changes(
    operation: Operation, reference: Operation, names: tuple[str, ...], skip_empty: tuple[str, ...] = ()
) -> Iterator[CrossViolation]:
    """One violation per variable: the first record of `operation` whose value
    differs from the reference ADD's record of the same plugin."""
    for name in names:
        for call in operation.calls:
            mine = call.facts.variable(name)
            if name in skip_empty and not mine:
                continue
            ref = reference.call_of(call.record.plugin) or reference.calls[0]
            theirs = ref.facts.variable(name)
            if not _same_parameter(name, mine, theirs):
                message = (
                    f"{call.command} {name}={show(mine)} differs from the ADD's {show(theirs)} at {ref.where} "
                    f"({_label(operation.attachment)})"
                )
                yield CrossViolation(call, in_env(name, message), (ref,))
                break


@cross_rule("SEQ004", "operation")
def check_uses_add_parameters(context: OperationContext) -> Iterator[CrossViolation]:
    # All parameters but CNI_PATH must be those of the ADD (CONTAINERID and IFNAME are the key).
    operation, before = context.operation, context.before
    if operation.command != "CHECK" or not before.live or before.live_add is None:
        return
    yield from _parameter_changes(operation, before.live_add, ("CNI_NETNS", "CNI_ARGS"))


@cross_rule("SEQ005", "operation")
def del_uses_add_parameters(context: OperationContext) -> Iterator[CrossViolation]:
    # An empty CNI_NETNS is allowed: the namespace may be gone by the time of the DEL.
    operation, before = context.operation, context.before
    reference = before.live_add or before.last_add
    if operation.command != "DEL" or reference is None:
        return
    yield from _parameter_changes(operation, reference, ("CNI_ARGS", "CNI_NETNS"), skip_empty=("CNI_NETNS",))


# -- SEQ006, SEQ007: the configuration does not change ----------------------------


def _without(config: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {key: value for key, value in config.items() if key not in keys}


def _first_difference(mine: Any, theirs: Any, path: JsonPath = ()) -> JsonPath | None:
    """The JSON path (in `mine`) of the first difference, None when JSON-equal."""
    if canonical(mine) == canonical(theirs):
        return None
    if isinstance(mine, dict) and isinstance(theirs, dict):
        for key in [*mine, *(key for key in theirs if key not in mine)]:
            if key not in mine or key not in theirs:
                return (*path, key) if key in mine else path
            found = _first_difference(mine[key], theirs[key], (*path, key))
            if found is not None:
                return found
    if isinstance(mine, list) and isinstance(theirs, list) and len(mine) == len(theirs):
        for index, (a, b) in enumerate(zip(mine, theirs, strict=True)):
            found = _first_difference(a, b, (*path, index))
            if found is not None:
                return found
    return path


def _path_text(path: JsonPath) -> str:
    return "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path) or "(whole INPUT)"


def _value_at(document: Any, path: JsonPath) -> Any:
    for step in path:
        try:
            document = document[step]
        except (KeyError, IndexError, TypeError):
            return None
    return document


def _config_text(call: Call, ignored: tuple[str, ...]) -> str:
    """The configuration less `ignored` keys as canonical JSON, worked out once per call."""
    key = ("seq_config", ignored)
    text = call.memo.get(key)
    if text is None:
        text = call.memo[key] = canonical(_without(call.facts.config or {}, ignored))
    return text


def _config_change(call: Call, ref: Call, ignored: tuple[str, ...], what: str) -> Violation | None:
    mine, theirs = call.facts.config, ref.facts.config
    if mine is None or theirs is None:
        return None
    # The same INPUT text less prevResult's value decodes to the same configuration
    # less prevResult (every `ignored` holds it): no JSON to compare.
    text = call.facts.input_without_prev_result
    if text is not None and text == ref.facts.input_without_prev_result:
        return None
    if _config_text(call, ignored) == _config_text(ref, ignored):
        return None
    path = _first_difference(_without(mine, ignored), _without(theirs, ignored))
    if path is None:
        return None
    message = (
        f"{call.record.plugin} {call.command} INPUT{_path_text(path)}={show(_value_at(mine, path), 40)} differs from "
        f"{what} {show(_value_at(theirs, path), 40)} at {ref.where}"
    )
    return in_input(path, message)


@cross_rule("SEQ006", "operation")
def configuration_unchanged_during_attachment(context: OperationContext) -> Iterator[CrossViolation]:
    # "The network configuration should not change between add and delete"; before 1.0.0
    # values that vary between invocations belong in args, so args may differ there.
    operation, before = context.operation, context.before
    if operation.command not in ("CHECK", "DEL") or not before.live or before.live_add is None:
        return
    for call in operation.calls:
        ref = before.live_add.call_of(call.record.plugin)
        if ref is None:
            continue
        version = call.facts.version
        ignored = ("prevResult",) if version is not None and version >= (1, 0, 0) else ("prevResult", "args")
        violation = _config_change(call, ref, ignored, "the ADD's")
        if violation is not None:
            yield CrossViolation(call, violation, (ref,))


@cross_rule("SEQ007", "call")
def one_network_one_configuration(context: CallContext) -> Iterator[CrossViolation]:
    # "The network configuration should not change between attachments": the previous
    # ADD of the same plugin on the same network is the reference (each change is reported once).
    call, lifecycle = context.call, context.lifecycle
    if lifecycle is None or not call.runtime_issued or call.command != "ADD" or call.network is None:
        return
    ref = lifecycle.last_add_call(call.record.plugin, call.network)
    if ref is None or ref is call:
        return
    violation = _config_change(call, ref, ("prevResult", "runtimeConfig", "args"), "the previous ADD's")
    if violation is not None:
        yield CrossViolation(call, violation, (ref,))


# -- SEQ008, SEQ009: no parallel operations ---------------------------------------


def _interleaved(one: Call, other: Call) -> bool:
    """Two records of one log whose lines interleave (recovered records)."""
    a, b = one.record, other.record
    return a.file == b.file and a.line <= b.end_line and b.line <= a.end_line


def _overlap_text(call: Call, other: Call) -> str:
    if _interleaved(call, other):
        return f"its lines interleave with {other.record.plugin} {other.command} at {other.where}"
    return (
        f"it started at {_clock(call.record.started_at)} while {other.record.plugin} {other.command} at "
        f"{other.where} ran {_clock(other.record.started_at)}-{_clock(other.record.returned_at)}"
    )


def _delegation_pair(one: Call, other: Call) -> bool:
    """One may have run the other as its IPAM plugin (a delegate not paired yet)."""
    return one.record.plugin == other.facts.ipam_type or other.record.plugin == one.facts.ipam_type


@cross_rule("SEQ008", "call")
def no_parallel_operations_on_container(context: CallContext) -> Iterator[CrossViolation]:
    # Delegated records run inside their upper record by design: only runtime-issued ones count.
    call = context.call
    container = call.container
    if not call.runtime_issued or call.command not in OPERATIONS or not container:
        return
    for other in context.recent_same_container:
        # The overlap first: it is rare, and every test here is pure.
        if not (call.certainly_overlaps(other) or _interleaved(call, other)):
            continue
        if not other.runtime_issued or other.command not in OPERATIONS or _delegation_pair(call, other):
            continue
        message = (
            f"{call.record.plugin} {call.command} of container {container[:12]} "
            f"(ifname {show(call.ifname)}) runs in parallel with another operation on it: "
            f"{_overlap_text(call, other)}"
        )
        yield CrossViolation(call, in_record(message), (other,))


@cross_rule("SEQ009", "call")
def gc_does_not_overlap_add_or_del(context: CallContext) -> Iterator[CrossViolation]:
    # Checked per network (the SPEC does not say; per network avoids false reports).
    call, lifecycle = context.call, context.lifecycle
    if lifecycle is None or not call.runtime_issued:
        return
    if call.command == "GC":
        others = [c for op in lifecycle.running(call.network) if op.command in ("ADD", "DEL") for c in op.calls]
    elif call.command in ("ADD", "DEL"):
        others = list(lifecycle.recent_gc(call.network))
    else:
        return
    for other in others:
        if call.certainly_overlaps(other) or _interleaved(call, other):
            message = f"{call.command} on {show(call.network)} overlaps {other.command}: {_overlap_text(call, other)}"
            yield CrossViolation(call, in_record(message), (other,))


# -- SEQ010, SEQ011: after a failure, and DEL again --------------------------------


@cross_rule("SEQ010", "end")
def failed_add_is_followed_by_del(context: EndContext) -> Iterator[CrossViolation]:
    # "A delete must still be executed even if the add fails." Info: the log may end early.
    for attachment in context.attachments.values():
        if not attachment.key[1]:
            continue  # no CNI_CONTAINERID (ENV004): no DEL could name this attachment
        for operation in attachment.pending_failures:
            failure = operation.first_failure
            if failure is None:
                continue
            message = (
                f"ADD of {_label(operation.attachment)} failed ({failure.record.plugin}: {_failure_text(failure)}) "
                "and no DEL of the attachment follows in the logs"
            )
            related = (operation.calls[0],) if operation.calls[0] is not failure else ()
            # Behind the wrapper the runtime saw a success: it had no failure to clean up after.
            yield CrossViolation(failure, in_record(message), related, wrapper_artefact=_hidden_failure(failure))


@cross_rule("SEQ011", "operation")
def repeated_del_succeeds(context: OperationContext) -> Iterator[CrossViolation]:
    # Plugins MUST accept multiple DELs (1.x; SHOULD be idempotent in 0.4.0).
    operation, before = context.operation, context.before
    earlier = before.last_del
    if operation.command != "DEL" or earlier is None:
        return
    if before.last_add is not None and before.last_add.seq > earlier.seq:
        return  # an ADD came in between: this DEL is not a repeat
    for call in operation.calls:
        ref = earlier.call_of(call.record.plugin)
        if not call.facts.failed or ref is None or ref.facts.failed:
            continue
        message = (
            f"repeated DEL of {_label(operation.attachment)} failed ({_failure_text(call)}) after the DEL at "
            f"{ref.where} succeeded: a DEL of what is gone must succeed"
        )
        violation = in_output(("code",), message) if call.facts.error is not None else in_record(message)
        yield CrossViolation(call, violation, (ref,))


# -- SEQ012, SEQ013: live attachments side by side ---------------------------------


def _address(text: object) -> IPAddress | None:
    if isinstance(text, str):
        return _text_address(text)
    parsed = parse_cidr(text)
    return parsed[0] if parsed is not None else parse_ip(text)


@lru_cache(maxsize=1024)  # an address shows in the results of several records
def _text_address(text: str) -> IPAddress | None:
    parsed = parse_cidr(text)
    return parsed[0] if parsed is not None else parse_ip(text)


def _host_side(index: object, interfaces: object) -> bool:
    """ips[].interface points at an interface with no sandbox: a host-side address."""
    if not isinstance(index, int) or isinstance(index, bool) or not isinstance(interfaces, list):
        return False
    if not 0 <= index < len(interfaces) or not isinstance(interfaces[index], dict):
        return False
    return not interfaces[index].get("sandbox")


def addresses(result: Any) -> list[tuple[JsonPath, IPAddress]]:
    """The container addresses a result holds (ips[], or ip4/ip6 before 0.3.0), with
    their paths; loopback and host-side addresses left out."""
    found: list[tuple[JsonPath, IPAddress]] = []
    if not isinstance(result, dict):
        return found
    ips = result.get("ips")
    if isinstance(ips, list):
        for index, entry in enumerate(ips):
            if not isinstance(entry, dict) or _host_side(entry.get("interface"), result.get("interfaces")):
                continue
            address = _address(entry.get("address"))
            if address is not None and not address.is_loopback:
                found.append((("ips", index, "address"), address))
    for key in ("ip4", "ip6"):
        section = result.get(key)
        address = _address(section.get("ip")) if isinstance(section, dict) else None
        if address is not None and not address.is_loopback:
            found.append(((key, "ip"), address))
    return found


def _addresses_of(operation: Operation) -> list[tuple[Call, JsonPath, IPAddress]]:
    """The addresses an ADD holds: its final result's, then those only its
    successful delegated IPAM results hold, each with the record and path that
    show it. Worked out once per operation (again when one under way has run
    one more record since)."""
    size = len(operation.calls) + len(operation.delegated)
    cached_size, found = operation.notes.get("addresses", (-1, []))
    if cached_size != size:
        last = operation.calls[-1]
        found = [(last, path, address) for path, address in _call_addresses(last)]
        seen = {address for _, _, address in found}
        for delegate in operation.delegated:
            if delegate.command != "ADD" or delegate.facts.failed:
                continue
            for path, address in _call_addresses(delegate):
                if address not in seen:
                    seen.add(address)
                    found.append((delegate, path, address))
        operation.notes["addresses"] = (size, found)
    return found


def _call_addresses(call: Call) -> list[tuple[JsonPath, IPAddress]]:
    """addresses() of a call's result, worked out once per call (never changed in place)."""
    found = call.memo.get("seq_addresses")
    if found is None:
        found = call.memo["seq_addresses"] = addresses(call.facts.result)
    return found


def _allocator(operation: Operation) -> tuple[str | None, str | None]:
    """Where addresses come from: host-local allocates per dataDir."""
    if "allocator" not in operation.notes:
        ipam = (operation.calls[0].facts.config or {}).get("ipam")
        kind = ipam.get("type") if isinstance(ipam, dict) else None
        data_dir = ipam.get("dataDir", HOST_LOCAL_DATA_DIR) if isinstance(ipam, dict) and kind == "host-local" else None
        operation.notes["allocator"] = (
            kind if isinstance(kind, str) else None,
            data_dir if isinstance(data_dir, str) else None,
        )
    return operation.notes["allocator"]


def _uncertain_output(*calls: Call) -> str:
    """Records put back together from an interleaved region may hold another call's OUTPUT."""
    if any(getattr(c.record, "recovered", False) and getattr(c.record, "confidence", None) != "exact" for c in calls):
        return " (a recovered record: its OUTPUT is likely, not certainly, its own)"
    return ""


class _AddressIndex:
    """The ADD operations of one network that ended holding each address: a
    superset of the live ones (each is checked when read), rebuilt from the live
    attachments when it has grown twice as large, so it follows them, not the logs."""

    __slots__ = ("by_address", "entries", "limit")

    def __init__(self) -> None:
        self.by_address: dict[IPAddress, list[Operation]] = {}
        self.entries = 0
        self.limit = 64

    def add(self, operation: Operation) -> None:
        for _, _, address in _addresses_of(operation):
            self.by_address.setdefault(address, []).append(operation)
            self.entries += 1

    def live_holders(
        self, lifecycle: LifecycleTracker, operation: Operation, wanted: list[IPAddress]
    ) -> list[Operation]:
        """live_adds_of_network(operation's network, exclude=its attachment) less those
        holding none of `wanted`, in start order; then `operation` joins the index."""
        found: dict[int, Operation] = {}
        for address in wanted:
            for peer in self.by_address.get(address, ()):
                found[id(peer)] = peer
        for peer in lifecycle.running(operation.network):  # ADDs under way: not indexed yet
            found[id(peer)] = peer
        key = operation.attachment
        peers = sorted(
            (peer for peer in found.values() if peer.attachment != key and lifecycle.keeps_live(peer)),
            key=lambda op: op.seq,
        )
        self.add(operation)
        if self.entries > self.limit:
            self.by_address, self.entries = {}, 0
            for peer in lifecycle.live_adds_of_network(operation.network):
                self.add(peer)
            self.limit = 2 * self.entries + 64
        return peers


class _AddressIndexes:
    """SEQ012's indexes, by network; those of networks with nothing live are dropped."""

    __slots__ = ("by_network", "limit")

    def __init__(self) -> None:
        self.by_network: dict[str | None, _AddressIndex] = {}
        self.limit = 64


def _address_index(lifecycle: LifecycleTracker, network: str | None) -> _AddressIndex:
    indexes = lifecycle.rule_state.get("SEQ012")
    if indexes is None:
        indexes = lifecycle.rule_state["SEQ012"] = _AddressIndexes()
    index = indexes.by_network.get(network)
    if index is None:
        if len(indexes.by_network) >= indexes.limit:
            idle = [name for name in indexes.by_network if not lifecycle.live_count(name)]
            for name in idle:
                del indexes.by_network[name]
            indexes.limit = 2 * len(indexes.by_network) + 64
        index = indexes.by_network[network] = _AddressIndex()
    return index


@cross_rule("SEQ012", "operation")
def live_attachments_have_distinct_addresses(context: OperationContext) -> Iterator[CrossViolation]:
    # A network is "a group of uniquely addressable endpoints".
    operation, lifecycle = context.operation, context.lifecycle
    if lifecycle is None or operation.command != "ADD" or operation.failed:
        return
    mine = _addresses_of(operation)
    if not mine:
        return
    holders: dict[IPAddress, list[tuple[Operation, Call]]] = {}
    index = _address_index(lifecycle, operation.network)
    for peer in index.live_holders(lifecycle, operation, [address for _, _, address in mine]):
        # The ADD that started later got an address already in use: it is the subject (reported once).
        if peer.seq > operation.seq or peer.attachment[1:] == operation.attachment[1:]:
            continue
        if _allocator(peer) != _allocator(operation):
            continue
        for shown_by, _, address in _addresses_of(peer):
            holders.setdefault(address, []).append((peer, shown_by))
    for holder, path, address in mine:
        peers = holders.get(address)
        if not peers:
            continue
        (peer, shown_by), others = peers[0], len(peers) - 1
        more = f" and {others} other live attachment{'s' if others > 1 else ''}" if others else ""
        message = (
            f"{address} of {_label(operation.attachment)} is also held by live attachment "
            f"{_label(peer.attachment)} ({shown_by.record.plugin} ADD at {shown_by.where}, no DEL since){more}"
            + _uncertain_output(holder, shown_by)
        )
        yield CrossViolation(holder, in_output(path, message), tuple(call for _, call in peers))


@cross_rule("SEQ013", "operation")
def one_container_one_namespace(context: OperationContext) -> Iterator[CrossViolation]:
    # A container is one isolation domain: all its live attachments sit in one namespace.
    operation = context.operation
    if operation.command != "ADD" or operation.failed:
        return
    first = operation.calls[0]
    mine = first.facts.variable("CNI_NETNS")
    for peer in operation.live_peers:
        theirs = peer.calls[0].facts.variable("CNI_NETNS")
        if peer.failed or not mine or not theirs or mine == theirs:
            continue
        message = (
            f"CNI_NETNS={show(mine)} of {_label(operation.attachment)} differs from {show(theirs)} of live "
            f"attachment {_label(peer.attachment)} (ADD at {peer.calls[0].where}) of the same container"
        )
        yield CrossViolation(first, in_env("CNI_NETNS", message), (peer.calls[0],))


# -- SEQ014, SEQ015: GC and the valid attachments list -----------------------------


def _valid_list(call: Call) -> tuple[str, list[Any]] | None:
    config = call.facts.config or {}
    for key in VALID_LISTS:
        if isinstance(config.get(key), list):
            return key, config[key]
    return None


def _entry_key(entry: Any) -> tuple[Any, Any]:
    return (entry.get("containerID"), entry.get("ifname")) if isinstance(entry, dict) else (None, None)


@cross_rule("SEQ014", "call")
def gc_is_not_used_instead_of_del(context: CallContext) -> Iterator[CrossViolation]:
    # GC MUST NOT replace DEL: every live attachment left out of the valid list needed a DEL first.
    call, lifecycle = context.call, context.lifecycle
    if lifecycle is None or not call.runtime_issued or call.command != "GC":
        return
    found = _valid_list(call)
    if found is None:
        return  # no list: GC002 reports it; nothing to compare
    key, entries = found
    valid = {_entry_key(entry) for entry in entries}
    for operation in lifecycle.live_adds_of_network(call.network):
        if (operation.container, operation.ifname) not in valid:
            message = (
                f"GC of {show(call.network)} leaves live attachment {_label(operation.attachment)} "
                f"(ADD at {operation.calls[0].where}) out of {key} without a DEL before it"
            )
            yield CrossViolation(call, in_input((key,), message), (operation.calls[0],))


def _ended(lifecycle: LifecycleTracker, attachments: dict, key: tuple[str | None, str, str]) -> Operation | None:
    """What shows an attachment is not live: its DEL, or its failed last ADD."""
    current = lifecycle.current.get(key)
    if current is not None and current.command == "DEL":
        return current
    attachment = attachments.get(key)
    last = _last_add_or_del(attachment) if attachment is not None else None
    if last is not None and (last.command == "DEL" or last.failed):
        return last
    return None


@cross_rule("SEQ015", "call")
def gc_valid_list_names_live_attachments(context: CallContext) -> Iterator[CrossViolation]:
    call, lifecycle = context.call, context.lifecycle
    if lifecycle is None or not call.runtime_issued or call.command != "GC":
        return
    found = _valid_list(call)
    if found is None:
        return
    list_key, entries = found
    for index, entry in enumerate(entries):
        container, ifname = _entry_key(entry)
        if not isinstance(container, str) or not isinstance(ifname, str):
            continue  # GC004 judges the entry's shape
        key = (call.network, container, ifname)
        if lifecycle.live_add(key) is not None:
            continue
        ended = _ended(lifecycle, context.attachments, key)
        if ended is None:
            continue  # never seen: the log may start late
        evidence = (ended.first_failure if ended.command == "ADD" else None) or ended.calls[0]
        what = "was DELeted" if ended.command == "DEL" else "failed its last ADD"
        message = f"{list_key} names {_label(key)}, which {what} at {evidence.where} before this GC"
        yield CrossViolation(call, in_input((list_key, index), message), (evidence,))
