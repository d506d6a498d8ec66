"""CONF: the request configuration (INPUT) of ADD, DEL, CHECK, GC and STATUS.

Shapes (types and required keys) live in schemas/netconf.json, whose
subschemas name their rules. What a schema cannot say is here: SemVer and the
network-name syntax as libcni matches them, IPs/CIDRs/MACs as Go parses them,
which plugin logged the record, and which keys belong to which command and
version (capabilities, cni.dev/ keys, prevResult, runtimeConfig).
CONF022 (prevResult as a valid result) belongs to the RES family's module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from cnilint.facts import BAD_INPUT, CONFIG, INPUT_JSON, PREV_RESULT, UPPER, Facts
from cnilint.parse import Body
from cnilint.parse.jsonpos import value_positions
from cnilint.rules import JsonPath, Violation, in_input, register_check, rule, show
from cnilint.rules.addresses import parse_cidr, parse_ip, parse_mac
from cnilint.rules.schema import document_violations, owned_rules
from cnilint.versions import RELEASED, parse_version, result_family

SCHEMA = "netconf.json"

# libcni's utils.ValidateNetworkName (Go regexp, so `$` is the end of the text).
NETWORK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")

# The only cni.dev/ key the SPEC defines: GC's list of valid attachments
# (spec-v1.1.0 text spells it cni.dev/attachments, HEAD and libcni cni.dev/valid-attachments).
GC_ATTACHMENT_KEYS = frozenset({"cni.dev/valid-attachments", "cni.dev/attachments"})

# Keys that exist only at the level of a network configuration list.
LIST_ONLY_KEYS = ("plugins", "cniVersions")

_FAMILY_NAMES = {"0.2": "0.1.0-0.2.0", "0.4": "0.3.0-0.4.0", "1.x": "1.0.0-1.1.0"}


# ---------------------------------------------------------------- shapes (schema)


def _netconf_shapes(facts: Facts) -> Iterator[tuple[str, Violation]]:
    """Validate any decoded INPUT against schemas/netconf.json; a non-object
    INPUT fails the root (CONF001), the rest only when INPUT is an object."""
    body = facts.record.input
    if body is not None and body.is_json:
        yield from document_violations(SCHEMA, body.raw, body.value, "input")


register_check(
    "netconf_shapes", owned_rules(SCHEMA), _netconf_shapes, needs=INPUT_JSON, input_only=True, reads_prev_result=False
)


# ---------------------------------------------------------------- CONF001


def _path_before(body: Body, line: int, column: int) -> JsonPath:
    """A path whose log line is the decode error's: the root when the error is
    on INPUT's first line, else the last value that starts at or before it
    (findings point at JSON paths, and text that does not decode has no other)."""
    if line <= body.line:
        return ()
    relative = (line - body.line + 1, column)
    best: tuple[tuple[int, int], JsonPath] = ((0, 0), ())
    for path, position in value_positions(body.raw).items():
        if best[0] < position <= relative:
            best = (position, path)
    return best[1]


@rule("CONF001", needs=BAD_INPUT)
def input_is_one_json_object(facts: Facts) -> Iterator[Violation]:
    # The SPEC passes the configuration as JSON on stdin; skel answers code 6
    # when it does not decode. A non-object INPUT is the schema's root (above).
    record = facts.record
    body = record.input
    if body is None:
        # No INPUT block: the record was cut short (the parser's problem), or
        # stdin was a terminal, so the log cannot show what the plugin read
        # (in 10-tty an admin typed a valid config): nothing to judge.
        return
    if body.empty:
        yield in_input((), "INPUT is empty: the plugin got no configuration on stdin")
    elif body.error is not None:
        error = body.error
        yield in_input(
            _path_before(body, error.line, error.column),
            f"INPUT is not valid JSON: {error.message}: line {error.line} column {error.column}",
        )


# ---------------------------------------------------------------- cniVersion


@rule("CONF003", needs=CONFIG, input_only=True, reads_prev_result=False)
def cni_version_is_semver(facts: Facts) -> Iterator[Violation]:
    config = facts.config
    if config is None or "cniVersion" not in config:
        return
    declared = config["cniVersion"]
    if declared == "":  # absent or empty is CONF002's (libcni reads 0.1.0)
        return
    if not isinstance(declared, str):
        yield in_input(("cniVersion",), f"cniVersion is {show(declared)}, not a version string")
    elif parse_version(declared) is None:
        yield in_input(("cniVersion",), f"cniVersion {show(declared)} is not MAJOR.MINOR.PATCH (SemVer 2.0)")


@rule("CONF004", needs=CONFIG, input_only=True, reads_prev_result=False)
def cni_version_is_released(facts: Facts) -> Iterator[Violation]:
    # Only well-formed versions: a malformed one is CONF003's.
    declared = facts.declared_version
    if isinstance(declared, str) and parse_version(declared) is not None and declared not in RELEASED:
        consequence = (
            "no plugin can speak it"  # skel does not read VERSION's stdin
            if facts.command == "VERSION"
            else 'libcni answers code 1 "incompatible CNI versions"'
        )
        yield in_input(
            ("cniVersion",),
            f"cniVersion {show(declared)} is not a released spec version ({', '.join(RELEASED)}): {consequence}",
        )


# ---------------------------------------------------------------- name, type


@rule("CONF006", needs=CONFIG, input_only=True, reads_prev_result=False)
def network_name_syntax(facts: Facts) -> Iterator[Violation]:
    name = facts.config.get("name") if facts.config is not None else None
    # A missing, empty or non-string name is CONF005's.
    if isinstance(name, str) and name and not NETWORK_NAME.fullmatch(name):
        yield in_input(
            ("name",),
            f"name {show(name)} must start with a letter or digit and hold only letters, digits, '_', '.' and '-'",
        )


@rule("CONF009", needs=CONFIG, input_only=True, reads_prev_result=False)
def type_names_the_logging_plugin(facts: Facts) -> Iterator[Violation]:
    # The plugin that logged the record is INPUT.type, or its IPAM type for a
    # delegated call; anything else (a wrapper installed under another name, a
    # copied log) leaves the record unexplained.
    config = facts.config
    plugin = facts.record.plugin
    kind = config.get("type") if config is not None else None
    if not isinstance(kind, str) or not kind or not plugin:  # a missing type is CONF007's
        return
    if kind != plugin and not facts.delegated:
        ipam = f"ipam.type {show(facts.ipam_type)}" if facts.ipam_type is not None else "no ipam.type"
        yield in_input(
            ("type",), f"type {show(kind)} is not {show(plugin)}, the plugin whose log holds this record ({ipam})"
        )


# ---------------------------------------------------------------- syntax inside the shapes


def _bad_ip(value: Any) -> bool:
    return isinstance(value, str) and parse_ip(value) is None


def _bad_ip_or_cidr(value: Any) -> bool:
    """Not IP[/prefix] (the conventions' `ips` format); non-strings are the schema's."""
    return isinstance(value, str) and parse_ip(value) is None and parse_cidr(value) is None


def _items(value: Any) -> list[tuple[int, Any]]:
    return list(enumerate(value)) if isinstance(value, list) else []


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


@rule("CONF011", needs=CONFIG, input_only=True, reads_prev_result=False)
def dns_nameservers_are_addresses(facts: Facts) -> Iterator[Violation]:
    dns = _object(facts.config.get("dns") if facts.config is not None else None)
    for index, server in _items(dns.get("nameservers")):
        if _bad_ip(server):
            yield in_input(
                ("dns", "nameservers", index), f"dns.nameservers[{index}] {show(server)} is not an IP address"
            )


def _port_mapping_problems(mappings: Any) -> Iterator[Violation]:
    for index, mapping in _items(mappings):
        host_ip = _object(mapping).get("hostIP")
        if host_ip != "" and _bad_ip(host_ip):  # Kubernetes sends "" for "any address"
            yield in_input(
                ("runtimeConfig", "portMappings", index, "hostIP"),
                f"runtimeConfig.portMappings[{index}].hostIP {show(host_ip)} is not an IP address",
            )


def _ip_range_problems(ranges: Any) -> Iterator[Violation]:
    for outer, pool in _items(ranges):
        for inner, entry in _items(pool):
            entry = _object(entry)
            where = ("runtimeConfig", "ipRanges", outer, inner)
            subnet = entry.get("subnet")
            if isinstance(subnet, str) and parse_cidr(subnet) is None:
                yield in_input((*where, "subnet"), f"ipRanges[{outer}][{inner}].subnet {show(subnet)} is not a CIDR")
            for key in ("rangeStart", "rangeEnd", "gateway"):
                if _bad_ip(entry.get(key)):
                    yield in_input(
                        (*where, key), f"ipRanges[{outer}][{inner}].{key} {show(entry[key])} is not an IP address"
                    )


@rule("CONF017", needs=CONFIG, input_only=True, reads_prev_result=False)
def capability_argument_syntax(facts: Facts) -> Iterator[Violation]:
    # CONVENTIONS.md's well-known capabilities; their types are the schema's.
    runtime_config = _object(facts.config.get("runtimeConfig") if facts.config is not None else None)
    yield from _port_mapping_problems(runtime_config.get("portMappings"))
    yield from _ip_range_problems(runtime_config.get("ipRanges"))
    for index, address in _items(runtime_config.get("ips")):
        if _bad_ip_or_cidr(address):
            yield in_input(
                ("runtimeConfig", "ips", index), f"runtimeConfig.ips[{index}] {show(address)} is not IP[/prefix]"
            )
    mac = runtime_config.get("mac")
    if isinstance(mac, str) and not parse_mac(mac):
        yield in_input(("runtimeConfig", "mac"), f"runtimeConfig.mac {show(mac)} is not a MAC address")


@rule("CONF019", needs=CONFIG, input_only=True, reads_prev_result=False)
def args_cni_ips_syntax(facts: Facts) -> Iterator[Violation]:
    args = _object(facts.config.get("args") if facts.config is not None else None)
    for index, address in _items(_object(args.get("cni")).get("ips")):
        if _bad_ip_or_cidr(address):
            yield in_input(("args", "cni", "ips", index), f"args.cni.ips[{index}] {show(address)} is not IP[/prefix]")


# ---------------------------------------------------------------- capabilities, runtimeConfig


@rule("CONF013", needs=CONFIG, input_only=True, reads_prev_result=False)
def capabilities_not_passed(facts: Facts) -> Iterator[Violation]:
    # spec-v1.0.0: the runtime must remove it; spec-v1.1.0: must not be set.
    if facts.config is not None and "capabilities" in facts.config:
        yield in_input(
            ("capabilities",),
            f"capabilities {show(facts.config['capabilities'])} is passed to the plugin; "
            "the runtime must remove it and pass runtimeConfig only",
        )


@rule("CONF016", needs=CONFIG, input_only=True, reads_prev_result=False)
def runtime_config_keys_are_enabled_capabilities(facts: Facts) -> Iterator[Violation]:
    # Only decidable when INPUT still carries capabilities (libcni leaves it in);
    # otherwise the conflist is needed (LIST008).
    config = facts.config or {}
    capabilities, runtime_config = config.get("capabilities"), config.get("runtimeConfig")
    if not isinstance(capabilities, dict) or not isinstance(runtime_config, dict):
        return
    for key in runtime_config:
        if capabilities.get(key) is not True:
            state = "not enabled" if key in capabilities else "not declared"
            yield in_input(("runtimeConfig", key), f"runtimeConfig.{key} is set but capability {show(key)} is {state}")


# ---------------------------------------------------------------- reserved and list-level keys


@rule("CONF020", needs=CONFIG, input_only=True, reads_prev_result=False)
def reserved_cni_dev_keys(facts: Facts) -> Iterator[Violation]:
    for key in facts.config or {}:
        if not key.startswith("cni.dev/"):
            continue
        if facts.command == "GC" and key in GC_ATTACHMENT_KEYS:
            continue
        yield in_input((key,), f"{show(key)} is a reserved cni.dev/ key the SPEC does not define for {facts.command}")


@rule("CONF021", needs=CONFIG, input_only=True, reads_prev_result=False)
def single_plugin_configuration(facts: Facts) -> Iterator[Violation]:
    for key in LIST_ONLY_KEYS:
        if facts.config is not None and key in facts.config:
            yield in_input(
                (key,), f"INPUT has {show(key)}, a network configuration list key: the runtime passed the whole list"
            )


# ---------------------------------------------------------------- prevResult by command and version


def _prev_result(facts: Facts) -> Any:
    """INPUT.prevResult; None when absent or null (libcni reads null as no prevResult)."""
    return facts.config.get("prevResult") if facts.config is not None else None


@rule("CONF023", needs=PREV_RESULT, input_only=True)
def prev_result_speaks_request_version(facts: Facts) -> Iterator[Violation]:
    prev = _prev_result(facts)
    if not isinstance(prev, dict) or "cniVersion" not in prev:
        return
    theirs, ours = prev["cniVersion"], facts.declared_version
    if theirs == ours:
        return
    their_version, our_version = parse_version(theirs), parse_version(ours)
    if their_version is not None and our_version is not None:
        theirs_family, ours_family = result_family(their_version), result_family(our_version)
        if theirs_family != ours_family:
            consequence = (
                f"a {_FAMILY_NAMES[theirs_family]} result cannot be read as a {_FAMILY_NAMES[ours_family]} "
                "one, so libcni plugins fail to parse it"
            )
        else:
            consequence = "libcni reads it (same result family), but the runtime should convert it"
    else:
        consequence = "libcni plugins cannot read it as the request's version"
    yield in_input(
        ("prevResult", "cniVersion"),
        f"prevResult.cniVersion {show(theirs)} is not the request's cniVersion {show(ours)}: {consequence}",
    )


def _missing_prev_result(facts: Facts) -> str | None:
    """How prevResult is missing, or None when some value is there (its
    validity is CONF022's).

    Inserting prevResult is the runtime's duty. A delegated plugin gets the
    upper plugin's own stdin (the upper record carries the same finding), and a
    plugin cleaning up its failed ADD runs the delegate's DEL with the ADD
    configuration, which rightly has none: delegated records are not judged."""
    config = facts.config
    if config is None or facts.delegated:
        return None
    if "prevResult" not in config:
        return "has no prevResult"
    return "has prevResult null" if config["prevResult"] is None else None


@rule("CONF024", needs=CONFIG | UPPER, input_only=True)
def check_carries_prev_result(facts: Facts) -> Iterator[Violation]:
    missing = _missing_prev_result(facts)
    if missing:
        yield in_input(("prevResult",), f"CHECK INPUT {missing}: the runtime must pass the result of the preceding ADD")


@rule("CONF025", needs=CONFIG | UPPER, input_only=True)
def del_carries_prev_result(facts: Facts) -> Iterator[Violation]:
    missing = _missing_prev_result(facts)
    if missing:
        yield in_input(
            ("prevResult",),
            f"DEL INPUT {missing}: the SPEC wants the final ADD result, unless none is available "
            "(failed or unrecorded ADD)",
        )


@rule("CONF026", needs=PREV_RESULT, input_only=True)
def prev_result_where_version_defines_none(facts: Facts) -> Iterator[Violation]:
    # The engine runs this on ADD/DEL at 0.1.0-0.3.1 only: chaining starts at
    # 0.3.0 (ADD only) and prevResult on DEL at 0.4.0.
    if _prev_result(facts) is None or facts.version is None:
        return
    if facts.version < (0, 3, 0):
        why = "chaining (and prevResult) starts at 0.3.0"
    elif facts.command == "DEL":
        why = "prevResult on DEL starts at 0.4.0"
    else:
        return
    yield in_input(("prevResult",), f"{facts.command} at cniVersion {facts.version_label} carries prevResult: {why}")


@rule("CONF027", needs=CONFIG, input_only=True)
def gc_status_without_attachment_keys(facts: Facts) -> Iterator[Violation]:
    # spec-v1.1.0 inserts runtimeConfig and prevResult for ADD, DEL and CHECK only.
    for key in ("prevResult", "runtimeConfig"):
        if facts.config is not None and facts.config.get(key) is not None:
            yield in_input((key,), f"{facts.command} INPUT carries {key}, which only ADD, DEL and CHECK take")
