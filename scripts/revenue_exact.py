#!/usr/bin/env python3
"""Checks the exact money arithmetic of queries/revenue.sql against Python fractions.

    scripts/revenue_exact.py [--seeds N] [--engine duckdb|polars|both]

The lake cross-checks (crosscheck.py) compare revenue.sql with churnlake on real lakes; this
script pins down the arithmetic alone, on inputs a lake rarely holds: random bookings
(`revenue_terms`) over frequencies whose MRR terms end in half cents (1, 2, 4, 8 days), do
not terminate (3, 7, 21, 30, 90, 365) or are negative (contractions' second halves),
changes dated before the first day (the opening balance), days without subscribers. It
runs the statements of revenue.sql from `revenue_lcm` on (over stand-in `calendar`,
`subscriptions`, `cancellations`, `revenue_terms` and `daily_series` tables) and requires
every figure of every day to equal the exact value rounded half to even to cents:
mrr = Σ changes to date, arpu = mrr ÷ subscribers, each movement = Σ that day's terms.
Needs: python3 and duckdb (polars for --engine polars). Exit 0 when all equal, 1 otherwise.
"""

import argparse
import datetime as dt
import os
import random
import sys
from fractions import Fraction

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import portable_sql  # noqa: E402

FREQUENCIES = [1, 2, 3, 4, 7, 8, 14, 21, 30, 90, 365]
FIRST = dt.date(2024, 1, 1)
DAYS = [FIRST + dt.timedelta(days=d) for d in range(40)]
MOVEMENTS = (1, 2, 3, 4, 5)  # new, reactivation, expansion, contraction, churned


def inputs(seed):
    """Random bookings (day, measure, frequency, units) and subscribers per day. Even seeds
    use only frequencies of 1, 2, 4 and 8 days and units in multiples of 8, so that the
    balances and ARPU, not only single terms, often fall exactly on a half cent."""
    rng = random.Random(seed)
    ties = seed % 2 == 0
    terms = []
    for day in [FIRST - dt.timedelta(days=3)] + DAYS:
        for measure in range(7):
            for _ in range(rng.randint(0, 4)):
                if measure == 6:  # the unknown-MRR count
                    terms.append((day, 6, 1, rng.choice([1, -1])))
                    continue
                units = rng.choice([16, 32, 48, 1, 999999, rng.randint(0, 50000)])
                frequency = rng.choice(FREQUENCIES)
                if ties:
                    units, frequency = 8 * rng.randint(0, 40), rng.choice([1, 2, 4, 8])
                if measure in (0, 3, 4) and rng.random() < 0.4:
                    units = -units
                terms.append((day, measure, frequency, units))
    subscribers = {day: rng.choice([0, 1, 2, 4, 3, 7, 1000] if ties else [0, 1, 3, 7, 1000]) for day in DAYS}
    return terms, subscribers


def half_even_cents(x):
    c = x * 100
    q, r = divmod(c.numerator, c.denominator)
    if 2 * r > c.denominator or (2 * r == c.denominator and q % 2):
        q += 1
    return q


def expected(terms, subscribers):
    """Per day: [mrr, arpu, new, reactivation, expansion, contraction, churned] in cents, unknown."""
    money = lambda units, f: Fraction(487 * units, 1600 * f)  # noqa: E731  (cents × qty × 30.4375 ÷ f)
    out, mrr, unknown = {}, Fraction(0), 0
    for day, measure, f, units in terms:
        if day < FIRST:
            mrr += money(units, f) if measure == 0 else 0
            unknown += units if measure == 6 else 0
    for day in DAYS:
        today = [t for t in terms if t[0] == day]
        mrr += sum((money(u, f) for _, m, f, u in today if m == 0), Fraction(0))
        unknown += sum(u for _, m, _, u in today if m == 6)
        n = subscribers[day]
        moves = [half_even_cents(sum((money(u, f) for _, m, f, u in today if m == k), Fraction(0))) for k in MOVEMENTS]
        out[day] = ([half_even_cents(mrr), half_even_cents(mrr / n) if n else None] + moves, unknown)
    return out


