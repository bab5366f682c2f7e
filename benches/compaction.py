#!/usr/bin/env python3
"""Small files: a dataset fed by one ingest a day for a year, against the same events
ingested at once, before and after `trailscope compact`.

    python3 benches/compaction.py [--size 200MiB] [--days 365] [--runs 3]

Generates `trailscope synth --size SIZE --days DAYS` (kept in benches/work/), then builds
three datasets of the same events: `daily` (one `trailscope ingest` per day, each over that
day's folders, as a daily sync would), `at-once` (one ingest of the whole trail), and
`compacted` (a copy of `daily` after `trailscope compact`). Then times `trailscope findings`
(built-in detections) on each, alternating, medians of --runs, and prints the data-file
counts and the ratios to `at-once`.
"""

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benches" / "work"
BIN = ROOT / "target" / "release" / "trailscope"


def sh(args, **kw):
    return subprocess.run([str(a) for a in args], check=True, capture_output=True, text=True, **kw)


def data_files(dataset):
    return len(json.loads((dataset / "_trailscope" / "manifest.json").read_text())["data_files"])


def findings(dataset):
    start = time.perf_counter()
    out = subprocess.run([str(BIN), "findings", "-d", str(dataset), "-f", "jsonl"],
                         capture_output=True, text=True)
    if out.returncode not in (0, 1):
        sys.exit(out.stderr)
    return time.perf_counter() - start, len(out.stdout.splitlines())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="200MiB")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    trail = WORK / f"trail-{args.size}-{args.days}d"
    if not trail.exists():
        sh([BIN, "synth", "--out", trail, "--size", args.size, "--days", args.days, "--start", "2025-01-01"])
    logs = trail / "AWSLogs"
    # Each day's folders (.../CloudTrail/<region>/YYYY/MM/DD), in date order.
    days = defaultdict(list)
    for d in logs.glob("**/CloudTrail/*/*/*/*"):
        if d.is_dir():
            days["/".join(d.parts[-3:])].append(d)
    lakes = {name: WORK / f"compaction-{name}" for name in ("daily", "at-once", "compacted")}
    for lake in lakes.values():
        shutil.rmtree(lake, ignore_errors=True)
    start = time.perf_counter()
    for day in sorted(days):
        sh([BIN, "ingest", "-q", "-o", lakes["daily"], *days[day]])
    daily_seconds = time.perf_counter() - start
    sh([BIN, "ingest", "-q", "-o", lakes["at-once"], logs])
    shutil.copytree(lakes["daily"], lakes["compacted"])
    start = time.perf_counter()
    sh([BIN, "compact", "-d", lakes["compacted"]])
    compact_seconds = time.perf_counter() - start
    times = defaultdict(list)
    counts = {}
    for i in range(args.runs + 1):
        order = list(lakes.items()) if i % 2 else list(reversed(lakes.items()))
        for name, lake in order:
            seconds, n = findings(lake)
            counts[name] = n
            if i > 0:  # the first round warms the page cache
                times[name].append(seconds)
    base = statistics.median(times["at-once"])
    print(f"{len(days)} daily runs took {daily_seconds:.1f} s; compact took {compact_seconds:.2f} s")
    print("| dataset | data files | findings (median s) | runs (s) | / at once | findings |")
    print("|---|---|---|---|---|---|")
    for name, lake in lakes.items():
        median = statistics.median(times[name])
        print(f"| {name} | {data_files(lake)} | {median:.2f} | "
              f"{', '.join(f'{t:.2f}' for t in times[name])} | {median / base:.2f} | {counts[name]} |")


if __name__ == "__main__":
    main()
