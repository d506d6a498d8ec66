"""Peak memory and speed of `cnilint check` as the logs grow (a benchmark, not a test).

Builds bridge and host-local logs of N pods, each ADD then DEL (the real
02b-bridge-1.0.0 records with fresh container ids, namespaces and times), so
at most one attachment is live at a time, and prints the peak RSS of
`cnilint check` (every rule, single- and cross-record) for each size: it
should not grow with the logs.

    python benchmarks/bench_memory.py [--pods 2000 8000]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "fixtures" / "real" / "02b-bridge-1.0.0"
SEPARATOR = "=" * 65 + "\n\n\n"


def _records(plugin: str) -> list[str]:
    text = (SOURCE / plugin).read_text()
    return [part + SEPARATOR for part in text.split(SEPARATOR) if part.strip()]


def _date(moment: datetime) -> str:
    return moment.strftime("%a %b %d %I:%M:%S %p UTC %Y")


def build(pods: int, folder: Path) -> int:
    bridge, host_local = _records("bridge"), _records("host-local")
    add_b, del_b, add_h, del_h = bridge[0], bridge[6], host_local[0], host_local[6]
    old_id = re.search(r"CNI_CONTAINERID=(\w+)", add_b).group(1)  # type: ignore[union-attr]
    old_ns = re.search(r"CNI_NETNS=(\S+)", add_b).group(1)  # type: ignore[union-attr]
    old_dates = set(re.findall(r"^(?:Returned at: )?(\w{3} \w{3} .* UTC \d{4})$", add_b + del_b, re.M))
    clock = datetime(2026, 11, 27, 20, 0, 0, tzinfo=UTC)
    with open(folder / "bridge", "w") as out_b, open(folder / "host-local", "w") as out_h:
        for _ in range(pods):
            container, netns = uuid.uuid4().hex * 2, f"/var/run/netns/{uuid.uuid4()}"
            for bridge_text, ipam_text in ((add_b, add_h), (del_b, del_h)):
                stamp = _date(clock)
                clock += timedelta(seconds=2)
                for text, out in ((bridge_text, out_b), (ipam_text, out_h)):
                    text = text.replace(old_id, container).replace(old_ns, netns)
                    for old in old_dates:
                        text = text.replace(old, stamp)
                    out.write(text)
    return sum(path.stat().st_size for path in folder.iterdir())


def peak_rss_mb(folder: Path) -> tuple[float, float]:
    """Peak RSS (MB) and wall seconds of one `cnilint check` run, measured by a fresh parent."""
    probe = (
        "import resource, subprocess, sys, time; start = time.perf_counter(); "
        f"subprocess.run([sys.executable, '-m', 'cnilint', 'check', {str(folder)!r}, '--format', 'json', "
        "'--exit-zero'], check=True, stdout=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, time.perf_counter() - start)"
    )
    result = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True)
    rss, seconds = result.stdout.split()
    return int(rss) / 1024, float(seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, nargs="+", default=[2000, 8000])
    args = parser.parse_args()
    for pods in args.pods:  # each size in its own child, so each peak is its own
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            size = build(pods, folder) / 1e6
            rss, seconds = peak_rss_mb(folder)
            records = pods * 4
            print(
                f"{pods:>6} pods, {records} records, {size:6.1f} MB of logs: peak RSS {rss:6.1f} MB, "
                f"{seconds:5.1f} s ({records / seconds:,.0f} records/s)",
                flush=True,
            )


if __name__ == "__main__":
    main()
