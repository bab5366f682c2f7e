#!/usr/bin/env python3
"""Ingest benchmark: trailscope vs DuckDB vs the gunzip bound, side by side, one machine, one run.

Usage (from the repository root):
    python3 benches/ingest.py --size 1GiB --runs 5 --threads 2

What it does, in order:
  1. builds trailscope in release (`cargo build --release --locked -p trailscope`);
  2. generates the trail once with `trailscope synth` (seed 1) under benches/work/;
  3. installs what is missing: libdeflate-tools (Debian) and duckdb (PyPI, in benches/work/.venv);
  4. one warm-up round, then --runs rounds, each timing in turn:
       gunzip   libdeflate-gunzip -c of every trail file, --threads at a time, output discarded
       ingest   trailscope ingest TRAIL -o OUT -q -j THREADS          (a fresh dataset each run)
       duckdb   read_json(files, records=true, explicit columns, maximum_object_size = largest
                file) -> Parquet partitioned by date, zstd, SET threads = THREADS
  5. prints medians, spreads, peak RSS and ratios, and writes them as JSON to benches/work/.

Peak RSS is each process's own (os.wait4), so it is not blurred by the harness.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benches" / "work"
BIN = ROOT / "target" / "release" / "trailscope"

# The columns DuckDB is told to read: CloudTrail's documented top-level fields, the
# identity as a struct, and the free-form fields as JSON. Without an explicit schema its
# auto-detection samples a few files and mis-types fields that differ between them.
DUCKDB_RECORD = (
    "STRUCT("
    "eventVersion VARCHAR, "
    "userIdentity STRUCT(type VARCHAR, principalId VARCHAR, arn VARCHAR, accountId VARCHAR, "
    "accessKeyId VARCHAR, userName VARCHAR, invokedBy VARCHAR, identityProvider VARCHAR, "
    "credentialId VARCHAR, sessionContext JSON, onBehalfOf JSON), "
    "eventTime TIMESTAMP, eventSource VARCHAR, eventName VARCHAR, awsRegion VARCHAR, "
    "sourceIPAddress VARCHAR, userAgent VARCHAR, errorCode VARCHAR, errorMessage VARCHAR, "
    "requestParameters JSON, responseElements JSON, additionalEventData JSON, "
    "requestID VARCHAR, eventID VARCHAR, readOnly BOOLEAN, "
    "resources STRUCT(\"ARN\" VARCHAR, accountId VARCHAR, type VARCHAR)[], "
    "eventType VARCHAR, apiVersion VARCHAR, managementEvent BOOLEAN, "
    "recipientAccountId VARCHAR, sharedEventID VARCHAR, vpcEndpointId VARCHAR, "
    "serviceEventDetails JSON, eventCategory VARCHAR, "
    "tlsDetails STRUCT(tlsVersion VARCHAR, cipherSuite VARCHAR, clientProvidedHostHeader VARCHAR), "
    "sessionCredentialFromConsole VARCHAR)"
)


def sh(cmd, **kw):
    print("+", " ".join(str(c) for c in cmd), file=sys.stderr)
    subprocess.run(cmd, check=True, **kw)


def measure(cmd, stdin=None, stdout=subprocess.DEVNULL, env=None):
    """Runs cmd; returns (seconds, peak RSS in bytes of the process and its waited-for children)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdin=stdin, stdout=stdout, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{cmd[0]} failed with {code}:\n{err[-2000:]}")
    return elapsed, usage.ru_maxrss * 1024


def ensure_tools(skip_duckdb):
    if shutil.which("libdeflate-gunzip") is None:
        sh(["apt-get", "install", "-y", "libdeflate-tools"])
    venv = WORK / ".venv"
    python = venv / "bin" / "python"
    if not skip_duckdb:
        if not python.exists():
            sh([sys.executable, "-m", "venv", str(venv)])
        if subprocess.run([str(python), "-c", "import duckdb"], capture_output=True).returncode != 0:
            sh([str(python), "-m", "pip", "install", "-q", "duckdb"])
    return python


def gzip_isize(path):
    """The uncompressed size a gzip file declares (mod 2^32; trail files are far smaller)."""
    with open(path, "rb") as f:
        f.seek(-4, os.SEEK_END)
        return struct.unpack("<I", f.read(4))[0]


def duckdb_convert(args):
    """Runs inside the venv: the DuckDB side of the benchmark."""
    import duckdb

    files = Path(args.file_list).read_text().split("\0")
    files = [f for f in files if f]
    con = duckdb.connect()
    con.execute(f"SET threads = {args.threads}")
    con.execute("SET preserve_insertion_order = false")
    con.execute(
        f"""
        COPY (
            SELECT unnest(r), CAST(r.eventTime AS DATE) AS event_date
            FROM (
                SELECT unnest(Records) AS r
                FROM read_json(?, records = true, format = 'auto',
                               columns = {{'Records': '{DUCKDB_RECORD}[]'}},
                               maximum_object_size = {args.max_object_size})
            )
        ) TO '{args.out}' (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (event_date), OVERWRITE_OR_IGNORE)
        """,
        [files],
    )
    rows = con.execute(f"SELECT count(*) FROM read_parquet('{args.out}/**/*.parquet')").fetchone()[0]
    print(json.dumps({"rows": rows}))


