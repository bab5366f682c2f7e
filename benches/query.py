#!/usr/bin/env python3
"""Query benchmark: `trailscope sql` (DataFusion) vs the DuckDB CLI over the same Parquet.

Usage (from the repository root, after `benches/ingest.py` has made the dataset):
    python3 benches/query.py --size 1GiB --runs 7

Both engines read the dataset trailscope ingested (benches/work/out-trailscope, Hive
partitioned by event_date, zstd Parquet). Each query is one fresh process per run, so
process start, opening the dataset and planning are all included, as an analyst would
see them at the command line:
    trailscope sql -d DATASET -f csv "QUERY"
    duckdb -csv -c "CREATE VIEW events AS SELECT * FROM read_parquet('DATASET/event_date=*/*.parquet',
                    hive_partitioning = true); QUERY"
The order of the two alternates between runs; one warm-up run of each is discarded. The
two engines' answers are compared (as sorted CSV rows) before anything is timed.
"""

import argparse
import csv
import io
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "benches" / "work"
BIN = ROOT / "target" / "release" / "trailscope"
DUCKDB = WORK / ".venv" / "bin" / "duckdb"


def queries(principal, hour):
    """The analyst queries of issue 4, the same SQL text for both engines."""
    return {
        "root_events": "SELECT count(*) AS root_events FROM events WHERE user_identity_type = 'Root'",
        "top_principals": (
            "SELECT user_identity_arn, count(*) AS events FROM events "
            "GROUP BY user_identity_arn ORDER BY events DESC, user_identity_arn LIMIT 20"
        ),
        "keys_many_ips": (
            "SELECT user_identity_access_key_id, count(DISTINCT source_ip_address) AS ips FROM events "
            "WHERE user_identity_access_key_id IS NOT NULL "
            "GROUP BY user_identity_access_key_id HAVING count(DISTINCT source_ip_address) > 3 "
            "ORDER BY ips DESC, user_identity_access_key_id"
        ),
        "principal_hour": (
            "SELECT event_time, event_name, event_source, source_ip_address FROM events "
            f"WHERE user_identity_arn = '{principal}' "
            f"AND event_time >= TIMESTAMP '{hour}' AND event_time < TIMESTAMP '{hour}' + INTERVAL 1 HOUR "
            "ORDER BY event_time, event_name, event_source, source_ip_address"
        ),
    }


def ours(dataset, sql):
    return [str(BIN), "sql", "-d", str(dataset), "-f", "csv", sql]


def duckdb(dataset, sql):
    view = (
        "CREATE VIEW events AS SELECT * FROM read_parquet("
        f"'{dataset}/event_date=*/*.parquet', hive_partitioning = true);"
    )
    return [str(DUCKDB), "-csv", "-c", view + " " + sql]


def timed(cmd):
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed with {proc.returncode}:\n{proc.stderr[-2000:]}")
    return elapsed, proc.stdout


