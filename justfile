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

# queries/*.sql on DuckDB must equal churnlake's native output (scenario + conformance cases)
crosscheck: build
    bash scripts/crosscheck.sh

# the same queries on Spark SQL (pyspark local mode, Java 17) against a generated scenario
crosscheck-spark: build
    python3 -c "import pyspark" 2>/dev/null || python3 -m pip install --quiet pyspark
    rm -rf target/crosscheck-spark
    target/release/churnlake generate --out target/crosscheck-spark --start 2023-01-01 --days 150 --subs-per-day 15 --seed 11 >/dev/null
    target/release/churnlake ingest target/crosscheck-spark/drops --lake target/crosscheck-spark/lake -q
    python3 scripts/crosscheck_spark.py target/crosscheck-spark/lake

# formatting and lints
lint:
    cargo fmt --all --check
    cargo clippy --release --workspace --all-targets -- -D warnings

# churnlake vs DuckDB vs Python polars on the large preset (medians of 3 runs) -> BENCHMARKS.md
bench preset="large" runs="3": build
    python3 -c "import duckdb, polars" 2>/dev/null || python3 -m pip install --quiet duckdb polars
    python3 scripts/bench.py --preset {{preset}} --runs {{runs}}
