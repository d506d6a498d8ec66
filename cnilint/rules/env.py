"""ENV: the CNI_* environment parameters of one record.

Each rule is a function of the record's facts. They run as one check: the
environment of almost every record is ordinary (a known attachment command,
every variable set and well formed), and `_ordinary` proves in one pass that
no ENV rule can report on it; the rules themselves run only on the others.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator

from cnilint.facts import Facts
from cnilint.rules import RuleFunction, Violation, in_env, register_check, show
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


_ENV_RULES: list[tuple[str, RuleFunction]] = []  # in the order they report


def _env_rule(rule_id: str) -> Callable[[RuleFunction], RuleFunction]:
    def register(function: RuleFunction) -> RuleFunction:
        _ENV_RULES.append((rule_id, function))
        return function

    return register


def _required(facts: Facts, name: str) -> Iterator[Violation]:
    if not facts.variable(name):
        yield in_env(name, f"{name} is absent or empty on {facts.command}")


@_env_rule("ENV001")
def command_is_set(facts: Facts) -> Iterator[Violation]:
    if not facts.variable("CNI_COMMAND"):
        yield in_env("CNI_COMMAND", "CNI_COMMAND is absent or empty")


@_env_rule("ENV002")
def command_is_known(facts: Facts) -> Iterator[Violation]:
    command = facts.variable("CNI_COMMAND")
    if command and command not in COMMANDS:
        yield in_env("CNI_COMMAND", f"CNI_COMMAND={show(command)} is not one of {', '.join(COMMANDS)}")


@_env_rule("ENV003")
def command_exists_in_version(facts: Facts) -> Iterator[Violation]:
    since = _COMMAND_SINCE.get(facts.command or "")
    version = facts.version
    if since is not None and version is not None and version < since:
        yield in_env(
            "CNI_COMMAND",
            f"{facts.command} does not exist in cniVersion {facts.version_label} "
            f"(it starts at {'.'.join(map(str, since))})",
        )


@_env_rule("ENV004")
def container_id_is_set(facts: Facts) -> Iterator[Violation]:
    yield from _required(facts, "CNI_CONTAINERID")


@_env_rule("ENV005")
def netns_is_set(facts: Facts) -> Iterator[Violation]:
    yield from _required(facts, "CNI_NETNS")


@_env_rule("ENV006")
def ifname_is_set(facts: Facts) -> Iterator[Violation]:
    yield from _required(facts, "CNI_IFNAME")


@_env_rule("ENV007")
def path_is_set_for_gc(facts: Facts) -> Iterator[Violation]:
    yield from _required(facts, "CNI_PATH")


@_env_rule("ENV008")
def skel_required_variables(facts: Facts) -> Iterator[Violation]:
    for name in _SKEL_REQUIRED.get(facts.command or "", ()):
        if not facts.variable(name):
            yield in_env(name, f"{name} is absent or empty: libcni plugins refuse {facts.command} (code 4)")


@_env_rule("ENV009")
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


@_env_rule("ENV010")
def ifname_length(facts: Facts) -> Iterator[Violation]:
    name = facts.variable("CNI_IFNAME")
    if len(name.encode("utf-8")) > 15:
        yield in_env("CNI_IFNAME", f"CNI_IFNAME={ifname_problem(name)}")


@_env_rule("ENV011")
def ifname_not_dot(facts: Facts) -> Iterator[Violation]:
    name = facts.variable("CNI_IFNAME")
    if name in (".", ".."):
        yield in_env("CNI_IFNAME", f"CNI_IFNAME={show(name)} is not a valid interface name")


@_env_rule("ENV012")
def ifname_characters(facts: Facts) -> Iterator[Violation]:
    name = facts.variable("CNI_IFNAME")
    bad = sorted({char for char in name if char in "/:" or char in _GO_SPACE})
    if bad:
        yield in_env("CNI_IFNAME", f"CNI_IFNAME={show(name)} contains {', '.join(map(repr, bad))}")


@_env_rule("ENV013")
def cni_args_pairs(facts: Facts) -> Iterator[Violation]:
    raw = facts.variable("CNI_ARGS")
    if not raw:
        return
    for position, piece in enumerate(raw.split(";"), start=1):
        if piece.count("=") != 1:
            yield in_env("CNI_ARGS", f"CNI_ARGS item {position} {show(piece)} is not one KEY=VALUE pair")


def _arg_pairs(facts: Facts) -> list[tuple[str, str]]:
    return facts.kept("env.cni_args", _split_args)  # three rules read them


def _split_args(facts: Facts) -> list[tuple[str, str]]:
    raw = facts.variable("CNI_ARGS")
    return [tuple(piece.split("=", 1)) for piece in raw.split(";") if "=" in piece] if raw else []  # type: ignore[misc]


@_env_rule("ENV014")
def cni_args_keys(facts: Facts) -> Iterator[Violation]:
    for key, _ in _arg_pairs(facts):
        if not _ARG_KEY.fullmatch(key):
            yield in_env("CNI_ARGS", f"CNI_ARGS key {show(key)} is not alphanumeric")


@_env_rule("ENV015")
def cni_args_repeated(facts: Facts) -> Iterator[Violation]:
    pairs = _arg_pairs(facts)
    if len({key for key, _ in pairs}) == len(pairs):
        return  # the usual case: no key repeats
    counts = Counter(key for key, _ in pairs)
    for key, count in counts.items():
        if count > 1:
            yield in_env("CNI_ARGS", f"CNI_ARGS sets {key} {count} times; libcni keeps the last value")


@_env_rule("ENV016")
def cni_args_ip(facts: Facts) -> Iterator[Violation]:
    for key, value in _arg_pairs(facts):
        if key == "IP" and parse_ip(value) is None and parse_cidr(value) is None:
            yield in_env("CNI_ARGS", f"CNI_ARGS IP={show(value)} is not an IP address with an optional /prefix")


@_env_rule("ENV017")
def netns_is_a_path(facts: Facts) -> Iterator[Violation]:
    netns = facts.variable("CNI_NETNS")
    if netns and not netns.startswith("/"):
        yield in_env("CNI_NETNS", f"CNI_NETNS={show(netns)} is not an absolute path")


@_env_rule("ENV018")
def gc_status_without_attachment(facts: Facts) -> Iterator[Violation]:
    for name in ("CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS"):
        value = facts.variable(name)
        if value:
            yield in_env(name, f"{name}={show(value)} is set on {facts.command}, which has no attachment")


# ---------------------------------------------------------------- one check for them all

# The values of an ordinary environment: no ENV rule can report on them.
_ORDINARY_IFNAME = re.compile(r"[A-Za-z0-9_.-]{1,15}")  # ASCII: 15 characters are 15 bytes
_ORDINARY_ARGS = re.compile(r"[A-Za-z0-9_]+=[^;=]*(?:;[A-Za-z0-9_]+=[^;=]*)*")  # KEY=VALUE;KEY=VALUE...
_ARG_KEYS = re.compile(r"(?:^|;)([A-Za-z0-9_]+)=")


def _ordinary(facts: Facts) -> bool:
    """True only when no ENV rule can report on the record: ADD, CHECK (of a
    version that has it) or DEL with every variable set and well formed. False
    says nothing: the rules decide."""
    command = facts.command
    if command not in ("ADD", "CHECK", "DEL"):
        return False  # ENV018 (GC, STATUS), VERSION and unknown commands: let the rules see
    if command == "CHECK" and (facts.version is None or facts.version < _COMMAND_SINCE["CHECK"]):
        return False
    env = facts.variables  # `env:` only: a variable logged elsewhere or not at all is for the rules
    container, netns, ifname, path = (
        env.get("CNI_CONTAINERID"), env.get("CNI_NETNS"), env.get("CNI_IFNAME"), env.get("CNI_PATH")
    )  # fmt: skip
    if not (container and netns and ifname and path) or not netns.startswith("/"):
        return False
    if not CONTAINER_ID.fullmatch(container) or not _ORDINARY_IFNAME.fullmatch(ifname) or ifname in (".", ".."):
        return False
    arguments = facts.variable("CNI_ARGS")
    if arguments:
        if not _ORDINARY_ARGS.fullmatch(arguments):
            return False
        keys = _ARG_KEYS.findall(arguments)
        if "IP" in keys or len(set(keys)) != len(keys):
            return False  # IP= is parsed by ENV016, repeated keys are ENV015's
    return True


def environment(facts: Facts) -> Iterator[tuple[str, Violation]]:
    """Every ENV rule, in order; none when the environment is ordinary. A
    rule that crashes does not stop the others (the first error is raised
    at the end, for the engine to report)."""
    if _ordinary(facts):
        return
    failure: Exception | None = None
    for rule_id, function in _ENV_RULES:
        try:
            for violation in function(facts):
                yield rule_id, violation
        except Exception as exc:  # a bug in one rule must not stop the others
            failure = failure or exc
    if failure is not None:
        raise failure


register_check("environment (ENV)", [rule_id for rule_id, _ in _ENV_RULES], environment)
