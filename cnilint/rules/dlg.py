"""DLG: a delegated record (an IPAM plugin run by bridge, ptp, macvlan...) against
the upper record that ran it.

Pairing (cnilint.correlate.delegation) gives each delegate its upper; when
several uppers fitted equally well (`Pairing.ambiguous`), a difference is only
reported if the delegate differs from every one of them, and results are not
compared at all. The logging wrapper exits 0 whatever the delegate did, so an
upper never learns that its delegate failed: the rules that judge the reaction
to a delegate's failure (DLG008, DLG011) say so (wrapper_artefact).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from cnilint.correlate.calls import Call
from cnilint.correlate.delegation import Orphan, Pairing, UpperGroup, normal_cidr, output_certain
from cnilint.correlate.engine import canonical
from cnilint.rules import CrossViolation, cross_rule, in_env, in_input, in_output, in_record, show
from cnilint.rules.addresses import IPAddress, parse_ip

_SAME_ENVIRONMENT = ("CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH")
_WHOLE_CONFIGURATION = ("name", "cniVersion", "type")
# Well-known codes of a request refused before any work: incompatible version,
# unsupported field, invalid environment, undecodable or invalid configuration.
_REFUSAL_CODES = frozenset({1, 2, 4, 6, 7})
_FORWARDED_SINCE = {"DEL": (0, 3, 0), "CHECK": (0, 4, 0), "GC": (1, 1, 0), "STATUS": (1, 1, 0)}


def _at(call: Call) -> str:
    return f"{call.record.plugin or call.record.file}:{call.record.line}"


def _name(call: Call) -> str:
    return f"{call.record.plugin} {call.command}"


def _failure(call: Call) -> str:
    """How a failed record failed, for messages."""
    error = call.facts.error
    if error is None:
        return "non-JSON output"
    message = error.get("msg")
    return f"code {show(error.get('code'))}" + (f" {show(message)}" if message else "")


def _ambiguity(pairing: Pairing) -> str:
    if not pairing.ambiguous:
        return ""
    return " (pairing ambiguous: " + ", ".join(_at(upper) for upper in pairing.uppers) + " fit equally)"


# DLG001-DLG004: what the delegate was given


@cross_rule("DLG001", "pairing")
def delegate_sees_upper_environment(pairing: Pairing) -> Iterator[CrossViolation]:
    # The upper plugin execs its delegate with its own environment (SPEC, Section 4).
    upper, delegate = pairing.upper, pairing.delegate
    for name in _SAME_ENVIRONMENT:
        mine = delegate.facts.variable(name)
        if all(mine != candidate.facts.variable(name) for candidate in pairing.uppers):
            theirs = upper.facts.variable(name)
            message = f"{name}={show(mine)} differs from {show(theirs)} of the upper {_name(upper)} at {_at(upper)}"
            yield CrossViolation(delegate, in_env(name, message + _ambiguity(pairing)), (upper,))


@cross_rule("DLG002", "pairing")
def delegate_runs_upper_command(pairing: Pairing) -> Iterator[CrossViolation]:
    # Same environment, CNI_COMMAND included; only a cleanup DEL inside an ADD differs.
    upper, delegate = pairing.upper, pairing.delegate
    if delegate.command == upper.command or (upper.command == "ADD" and delegate.command == "DEL"):
        return
    message = (
        f"{delegate.record.plugin} ran CNI_COMMAND={show(delegate.command)} inside the upper "
        f"{_name(upper)} at {_at(upper)}: only a cleanup DEL inside an ADD may differ"
    )
    yield CrossViolation(delegate, in_env("CNI_COMMAND", message), (upper,))


def _configuration_gaps(delegate: dict[str, Any], upper: Call) -> list[tuple[tuple[str, ...], str]]:
    """(path, what is wrong) where the delegate's INPUT is not the upper's whole configuration."""
    if not isinstance(delegate.get("ipam"), dict):
        return [((), "has no ipam object: it is a bare ipam section, not the whole network configuration")]
    gaps: list[tuple[tuple[str, ...], str]] = []
    config = upper.facts.config
    for key in _WHOLE_CONFIGURATION:
        mine = delegate.get(key)
        if config is not None:
            theirs = config.get(key)
        elif key == "type":  # configuration not logged (terminal): the upper is its own type
            theirs = upper.record.plugin
        else:
            continue
        if mine != theirs:
            where = (key,) if key in delegate else ()
            state = f"{key} {show(mine)}" if key in delegate else f"no {key}"
            gaps.append((where, f"has {state} where the upper's configuration has {show(theirs)}"))
    return gaps


@cross_rule("DLG003", "pairing")
def delegate_gets_whole_configuration(pairing: Pairing) -> Iterator[CrossViolation]:
    # "Delegated plugins are provided the complete network configuration passed
    # to the upper plugin ... not just the ipam section" (SPEC, Section 4).
    upper, delegate = pairing.upper, pairing.delegate
    config = delegate.facts.config
    if config is None:
        return  # INPUT not one JSON object: CONF001 reports it
    for path, problem in _configuration_gaps(config, upper):
        if all(any(gap == problem for _, gap in _configuration_gaps(config, other)) for other in pairing.uppers):
            message = f"{delegate.record.plugin} INPUT {problem} (upper {_name(upper)} at {_at(upper)})"
            yield CrossViolation(delegate, in_input(path, message + _ambiguity(pairing)), (upper,))


def _input_differences(delegate: Call, upper: Call) -> list[str] | None:
    """Top-level INPUT keys that differ (JSON equality), [] for raw text that
    differs, None when equal or when the upper's INPUT was not logged."""
    mine, theirs = delegate.record.input, upper.record.input
    if mine is None or theirs is None or mine.raw == theirs.raw:
        return None  # the same bytes decode to the same configuration
    left, right = delegate.facts.config, upper.facts.config
    if left is None or right is None:
        return []
    keys = sorted(set(left) | set(right))
    differing = [
        key for key in keys if key not in left or key not in right or canonical(left[key]) != canonical(right[key])
    ]
    return differing or None


