#!/usr/bin/env bash
# Times churnlake on a generated preset: ingest (fresh lake each run), series over the
# full history, and build; prints each run and the median wall time / peak RSS.
#
# usage: scripts/bench.sh [PRESET=large] [RUNS=3] [WORKDIR=target/bench]
set -euo pipefail
preset=${1:-large}
runs=${2:-3}
work=${3:-target/bench}
bin=${CHURNLAKE_BIN:-target/release/churnlake}
[[ -x "$bin" ]] || cargo build --release
mkdir -p "$work"
drops="$work/$preset/drops"
if [[ ! -d "$drops" ]]; then
  echo "generating the $preset preset into $work/$preset" >&2
  "$bin" generate --preset "$preset" --out "$work/$preset" >/dev/null
fi
bytes=$(du -sb "$drops" | cut -f1)
files=$(find "$drops" -type f | wc -l)
echo "preset $preset: $files files, $bytes bytes; $(nproc) cores; $runs runs each"

# measure NAME CMD...: runs CMD $runs times under /usr/bin/time, prints each run and the medians.
measure() {
  local name=$1; shift
  local log="$work/$name.times"
  : >"$log"
  for i in $(seq "$runs"); do
    [[ "$name" == ingest ]] && rm -rf "$work/lake"
    /usr/bin/time -f "%e %M" -o "$work/time.out" "$@" >/dev/null 2>"$work/$name.stderr" || {
      echo "$name failed:"; cat "$work/$name.stderr"; exit 2; }
    cat "$work/time.out" >>"$log"
    echo "  $name run $i: $(cut -d' ' -f1 "$work/time.out") s, $(( $(cut -d' ' -f2 "$work/time.out") / 1024 )) MiB peak RSS"
  done
  python3 - "$log" "$name" "$bytes" "$files" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1]) if line.strip()]
wall = statistics.median(float(r[0]) for r in rows)
rss = statistics.median(int(r[1]) for r in rows) / 1024
name, size, files = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
extra = f", {size / 1e6 / wall:.1f} MB/s, {files / wall:.0f} files/s" if name == "ingest" else ""
print(f"{name}: median {wall:.2f} s, median peak RSS {rss:.0f} MiB{extra}")
PY
}

measure ingest "$bin" ingest "$drops" --lake "$work/lake" -q
measure series "$bin" series --lake "$work/lake" --format csv --out "$work/series.csv"
measure build "$bin" build --lake "$work/lake"
if cmp -s <(tr -d '\r' <"$work/$preset/truth/series.csv") "$work/series.csv"; then
  echo "series equals the generator's ground truth"
else
  echo "series DIFFERS from the ground truth"; exit 1
fi
