"""Speed of single-record checking alone (a benchmark, not a test).

Builds a log as bench_throughput.py does (fresh container ids, addresses and
times per round; configurations repeat as on a real node), parses every record
into a list first, then times `Engine(Options()).check_record` over them: the
stage of `cnilint check` that runs the single-record rules, without parsing or
the cross-record rules.

    python benchmarks/bench_rules.py [--mb 20] [--folder DIR] [--repeat 3] [--profile]

`--folder` reuses logs already built there (built when the folder is empty);
`--profile` prints the top of a cProfile of one pass.
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

import cnilint
from cnilint.engine import Engine
from cnilint.options import Options
from cnilint.parse import Record

try:
    from cnilint.engine import clear_caches
except ImportError:  # a tree from before the caches (to measure "before" with the same script)

    def clear_caches() -> None:
        pass


def load(folder: Path, target_mb: float) -> list[Record]:
    if not any(folder.iterdir()):
        bench_throughput.build(target_mb, folder)
    return [record for path in sorted(folder.iterdir()) for record in cnilint.parse(path)]


def one_pass(records: list[Record]) -> tuple[float, float, int]:
    """Wall and CPU seconds of a fresh engine (caches emptied) over every record,
    and the findings. CPU time is the steadier figure on a shared machine."""
    clear_caches()
    engine = Engine(Options())
    check = engine.check_record
    findings = 0
    start, cpu = time.perf_counter(), time.process_time()
    for record in records:
        findings += len(check(record).findings)
    return time.perf_counter() - start, time.process_time() - cpu, findings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=20.0)
    parser.add_argument("--folder", type=Path, help="logs to reuse (built there when empty)")
    parser.add_argument("--repeat", type=int, default=3, help="passes; the best is reported")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one pass")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = args.folder or Path(name)
        folder.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        records = load(folder, args.mb)
        size = sum(path.stat().st_size for path in folder.iterdir()) / 1e6
        print(f"{len(records)} records, {size:.1f} MB, parsed in {time.perf_counter() - start:.1f} s", flush=True)
        Engine(Options()).check_record(records[0])  # imports and schema compilation outside the timing
        # A check streams its records; here they all stay in memory, and the
        # cyclic collector would walk them again and again: keep them out of it.
        gc.collect()
        gc.freeze()
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            one_pass(records)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
            pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        passes = [one_pass(records) for _ in range(args.repeat)]
        wall, cpu = min(p[0] for p in passes), min(p[1] for p in passes)
        print(
            f"single-record checking: {len(records)} records in {wall:.2f} s = {len(records) / wall:,.0f} records/s, "
            f"{size / wall:.1f} MB/s; CPU {cpu:.2f} s = {len(records) / cpu:,.0f} records/s "
            f"({passes[0][2]} findings; best of {args.repeat})"
        )


if __name__ == "__main__":
    main()
