"""DLG: a delegated record (an IPAM plugin run by bridge, ptp, macvlan...) against
the upper record that ran it."""

from __future__ import annotations

from collections.abc import Iterator

from cnilint.correlate.delegation import Orphan, Pairing
from cnilint.rules import CrossViolation, cross_rule, in_env, in_record, show

_SAME_ENVIRONMENT = ("CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME", "CNI_ARGS", "CNI_PATH")


@cross_rule("DLG001", "pairing")
def delegate_sees_upper_environment(pairing: Pairing) -> Iterator[CrossViolation]:
    # The upper plugin execs its delegate with its own environment (SPEC, Section 4).
    upper, delegate = pairing.upper, pairing.delegate
    for name in _SAME_ENVIRONMENT:
        mine, theirs = delegate.facts.variable(name), upper.facts.variable(name)
        if mine != theirs:
            message = f"{name}={show(mine)} differs from the upper {upper.record.plugin} record's {show(theirs)}"
            yield CrossViolation(delegate, in_env(name, message), (upper,))


@cross_rule("DLG012", "orphan")
def delegated_record_has_an_upper(orphan: Orphan) -> Iterator[CrossViolation]:
    delegate = orphan.delegate
    if delegate.plugin_type is None:
        return  # INPUT.type names no plugin: nothing could have delegated (CONF007 reports the config)
    message = (
        f"{delegate.record.plugin} {delegate.command} names type {show(delegate.plugin_type)} but {orphan.reason}: "
        "the upper plugin's log is missing, or a runtime called the IPAM plugin directly"
    )
    yield CrossViolation(delegate, in_record(message))
