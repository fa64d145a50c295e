-- revenue.sql — the daily revenue series of METRICS.md "Revenue": one row per day from the
-- first to the last data date with the MRR and ARPU at the end of the day, the day's MRR
-- movements and the active subscriptions whose MRR is unknown.
--
-- Reads:      subscriptions, cancellations (their money columns price, quantity,
--             frequency_days), subscription_base, subscription_states (views of
--             lifecycle.sql), daily_series (daily_series.sql: ARPU's denominator, the
--             subscribers active at the end of the day), calendar(date)
-- Run after:  lifecycle.sql, daily_series.sql
-- Defines (views, in order):
--   revenue_attribute_rows  every report row's price (in cents), quantity and frequency,
--                           the day it takes effect and its rank in the "newest row" order
--   revenue_snapshots       per subscription and day on which its state or an attribute
--                           changes: its MRR as (frequency_days, cents × quantity), unknown
--                           or not, and the previous such day's
--   revenue_terms           the bookings per day, measure and frequency, exact integers
--   revenue_lcm             the least common multiple of the lake's frequencies (one row)
--   revenue_daily           per day and measure, the exact amount as whole cents plus a
--                           fraction over one denominator (see "Exact money" below), and
--                           for the movements the amount rounded
-- Returns:    date, mrr, arpu, new_mrr, reactivation_mrr, expansion_mrr, contraction_mrr,
--             churned_mrr, mrr_unknown_subscriptions ordered by date, money as
--             DECIMAL(18, 2) (the columns of `churnlake revenue --format csv`, which it must
--             equal as text)
--
-- MRR = price × quantity × 30.4375 ÷ frequency_days (30.4375 = 365.25 / 12 = 487 / 16).
--
-- Attributes in effect on D (METRICS.md): per attribute separately, the newest report row
-- (by data date, stamp, file name, line) with a data date ≤ D where it is not empty, else
-- the oldest such row; a row dated before the creation takes effect on the creation day.
-- An active subscription without a price, quantity or frequency in effect, or with a
-- frequency ≤ 0, counts in mrr_unknown_subscriptions with an MRR of 0; a change to or from
-- unknown is a change to or from 0 (expansion / contraction).
--
-- Exact money. A subscription's MRR in cents is units × 487 ÷ (16 × f), with units = price
-- in cents × quantity and f = frequency_days: a fraction whose decimals do not end for most
-- frequencies (f = 7, 30, 90 …), so no DECIMAL scale holds it, and summing rounded or
-- truncated terms can move a total across a half cent. Instead every amount is kept as
-- integers: the day's units are summed per frequency (an exact integer A_f = 487 × Σ units
-- over that frequency's subscriptions), each A_f is split exactly into a whole part and a
-- remainder, A_f = q_f × 16f + r_f with 0 ≤ r_f < 16f, and the remainders are brought onto
-- one denominator 16 × LCM, LCM being the least common multiple of the frequencies in the
-- lake's report rows (found among the multiples of the largest one):
--     amount in cents = Σ q_f + (Σ r_f × LCM / f) ÷ (16 × LCM)
-- exactly. Both parts are integers and add up linearly, so the MRR at the end of a day is
-- the running sum of the changes' whole parts plus that of their fractions over the same
-- denominator. Each figure is rounded half to even to cents once, from its exact value, by
-- integer arithmetic only (the same rounding of the same exact sum as churnlake); ARPU is
-- the exact MRR ÷ the subscribers, rounded the same way. Integer division is written as
-- (a − a mod b) / b and mod as ((a % b) + b) % b, which every engine evaluates alike
-- (whatever its `/` returns and whatever sign its `%` gives); a quotient that goes through
-- a floating-point `/` is exact below 2^53. Limits of the method, far beyond a subscription
-- catalogue: the LCM must be at most 100000 × the largest frequency (otherwise every amount
-- is NULL, never a wrong figure); 487 × one day's change in units at one frequency below
-- 2^53 (Σ price × quantity of one day's changes at one frequency below about 185 billion);
-- and the running fraction, at most days × frequencies × 16 × LCM, below 2^53 (for the
-- generator's nine frequencies, LCM 2520: any lake shorter than ten million years).
--
-- Dialect: DuckDB and Spark SQL run this file unchanged. Polars SQL has no views, so its
-- runners (`churnlake sql`, and scripts/portable_sql.py for Python polars) rewrite the
-- leading "CREATE OR REPLACE TEMPORARY VIEW" into "CREATE TABLE", which polars keeps lazy.

CREATE OR REPLACE TEMPORARY VIEW revenue_attribute_rows AS
WITH money_rows AS (
    SELECT subscription_id, price, quantity, frequency_days, data_date, drop_stamp, source_file, source_line
    FROM subscriptions
    UNION ALL
    SELECT subscription_id, price, quantity, frequency_days, data_date, drop_stamp, source_file, source_line
    FROM cancellations
)
SELECT m.subscription_id,
       CASE WHEN m.data_date < b.created_date THEN b.created_date ELSE m.data_date END AS effective_day,
       CAST(ROW_NUMBER() OVER (PARTITION BY m.subscription_id
                               ORDER BY m.data_date, m.drop_stamp, m.source_file, m.source_line) AS BIGINT) AS row_rank,
       CAST(m.price * 100 AS BIGINT) AS price_cents,
       CAST(m.quantity AS BIGINT) AS quantity,
       CAST(m.frequency_days AS BIGINT) AS frequency_days
FROM money_rows m
JOIN subscription_base b ON b.subscription_id = m.subscription_id;

-- One stream per subscription: its state rows (rank 0) and its report rows (rank 1, 2, …
-- in the newest-row order), by day then rank. Each attribute is carried forward from its
-- last non-empty value (a running count of non-empty values numbers the runs; the run's
-- one non-empty value is its maximum); before its first non-empty value, that first value
-- (the oldest non-empty row) is in effect. The last row of a day gives the day's snapshot.
CREATE OR REPLACE TEMPORARY VIEW revenue_snapshots AS
WITH stream AS (
    SELECT subscription_id, day, CAST(0 AS BIGINT) AS row_rank, CAST(active AS BIGINT) AS active,
           CAST(NULL AS BIGINT) AS price_cents, CAST(NULL AS BIGINT) AS quantity,
           CAST(NULL AS BIGINT) AS frequency_days
    FROM subscription_states
    UNION ALL
    SELECT subscription_id, effective_day AS day, row_rank, CAST(NULL AS BIGINT) AS active,
           price_cents, quantity, frequency_days
    FROM revenue_attribute_rows
),
runs AS (
    SELECT subscription_id, day, row_rank, active, price_cents, quantity, frequency_days,
           SUM(CASE WHEN active IS NULL THEN 0 ELSE 1 END)
               OVER (PARTITION BY subscription_id ORDER BY day, row_rank
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS active_run,
           SUM(CASE WHEN price_cents IS NULL THEN 0 ELSE 1 END)
               OVER (PARTITION BY subscription_id ORDER BY day, row_rank
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS price_run,
           SUM(CASE WHEN quantity IS NULL THEN 0 ELSE 1 END)
               OVER (PARTITION BY subscription_id ORDER BY day, row_rank
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS quantity_run,
           SUM(CASE WHEN frequency_days IS NULL THEN 0 ELSE 1 END)
               OVER (PARTITION BY subscription_id ORDER BY day, row_rank
                     ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS frequency_run
    FROM stream
),
filled AS (
    SELECT subscription_id, day, row_rank,
           MAX(active) OVER (PARTITION BY subscription_id, active_run) AS active,
           COALESCE(MAX(price_cents) OVER (PARTITION BY subscription_id, price_run),
                    MAX(CASE WHEN price_run = 1 THEN price_cents END) OVER (PARTITION BY subscription_id))
               AS price_cents,
           COALESCE(MAX(quantity) OVER (PARTITION BY subscription_id, quantity_run),
                    MAX(CASE WHEN quantity_run = 1 THEN quantity END) OVER (PARTITION BY subscription_id))
               AS quantity,
           COALESCE(MAX(frequency_days) OVER (PARTITION BY subscription_id, frequency_run),
                    MAX(CASE WHEN frequency_run = 1 THEN frequency_days END) OVER (PARTITION BY subscription_id))
               AS frequency_days,
           ROW_NUMBER() OVER (PARTITION BY subscription_id, day ORDER BY row_rank DESC) AS last_of_day
    FROM runs
),
bounds AS (
    SELECT MAX(date) AS last_date, 1 AS one FROM calendar
),
valued AS (
    -- MRR as (frequency, units); no MRR is (1, 0). Days before the creation have no state
    -- (they do not occur: a report row takes effect on the creation at the earliest).
    SELECT f.subscription_id, f.day, f.active,
           CASE WHEN f.active = 1 AND f.price_cents IS NOT NULL AND f.quantity IS NOT NULL AND f.frequency_days > 0
                THEN f.frequency_days ELSE 1 END AS frequency_days,
           CASE WHEN f.active = 1 AND f.price_cents IS NOT NULL AND f.quantity IS NOT NULL AND f.frequency_days > 0
                THEN f.price_cents * f.quantity ELSE 0 END AS units,
           CASE WHEN f.active = 1 AND (f.price_cents IS NULL OR f.quantity IS NULL OR f.frequency_days IS NULL
                                       OR f.frequency_days <= 0)
                THEN 1 ELSE 0 END AS unknown
    FROM (SELECT *, 1 AS one FROM filled) f
    JOIN bounds b ON b.one = f.one
    WHERE f.last_of_day = 1 AND f.day <= b.last_date AND f.active IS NOT NULL
)
SELECT subscription_id, day, active, frequency_days, units, unknown,
       LAG(active) OVER (PARTITION BY subscription_id ORDER BY day) AS previous_active,
       LAG(frequency_days) OVER (PARTITION BY subscription_id ORDER BY day) AS previous_frequency_days,
       LAG(units) OVER (PARTITION BY subscription_id ORDER BY day) AS previous_units,
       LAG(unknown) OVER (PARTITION BY subscription_id ORDER BY day) AS previous_unknown
FROM valued;

-- Bookings: each snapshot row is read once and booked under the kinds below (a constant
-- table). measure 0: the change of the MRR balance (+ now, − the previous day's), 1 new,
-- 2 reactivation, 3 expansion, 4 contraction, 5 churned (each an amount per frequency:
-- the new value and minus the old for expansion, the reverse for contraction); 6 the
-- change of the unknown-MRR count (frequency 1). `previous` = 1: the previous day's MRR.
CREATE OR REPLACE TEMPORARY VIEW revenue_terms AS
WITH kinds AS (
    SELECT 1 AS kind, 0 AS measure, 0 AS previous, 1 AS sign
    UNION ALL SELECT 2 AS kind, 0 AS measure, 1 AS previous, -1 AS sign
    UNION ALL SELECT 3 AS kind, 1 AS measure, 0 AS previous, 1 AS sign
    UNION ALL SELECT 4 AS kind, 2 AS measure, 0 AS previous, 1 AS sign
    UNION ALL SELECT 5 AS kind, 5 AS measure, 1 AS previous, 1 AS sign
    UNION ALL SELECT 6 AS kind, 3 AS measure, 0 AS previous, 1 AS sign
    UNION ALL SELECT 7 AS kind, 3 AS measure, 1 AS previous, -1 AS sign
    UNION ALL SELECT 8 AS kind, 4 AS measure, 1 AS previous, 1 AS sign
    UNION ALL SELECT 9 AS kind, 4 AS measure, 0 AS previous, -1 AS sign
    UNION ALL SELECT 10 AS kind, 6 AS measure, 0 AS previous, 1 AS sign
),
compared AS (
    -- direction: the change in MRR between two active days (cross-multiplied: exact)
    SELECT day, active, frequency_days, units, unknown, previous_active, previous_frequency_days,
           previous_units, previous_unknown,
           CASE WHEN previous_active = 1 AND active = 1
                THEN CASE WHEN units * previous_frequency_days > previous_units * frequency_days THEN 1
                          WHEN units * previous_frequency_days < previous_units * frequency_days THEN -1
                          ELSE 0 END
                ELSE 0 END AS direction
    FROM revenue_snapshots
)
SELECT s.day, k.measure,
       CASE WHEN k.kind = 10 THEN 1
            WHEN k.previous = 1 THEN s.previous_frequency_days
            ELSE s.frequency_days END AS frequency_days,
       CASE WHEN k.kind = 10 THEN s.unknown - COALESCE(s.previous_unknown, 0)
            WHEN k.previous = 1 THEN k.sign * s.previous_units
            ELSE k.sign * s.units END AS units
FROM compared s
CROSS JOIN kinds k
WHERE (k.kind = 1 AND s.units <> 0)
   OR (k.kind = 2 AND s.previous_units <> 0)
   OR (k.kind = 3 AND s.previous_active IS NULL AND s.units <> 0)
   OR (k.kind = 4 AND s.previous_active = 0 AND s.active = 1 AND s.units <> 0)
   OR (k.kind = 5 AND s.previous_active = 1 AND s.active = 0 AND s.previous_units <> 0)
   OR ((k.kind = 6 OR k.kind = 7) AND s.direction = 1)
   OR ((k.kind = 8 OR k.kind = 9) AND s.direction = -1)
   OR (k.kind = 10 AND s.unknown <> COALESCE(s.previous_unknown, 0));

CREATE OR REPLACE TEMPORARY VIEW revenue_lcm AS
WITH frequencies AS (
    -- every positive frequency of a report row (a superset of those booked)
    SELECT frequency_days, 1 AS one
    FROM (SELECT frequency_days FROM subscriptions
          UNION
          SELECT frequency_days FROM cancellations) listed
    WHERE frequency_days > 0
),
digits AS (
    SELECT 0 AS digit UNION ALL SELECT 1 AS digit UNION ALL SELECT 2 AS digit UNION ALL SELECT 3 AS digit
    UNION ALL SELECT 4 AS digit UNION ALL SELECT 5 AS digit UNION ALL SELECT 6 AS digit
    UNION ALL SELECT 7 AS digit UNION ALL SELECT 8 AS digit UNION ALL SELECT 9 AS digit
),
multipliers AS (
    -- 1 … 100000
    SELECT d1.digit + 10 * d2.digit + 100 * d3.digit + 1000 * d4.digit + 10000 * d5.digit + 1 AS multiplier,
           1 AS one
    FROM digits d1 CROSS JOIN digits d2 CROSS JOIN digits d3 CROSS JOIN digits d4 CROSS JOIN digits d5
),
largest AS (
    SELECT CAST(MAX(frequency_days) AS BIGINT) AS largest, COUNT(*) AS frequencies, 1 AS one FROM frequencies
),
candidates AS (
    SELECT mu.multiplier * la.largest AS candidate, la.frequencies, 1 AS one
    FROM multipliers mu
    JOIN largest la ON la.one = mu.one
),
divided AS (
    -- per candidate, how many frequencies divide it
    SELECT ca.candidate, MAX(ca.frequencies) AS frequencies,
           SUM(CASE WHEN ca.candidate % fr.frequency_days = 0 THEN 1 ELSE 0 END) AS dividing
    FROM candidates ca
    JOIN frequencies fr ON fr.one = ca.one
    GROUP BY ca.candidate
),
least AS (
    SELECT MIN(candidate) AS lcm, 1 AS one FROM divided WHERE dividing = frequencies
)
SELECT CASE WHEN la.frequencies = 0 THEN 1 ELSE le.lcm END AS lcm, 1 AS one
FROM largest la
JOIN least le ON le.one = la.one;

-- Per day and measure: the exact amount as whole cents plus fraction ÷ denominator. Changes
-- of the balances (measures 0 and 6) dated before the lake's first day are booked on it
-- (the opening balance); movements before it are outside the series.
CREATE OR REPLACE TEMPORARY VIEW revenue_daily AS
WITH bounds AS (
    SELECT MIN(date) AS first_date, 1 AS one FROM calendar
),
per_frequency AS (
    SELECT CASE WHEN t.day < b.first_date THEN b.first_date ELSE t.day END AS day,
           t.measure, t.frequency_days, SUM(t.units) AS units
    FROM (SELECT *, 1 AS one FROM revenue_terms) t
    JOIN bounds b ON b.one = t.one
    WHERE t.day >= b.first_date OR t.measure = 0 OR t.measure = 6
    GROUP BY CASE WHEN t.day < b.first_date THEN b.first_date ELSE t.day END, t.measure, t.frequency_days
),
split AS (
    -- money: A = 487 × units = q × 16f + r exactly, 0 ≤ r < 16f, r carried as r × LCM / f
    -- over 16 × LCM; counts (measure 6): the units themselves
    SELECT x.day, x.measure, x.frequency_days, x.numerator, x.denominator, l.lcm,
           ((x.numerator % x.denominator) + x.denominator) % x.denominator AS remainder
    FROM (SELECT day, measure, frequency_days,
                 CASE WHEN measure = 6 THEN units ELSE 487 * units END AS numerator,
                 CASE WHEN measure = 6 THEN 1 ELSE 16 * frequency_days END AS denominator,
                 1 AS one
          FROM per_frequency) x
    JOIN revenue_lcm l ON l.one = x.one
),
sums AS (
    SELECT day, measure, MAX(lcm) * 16 AS denominator,
           SUM(CAST((numerator - remainder) / denominator AS BIGINT)) AS whole,
           SUM(remainder * CAST(lcm / frequency_days AS BIGINT)) AS fraction
    FROM split
    GROUP BY day, measure
),
floored AS (
    SELECT day, measure, whole, fraction, denominator,
           whole + CAST((fraction - fraction % denominator) / denominator AS BIGINT) AS floor_cents,
           fraction % denominator AS rest
    FROM sums
)
SELECT day, measure, whole, fraction, denominator,
       floor_cents + CASE WHEN 2 * rest > denominator
                               OR (2 * rest = denominator AND ((floor_cents % 2) + 2) % 2 = 1)
                          THEN 1 ELSE 0 END AS cents
FROM floored;

WITH pivoted AS (
    SELECT day,
           SUM(CASE WHEN measure = 0 THEN whole ELSE 0 END) AS mrr_whole,
           SUM(CASE WHEN measure = 0 THEN fraction ELSE 0 END) AS mrr_fraction,
           SUM(CASE WHEN measure = 1 THEN cents ELSE 0 END) AS new_mrr,
           SUM(CASE WHEN measure = 2 THEN cents ELSE 0 END) AS reactivation_mrr,
           SUM(CASE WHEN measure = 3 THEN cents ELSE 0 END) AS expansion_mrr,
           SUM(CASE WHEN measure = 4 THEN cents ELSE 0 END) AS contraction_mrr,
           SUM(CASE WHEN measure = 5 THEN cents ELSE 0 END) AS churned_mrr,
           SUM(CASE WHEN measure = 6 THEN whole ELSE 0 END) AS unknown_change
    FROM revenue_daily
    GROUP BY day
),
days AS (
    -- every calendar day; no LCM found (see "Exact money"): every amount NULL
    SELECT cal.date, s.active_subscribers AS n, 16 * l.lcm AS denominator,
           CASE WHEN l.lcm IS NOT NULL THEN COALESCE(p.mrr_whole, 0) END AS mrr_whole,
           CASE WHEN l.lcm IS NOT NULL THEN COALESCE(p.mrr_fraction, 0) END AS mrr_fraction,
           CASE WHEN l.lcm IS NOT NULL THEN COALESCE(p.new_mrr, 0) END AS new_mrr,
           CASE WHEN l.lcm IS NOT NULL THEN COALESCE(p.reactivation_mrr, 0) END AS reactivation_mrr,
           CASE WHEN l.lcm IS NOT NULL THEN COALESCE(p.expansion_mrr, 0) END AS expansion_mrr,
           CASE WHEN l.lcm IS NOT NULL THEN COALESCE(p.contraction_mrr, 0) END AS contraction_mrr,
           CASE WHEN l.lcm IS NOT NULL THEN COALESCE(p.churned_mrr, 0) END AS churned_mrr,
           COALESCE(p.unknown_change, 0) AS unknown_change
    FROM (SELECT date, 1 AS one FROM calendar) cal
    JOIN revenue_lcm l ON l.one = cal.one
    JOIN daily_series s ON s.date = cal.date
    LEFT JOIN pivoted p ON p.day = cal.date
),
balances AS (
    -- the MRR at the end of the day: running sums of the changes' whole parts and fractions
    SELECT date, n, denominator, new_mrr, reactivation_mrr, expansion_mrr, contraction_mrr, churned_mrr,
           SUM(mrr_whole) OVER (ORDER BY date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS mrr_whole,
           SUM(mrr_fraction) OVER (ORDER BY date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS mrr_fraction,
           SUM(unknown_change) OVER (ORDER BY date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
               AS mrr_unknown_subscriptions
    FROM days
),
parts AS (
    -- the MRR's floor in cents and rest; ARPU = (whole + fraction ÷ denominator) ÷ n: with
    -- whole = a × n + b (0 ≤ b < n), a + (b × denominator + fraction) ÷ (denominator × n)
    SELECT date, n, denominator, new_mrr, reactivation_mrr, expansion_mrr, contraction_mrr, churned_mrr,
           mrr_unknown_subscriptions,
           mrr_whole + CAST((mrr_fraction - mrr_fraction % denominator) / denominator AS BIGINT) AS mrr_floor,
           mrr_fraction % denominator AS mrr_rest,
           CASE WHEN n > 0 THEN CAST((mrr_whole - (((mrr_whole % n) + n) % n)) / n AS BIGINT) END AS arpu_whole,
           CASE WHEN n > 0 THEN (((mrr_whole % n) + n) % n) * denominator + mrr_fraction END AS arpu_numerator,
           CASE WHEN n > 0 THEN denominator * n END AS arpu_denominator
    FROM balances
),
arpu_parts AS (
    SELECT date, denominator, new_mrr, reactivation_mrr, expansion_mrr, contraction_mrr, churned_mrr,
           mrr_unknown_subscriptions, mrr_floor, mrr_rest, arpu_denominator,
           arpu_whole + CAST((arpu_numerator - arpu_numerator % arpu_denominator) / arpu_denominator AS BIGINT)
               AS arpu_floor,
           arpu_numerator % arpu_denominator AS arpu_rest
    FROM parts
),
rounded AS (
    SELECT date, new_mrr, reactivation_mrr, expansion_mrr, contraction_mrr, churned_mrr, mrr_unknown_subscriptions,
           mrr_floor + CASE WHEN 2 * mrr_rest > denominator
                                 OR (2 * mrr_rest = denominator AND ((mrr_floor % 2) + 2) % 2 = 1)
                            THEN 1 ELSE 0 END AS mrr,
           arpu_floor + CASE WHEN 2 * arpu_rest > arpu_denominator
                                  OR (2 * arpu_rest = arpu_denominator AND ((arpu_floor % 2) + 2) % 2 = 1)
                             THEN 1 ELSE 0 END AS arpu
    FROM arpu_parts
)
SELECT date,
       CAST(CAST(mrr AS DECIMAL(18, 0)) * CAST('0.01' AS DECIMAL(18, 2)) AS DECIMAL(18, 2)) AS mrr,
       CAST(CAST(arpu AS DECIMAL(18, 0)) * CAST('0.01' AS DECIMAL(18, 2)) AS DECIMAL(18, 2)) AS arpu,
       CAST(CAST(new_mrr AS DECIMAL(18, 0)) * CAST('0.01' AS DECIMAL(18, 2)) AS DECIMAL(18, 2)) AS new_mrr,
       CAST(CAST(reactivation_mrr AS DECIMAL(18, 0)) * CAST('0.01' AS DECIMAL(18, 2)) AS DECIMAL(18, 2))
           AS reactivation_mrr,
       CAST(CAST(expansion_mrr AS DECIMAL(18, 0)) * CAST('0.01' AS DECIMAL(18, 2)) AS DECIMAL(18, 2)) AS expansion_mrr,
       CAST(CAST(contraction_mrr AS DECIMAL(18, 0)) * CAST('0.01' AS DECIMAL(18, 2)) AS DECIMAL(18, 2))
           AS contraction_mrr,
       CAST(CAST(churned_mrr AS DECIMAL(18, 0)) * CAST('0.01' AS DECIMAL(18, 2)) AS DECIMAL(18, 2)) AS churned_mrr,
       mrr_unknown_subscriptions
FROM rounded
ORDER BY date
