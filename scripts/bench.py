#!/usr/bin/env python3
"""Side-by-side benchmark on a generated preset (`just bench`):

  1. ingest of every drop: `churnlake ingest` vs DuckDB reading the same CSVs and
     writing Parquet (scripts/bench_peers.py duckdb-ingest; its untimed preparation skips
     the duplicates churnlake skips and transcodes Windows-1252 files to UTF-8), the rows
     each wrote compared file by file;
  2. full recompute of the daily series and of a one-year cancellation rate:
     churnlake native vs the strong DuckDB peer of the series (scripts/duckdb_series.py:
     the METRICS.md series written for DuckDB alone, reading churnlake's lake) vs the
     portable SQL of queries/ on DuckDB and on Python polars, all on the same lake;
  3. peak resident memory of each (`/usr/bin/time -f %M`, one process per job);
  and churnlake's `build` (the three derived tables) for reference.

Each job runs RUNS times; the medians and the ratios to churnlake are printed, every
peer result is compared with churnlake's (series row by row, rate value by value) and
the series with the generator's ground truth, and the table is written into
BENCHMARKS.md between the `bench:begin` / `bench:end` markers with the machine and the
commands.

    scripts/bench.py [--preset large] [--runs 3] [--work target/bench] [--no-write]
                     [--bin PATH]          (alias --churnlake; default target/release/churnlake)
                     [--skip ENGINE ...]   (duckdb, polars: leave a peer out; duckdb-strong: leave
                                            out only the strong DuckDB series peer)
"""

import argparse
import csv
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
import crosscheck  # noqa: E402  (shares the comparison routines)

PEERS = os.path.join(HERE, "bench_peers.py")
STRONG = os.path.join(HERE, "duckdb_series.py")


def timed(cmd, log):
    """Runs `cmd` under /usr/bin/time; returns (wall seconds, peak RSS MiB)."""
    stats = log + ".time"
    with open(log, "w") as err:
        done = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", stats, *cmd], stdout=subprocess.DEVNULL, stderr=err)
    if done.returncode not in (0, 1) or not os.path.exists(stats):  # churnlake ingest: 1 = rows quarantined
        sys.exit(f"failed ({done.returncode}): {' '.join(cmd)}\n{open(log).read()[-3000:]}")
    wall, rss = open(stats).read().split()[-2:]
    return float(wall), int(rss) / 1024


class Bench:
    def __init__(self, runs, work):
        self.runs, self.work, self.rows = runs, work, []
        self.setup = []  # (what, command) run once, untimed, listed with the commands

    def measure(self, step, engine, cmd, before=None, shown=None):
        walls, rsss = [], []
        for i in range(self.runs):
            if before:
                before()
            log = re.sub(r"[^A-Za-z0-9_-]+", "-", f"{step}-{engine}").strip("-")
            wall, rss = timed(cmd, os.path.join(self.work, f"{log}.log"))
            walls.append(wall)
            rsss.append(rss)
            print(f"  {step:<7} {engine:<16} run {i + 1}: {wall:7.2f} s  {rss:7.0f} MiB", flush=True)
        row = {
            "step": step, "engine": engine, "walls": walls, "wall": statistics.median(walls),
            "rss": statistics.median(rsss), "command": shown or " ".join(cmd),
        }
        self.rows.append(row)
        return row


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return rows[0], [[c.strip() for c in r] for r in rows[1:]]


def same_series(label, path, reference, name, reference_name="churnlake"):
    header, rows = read_csv(path)
    ref_header, ref_rows = read_csv(reference)
    if header != ref_header:
        print(f"FAIL {label}: columns {header} != {ref_header}")
        return False
    return crosscheck.compare(label, rows, ref_rows, name, reference_name, ordered=True)


