#!/usr/bin/env python3
"""Report benchmark: `trailscope report` over one dataset, wall time, peak RSS and page
size (medians over runs), with how long each of its queries took (`--timings`, medians).

    python3 benches/report.py --dataset DIR [--runs 3] [--bin PATH]

DIR is a dataset `trailscope ingest` wrote (e.g. of the trail `benches/ingest.py`
generates). The queries run concurrently in part (the detections beside the questions
that do not read them), so their times add up to more than the wall time.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "target" / "release" / "trailscope"


def run_once(binary, dataset, page):
    """One `trailscope report` under /usr/bin/time: (wall s, peak RSS MiB, {query: s})."""
    started = time.monotonic()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "peak_rss_kib %M", str(binary), "report", "-d", str(dataset),
         "-o", str(page), "--timings"],
        capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    if done.returncode != 0:
        sys.exit(f"trailscope report failed: {done.stderr}")
    rss, stages = 0.0, {}
    for line in done.stderr.splitlines():
        parts = line.split()
        if parts[:1] == ["peak_rss_kib"]:
            rss = int(parts[1]) / 1024
        elif len(parts) >= 3 and parts[1] == "s":
            stages[" ".join(parts[2:])] = float(parts[0])
    return wall, rss, stages


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bin", type=Path, default=BIN)
    args = parser.parse_args()
    walls, rsss, stages = [], [], {}
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        for _ in range(args.runs):
            wall, rss, times = run_once(args.bin, args.dataset, page)
            walls.append(wall)
            rsss.append(rss)
            for name, seconds in times.items():
                stages.setdefault(name, []).append(seconds)
        size = page.stat().st_size
    print(f"dataset {args.dataset}, {args.runs} runs")
    print(f"wall: median {statistics.median(walls):.2f} s "
          f"({', '.join(f'{w:.2f}' for w in walls)}); peak RSS median "
          f"{statistics.median(rsss):.0f} MiB; page {size / 1024:.0f} KiB")
    print("| query | median (s) |")
    print("|---|---|")
    for name, values in stages.items():
        print(f"| {name} | {statistics.median(values):.2f} |")


if __name__ == "__main__":
    main()