def rows(text):
    """CSV rows without the header, with timestamps and NULL (empty in ours, `NULL` in the
    DuckDB CLI's CSV) in one spelling, sorted."""
    out = []
    for row in list(csv.reader(io.StringIO(text)))[1:]:
        out.append(tuple("" if v == "NULL" else v.replace("T", " ").removesuffix("Z").removesuffix("+00") for v in row))
    return sorted(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="1GiB")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--dataset", help="default: benches/work/out-trailscope")
    args = parser.parse_args()
    dataset = Path(args.dataset or WORK / "out-trailscope").resolve()
    if not (dataset / "_trailscope" / "manifest.json").exists():
        raise SystemExit(f"{dataset} is not a dataset: run benches/ingest.py --size {args.size} first")
    if not DUCKDB.exists():
        subprocess.run([str(WORK / ".venv" / "bin" / "python"), "-m", "pip", "install", "-q", "duckdb-cli"], check=True)

    # The busiest IAM user and the busiest hour of its activity: a realistic investigation.
    _, out = timed(ours(dataset, (
        "SELECT user_identity_arn, date_trunc('hour', event_time) AS hour, count(*) AS n FROM events "
        "WHERE user_identity_type = 'IAMUser' GROUP BY 1, 2 ORDER BY n DESC, 1, 2 LIMIT 1"
    )))
    principal, hour, _ = list(csv.reader(io.StringIO(out)))[1]
    hour = hour.replace("T", " ").removesuffix("Z")
    qs = queries(principal, hour)

    version = subprocess.run([str(DUCKDB), "--version"], capture_output=True, text=True).stdout.strip()
    print(f"dataset {dataset}; DuckDB {version}; principal {principal}, hour {hour}", file=sys.stderr)
    results = {}
    for name, sql in qs.items():
        _, a = timed(ours(dataset, sql))
        _, b = timed(duckdb(dataset, sql))
        if rows(a) != rows(b):
            raise SystemExit(f"{name}: answers differ\n--- trailscope\n{a[:2000]}\n--- duckdb\n{b[:2000]}")
        times = {"trailscope": [], "duckdb": []}
        for run in range(args.runs):
            order = ["trailscope", "duckdb"] if run % 2 == 0 else ["duckdb", "trailscope"]
            for engine in order:
                cmd = ours(dataset, sql) if engine == "trailscope" else duckdb(dataset, sql)
                times[engine].append(timed(cmd)[0])
        med = {e: statistics.median(t) for e, t in times.items()}
        results[name] = {
            "rows": len(rows(a)),
            "sql": sql,
            **{f"{e}_runs_s": t for e, t in times.items()},
            **{f"{e}_median_s": m for e, m in med.items()},
            "ratio": med["trailscope"] / med["duckdb"],
        }
        print(f"{name:15} rows {len(rows(a)):5}  trailscope {med['trailscope']:.3f} s  "
              f"duckdb {med['duckdb']:.3f} s  ratio {med['trailscope'] / med['duckdb']:.2f}", file=sys.stderr)

    # Attribution: resolving every credential vs a plain scan of the identity columns.
    pair = {
        # Every column of userIdentity that attribution reads.
        "identity_scan": "SELECT count(*) AS events, count(DISTINCT user_identity_arn) AS arns, "
                         "count(DISTINCT user_identity_access_key_id) AS keys, max(user_identity_type), "
                         "max(user_identity_principal_id), max(user_identity_account_id), "
                         "max(user_identity_user_name), max(user_identity_invoked_by), "
                         "max(user_identity_identity_provider), max(session_issuer_arn), "
                         "max(session_issuer_user_name), max(session_source_identity), "
                         "max(on_behalf_of_user_id), max(on_behalf_of_identity_store_arn), "
                         "bool_or(session_credential_from_console) FROM events",
        "identity_scan_narrow": "SELECT count(*) AS events, count(DISTINCT user_identity_arn) AS arns, "
                                "count(DISTINCT user_identity_access_key_id) AS keys FROM events",
        "attribution": "SELECT count(*) AS events, count(DISTINCT actor) AS actors, "
                       "count(DISTINCT method) AS methods FROM attribution",
    }
    attribution = {}
    for name, sql in pair.items():
        timed(ours(dataset, sql))
        runs = [timed(ours(dataset, sql))[0] for _ in range(args.runs)]
        attribution[name] = {"sql": sql, "runs_s": runs, "median_s": statistics.median(runs)}
        print(f"{name:15} trailscope {attribution[name]['median_s']:.3f} s", file=sys.stderr)

    print(f"\n{args.runs} runs each, median (min-max) seconds, process start included")
    print("| query | rows | trailscope sql | DuckDB CLI | trailscope / DuckDB |")
    print("|---|---|---|---|---|")
    for name, r in results.items():
        t, d = r["trailscope_runs_s"], r["duckdb_runs_s"]
        print(f"| {name} | {r['rows']} | {r['trailscope_median_s']:.3f} ({min(t):.3f}-{max(t):.3f}) "
              f"| {r['duckdb_median_s']:.3f} ({min(d):.3f}-{max(d):.3f}) | {r['ratio']:.2f} |")
    scan, attr = attribution["identity_scan"], attribution["attribution"]
    print(f"\n| attribution (trailscope sql) | median (min-max) s |\n|---|---|")
    for name, r in attribution.items():
        print(f"| {name} | {r['median_s']:.3f} ({min(r['runs_s']):.3f}-{max(r['runs_s']):.3f}) |")
    print(f"\nattribution takes {attr['median_s'] / scan['median_s']:.2f}x the identity scan")
    out = WORK / f"query-results-{args.size}.json"
    out.write_text(json.dumps({"duckdb": version, "cores": os.cpu_count(), "queries": results,
                               "attribution": attribution}, indent=2))
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
