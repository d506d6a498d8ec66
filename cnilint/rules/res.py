"""RES: the result of a successful ADD, wherever a result appears.

One set of checks judges any result object against the spec version of the
request: the OUTPUT of a runtime-issued ADD (RES001-RES031), the OUTPUT of a
delegated IPAM ADD (the IPAM003 subset, reported under the RES IDs), and
INPUT.prevResult (CONF022). A `ResultView` says where the result sits
(document and base path) and what it is judged against, so each check is
written once.

Structure (types, required keys, shapes) is in schemas/result-*.json, one
schema per result family; the functions here add what a schema cannot say:
addresses as Go parses them, address families, indexes into interfaces,
duplicates, the environment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from cnilint.catalogue import catalogue
from cnilint.facts import DELEGATED, PREV_RESULT, SUCCEEDED, UPPER, Facts
from cnilint.parse.jsonpos import format_path
from cnilint.rules import JsonPath, TextMemo, Violation, in_input, in_output, register_check, show
from cnilint.rules.addresses import IPAddress, family, has_host_bits, network, parse_cidr, parse_ip, parse_mac
from cnilint.rules.schema import document_violations, schema_violations
from cnilint.versions import Version, version_text

# Every RES rule runs on the OUTPUT of a runtime-issued ADD.
RESULT_RULES = frozenset(f"RES{number:03d}" for number in range(1, 32))
# IPAM003: the rules a delegated IPAM result is held to (no interfaces, no ips[].interface).
DELEGATED_RULES = frozenset(f"RES{number:03d}" for number in (*range(1, 6), *range(13, 18), *range(21, 32)))
# CONF022: the structural rules a prevResult must pass. Only those that are
# errors at the request's version are applied (see `prev_result_rules`):
# advisories and checks against the environment (RES005, 007-009, 011, 012,
# 016, 017, 019-021, 026) are already reported on the OUTPUT of the plugin
# that produced the result, and must not become CONF022 errors.
PREV_RESULT_RULES = frozenset(
    f"RES{number:03d}" for number in (4, 6, 10, 13, 14, 15, 18, 22, 23, 24, 25, 27, 28, 29, 30, 31)
)
DELEGATED_PREFIX = "delegated IPAM result: "

# Top-level keys per result family (Appendix C); the other family's keys are RES004's.
_LEGACY_KEYS = frozenset({"cniVersion", "ip4", "ip6", "dns"})
_MODERN_KEYS = frozenset({"cniVersion", "interfaces", "ips", "routes", "dns"})
# Fields spec-v1.1.0 added to interfaces and routes.
_NEW_INTERFACE_FIELDS = ("mtu", "socketPath", "pciID")
_NEW_ROUTE_FIELDS = ("mtu", "advmss", "priority", "table", "scope")


def result_family(version: Version) -> str:
    """The result schema family of a spec version: 0.2, 0.4, 1.0 or 1.1."""
    if version < (0, 3, 0):
        return "0.2"
    if version < (1, 0, 0):
        return "0.4"
    return "1.0" if version < (1, 1, 0) else "1.1"


@dataclass(slots=True)
class ResultView:
    """A result object to check, where it sits and what it is judged against
    (read-only once made)."""

    value: dict[str, Any]
    version: Version | None  # the request's spec version; None when malformed
    document: str = "output"  # "output", or "input" for prevResult
    base: JsonPath = ()  # () for OUTPUT, ("prevResult",) for INPUT.prevResult
    expected_version: str | None = None  # the cniVersion the result must echo
    delegated: bool = False
    ifname: str = ""  # CNI_IFNAME
    netns: str = ""  # CNI_NETNS
    family: str | None = field(init=False)  # the result schema family of `version`
    _entries: dict[str, list[tuple[int, dict[str, Any]]]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.family = result_family(self.version) if self.version is not None else None
        self._entries = {}

    @property
    def label(self) -> str:
        return version_text(self.version) if self.version is not None else "?"

    def where(self, *path: str | int) -> str:
        return _format_path((*self.base, *path))

    def at(self, path: JsonPath, message: str) -> Violation:
        return Violation(message, self.document, (*self.base, *path))

    def entries(self, key: str) -> list[tuple[int, dict[str, Any]]]:
        """(index, entry) of the objects in a top-level array (others are the
        schema's); worked out once per key, as most checks walk the same arrays."""
        found = self._entries.get(key)
        if found is None:
            items = self.value.get(key)
            found = self._entries[key] = (
                [(index, entry) for index, entry in enumerate(items) if isinstance(entry, dict)]
                if isinstance(items, list)
                else []
            )
        return found

    def blocks(self) -> Iterator[tuple[str, int, dict[str, Any]]]:
        """0.1.0/0.2.0: (key, IP version, block) for ip4 and ip6."""
        for key, number in (("ip4", 4), ("ip6", 6)):
            block = self.value.get(key)
            if isinstance(block, dict):
                yield key, number, block


# Messages name the same few paths over and over ($.ips[0].address, ...).
_format_path = lru_cache(maxsize=1024)(format_path)
ResultCheck = Callable[[ResultView], Iterable[Violation]]
_RESULT_CHECKS: list[tuple[str, ResultCheck]] = []


def result_rule(rule_id: str) -> Callable[[ResultCheck], ResultCheck]:
    """Register a check of any result object under a RES rule."""

    def register(check: ResultCheck) -> ResultCheck:
        _RESULT_CHECKS.append((rule_id, check))
        return check

    return register


def _applies(rule_id: str, version: Version | None) -> bool:
    """As the engine decides: the rule's versions hold the request's version
    (a malformed version gets only the `>=0.1.0` rules)."""
    versions = catalogue()[rule_id].versions
    return versions.open_from_first if version is None else version in versions


@lru_cache(maxsize=256)
def _plan(
    rule_ids: frozenset[str], version: Version | None
) -> tuple[frozenset[str], tuple[tuple[str, ResultCheck], ...]]:
    """The rules of `rule_ids` that apply at `version`, and their Python checks in registration order."""
    wanted = frozenset(rule_id for rule_id in rule_ids if _applies(rule_id, version))
    return wanted, tuple((rule_id, check) for rule_id, check in _RESULT_CHECKS if rule_id in wanted)


def result_violations(
    view: ResultView, rule_ids: Iterable[str], text: str | None = None
) -> Iterator[tuple[str, Violation]]:
    """(rule ID, violation) of every rule of `rule_ids` that applies at the
    view's version: the family schema first, then the Python checks. `text`:
    the whole OUTPUT the view's value was decoded from, when it is one."""
    wanted, checks = _plan(frozenset(rule_ids), view.version)
    if view.family is not None:
        name = f"result-{view.family}.json"
        if text is not None and not view.base:
            found = document_violations(name, text, view.value, view.document)
        else:
            found = schema_violations(name, view.value, view.document, view.base)
        for rule_id, violation in found:
            if rule_id in wanted:
                yield rule_id, violation
    if checks and _ordinary_result(view):
        return  # none of the Python checks can report (proved in one pass)
    for rule_id, check in checks:
        for violation in check(view):
            yield rule_id, violation


def _ordinary_result(view: ResultView) -> bool:
    """True only when no Python result check (RES002-RES031) can report on
    the view, whatever its rules: a 0.3.0-1.x result echoing the request's
    cniVersion, with only its family's keys and no 1.1.0 fields, every
    interface, address, route and nameserver well formed, consistent and
    unique. It walks the result once, where the checks walk it once each;
    False says nothing (the checks then decide)."""
    if view.family not in ("0.4", "1.0", "1.1"):
        return False
    value = view.value
    cni_version = value.get("cniVersion")
    if not isinstance(cni_version, str) or not cni_version:
        return False  # RES002
    if view.expected_version is not None and cni_version != view.expected_version:
        return False  # RES003
    if not _MODERN_KEYS.issuperset(value):
        return False  # RES005 (and the legacy keys, RES004)
    ifname, netns = view.ifname, view.netns
    interfaces = value.get("interfaces")
    count = 0
    sandboxed: list[str] = []
    if interfaces is not None:
        if type(interfaces) is not list:
            return False
        count = len(interfaces)
        seen: set[tuple[str, str]] = set()
        for interface in interfaces:
            if type(interface) is not dict:
                return False
            name, mac, sandbox = interface.get("name"), interface.get("mac"), interface.get("sandbox", "")
            if type(name) is not str or type(sandbox) is not str:
                return False
            if mac is not None and (type(mac) is not str or (mac and not parse_mac(mac))):
                return False  # RES007
            if (name, sandbox) in seen or any(field in interface for field in _NEW_INTERFACE_FIELDS):
                return False  # RES012; RES010, RES011
            seen.add((name, sandbox))
            if sandbox:
                sandboxed.append(name)
                if ifname and netns and name == ifname and sandbox != netns:
                    return False  # RES008
    if ifname and sandboxed and ifname not in sandboxed:
        return False  # RES009
    ips = value.get("ips")
    if ips is not None:
        if type(ips) is not list:
            return False
        addresses: set[tuple[IPAddress, int | None]] = set()
        for entry in ips:
            if type(entry) is not dict:
                return False
            address = entry.get("address")
            cidr = parse_cidr(address) if type(address) is str else None
            if cidr is None:
                return False  # RES013
            gateway = entry.get("gateway")
            if gateway is not None:
                parsed = parse_ip(gateway) if type(gateway) is str else None
                if parsed is None or parsed.version != cidr[0].version:
                    return False  # RES014; RES015, RES017
            if "version" in entry and (view.family != "0.4" or entry["version"] != str(cidr[0].version)):
                return False  # RES016; RES015
            index = entry.get("interface")
            if index is None:
                if "interface" in entry or (count and not view.delegated):
                    return False  # RES019
            elif type(index) is not int or not 0 <= index < count or not interfaces[index].get("sandbox"):  # type: ignore[index]
                return False  # RES018, RES020
            if (cidr[0], index) in addresses:
                return False  # RES021
            addresses.add((cidr[0], index))
    routes = value.get("routes")
    if routes is not None:
        if type(routes) is not list:
            return False
        for route in routes:
            if type(route) is not dict or any(field in route for field in _NEW_ROUTE_FIELDS):
                return False  # RES011, RES025
            dst = route.get("dst")
            cidr = parse_cidr(dst) if type(dst) is str else None
            if cidr is None or has_host_bits(*cidr):
                return False  # RES022, RES026
            gw = route.get("gw")
            if gw is not None:
                parsed = parse_ip(gw) if type(gw) is str else None
                if parsed is None or parsed.version != cidr[0].version:
                    return False  # RES023, RES024
    dns = value.get("dns")
    if dns is not None:
        if type(dns) is not dict:
            return False
        servers = dns.get("nameservers")
        if servers is not None:
            if type(servers) is not list:
                return False
            for server in servers:
                if type(server) is not str or parse_ip(server) is None:
                    return False  # RES027
    return True


# ----------------------------------------------------------------- helpers


def _integral_floats(view: ResultView, key: str, fields: Iterable[str]) -> Iterator[Violation]:
    """Numbers such as 1500.0 or 1e3 pass the schema's "integer" (Python reads
    them as whole floats) but Go cannot unmarshal them into an integer field."""
    for index, entry in view.entries(key):
        for name in fields:
            value = entry.get(name)
            if isinstance(value, float) and value.is_integer():
                yield view.at((key, index, name), f"{view.where(key, index, name)} {show(value)} is not a JSON integer")


def _modern(view: ResultView) -> bool:
    return view.family in ("0.4", "1.0", "1.1")


# ----------------------------------------------------------------- RES001


def output_problem(facts: Facts) -> Violation | None:
    """RES001: a successful ADD must print one JSON object."""
    output = facts.record.output
    if output is None:  # the record ends before OUTPUT: nothing was logged to judge
        return None
    if output.empty:
        return in_output((), "OUTPUT of a successful ADD is empty; a result object is required")
    if not output.is_json:
        reason = output.error.message if output.error is not None else "not JSON"
        return in_output(
            (), f"OUTPUT {show(output.raw.strip(), 40)} is not JSON ({reason}); a result object is required"
        )
    if not isinstance(output.value, dict):
        kind = "array" if isinstance(output.value, list) else "scalar"
        return in_output((), f"OUTPUT is a JSON {kind} {show(output.value, 40)}, not a result object")
    return None


# ----------------------------------------------------------------- RES002-RES005: the whole result


@result_rule("RES002")
def result_has_cni_version(view: ResultView) -> Iterator[Violation]:
    if "cniVersion" not in view.value:
        expected = f" (the request's is {show(view.expected_version)})" if view.expected_version else ""
        yield view.at((), f"the result at {view.where()} has no cniVersion{expected}")
        return
    value = view.value["cniVersion"]
    if not isinstance(value, str) or not value:
        yield view.at(("cniVersion",), f"{view.where('cniVersion')} {show(value)} is not a non-empty version string")


@result_rule("RES003")
def result_version_is_the_requests(view: ResultView) -> Iterator[Violation]:
    value = view.value.get("cniVersion")
    if value is None or value == "" or view.expected_version is None:
        return  # absent or empty is RES002's; an unreadable request version is CONF003's
    if value != view.expected_version:
        yield view.at(
            ("cniVersion",),
            f"{view.where('cniVersion')} {show(value)} differs from the request's cniVersion "
            f"{show(view.expected_version)}",
        )


@result_rule("RES005")
def unknown_result_keys(view: ResultView) -> Iterator[Violation]:
    if view.family is None:
        return
    known, other = (_LEGACY_KEYS, _MODERN_KEYS) if view.family == "0.2" else (_MODERN_KEYS, _LEGACY_KEYS)
    for key in view.value:
        if key not in known and key not in other:  # the other family's keys are RES004's
            yield view.at(
                (key,), f"{view.where(key)}: {show(key)} is not a key of a {view.label} result; consumers drop it"
            )


# ----------------------------------------------------------------- RES006-RES012: interfaces


@result_rule("RES007")
def interface_mac_is_a_hardware_address(view: ResultView) -> Iterator[Violation]:
    for index, interface in view.entries("interfaces"):
        mac = interface.get("mac")
        if isinstance(mac, str) and mac and not parse_mac(mac):
            yield view.at(
                ("interfaces", index, "mac"),
                f"{view.where('interfaces', index, 'mac')} {show(mac)} is not a hardware address "
                "(6, 8 or 20 octets as Go's net.ParseMAC reads them)",
            )


def _sandbox(interface: dict[str, Any]) -> str:
    sandbox = interface.get("sandbox")
    return sandbox if isinstance(sandbox, str) else ""


@result_rule("RES008")
def container_sandbox_is_cni_netns(view: ResultView) -> Iterator[Violation]:
    if not view.netns or not view.ifname:
        return  # an absent variable is the ENV rules' business
    for index, interface in view.entries("interfaces"):
        sandbox = _sandbox(interface)
        if interface.get("name") == view.ifname and sandbox and sandbox != view.netns:
            yield view.at(
                ("interfaces", index, "sandbox"),
                f"{view.where('interfaces', index, 'sandbox')} {show(sandbox)} of {show(view.ifname)} "
                f"is not CNI_NETNS={show(view.netns)}",
            )


@result_rule("RES009")
def container_interface_is_cni_ifname(view: ResultView) -> Iterator[Violation]:
    if not view.ifname:
        return
    inside = [interface.get("name") for _, interface in view.entries("interfaces") if _sandbox(interface)]
    if inside and view.ifname not in inside:
        names = ", ".join(show(name) for name in inside)
        yield view.at(
            ("interfaces",),
            f"{view.where('interfaces')}: no container interface (non-empty sandbox) is named "
            f"CNI_IFNAME={show(view.ifname)}; found {names}",
        )


@result_rule("RES010")
def interface_mtu_is_an_integer(view: ResultView) -> Iterator[Violation]:
    yield from _integral_floats(view, "interfaces", ("mtu",))


@result_rule("RES011")
def fields_from_a_later_version(view: ResultView) -> Iterator[Violation]:
    for key, fields in (("interfaces", _NEW_INTERFACE_FIELDS), ("routes", _NEW_ROUTE_FIELDS)):
        for index, entry in view.entries(key):
            for name in fields:
                if name in entry:
                    yield view.at(
                        (key, index, name),
                        f"{view.where(key, index, name)} is a 1.1.0 field, undefined in a {view.label} result",
                    )


@result_rule("RES012")
def duplicate_interfaces(view: ResultView) -> Iterator[Violation]:
    first_seen: dict[tuple[str, str], int] = {}
    for index, interface in view.entries("interfaces"):
        name = interface.get("name")
        if not isinstance(name, str):
            continue
        key = (name, _sandbox(interface))
        if key in first_seen:
            where = "the host" if not key[1] else show(key[1])
            yield view.at(
                ("interfaces", index),
                f"{view.where('interfaces', index)} repeats interfaces[{first_seen[key]}] "
                f"({show(name)} in {where}); indexes into interfaces become ambiguous",
            )
        else:
            first_seen[key] = index


# ----------------------------------------------------------------- RES013-RES021: ips


@result_rule("RES013")
def ip_address_is_cidr(view: ResultView) -> Iterator[Violation]:
    for index, entry in view.entries("ips"):
        address = entry.get("address")
        if isinstance(address, str) and parse_cidr(address) is None:
            yield view.at(
                ("ips", index, "address"),
                f"{view.where('ips', index, 'address')} {show(address)} is not an IP address in CIDR notation",
            )


@result_rule("RES014")
def ip_gateway_is_an_address(view: ResultView) -> Iterator[Violation]:
    for index, entry in view.entries("ips"):
        gateway = entry.get("gateway")
        if isinstance(gateway, str) and parse_ip(gateway) is None:
            yield view.at(
                ("ips", index, "gateway"),
                f"{view.where('ips', index, 'gateway')} {show(gateway)} is not a plain IP address",
            )


@result_rule("RES015")
def ip_version_matches_addresses(view: ResultView) -> Iterator[Violation]:
    # Presence and the "4"/"6" values are the schema's; here: the addresses' family.
    for index, entry in view.entries("ips"):
        declared = entry.get("version")
        if declared not in ("4", "6"):
            continue
        cidr = parse_cidr(entry.get("address"))
        if cidr is not None and family(cidr[0]) != declared:
            yield view.at(
                ("ips", index, "address"),
                f"{view.where('ips', index, 'address')} {show(entry['address'])} is not an IPv{declared} "
                f"address, as version {show(declared)} says",
            )
        gateway = parse_ip(entry.get("gateway"))
        if gateway is not None and family(gateway) != declared:
            yield view.at(
                ("ips", index, "gateway"),
                f"{view.where('ips', index, 'gateway')} {show(entry['gateway'])} is not an IPv{declared} "
                f"address, as version {show(declared)} says",
            )


@result_rule("RES016")
def ip_version_is_gone(view: ResultView) -> Iterator[Violation]:
    for index, entry in view.entries("ips"):
        if "version" in entry:
            yield view.at(
                ("ips", index, "version"),
                f"{view.where('ips', index, 'version')} {show(entry['version'])} was removed in 1.0.0 "
                f"(a 0.4.0 result labelled {view.label}?)",
            )


@result_rule("RES017")
def gateway_in_address_family(view: ResultView) -> Iterator[Violation]:
    for index, entry in view.entries("ips"):
        cidr, gateway = parse_cidr(entry.get("address")), parse_ip(entry.get("gateway"))
        if cidr is not None and gateway is not None and family(cidr[0]) != family(gateway):
            yield view.at(
                ("ips", index, "gateway"),
                f"{view.where('ips', index, 'gateway')} {show(entry['gateway'])} is IPv{family(gateway)} "
                f"but address {show(entry['address'])} is IPv{family(cidr[0])}",
            )


def _interface_count(view: ResultView) -> int:
    interfaces = view.value.get("interfaces")
    return len(interfaces) if isinstance(interfaces, list) else 0


@result_rule("RES018")
def ip_interface_is_an_index(view: ResultView) -> Iterator[Violation]:
    # Non-numbers and negatives are the schema's; here: whole floats and the range.
    count = _interface_count(view)
    for index, entry in view.entries("ips"):
        if "interface" not in entry:
            continue
        value = entry["interface"]
        if isinstance(value, float) and value.is_integer():
            where = view.where("ips", index, "interface")
            yield view.at(("ips", index, "interface"), f"{where} {show(value)} is not a JSON integer")
        elif isinstance(value, int) and not isinstance(value, bool) and value >= count:
            where = view.where("ips", index, "interface")
            size = f"has {count} entries" if "interfaces" in view.value else "is absent"
            yield view.at(("ips", index, "interface"), f"{where} {value} is not an index into interfaces, which {size}")


@result_rule("RES019")
def ips_name_their_interface(view: ResultView) -> Iterator[Violation]:
    # An empty interfaces array offers no index to name (RES018 would refuse any).
    if view.delegated or _interface_count(view) == 0:
        return
    for index, entry in view.entries("ips"):
        if "interface" not in entry:
            yield view.at(
                ("ips", index),
                f"{view.where('ips', index)} ({show(entry.get('address'))}) has no interface index; "
                "consumers cannot tell which interface it belongs to",
            )


def _indexed_interface(view: ResultView, value: Any) -> dict[str, Any] | None:
    interfaces = view.value.get("interfaces")
    if isinstance(value, bool) or not isinstance(value, int) or not isinstance(interfaces, list):
        return None
    if 0 <= value < len(interfaces) and isinstance(interfaces[value], dict):
        return interfaces[value]
    return None


@result_rule("RES020")
def ip_interface_is_in_the_container(view: ResultView) -> Iterator[Violation]:
    for index, entry in view.entries("ips"):
        interface = _indexed_interface(view, entry.get("interface"))
        if interface is not None and not _sandbox(interface):
            yield view.at(
                ("ips", index, "interface"),
                f"{view.where('ips', index, 'interface')} points at {show(interface.get('name'))}, "
                "a host-side interface (no sandbox)",
            )


def _json_text(value: Any) -> str:
    """show(value) without the json module for the usual index or absence."""
    if value is None:
        return "null"
    if type(value) is int:
        return repr(value)  # as json.dumps writes an int
    return show(value)


@result_rule("RES021")
def duplicate_addresses(view: ResultView) -> Iterator[Violation]:
    first_seen: dict[tuple[IPAddress, str], int] = {}
    for index, entry in view.entries("ips"):
        cidr = parse_cidr(entry.get("address"))
        if cidr is None:
            continue
        key = (cidr[0], _json_text(entry.get("interface")))  # same IP, same interface index (or none)
        if key in first_seen:
            yield view.at(
                ("ips", index, "address"),
                f"{view.where('ips', index, 'address')} {show(entry['address'])} repeats the IP of "
                f"ips[{first_seen[key]}] for the same interface",
            )
        else:
            first_seen[key] = index


# ----------------------------------------------------------------- RES022-RES026: routes


@result_rule("RES022")
def route_dst_is_cidr(view: ResultView) -> Iterator[Violation]:
    for index, route in view.entries("routes"):
        dst = route.get("dst")
        if isinstance(dst, str) and parse_cidr(dst) is None:
            yield view.at(
                ("routes", index, "dst"),
                f"{view.where('routes', index, 'dst')} {show(dst)} is not a destination in CIDR notation",
            )


@result_rule("RES023")
def route_gw_is_an_address(view: ResultView) -> Iterator[Violation]:
    for index, route in view.entries("routes"):
        gw = route.get("gw")
        if isinstance(gw, str) and parse_ip(gw) is None:
            yield view.at(
                ("routes", index, "gw"), f"{view.where('routes', index, 'gw')} {show(gw)} is not a plain IP address"
            )


@result_rule("RES024")
def route_is_one_family(view: ResultView) -> Iterator[Violation]:
    for index, route in view.entries("routes"):
        dst, gw = parse_cidr(route.get("dst")), parse_ip(route.get("gw"))
        if dst is not None and gw is not None and family(dst[0]) != family(gw):
            yield view.at(
                ("routes", index, "gw"),
                f"{view.where('routes', index, 'gw')} {show(route['gw'])} is IPv{family(gw)} "
                f"but dst {show(route['dst'])} is IPv{family(dst[0])}",
            )


@result_rule("RES025")
def route_attributes_are_integers(view: ResultView) -> Iterator[Violation]:
    yield from _integral_floats(view, "routes", _NEW_ROUTE_FIELDS)


def _route_destinations(view: ResultView) -> Iterator[tuple[JsonPath, str]]:
    """(path, dst) of every route of the result, in either shape."""
    if view.family == "0.2":
        for key, _, block in view.blocks():
            routes = block.get("routes")
            for index, route in enumerate(routes if isinstance(routes, list) else []):
                if isinstance(route, dict) and isinstance(route.get("dst"), str):
                    yield (key, "routes", index, "dst"), route["dst"]
    elif _modern(view):
        for index, route in view.entries("routes"):
            if isinstance(route.get("dst"), str):
                yield ("routes", index, "dst"), route["dst"]


@result_rule("RES026")
def route_dst_host_bits(view: ResultView) -> Iterator[Violation]:
    for path, dst in _route_destinations(view):
        cidr = parse_cidr(dst)
        if cidr is not None and has_host_bits(*cidr):
            masked = str(network(*cidr))
            yield view.at(path, f"{view.where(*path)} {show(dst)} has host bits set; it is installed as {show(masked)}")


# ----------------------------------------------------------------- RES027: dns


@result_rule("RES027")
def dns_nameservers_are_addresses(view: ResultView) -> Iterator[Violation]:
    dns = view.value.get("dns")
    servers = dns.get("nameservers") if isinstance(dns, dict) else None
    for index, server in enumerate(servers if isinstance(servers, list) else []):
        if isinstance(server, str) and parse_ip(server) is None:
            yield view.at(
                ("dns", "nameservers", index),
                f"{view.where('dns', 'nameservers', index)} {show(server)} is not an IPv4 or IPv6 address",
            )


# ----------------------------------------------------------------- RES028-RES031: 0.1.0/0.2.0 ip4/ip6


@result_rule("RES029")
def block_ip_is_cidr_of_its_family(view: ResultView) -> Iterator[Violation]:
    for key, number, block in view.blocks():
        ip = block.get("ip")
        if not isinstance(ip, str):
            continue
        cidr = parse_cidr(ip)
        if cidr is None:
            yield view.at((key, "ip"), f"{view.where(key, 'ip')} {show(ip)} is not an IP address in CIDR notation")
        elif cidr[0].version != number:
            yield view.at((key, "ip"), f"{view.where(key, 'ip')} {show(ip)} is not an IPv{number} address")


def _not_an_address_of(value: Any, number: int) -> str | None:
    """Why `value` is not a plain IP of family `number`, or None when it is."""
    address = parse_ip(value)
    if address is None:
        return "is not a plain IP address"
    return None if address.version == number else f"is not an IPv{number} address"


@result_rule("RES030")
def block_gateway_is_of_its_family(view: ResultView) -> Iterator[Violation]:
    for key, number, block in view.blocks():
        gateway = block.get("gateway")
        problem = _not_an_address_of(gateway, number) if isinstance(gateway, str) else None
        if problem:
            yield view.at((key, "gateway"), f"{view.where(key, 'gateway')} {show(gateway)} {problem}")


@result_rule("RES031")
def block_routes_are_of_its_family(view: ResultView) -> Iterator[Violation]:
    for key, number, block in view.blocks():
        routes = block.get("routes")
        for index, route in enumerate(routes if isinstance(routes, list) else []):
            if not isinstance(route, dict):
                continue
            path = (key, "routes", index)
            dst, gw = route.get("dst"), route.get("gw")
            if isinstance(dst, str):
                cidr = parse_cidr(dst)
                if cidr is None:
                    yield view.at((*path, "dst"), f"{view.where(*path, 'dst')} {show(dst)} is not in CIDR notation")
                elif cidr[0].version != number:
                    yield view.at((*path, "dst"), f"{view.where(*path, 'dst')} {show(dst)} is not IPv{number}")
            problem = _not_an_address_of(gw, number) if isinstance(gw, str) else None
            if problem:
                yield view.at((*path, "gw"), f"{view.where(*path, 'gw')} {show(gw)} {problem}")


# ----------------------------------------------------------------- entry points


def _expected_version(facts: Facts) -> str | None:
    """The cniVersion a result must echo: INPUT's, "0.1.0" when absent or
    empty; None when INPUT's is not a string."""
    declared = facts.declared_version
    if declared is None or declared == "":
        return "0.1.0"
    return declared if isinstance(declared, str) else None


def output_view(facts: Facts) -> ResultView | None:
    """The OUTPUT of an ADD as a result to check; None when there is no result
    object or no request to judge it by (INPUT not logged, e.g. stdin was a
    terminal, so the request's cniVersion is unknown)."""
    if facts.config is None or not isinstance(facts.result, dict):
        return None
    return ResultView(
        value=facts.result,
        version=facts.version,
        expected_version=_expected_version(facts),
        delegated=facts.delegated,
        ifname=facts.variable("CNI_IFNAME"),
        netns=facts.variable("CNI_NETNS"),
    )


def _add_result_violations(facts: Facts, rule_ids: frozenset[str]) -> Iterator[tuple[str, Violation]]:
    if facts.failed:
        return  # an error object is the ERR rules' business
    problem = output_problem(facts)
    if problem is not None:
        yield "RES001", problem
        return
    view = output_view(facts)
    if view is not None:
        yield from result_violations(view, rule_ids, facts.record.output.raw if facts.record.output else None)


def check_add_result(facts: Facts) -> Iterator[tuple[str, Violation]]:
    """RES001-RES031 on the OUTPUT of a runtime-issued ADD."""
    if not facts.delegated:
        yield from _add_result_violations(facts, RESULT_RULES)


def check_delegated_ipam_result(facts: Facts) -> Iterator[tuple[str, Violation]]:
    """IPAM003: a delegated IPAM ADD OUTPUT, held to the IPAM subset of the RES
    rules and reported under their IDs, its messages saying whose result it is."""
    if facts.delegated:
        for rule_id, violation in _add_result_violations(facts, DELEGATED_RULES):
            yield rule_id, replace(violation, message=DELEGATED_PREFIX + violation.message)


@lru_cache(maxsize=64)
def prev_result_rules(version: Version | None) -> frozenset[str]:
    """The structural rules that are errors at `version`."""
    rules = catalogue()
    return frozenset(rule_id for rule_id in PREV_RESULT_RULES if rules[rule_id].severity_for(version) == "error")


def check_prev_result(facts: Facts) -> Iterator[tuple[str, Violation]]:
    """CONF022: a present prevResult passes the structural result rules of the
    request's version (a JSON null counts as absent, as in libcni)."""
    config = facts.config
    previous = config.get("prevResult") if config is not None else None
    if previous is None:
        return
    if not isinstance(previous, dict):
        yield "CONF022", in_input(("prevResult",), f"prevResult {show(previous, 40)} is not a JSON object")
        return
    text = _prev_result_text(facts)
    if text is None:
        yield from _prev_result_violations(previous, facts.version)
        return
    key = (text, facts.version)
    found = _PREV_RESULTS.get(key)
    if found is None:
        found = _PREV_RESULTS.put(key, tuple(_prev_result_violations(previous, facts.version)))
    yield from found


# A result travels on as prevResult: into CHECK and DEL, and into every later
# plugin of a chain, each time the same text. Its violations are kept by that text.
_PREV_RESULTS = TextMemo(1024)


def _prev_result_text(facts: Facts) -> str | None:
    """INPUT.prevResult's own JSON text, None when it cannot be told apart."""
    span = facts.prev_result_span
    return facts.record.input.raw[span[0] : span[1]] if span is not None and facts.record.input is not None else None


def _prev_result_violations(previous: dict[str, Any], version: Version | None) -> Iterator[tuple[str, Violation]]:
    view = ResultView(value=previous, version=version, document="input", base=("prevResult",))
    rules = catalogue()
    for rule_id, violation in result_violations(view, prev_result_rules(version)):
        context = f" (a {view.label} result breaks {rule_id}: {rules[rule_id].title})"
        yield "CONF022", replace(violation, message=violation.message + context)


register_check("RES result rules on ADD OUTPUT", RESULT_RULES, check_add_result, needs=UPPER | SUCCEEDED)
register_check(
    "delegated IPAM result (IPAM003)",
    {"IPAM003", *DELEGATED_RULES},
    check_delegated_ipam_result,
    needs=DELEGATED | SUCCEEDED,
)
register_check(
    "prevResult is a valid result (CONF022)", {"CONF022"}, check_prev_result, needs=PREV_RESULT, input_only=True
)
