"""Command line: `cnilint [check] PATH...` and `cnilint records PATH...`.

Exit codes: 0 done, 2 usage or I/O error (a PATH that cannot be read).
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

from cnilint import __version__
from cnilint.inputs import InputError, LogInput, expand
from cnilint.parse import LogReader, Problem, Record
from cnilint.reports import records as records_report

EXIT_OK = 0
EXIT_USAGE = 2
SUBCOMMANDS = ("check", "records")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as argparse but shorter
        self.exit(EXIT_USAGE, f"cnilint: error: {message}\n")


def _paths_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="log file, directory of logs, or - for stdin")
    parser.add_argument("--plugin", metavar="NAME", help="plugin name for logs read from stdin (or to override)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cnilint",
        description="Parse and check the logs of CNI plugin logging wrappers (/tmp/log/<plugin>).",
    )
    parser.add_argument("--version", action="version", version=f"cnilint {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    check = sub.add_parser("check", help="check logs (default when no subcommand is given)")
    _paths_argument(check)

    records = sub.add_parser("records", help="print every invocation found in the logs")
    _paths_argument(records)
    records.add_argument(
        "--format",
        choices=("jsonl", "table", "csv"),
        help="jsonl (default when stdout is not a terminal), table (default in a terminal) or csv",
    )
    return parser


@dataclass
class _Run:
    """Problems and I/O errors met while reading, reported after the output."""

    io_errors: list[str] = field(default_factory=list)
    readers: list[LogReader] = field(default_factory=list)

    def inputs(self, paths: Sequence[str], plugin: str | None) -> Iterator[LogInput]:
        for raw in paths:
            try:
                yield from expand([raw], plugin=plugin)
            except InputError as exc:
                self.io_errors.append(str(exc))

    def records(self, paths: Sequence[str], plugin: str | None) -> Iterator[Record]:
        for log in self.inputs(paths, plugin):
            try:
                reader = log.open()
            except InputError as exc:
                self.io_errors.append(str(exc))
                continue
            self.readers.append(reader)
            try:
                yield from reader
            except OSError as exc:
                self.io_errors.append(f"{log.name}: {exc.strerror or exc}")

    def file_problems(self) -> Iterator[tuple[str, Problem]]:
        for reader in self.readers:
            for problem in reader.problems:
                yield reader.file, problem

    def finish(self, err: Console) -> int:
        for file, problem in self.file_problems():
            err.print(_problem_line(file, problem), markup=False, highlight=False, soft_wrap=True)
        for message in self.io_errors:
            err.print(f"cnilint: error: {message}", markup=False, highlight=False, soft_wrap=True)
        return EXIT_USAGE if self.io_errors else EXIT_OK


def _problem_line(file: str, problem: Problem) -> str:
    span = f"-{problem.end_line}" if problem.end_line and problem.end_line != problem.line else ""
    return f"{file}:{problem.line}{span}: {problem.message}"


def run_records(args: argparse.Namespace, out: Console, err: Console) -> int:
    run = _Run()
    fmt = args.format or ("table" if out.is_terminal else "jsonl")
    records = run.records(args.paths, args.plugin)
    if fmt == "jsonl":
        records_report.write_jsonl(records, out.file)
    elif fmt == "csv":
        records_report.write_csv(records, out.file)
    else:
        records_report.write_table(records, out)
    out.file.flush()
    return run.finish(err)


@dataclass
class _FileSummary:
    records: int = 0
    incomplete: int = 0
    commands: Counter = field(default_factory=Counter)
    versions: Counter = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)


def run_check(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Until the rules land: what was parsed, per file."""
    run = _Run()
    summaries: dict[str, _FileSummary] = {}
    for record in run.records(args.paths, args.plugin):
        summary = summaries.setdefault(record.file, _FileSummary())
        summary.records += 1
        summary.incomplete += not record.complete
        summary.commands[record.command or "(none)"] += 1
        summary.versions[records_report.declared_version(record) or "(none)"] += 1
        summary.problems.extend(record.problems)
    for reader in run.readers:
        summaries.setdefault(reader.file, _FileSummary()).problems.extend(reader.problems)

    table = Table(title="Parsed CNI wrapper logs")
    for header in ("file", "records", "commands", "cniVersions", "parse problems"):
        table.add_column(header, overflow="fold")
    for file, summary in summaries.items():
        table.add_row(
            file,
            f"{summary.records}" + (f" ({summary.incomplete} incomplete)" if summary.incomplete else ""),
            _counts(summary.commands),
            _counts(summary.versions),
            str(len(summary.problems)) if summary.problems else "none",
        )
    if summaries:
        out.print(table)
    for file, summary in summaries.items():
        for problem in sorted(summary.problems, key=lambda p: p.line):
            out.print(_problem_line(file, problem), markup=False, highlight=False, soft_wrap=True)
    for message in run.io_errors:
        err.print(f"cnilint: error: {message}", markup=False, highlight=False, soft_wrap=True)
    return EXIT_USAGE if run.io_errors else EXIT_OK


def _counts(counter: Counter) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counter.items())) or "-"


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help", "--version"):
        argv.insert(0, "check")
    args = build_parser().parse_args(argv)
    if args.command is None:
        build_parser().print_help()
        return EXIT_USAGE
    out = Console(highlight=False)
    err = Console(stderr=True, highlight=False)
    try:
        if args.command == "records":
            return run_records(args, out, err)
        return run_check(args, out, err)
    except KeyboardInterrupt:
        err.print("cnilint: interrupted")
        return 130
    except BrokenPipeError:
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