def statements():
    """revenue.sql's statements from the view revenue_lcm on (the arithmetic)."""
    def from_lcm(dialect):
        script = portable_sql.statements("revenue.sql", dialect=dialect)
        start = next(i for i, s in enumerate(script) if "revenue_lcm AS" in s.split("\n", 1)[0])
        return script[start:]
    return from_lcm


def run_duckdb(terms, subscribers):
    import duckdb

    con = duckdb.connect()
    con.execute(f"CREATE TABLE calendar AS SELECT CAST(range AS DATE) AS date FROM range(DATE '{DAYS[0]}', "
                f"DATE '{DAYS[-1]}' + INTERVAL 1 DAY, INTERVAL 1 DAY)")
    con.execute("CREATE TABLE subscriptions (frequency_days INTEGER)")
    con.execute("CREATE TABLE cancellations (frequency_days INTEGER)")
    con.executemany("INSERT INTO subscriptions VALUES (?)", [[f] for f in FREQUENCIES] + [[0], [None]])
    con.execute("CREATE TABLE revenue_terms (day DATE, measure INTEGER, frequency_days BIGINT, units BIGINT)")
    con.executemany("INSERT INTO revenue_terms VALUES (?, ?, ?, ?)", terms)
    con.execute("CREATE TABLE daily_series (date DATE, active_subscribers BIGINT)")
    con.executemany("INSERT INTO daily_series VALUES (?, ?)", list(subscribers.items()))
    result = None
    for statement in statements()("portable"):
        result = con.sql(statement)
    return result.fetchall()


def run_polars(terms, subscribers):
    import polars as pl

    ctx = pl.SQLContext()
    ctx.register("calendar", pl.DataFrame({"date": DAYS}))
    frequencies = pl.DataFrame({"frequency_days": FREQUENCIES + [0, None]}, schema={"frequency_days": pl.Int32})
    ctx.register("subscriptions", frequencies)
    ctx.register("cancellations", frequencies.clear())
    ctx.register("revenue_terms", pl.DataFrame(
        [list(t) for t in terms], orient="row",
        schema={"day": pl.Date, "measure": pl.Int32, "frequency_days": pl.Int64, "units": pl.Int64}))
    ctx.register("daily_series", pl.DataFrame(
        {"date": list(subscribers), "active_subscribers": list(subscribers.values())},
        schema={"date": pl.Date, "active_subscribers": pl.Int64}))
    result = None
    for statement in statements()("polars"):
        result = ctx.execute(statement)
    return result.collect().rows()


def check(engine, seed):
    terms, subscribers = inputs(seed)
    want = expected(terms, subscribers)
    rows = (run_duckdb if engine == "duckdb" else run_polars)(terms, subscribers)
    cents = lambda v: None if v is None else int(v * 100)  # noqa: E731  (Decimal → cents, exact)
    bad = 0
    for row in rows:
        got = ([cents(v) for v in row[1:8]], row[8])
        if got != want[row[0]]:
            bad += 1
            print(f"FAIL {engine} seed {seed} {row[0]}: got {got}, expected {want[row[0]]}")
    if len(rows) != len(DAYS):
        print(f"FAIL {engine} seed {seed}: {len(rows)} rows, expected {len(DAYS)}")
        bad += 1
    return bad == 0, len(terms)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--engine", choices=["duckdb", "polars", "both"], default="duckdb")
    args = parser.parse_args()
    ok = True
    for engine in ["duckdb", "polars"] if args.engine == "both" else [args.engine]:
        bookings, passed = 0, True
        for seed in range(1, args.seeds + 1):
            matched, n = check(engine, seed)
            passed &= matched
            bookings += n
        print(f"{'ok  ' if passed else 'FAIL'} revenue.sql arithmetic on {engine}: {args.seeds} seeds, "
              f"{bookings} bookings, {len(DAYS)} days each, exact to the cent")
        ok &= passed
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
