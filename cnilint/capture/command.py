"""`cnilint capture install|status|uninstall`: the command line of the capture side."""

from __future__ import annotations

import argparse
import json
import os
import shlex
from collections.abc import Sequence
from typing import Any, TextIO

from rich.console import Console

from cnilint.capture.install import (
    DEFAULT_CNI_BIN,
    DEFAULT_LOG_DIR,
    CaptureError,
    Outcome,
    Plan,
    PluginStatus,
    install,
    plan_install,
    plan_uninstall,
    status,
    uninstall,
)
from cnilint.capture.scripts import DEFAULT_FORMAT, FORMATS

EXIT_OK = 0
EXIT_PROBLEMS = 1  # status: a wrapper without its original, an original without wrapper
EXIT_ERROR = 2


def add_parser(sub: Any) -> None:
    """Add `capture` and its actions to the `cnilint` subcommands."""
    capture = sub.add_parser(
        "capture",
        help="put the logging wrapper in front of CNI plugins, show it, take it away",
        description="Capture CNI calls: wrap plugins with the logging wrapper, show which are wrapped, restore them.",
    )
    capture.set_defaults(capture_parser=capture)
    actions = capture.add_subparsers(dest="capture_action", parser_class=type(capture))

    def cni_bin(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--cni-bin", default=DEFAULT_CNI_BIN, metavar="DIR", help=f"default: {DEFAULT_CNI_BIN}")

    def dry_run(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="print every file operation, change nothing")

    install_parser = actions.add_parser(
        "install",
        help="wrap plugins: <name> becomes <name>-original, the wrapper takes its place",
        description="Wrap plugins: each plugin's file is kept as <name>-original and the wrapper takes its place, "
        "with the same mode and owner. Nothing changes when any plugin is refused.",
    )
    cni_bin(install_parser)
    install_parser.add_argument(
        "--log-dir", default=DEFAULT_LOG_DIR, metavar="DIR", help=f"where the wrapper logs (default: {DEFAULT_LOG_DIR})"
    )
    install_parser.add_argument(
        "--format",
        choices=FORMATS,
        default=DEFAULT_FORMAT,
        help="cnilint (default): the classic blocks plus stderr, exit code, times, invocation id; "
        "classic: the wrapper article's script, byte for byte",
    )
    dry_run(install_parser)
    install_parser.add_argument("--all", action="store_true", help="every plugin in --cni-bin not yet wrapped")
    install_parser.add_argument("plugins", nargs="*", metavar="PLUGIN", help="plugin names (bridge host-local ...)")

    status_parser = actions.add_parser("status", help="which plugins are wrapped, and where they log")
    cni_bin(status_parser)
    status_parser.add_argument("--format", choices=("table", "json"), default="table", help="default: table")

    uninstall_parser = actions.add_parser(
        "uninstall",
        help="put the originals back (all wrapped plugins, or those named)",
        description="Move each <name>-original back over its wrapper: the plugin's own file returns (same bytes, "
        "mode, owner and inode). Plugins not wrapped are left alone, so running it twice is safe.",
    )
    cni_bin(uninstall_parser)
    dry_run(uninstall_parser)
    uninstall_parser.add_argument("plugins", nargs="*", metavar="PLUGIN", help="default: every wrapped plugin")


def _error(err: Console, message: str) -> int:
    for line in message.splitlines():
        err.print(f"cnilint: error: {line}", markup=False, highlight=False, soft_wrap=True)
    return EXIT_ERROR


def _write_lines(out: TextIO, lines: Sequence[str]) -> None:
    out.write("".join(f"{line}\n" for line in lines))
    out.flush()


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _dry_run_lines(plan: Plan) -> list[str]:
    lines = []
    for change in plan.changes:
        lines.append(f"{change.name}:")
        lines.extend(f"  {operation.describe()}" for operation in change.operations)
    lines.extend(plan.unchanged)
    operations = sum(len(change.operations) for change in plan.changes)
    lines.append(
        f"Dry run: {_count(operations, 'operation')} on {_count(len(plan.changes), 'plugin')}; nothing was changed."
    )
    return lines


def _finish(out: TextIO, err: Console, outcome: Outcome, after: Sequence[str] = ()) -> int:
    _write_lines(out, outcome.done)
    if outcome.error is not None:
        return _error(err, outcome.error)
    _write_lines(out, after)
    return EXIT_OK


def run_install(args: argparse.Namespace, out: TextIO, err: Console) -> int:
    if args.all == bool(args.plugins):
        return _error(err, "capture install: name the plugins to wrap, or give --all (not both)")
    plugins = None if args.all else args.plugins
    try:
        if args.dry_run:
            _write_lines(out, _dry_run_lines(plan_install(args.cni_bin, args.log_dir, plugins, args.format)))
            return EXIT_OK
        outcome = install(args.cni_bin, args.log_dir, plugins, args.format)
    except CaptureError as exc:
        return _error(err, str(exc))
    folder = shlex.quote(args.cni_bin)
    logs = shlex.quote(os.path.abspath(args.log_dir) + "/")
    after = [
        f"Next: make CNI calls (cnitool, or restart a pod), then `cnilint {logs}`; "
        f"`cnilint capture uninstall --cni-bin {folder}` puts the plugins back."
    ]
    return _finish(out, err, outcome, after if outcome.changed else ())


def run_uninstall(args: argparse.Namespace, out: TextIO, err: Console) -> int:
    plugins = args.plugins or None
    try:
        if args.dry_run:
            _write_lines(out, _dry_run_lines(plan_uninstall(args.cni_bin, plugins)))
            return EXIT_OK
        outcome = uninstall(args.cni_bin, plugins)
    except CaptureError as exc:
        return _error(err, str(exc))
    return _finish(out, err, outcome)


def _status_line(item: PluginStatus, width: int) -> str:
    assert item.wrapper is not None
    if item.log is None:
        where = "log folder unreadable in the script"
    elif item.log_bytes is None:
        where = f"logs to {item.log} (no log yet)"
    else:
        where = f"logs to {item.log} ({item.log_bytes} bytes)"
    return f"  {item.name:<{width}}  {item.wrapper.label:<17}  {where}"


def _status_table(folder: str, items: list[PluginStatus]) -> list[str]:
    wrapped = [item for item in items if item.wrapper is not None]
    lines = [f"{folder}: {len(wrapped)} of {len(items)} plugins wrapped"]
    width = max((len(item.name) for item in wrapped), default=0)
    lines.extend(_status_line(item, width) for item in wrapped)
    plain = [item.name for item in items if item.wrapper is None and item.problem is None]
    if plain:
        lines.append(f"not wrapped: {', '.join(plain)}")
    lines.extend(f"problem: {item.problem}" for item in items if item.problem)
    return lines


def run_status(args: argparse.Namespace, out: TextIO, err: Console) -> int:
    try:
        items = status(args.cni_bin)
    except CaptureError as exc:
        return _error(err, str(exc))
    problems = [item.problem for item in items if item.problem]
    if args.format == "json":
        document = {
            "cni_bin": args.cni_bin,
            "plugins": [item.to_dict() for item in items],
            "summary": {
                "plugins": len(items),
                "wrapped": sum(item.wrapper is not None for item in items),
                "problems": len(problems),
            },
        }
        out.write(json.dumps(document, indent=2) + "\n")
        out.flush()
    else:
        _write_lines(out, _status_table(args.cni_bin, items))
    return EXIT_PROBLEMS if problems else EXIT_OK


def run(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Dispatch `cnilint capture ACTION`."""
    action = getattr(args, "capture_action", None)
    if action is None:
        args.capture_parser.print_help()
        return EXIT_ERROR
    handler = {"install": run_install, "status": run_status, "uninstall": run_uninstall}[action]
    return handler(args, out.file, err)
