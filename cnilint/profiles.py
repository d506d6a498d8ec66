"""Profiles: where the reference library deviates from the SPEC on purpose.

With the `libcni` profile (the default) a finding that only shows one of
libcni's documented deviations is reported at info and marked as such, so a
log from a healthy node is not a wall of errors; `spec` keeps the SPEC's own
severities. Sources: the catalogue's section "Where spec versions and libcni
disagree".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from cnilint.facts import Facts

PROFILES = ("libcni", "spec")
DEFAULT_PROFILE = "libcni"


@dataclass(frozen=True, slots=True)
class Deviation:
    reason: str
    applies: Callable[[Facts], bool] = lambda facts: True


def _code_between(low: int, high: int) -> Callable[[Facts], bool]:
    def applies(facts: Facts) -> bool:
        code = facts.error.get("code") if facts.error else None
        return isinstance(code, int) and low <= code <= high

    return applies


LIBCNI_DEVIATIONS: dict[str, Deviation] = {
    "CONF013": Deviation(
        "libcni's InjectConf keeps `capabilities` in the plugin configuration, so every libcni-based runtime sends it"
    ),
    "VER004": Deviation(
        "libcni's skel ignores VERSION stdin and answers in the library's own version (1.0.0 up to libcni 1.1.x)"
    ),
    "VER006": Deviation("libcni's skel never fails VERSION, whatever version it is asked in"),
    "ERR007": Deviation(
        "libcni answers codes 4-7 (invalid environment, I/O, decoding, invalid config) whatever version "
        "the request speaks",
        _code_between(4, 7),
    ),
}


def deviation(profile: str, rule_id: str, facts: Facts) -> str | None:
    """The reason when `profile` treats this finding as a known deviation."""
    if profile != "libcni":
        return None
    found = LIBCNI_DEVIATIONS.get(rule_id)
    return found.reason if found is not None and found.applies(facts) else None
