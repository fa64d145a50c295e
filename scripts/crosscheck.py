#!/usr/bin/env python3
"""Runs every queries/*.sql on DuckDB and on polars SQL (`churnlake sql`) against a
churnlake lake and compares each result with churnlake's native output, printing a row
diff on any difference.

    scripts/crosscheck.py LAKE [--bin target/release/churnlake] [--engine duckdb|polars|both]

Each query runs exactly as queries/README.md says: the files of its `-- Run after:` header,
then the file itself, statement by statement; the last statement's rows are the result
(scripts/portable_sql.py). The raw tables are the Parquet files the lake's manifest lists
(Hive partition data_date); `calendar(date)` holds every day from the first to the last
data date of the manifest. Every queries/*.sql must have an entry in CHECKS.
Needs: python3, the duckdb package. Exit 0 when every result matches, 1 otherwise.
"""

import argparse
import collections
import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import portable_sql  # noqa: E402
from portable_sql import QUERIES, TABLES, Manifest, sql_literal  # noqa: E402


def manifest_range(lake):
    """(first, last) data date of a local lake's manifest."""
    return Manifest.load(lake).data_range()


# What each queries/*.sql is checked against: (kind, churnlake command or field).
#   "setup"  defines views only: it must run; its views are checked through every other query
#   "table"  rows equal the same columns of `churnlake COMMAND [OPTION …] --format csv` as text
#            (and their order too when the query ends with ORDER BY); for the commands in
#            WHOLE_OUTPUTS, every column in order
#   "active" its one value equals FIELD of `churnlake active --format json`
#   "rate"   equals `churnlake rate --format json` on three periods, values exactly
CHECKS = {
    "lifecycle.sql": ("setup", None),
    "daily_series.sql": ("table", "series"),
    "subscription_status.sql": ("table", "subscriptions"),
    "subscriber_status.sql": ("table", "subscribers"),
    "active_subscriptions.sql": ("active", "active_subscriptions"),
    "active_subscribers.sql": ("active", "active_subscribers"),
    "cancellation_rate.sql": ("rate", None),
    "revenue.sql": ("table", "revenue"),
    "cohorts.sql": ("table", "cohorts"),
    "cohorts_subscribers.sql": ("table", "cohorts --level subscribers"),
}
# native outputs whose every column, in order, the query must return
WHOLE_OUTPUTS = ("series", "revenue", "cohorts")


def cell(value):
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


# ---- DuckDB -------------------------------------------------------------------------------

def connect(lake):
    """A DuckDB connection with the raw tables (the files the manifest lists) and calendar."""
    import duckdb

    manifest = Manifest.load(lake)
    con = duckdb.connect()
    # the queries' views name the raw tables many times over: each file's footer read once
    con.execute("SET parquet_metadata_cache = true")
    for table, columns in TABLES.items():
        files = manifest.files(table)
        if files:
            listed = ", ".join(sql_literal(f) for f in files)
            source = (f"read_parquet([{listed}], hive_partitioning = true, "
                      f"hive_types = {{'data_date': DATE}}, union_by_name = true)")
        else:  # no file listed: an empty table of the lake's schema
            typed = ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in columns.items())
            source = f"(SELECT {typed} WHERE false)"
        con.execute(f"CREATE VIEW {table} AS SELECT * FROM {source}")
    first, last = manifest.data_range()
    con.execute(
        f"CREATE TABLE calendar AS SELECT CAST(range AS DATE) AS date FROM "
        f"range(DATE '{first}', DATE '{last}' + INTERVAL 1 DAY, INTERVAL 1 DAY)"
    )
    return con, first, last


def run_duckdb(con, name, params=None):
    """`name` and its prerequisites on DuckDB: (header, rows) of the last statement, or None
    when the last statement returns no rows of its own (a view definition)."""
    result = None
    for statement in portable_sql.script(name, params):
        result = con.sql(statement)
    if result is None or portable_sql.defines_only(name):
        return None
    return list(result.columns), [[cell(v) for v in row] for row in result.fetchall()]


# ---- polars SQL through churnlake ---------------------------------------------------------

