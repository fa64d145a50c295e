#!/usr/bin/env bash
# Object-store figures: requests and wall time of ingest, re-ingest, drops, series and
# build on an S3 lake served by a local moto server, beside the same commands on a local
# lake. The server logs one line per request; each command's lines are counted by method.
#
#   scripts/bench_store.sh [GENERATE ARGS…]     e.g. --preset demo, or --preset large --days 365
#
# Needs `python3 -m pip install "moto[server]==5.2.5"` (boto3 comes with it) and a release
# build (target/release/churnlake, or $CHURNLAKE_BIN). Work files go to $WORK
# (default target/bench-store), removed first.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${CHURNLAKE_BIN:-target/release/churnlake}
WORK=${WORK:-target/bench-store}
rm -rf "$WORK"
mkdir -p "$WORK"

"$BIN" generate --out "$WORK/gen" "$@" >"$WORK/generate.json"
DROPS="$WORK/gen/drops"
echo "drops: $(find "$DROPS" -type f | wc -l) files, $(du -sm "$DROPS" | cut -f1) MB"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LOG="$WORK/moto.log"
python3 -m moto.server -H 127.0.0.1 -p "$PORT" >"$LOG" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/')" 2>/dev/null && break
  sleep 1
done

export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_ALLOW_HTTP=true AWS_ACCESS_KEY_ID=test \
  AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
python3 - "$DROPS" <<'EOF'
import os, sys, boto3
s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
s3.create_bucket(Bucket="bench")
root = sys.argv[1]
for dirpath, _, files in os.walk(root):
    for name in files:
        path = os.path.join(dirpath, name)
        s3.upload_file(path, "bench", "drops/" + os.path.relpath(path, root))
EOF

# phase NAME COMMAND…: runs it (exit 0 or 1), prints its wall time and its requests by method
phase() {
  local name=$1
  shift
  sleep 1
  local before after start end
  before=$(wc -l <"$LOG")
  start=$(date +%s.%N)
  "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || [ $? -eq 1 ] || { cat "$WORK/$name.err" >&2; exit 2; }
  end=$(date +%s.%N)
  sleep 1
  after=$(wc -l <"$LOG")
  local requests
  requests=$(sed -n "$((before + 1)),${after}p" "$LOG" | { grep -o '"[A-Z]* /' || true; } | tr -d '"/ ' | sort | uniq -c |
    awk '{printf "%s %s, ", $2, $1; n += $1} END {printf "total %d", n}')
  printf '%-10s %8.1f s   %s\n' "$name" "$(echo "$end - $start" | bc)" "$requests"
}

LAKE=s3://bench/lake
phase ingest "$BIN" ingest s3://bench/drops/ --lake "$LAKE" -q
phase reingest "$BIN" ingest s3://bench/drops/ --lake "$LAKE" -q
phase drops "$BIN" drops --lake "$LAKE" --format csv
phase series "$BIN" series --lake "$LAKE" --format csv
phase build "$BIN" build --lake "$LAKE" -q
echo "manifest entries: $(($(wc -l <"$WORK/drops.out") - 1))"

# the same on local disk, and the outputs compared
phase local-ingest "$BIN" ingest "$DROPS" --lake "$WORK/lake" -q
phase local-series "$BIN" series --lake "$WORK/lake" --format csv
cmp "$WORK/series.out" "$WORK/local-series.out" && echo "series: the S3 lake's equals the local lake's"
