#!/usr/bin/env python3
"""S3 ingest benchmark: one trail ingested from a local S3 server (moto) and from local
disk, side by side, into a local dataset and into a dataset on the server; wall times,
medians over runs.

    python3 benches/s3_ingest.py --trail DIR [--runs 3] [--bin PATH] [--moto PATH]

DIR holds an `AWSLogs` export (e.g. benches/work/trail-1GiB-seed1, which
`benches/ingest.py` generates). moto is a Python server holding every object in memory:
what this measures is trailscope's S3 path on this machine against moto, not AWS.
"""

import argparse
import concurrent.futures
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "target" / "release" / "trailscope"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(command, env):
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    wall = time.monotonic() - started
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed: {done.stderr}")
    return wall


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trail", required=True, type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bin", type=Path, default=BIN)
    parser.add_argument("--moto", type=Path, default=Path(shutil.which("moto_server") or "moto_server"))
    args = parser.parse_args()
    import boto3  # from the same venv as moto

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(args.moto), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                time.sleep(0.1)
        s3 = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="test",
                          aws_secret_access_key="test", region_name="us-east-1")
        s3.create_bucket(Bucket="trails")
        s3.create_bucket(Bucket="lake")
        files = [p for p in (args.trail / "AWSLogs").rglob("*") if p.is_file()]
        total = sum(p.stat().st_size for p in files)
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda p: s3.upload_file(str(p), "trails", str(p.relative_to(args.trail))), files))
        print(f"uploaded {len(files)} files, {total / 2**20:.0f} MiB, in {time.monotonic() - started:.1f} s")
        # The server's own bound: every object fetched by boto3, 16 at a time, nothing done
        # with the bytes.
        def fetch_all():
            keys = [str(p.relative_to(args.trail)) for p in files]
            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda k: s3.get_object(Bucket="trails", Key=k)["Body"].read(), keys))
        env = dict(os.environ, AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
                   AWS_REGION="us-east-1")
        times = {"local disk -> local dataset": [], "S3 -> local dataset": [],
                 "S3 -> S3 dataset": [], "moto bound: boto3 GETs, 16 threads": []}
        with tempfile.TemporaryDirectory() as tmp:
            for run in range(args.runs):
                local = Path(tmp) / f"local{run}"
                remote = Path(tmp) / f"remote{run}"
                times["local disk -> local dataset"].append(timed(
                    [str(args.bin), "ingest", str(args.trail / "AWSLogs"), "--out", str(local), "-q"], env))
                times["S3 -> local dataset"].append(timed(
                    [str(args.bin), "ingest", "s3://trails/AWSLogs", "--out", str(remote), "-q",
                     "--endpoint", endpoint], env))
                times["S3 -> S3 dataset"].append(timed(
                    [str(args.bin), "ingest", "s3://trails/AWSLogs", "--out", f"s3://lake/run{run}",
                     "-q", "--endpoint", endpoint], env))
                started = time.monotonic()
                fetch_all()
                times["moto bound: boto3 GETs, 16 threads"].append(time.monotonic() - started)
                shutil.rmtree(local)
                shutil.rmtree(remote)
        base = statistics.median(times["local disk -> local dataset"])
        print(f"trail {args.trail} ({total / 2**20:.0f} MiB), {args.runs} runs, {os.cpu_count()} cores")
        for name, walls in times.items():
            median = statistics.median(walls)
            print(f"{name:30} median {median:7.2f} s  ({', '.join(f'{w:.2f}' for w in walls)})"
                  f"  x{median / base:.2f} of local")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
