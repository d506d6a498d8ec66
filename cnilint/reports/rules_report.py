"""`cnilint rules` and `cnilint rule ID`: the catalogue, and what is checked."""

from __future__ import annotations

import json
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from cnilint.catalogue import RuleInfo, catalogue, explanations
from cnilint.profiles import LIBCNI_DEVIATIONS
from cnilint.reports.rich_report import STYLE
from cnilint.rules import PLANNED, checked_rule_ids


def status(rule_id: str) -> tuple[str, str | None]:
    if rule_id in checked_rule_ids():
        return "checked", None
    return "planned", PLANNED.get(rule_id, "not implemented yet")


def rule_dict(info: RuleInfo, *, full: bool = False) -> dict[str, Any]:
    state, reason = status(info.id)
    data: dict[str, Any] = {
        "id": info.id,
        "title": info.title,
        "severity": info.severity,
        "family": info.family,
        "status": state,
    }
    if reason:
        data["reason"] = reason
    if info.severity_by_version:
        data["severity_by_version"] = {str(versions): severity for versions, severity in info.severity_by_version}
    data["versions"] = str(info.versions)
    data["commands"] = list(info.commands)
    data["url"] = info.url
    if full:
        extra = explanations().get(info.id, {})
        data.update(
            source=info.source,
            section=info.section,
            also=list(info.also),
            reads=list(info.reads),
            checks=info.checks,
            why=extra.get("why"),
            example_fail=info.example_fail,
            example_pass=extra.get("example_pass"),
            needs=list(info.needs),
            notes=info.notes or None,
            profiles={"libcni": LIBCNI_DEVIATIONS[info.id].reason} if info.id in LIBCNI_DEVIATIONS else {},
        )
    return data


def write_rules_json(out: TextIO) -> None:
    json.dump([rule_dict(info) for info in catalogue().values()], out, ensure_ascii=False, indent=2)
    out.write("\n")


def print_rules(console: Console) -> None:
    table = Table(title="cnilint rules (the catalogue)")
    for header in ("id", "family", "severity", "status", "title"):
        table.add_column(header, overflow="fold")
    checked = 0
    for info in catalogue().values():
        state, _ = status(info.id)
        checked += state == "checked"
        table.add_row(
            info.id,
            info.family,
            Text(info.severity, style=STYLE[info.severity]),
            Text(state, style="green" if state == "checked" else "dim"),
            info.title,
        )
    console.print(table)
    console.print(f"{checked} of {len(catalogue())} rules checked; `cnilint rule ID` explains one.")


def print_rule(console: Console, info: RuleInfo) -> None:
    data = rule_dict(info, full=True)
    console.print(Text(f"{info.id} — {info.title}", style="bold"))
    by_version = data.get("severity_by_version")
    severity = info.severity + (f" ({', '.join(f'{k}: {v}' for k, v in by_version.items())})" if by_version else "")
    console.print(Text(f"severity {severity} · versions {data['versions']} · commands {', '.join(info.commands)}"))
    state = data["status"] + (f": {data['reason']}" if data.get("reason") else "")
    console.print(Text(f"family {info.family} · source {info.source} · {state}"))
    sections = [
        ("What it checks", info.checks),
        ("Why it matters", data.get("why")),
        ("Fails on", info.example_fail),
        ("Passes on", data.get("example_pass")),
        ("Notes", info.notes),
    ]
    for heading, text in sections:
        if text:
            console.print()
            console.print(Text(heading, style="bold"))
            console.print(Text(text))
    if info.id in LIBCNI_DEVIATIONS:
        console.print()
        console.print(Text("Profiles", style="bold"))
        console.print(
            Text(
                f"--profile libcni (default) reports it at info as a known deviation: "
                f"{LIBCNI_DEVIATIONS[info.id].reason}. --profile spec keeps the severity above."
            )
        )
    console.print()
    console.print(Text(f"SPEC: {info.section}", style="bold"))
    console.print(Text(info.url))
    for url in info.also:
        console.print(Text(f"also {url}", style="dim"))


def write_rule_json(out: TextIO, info: RuleInfo) -> None:
    json.dump(rule_dict(info, full=True), out, ensure_ascii=False, indent=2)
    out.write("\n")
