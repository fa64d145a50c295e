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
--   revenue_attribute_rows  every non-empty price (in cents), quantity and frequency of a
--                           report row, with the day it takes effect and the next one's
--   revenue_snapshots       per subscription and day on which its state or an attribute
--                           changes: its MRR as (frequency_days, cents × quantity), unknown
--                           or not, and the previous such day's
--   revenue_terms           the day's bookings per measure and frequency, exact integers
--   revenue_lcm             the least common multiple of the frequencies booked (one row)
--   revenue_daily           per day and measure, the exact amount rounded half to even to
--                           cents (see "Exact money" below)
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
-- one denominator 16 × LCM, LCM being the least common multiple of the frequencies booked
-- anywhere in the lake (found among the multiples of the largest one):
--     amount in cents = Σ q_f + (Σ r_f × LCM / f) ÷ (16 × LCM)
-- which is the day's exact value; it is rounded half to even to cents once, by integer
-- arithmetic only (the same rounding of the same exact sum as churnlake). ARPU is that
-- exact amount ÷ the subscribers, rounded the same way. Integer division is written as
-- (a − a mod b) / b and mod as ((a % b) + b) % b, which every engine evaluates alike
-- (whatever its `/` returns and whatever sign its `%` gives). Limits of the method, far
-- beyond a subscription catalogue: the LCM must be at most 100000 × the largest frequency
-- (otherwise every amount is NULL, never a wrong figure), and 487 × the units of one
-- frequency on one day below 2^53 (the MRR of one frequency below 180 billion).
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
),
dated AS (
    SELECT m.subscription_id, m.price, m.quantity, m.frequency_days, m.data_date, m.drop_stamp,
           m.source_file, m.source_line,
           CASE WHEN m.data_date < b.created_date THEN b.created_date ELSE m.data_date END AS effective_day
    FROM money_rows m
    JOIN subscription_base b ON b.subscription_id = m.subscription_id
),
attribute_values AS (
    -- attribute 1: price in cents, 2: quantity, 3: frequency_days
    SELECT subscription_id, 1 AS attribute, CAST(price * 100 AS BIGINT) AS value, effective_day,
           data_date, drop_stamp, source_file, source_line
    FROM dated
    WHERE price IS NOT NULL
    UNION ALL
    SELECT subscription_id, 2 AS attribute, CAST(quantity AS BIGINT) AS value, effective_day,
           data_date, drop_stamp, source_file, source_line
    FROM dated
    WHERE quantity IS NOT NULL
    UNION ALL
    SELECT subscription_id, 3 AS attribute, CAST(frequency_days AS BIGINT) AS value, effective_day,
           data_date, drop_stamp, source_file, source_line
    FROM dated
    WHERE frequency_days IS NOT NULL
)
SELECT subscription_id, attribute, value, effective_day,
       ROW_NUMBER() OVER (PARTITION BY subscription_id, attribute
                          ORDER BY data_date, drop_stamp, source_file, source_line) AS row_rank,
       LEAD(effective_day) OVER (PARTITION BY subscription_id, attribute
                                 ORDER BY data_date, drop_stamp, source_file, source_line) AS next_day
FROM attribute_values;