@cross_rule("DLG004", "pairing")
def delegate_gets_exact_configuration(pairing: Pairing) -> Iterator[CrossViolation]:
    # "Execute that plugin with the same environment and configuration that it received."
    upper, delegate = pairing.upper, pairing.delegate
    differences = [_input_differences(delegate, candidate) for candidate in pairing.uppers]
    if any(difference is None for difference in differences):
        return
    keys = differences[pairing.uppers.index(upper)]
    config = delegate.facts.config or {}
    path = next(((key,) for key in keys if key in config), ())
    what = ("keys " + ", ".join(show(key) for key in keys)) if keys else "its text"
    message = f"INPUT differs from the upper {_name(upper)}'s at {_at(upper)} in {what}"
    yield CrossViolation(delegate, in_input(path, message + _ambiguity(pairing)), (upper,))


# DLG005-DLG007: the delegate's result in the upper's result


def _applied_delegate(group: UpperGroup) -> Call | None:
    """The successful delegated ADD whose result a successful upper ADD applied,
    when the pairing is certain and both outputs are the calls' own."""
    upper = group.upper
    if upper.command != "ADD" or upper.facts.failed or not isinstance(upper.facts.result, dict):
        return None
    if not output_certain(upper):
        return None
    for pairing in reversed(group.pairings):
        delegate = pairing.delegate
        if delegate.command == "ADD" and not delegate.facts.failed and isinstance(delegate.facts.result, dict):
            return delegate if not pairing.ambiguous and output_certain(delegate) else None
    return None


@lru_cache(maxsize=1024)  # gateways repeat from one result to the next
def _text_ip(text: str) -> IPAddress | None:
    return parse_ip(text)


def _ip(value: Any) -> IPAddress | None:
    return _text_ip(value) if isinstance(value, str) else parse_ip(value)


