#!/usr/bin/env python3
"""Incremental-run benchmark: what one small run costs once a dataset is large.

Usage (from the repository root, after `python3 benches/ingest.py --size 10GiB` made the
trail):
    python3 benches/incremental.py --size 10GiB --runs 3 [--baseline OTHER_BINARY]

What it does, in order:
  1. ingests the trail benches/work/trail-SIZE-seed1/AWSLogs into a fresh dataset, once per binary
     (target/release/trailscope, and --baseline if given);
  2. writes two one-file inputs from one file of the trail's last day: the same records
     moved to the next day (`new day`), and an exact copy (`existing day`, all duplicates);
  3. times, --runs times for each binary in turn, three incremental runs into its dataset:
       no new file   `ingest TRAIL`: the whole trail listed, nothing read
       new day       `ingest NEWDAY --reread`
       existing day  `ingest COPY --reread`
  4. prints medians of time and peak RSS (each process's own, os.wait4) and the records
     each run counted, so that both binaries can be seen to give the same counts.
"""

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benches" / "work"


def measure(cmd):
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{cmd} failed with {code}:\n{proc.stderr.read().decode()[-2000:]}")
    return elapsed, usage.ru_maxrss * 1024, json.loads(out)


def one_file_inputs(trail, out):
    """The `new day` and `existing day` inputs, from one file of the trail's last day."""
    files = sorted(trail.rglob("*_CloudTrail_*.json.gz"))
    last_day = max(f.parent for f in files if "CloudTrail-" not in str(f))
    source = sorted(last_day.glob("*.json.gz"))[0]
    text = gzip.decompress(source.read_bytes()).decode()
    y, m, d = last_day.parts[-3:]
    day = f"{y}-{m}-{d}"
    next_day = time.strftime(
        "%Y-%m-%d", time.gmtime(time.mktime(time.strptime(day, "%Y-%m-%d")) + 86400 + 43200)
    )
    inputs = {}
    for name, body, folder in [
        ("new-day", text.replace(f"{day}T", f"{next_day}T"), next_day.replace("-", "/")),
        ("existing-day", text, day.replace("-", "/")),
    ]:
        target = out / name / "AWSLogs" / "111111111111" / "CloudTrail" / "us-east-1" / folder
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{name}.json.gz").write_bytes(gzip.compress(body.encode()))
        inputs[name] = out / name
    return inputs


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="10GiB")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--baseline")
    args = parser.parse_args()
    trail = WORK / f"trail-{args.size}-seed1" / "AWSLogs"
    if not trail.exists():
        raise SystemExit(f"{trail} is missing: run benches/ingest.py --size {args.size} first")
    binaries = {"ingest": str(ROOT / "target" / "release" / "trailscope")}
    if args.baseline:
        binaries["baseline"] = args.baseline
    scratch = WORK / "incremental"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    inputs = one_file_inputs(trail, scratch)
    cases = {
        "no new file": lambda: [str(trail)],
        "new day": lambda: [str(inputs["new-day"]), "--reread"],
        "existing day": lambda: [str(inputs["existing-day"]), "--reread"],
    }
    for name, binary in binaries.items():
        dataset = scratch / f"lake-{name}"
        took, rss, _ = measure(
            [binary, "ingest", str(trail), "-o", str(dataset), "-q", "-j", str(args.threads), "--json"]
        )
        print(f"{name}: first ingest {took:.2f} s, peak RSS {rss / 2**20:.0f} MiB")
    results = {}
    for run in range(args.runs):
        for case, case_args in cases.items():
            for name, binary in binaries.items():
                dataset = scratch / f"lake-{name}"
                cmd = [binary, "ingest", *case_args(), "-o", str(dataset), "-q"]
                cmd += ["-j", str(args.threads), "--json"]
                took, rss, summary = measure(cmd)
                records = summary["records"]
                counts = (records["seen"], records["written"], records["duplicate"])
                results.setdefault((case, name), []).append((took, rss, counts))
                print(f"run {run + 1} {case:13s} {name:9s} {took:.2f} s {rss / 2**20:.0f} MiB {counts}")
    print(f"\n{args.size} dataset, {args.threads} threads, {args.runs} runs (medians)")
    print("| run | binary | time | peak RSS | records seen, written, duplicate |")
    print("|---|---|---|---|---|")
    for (case, name), rows in results.items():
        took = statistics.median(r[0] for r in rows)
        rss = statistics.median(r[1] for r in rows)
        print(f"| {case} | {name} | {took:.2f} s | {rss / 2**20:.0f} MiB | {rows[-1][2]} |")


if __name__ == "__main__":
    main()