def churnlake_rows(binary, lake):
    """Per drop file (real path) and in total, what churnlake's manifest records."""
    entries = json.loads(subprocess.run([binary, "drops", "--lake", lake, "--format", "json"], check=True,
                                        capture_output=True, text=True).stdout)
    total = {k: sum(e[k] for e in entries) for k in ("rows_read", "rows_written", "rows_quarantined")}
    total["duplicates"] = sum(e["status"] == "duplicate" for e in entries)
    total["failed"] = sum(e["status"] == "failed" for e in entries)
    per_file = {os.path.realpath(e["source_path"]): e["rows_read"] for e in entries if e["status"] != "duplicate"}
    return total, per_file


def same_ingest(summary, total, per_file):
    """DuckDB's rows written = churnlake's rows read (written + quarantined), file by file."""
    duckdb_files = {os.path.realpath(k): v for k, v in summary["rows_per_file"].items()}
    differing = sorted(f for f in set(duckdb_files) | set(per_file) if duckdb_files.get(f) != per_file.get(f))
    label = (f"DuckDB ingest wrote {summary['rows_written']:,} rows; churnlake read {total['rows_read']:,} "
             f"(written {total['rows_written']:,} + quarantined {total['rows_quarantined']:,})")
    if not differing and not summary["failed"]:
        print(f"ok   {label}, equal for every file")
        return True
    print(f"FAIL {label}")
    for f in differing[:10]:
        print(f"  {os.path.basename(f)}: DuckDB {duckdb_files.get(f, 'not converted')}, churnlake {per_file.get(f, 'not ingested')}")
    if len(differing) > 10:
        print(f"  … {len(differing) - 10} more files differ")
    for item in summary["failed"]:
        print(f"  DuckDB failed on {os.path.basename(item['source'])}: {item['error']}")
    return False


def same_rate(label, engine, path, native):
    header, rows = read_csv(path)
    return crosscheck.compare_rate(label, engine, header, rows[0], native)


def machine():
    cpu = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal")) / 1024 / 1024
    except (OSError, StopIteration):
        mem = 0
    try:
        rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.split()[1]
    except (OSError, IndexError):
        rustc = "?"
    import duckdb
    import polars

    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return (
        f"{os.cpu_count()} vCPU ({cpu}), {mem:.0f} GiB RAM, {platform.system()} {platform.release()}; "
        f"churnlake {commit.stdout.strip() or '?'} (release build), rustc {rustc}, "
        f"DuckDB {duckdb.__version__}, Python polars {polars.__version__}, Python {platform.python_version()}"
    )


