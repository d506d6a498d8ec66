"""Which rules run and how findings count: selection, severities, profile.

The same keys come from the command line and from `[tool.cnilint]` in
pyproject.toml or a `.cnilint.toml`, found by walking up from the current
directory (command-line values win). Logs cannot carry inline comments, so
ignores can be given per file (glob) or per plugin.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cnilint.catalogue import SEVERITIES, catalogue, severity_rank
from cnilint.profiles import DEFAULT_PROFILE, PROFILES

CONFIG_FILES = (".cnilint.toml", "pyproject.toml")


class OptionsError(ValueError):
    """A bad option value or configuration file; the message is one line."""


@dataclass(frozen=True)
class Options:
    select: tuple[str, ...] = ()  # rule ID prefixes; empty or "ALL" selects every rule
    ignore: tuple[str, ...] = ()
    severity: str = "info"  # report findings at or above this
    fail_on: str = "error"  # exit 1 when a finding is at or above this
    profile: str = DEFAULT_PROFILE
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    per_plugin_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    redact: bool = True  # hide secrets in everything written (--no-redact shows them)
    redact_names: tuple[str, ...] = ()  # more variable-name patterns (regular expressions) to treat as secret
    config_file: str | None = None

    def validate(self) -> Options:
        for name in ("severity", "fail_on"):
            value = getattr(self, name)
            if value not in SEVERITIES:
                raise OptionsError(f"{name.replace('_', '-')} must be one of {', '.join(SEVERITIES)}, not {value!r}")
        if self.profile not in PROFILES:
            raise OptionsError(f"profile must be one of {', '.join(PROFILES)}, not {self.profile!r}")
        for pattern in self.redact_names:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise OptionsError(f"redact-names: {pattern!r} is not a regular expression ({exc})") from None
        prefixes = [*self.select, *self.ignore]
        prefixes += [p for group in self.per_file_ignores.values() for p in group]
        prefixes += [p for group in self.per_plugin_ignores.values() for p in group]
        ids = catalogue()
        for prefix in prefixes:
            if prefix != "ALL" and not any(rule_id.startswith(prefix) for rule_id in ids):
                raise OptionsError(f"no rule matches {prefix!r} (see `cnilint rules`)")
        return self

    def enabled(self, rule_id: str) -> bool:
        """ruff's resolution: the longest matching prefix decides; on a tie,
        ignore wins. Without --select every rule is selected."""
        select = self.select or ("ALL",)
        best_select = _longest_match(rule_id, select)
        best_ignore = _longest_match(rule_id, self.ignore)
        if best_select < 0:
            return False
        return best_select > best_ignore

    def ignored_for(self, rule_id: str, file: str, plugin: str | None) -> bool:
        for pattern, prefixes in self.per_file_ignores.items():
            if _file_matches(file, pattern) and _longest_match(rule_id, prefixes) >= 0:
                return True
        if plugin is not None:
            prefixes = self.per_plugin_ignores.get(plugin, ())
            if _longest_match(rule_id, prefixes) >= 0:
                return True
        return False

    def reports(self, severity: str) -> bool:
        return severity_rank(severity) >= severity_rank(self.severity)

    def fails(self, severity: str) -> bool:
        return severity_rank(severity) >= severity_rank(self.fail_on)


def _longest_match(rule_id: str, prefixes: tuple[str, ...]) -> int:
    best = -1
    for prefix in prefixes:
        if prefix == "ALL":
            best = max(best, 0)
        elif rule_id.startswith(prefix):
            best = max(best, len(prefix))
    return best


def _file_matches(file: str, pattern: str) -> bool:
    path = Path(file)
    return fnmatch.fnmatch(file, pattern) or fnmatch.fnmatch(path.name, pattern) or path.match(pattern)


def split_codes(values: list[str] | None) -> tuple[str, ...]:
    """`--select RES,ENV01 --select CONF` -> ("RES", "ENV01", "CONF")."""
    codes: list[str] = []
    for value in values or ():
        codes.extend(code.strip().upper() for code in value.split(",") if code.strip())
    return tuple(codes)


def find_config(start: Path) -> tuple[Path, dict[str, Any]] | None:
    """The nearest .cnilint.toml, or pyproject.toml with [tool.cnilint]."""
    for folder in (start, *start.parents):
        for name in CONFIG_FILES:
            candidate = folder / name
            if not candidate.is_file():
                continue
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise OptionsError(f"{candidate}: {exc}") from None
            if name == "pyproject.toml":
                section = data.get("tool", {}).get("cnilint")
                if section is None:
                    continue
                return candidate, section
            return candidate, data
    return None


_KEYS = {
    "select", "ignore", "severity", "fail-on", "profile", "per-file-ignores", "per-plugin-ignores",
    "redact", "redact-names",
}  # fmt: skip


def _codes(value: Any, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise OptionsError(f"{where} must be a list of rule codes")
    return split_codes(value)


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise OptionsError(f"{where} must be a list of strings")
    return value


def options_from_config(path: Path, data: dict[str, Any]) -> Options:
    unknown = set(data) - _KEYS
    if unknown:
        raise OptionsError(f"{path}: unknown key {sorted(unknown)[0]!r} (known: {', '.join(sorted(_KEYS))})")

    def groups(key: str) -> dict[str, tuple[str, ...]]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise OptionsError(f"{path}: {key} must be a table of NAME = [codes]")
        return {name: _codes(codes, f"{path}: {key}.{name}") for name, codes in value.items()}

    return Options(
        select=_codes(data.get("select", []), f"{path}: select"),
        ignore=_codes(data.get("ignore", []), f"{path}: ignore"),
        severity=str(data.get("severity", "info")),
        fail_on=str(data.get("fail-on", "error")),
        profile=str(data.get("profile", DEFAULT_PROFILE)),
        per_file_ignores=groups("per-file-ignores"),
        per_plugin_ignores=groups("per-plugin-ignores"),
        redact=bool(data.get("redact", True)),
        redact_names=tuple(_strings(data.get("redact-names", []), f"{path}: redact-names")),
        config_file=str(path),
    )


def load_options(start: Path | None = None, **overrides: Any) -> Options:
    """Options from the nearest config file, with command-line overrides
    (None means "not given")."""
    found = find_config(start or Path.cwd())
    options = options_from_config(*found) if found else Options()
    given = {key: value for key, value in overrides.items() if value is not None}
    return replace(options, **given).validate()
