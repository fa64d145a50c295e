#!/usr/bin/env python3
"""Runs every queries/*.sql on DuckDB and on polars SQL (`churnlake sql`) against a
churnlake lake and compares each result with churnlake's native output, printing a row
diff on any difference.

    scripts/crosscheck.py LAKE [--bin target/release/churnlake] [--engine duckdb|polars|both]

The lake's raw tables are registered as views over its Parquet files (Hive partitions);
`calendar(date)` holds every day from the first to the last data date of the manifest.
Needs: python3, the duckdb package. Exit 0 when every result matches, 1 otherwise.
"""

import argparse
import csv
import datetime as dt
import glob
import io
import json
import math
import os
import subprocess
import sys
import time

import duckdb

HERE = os.path.dirname(os.path.abspath(__file__))
QUERIES = os.path.join(HERE, "..", "queries")


def statements(path):
    """The file's statements: comments removed, split on semicolons."""
    text = "\n".join(line.split("--", 1)[0] for line in open(path, encoding="utf-8"))
    return [s.strip() for s in text.split(";") if s.strip()]


def manifest_range(lake):
    dates = []
    for path in glob.glob(os.path.join(lake, "_manifest", "*.json")):
        entry = json.load(open(path, encoding="utf-8"))
        if entry["status"] != "failed":
            dates.append(entry["data_date"])
    if not dates:
        sys.exit(f"{lake}: no ingested drops in the manifest")
    return min(dates), max(dates)


REPORT_COLUMNS = {
    "subscription_id": "VARCHAR", "public_subscription_id": "VARCHAR", "user_id": "VARCHAR",
    "product": "VARCHAR", "create_date": "DATE", "cancel_date": "DATE", "cancelled_at": "TIMESTAMP",
    "data_date": "DATE", "drop_stamp": "TIMESTAMP", "source_file": "VARCHAR", "source_line": "BIGINT",
}
EVENT_COLUMNS = {
    "public_subscription_id": "VARCHAR", "event_code": "INTEGER", "event_date": "DATE",
    "event_at": "TIMESTAMP", "data_date": "DATE", "source_file": "VARCHAR", "source_line": "BIGINT",
}
TABLES = {"subscriptions": REPORT_COLUMNS, "cancellations": REPORT_COLUMNS, "subscriber_events": EVENT_COLUMNS}


def connect(lake):
    con = duckdb.connect()
    for table, columns in TABLES.items():
        files = os.path.join(lake, "raw", table, "*", "*.parquet")
        if glob.glob(files):
            source = f"read_parquet('{files}', hive_partitioning = true, union_by_name = true)"
        else:  # a table without files is empty, with the lake's schema
            typed = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in columns.items())
            source = f"(SELECT {typed} WHERE false)"
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM {source}")
    first, last = manifest_range(lake)
    con.execute(
        f"CREATE TABLE calendar AS SELECT CAST(range AS DATE) AS date FROM "
        f"range(DATE '{first}', DATE '{last}' + INTERVAL 1 DAY, INTERVAL 1 DAY)"
    )
    for statement in statements(os.path.join(QUERIES, "lifecycle.sql")):
        con.execute(statement)
    (series,) = statements(os.path.join(QUERIES, "daily_series.sql"))
    con.execute(f"CREATE TABLE daily_series AS {series}")
    return con, first, last


