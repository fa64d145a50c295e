-- cohorts.sql — retention cohorts of METRICS.md "Cohorts" at both levels: for every cohort
-- (the month of a subscription's created date; of a subscriber's first subscription) and
-- every month end within the lake's first..last data date from the cohort's month on, the
-- cohort's size and how many of it are active at the end of that day.
--
-- Reads:      subscription_base, subscription_states (views of lifecycle.sql), calendar(date)
-- Run after:  lifecycle.sql
-- Defines (views, in order):
--   cohort_month_ends   every calendar day that is the last day of its month, with its month
--   cohort_members      per subscription: its subscriber and its cohort month
--   cohort_cells        level ('subscriptions' / 'subscribers'), cohort, age, size, active,
--                       share for every cohort and month end from the cohort's month on
-- Returns:    the subscription level: cohort (YYYY-MM), age (months), size, active, share,
--             ordered by cohort and age (the columns of `churnlake cohorts --format csv`,
--             which it must equal as text); cohorts_subscribers.sql returns the other level
--
-- size counts the whole cohort whatever its state; share = active ÷ size as DECIMAL(18, 6),
-- rounded half to even from the exact ratio by integer arithmetic (a × 10^6 = q × size + r),
-- as churnlake prints it. A cohort older than the lake starts at a higher age. Months are
-- numbered year × 12 + month − 1; a month end is the day whose day of the month is the
-- month's length (Gregorian leap years).
--
-- Dialect: DuckDB and Spark SQL run this file unchanged. Polars SQL has no views, so its
-- runners (`churnlake sql`, and scripts/portable_sql.py for Python polars) rewrite the
-- leading "CREATE OR REPLACE TEMPORARY VIEW" into "CREATE TABLE", which polars keeps lazy.

CREATE OR REPLACE TEMPORARY VIEW cohort_month_ends AS
SELECT day AS month_end, year * 12 + month - 1 AS month_number
FROM (
    SELECT date AS day,
           CAST(EXTRACT(YEAR FROM date) AS BIGINT) AS year,
           CAST(EXTRACT(MONTH FROM date) AS BIGINT) AS month,
           CAST(EXTRACT(DAY FROM date) AS BIGINT) AS day_of_month
    FROM calendar
) days
WHERE day_of_month = CASE WHEN month IN (1, 3, 5, 7, 8, 10, 12) THEN 31
                          WHEN month IN (4, 6, 9, 11) THEN 30
                          WHEN (year % 4 = 0 AND year % 100 <> 0) OR year % 400 = 0 THEN 29
                          ELSE 28 END;

CREATE OR REPLACE TEMPORARY VIEW cohort_members AS
SELECT subscription_id, user_id, year * 12 + month - 1 AS cohort_number
FROM (
    SELECT subscription_id, user_id,
           CAST(EXTRACT(YEAR FROM created_date) AS BIGINT) AS year,
           CAST(EXTRACT(MONTH FROM created_date) AS BIGINT) AS month
    FROM subscription_base
) created;

CREATE OR REPLACE TEMPORARY VIEW cohort_cells AS
WITH spans AS (
    -- each state row holds from its day until the next one's
    SELECT subscription_id, day, active,
           LEAD(day) OVER (PARTITION BY subscription_id ORDER BY day) AS next_day, 1 AS one
    FROM subscription_states
),
ends AS (
    SELECT month_end, month_number, 1 AS one FROM cohort_month_ends
),
active_at_end AS (
    -- the subscriptions active at the end of each month end
    SELECT s.subscription_id, e.month_number
    FROM spans s
    JOIN ends e ON e.one = s.one
    WHERE s.day <= e.month_end AND (s.next_day IS NULL OR e.month_end < s.next_day) AND s.active = 1
),
subscriber_cohorts AS (
    SELECT user_id, MIN(cohort_number) AS cohort_number FROM cohort_members GROUP BY user_id
),
subscribers_at_end AS (
    SELECT m.user_id, a.month_number
    FROM active_at_end a
    JOIN cohort_members m ON m.subscription_id = a.subscription_id
    GROUP BY m.user_id, a.month_number
),
sizes AS (
    SELECT 'subscriptions' AS level, cohort_number, COUNT(*) AS size, 1 AS one
    FROM cohort_members
    GROUP BY cohort_number
    UNION ALL
    SELECT 'subscribers' AS level, cohort_number, COUNT(*) AS size, 1 AS one
    FROM subscriber_cohorts
    GROUP BY cohort_number
),
actives AS (
    SELECT 'subscriptions' AS level, m.cohort_number, a.month_number, COUNT(*) AS active
    FROM active_at_end a
    JOIN cohort_members m ON m.subscription_id = a.subscription_id
    GROUP BY m.cohort_number, a.month_number
    UNION ALL
    SELECT 'subscribers' AS level, c.cohort_number, u.month_number, COUNT(*) AS active
    FROM subscribers_at_end u
    JOIN subscriber_cohorts c ON c.user_id = u.user_id
    GROUP BY c.cohort_number, u.month_number
),
cells AS (
    SELECT z.level, z.cohort_number, e.month_number, z.size,
           COALESCE(a.active, 0) AS active
    FROM sizes z
    JOIN ends e ON e.one = z.one
    LEFT JOIN actives a
           ON a.level = z.level AND a.cohort_number = z.cohort_number AND a.month_number = e.month_number
    WHERE e.month_number >= z.cohort_number
),
shares AS (
    -- active × 10^6 = q × size + r; q rounded half to even
    SELECT level, cohort_number, month_number, size, active,
           CAST((active * 1000000 - (active * 1000000) % size) / size AS BIGINT) AS q,
           (active * 1000000) % size AS r
    FROM cells
),
labelled AS (
    SELECT level, cohort_number, month_number - cohort_number AS age, size, active,
           q + CASE WHEN 2 * r > size OR (2 * r = size AND q % 2 = 1) THEN 1 ELSE 0 END AS millionths,
           CAST((cohort_number - cohort_number % 12) / 12 AS BIGINT) AS year,
           cohort_number % 12 + 1 AS month
    FROM shares
)
SELECT level, cohort_number,
       CAST(year AS STRING) || '-' || CASE WHEN month < 10 THEN '0' ELSE '' END || CAST(month AS STRING)
           AS cohort,
       age, size, active,
       CAST(CAST(millionths AS DECIMAL(18, 0)) * CAST('0.000001' AS DECIMAL(18, 6)) AS DECIMAL(18, 6)) AS share
FROM labelled;

SELECT cohort, age, size, active, share
FROM cohort_cells
WHERE level = 'subscriptions'
ORDER BY cohort, age
