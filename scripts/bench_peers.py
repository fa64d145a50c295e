#!/usr/bin/env python3
"""The peers of `scripts/bench.py`: the same jobs as churnlake, done by DuckDB and by
Python polars, one job per process so that each process's peak memory is its own.

    bench_peers.py duckdb-ingest DROPS OUT        every drop CSV -> one Parquet file (zstd)
    bench_peers.py duckdb-series LAKE OUT         queries/daily_series.sql -> CSV
    bench_peers.py duckdb-rate   LAKE FROM TO OUT queries/cancellation_rate.sql -> CSV
    bench_peers.py polars-series LAKE OUT         the same SQL on Python polars (pl.SQLContext)
    bench_peers.py polars-rate   LAKE FROM TO OUT

The series and rate jobs run the portable SQL of queries/ exactly as the cross-check
does (scripts/crosscheck.py), so their results are compared with churnlake's by
`bench.py`. The ingest job is DuckDB's own CSV reader and Parquet writer with automatic
type detection: no lineage, no quarantine, no manifest, no report-specific typing — the
least a Parquet conversion of the same files has to do. Files DuckDB cannot read are
retried as all-text (see FALLBACKS) and counted; the counts are printed.
"""

import concurrent.futures
import glob
import os
import sys
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


# read_csv options, tried in order: automatic detection; all text in latin-1 (DuckDB has
# no Windows-1252); all text with undecodable rows skipped.
FALLBACKS = (
    "",
    ", all_varchar = true, encoding = 'latin-1', strict_mode = false, null_padding = true, parallel = false",
    ", all_varchar = true, strict_mode = false, null_padding = true, parallel = false, ignore_errors = true",
)


def duckdb_ingest(drops, out):
    import duckdb

    files = sorted(p for p in glob.glob(os.path.join(drops, "**", "*"), recursive=True) if os.path.isfile(p))
    os.makedirs(out, exist_ok=True)
    con = duckdb.connect()
    local = threading.local()
    retried = [0] * len(FALLBACKS)

    def convert(i_path):
        i, path = i_path
        if not hasattr(local, "con"):
            local.con = con.cursor()
        target = os.path.join(out, f"{i:06d}.parquet")
        quoted = path.replace("'", "''")
        for attempt, options in enumerate(FALLBACKS):
            try:
                local.con.execute(
                    f"COPY (SELECT * FROM read_csv('{quoted}'{options})) TO '{target}' "
                    f"(FORMAT parquet, COMPRESSION zstd)"
                )
                return
            except duckdb.Error:
                retried[attempt] += 1
        raise RuntimeError(f"DuckDB could not convert {path}")

    # one cursor per worker thread; DuckDB also parallelises inside a file
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(convert, enumerate(files)))
    print(
        f"duckdb-ingest: {len(files)} files; auto-detection failed on {retried[0]}, all-text latin-1 on "
        f"{retried[1]} (read with ignore_errors: undecodable rows dropped)",
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

    # lifecycle views + daily_series.sql materialised as the table daily_series, as in the cross-check
    con, _, _ = crosscheck.connect(lake)
    if query == "daily_series.sql":
        cur = con.execute("SELECT * FROM daily_series ORDER BY date")
        header, rows = [d[0] for d in cur.description], [[crosscheck.cell(v) for v in r] for r in cur.fetchall()]
    else:
        header, rows = crosscheck.run_duckdb(con, query, params)
    write_csv(out, header, rows)


def polars_job(lake, out, query, params=None):
    import datetime as dt

    import crosscheck
    import polars as pl

    ctx = pl.SQLContext()
    for table in crosscheck.TABLES:
        files = os.path.join(lake, "raw", table, "*", "*.parquet")
        if glob.glob(files):
            ctx.register(table, pl.scan_parquet(files, hive_partitioning=True, missing_columns="insert"))
    first, last = crosscheck.manifest_range(lake)
    days = pl.date_range(dt.date.fromisoformat(first), dt.date.fromisoformat(last), eager=True)
    ctx.register("calendar", pl.DataFrame({"date": days}).lazy())

    def sql(name):
        return crosscheck.statements(os.path.join(crosscheck.QUERIES, name))

    # the one dialect switch of queries/lifecycle.sql: polars SQL has no views
    for statement in sql("lifecycle.sql"):
        ctx.execute(statement.replace("CREATE OR REPLACE TEMPORARY VIEW", "CREATE TABLE"))
    ctx.execute("CREATE TABLE daily_series AS " + sql("daily_series.sql")[0])
    (text,) = sql(query) if query != "daily_series.sql" else ["SELECT * FROM daily_series ORDER BY date"]
    for key, value in (params or {}).items():
        text = text.replace("{{" + key + "}}", value)
    frame = ctx.execute(text).collect()
    write_csv(out, frame.columns, [[crosscheck.cell(v) for v in row] for row in frame.iter_rows()])


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    job, args = argv[1], argv[2:]
    if job == "duckdb-ingest" and len(args) == 2:
        duckdb_ingest(*args)
    elif job in ("duckdb-series", "polars-series") and len(args) == 2:
        run = duckdb_job if job.startswith("duckdb") else polars_job
        run(args[0], args[1], "daily_series.sql")
    elif job in ("duckdb-rate", "polars-rate") and len(args) == 4:
        run = duckdb_job if job.startswith("duckdb") else polars_job
        run(args[0], args[3], "cancellation_rate.sql", {"from": args[1], "to": args[2]})
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
