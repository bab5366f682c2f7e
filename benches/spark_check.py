#!/usr/bin/env python3
"""Spark reads a trailscope dataset as it is: row count (against `trailscope sql`), the
types of `event_time` and of the nested `resources`, and a query on one day whose plan
prunes the other partitions.

    python3 -m venv benches/work/.spark-venv
    benches/work/.spark-venv/bin/pip install pyspark==3.5.3      # needs a Java runtime (Debian: default-jre)
    benches/work/.spark-venv/bin/python benches/spark_check.py --dataset DIR

Exits 1 when a check fails. Only the data files the manifest names are read (Spark alone
would also list files a crashed run left in a partition folder; trailscope's next run
removes those).
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "target" / "release" / "trailscope"


def trailscope_count(dataset, where=""):
    out = subprocess.run(
        [str(BIN), "sql", "-d", str(dataset), "-f", "csv",
         f"SELECT count(*) AS n FROM events {where}"],
        capture_output=True, text=True, check=True).stdout
    return int(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True, type=Path)
    args = parser.parse_args()
    from pyspark.sql import SparkSession
    from pyspark.sql import types as T

    manifest = json.loads((args.dataset / "_trailscope" / "manifest.json").read_text())
    files = [str(args.dataset / f["path"]) for f in manifest["data_files"]]
    spark = (SparkSession.builder.master("local[2]").appName("trailscope-check")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    df = spark.read.option("basePath", str(args.dataset)).parquet(*files)
    failures = []

    def check(name, ok, detail):
        print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
        if not ok:
            failures.append(name)

    rows, expected = df.count(), trailscope_count(args.dataset)
    check("row count", rows == expected, f"spark {rows}, trailscope {expected}")
    fields = {f.name: f.dataType for f in df.schema.fields}
    check("event_time", isinstance(fields["event_time"], T.TimestampType), fields["event_time"].simpleString())
    resources = fields["resources"]
    check("resources", isinstance(resources, T.ArrayType)
          and isinstance(resources.elementType, T.StructType)
          and [f.name for f in resources.elementType.fields] == ["arn", "account_id", "type"],
          resources.simpleString())
    check("event_date partition column", isinstance(fields.get("event_date"), (T.StringType, T.DateType)),
          fields.get("event_date") and fields["event_date"].simpleString())
    day = df.select("event_date").orderBy("event_date").first()[0]
    day = str(day)
    one_day = df.where(df.event_date == day)
    plan = one_day._jdf.queryExecution().executedPlan().toString()
    pruned = "PartitionFilters: [isnotnull(event_date" in plan and day in plan
    spark_day = one_day.count()
    expected_day = trailscope_count(args.dataset, f"WHERE event_date = '{day}'")
    check("partition pruning", pruned, f"the plan filters partitions on event_date = {day}")
    check("one day's rows", spark_day == expected_day, f"spark {spark_day}, trailscope {expected_day}")
    nested = df.selectExpr("explode(resources) AS r").where("r.arn IS NOT NULL").count()
    expected_nested = int(subprocess.run(
        [str(BIN), "sql", "-d", str(args.dataset), "-f", "csv",
         "SELECT count(*) FROM (SELECT unnest(resources) AS r FROM events) WHERE r['arn'] IS NOT NULL"],
        capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
    check("resources items with an ARN", nested == expected_nested, f"spark {nested}, trailscope {expected_nested}")
    spark.stop()
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
