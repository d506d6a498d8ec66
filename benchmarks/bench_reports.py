"""Peak memory and time of `cnilint check` in every report format (a benchmark, not a test).

Builds a log as bench_throughput.py does (or reuses --folder), then runs the
CLI once per format, each in a fresh process, writing the report to a
temporary file, and prints wall time, peak RSS and the report's size. Run it
at two sizes to see whether a format's memory grows with the log:

    python benchmarks/bench_reports.py [--mb 50] [--folder DIR] [--formats json html ...]

`records-csv` is `--format json --output /dev/null --records-csv FILE`;
`records` is `cnilint records --format csv`. Formats that use pandas (csv,
html, records-csv, records) start about 50 MB higher: importing pandas costs
that much resident memory.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_throughput

FORMATS = ("json", "jsonl", "concise", "rich", "github", "csv", "sarif", "junit", "html", "records-csv", "records")


def command(fmt: str, folder: Path, output: Path) -> list[str]:
    cnilint = [sys.executable, "-m", "cnilint"]
    if fmt == "records":
        return [*cnilint, "records", str(folder), "--format", "csv"]  # to stdout: the report
    if fmt == "records-csv":
        check = [*cnilint, "check", str(folder), "--format", "json", "--output", os.devnull]
        return [*check, "--records-csv", str(output)]
    return [*cnilint, "check", str(folder), "--format", fmt, "--output", str(output)]


def measure(argv: list[str], stdout: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one fresh child, read by a small parent."""
    probe = (
        "import resource, subprocess, sys, time; "
        f"out = open({str(stdout)!r}, 'w'); "
        f"start = time.perf_counter(); subprocess.run({argv!r}, stdout=out); "
        "print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    result = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    seconds, rss = result.stdout.split()
    return float(seconds), int(rss) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0)
    parser.add_argument("--folder", type=Path, help="logs to reuse (built there when empty)")
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = args.folder or Path(name) / "logs"
        folder.mkdir(parents=True, exist_ok=True)
        if not any(folder.iterdir()):
            bench_throughput.build(args.mb, folder)
        size = sum(path.stat().st_size for path in folder.iterdir()) / 1e6
        print(f"logs: {size:.1f} MB in {folder}", flush=True)
        for fmt in args.formats:
            output = Path(name) / f"report.{fmt}"
            seconds, rss = measure(command(fmt, folder, output), output if fmt == "records" else Path(os.devnull))
            written = output.stat().st_size / 1e6 if output.exists() else 0.0
            print(f"{fmt:>12}: {seconds:7.1f} s, peak RSS {rss:6.1f} MB, report {written:8.1f} MB", flush=True)
            output.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
