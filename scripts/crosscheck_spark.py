#!/usr/bin/env python3
"""Runs every queries/*.sql on Spark SQL against one or more churnlake lakes and compares
each result with churnlake's native output (the same checks as scripts/crosscheck.py).

    scripts/crosscheck_spark.py LAKE [LAKE …] [--native-lake URL] [--master URL]
                                [--conf KEY=VALUE …] [--bin target/release/churnlake] [--summary]

LAKE is the address Spark reads: a local directory, or an object-store URL through the
cluster's Hadoop connector (`s3a://bucket/lake`, `gs://bucket/lake`,
`abfss://container@account.dfs.core.windows.net/lake`). `--native-lake` is the address
churnlake reads for the native side when it differs (`s3://bucket/lake`; churnlake built
with `--features cloud`); default: LAKE. `--master` defaults to `local[2]`
(e.g. `spark://host:7077`, `yarn`); `--conf` sets any Spark option (connector packages,
credentials providers, …). With `--summary`, a lake that matches prints one line.

Tables are registered from the files the lake's manifest lists (read through Spark, so
object stores work the same as local disks); a listed file Spark cannot read, or a lake
without a manifest, is an error, never an empty table. Each query runs its `-- Run after:`
files then itself, statement by statement (scripts/portable_sql.py).
Needs: python3, pyspark, Java 17. Exit 0 when every result matches, 1 otherwise.
"""

import argparse
import contextlib
import io
import os
import re
import sys

from pyspark.sql import SparkSession
from pyspark.sql.types import ArrayType, LongType, StringType, StructField, StructType
from pyspark.errors import AnalysisException

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import portable_sql  # noqa: E402
from crosscheck import cell, compare_all  # noqa: E402
from portable_sql import TABLES, Manifest  # noqa: E402

# the manifest fields the runner needs (an explicit schema: entries without outputs still parse)
MANIFEST_SCHEMA = StructType([
    StructField("data_date", StringType()),
    StructField("status", StringType()),
    StructField("outputs", ArrayType(StructType([
        StructField("table", StringType()),
        StructField("path", StringType()),
        StructField("rows", LongType()),
    ]))),
])
SPARK_TYPES = {"VARCHAR": "STRING", "DATE": "DATE", "TIMESTAMP": "TIMESTAMP", "BIGINT": "BIGINT", "INTEGER": "INT",
               "DECIMAL(18, 2)": "DECIMAL(18, 2)"}


class LakeError(Exception):
    pass


def address(lake):
    """A URL as given; a local path made absolute (the executors may not share the cwd)."""
    return lake if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", lake) else os.path.abspath(lake)


def read_manifest(spark, lake):
    pattern = f"{lake}/_manifest/*.json"
    try:
        rows = spark.read.schema(MANIFEST_SCHEMA).json(pattern, multiLine=True).collect()
    except AnalysisException as error:
        raise LakeError(f"cannot read the manifest {pattern}: {str(error).splitlines()[0]}") from None
    if not rows:
        raise LakeError(f"no manifest entries at {pattern}")
    return Manifest([r.asDict(recursive=True) for r in rows], lake)


def register(spark, lake):
    """Registers the raw tables and calendar for `lake`; returns the manifest's (first, last)."""
    manifest = read_manifest(spark, lake)
    for table, columns in TABLES.items():
        files = manifest.files(table)
        if files:
            try:
                df = (spark.read.option("basePath", manifest.table_dir(table)).option("mergeSchema", "true")
                      .parquet(*files))
            except AnalysisException as error:
                raise LakeError(f"{table}: cannot read the files the manifest lists: "
                                f"{str(error).splitlines()[0]}") from None
        else:  # the manifest lists no file: an empty table of the lake's schema
            typed = ", ".join(f"CAST(NULL AS {SPARK_TYPES[t]}) AS {c}" for c, t in columns.items())
            df = spark.sql(f"SELECT {typed} WHERE false")
        df.createOrReplaceTempView(table)
    first, last = manifest.data_range()
    spark.sql(f"SELECT explode(sequence(DATE '{first}', DATE '{last}', INTERVAL 1 DAY)) AS date") \
        .createOrReplaceTempView("calendar")
    return first, last


def run_spark(spark, name, params=None):
    """`name` and its prerequisites on Spark: (header, rows) of the last statement, or None
    when the file only defines views."""
    df = None
    for statement in portable_sql.script(name, params):
        df = spark.sql(statement)
    if portable_sql.defines_only(name):
        return None
    return df.columns, [[cell(v) for v in row] for row in df.collect()]


def check_lake(spark, lake, native_lake, binary):
    try:
        first, last = register(spark, lake)
    except LakeError as error:
        print(f"FAIL {lake}: {error}")
        return False
    shown = lake if native_lake == lake else f"{lake} (churnlake reads {native_lake})"
    print(f"Spark {spark.version} on {shown} ({first}..{last})")
    return compare_all("Spark", lambda name, params=None: run_spark(spark, name, params),
                       native_lake, binary, first, last)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lakes", nargs="+", metavar="LAKE")
    parser.add_argument("--native-lake", help="the lake's address for churnlake (default: LAKE)")
    parser.add_argument("--bin", default=os.path.join(HERE, "..", "target", "release", "churnlake"))
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--summary", action="store_true", help="one line per matching lake")
    args = parser.parse_args()
    if args.native_lake and len(args.lakes) != 1:
        parser.error("--native-lake needs exactly one LAKE")

    builder = (
        SparkSession.builder.master(args.master)
        .appName("churnlake-crosscheck")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.ui.showConsoleProgress", "false")
    )
    for item in args.conf:
        key, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--conf {item}: expected KEY=VALUE")
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")

    ok = True
    for given in args.lakes:
        lake = address(given)
        native = args.native_lake or given
        if not args.summary:
            ok &= check_lake(spark, lake, native, args.bin)
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            matched = check_lake(spark, lake, native, args.bin)
        print(f"ok   Spark {given}" if matched else f"FAIL Spark {given}\n{out.getvalue().rstrip()}", flush=True)
        ok &= matched
    spark.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
