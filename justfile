# churnlake developer menu: `just --list`

# list the recipes
default:
    @just --list

# build the release binary (tests and the demo use the same profile)
build:
    cargo build --release

# run every test: unit, integration, conformance, ground truth (what CI runs)
test:
    cargo test --release --workspace

# generate a two-year sample, ingest it, build the derived tables and summarise
demo:
    cargo run --release -- demo

# the METRICS.md conformance suite against the release binary
conformance: build
    bash tests/conformance/run.sh target/release/churnlake

# queries/*.sql on DuckDB and polars SQL must equal churnlake's native output (scenario + conformance cases)
crosscheck: build
    bash scripts/crosscheck.sh

# the same on Spark SQL (pyspark local[2]); args go to crosscheck_spark.py: --master URL, --conf K=V, or LAKE --native-lake URL
crosscheck-spark *args: build
    bash scripts/crosscheck.sh --spark {{args}}

# formatting and lints
lint:
    cargo fmt --all --check
    cargo clippy --release --workspace --all-targets -- -D warnings

# churnlake vs DuckDB (the strong series peer, scripts/duckdb_series.py, and the portable SQL of queries/) vs Python polars on the large preset (medians of 3 runs) -> BENCHMARKS.md
bench preset="large" runs="3": build
    python3 -c "import duckdb, polars" 2>/dev/null || python3 -m pip install --quiet duckdb polars
    python3 scripts/bench.py --preset {{preset}} --runs {{runs}}
