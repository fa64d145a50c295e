#!/usr/bin/env python3
"""The peers of `scripts/bench.py`: the same jobs as churnlake, done by DuckDB and by
Python polars, one job per process so that each process's peak memory is its own.

    bench_peers.py duckdb-prepare DROPS LAKE PLAN  (untimed) the plan of duckdb-ingest, see below
    bench_peers.py duckdb-ingest  PLAN OUT         every planned drop CSV -> one Parquet file (zstd)
    bench_peers.py duckdb-series  LAKE OUT         queries/daily_series.sql -> CSV
    bench_peers.py duckdb-rate    LAKE FROM TO OUT queries/cancellation_rate.sql -> CSV
    bench_peers.py duckdb-revenue LAKE OUT         queries/revenue.sql -> CSV
    bench_peers.py duckdb-cohorts LAKE OUT         queries/cohorts.sql -> CSV
    bench_peers.py polars-series  LAKE OUT         the same SQL on Python polars (pl.SQLContext)
    bench_peers.py polars-rate    LAKE FROM TO OUT

The series and rate jobs run the files of queries/ exactly as the cross-check does
(scripts/portable_sql.py: the `-- Run after:` files, then the query; tables from the
files the lake's manifest lists), so bench.py compares their results with churnlake's.

The ingest job is DuckDB's own CSV reader and Parquet writer with automatic type
detection: no lineage, no quarantine, no manifest, no report-specific typing — the least
a Parquet conversion of the same files has to do. So that it does the same work as
`churnlake ingest`, reliably, `duckdb-prepare` (not timed) plans it:
  - files churnlake's manifest (LAKE) records as duplicates are skipped, as churnlake
    skips them (churnlake finds them itself, inside its timed run);
  - Windows-1252 files (DuckDB reads UTF-8, UTF-16 and Latin-1 only, and rejects the
    curly quotes of Windows-1252) are transcoded to UTF-8 into PLAN/transcoded/
    (churnlake decodes them inside its timed run);
  - subscriber-event files (no header row, by name as in FORMATS.md) are read with
    header = false, every other file with header = true, on the first try.
A file that still fails is re-read once as all text, leniently (a fallback, counted and
named); a file that fails again is reported as failed. No row is dropped silently:
OUT/_summary.json holds the rows written per file, which bench.py compares with
churnlake's manifest.
"""

import concurrent.futures
import glob
import json
import os
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import portable_sql  # noqa: E402

HEADERLESS = "crm_subscriber_events"  # FORMATS.md: the subscriber-event files have no header row
FALLBACK = ", all_varchar = true, strict_mode = false, null_padding = true, parallel = false"


def drop_files(drops):
    return sorted(p for p in glob.glob(os.path.join(drops, "**", "*"), recursive=True) if os.path.isfile(p))


