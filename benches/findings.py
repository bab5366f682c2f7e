#!/usr/bin/env python3
"""Findings benchmark: the built-in detections alone, every Sigma rule of ../shared/sigma
alone, and both together, over one dataset: wall time and peak RSS of each
`trailscope findings` process, medians over runs, the three alternating in one run.

    python3 benches/findings.py --dataset DIR [--runs 3] [--sigma PATH ...]

DIR is a dataset `trailscope ingest` wrote (e.g. of the trail `benches/ingest.py` generates).
The Sigma rules are SigmaHQ's and suzaku's CloudTrail sets of ../shared/sigma (the whole
folder: `unsupported/` and `rules-placeholder/` rules are reported as not supported). Each
variant writes its findings as JSON lines to a temporary file; the number of findings is
printed beside the times, so a faster variant that finds less shows it.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "target" / "release" / "trailscope"
SHARED_SIGMA = ROOT.parent / "shared" / "sigma"


def measured(args, out):
    """Runs `trailscope findings ARGS` under /usr/bin/time for its own peak RSS."""
    start = time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", str(BIN), "findings", *args, "-f", "jsonl", "-o", out],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"trailscope findings {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    with open(out) as f:
        findings = sum(1 for _ in f)
    return wall, peak_kib / 1024, findings


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sigma", action="append", help=f"default: {SHARED_SIGMA}")
    args = parser.parse_args()
    sigma = args.sigma or [str(SHARED_SIGMA)]
    sigma_args = sum((["--sigma", s] for s in sigma), [])
    variants = {
        "built-in detections": ["-d", args.dataset],
        "Sigma rules alone": ["-d", args.dataset, "--no-builtin", *sigma_args],
        "built-in + Sigma": ["-d", args.dataset, *sigma_args],
    }
    results = {name: [] for name in variants}
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "findings.jsonl")
        for i in range(args.runs):
            order = list(variants.items())
            if i % 2:
                order.reverse()
            for name, v in order:
                results[name].append(measured(v, out))
                print(f"run {i + 1} {name}: {results[name][-1][0]:.2f} s", file=sys.stderr)
    print(f"| variant | median wall (s) | runs (s) | peak RSS (MiB, median) | findings |")
    print("|---|---|---|---|---|")
    for name, rs in results.items():
        walls = [r[0] for r in rs]
        print(
            f"| {name} | {statistics.median(walls):.2f} | "
            f"{', '.join(f'{w:.2f}' for w in walls)} | "
            f"{statistics.median(r[1] for r in rs):.0f} | {rs[-1][2]} |"
        )
    json.dump({k: v for k, v in results.items()}, sys.stderr)
    print(file=sys.stderr)


if __name__ == "__main__":
    main()