def _normal_route(route: Any) -> str:
    if not isinstance(route, dict):
        return canonical(route)
    normal = dict(route)
    if isinstance(normal.get("dst"), str):
        normal["dst"] = normal_cidr(normal["dst"])
    gateway = _ip(normal.get("gw"))
    if gateway is not None:
        normal["gw"] = str(gateway)
    return canonical(normal)


def _same_ip(left: Any, right: Any) -> bool:
    a, b = _ip(left), _ip(right)
    return a == b if a is not None and b is not None else left == right


def _blocks(result: dict[str, Any]) -> list[tuple[tuple[str | int, ...], dict[str, Any], str]]:
    """(path, block, address key) of each address block: ips[] or ip4/ip6."""
    if isinstance(result.get("ips"), list):
        return [(("ips", i), ip, "address") for i, ip in enumerate(result["ips"]) if isinstance(ip, dict)]
    return [((family,), result[family], "ip") for family in ("ip4", "ip6") if isinstance(result.get(family), dict)]


def _addresses(result: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any], str]]:
    """(path, block, normalised address) of each address block with a textual address."""
    for path, block, key in _blocks(result):
        if isinstance(block.get(key), str):
            yield path, block, normal_cidr(block[key])


def _route_lists(result: dict[str, Any]) -> Iterator[tuple[tuple[str, ...], list[Any]]]:
    """(path, routes): top level from 0.3.0, inside ip4/ip6 for 0.1.0/0.2.0."""
    if "ips" in result or "routes" in result:
        routes = result.get("routes")
        yield ("routes",), routes if isinstance(routes, list) else []
        return
    for family in ("ip4", "ip6"):
        block = result.get(family)
        routes = block.get("routes") if isinstance(block, dict) else None
        if isinstance(routes, list):
            yield (family, "routes"), routes