CREATE OR REPLACE TEMPORARY VIEW revenue_snapshots AS
WITH bounds AS (
    SELECT MAX(date) AS last_date, 1 AS one FROM calendar
),
state_spans AS (
    SELECT subscription_id, day, active,
           LEAD(day) OVER (PARTITION BY subscription_id ORDER BY day) AS next_day
    FROM subscription_states
),
change_days AS (
    SELECT subscription_id, day FROM subscription_states
    UNION
    SELECT a.subscription_id, a.effective_day AS day
    FROM (SELECT *, 1 AS one FROM revenue_attribute_rows) a
    JOIN bounds b ON b.one = a.one
    WHERE a.effective_day <= b.last_date
),
stated AS (
    -- the state at the end of the day: the latest state row on or before it
    SELECT cd.subscription_id, cd.day, s.active
    FROM change_days cd
    JOIN state_spans s ON s.subscription_id = cd.subscription_id
    WHERE s.day <= cd.day AND (s.next_day IS NULL OR cd.day < s.next_day)
),
in_effect AS (
    -- per attribute, the row in effect: the last one taking effect by the day, else the first
    SELECT cd.subscription_id, cd.day,
           MAX(CASE WHEN a.attribute = 1 THEN a.value END) AS price_cents,
           MAX(CASE WHEN a.attribute = 2 THEN a.value END) AS quantity,
           MAX(CASE WHEN a.attribute = 3 THEN a.value END) AS frequency_days
    FROM change_days cd
    JOIN revenue_attribute_rows a ON a.subscription_id = cd.subscription_id
    WHERE (a.effective_day <= cd.day OR a.row_rank = 1) AND (a.next_day IS NULL OR cd.day < a.next_day)
    GROUP BY cd.subscription_id, cd.day
),
snapshots AS (
    SELECT s.subscription_id, s.day, s.active,
           CASE WHEN s.active = 1 AND e.price_cents IS NOT NULL AND e.quantity IS NOT NULL
                     AND e.frequency_days > 0
                THEN 1 ELSE 0 END AS has_mrr,
           e.price_cents, e.quantity, e.frequency_days
    FROM stated s
    LEFT JOIN in_effect e ON e.subscription_id = s.subscription_id AND e.day = s.day
),
valued AS (
    -- MRR as (frequency, units); no MRR is (1, 0)
    SELECT subscription_id, day, active,
           CASE WHEN has_mrr = 1 THEN frequency_days ELSE 1 END AS frequency_days,
           CASE WHEN has_mrr = 1 THEN price_cents * quantity ELSE 0 END AS units,
           CASE WHEN active = 1 AND has_mrr = 0 THEN 1 ELSE 0 END AS unknown
    FROM snapshots
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
    SELECT DISTINCT value AS frequency_days, 1 AS one
    FROM revenue_attribute_rows
    WHERE attribute = 3 AND value > 0
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
    SELECT MAX(frequency_days) AS largest, COUNT(*) AS frequencies, 1 AS one FROM frequencies
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

CREATE OR REPLACE TEMPORARY VIEW revenue_daily AS
WITH per_frequency AS (
    SELECT day, measure, frequency_days, SUM(units) AS units
    FROM revenue_terms
    GROUP BY day, measure, frequency_days
),
days AS (
    -- the calendar plus any earlier day with bookings (the opening balance)
    SELECT date AS day FROM calendar
    UNION
    SELECT day FROM per_frequency
),
balance_changes AS (
    SELECT day, measure, frequency_days, units FROM per_frequency WHERE measure = 0 OR measure = 6
),
balance_grid AS (
    SELECT d.day, k.measure, k.frequency_days
    FROM days d
    CROSS JOIN (SELECT DISTINCT measure, frequency_days FROM balance_changes) k
),
balances AS (
    -- the MRR (measure 0) and the unknown count (6) at the end of each day: running sums
    SELECT g.day, g.measure, g.frequency_days,
           SUM(COALESCE(b.units, 0)) OVER (PARTITION BY g.measure, g.frequency_days ORDER BY g.day
                                           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS units
    FROM balance_grid g
    LEFT JOIN balance_changes b
           ON b.day = g.day AND b.measure = g.measure AND b.frequency_days = g.frequency_days
),
amounts AS (
    SELECT day, measure, frequency_days, units FROM balances
    UNION ALL
    SELECT day, measure, frequency_days, units FROM per_frequency WHERE measure > 0 AND measure < 6
),
split AS (
    -- A = 487 × units = q × 16f + r exactly, 0 ≤ r < 16f; r carried as r × LCM / f over 16 × LCM
    SELECT x.day, x.measure, x.frequency_days, x.numerator, x.denominator, l.lcm,
           ((x.numerator % x.denominator) + x.denominator) % x.denominator AS remainder
    FROM (SELECT a.day, a.measure, a.frequency_days, 487 * a.units AS numerator,
                 16 * a.frequency_days AS denominator, 1 AS one
          FROM amounts a
          JOIN calendar cal ON cal.date = a.day
          WHERE a.measure < 6) x
    JOIN revenue_lcm l ON l.one = x.one
),
sums AS (
    SELECT day, measure, MAX(lcm) * 16 AS denominator,
           SUM(CAST((numerator - remainder) / denominator AS BIGINT)) AS whole,
           SUM(remainder * CAST(lcm / frequency_days AS BIGINT)) AS fraction
    FROM split
    GROUP BY day, measure
),
rounded AS (
    SELECT day, measure, whole, fraction, denominator,
           whole + CAST((fraction - fraction % denominator) / denominator AS BIGINT) AS floor_cents,
           fraction % denominator AS rest
    FROM sums
)
SELECT day, measure, whole, fraction, denominator,
       floor_cents + CASE WHEN 2 * rest > denominator
                               OR (2 * rest = denominator AND ((floor_cents % 2) + 2) % 2 = 1)
                          THEN 1 ELSE 0 END AS cents
FROM rounded
UNION ALL
SELECT b.day, 6 AS measure, b.units AS whole, 0 AS fraction, 1 AS denominator, b.units AS cents
FROM balances b
JOIN calendar cal ON cal.date = b.day
WHERE b.measure = 6;

WITH pivoted AS (
    SELECT day,
           MAX(CASE WHEN measure = 0 THEN whole END) AS mrr_whole,
           MAX(CASE WHEN measure = 0 THEN fraction END) AS mrr_fraction,
           MAX(CASE WHEN measure = 0 THEN denominator END) AS mrr_denominator,
           MAX(CASE WHEN measure = 0 THEN cents END) AS mrr,
           MAX(CASE WHEN measure = 1 THEN cents END) AS new_mrr,
           MAX(CASE WHEN measure = 2 THEN cents END) AS reactivation_mrr,
           MAX(CASE WHEN measure = 3 THEN cents END) AS expansion_mrr,
           MAX(CASE WHEN measure = 4 THEN cents END) AS contraction_mrr,
           MAX(CASE WHEN measure = 5 THEN cents END) AS churned_mrr,
           SUM(CASE WHEN measure = 6 THEN cents ELSE 0 END) AS mrr_unknown_subscriptions
    FROM revenue_daily
    GROUP BY day
),
days AS (
    -- every calendar day; money in cents (0 without bookings), NULL throughout when no LCM
    -- was found (see "Exact money")
    SELECT cal.date, s.active_subscribers AS n,
           CASE WHEN l.lcm IS NOT NULL THEN COALESCE(p.mrr, 0) END AS mrr,
           CASE WHEN l.lcm IS NOT NULL THEN COALESCE(p.mrr_whole, 0) END AS mrr_whole,
           CASE WHEN l.lcm IS NOT NULL THEN COALESCE(p.mrr_fraction, 0) END AS mrr_fraction,
           CASE WHEN l.lcm IS NOT NULL THEN COALESCE(p.mrr_denominator, 1) END AS mrr_denominator,
           CASE WHEN l.lcm IS NOT NULL THEN COALESCE(p.new_mrr, 0) END AS new_mrr,
           CASE WHEN l.lcm IS NOT NULL THEN COALESCE(p.reactivation_mrr, 0) END AS reactivation_mrr,
           CASE WHEN l.lcm IS NOT NULL THEN COALESCE(p.expansion_mrr, 0) END AS expansion_mrr,
           CASE WHEN l.lcm IS NOT NULL THEN COALESCE(p.contraction_mrr, 0) END AS contraction_mrr,
           CASE WHEN l.lcm IS NOT NULL THEN COALESCE(p.churned_mrr, 0) END AS churned_mrr,
           COALESCE(p.mrr_unknown_subscriptions, 0) AS mrr_unknown_subscriptions
    FROM (SELECT date, 1 AS one FROM calendar) cal
    JOIN revenue_lcm l ON l.one = cal.one
    JOIN daily_series s ON s.date = cal.date
    LEFT JOIN pivoted p ON p.day = cal.date
),
per_subscriber AS (
    -- ARPU = (whole + fraction ÷ denominator) ÷ n exactly: with whole = a × n + b, that is
    -- a + (b × denominator + fraction) ÷ (denominator × n), rounded half to even
    SELECT date, n,
           CAST((mrr_whole - (((mrr_whole % n) + n) % n)) / n AS BIGINT) AS whole_share,
           (((mrr_whole % n) + n) % n) * mrr_denominator + mrr_fraction AS rest_numerator,
           mrr_denominator * n AS rest_denominator
    FROM days
    WHERE n > 0
),
arpu_floor AS (
    SELECT date, rest_denominator,
           whole_share + CAST((rest_numerator - rest_numerator % rest_denominator) / rest_denominator AS BIGINT)
               AS floor_cents,
           rest_numerator % rest_denominator AS rest
    FROM per_subscriber
),
arpu AS (
    SELECT date,
           floor_cents + CASE WHEN 2 * rest > rest_denominator
                                   OR (2 * rest = rest_denominator AND ((floor_cents % 2) + 2) % 2 = 1)
                              THEN 1 ELSE 0 END AS cents
    FROM arpu_floor
)
SELECT d.date,
       CAST(CAST(d.mrr AS DECIMAL(18, 0)) * CAST('0.01' AS DECIMAL(18, 2)) AS DECIMAL(18, 2)) AS mrr,
       CAST(CAST(a.cents AS DECIMAL(18, 0)) * CAST('0.01' AS DECIMAL(18, 2)) AS DECIMAL(18, 2)) AS arpu,
       CAST(CAST(d.new_mrr AS DECIMAL(18, 0)) * CAST('0.01' AS DECIMAL(18, 2)) AS DECIMAL(18, 2)) AS new_mrr,
       CAST(CAST(d.reactivation_mrr AS DECIMAL(18, 0)) * CAST('0.01' AS DECIMAL(18, 2)) AS DECIMAL(18, 2))
           AS reactivation_mrr,
       CAST(CAST(d.expansion_mrr AS DECIMAL(18, 0)) * CAST('0.01' AS DECIMAL(18, 2)) AS DECIMAL(18, 2))
           AS expansion_mrr,
       CAST(CAST(d.contraction_mrr AS DECIMAL(18, 0)) * CAST('0.01' AS DECIMAL(18, 2)) AS DECIMAL(18, 2))
           AS contraction_mrr,
       CAST(CAST(d.churned_mrr AS DECIMAL(18, 0)) * CAST('0.01' AS DECIMAL(18, 2)) AS DECIMAL(18, 2)) AS churned_mrr,
       d.mrr_unknown_subscriptions
FROM days d
LEFT JOIN arpu a ON a.date = d.date
ORDER BY d.date
