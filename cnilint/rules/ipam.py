"""IPAM: the OUTPUT of a successful delegated IPAM ADD (a record whose plugin
is INPUT.ipam.type, not INPUT.type), and what the reference host-local does.

IPAM001, IPAM002 and IPAM004 are the SPEC's abbreviated Success object
(schemas/ipam-result.json). IPAM005-IPAM008 compare a host-local result with
the configuration host-local read: they follow plugins/ipam/host-local
(allocator/config.go LoadIPAMConfig, range.go Canonicalize, main.go cmdAdd).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cnilint.facts import DELEGATED, MEMO_MAX_TEXT, SUCCEEDED, Facts
from cnilint.rules import JsonPath, TextMemo, Violation, in_env, in_input, in_output, register_check, rule, show
from cnilint.rules.addresses import IPAddress, IPNetwork, has_host_bits, network, parse_cidr, parse_ip
from cnilint.rules.schema import document_violations, owned_rules

HOST_LOCAL = "host-local"
IPAM_RESULT_SCHEMA = "ipam-result.json"


def ipam_result(facts: Facts) -> dict[str, Any] | None:
    """The OUTPUT of a successful delegated IPAM invocation, when it is a JSON
    object (an empty or non-JSON OUTPUT is RES001's business via IPAM003)."""
    if not facts.delegated or facts.failed:
        return None
    result = facts.result
    return result if isinstance(result, dict) else None


def _ipam_result_schema(facts: Facts) -> Iterator[tuple[str, Violation]]:
    result = ipam_result(facts)
    output = facts.record.output
    if result is not None and output is not None:
        yield from document_violations(IPAM_RESULT_SCHEMA, output.raw, result, "output")


register_check("ipam_result_schema", owned_rules(IPAM_RESULT_SCHEMA), _ipam_result_schema, needs=DELEGATED | SUCCEEDED)


# ---------------------------------------------------------------- host-local's view of its config


def go_field(node: Any, name: str) -> tuple[str, Any] | None:
    """(key, value) that Go's encoding/json would decode into the struct field
    tagged `name`: keys match case-insensitively and the last match wins; a
    null counts as absent."""
    if not isinstance(node, dict):
        return None
    found = None
    for key, value in node.items():
        if key.casefold() == name.casefold():
            found = (key, value)
    return found if found is not None and found[1] is not None else None


def _go_value(node: Any, name: str) -> Any:
    field = go_field(node, name)
    return field[1] if field is not None else None


def _ip_field(entry: Any, name: str) -> tuple[bool, IPAddress | None]:
    """(readable, address) of an optional net.IP field: absent or "" is nil."""
    value = _go_value(entry, name)
    if value is None or value == "":
        return True, None
    address = parse_ip(value)
    return address is not None, address


@dataclass(frozen=True, slots=True)
class HostLocalRange:
    """One range after host-local's Range.Canonicalize: defaults filled in."""

    subnet: IPNetwork
    start: IPAddress
    end: IPAddress
    gateway: IPAddress

    def in_subnet(self, address: IPAddress) -> bool:
        return address.version == self.subnet.version and address in self.subnet

    def in_range(self, address: IPAddress) -> bool:
        return self.in_subnet(address) and self.start <= address <= self.end  # type: ignore[operator]

    def __str__(self) -> str:
        return f"{self.subnet} ({self.start}-{self.end}, gateway {self.gateway})"


def _range(entry: Any) -> HostLocalRange | None:
    """A range as Canonicalize completes it; None when host-local would
    refuse it (then no ADD with this config can have succeeded)."""
    parsed = parse_cidr(_go_value(entry, "subnet"))
    if parsed is None:
        return None
    if has_host_bits(*parsed):  # "Network has host bits set"
        return None
    subnet = network(*parsed)
    if subnet.prefixlen > subnet.max_prefixlen - 2:  # "too small to allocate from"
        return None
    first = subnet.network_address + 1
    # The last address, minus the broadcast address for IPv4 (range.go lastIP).
    last = subnet.broadcast_address - 1 if subnet.version == 4 else subnet.broadcast_address
    fields = {name: _ip_field(entry, name) for name in ("gateway", "rangeStart", "rangeEnd")}
    if not all(readable for readable, _ in fields.values()):
        return None
    bounds = (fields["rangeStart"][1], fields["rangeEnd"][1])
    if any(bound is not None and (bound.version != subnet.version or bound not in subnet) for bound in bounds):
        return None  # "RangeStart/RangeEnd ... not in network"
    return HostLocalRange(
        subnet=subnet,
        start=fields["rangeStart"][1] or first,
        end=fields["rangeEnd"][1] or last,
        gateway=fields["gateway"][1] or first,
    )


def _range_set(entries: Any) -> list[HostLocalRange] | None:
    if not isinstance(entries, list) or not entries:
        return None
    ranges = [_range(entry) for entry in entries]
    return None if any(r is None for r in ranges) else ranges  # type: ignore[return-value]


def host_local_range_sets(config: dict[str, Any]) -> list[list[HostLocalRange]] | None:
    """The range sets host-local allocates from, in its order: runtimeConfig.
    ipRanges, then the legacy single range (ipam.subnet), then ipam.ranges.
    None when host-local could not read them."""
    ipam = _go_value(config, "ipam")
    if not isinstance(ipam, dict):
        return None
    sources: list[Any] = []
    runtime_ranges = _go_value(_go_value(config, "runtimeConfig"), "ipRanges")
    if runtime_ranges is not None:
        if not isinstance(runtime_ranges, list):
            return None
        sources += runtime_ranges
    if go_field(ipam, "subnet") is not None:
        sources.append([ipam])
    ranges = _go_value(ipam, "ranges")
    if ranges is not None:
        if not isinstance(ranges, list):
            return None
        sources += ranges
    sets = [_range_set(source) for source in sources]
    if not sets or any(s is None for s in sets):
        return None  # host-local: "no IP ranges specified" or an invalid range set
    return sets  # type: ignore[return-value]


# ---------------------------------------------------------------- what the result returned


@dataclass(frozen=True, slots=True)
class ReturnedAddress:
    entry: JsonPath  # the ips[] entry (or ip4/ip6 block)
    address_key: str
    address: IPAddress
    prefix: int
    gateway: Any  # as written; None when absent

    @property
    def path(self) -> JsonPath:
        return (*self.entry, self.address_key)


def returned_addresses(result: dict[str, Any]) -> list[ReturnedAddress]:
    """The readable addresses of a result: ips[] (0.3.0 on) or ip4/ip6 (0.1.0, 0.2.0)."""
    found: list[ReturnedAddress] = []
    entries: list[tuple[JsonPath, Any, str]] = []
    ips = result.get("ips")
    if isinstance(ips, list):
        entries += [(("ips", index), entry, "address") for index, entry in enumerate(ips)]
    entries += [((block,), result.get(block), "ip") for block in ("ip4", "ip6")]
    for path, entry, key in entries:
        if not isinstance(entry, dict):
            continue
        parsed = parse_cidr(entry.get(key))
        if parsed is not None:
            found.append(ReturnedAddress(path, key, parsed[0], parsed[1], entry.get("gateway")))
    return found


# host-local's ranges of a configuration, kept by INPUT's text (a node's few configurations).
_RANGE_SETS = TextMemo(256)
_NONE = ("none",)  # a kept "host-local could not read them"


def _range_sets(facts: Facts, config: dict[str, Any]) -> list[list[HostLocalRange]] | None:
    """host_local_range_sets of the record's INPUT (`config`), kept by its text."""
    text = facts.record.input.raw if facts.record.input is not None else None
    if text is None or len(text) > MEMO_MAX_TEXT:
        return host_local_range_sets(config)
    found = _RANGE_SETS.get(text)
    if found is None:
        found = _RANGE_SETS.put(text, host_local_range_sets(config) or _NONE)
    return None if found is _NONE else found  # type: ignore[no-any-return]


def _host_local_context(facts: Facts) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """(result, config) of a successful delegated host-local ADD."""
    result = ipam_result(facts)
    if result is None or facts.record.plugin != HOST_LOCAL or facts.config is None:
        return None
    return result, facts.config


# ---------------------------------------------------------------- IPAM005-IPAM008


@rule("IPAM005", needs=DELEGATED | SUCCEEDED)
def one_address_per_range_set(facts: Facts) -> Iterator[Violation]:
    # cmdAdd allocates exactly one address from each range set, in order.
    context = _host_local_context(facts)
    sets = _range_sets(facts, context[1]) if context else None
    if context is None or sets is None:
        return
    ips = context[0].get("ips")
    count = len(ips) if isinstance(ips, list) else 0
    if count != len(sets):
        yield in_output(
            ("ips",),
            f"host-local returned {count} address(es) for {len(sets)} range set(s) "
            f"({', '.join(str(s[0].subnet) for s in sets)})",
        )


def _range_problems(returned: ReturnedAddress, ranges: list[HostLocalRange]) -> Iterator[Violation]:
    address, where = returned.address, returned.path
    text = f"{address}/{returned.prefix}"
    candidates = [r for r in ranges if r.in_subnet(address)]
    if not candidates:
        subnets = ", ".join(str(r.subnet) for r in ranges)
        yield in_output(where, f"{text} lies in no configured host-local subnet ({subnets})")
        return
    inside = next((r for r in candidates if r.in_range(address)), None)
    chosen = inside or candidates[0]
    if inside is None:
        yield in_output(where, f"{text} is outside rangeStart-rangeEnd of {chosen}")
    if returned.prefix != chosen.subnet.prefixlen:
        yield in_output(where, f"{text} does not carry the prefix length of its subnet {chosen.subnet}")
    if address == chosen.gateway:
        yield in_output(where, f"{text} is the range gateway, which host-local never allocates")
    gateway_path = (*returned.entry, "gateway")
    if returned.gateway is None:
        yield in_output(returned.entry, f"no gateway returned for {text}; host-local returns {chosen.gateway}")
    elif parse_ip(returned.gateway) != chosen.gateway:
        yield in_output(
            gateway_path, f"gateway {show(returned.gateway)} is not the range gateway {chosen.gateway} of {text}"
        )


@rule("IPAM006", needs=DELEGATED | SUCCEEDED)
def allocated_inside_the_range(facts: Facts) -> Iterator[Violation]:
    context = _host_local_context(facts)
    sets = _range_sets(facts, context[1]) if context else None
    if context is None or sets is None:
        return
    ranges = [r for range_set in sets for r in range_set]
    for returned in returned_addresses(context[0]):
        yield from _range_problems(returned, ranges)


def _requested_address(value: Any) -> IPAddress | None:
    """A requested IP as host-local reads it: a plain IP (or IP/prefix, as
    runtimeConfig.ips allows); None when unreadable."""
    address = parse_ip(value)
    if address is None:
        parsed = parse_cidr(value)
        address = parsed[0] if parsed is not None else None
    return address


def _requested_lists(config: dict[str, Any]) -> Iterator[tuple[JsonPath, list[Any]]]:
    """(path, list) of args.cni.ips and runtimeConfig.ips, as host-local finds them."""
    args = go_field(config, "args")
    cni = go_field(args[1], "cni") if args else None
    ips = go_field(cni[1], "ips") if args and cni else None
    if args and cni and ips and isinstance(ips[1], list):
        yield (args[0], cni[0], ips[0]), ips[1]
    runtime = go_field(config, "runtimeConfig")
    ips = go_field(runtime[1], "ips") if runtime else None
    if runtime and ips and isinstance(ips[1], list):
        yield (runtime[0], ips[0]), ips[1]


def _requested(facts: Facts, config: dict[str, Any]) -> Iterator[tuple[IPAddress, Any, JsonPath | None]]:
    """(address, as written, INPUT path or None for CNI_ARGS) of every IP
    requested through CNI_ARGS IP=, args.cni.ips and runtimeConfig.ips."""
    cni_args_ip = [value for key, value in facts.record.cni_args_pairs if key == "IP"]
    if cni_args_ip:  # LoadArgs: the last IP= wins
        address = _requested_address(cni_args_ip[-1])
        if address is not None:
            yield address, cni_args_ip[-1], None
    for path, values in _requested_lists(config):
        for index, value in enumerate(values):
            address = _requested_address(value)
            if address is not None:
                yield address, value, (*path, index)


@rule("IPAM007", needs=DELEGATED | SUCCEEDED)
def requested_addresses_returned(facts: Facts) -> Iterator[Violation]:
    # cmdAdd fails unless every requested IP was allocated, so a success must list them.
    context = _host_local_context(facts)
    if context is None:
        return
    result, config = context
    returned = {r.address for r in returned_addresses(result)}
    for address, written, path in _requested(facts, config):
        if address in returned:
            continue
        if path is None:
            yield in_env("CNI_ARGS", f"CNI_ARGS IP={written} is not among the returned addresses")
        else:
            yield in_input(path, f"requested IP {show(written)} is not among the returned addresses")


def _route_key(route: Any) -> tuple[IPAddress, int, IPAddress | None] | None:
    """(dst address, prefix, gw) of a route, or None when unreadable."""
    parsed = parse_cidr(_go_value(route, "dst"))
    if parsed is None:
        return None
    readable, gateway = _ip_field(route, "gw")
    return (parsed[0], parsed[1], gateway) if readable else None


def _route_text(key: tuple[IPAddress, int, IPAddress | None]) -> str:
    dst = ipaddress.ip_interface(f"{key[0]}/{key[1]}")
    return f"{dst}" + (f" via {key[2]}" if key[2] is not None else "")


def _returned_routes(result: dict[str, Any]) -> tuple[list[tuple[JsonPath, Any]], dict[int, str] | None]:
    """(path, route) of the result's routes, and for a 0.1.0/0.2.0 result the
    ip4/ip6 block that carries each family's routes (None: routes[])."""
    if "ip4" not in result and "ip6" not in result:
        routes = result.get("routes")
        found = [(("routes", i), route) for i, route in enumerate(routes)] if isinstance(routes, list) else []
        return found, None
    blocks: dict[int, str] = {}
    found = []
    for block, family in (("ip4", 4), ("ip6", 6)):
        if isinstance(result.get(block), dict):
            blocks[family] = block
            block_routes = result[block].get("routes")
            if isinstance(block_routes, list):
                found += [((block, "routes", i), route) for i, route in enumerate(block_routes)]
    return found, blocks


@rule("IPAM008", needs=DELEGATED | SUCCEEDED)
def configured_routes_returned(facts: Facts) -> Iterator[Violation]:
    # cmdAdd returns ipam.routes as they are (result.Routes = ipamConf.Routes).
    context = _host_local_context(facts)
    if context is None:
        return
    result, config = context
    configured_field = go_field(_go_value(config, "ipam"), "routes")
    configured_routes = configured_field[1] if configured_field else []
    if not isinstance(configured_routes, list):
        return
    configured = [_route_key(route) for route in configured_routes]
    if any(key is None for key in configured):
        return  # host-local would have refused this config
    returned, blocks = _returned_routes(result)
    # libcni's conversion to 0.2.0 drops the routes of a family without an address.
    expected = {key for key in configured if key is not None and (blocks is None or key[0].version in blocks)}
    returned_keys = set()
    for path, route in returned:
        key = _route_key(route)
        if key is None:
            continue  # an unreadable route is RES022/RES023's finding
        returned_keys.add(key)
        if key not in expected:
            yield in_output(path, f"route {show(route)} is not in ipam.routes")
    for key in dict.fromkeys(k for k in configured if k in expected and k not in returned_keys):
        where: JsonPath = ("routes",) if blocks is None else (blocks[key[0].version], "routes")  # type: ignore[index]
        yield in_output(where, f"ipam.routes entry {_route_text(key)} is missing from the result")  # type: ignore[arg-type]