def fmt_bytes(n):
    return f"{n / 2**20:.0f} MiB"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="1GiB")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--skip-duckdb", action="store_true")
    parser.add_argument("--skip-build", action="store_true")
    parser.add_argument("--only", default="gunzip,ingest,duckdb", help="comma-separated subset")
    parser.add_argument("--baseline", help="another trailscope binary, timed as `baseline` in the same rounds "
                        "(an earlier commit's build: a change measured side by side)")
    sub = parser.add_subparsers(dest="mode")
    conv = sub.add_parser("duckdb-convert")
    conv.add_argument("--file-list", required=True)
    conv.add_argument("--out", required=True)
    conv.add_argument("--threads", type=int, required=True)
    conv.add_argument("--max-object-size", type=int, required=True)
    args = parser.parse_args()
    if args.mode == "duckdb-convert":
        return duckdb_convert(args)

    WORK.mkdir(parents=True, exist_ok=True)
    if not args.skip_build:
        sh(["cargo", "build", "--release", "--locked", "-p", "trailscope"], cwd=ROOT)
    python = ensure_tools(args.skip_duckdb)

    trail = WORK / f"trail-{args.size}-seed{args.seed}"
    if not (trail / "ground-truth.json").exists():
        shutil.rmtree(trail, ignore_errors=True)
        sh([str(BIN), "synth", "--out", str(trail), "--size", args.size, "--seed", str(args.seed)])
    truth = json.loads((trail / "ground-truth.json").read_text())
    files = sorted(str(p) for p in (trail / "AWSLogs").rglob("*.json.gz") if "/CloudTrail/" in str(p))
    file_list = WORK / "files.nul"
    file_list.write_text("\0".join(files) + "\0")
    largest = max(gzip_isize(f) for f in files)
    json_bytes = truth["totals"]["json_bytes"]
    gz_bytes = truth["totals"]["gzip_bytes"]

    t = str(args.threads)
    tools = [x for x in args.only.split(",") if not (x == "duckdb" and args.skip_duckdb)]
    if args.baseline:
        tools.insert(tools.index("ingest") + 1 if "ingest" in tools else len(tools), "baseline")
    out_ours = WORK / "out-trailscope"
    out_duck = WORK / "out-duckdb"

    def run(tool):
        if tool == "gunzip":
            with open(file_list, "rb") as stdin:
                return measure(["xargs", "-0", "-P", t, "-n", "32", "libdeflate-gunzip", "-c"], stdin=stdin)
        if tool in ("ingest", "baseline"):
            shutil.rmtree(out_ours, ignore_errors=True)
            binary = BIN if tool == "ingest" else args.baseline
            return measure([str(binary), "ingest", str(trail / "AWSLogs"), "-o", str(out_ours), "-q", "-j", t])
        if tool == "duckdb":
            shutil.rmtree(out_duck, ignore_errors=True)
            return measure([str(python), __file__, "duckdb-convert", "--file-list", str(file_list),
                            "--out", str(out_duck), "--threads", t, "--max-object-size", str(largest + 1024)])
        raise ValueError(tool)

    results = {tool: [] for tool in tools}
    for round_ in range(args.runs + 1):
        for tool in tools:
            seconds, rss = run(tool)
            label = "warm-up" if round_ == 0 else f"run {round_}"
            print(f"{label:8} {tool:7} {seconds:7.2f} s  peak RSS {fmt_bytes(rss)}", file=sys.stderr)
            if round_ > 0:
                results[tool].append({"seconds": seconds, "peak_rss": rss})

    summary = {
        "machine": {
            "cpu": subprocess.run(["sh", "-c", "lscpu | sed -n 's/^Model name: *//p'"], capture_output=True, text=True).stdout.strip(),
            "cores": os.cpu_count(),
            "kernel": platform.release(),
        },
        "trail": {"size": args.size, "seed": args.seed, "files": len(files), "json_bytes": json_bytes,
                  "gzip_bytes": gz_bytes, "records": truth["totals"]["records"], "largest_file": largest},
        "threads": args.threads,
        "runs": args.runs,
        "tools": {},
    }
    for tool, runs in results.items():
        secs = [r["seconds"] for r in runs]
        med = statistics.median(secs)
        summary["tools"][tool] = {
            "median_s": med, "min_s": min(secs), "max_s": max(secs),
            "json_mb_per_s": json_bytes / 1e6 / med,
            "peak_rss_bytes": max(r["peak_rss"] for r in runs),
            "runs_s": secs,
        }
    tools_s = summary["tools"]
    print(f"\ntrail: {len(files)} files, {json_bytes / 1e6:.0f} MB JSON, {gz_bytes / 1e6:.0f} MB gzipped, "
          f"{truth['totals']['records']} records; {args.threads} threads; {args.runs} runs (median, min-max)")
    print("| tool | median s | min-max s | JSON MB/s | peak RSS |")
    print("|---|---|---|---|---|")
    for tool, r in tools_s.items():
        print(f"| {tool} | {r['median_s']:.2f} | {r['min_s']:.2f}-{r['max_s']:.2f} | {r['json_mb_per_s']:.0f} | {fmt_bytes(r['peak_rss_bytes'])} |")
    if "ingest" in tools_s:
        if "duckdb" in tools_s:
            print(f"\ningest is {tools_s['duckdb']['median_s'] / tools_s['ingest']['median_s']:.2f}x DuckDB's speed")
        if "gunzip" in tools_s:
            print(f"ingest takes {tools_s['ingest']['median_s'] / tools_s['gunzip']['median_s']:.2f}x the gunzip bound")
        if "baseline" in tools_s:
            print(f"ingest is {tools_s['baseline']['median_s'] / tools_s['ingest']['median_s']:.2f}x the baseline's speed")
    out = WORK / f"results-{args.size}-t{args.threads}.json"
    out.write_text(json.dumps(summary, indent=2))
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
