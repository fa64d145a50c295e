#!/usr/bin/env bash
# Cross-checks queries/*.sql against churnlake's native output on a generated scenario (every
# format variant and anomaly) and on each conformance case.
#
# usage: scripts/crosscheck.sh [WORKDIR]          DuckDB and polars SQL (churnlake sql); CI, `just crosscheck`
#        scripts/crosscheck.sh --spark [OPTION…]  Spark SQL, pyspark local[2] unless --master; `just crosscheck-spark`
#        scripts/crosscheck.sh --spark LAKE [OPTION…]
#                                                 Spark SQL on an existing lake (object store, cluster): nothing
#                                                 generated, e.g. LAKE=s3a://bucket/lake --native-lake s3://bucket/lake
# OPTIONs go to scripts/crosscheck_spark.py (--master URL, --conf KEY=VALUE, --native-lake URL, --bin PATH).
# WORKDIR defaults to target/crosscheck (target/crosscheck-spark with --spark; CROSSCHECK_WORK sets it there).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${CHURNLAKE_BIN:-target/release/churnlake}
[[ -x "$bin" ]] || cargo build --release

spark=0
if [[ ${1:-} == --spark ]]; then
  spark=1
  shift
  python3 -c "import pyspark" 2>/dev/null || python3 -m pip install --quiet pyspark
  if [[ -n ${1:-} && ${1:0:1} != - ]]; then   # an existing lake: check it, generate nothing
    exec python3 scripts/crosscheck_spark.py --bin "$bin" "$@"
  fi
  work=${CROSSCHECK_WORK:-target/crosscheck-spark}
else
  work=${1:-target/crosscheck}
  python3 -c "import duckdb" 2>/dev/null || python3 -m pip install --quiet duckdb
fi

rm -rf "$work" && mkdir -p "$work"
"$bin" generate --out "$work/scenario" --start 2023-01-01 --days 150 --subs-per-day 15 --seed 11 >/dev/null
"$bin" ingest "$work/scenario/drops" --lake "$work/scenario/lake" -q
cases=()
for case in tests/conformance/cases/*/; do
  name=$(basename "$case")
  "$bin" ingest "$case/drops" --lake "$work/$name" -q || true   # 1 = rows quarantined: still checked
  cases+=("$work/$name")
done

status=0
if ((spark)); then
  python3 scripts/crosscheck_spark.py --bin "$bin" "$@" "$work/scenario/lake" || status=1
  python3 scripts/crosscheck_spark.py --bin "$bin" "$@" --summary "${cases[@]}" || status=1
  exit $status
fi
python3 scripts/revenue_exact.py || status=1   # revenue.sql's arithmetic against exact fractions
python3 scripts/crosscheck.py "$work/scenario/lake" --bin "$bin" || status=1
for lake in "${cases[@]}"; do
  name=$(basename "$lake")
  if python3 scripts/crosscheck.py "$lake" --bin "$bin" >"$work/$name.log" 2>&1; then
    echo "ok   conformance $name"
  else
    echo "FAIL conformance $name"; cat "$work/$name.log"; status=1
  fi
done
exit $status
