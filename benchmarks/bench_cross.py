"""Throughput of the cross-record stage alone (a benchmark, not a test).

Parses and single-checks every record of the logs first (not timed), then
times only `CrossEngine(engine).run(merge_in_time(...))` drained, over the
stored RecordResults, and prints records per second of that stage. Either
give log files or a folder, or let it build one with bench_throughput.build.

    python benchmarks/bench_cross.py [--mb 20] [--repeat 3] [--profile] [PATH ...]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_throughput

from cnilint import parse
from cnilint.correlate.calls import merge_in_time
from cnilint.correlate.engine import CrossEngine
from cnilint.engine import Engine, RecordResult
from cnilint.options import Options


def _files(paths: list[str]) -> list[Path]:
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        found += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    return found


def prepare(paths: list[Path], engine: Engine) -> list[list[RecordResult]]:
    """Every record parsed and single-checked, per file (the stage before the cross one)."""
    return [[engine.check_record(record) for record in parse(path)] for path in paths]


def cross(results: list[list[RecordResult]], engine: Engine) -> tuple[int, int]:
    """One cross-record run: (findings, internal errors)."""
    crossing = CrossEngine(engine, None)
    findings = sum(1 for _ in crossing.run(merge_in_time([iter(file) for file in results])))
    return findings, len(crossing.errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="log files or folders (default: build --mb of logs)")
    parser.add_argument("--mb", type=float, default=20, help="size of the built log")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs; the best is printed")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        paths = _files(args.paths) if args.paths else bench_throughput.build(args.mb, Path(name))
        engine = Engine(Options())
        results = prepare(paths, engine)
    # The whole log's results stay in memory here (a check streams them): keep the
    # garbage collector from walking them over and over, as it would not in a check.
    gc.collect()
    gc.freeze()
    records = sum(len(file) for file in results)
    megabytes = sum(path.stat().st_size for path in paths) / 1e6 if args.paths else args.mb
    print(f"{records} records ({megabytes:.1f} MB) in {len(results)} logs")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        cross(results, engine)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        return
    wall = cpu = float("inf")
    for _ in range(args.repeat):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        findings, errors = cross(results, engine)
        wall, cpu = min(wall, time.perf_counter() - start), min(cpu, time.process_time() - start_cpu)
    # CPU time as well: on a shared machine it moves less than wall time.
    print(
        f"cross-record stage: {records / wall:,.0f} records/s ({wall:.2f} s wall), "
        f"{records / cpu:,.0f} records/s of CPU ({cpu:.2f} s); {findings} findings, {errors} errors"
    )


if __name__ == "__main__":
    main()
