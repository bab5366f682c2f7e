#!/usr/bin/env python3
"""Incremental-run benchmark: what one small run costs once a dataset is large.

Usage (from the repository root, after `python3 benches/ingest.py --size 10GiB` made the
trail):
    python3 benches/incremental.py --size 10GiB --runs 3 [--baseline OTHER_BINARY]

What it does, in order:
  1. ingests the trail benches/work/trail-SIZE-seed1/AWSLogs into a fresh dataset, once per binary
     (target/release/trailscope, and --baseline if given);
  2. writes one-file inputs from a file of the trail's last day whose records all happened
     that day: for each run, the same records moved to a day after the trail (`new day`,
     all new: run N uses the Nth day after), and an exact copy (`existing day`, all
     duplicates);
  3. times, --runs times for each binary in turn, three incremental runs into its dataset:
       no new file   `ingest TRAIL`: the whole trail listed, nothing read
       new day       `ingest NEWDAY-N` (a day no run wrote to before)
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


def one_file_inputs(trail, out, runs):
    """The `new day` inputs (one per run, each on its own new day) and the `existing day`
    input, from one file of the trail whose records all happened on its folder's day."""
    files = sorted(trail.rglob("*_CloudTrail_*.json.gz"))
    # The last folder by date (paths sort by account and region first), and in it a file
    # whose every record is of that day: the first deliveries after midnight hold the
    # previous day's last events, which would stay where they are.
    last_date = max(f.parent.parts[-3:] for f in files if "CloudTrail-" not in str(f))
    folder = [f for f in files if f.parent.parts[-3:] == last_date]
    day = "-".join(last_date)
    for source in reversed(folder):
        text = gzip.decompress(source.read_bytes()).decode()
        records = json.loads(text)["Records"]
        if records and all(r.get("eventTime", "").startswith(f"{day}T") for r in records):
            break
    else:
        raise SystemExit(f"no file of {day} holds only records of that day")

    def day_after(days):
        start = time.mktime(time.strptime(day, "%Y-%m-%d"))
        return time.strftime("%Y-%m-%d", time.gmtime(start + days * 86400 + 43200))

    inputs = {}
    bodies = [(f"new-day-{run}", text.replace(f"{day}T", f"{day_after(run + 1)}T"), day_after(run + 1))
              for run in range(runs)]
    for name, body, date in bodies + [("existing-day", text, day)]:
        target = out / name / "AWSLogs" / "111111111111" / "CloudTrail" / "us-east-1" / date.replace("-", "/")
        target.mkdir(parents=True, exist_ok=True)
        (target / f"{name}.json.gz").write_bytes(gzip.compress(body.encode()))
        inputs[name] = out / name
    return inputs, len(records)


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
    inputs, records_per_file = one_file_inputs(trail, scratch, args.runs)
    print(f"one-file inputs: {records_per_file} records each")
    cases = {
        "no new file": lambda run: [str(trail)],
        "new day": lambda run: [str(inputs[f"new-day-{run}"])],
        "existing day": lambda run: [str(inputs["existing-day"]), "--reread"],
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
                cmd = [binary, "ingest", *case_args(run), "-o", str(dataset), "-q"]
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
