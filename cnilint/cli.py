"""Command line: `cnilint [check] PATH...`, `records`, `timeline`, `rules`, `rule ID`,
`capture install|status|uninstall`.

Exit codes (as ruff): 0 no finding at or above --fail-on, 1 there is one,
2 usage error, bad option or a PATH that cannot be read.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from rich.console import Console

from cnilint import __version__, baseline
from cnilint.capture import command as capture_command
from cnilint.catalogue import SEVERITIES, catalogue
from cnilint.checker import check_paths
from cnilint.correlate.conflist import ConflistError, load_conflists
from cnilint.inputs import DEFAULT_MAX_RECORD_BYTES, InputError, LogInput, byte_size, expand
from cnilint.options import Options, OptionsError, load_options, split_codes
from cnilint.parallel import OrderedLogs, WorkerError, WorkerPool, resolve_jobs
from cnilint.parse import LogReader, Problem, Record
from cnilint.profiles import PROFILES
from cnilint.progress import RunProgress, progress_wanted
from cnilint.redact import Redactor
from cnilint.reports import FORMATS, rules_report
from cnilint.reports import records as records_report
from cnilint.reports.data import ReportData

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
SUBCOMMANDS = ("check", "records", "timeline", "rules", "rule", "capture")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2
        self.exit(EXIT_USAGE, f"cnilint: error: {message}\n")


def _paths_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH", help="log file, directory of logs, or - for stdin")
    parser.add_argument("--plugin", metavar="NAME", help="plugin name for logs read from stdin (or to override)")
    parser.add_argument(
        "--max-record-bytes",
        type=byte_size,
        default=DEFAULT_MAX_RECORD_BYTES,
        metavar="SIZE",
        help="skip (and report) records larger than this (default: 16MiB)",
    )
    parser.add_argument(
        "--no-redact", action="store_true", help="show secret-looking values (tokens, keys, passwords) as logged"
    )


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        jobs = -1
    if jobs < 0:
        raise argparse.ArgumentTypeError(f"expected a number of processes (0: one per core), got {text!r}")
    return jobs


def _jobs_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        default=1,
        metavar="N",
        help="read and check the logs on N processes (0: one per core; default: 1); same output",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cnilint",
        description="Parse CNI plugin wrapper logs (/tmp/log/<plugin>) and check them against the CNI SPEC.",
        epilog="`cnilint PATH...` is short for `cnilint check PATH...`.",
    )
    parser.add_argument("--version", action="version", version=f"cnilint {__version__}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    check = sub.add_parser("check", help="check logs against the SPEC (the default command)")
    _paths_argument(check)
    check.add_argument(
        "--format",
        action="append",
        choices=tuple(FORMATS),
        help="output format, repeatable with one --output each (default: rich in a terminal, else concise)",
    )
    check.add_argument("--output", action="append", metavar="FILE", help="write the matching --format to FILE")
    check.add_argument("--records-csv", metavar="FILE", help="also write one CSV row per record to FILE")
    check.add_argument("--select", action="append", metavar="CODES", help="rule ID prefixes to enable (RES,ENV01)")
    check.add_argument("--ignore", action="append", metavar="CODES", help="rule ID prefixes to disable")
    check.add_argument("--severity", choices=SEVERITIES, help="report findings at or above this (default: info)")
    check.add_argument("--fail-on", choices=SEVERITIES, help="exit 1 on findings at or above this (default: error)")
    check.add_argument("--profile", choices=PROFILES, help="libcni (default): libcni's known deviations at info")
    check.add_argument("--exit-zero", action="store_true", help="exit 0 even when findings fail the run")
    check.add_argument("--baseline", metavar="FILE", help="suppress the known findings recorded in FILE")
    check.add_argument("--write-baseline", metavar="FILE", help="write the findings to FILE as a baseline, exit 0")
    check.add_argument(
        "--conflist",
        action="append",
        metavar="FILE",
        help="network configuration list (repeatable, or a folder like /etc/cni/net.d) for the LIST rules",
    )
    _jobs_argument(check)

    records = sub.add_parser("records", help="print every invocation found in the logs")
    _paths_argument(records)
    records.add_argument(
        "--format",
        choices=("jsonl", "table", "csv"),
        help="jsonl (default when stdout is not a terminal), table (default in a terminal) or csv",
    )
    _jobs_argument(records)

    timeline = sub.add_parser("timeline", help="per attachment, its ADD/CHECK/DEL operations in time order")
    _paths_argument(timeline)
    timeline.add_argument("--format", choices=("table", "csv", "json"), default="table", help="default: table")
    timeline.add_argument("--conflist", action="append", metavar="FILE", help="network configuration lists")

    rules = sub.add_parser("rules", help="list every rule of the catalogue and whether it is checked")
    rules.add_argument("--format", choices=("table", "json"), default="table")

    rule = sub.add_parser("rule", help="explain one rule")
    rule.add_argument("rule_id", metavar="ID")
    rule.add_argument("--format", choices=("text", "json"), default="text")
    capture_command.add_parser(sub)
    return parser


@dataclass
class _Run:
    """Logs read in one command; I/O errors are reported after the output."""

    io_errors: list[str] = field(default_factory=list)
    readers: list[LogReader] = field(default_factory=list)
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES

    def inputs(self, paths: Sequence[str], plugin: str | None) -> Iterator[LogInput]:
        for raw in paths:
            try:
                yield from expand([raw], plugin=plugin)
            except InputError as exc:
                self.io_errors.append(str(exc))

    def logs(self, paths: Sequence[str], plugin: str | None) -> Iterator[LogReader]:
        for log in self.inputs(paths, plugin):
            try:
                reader = log.open(self.max_record_bytes)
            except InputError as exc:
                self.io_errors.append(str(exc))
                continue
            self.readers.append(reader)
            yield reader

    def read(self, reader: LogReader) -> Iterator[Record]:
        try:
            yield from reader
        except OSError as exc:
            self.io_errors.append(f"{reader.file}: {exc.strerror or exc}")

    def report_io_errors(self, err: Console) -> None:
        for message in self.io_errors:
            err.print(f"cnilint: error: {message}", markup=False, highlight=False, soft_wrap=True)


def _problem_line(file: str, problem: Problem) -> str:
    span = f"-{problem.end_line}" if problem.end_line and problem.end_line != problem.line else ""
    return f"{file}:{problem.line}{span}: {problem.message}"


def run_records(args: argparse.Namespace, out: Console, err: Console) -> int:
    try:
        redactor = _redactor(args)
    except OptionsError as exc:
        err.print(f"cnilint: error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return EXIT_USAGE
    fmt = args.format or ("table" if out.is_terminal else "jsonl")
    jobs = resolve_jobs(args.jobs)
    # A live bar beside records printed to the same terminal would garble them.
    shown = progress_wanted(err) and not out.is_terminal
    with contextlib.ExitStack() as stack:
        # Workers read the files ahead (--jobs); the records still come out file by file.
        pool = stack.enter_context(WorkerPool(jobs, None, args.max_record_bytes)) if jobs > 1 else None
        logs = OrderedLogs(args.paths, args.plugin, args.max_record_bytes, pool)
        progress = stack.enter_context(RunProgress(err, logs.total_bytes, enabled=shown, description="reading"))
        records = (redactor.record(record) for record in _counted(logs, progress))
        if fmt == "jsonl":
            records_report.write_jsonl(records, out.file)
        elif fmt == "csv":
            records_report.write_csv(records, out.file)
        else:
            records_report.write_table(records, out)
    out.file.flush()
    for reader in logs.readers:
        for problem in reader.problems:
            err.print(_problem_line(reader.file, problem), markup=False, highlight=False, soft_wrap=True)
    run = _Run(io_errors=logs.io_errors)
    run.report_io_errors(err)
    return EXIT_USAGE if run.io_errors else EXIT_OK


def _counted(logs: OrderedLogs, progress: RunProgress) -> Iterator[Record]:
    for log in logs.opened():
        progress.add_log(log)
        for record in logs.read(log):
            progress.advance()
            yield record
        progress.log_done(log)


def run_timeline(args: argparse.Namespace, out: Console, err: Console) -> int:
    from cnilint.reports import timeline as timeline_report

    try:
        conflists = load_conflists(args.conflist or [])
        redactor = _redactor(args)
    except (ConflistError, OptionsError) as exc:
        err.print(f"cnilint: error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return EXIT_USAGE
    run = _Run(max_record_bytes=args.max_record_bytes)
    readers = list(run.logs(args.paths, args.plugin))
    logs = ((redactor.record(record) for record in run.read(reader)) for reader in readers)
    timeline = timeline_report.build(logs, conflists)
    if args.format == "json":
        timeline_report.write_json(timeline, out.file)
    elif args.format == "csv":
        timeline_report.write_csv(timeline, out.file)
    else:
        timeline_report.print_table(timeline, out)
    out.file.flush()
    for reader in readers:
        for problem in reader.problems:
            err.print(_problem_line(reader.file, problem), markup=False, highlight=False, soft_wrap=True)
    run.report_io_errors(err)
    return EXIT_USAGE if run.io_errors else EXIT_OK


def _redactor(args: argparse.Namespace) -> Redactor:
    options = load_options(redact=False if args.no_redact else None)
    return Redactor(enabled=options.redact, extra_names=options.redact_names)


def _options(args: argparse.Namespace) -> Options:
    return load_options(
        redact=False if args.no_redact else None,
        select=split_codes(args.select) if args.select else None,
        ignore=split_codes(args.ignore) if args.ignore else None,
        severity=args.severity,
        fail_on=args.fail_on,
        profile=args.profile,
    )


def _targets(args: argparse.Namespace, out: Console) -> list[tuple[str, str | None]]:
    """(format, output file or None for stdout) pairs, in the order given."""
    formats = list(args.format or [])
    outputs = list(args.output or [])
    if len(outputs) > max(len(formats), 1):
        raise OptionsError("more --output than --format options")
    if not formats:
        formats = ["rich" if out.is_terminal else "concise"]
        if os.environ.get("GITHUB_ACTIONS") == "true" and not outputs:
            formats.append("github")  # annotations beside the default output, as yamllint does
            outputs = [None, None]  # type: ignore[list-item]
    targets = [(fmt, outputs[i] if i < len(outputs) else None) for i, fmt in enumerate(formats)]
    if sum(1 for fmt, target in targets if target is None and fmt != "github") > 1:
        raise OptionsError("several --format options need an --output each (only one can go to stdout)")
    return targets


def run_check(args: argparse.Namespace, out: Console, err: Console) -> int:
    try:
        options = _options(args)
        targets = _targets(args, out)
        conflists = load_conflists(args.conflist or [])
        known = baseline.load(args.baseline) if args.baseline else None
    except (OptionsError, ConflistError, baseline.BaselineError) as exc:
        err.print(f"cnilint: error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return EXIT_USAGE
    keep_records = bool(args.records_csv) or any(FORMATS[fmt].needs_records for fmt, _ in targets)
    record_bodies = any(FORMATS[fmt].needs_bodies for fmt, _ in targets)
    checked = check_paths(
        args.paths,
        options,
        conflists,
        plugin=args.plugin,
        keep_records=keep_records,
        record_bodies=record_bodies,
        max_record_bytes=args.max_record_bytes,
        jobs=resolve_jobs(args.jobs),
        console=err,
    )
    run = _Run(io_errors=checked.io_errors)
    data = checked.data
    if args.write_baseline and not run.io_errors:  # never a baseline of logs partly read
        try:
            baseline.save(data.findings, args.write_baseline)
        except baseline.BaselineError as exc:
            run.io_errors.append(str(exc))
    if known is not None:
        baseline.apply(data, known)  # every format and the exit code see only new findings

    for fmt, target in targets:
        try:
            _write(baseline.with_stale_lines(fmt, FORMATS[fmt].writer()), data, target, out)
        except BrokenPipeError:
            raise  # stdout closed early (| head): not an error of the run, see main()
        except OSError as exc:
            run.io_errors.append(f"{target}: {exc.strerror or exc}")
    if args.records_csv:
        from cnilint.reports import csv_report

        try:
            _write(csv_report.write_records, data, args.records_csv, out)
        except OSError as exc:
            run.io_errors.append(f"{args.records_csv}: {exc.strerror or exc}")
    for message in checked.errors:
        err.print(f"cnilint: {message}", markup=False, highlight=False, soft_wrap=True)
    run.report_io_errors(err)
    if run.io_errors:
        return EXIT_USAGE
    if args.write_baseline:
        return EXIT_OK
    failing = any(options.fails(finding.severity) for finding in data.findings)
    return EXIT_FINDINGS if failing and not args.exit_zero else EXIT_OK


def _write(writer, data: ReportData, target: str | None, out: Console) -> None:
    if target is None:
        writer(data, out.file)
        out.file.flush()
        return
    with open(target, "w", encoding="utf-8", newline="") as handle:
        writer(data, handle)


def run_rules(args: argparse.Namespace, out: Console) -> int:
    if args.format == "json":
        rules_report.write_rules_json(out.file)
    else:
        rules_report.print_rules(out)
    return EXIT_OK


def run_rule(args: argparse.Namespace, out: Console, err: Console) -> int:
    info = catalogue().get(args.rule_id.upper())
    if info is None:
        err.print(f"cnilint: error: unknown rule {args.rule_id!r} (see `cnilint rules`)", markup=False)
        return EXIT_USAGE
    if args.format == "json":
        rules_report.write_rule_json(out.file, info)
    else:
        rules_report.print_rule(out, info)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in SUBCOMMANDS and argv[0] not in ("-h", "--help", "--version"):
        argv.insert(0, "check")
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    out = Console(highlight=False)
    err = Console(stderr=True, highlight=False)
    try:
        if args.command == "records":
            return run_records(args, out, err)
        if args.command == "timeline":
            return run_timeline(args, out, err)
        if args.command == "rules":
            return run_rules(args, out)
        if args.command == "rule":
            return run_rule(args, out, err)
        if args.command == "capture":
            return capture_command.run(args, out, err)
        return run_check(args, out, err)
    except KeyboardInterrupt:
        err.print("cnilint: interrupted")
        return 130
    except WorkerError as exc:  # --jobs: a worker process died or met a cnilint bug
        err.print(f"cnilint: error: {exc}", markup=False, highlight=False, soft_wrap=True)
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python from
        # complaining again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
