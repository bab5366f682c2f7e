#!/usr/bin/env python3
"""Thread scaling of ingest: trailscope builds, DuckDB and the gunzip bound at 1, 2, 4, ... threads.

Usage (from the repository root, on the machine to measure):
    python3 benches/scaling.py --trail benches/work/trail-1GiB-seed1 --threads 1,2,4,8,16 \
        --runs 3 --bin now=target/release/trailscope --bin before=/tmp/ts-old \
        [--duckdb-python python3] [--out scaling.json]

For each thread count, one warm-up round and then --runs rounds; each round times every tool
in turn (gunzip, each --bin, DuckDB when --duckdb-python is given) exactly as
benches/ingest.py does, so the figures of one thread count are side by side. It prints, per
thread count, medians and peak RSS, each tool's speed-up over its own 1-thread time, and the
ratios to the gunzip bound and to DuckDB; the JSON (--out) holds every run. The trail is one
`trailscope synth` wrote (it has ground-truth.json).
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ingest as bench  # noqa: E402  (the measuring helpers and DuckDB's side)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trail", required=True, type=Path)
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bin", action="append", required=True, metavar="NAME=PATH",
                        help="a trailscope binary to time (repeatable)")
    parser.add_argument("--gunzip", default="libdeflate-gunzip")
    parser.add_argument("--duckdb-python", help="a Python that can import duckdb (DuckDB is skipped without it)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "trailscope-scaling")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    bins = dict(b.split("=", 1) for b in args.bin)
    threads = [int(t) for t in args.threads.split(",")]
    truth = json.loads((args.trail / "ground-truth.json").read_text())
    files = sorted(str(p) for p in (args.trail / "AWSLogs").rglob("*.json.gz") if "/CloudTrail/" in str(p))
    args.work.mkdir(parents=True, exist_ok=True)
    file_list = args.work / "files.nul"
    file_list.write_text("\0".join(files) + "\0")
    largest = max(bench.gzip_isize(f) for f in files)
    out_dir = args.work / "out"

    def run(tool, t):
        shutil.rmtree(out_dir, ignore_errors=True)
        if tool == "gunzip":
            with open(file_list, "rb") as stdin:
                return bench.measure(["xargs", "-0", "-P", str(t), "-n", "32", args.gunzip, "-c"], stdin=stdin)
        if tool == "duckdb":
            return bench.measure([args.duckdb_python, bench.__file__, "duckdb-convert", "--file-list",
                                  str(file_list), "--out", str(out_dir), "--threads", str(t),
                                  "--max-object-size", str(largest + 1024)])
        return bench.measure([bins[tool], "ingest", str(args.trail / "AWSLogs"), "-o", str(out_dir),
                              "-q", "-j", str(t)])

    tools = ["gunzip", *bins] + (["duckdb"] if args.duckdb_python else [])
    summary = {
        "machine": {
            "cpu": subprocess.run(["sh", "-c", "lscpu | sed -n 's/^Model name: *//p'"],
                                  capture_output=True, text=True).stdout.strip(),
            "cores": os.cpu_count(),
            "kernel": platform.release(),
        },
        "trail": {"path": str(args.trail), "files": len(files), "json_bytes": truth["totals"]["json_bytes"],
                  "gzip_bytes": truth["totals"]["gzip_bytes"], "records": truth["totals"]["records"]},
        "runs": args.runs,
        "threads": {},
    }
    for t in threads:
        results = {tool: [] for tool in tools}
        for round_ in range(args.runs + 1):
            for tool in tools:
                seconds, rss = run(tool, t)
                label = "warm-up" if round_ == 0 else f"run {round_}"
                print(f"{t:2} threads {label:8} {tool:8} {seconds:7.2f} s  peak RSS {bench.fmt_bytes(rss)}",
                      file=sys.stderr, flush=True)
                if round_ > 0:
                    results[tool].append({"seconds": seconds, "peak_rss": rss})
        summary["threads"][t] = {
            tool: {"median_s": statistics.median(r["seconds"] for r in runs),
                   "min_s": min(r["seconds"] for r in runs), "max_s": max(r["seconds"] for r in runs),
                   "peak_rss_bytes": max(r["peak_rss"] for r in runs), "runs_s": [r["seconds"] for r in runs]}
            for tool, runs in results.items()
        }
        if args.out:
            args.out.write_text(json.dumps(summary, indent=2))
    shutil.rmtree(out_dir, ignore_errors=True)
    print_tables(summary, tools, threads)


def print_tables(summary, tools, threads):
    trail = summary["trail"]
    print(f"machine: {summary['machine']['cpu']}, {summary['machine']['cores']} cores; trail: {trail['files']} "
          f"files, {trail['json_bytes'] / 1e6:.0f} MB JSON, {trail['records']} records; {summary['runs']} runs, medians")
    print("| threads | " + " | ".join(f"{tool} s (speed-up)" for tool in tools) + " | ingest peak RSS |")
    print("|---" * (len(tools) + 2) + "|")
    base = summary["threads"].get(threads[0], {})
    for t in threads:
        row = summary["threads"][t]
        cells = [f"{row[tool]['median_s']:.2f} ({base[tool]['median_s'] / row[tool]['median_s']:.2f}x)"
                 for tool in tools]
        rss = ", ".join(f"{tool} {bench.fmt_bytes(row[tool]['peak_rss_bytes'])}"
                        for tool in tools if tool not in ("gunzip", "duckdb"))
        print(f"| {t} | " + " | ".join(cells) + f" | {rss} |")
    ours = [tool for tool in tools if tool not in ("gunzip", "duckdb")]
    print("\n| threads | " + " | ".join(f"{tool} / gunzip" for tool in ours)
          + ("".join(f" | {tool} vs DuckDB" for tool in ours) if "duckdb" in tools else "") + " |")
    print("|---" * (1 + len(ours) * (2 if "duckdb" in tools else 1)) + "|")
    for t in threads:
        row = summary["threads"][t]
        cells = [f"{row[tool]['median_s'] / row['gunzip']['median_s']:.2f}x" for tool in ours]
        if "duckdb" in tools:
            cells += [f"{row['duckdb']['median_s'] / row[tool]['median_s']:.2f}x" for tool in ours]
        print(f"| {t} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"\n({time.perf_counter() - start:.0f} s)", file=sys.stderr)
