"""How every runner reads queries/*.sql and the lake, in one place (shared by
crosscheck.py, crosscheck_spark.py and bench_peers.py; see queries/README.md).

- A query file runs after the files its `-- Run after:` header names, in that order; each
  file's statements run in order and the last statement's result is the answer.
- Statements: `--` comments removed, split on `;`, `{{name}}` placeholders replaced.
- The one dialect switch: polars SQL has no views, so for polars a statement starting with
  `CREATE OR REPLACE TEMPORARY VIEW` starts with `CREATE TABLE` instead (lazy in polars,
  so still a view). `churnlake sql` applies the same switch itself.
- The lake's tables are the Parquet files its manifest (`LAKE/_manifest/*.json`) lists,
  never a listing of `raw/`; `calendar(date)` spans the manifest's data dates.

Standard library only: the engines are imported by the runners.
"""

import glob
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
QUERIES = os.path.normpath(os.path.join(HERE, "..", "queries"))

PORTABLE_VIEW = "CREATE OR REPLACE TEMPORARY VIEW"
DIALECTS = ("portable", "polars")


def query_files():
    """Every queries/*.sql file name, sorted."""
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(QUERIES, "*.sql")))


def run_order(name):
    """The files to run for `name`: those of its `-- Run after:` header, then itself."""
    text = open(os.path.join(QUERIES, name), encoding="utf-8").read()
    match = re.search(r"^--\s*Run after:(.*)$", text, re.MULTILINE)
    if match is None:
        raise ValueError(f"queries/{name}: no `-- Run after:` line in its header")
    return re.findall(r"[\w.-]+\.sql", match.group(1)) + [name]


def _split(name):
    """The raw statements of queries/`name`: `--` comments removed, split on `;`."""
    lines = open(os.path.join(QUERIES, name), encoding="utf-8").read().splitlines()
    text = "\n".join(line.split("--", 1)[0] for line in lines)
    return [s.strip() for s in text.split(";") if s.strip()]


def statements(name, params=None, dialect="portable"):
    """The statements of queries/`name`, ready for an engine (see the module docstring)."""
    if dialect not in DIALECTS:
        raise ValueError(f"dialect {dialect!r}: expected one of {DIALECTS}")
    out = []
    for statement in _split(name):
        for key, value in (params or {}).items():
            statement = statement.replace("{{" + key + "}}", value)
        missing = re.search(r"\{\{(\w+)\}\}", statement)
        if missing:
            raise ValueError(f"queries/{name}: no value for the parameter {missing.group(1)}")
        if dialect == "polars" and statement.upper().startswith(PORTABLE_VIEW):
            statement = "CREATE TABLE" + statement[len(PORTABLE_VIEW):]
        out.append(statement)
    return out


def script(name, params=None, dialect="portable"):
    """Every statement to run for `name`, its prerequisites' first."""
    return [s for part in run_order(name) for s in statements(part, params, dialect)]


def defines_only(name):
    """True when the file's last statement defines a view (the file returns no rows of its own)."""
    return _split(name)[-1].upper().startswith(PORTABLE_VIEW)


def order_by(name):
    """True when the file's result statement ends with an ORDER BY (its row order is checked)."""
    last = _split(name)[-1]
    return re.search(r"\bORDER\s+BY\b[^()]*$", last, re.IGNORECASE) is not None


# The columns the queries read from the raw tables, with their lake types (used to register
# an empty table of the right shape when the manifest lists no file for it).
REPORT_COLUMNS = {
    "subscription_id": "VARCHAR", "public_subscription_id": "VARCHAR", "user_id": "VARCHAR",
    "product": "VARCHAR", "create_date": "DATE", "cancel_date": "DATE", "cancelled_at": "TIMESTAMP",
    "data_date": "DATE", "drop_stamp": "TIMESTAMP", "source_file": "VARCHAR", "source_line": "BIGINT",
    "price": "DECIMAL(18, 2)", "quantity": "INTEGER", "frequency_days": "INTEGER",
}
EVENT_COLUMNS = {
    "public_subscription_id": "VARCHAR", "event_code": "INTEGER", "event_date": "DATE",
    "event_at": "TIMESTAMP", "data_date": "DATE", "source_file": "VARCHAR", "source_line": "BIGINT",
}
TABLES = {"subscriptions": REPORT_COLUMNS, "cancellations": REPORT_COLUMNS, "subscriber_events": EVENT_COLUMNS}


class Manifest:
    """The lake's manifest entries (dicts as churnlake writes them)."""

    def __init__(self, entries, lake):
        self.entries, self.lake = entries, lake.rstrip("/")

    @classmethod
    def load(cls, lake):
        """Reads LAKE/_manifest/*.json from a local lake (the Spark runner reads it with Spark)."""
        paths = glob.glob(os.path.join(lake, "_manifest", "*.json"))
        return cls([json.load(open(p, encoding="utf-8")) for p in paths], lake)

    def data_range(self):
        """(first, last) data date of the entries that are not failed, as YYYY-MM-DD."""
        dates = [e["data_date"] for e in self.entries if e["status"] != "failed"]
        if not dates:
            raise SystemExit(f"{self.lake}: no ingested drops in the manifest")
        return min(dates), max(dates)

    def files(self, table):
        """The addresses of the Parquet files the manifest lists for `table` (with rows)."""
        return sorted(
            f"{self.lake}/{o['path']}"
            for e in self.entries for o in (e.get("outputs") or [])
            if o["table"] == table and o["rows"] > 0
        )

    def table_dir(self, table):
        """Where the table's Hive partitions start (`basePath` for Spark)."""
        return f"{self.lake}/raw/{table}"


def sql_literal(text):
    return "'" + text.replace("'", "''") + "'"