def duckdb_prepare(drops, lake, plan_dir):
    entries = {os.path.realpath(e["source_path"]): e for e in portable_sql.Manifest.load(lake).entries}
    os.makedirs(os.path.join(plan_dir, "transcoded"), exist_ok=True)
    plan, duplicates, transcoded, unknown = [], 0, 0, 0
    for i, path in enumerate(drop_files(drops)):
        entry = entries.get(os.path.realpath(path))
        if entry is None:
            unknown += 1
        elif entry["status"] == "duplicate":
            duplicates += 1
            continue
        data = open(path, "rb").read()
        read_from = path
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:  # bytes Windows-1252 leaves undefined
                text = data.decode("latin-1")
            read_from = os.path.join(plan_dir, "transcoded", f"{i:06d}.csv")
            with open(read_from, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            transcoded += 1
        plan.append({"source": path, "read": read_from, "header": HEADERLESS not in os.path.basename(path)})
    summary = {"files": plan, "skipped_duplicates": duplicates, "transcoded": transcoded, "not_in_manifest": unknown}
    with open(os.path.join(plan_dir, "plan.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f)
    print(f"duckdb-prepare: {len(plan)} files planned; {duplicates} duplicates skipped as churnlake does; "
          f"{transcoded} Windows-1252 files transcoded to UTF-8; {unknown} files not in churnlake's manifest",
          file=sys.stderr)


def duckdb_ingest(plan_dir, out):
    import duckdb

    plan = json.load(open(os.path.join(plan_dir, "plan.json"), encoding="utf-8"))
    files = plan["files"]
    os.makedirs(out, exist_ok=True)
    con = duckdb.connect()
    local = threading.local()
    rows, fallbacks, failed = [0] * len(files), [], []
    lock = threading.Lock()

    def convert(i_item):
        i, item = i_item
        if not hasattr(local, "con"):
            local.con = con.cursor()
        target = os.path.join(out, f"{i:06d}.parquet")
        source = portable_sql.sql_literal(item["read"])
        header = "true" if item["header"] else "false"
        for options in ("", FALLBACK):
            try:
                (rows[i],) = local.con.execute(
                    f"COPY (SELECT * FROM read_csv({source}, header = {header}{options})) TO "
                    f"{portable_sql.sql_literal(target)} (FORMAT parquet, COMPRESSION zstd)"
                ).fetchone()
                if options:
                    with lock:
                        fallbacks.append(item["source"])
                return
            except duckdb.Error as error:
                last = str(error).splitlines()[0]
        with lock:
            failed.append({"source": item["source"], "error": last})

    # one cursor per worker thread; DuckDB also parallelises inside a file
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(convert, enumerate(files)))
    summary = {
        "files": len(files), "rows_written": sum(rows),
        "rows_per_file": {item["source"]: n for item, n in zip(files, rows)},
        "fallbacks": sorted(fallbacks), "failed": failed,
    }
    with open(os.path.join(out, "_summary.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f)
    print(
        f"duckdb-ingest: {len(files)} files, {sum(rows)} rows written; re-read as all text: {len(fallbacks)}; "
        f"failed: {len(failed)}",
        file=sys.stderr,
    )


def write_csv(path, header, rows):
    import csv

    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def duckdb_job(lake, out, query, params=None):
    import crosscheck

    con, _, _ = crosscheck.connect(lake)
    header, rows = crosscheck.run_duckdb(con, query, params)
    write_csv(out, header, rows)


POLARS_TYPES = {"VARCHAR": "String", "DATE": "Date", "TIMESTAMP": "Datetime", "BIGINT": "Int64", "INTEGER": "Int32"}


def polars_job(lake, out, query, params=None):
    import datetime as dt

    import crosscheck
    import polars as pl

    manifest = portable_sql.Manifest.load(lake)
    ctx = pl.SQLContext()
    for table, columns in portable_sql.TABLES.items():
        files = manifest.files(table)
        if files:
            frame = pl.scan_parquet(files, hive_partitioning=True, hive_schema={"data_date": pl.Date},
                                    missing_columns="insert")
        else:  # no file listed: an empty table of the lake's schema
            frame = pl.LazyFrame(schema={c: getattr(pl, POLARS_TYPES[t]) for c, t in columns.items()})
        ctx.register(table, frame)
    first, last = manifest.data_range()
    days = pl.date_range(dt.date.fromisoformat(first), dt.date.fromisoformat(last), eager=True)
    ctx.register("calendar", pl.DataFrame({"date": days}).lazy())

    result = None
    for statement in portable_sql.script(query, params, dialect="polars"):
        result = ctx.execute(statement)
    frame = result.collect()
    write_csv(out, frame.columns, [[crosscheck.cell(v) for v in row] for row in frame.iter_rows()])


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    job, args = argv[1], argv[2:]
    if job == "duckdb-prepare" and len(args) == 3:
        duckdb_prepare(*args)
    elif job == "duckdb-ingest" and len(args) == 2:
        duckdb_ingest(*args)
    elif job in ("duckdb-series", "polars-series") and len(args) == 2:
        run = duckdb_job if job.startswith("duckdb") else polars_job
        run(args[0], args[1], "daily_series.sql")
    elif job in ("duckdb-revenue", "duckdb-cohorts") and len(args) == 2:
        duckdb_job(args[0], args[1], job.removeprefix("duckdb-") + ".sql")
    elif job in ("duckdb-rate", "polars-rate") and len(args) == 4:
        run = duckdb_job if job.startswith("duckdb") else polars_job
        run(args[0], args[3], "cancellation_rate.sql", {"from": args[1], "to": args[2]})
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