def cell(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def run_duckdb(con, name, params=None):
    (sql,) = statements(os.path.join(QUERIES, name))
    for key, value in (params or {}).items():
        sql = sql.replace("{{" + key + "}}", value)
    cur = con.execute(sql)
    header = [d[0] for d in cur.description]
    return header, [[cell(v) for v in row] for row in cur.fetchall()]


def run_polars(binary, lake, name, params=None):
    """The same query through `churnlake sql`: lifecycle views, daily_series, then the query."""
    script = ";\n".join(
        statements(os.path.join(QUERIES, "lifecycle.sql"))
        + ["CREATE TABLE daily_series AS " + statements(os.path.join(QUERIES, "daily_series.sql"))[0]]
        + statements(os.path.join(QUERIES, name))
    )
    args = ["sql", script, "--lake", lake, "--format", "csv"]
    for key, value in (params or {}).items():
        args += ["--param", f"{key}={value}"]
    reader = csv.reader(io.StringIO(churnlake(binary, *args)))
    header = next(reader)
    return header, [[c.strip() for c in row] for row in reader]


def churnlake(binary, *args):
    out = subprocess.run([binary, *args], check=True, capture_output=True, text=True)
    return out.stdout


def csv_rows(text, columns):
    reader = csv.DictReader(io.StringIO(text))
    return [[(row.get(c) or "").strip() for c in columns] for row in reader]


def compare(label, got, expected):
    """Rows as lists of strings; prints a diff and returns False on a difference."""
    got_sorted, exp_sorted = sorted(map(tuple, got)), sorted(map(tuple, expected))
    if got_sorted == exp_sorted:
        print(f"ok   {label} ({len(got)} rows)")
        return True
    print(f"FAIL {label}: DuckDB {len(got)} rows, churnlake {len(expected)} rows")
    missing = sorted(set(exp_sorted) - set(got_sorted))[:15]
    extra = sorted(set(got_sorted) - set(exp_sorted))[:15]
    for row in missing:
        print("  - churnlake only: " + ",".join(row))
    for row in extra:
        print("  + DuckDB only:    " + ",".join(row))
    return False


def compare_rate(label, engine, header, row, native):
    """One row of cancellation_rate.sql against `churnlake rate --format json`; prints the
    differing values and returns False on a difference."""
    got = dict(zip(header, row))
    diffs = [k for k in header if not close(got[k] if got[k] not in ("", None) else None, native[k])]
    if diffs:
        print(f"FAIL {label}: " + ", ".join(f"{k}: {engine} {got[k]}, churnlake {native[k]}" for k in diffs))
    else:
        print(f"ok   {label}")
    return not diffs


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lake")
    parser.add_argument("--bin", default=os.path.join(HERE, "..", "target", "release", "churnlake"))
    parser.add_argument("--engine", choices=["duckdb", "polars", "both"], default="both")
    args = parser.parse_args()
    engines = ["duckdb", "polars"] if args.engine == "both" else [args.engine]
    ok = True
    for engine in engines:
        ok &= check(engine, args.lake, args.bin)
    return 0 if ok else 1


def check(engine, lake, binary):
    con, first, last = connect(lake)
    if engine == "duckdb":
        print(f"DuckDB {duckdb.__version__} on {lake} ({first}..{last})")
        return compare_all(engine, lambda name, params=None: run_duckdb(con, name, params), lake, binary, first, last)
    print(f"polars SQL (churnlake sql) on {lake} ({first}..{last})")
    return compare_all(engine, lambda name, params=None: run_polars(binary, lake, name, params), lake, binary, first, last)


def compare_all(engine, run_query, lake, binary, first, last):
    """Runs every query through `run_query(name, params) -> (header, rows)` and compares
    each result with churnlake's native output. True when all match."""
    started = time.time()
    ok = True
    for name, command in [
        ("daily_series.sql", "series"),
        ("subscription_status.sql", "subscriptions"),
        ("subscriber_status.sql", "subscribers"),
    ]:
        header, rows = run_query(name)
        native = csv_rows(churnlake(binary, command, "--lake", lake, "--format", "csv"), header)
        ok &= compare(f"{name} = churnlake {command}", rows, native)

    active = json.loads(churnlake(binary, "active", "--lake", lake, "--format", "json"))[0]
    for name, key in [("active_subscriptions.sql", "active_subscriptions"), ("active_subscribers.sql", "active_subscribers")]:
        _, rows = run_query(name)
        ok &= compare(f"{name} = churnlake active", rows, [[str(active[key])]])

    first, last = str(first), str(last)
    last_day = dt.date.fromisoformat(last)
    periods = [(first, last), (max(first, str(last_day - dt.timedelta(days=29))), last), (first, first)]
    for start, end in periods:
        header, rows = run_query("cancellation_rate.sql", {"from": start, "to": end})
        native = json.loads(churnlake(binary, "rate", "--lake", lake, "--from", start, "--to", end, "--format", "json"))
        ok &= compare_rate(f"cancellation_rate.sql {start}..{end} = churnlake rate", engine, header, rows[0], native)

    print(f"{engine}: {'all queries match' if ok else 'DIFFERENCES FOUND'} ({time.time() - started:.1f} s)")
    return ok


if __name__ == "__main__":
    sys.exit(main())