def run_polars(binary, lake, name, params=None):
    """The same files through `churnlake sql FILE… --param …` (which applies the dialect switch)."""
    files = [os.path.join(QUERIES, f) for f in portable_sql.run_order(name)]
    args = ["sql", *files, "--lake", lake, "--format", "csv"]
    for key, value in (params or {}).items():
        args += ["--param", f"{key}={value}"]
    out = churnlake(binary, *args)
    if portable_sql.defines_only(name):
        return None
    reader = csv.reader(io.StringIO(out))
    header = next(reader)
    return header, [[c.strip() for c in row] for row in reader]


def churnlake(binary, *args):
    out = subprocess.run([binary, *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"churnlake {' '.join(args)} exited {out.returncode}:\n{out.stderr.strip()}")
    return out.stdout


# ---- comparisons --------------------------------------------------------------------------

def csv_table(text):
    reader = csv.reader(io.StringIO(text))
    header = next(reader)
    return header, [[c.strip() for c in row] for row in reader]


def compare(label, got, expected, got_name, expected_name="churnlake", ordered=False, limit=15):
    """Rows as lists of strings, compared as multisets (a row's count matters), then, when
    `ordered`, in sequence. Prints the rows only one side has (× count when repeated), or
    the first out-of-order position, and returns False on a difference."""
    got_rows, expected_rows = [tuple(r) for r in got], [tuple(r) for r in expected]
    got_count, expected_count = collections.Counter(got_rows), collections.Counter(expected_rows)
    only_got, only_expected = got_count - expected_count, expected_count - got_count
    if only_got or only_expected:
        print(f"FAIL {label}: {got_name} {len(got_rows)} rows, {expected_name} {len(expected_rows)} rows")
        width = max(len(got_name), len(expected_name)) + 6
        for name, mine, other, theirs in ((expected_name, expected_count, got_name, got_count),
                                          (got_name, got_count, expected_name, expected_count)):
            only = sorted(mine - theirs)
            for row in only[:limit]:
                repeated = f"   ({name} ×{mine[row]}, {other} ×{theirs[row]})" if mine[row] > 1 or theirs[row] else ""
                print(f"  {(name + ' only:'):<{width}} {','.join(row)}{repeated}")
            if len(only) > limit:
                print(f"  … {len(only) - limit} more rows only in {name}")
        return False
    if ordered and got_rows != expected_rows:
        i = next(i for i, (a, b) in enumerate(zip(got_rows, expected_rows)) if a != b)
        print(f"FAIL {label}: same rows, different order (ORDER BY); first difference at row {i + 1}:")
        print(f"  {got_name}: {','.join(got_rows[i])}")
        print(f"  {expected_name}: {','.join(expected_rows[i])}")
        return False
    print(f"ok   {label} ({len(got_rows)} rows{', in order' if ordered else ''})")
    return True


RATE_INTEGERS = ("days", "subscription_cancels", "subscriber_cancels")
RATE_FLOATS = ("average_active_subscriptions", "subscription_cancellation_rate",
               "average_active_subscribers", "subscriber_cancellation_rate")


def compare_rate(label, engine, header, row, native):
    """One row of cancellation_rate.sql against `churnlake rate --format json`, exactly:
    counts as integers, averages and rates as the same float bits (both sides compute
    Σ / days and Σ cancelled / (Σ active / days) in f64, in that order). Prints the differing
    values and returns False on a difference."""
    got = dict(zip(header, row))
    expected = [k for k in RATE_INTEGERS + RATE_FLOATS]
    missing = [k for k in expected if k not in got]
    if missing:
        print(f"FAIL {label}: {engine} returns no column {', '.join(missing)} (columns: {', '.join(header)})")
        return False
    diffs = []
    for key in expected:
        value, reference = got[key], native.get(key)
        value = None if value in ("", None) else value
        if key in RATE_INTEGERS:
            same = value is not None and reference is not None and int(value) == int(reference)
        elif value is None or reference is None:
            same = value is None and reference is None
        else:
            same = float(value) == float(reference)  # exact: the same bits, no tolerance
        if not same:
            shown = lambda v: "null" if v is None else f"{v} ({float(v).hex()})"  # noqa: E731
            diffs.append(f"{key}: {engine} {shown(value)}, churnlake {shown(reference)}")
    if diffs:
        print(f"FAIL {label}:")
        for d in diffs:
            print("  " + d)
        return False
    print(f"ok   {label} (exact)")
    return True


def compare_all(engine, run_query, lake, binary, first, last):
    """Runs every queries/*.sql through `run_query(name, params) -> (header, rows) | None`
    and compares each result with churnlake's native output on `lake` (the address churnlake
    reads). A file without an entry in CHECKS (or an entry without a file) fails. True when
    all match."""
    started = time.time()
    ok = True
    files = portable_sql.query_files()
    for name in sorted(set(CHECKS) - set(files)):
        print(f"FAIL {name}: listed in CHECKS but not in queries/")
        ok = False
    active = None
    for name in files:
        if name not in CHECKS:
            print(f"FAIL {name}: no check for it in scripts/crosscheck.py CHECKS (every query must be compared)")
            ok = False
            continue
        kind, target = CHECKS[name]
        try:
            if kind == "setup":
                run_query(name)
                print(f"ok   {name} runs (its views are checked through the other queries)")
            elif kind == "table":
                header, rows = run_query(name)
                command = target.split()
                native_header, native_rows = csv_table(churnlake(binary, *command, "--lake", lake, "--format", "csv"))
                missing = [c for c in header if c not in native_header]
                if missing or (command[0] in WHOLE_OUTPUTS and header != native_header):
                    print(f"FAIL {name}: columns {header}, churnlake {target}: {native_header}")
                    ok = False
                    continue
                picked = [[r[native_header.index(c)] for c in header] for r in native_rows]
                ok &= compare(f"{name} = churnlake {target}", rows, picked, engine,
                              ordered=portable_sql.order_by(name))
            elif kind == "active":
                if active is None:
                    active = json.loads(churnlake(binary, "active", "--lake", lake, "--format", "json"))[0]
                header, rows = run_query(name)
                if header != [target]:
                    print(f"FAIL {name}: columns {header}, expected [{target}]")
                    ok = False
                    continue
                ok &= compare(f"{name} = churnlake active", rows, [[str(active[target])]], engine)
            elif kind == "rate":
                last_day = dt.date.fromisoformat(str(last))
                periods = [(str(first), str(last)),
                           (max(str(first), str(last_day - dt.timedelta(days=29))), str(last)),
                           (str(first), str(first))]
                periods = list(dict.fromkeys(periods))  # a short lake: the last 30 days may be all of it
                for start, end in periods:
                    header, rows = run_query(name, {"from": start, "to": end})
                    native = json.loads(churnlake(binary, "rate", "--lake", lake, "--from", start, "--to", end,
                                                  "--format", "json"))
                    if len(rows) != 1:
                        print(f"FAIL {name} {start}..{end}: {engine} returned {len(rows)} rows, expected 1")
                        ok = False
                        continue
                    ok &= compare_rate(f"{name} {start}..{end} = churnlake rate", engine, header, rows[0], native)
        except Exception as error:  # an engine error is a failed check, reported with its message
            print(f"FAIL {name}: {engine} error: {str(error).strip()[:2000]}")
            ok = False

    print(f"{engine}: {'all queries match' if ok else 'DIFFERENCES FOUND'} ({time.time() - started:.1f} s)")
    return ok


def check(engine, lake, binary):
    if engine == "duckdb":
        import duckdb

        con, first, last = connect(lake)
        print(f"DuckDB {duckdb.__version__} on {lake} ({first}..{last})")
        return compare_all("DuckDB", lambda name, params=None: run_duckdb(con, name, params), lake, binary, first, last)
    first, last = manifest_range(lake)
    print(f"polars SQL (churnlake sql) on {lake} ({first}..{last})")
    return compare_all("polars SQL", lambda name, params=None: run_polars(binary, lake, name, params),
                       lake, binary, first, last)


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


if __name__ == "__main__":
    sys.exit(main())