def table(bench, preset, info, year):
    by = {(r["step"], r["engine"]): r for r in bench.rows}
    lines = [
        f"`scripts/bench.py --preset {preset} --runs {bench.runs}` (= `just bench`), "
        f"{dt.date.today().isoformat()}: {info}.",
        "",
        f"Machine: {machine()}.",
        "",
        "| step | engine | median wall | runs (s) | median peak RSS | time vs churnlake | RSS vs churnlake | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in bench.rows:
        base = by.get((r["step"], "churnlake"))
        ratio = "—"
        if base and r is not base:
            ratio = (f"{r['wall'] / base['wall']:.1f}× slower" if r["wall"] >= base["wall"]
                     else f"{base['wall'] / r['wall']:.1f}× faster")
        mem = f"{r['rss'] / base['rss']:.1f}×" if base and r is not base else "—"
        runs = " / ".join(f"{w:.1f}" for w in r["walls"])
        lines.append(
            f"| {r['step']} | {r['engine']} | {r['wall']:.2f} s | {runs} | {r['rss']:,.0f} MiB | {ratio} | {mem} "
            f"| {r.get('note', '')} |"
        )
    lines += ["", "Commands (DATA, DROPS = DATA/drops, LAKE, PLAN and OUT under the work directory):", ""]
    lines += [f"- {what} (untimed): `{command}`" for what, command in bench.setup]
    lines += [f"- {r['step']} / {r['engine']}: `{r['command']}`" for r in bench.rows]
    lines += ["", f"The one-year rate covers {year[0]} … {year[1]}."]
    return "\n".join(lines)


def write_benchmarks(text):
    path = os.path.join(ROOT, "BENCHMARKS.md")
    doc = open(path, encoding="utf-8").read()
    begin, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    if begin in doc and end in doc:
        doc = doc[: doc.index(begin) + len(begin)] + "\n" + text + "\n" + doc[doc.index(end) :]
    else:
        doc += f"\n## Side by side (`just bench`)\n\n{begin}\n{text}\n{end}\n"
    open(path, "w", encoding="utf-8").write(doc)
    print(f"wrote {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="large")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--work", default=os.path.join(ROOT, "target", "bench"))
    parser.add_argument("--bin", "--churnlake", dest="bin", default=os.environ.get("CHURNLAKE_BIN", os.path.join(ROOT, "target", "release", "churnlake")))
    parser.add_argument("--skip", nargs="*", default=[], choices=["duckdb", "duckdb-strong", "polars"])
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    work, binary = os.path.abspath(args.work), os.path.abspath(args.bin)
    os.makedirs(work, exist_ok=True)
    data = os.path.join(work, args.preset)
    drops, lake = os.path.join(data, "drops"), os.path.join(work, "lake")
    if not os.path.isdir(drops):
        print(f"generating the {args.preset} preset into {data}", flush=True)
        subprocess.run([binary, "generate", "--preset", args.preset, "--out", data], check=True, stdout=subprocess.DEVNULL)
    files = [os.path.join(d, f) for d, _, fs in os.walk(drops) for f in fs]
    size = sum(os.path.getsize(f) for f in files)
    info = f"the `{args.preset}` preset, {len(files):,} drop files, {size / 1e6:,.0f} MB of CSV"
    print(f"{info}; {os.cpu_count()} cores; {args.runs} runs per job", flush=True)
    bench = Bench(args.runs, work)
    bench.setup.append(("the drops", f"churnlake generate --preset {args.preset} --out DATA"))
    py = sys.executable

    def fresh(path):
        return lambda: shutil.rmtree(path, ignore_errors=True)

    # 1. ingest
    ingest = bench.measure("ingest", "churnlake", [binary, "ingest", drops, "--lake", lake, "-q"], fresh(lake),
                           "churnlake ingest DROPS --lake LAKE -q")
    throughput = lambda r: f"{size / 1e6 / r['wall']:.1f} MB/s, {len(files) / r['wall']:.0f} files/s"  # noqa: E731
    ingest["note"] = throughput(ingest)
    total, per_file = churnlake_rows(binary, lake)
    ingest["note"] += (f"; {total['rows_written']:,} rows written + {total['rows_quarantined']:,} quarantined; "
                       f"{total['duplicates']} duplicate files skipped")
    duckdb_summary = None
    if "duckdb" not in args.skip:
        out, plan = os.path.join(work, "duckdb-parquet"), os.path.join(work, "duckdb-plan")
        shutil.rmtree(plan, ignore_errors=True)
        prepared = subprocess.run([py, PEERS, "duckdb-prepare", drops, lake, plan], check=True,
                                  capture_output=True, text=True).stderr.strip()
        print("  " + prepared)
        bench.setup.append(("ingest / duckdb: its plan", "python3 scripts/bench_peers.py duckdb-prepare DROPS LAKE PLAN"))
        peer = bench.measure("ingest", "duckdb", [py, PEERS, "duckdb-ingest", plan, out], fresh(out),
                             "python3 scripts/bench_peers.py duckdb-ingest PLAN OUT")
        print("  " + open(os.path.join(work, "ingest-duckdb.log")).read().strip().splitlines()[-1])
        duckdb_summary = json.load(open(os.path.join(out, "_summary.json"), encoding="utf-8"))
        planned = json.load(open(os.path.join(plan, "plan.json"), encoding="utf-8"))
        fallbacks = duckdb_summary["fallbacks"]
        peer["note"] = (
            throughput(peer) + f"; {duckdb_summary['rows_written']:,} rows written; "
            f"{planned['skipped_duplicates']} duplicates skipped as churnlake does; "
            f"{planned['transcoded']} Windows-1252 files transcoded to UTF-8 before timing; "
            + (f"{len(fallbacks)} files re-read as all text ({', '.join(os.path.basename(f) for f in fallbacks[:3])}"
               f"{', …' if len(fallbacks) > 3 else ''})" if fallbacks else "no fallback")
            + (f"; {len(duckdb_summary['failed'])} files FAILED" if duckdb_summary["failed"] else "")
        )

    # 2. series and one-year rate on the lake churnlake wrote
    first, last = crosscheck.manifest_range(lake)
    last_day = dt.date.fromisoformat(last)
    year = (max(first, (last_day - dt.timedelta(days=364)).isoformat()), last)
    series = {e: os.path.join(work, f"series-{e}.csv") for e in ("churnlake", "duckdb-strong", "duckdb", "polars")}
    rates = {e: os.path.join(work, f"rate-{e}.csv") for e in ("duckdb", "polars")}
    bench.measure("series", "churnlake", [binary, "series", "--lake", lake, "--format", "csv", "--out", series["churnlake"]],
                  shown="churnlake series --lake LAKE --format csv --out OUT")
    bench.measure("build", "churnlake", [binary, "build", "--lake", lake], shown="churnlake build --lake LAKE")
    rate_cmd = [binary, "rate", "--lake", lake, "--from", year[0], "--to", year[1], "--format", "json"]
    bench.measure("rate", "churnlake", rate_cmd, shown=f"churnlake rate --lake LAKE --from {year[0]} --to {year[1]} --format json")
    native_rate = json.loads(subprocess.run(rate_cmd, check=True, capture_output=True, text=True).stdout)
    strong = "duckdb" not in args.skip and "duckdb-strong" not in args.skip
    if strong:
        bench.measure("series", "duckdb (strong peer)", [py, STRONG, lake, "--out", series["duckdb-strong"]],
                      shown="python3 scripts/duckdb_series.py LAKE --out OUT")
    for engine in ("duckdb", "polars"):
        if engine in args.skip:
            continue
        bench.measure("series", f"{engine} (portable SQL of queries/)", [py, PEERS, f"{engine}-series", lake, series[engine]],
                      shown=f"python3 scripts/bench_peers.py {engine}-series LAKE OUT")
        bench.measure("rate", f"{engine} (portable SQL of queries/)", [py, PEERS, f"{engine}-rate", lake, *year, rates[engine]],
                      shown=f"python3 scripts/bench_peers.py {engine}-rate LAKE {year[0]} {year[1]} OUT")

    # every result checked before any figure is written
    print("checks:")
    ok = True
    truth = os.path.join(data, "truth", "series.csv")
    if os.path.exists(truth):
        ok &= same_series("churnlake series = the generator's ground truth", series["churnlake"], truth,
                          "churnlake", "ground truth")
    if duckdb_summary is not None:
        ok &= same_ingest(duckdb_summary, total, per_file)
    if strong:
        ok &= same_series("strong DuckDB peer series = churnlake series", series["duckdb-strong"],
                          series["churnlake"], "DuckDB (strong peer)")
    names = {"duckdb": "DuckDB", "polars": "Python polars"}
    for engine in ("duckdb", "polars"):
        if engine not in args.skip:
            ok &= same_series(f"{engine} series = churnlake series", series[engine], series["churnlake"], names[engine])
            ok &= same_rate(f"{engine} one-year rate = churnlake rate", names[engine], rates[engine], native_rate)
    if not ok:
        sys.exit("results differ: no figures written")

    text = table(bench, args.preset, info, year)
    print()
    print(text)
    if not args.no_write:
        write_benchmarks(text)


if __name__ == "__main__":
    main()
