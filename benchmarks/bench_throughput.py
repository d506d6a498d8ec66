"""Throughput of cnilint against the least work any reader must do (a benchmark, not a test).

Builds a large log (--mb, default 200) from the real captures of every
scenario but 08-concurrency (its interleaved bursts): each scenario's logs are
repeated in rounds, every round with fresh container ids, netns paths and pod
UIDs, shifted bridge/host-local addresses (the last IPv4 octet and the IPv6
suffix, the same way) and later `date` times, so nothing can be cached by
identity. One file per plugin, each in time order. Then it measures, each in a
fresh child process (peak RSS read by a small parent, as bench_memory.py does):

  (a) a reference reader: read each file, split it into records with string
      operations and decode both JSON bodies with the json module;
  (b) `cnilint records`: sum(1 for _ in cnilint.parse(path)) over every file;
  (c) `cnilint check`, every rule: run_checks over all logs together, as the CLI.

With --jobs N (N > 1), (c) is also measured as `cnilint check --jobs N` runs it
(check_paths with N worker processes; peak RSS is then the largest process's).
With --repeat N each is measured N times, alternating, and the median is kept
(the reference reader's speed varies most from run to run).

    python benchmarks/bench_throughput.py [--mb 200] [--jobs 2] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REAL = ROOT / "fixtures" / "real"
SKIPPED = ("08-concurrency",)  # interleaved bursts: not a steady log
SEPARATOR = "=" * 65 + "\n\n\n"
DATE_FORMAT = "%a %b %d %I:%M:%S %p UTC %Y"
START = datetime(2026, 11, 27, 20, 0, 0)
GAP = timedelta(seconds=30)  # between two rounds
STEP = 7  # address shift per round
# One pass per file and round: dates, container ids, uuids (netns, pod UIDs), and the
# bridge/host-local addresses of 10.85.0.0/16 and fd00:85::/64 (the gateway .1 / ::1 stays).
TOKENS = re.compile(
    r"(?P<date>\b[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d [AP]M UTC \d{4}\b)"
    r"|(?P<id>\b[0-9a-f]{64}\b)"
    r"|(?P<uuid>\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b)"
    r"|10\.85\.0\.(?P<v4>\d+)/16"
    r"|fd00:85::(?P<v6>[0-9a-f]+)/64"
)


def _scenarios() -> list[list[Path]]:
    return [
        sorted(log for log in folder.iterdir() if log.is_file() and log.suffix not in (".json", ".md"))
        for folder in sorted(REAL.iterdir())
        if folder.is_dir() and folder.name not in SKIPPED
    ]


def _host(number: int, shift: int) -> int:
    return number if number < 2 else 2 + (number - 2 + shift) % 250  # 2..251, a bijection


class Round:
    """The consistent replacements of one repetition of one scenario."""

    def __init__(self, index: int, offset: timedelta) -> None:
        self.shift = index * STEP
        self.offset = offset
        self.fresh: dict[str, str] = {}

    def __call__(self, match: re.Match[str]) -> str:
        kind = match.lastgroup
        if kind == "v4":
            return f"10.85.0.{_host(int(match['v4']), self.shift)}/16"
        if kind == "v6":
            return f"fd00:85::{_host(int(match['v6'], 16), self.shift):x}/64"
        old = match[0]
        new = self.fresh.get(old)
        if new is None:
            if kind == "date":
                new = (datetime.strptime(old, DATE_FORMAT) + self.offset).strftime(DATE_FORMAT)
            elif kind == "id":
                new = uuid.uuid4().hex * 2
            else:
                new = str(uuid.uuid4())
            self.fresh[old] = new
        return new


def build(target_mb: float, folder: Path) -> list[Path]:
    scenarios = []
    for logs in _scenarios():
        texts = {log.name: log.read_text() for log in logs}
        dates = [datetime.strptime(m[0], DATE_FORMAT) for t in texts.values() for m in TOKENS.finditer(t) if m["date"]]
        scenarios.append((texts, min(dates), max(dates) - min(dates)))
    outs: dict[str, object] = {}
    written, clock, index = 0, START, 0
    try:
        while written < target_mb * 1e6:
            for texts, first, span in scenarios:
                replace = Round(index, clock - first)
                for plugin, text in texts.items():
                    if plugin not in outs:
                        outs[plugin] = open(folder / plugin, "w")  # noqa: SIM115 - closed below
                    written += outs[plugin].write(TOKENS.sub(replace, text))  # type: ignore[attr-defined]
                clock += span + GAP
            index += 1
    finally:
        for out in outs.values():
            out.close()  # type: ignore[attr-defined]
    return sorted(folder / plugin for plugin in outs)


def _decode(body: str) -> bool:
    try:
        json.loads(body)
    except ValueError:
        return False
    return True


def reference(paths: list[Path]) -> int:
    """The least work: records by string operations, both bodies by the json module."""
    records = 0
    for path in paths:
        for chunk in path.read_text().split(SEPARATOR):
            if not chunk.strip():
                continue
            records += 1
            output = chunk.find("OUTPUT:\n")
            end = chunk.rfind("Returned at:")
            start = chunk.find("INPUT:\n", 0, output if output >= 0 else len(chunk))
            if start >= 0:
                _decode(chunk[start + 7 : output if output >= 0 else end])
            if output >= 0:
                _decode(chunk[output + 8 : end if end > output else len(chunk)])
    return records


def records(paths: list[Path]) -> int:
    import cnilint

    return sum(sum(1 for _ in cnilint.parse(path)) for path in paths)


def check(paths: list[Path]) -> int:
    from cnilint import parse
    from cnilint.checker import run_checks
    from cnilint.engine import Engine
    from cnilint.options import Options

    readers = [parse(path) for path in paths]
    checked = run_checks([(reader, iter(reader)) for reader in readers], Engine(Options()))
    return checked.summary.records


def check_jobs(paths: list[Path], jobs: int) -> int:
    from cnilint.checker import check_paths
    from cnilint.options import Options

    return check_paths([str(path) for path in paths], Options(), jobs=jobs).data.summary.records


WORK = {"reference": reference, "records": records, "check": check}


def child(kind: str, folder: Path) -> None:
    paths = sorted(folder.iterdir())
    start = time.perf_counter()
    if kind.startswith("check-jobs-"):
        count = check_jobs(paths, int(kind.removeprefix("check-jobs-")))
    else:
        count = WORK[kind](paths)
    print(count, time.perf_counter() - start)


def measure(kind: str, folder: Path) -> tuple[int, float, float]:
    """Records, seconds and peak RSS (MB) of one fresh child, read by a small parent."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", kind, str(folder)]
    probe = (
        "import resource, subprocess, sys; "
        f"r = subprocess.run({command!r}, check=True, capture_output=True, text=True); "
        "print(r.stdout.strip(), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    result = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    count, seconds, rss = result.stdout.split()
    return int(count), float(seconds), int(rss) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=200.0)
    parser.add_argument("--jobs", type=int, default=1, help="also measure (c) with N worker processes")
    parser.add_argument("--repeat", type=int, default=1, help="measure each N times and keep the median")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FOLDER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        paths = build(args.mb, folder)
        size = sum(path.stat().st_size for path in paths) / 1e6
        print(f"logs: {len(paths)} files ({', '.join(p.name for p in paths)}), {size:.1f} MB", flush=True)
        speed = {}
        labels = {"reference": "(a) reference reader", "records": "(b) cnilint records", "check": "(c) cnilint check"}
        if args.jobs > 1:
            labels[f"check-jobs-{args.jobs}"] = f"(c) check --jobs {args.jobs}"
        runs: dict[str, list[tuple[int, float, float]]] = {kind: [] for kind in labels}
        for _ in range(args.repeat):
            for kind in labels:
                runs[kind].append(measure(kind, folder))
        for kind, label in labels.items():
            seconds = statistics.median(run[1] for run in runs[kind])
            count, rss = runs[kind][0][0], max(run[2] for run in runs[kind])
            spread = f" (runs: {', '.join(f'{run[1]:.2f}' for run in runs[kind])} s)" if args.repeat > 1 else ""
            speed[kind] = size / seconds
            print(
                f"{label:>22}: {count} records in {seconds:6.2f} s = {count / seconds:9,.0f} records/s, "
                f"{size / seconds:6.1f} MB/s, peak RSS {rss:6.1f} MB{spread}",
                flush=True,
            )
        ratio_b, ratio_c = speed["records"] / speed["reference"], speed["check"] / speed["reference"]
        print(f"ratios: b/a = {ratio_b:.3f}, c/a = {ratio_c:.3f}")
        if args.jobs > 1:
            parallel = speed[f"check-jobs-{args.jobs}"]
            ratio_j, speed_up = parallel / speed["reference"], parallel / speed["check"]
            print(f"--jobs {args.jobs}: c/a = {ratio_j:.3f}, speed-up over (c) {speed_up:.2f}x")


if __name__ == "__main__":
    main()
