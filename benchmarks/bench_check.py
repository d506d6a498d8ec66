"""How fast `cnilint check` keeps up with the parser (a benchmark, not a test).

Builds logs of about 50 MB by repeating the real 08-concurrency and 03a-chain
captures (each plugin's log repeated to its share), then times parsing alone
and a full check with every rule, in this process.

    python benchmarks/bench_check.py [--mb 50]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from cnilint import parse
from cnilint.engine import Engine
from cnilint.options import Options

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ("08-concurrency", "03a-chain-1.0.0")


def build(target_mb: float, folder: Path) -> list[Path]:
    logs = [
        log for scenario in SCENARIOS for log in sorted((ROOT / "fixtures" / "real" / scenario).iterdir())
        if log.suffix not in (".json", ".md")
    ]  # fmt: skip
    share = target_mb * 1e6 / len(logs)
    built = []
    for log in logs:
        text = log.read_text()
        copies = max(1, int(share // len(text.encode())))
        path = folder / log.parent.name / log.name  # the file name stays the plugin name
        path.parent.mkdir(exist_ok=True)
        path.write_text(text * copies)
        built.append(path)
    return built


def measure(paths: list[Path], engine: Engine | None) -> tuple[int, float]:
    start = time.perf_counter()
    records = 0
    for path in paths:
        reader = parse(path)
        if engine is None:
            records += sum(1 for _ in reader)
        else:
            records += sum(1 for _ in engine.check(reader))
    return records, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=50.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        paths = build(args.mb, Path(folder))
        size = sum(p.stat().st_size for p in paths) / 1e6
        print(f"logs: {len(paths)} files, {size:.1f} MB ({', '.join(SCENARIOS)} repeated)")
        for label, engine in (("parse only", None), ("check, every rule", Engine(Options(profile="libcni")))):
            records, seconds = measure(paths, engine)
            print(
                f"{label:>18}: {records} records in {seconds:.2f} s = {records / seconds:,.0f} records/s, "
                f"{size / seconds:.1f} MB/s"
            )


if __name__ == "__main__":
    main()