def _missing_from_upper(delegate: dict[str, Any], upper: dict[str, Any]) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(path in the upper's result, what is missing) for the delegate's addresses,
    gateways and routes."""
    theirs = {address: (path, block) for path, block, address in _addresses(upper)}
    for path, block, address in _addresses(delegate):
        found = theirs.get(address)
        if found is None:
            yield (path[:1], f"address {show(address)} is missing")
            continue
        gateway = block.get("gateway")
        if gateway is not None and not _same_ip(gateway, found[1].get("gateway")):
            gateway_path = (*found[0], "gateway") if "gateway" in found[1] else found[0]
            yield (
                gateway_path,
                f"address {show(address)} has gateway {show(found[1].get('gateway'))}, not {show(gateway)}",
            )
    upper_routes = dict(_route_lists(upper))
    for path, routes in _route_lists(delegate):
        if len(path) > 1 and not isinstance(upper.get(path[0]), dict):
            continue  # the whole ip4/ip6 block is missing: reported with its address
        present = {_normal_route(route) for route in upper_routes.get(path, [])}
        for route in routes:
            if _normal_route(route) not in present:
                yield (path if path in upper_routes else path[:-1] or (), f"route {show(route)} is missing")


@cross_rule("DLG005", "group")
def delegate_result_reaches_upper(group: UpperGroup) -> Iterator[CrossViolation]:
    # The ips, routes and dns of an ADD result "should be the same output as was
    # returned by the IPAM plugin", plus interface indexes (0.3.0-0.4.0 Result;
    # 1.x: the IPAM result is applied by the main plugin).
    delegate = _applied_delegate(group)
    if delegate is None:
        return
    upper = group.upper
    for path, problem in _missing_from_upper(delegate.facts.result, upper.facts.result):
        message = f"{problem} in {_name(upper)}'s result: {delegate.record.plugin} returned it at {_at(delegate)}"
        yield CrossViolation(upper, in_output(path, message), (delegate,))


_NO_DNS = canonical({})


def _normal_dns(dns: Any) -> str:
    """dns with empty fields dropped: {} and an absent dns are alike."""
    if not isinstance(dns, dict):
        return canonical(dns) if dns is not None else _NO_DNS
    return canonical({key: value for key, value in dns.items() if value not in (None, "", [], {})})


@cross_rule("DLG006", "group")
def upper_dns_from_delegate_or_config(group: UpperGroup) -> Iterator[CrossViolation]:
    # The reference plugins return the configuration's dns when it sets one,
    # else what the IPAM plugin returned.
    delegate = _applied_delegate(group)
    if delegate is None:
        return
    upper = group.upper
    configured = (upper.facts.config or {}).get("dns")
    from_config = _normal_dns(configured) != _normal_dns(None)
    expected = configured if from_config else delegate.facts.result.get("dns")
    actual = upper.facts.result.get("dns")
    if _normal_dns(actual) != _normal_dns(expected):
        source = "the configuration's dns" if from_config else f"{delegate.record.plugin}'s dns at {_at(delegate)}"
        message = f"{_name(upper)} returned dns {show(actual)}, not {source} {show(expected)}"
        path = ("dns",) if "dns" in upper.facts.result else ()
        yield CrossViolation(upper, in_output(path, message), (delegate,))


@cross_rule("DLG007", "group")
def upper_addresses_not_from_delegate(group: UpperGroup) -> Iterator[CrossViolation]:
    # Listed for review: the SPEC allows addresses assigned outside the container,
    # but stale or invented addresses look the same.
    delegate = _applied_delegate(group)
    if delegate is None:
        return
    upper = group.upper
    returned = {address for _, _, address in _addresses(delegate.facts.result)}
    for path, block, address in _addresses(upper.facts.result):
        if address not in returned:
            key = "address" if "address" in block else "ip"
            message = (
                f"address {show(block[key])} of {_name(upper)} was not returned by "
                f"{delegate.record.plugin} at {_at(delegate)}"
            )
            yield CrossViolation(upper, in_output((*path, key), message), (delegate,))


# DLG008-DLG011: cleanup, forwarding and failures


def _relayed(upper: Call, delegate: Call) -> bool:
    """The upper's error repeats the delegate's: it saw the failure, so the
    wrapper did not hide it."""
    mine, theirs = upper.facts.error, delegate.facts.error
    if mine is None or theirs is None or not isinstance(theirs.get("msg"), str) or not theirs["msg"]:
        return False
    text = " ".join(str(mine.get(key, "")) for key in ("msg", "details"))
    return theirs["msg"] in text


@cross_rule("DLG008", "group")
def failed_delegate_add_cleaned_up(group: UpperGroup) -> Iterator[CrossViolation]:
    # 1.x: "If, on ADD, a delegated plugin fails, the upper plugin should execute
    # again with DEL before returning failure."
    upper = group.upper
    if upper.command != "ADD":
        return
    for position, pairing in enumerate(group.pairings):
        delegate = pairing.delegate
        if delegate.command != "ADD" or not delegate.facts.failed or pairing.ambiguous or not output_certain(delegate):
            continue
        later = group.delegates[position + 1 :]
        if any(call.command == "DEL" and call.record.plugin == delegate.record.plugin for call in later):
            continue
        # Behind the wrapper the upper read the error object as an empty success:
        # unless its own error repeats the delegate's, it never knew.
        saw_it = _relayed(upper, delegate)
        message = (
            f"{delegate.record.plugin} ADD failed at {_at(delegate)} ({_failure(delegate)}) and {upper.record.plugin} "
            f"ran no {delegate.record.plugin} DEL before returning"
        )
        yield CrossViolation(upper, in_record(message), (delegate,), wrapper_artefact=not saw_it)


@cross_rule("DLG009", "group")
def failed_upper_add_releases_delegate(group: UpperGroup) -> Iterator[CrossViolation]:
    # The upper ADD failed after its IPAM ADD allocated: the allocation must be
    # released (the plugin's own cleanup DEL, or the delegate DEL of a later
    # runtime DEL) before the attachment is added again.
    allocated = group.unreleased_add
    if allocated is None or group.released_by is not None:
        return
    if any(pairing.delegate is allocated and pairing.ambiguous for pairing in group.pairings):
        return
    upper = group.upper
    until = (
        f"before the next ADD at {_at(group.next_add)}" if group.next_add is not None else "up to the end of the logs"
    )
    message = (
        f"{_name(upper)} failed ({_failure(upper)}) after {allocated.record.plugin} allocated at {_at(allocated)}; "
        f"no {allocated.record.plugin} DEL released it {until}"
    )
    related = (allocated,) + ((group.next_add,) if group.next_add is not None else ())
    yield CrossViolation(upper, in_record(message), related)


@cross_rule("DLG010", "group")
def del_check_forwarded_to_delegate(group: UpperGroup) -> Iterator[CrossViolation]:
    # "If a plugin is executed with CNI_COMMAND=CHECK, DEL, or GC, it must also
    # execute any delegated plugins" (1.x; STATUS and GC from 1.1.0; 0.4.0 CHECK:
    # should call CHECK on delegates; 0.3.x: bridge should delegate DEL to IPAM).
    upper = group.upper
    plugin, command, version = upper.facts.ipam_type, upper.command, upper.facts.version
    since = _FORWARDED_SINCE.get(command or "")
    if plugin is None or since is None or version is None or version < since:
        return
    if plugin not in group.logs_seen:
        return  # no record of that plugin's log yet: it is likely not among the logs checked
    error = upper.facts.error
    if error is not None and error.get("code") in _REFUSAL_CODES:
        return  # the request was refused before any work: nothing to forward
    if group.delegates_of(command, plugin):
        return
    message = f"{_name(upper)} names ipam.type {show(plugin)} but no {plugin} {command} of its attachment ran inside it"
    contested = [pairing for pairing in group.contested if pairing.delegate.command == command]
    if contested:
        message += f" (a {plugin} {command} that fits it equally was given to {_at(contested[0].upper)})"
    yield CrossViolation(upper, in_input(("ipam", "type"), message), tuple(pairing.delegate for pairing in contested))


@cross_rule("DLG011", "group")
def delegate_failure_propagates(group: UpperGroup) -> Iterator[CrossViolation]:
    # "If any of the delegated plugins return error, error should be returned by
    # the upper plugin"; on ADD the upper returns failure after the cleanup DEL,
    # so a failed delegate of the upper's own command counts as well as the last one.
    upper = group.upper
    if upper.facts.failed or not group.pairings:
        return
    last = group.pairings[-1]
    same_command = [pairing for pairing in group.pairings if pairing.delegate.command == upper.command]
    for pairing in dict.fromkeys([last, *same_command[-1:]]):
        delegate = pairing.delegate
        if not delegate.facts.failed or pairing.ambiguous or not output_certain(delegate):
            continue
        message = (
            f"{_name(upper)} succeeded although {delegate.record.plugin} {delegate.command} failed at "
            f"{_at(delegate)} ({_failure(delegate)})"
        )
        # The wrapper exits 0, so the upper's exec of its delegate succeeded: it
        # could not see the error object it was not told about.
        yield CrossViolation(upper, in_record(message), (delegate,), wrapper_artefact=True)
        return


@cross_rule("DLG012", "orphan")
def delegated_record_has_an_upper(orphan: Orphan) -> Iterator[CrossViolation]:
    # The plugin, not the runtime, invokes the IPAM plugin (SPEC, Section 4).
    delegate = orphan.delegate
    if delegate.plugin_type is None:
        return  # INPUT.type names no plugin: nothing could have delegated (CONF007 reports the config)
    message = (
        f"{delegate.record.plugin} {delegate.command} names type {show(delegate.plugin_type)} but {orphan.reason}: "
        "the upper plugin's log is missing, or a runtime called the IPAM plugin directly"
    )
    yield CrossViolation(delegate, in_record(message))
