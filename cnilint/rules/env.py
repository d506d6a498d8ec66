"""ENV: the CNI_* environment parameters of one record."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from cnilint.facts import Facts
from cnilint.rules import Violation, in_env, rule, show
from cnilint.rules.addresses import parse_cidr, parse_ip
from cnilint.versions import COMMANDS

# Commands and the first spec version that defines them.
_COMMAND_SINCE = {"CHECK": (0, 4, 0), "GC": (1, 1, 0), "STATUS": (1, 1, 0)}

# What libcni's skel requires non-empty before it runs a command.
_SKEL_REQUIRED = {
    "ADD": ("CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"),
    "CHECK": ("CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_PATH"),
    "DEL": ("CNI_CONTAINERID", "CNI_IFNAME", "CNI_PATH"),
    "GC": ("CNI_PATH",),
    "STATUS": ("CNI_PATH",),
}

CONTAINER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
# Go's unicode.IsSpace
_GO_SPACE = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000") | frozenset(
    chr(c) for c in range(0x2000, 0x200B)
)
_ARG_KEY = re.compile(r"[A-Za-z0-9_]+")


def _required(facts: Facts, name: str) -> Iterator[Violation]:
    if not facts.variable(name):
        yield in_env(name, f"{name} is absent or empty on {facts.command}")


@rule("ENV001")
def command_is_set(facts: Facts) -> Iterator[Violation]:
    if not facts.variable("CNI_COMMAND"):
        yield in_env("CNI_COMMAND", "CNI_COMMAND is absent or empty")


@rule("ENV002")
def command_is_known(facts: Facts) -> Iterator[Violation]:
    command = facts.variable("CNI_COMMAND")
    if command and command not in COMMANDS:
        yield in_env("CNI_COMMAND", f"CNI_COMMAND={show(command)} is not one of {', '.join(COMMANDS)}")


@rule("ENV003")
def command_exists_in_version(facts: Facts) -> Iterator[Violation]:
    since = _COMMAND_SINCE.get(facts.command or "")
    version = facts.version
    if since is not None and version is not None and version < since:
        yield in_env(
            "CNI_COMMAND",
            f"{facts.command} does not exist in cniVersion {facts.version_label} "
            f"(it starts at {'.'.join(map(str, since))})",
        )


@rule("ENV004")
def container_id_is_set(facts: Facts) -> Iterator[Violation]:
    yield from _required(facts, "CNI_CONTAINERID")


@rule("ENV005")
def netns_is_set(facts: Facts) -> Iterator[Violation]:
    yield from _required(facts, "CNI_NETNS")


@rule("ENV006")
def ifname_is_set(facts: Facts) -> Iterator[Violation]:
    yield from _required(facts, "CNI_IFNAME")


@rule("ENV007")
def path_is_set_for_gc(facts: Facts) -> Iterator[Violation]:
    yield from _required(facts, "CNI_PATH")


@rule("ENV008")
def skel_required_variables(facts: Facts) -> Iterator[Violation]:
    for name in _SKEL_REQUIRED.get(facts.command or "", ()):
        if not facts.variable(name):
            yield in_env(name, f"{name} is absent or empty: libcni plugins refuse {facts.command} (code 4)")


@rule("ENV009")
def container_id_syntax(facts: Facts) -> Iterator[Violation]:
    value = facts.variable("CNI_CONTAINERID")
    if value and not CONTAINER_ID.fullmatch(value):
        yield in_env("CNI_CONTAINERID", f"CNI_CONTAINERID={show(value)} has characters outside [A-Za-z0-9_.-]")


def ifname_problem(name: str) -> str | None:
    """Why libcni would refuse an interface name (shared with GC003)."""
    if len(name.encode("utf-8")) > 15:
        return f"{show(name)} is {len(name.encode('utf-8'))} bytes long (at most 15)"
    if name in (".", ".."):
        return f"{show(name)} is not a valid interface name"
    if any(char in "/:" or char in _GO_SPACE for char in name):
        return f"{show(name)} contains '/', ':' or whitespace"
    return None


@rule("ENV010")
def ifname_length(facts: Facts) -> Iterator[Violation]:
    name = facts.variable("CNI_IFNAME")
    if len(name.encode("utf-8")) > 15:
        yield in_env("CNI_IFNAME", f"CNI_IFNAME={ifname_problem(name)}")


@rule("ENV011")
def ifname_not_dot(facts: Facts) -> Iterator[Violation]:
    name = facts.variable("CNI_IFNAME")
    if name in (".", ".."):
        yield in_env("CNI_IFNAME", f"CNI_IFNAME={show(name)} is not a valid interface name")


@rule("ENV012")
def ifname_characters(facts: Facts) -> Iterator[Violation]:
    name = facts.variable("CNI_IFNAME")
    bad = sorted({char for char in name if char in "/:" or char in _GO_SPACE})
    if bad:
        yield in_env("CNI_IFNAME", f"CNI_IFNAME={show(name)} contains {', '.join(map(repr, bad))}")


@rule("ENV013")
def cni_args_pairs(facts: Facts) -> Iterator[Violation]:
    raw = facts.variable("CNI_ARGS")
    if not raw:
        return
    for position, piece in enumerate(raw.split(";"), start=1):
        if piece.count("=") != 1:
            yield in_env("CNI_ARGS", f"CNI_ARGS item {position} {show(piece)} is not one KEY=VALUE pair")


def _arg_pairs(facts: Facts) -> list[tuple[str, str]]:
    raw = facts.variable("CNI_ARGS")
    return [tuple(piece.split("=", 1)) for piece in raw.split(";") if "=" in piece] if raw else []  # type: ignore[misc]


@rule("ENV014")
def cni_args_keys(facts: Facts) -> Iterator[Violation]:
    for key, _ in _arg_pairs(facts):
        if not _ARG_KEY.fullmatch(key):
            yield in_env("CNI_ARGS", f"CNI_ARGS key {show(key)} is not alphanumeric")


@rule("ENV015")
def cni_args_repeated(facts: Facts) -> Iterator[Violation]:
    counts = Counter(key for key, _ in _arg_pairs(facts))
    for key, count in counts.items():
        if count > 1:
            yield in_env("CNI_ARGS", f"CNI_ARGS sets {key} {count} times; libcni keeps the last value")


@rule("ENV016")
def cni_args_ip(facts: Facts) -> Iterator[Violation]:
    for key, value in _arg_pairs(facts):
        if key == "IP" and parse_ip(value) is None and parse_cidr(value) is None:
            yield in_env("CNI_ARGS", f"CNI_ARGS IP={show(value)} is not an IP address with an optional /prefix")


@rule("ENV017")
def netns_is_a_path(facts: Facts) -> Iterator[Violation]:
    netns = facts.variable("CNI_NETNS")
    if netns and not netns.startswith("/"):
        yield in_env("CNI_NETNS", f"CNI_NETNS={show(netns)} is not an absolute path")


@rule("ENV018")
def gc_status_without_attachment(facts: Facts) -> Iterator[Violation]:
    for name in ("CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS"):
        value = facts.variable(name)
        if value:
            yield in_env(name, f"{name}={show(value)} is set on {facts.command}, which has no attachment")
