"""CNI spec versions: parsing, comparison and the catalogue's version ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass

Version = tuple[int, int, int]

RELEASED = ("0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0")
COMMANDS = ("ADD", "DEL", "CHECK", "GC", "STATUS", "VERSION")

# SemVer 2.0: MAJOR.MINOR.PATCH, no leading zeros, optional pre-release/build.
_SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?"
)


def parse_version(text: object) -> Version | None:
    """(major, minor, patch) of a SemVer string, None when malformed."""
    if not isinstance(text, str):
        return None
    match = _SEMVER.fullmatch(text)
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def version_text(version: Version) -> str:
    return ".".join(str(part) for part in version)


@dataclass(frozen=True, slots=True)
class VersionRange:
    """`>=X.Y.Z`, `X.Y.Z-A.B.C` (inclusive) or a single `X.Y.Z`."""

    low: Version
    high: Version | None  # None: no upper bound

    @staticmethod
    def parse(text: str) -> VersionRange:
        text = text.strip()
        if text.startswith(">="):
            low = parse_version(text[2:].strip())
            if low is None:
                raise ValueError(f"bad version range {text!r}")
            return VersionRange(low, None)
        low_text, sep, high_text = text.partition("-")
        low = parse_version(low_text)
        high = parse_version(high_text) if sep else low
        if low is None or high is None:
            raise ValueError(f"bad version range {text!r}")
        return VersionRange(low, high)

    def __contains__(self, version: object) -> bool:
        if not isinstance(version, tuple):
            return False
        return self.low <= version and (self.high is None or version <= self.high)

    @property
    def open_from_first(self) -> bool:
        """`>=0.1.0`: the only ranges that also run on a malformed version."""
        return self.low == (0, 1, 0) and self.high is None

    def __str__(self) -> str:
        if self.high is None:
            return f">={version_text(self.low)}"
        if self.high == self.low:
            return version_text(self.low)
        return f"{version_text(self.low)}-{version_text(self.high)}"


def result_family(version: Version) -> str:
    """Result shapes change at 0.3.0 and 1.0.0 (1.1.0 adds fields to 1.0.0's)."""
    if version < (0, 3, 0):
        return "0.2"
    if version < (1, 0, 0):
        return "0.4"
    return "1.x"
