#!/usr/bin/env bash
# Cross-checks queries/*.sql on DuckDB and polars SQL (churnlake sql) against churnlake's native output: on a generated
# scenario (every format variant and anomaly) and on each conformance case.
#
# usage: scripts/crosscheck.sh [WORKDIR=target/crosscheck]
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-target/crosscheck}
bin=${CHURNLAKE_BIN:-target/release/churnlake}
[[ -x "$bin" ]] || cargo build --release
python3 -c "import duckdb" 2>/dev/null || python3 -m pip install --quiet duckdb

rm -rf "$work" && mkdir -p "$work"
"$bin" generate --out "$work/scenario" --start 2023-01-01 --days 150 --subs-per-day 15 --seed 11 >/dev/null
"$bin" ingest "$work/scenario/drops" --lake "$work/scenario/lake" -q
status=0
python3 scripts/crosscheck.py "$work/scenario/lake" --bin "$bin" || status=1
for case in tests/conformance/cases/*/; do
  name=$(basename "$case")
  "$bin" ingest "$case/drops" --lake "$work/$name" -q || true   # 1 = rows quarantined: still checked
  if python3 scripts/crosscheck.py "$work/$name" --bin "$bin" >"$work/$name.log" 2>&1; then
    echo "ok   conformance $name"
  else
    echo "FAIL conformance $name"; cat "$work/$name.log"; status=1
  fi
done
exit $status
