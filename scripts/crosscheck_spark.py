#!/usr/bin/env python3
"""Runs queries/*.sql on Spark SQL (pyspark, local mode) against a churnlake lake and
compares each result with churnlake's native output.

    scripts/crosscheck_spark.py LAKE [--bin target/release/churnlake] [--master local[2]]

On a cluster: pass `--master spark://host:7077` (or run under spark-submit) and give the
lake as a URL the cluster reads (`s3a://bucket/lake`, `gs://…`, `abfss://…`) with the
matching Hadoop connector and credentials configured; the native side then needs a
churnlake built with `--features cloud` and the same lake URL in s3:// form.
Needs: python3, pyspark, Java 17.
"""

import argparse
import os
import sys

from pyspark.sql import SparkSession

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from crosscheck import QUERIES, TABLES, compare_all, statements  # noqa: E402


def manifest_range(spark, lake):
    manifest = spark.read.json(os.path.join(lake, "_manifest", "*.json"), multiLine=True)
    row = manifest.where("status != 'failed'").selectExpr("min(data_date)", "max(data_date)").first()
    return row[0], row[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lake")
    parser.add_argument("--bin", default=os.path.join(os.path.dirname(__file__), "..", "target", "release", "churnlake"))
    parser.add_argument("--master", default="local[2]")
    args = parser.parse_args()
    lake, binary = args.lake, args.bin

    spark = (
        SparkSession.builder.master(args.master)
        .appName("churnlake-crosscheck")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    for table, columns in TABLES.items():
        base = os.path.join(lake, "raw", table)
        if os.path.isdir(base):
            df = spark.read.option("basePath", base).option("mergeSchema", "true").parquet(base)
            df.createOrReplaceTempView(table)
        else:
            typed = ", ".join(f"CAST(NULL AS {'STRING' if t == 'VARCHAR' else t}) AS {c}" for c, t in columns.items())
            spark.sql(f"SELECT {typed} WHERE false").createOrReplaceTempView(table)
    first, last = manifest_range(spark, lake)
    spark.sql(f"SELECT explode(sequence(DATE '{first}', DATE '{last}', INTERVAL 1 DAY)) AS date").createOrReplaceTempView("calendar")
    for statement in statements(os.path.join(QUERIES, "lifecycle.sql")):
        spark.sql(statement)
    (series_sql,) = statements(os.path.join(QUERIES, "daily_series.sql"))
    spark.sql(series_sql).cache().createOrReplaceTempView("daily_series")
    print(f"Spark {spark.version} on {lake} ({first}..{last})")

    def run(name, params=None):
        (sql,) = statements(os.path.join(QUERIES, name))
        for key, value in (params or {}).items():
            sql = sql.replace("{{" + key + "}}", value)
        df = spark.sql(sql)
        rows = [["" if v is None else str(v) for v in row] for row in df.collect()]
        return df.columns, rows

    ok = compare_all("spark", run, lake, binary, first, last)
    spark.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
