-- lifecycle.sql — the subscription lifecycle of METRICS.md as five views; every other file
-- reads them, so this file runs first. It returns no rows of its own.
--
-- Reads:      subscriptions, cancellations, subscriber_events (the lake's raw tables, with
--             the Hive partition column data_date) and calendar(date): every day from the
--             first to the last data date of the manifest (`churnlake sql` registers it; the
--             scripts build it the same way, see queries/README.md)
-- Run after:  nothing (first)
-- Defines (views, in order):
--   report_rows            both header reports, with the columns of the "newest row" order
--                          and from_subscription_report (1: subscription report, 0: cancellations)
--   subscription_base      one row per subscription: created_date, latest user_id and product
--   lifecycle_events       distinct cancellations (kind 2) and code-9 reactivations (kind 1)
--   subscription_states    end-of-day state per subscription and day with events, with flows
--   subscriber_states      the same one level up (a subscriber is active while one subscription is)
--
-- Dialect: DuckDB and Spark SQL run this file unchanged, one statement at a time. Polars SQL
-- has no views, so its runners (`churnlake sql`, and scripts/portable_sql.py for Python
-- polars) rewrite the leading "CREATE OR REPLACE TEMPORARY VIEW" into "CREATE TABLE", which
-- polars keeps lazy: the one dialect switch of queries/.
--
-- Performance: an engine that inlines views (DuckDB) expands a view once per reference, down
-- to the raw tables, and reads a lake of many small Parquet files at a cost per file; a CTE
-- referenced more than once it computes once. So each view names each view it reads once,
-- in a CTE, however often it uses it (revenue.sql on DuckDB: 25 reads of the raw tables
-- instead of 69).

CREATE OR REPLACE TEMPORARY VIEW report_rows AS
SELECT subscription_id, public_subscription_id, user_id, product, create_date,
       cancel_date, cancelled_at, data_date, drop_stamp, source_file, source_line,
       1 AS from_subscription_report
FROM subscriptions
UNION ALL
SELECT subscription_id, public_subscription_id, user_id, product, create_date,
       cancel_date, cancelled_at, data_date, drop_stamp, source_file, source_line,
       0 AS from_subscription_report
FROM cancellations;

-- created: the earliest Create Date of the subscription report's rows; the cancellation
-- report's only when no subscription-report row carries one; without any, the first drop.
-- Attributes: the newest non-empty value.
CREATE OR REPLACE TEMPORARY VIEW subscription_base AS
WITH base_rows AS (
    -- report_rows named once here and referenced three times below (see "Performance")
    SELECT subscription_id, user_id, product, create_date, data_date, drop_stamp, source_file, source_line,
           from_subscription_report
    FROM report_rows
),
created AS (
    SELECT subscription_id,
           COALESCE(MIN(CASE WHEN from_subscription_report = 1 THEN create_date END),
                    MIN(create_date), MIN(data_date)) AS created_date
    FROM base_rows
    GROUP BY subscription_id
),
newest_user AS (
    SELECT subscription_id, user_id
    FROM (
        SELECT subscription_id, user_id,
               ROW_NUMBER() OVER (PARTITION BY subscription_id
                                  ORDER BY data_date DESC, drop_stamp DESC, source_file DESC, source_line DESC) AS rn
        FROM base_rows
        WHERE user_id IS NOT NULL
    ) ranked
    WHERE rn = 1
),
newest_product AS (
    SELECT subscription_id, product
    FROM (
        SELECT subscription_id, product,
               ROW_NUMBER() OVER (PARTITION BY subscription_id
                                  ORDER BY data_date DESC, drop_stamp DESC, source_file DESC, source_line DESC) AS rn
        FROM base_rows
        WHERE product IS NOT NULL
    ) ranked
    WHERE rn = 1
)
SELECT c.subscription_id,
       c.created_date,
       COALESCE(u.user_id, c.subscription_id) AS user_id,
       COALESCE(p.product, '') AS product
FROM created c
LEFT JOIN newest_user u ON u.subscription_id = c.subscription_id
LEFT JOIN newest_product p ON p.subscription_id = c.subscription_id;

-- each distinct (subscription, date) is one event, a cancellation at its latest time seen
CREATE OR REPLACE TEMPORARY VIEW lifecycle_events AS
WITH event_rows AS (
    -- report_rows named once (see "Performance")
    SELECT subscription_id, public_subscription_id, cancel_date, cancelled_at, data_date, drop_stamp,
           source_file, source_line
    FROM report_rows
),
public_map AS (
    SELECT public_subscription_id, subscription_id
    FROM (
        SELECT public_subscription_id, subscription_id,
               ROW_NUMBER() OVER (PARTITION BY public_subscription_id
                                  ORDER BY data_date DESC, drop_stamp DESC, source_file DESC, source_line DESC) AS rn
        FROM event_rows
        WHERE public_subscription_id IS NOT NULL
    ) ranked
    WHERE rn = 1
)
SELECT subscription_id, 2 AS kind, cancel_date AS own_date, MAX(cancelled_at) AS event_at
FROM event_rows
WHERE cancel_date IS NOT NULL
GROUP BY subscription_id, cancel_date
UNION ALL
SELECT m.subscription_id, 1 AS kind, e.event_date AS own_date, MAX(e.event_at) AS event_at
FROM subscriber_events e
JOIN public_map m ON m.public_subscription_id = e.public_subscription_id
WHERE e.event_code = 9
GROUP BY m.subscription_id, e.event_date;

CREATE OR REPLACE TEMPORARY VIEW subscription_states AS
WITH created AS (
    -- subscription_base named once (see "Performance")
    SELECT subscription_id, created_date FROM subscription_base
),
per_date AS (
    -- on one date: by time when both carry one, else the cancellation is the later event
    SELECT subscription_id, own_date,
           CASE WHEN MAX(CASE WHEN kind = 2 THEN 1 ELSE 0 END) = 1
                 AND NOT (MAX(CASE WHEN kind = 1 THEN 1 ELSE 0 END) = 1
                          AND MAX(CASE WHEN kind = 1 THEN event_at END) IS NOT NULL
                          AND MAX(CASE WHEN kind = 2 THEN event_at END) IS NOT NULL
                          AND MAX(CASE WHEN kind = 1 THEN event_at END) > MAX(CASE WHEN kind = 2 THEN event_at END))
                THEN 2 ELSE 1 END AS kind
    FROM lifecycle_events
    GROUP BY subscription_id, own_date
),
applied AS (
    -- creation first, then events dated before the creation apply on it, in their own date order
    SELECT subscription_id, created_date AS day, 0 AS phase, created_date AS own_date, 0 AS kind
    FROM created
    UNION ALL
    SELECT d.subscription_id,
           CASE WHEN d.own_date < b.created_date THEN b.created_date ELSE d.own_date END AS day,
           1 AS phase, d.own_date, d.kind
    FROM per_date d
    JOIN created b ON b.subscription_id = d.subscription_id
),
bounds AS (
    -- the last data date as a one-row table (joined on a constant: portable to every engine)
    SELECT MAX(date) AS last_date, 1 AS one FROM calendar
),
last_of_day AS (
    SELECT a.subscription_id, a.day, a.kind,
           ROW_NUMBER() OVER (PARTITION BY a.subscription_id, a.day ORDER BY a.phase DESC, a.own_date DESC) AS rn
    FROM (SELECT *, 1 AS one FROM applied) a
    JOIN bounds b ON b.one = a.one
    WHERE a.day <= b.last_date
),
states AS (
    SELECT subscription_id, day,
           CASE WHEN kind = 2 THEN 0 ELSE 1 END AS active,
           LAG(CASE WHEN kind = 2 THEN 0 ELSE 1 END) OVER (PARTITION BY subscription_id ORDER BY day) AS previous
    FROM last_of_day
    WHERE rn = 1
)
SELECT subscription_id, day, active, previous,
       CASE WHEN previous IS NULL THEN 1 ELSE 0 END AS is_new,
       CASE WHEN (previous IS NULL OR previous = 1) AND active = 0 THEN 1 ELSE 0 END AS is_cancelled,
       CASE WHEN previous = 0 AND active = 1 THEN 1 ELSE 0 END AS is_reactivated,
       active - COALESCE(previous, 0) AS delta
FROM states;

CREATE OR REPLACE TEMPORARY VIEW subscriber_states AS
WITH per_user_day AS (
    SELECT b.user_id, s.day, SUM(s.delta) AS subscription_delta
    FROM subscription_states s
    JOIN subscription_base b ON b.subscription_id = s.subscription_id
    GROUP BY b.user_id, s.day
),
counted AS (
    SELECT user_id, day,
           SUM(subscription_delta) OVER (PARTITION BY user_id ORDER BY day
                                         ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS active_subscriptions
    FROM per_user_day
),
states AS (
    SELECT user_id, day, active_subscriptions,
           CASE WHEN active_subscriptions > 0 THEN 1 ELSE 0 END AS active,
           LAG(CASE WHEN active_subscriptions > 0 THEN 1 ELSE 0 END) OVER (PARTITION BY user_id ORDER BY day) AS previous
    FROM counted
)
SELECT user_id, day, active_subscriptions, active, previous,
       CASE WHEN previous IS NULL THEN 1 ELSE 0 END AS is_new,
       CASE WHEN (previous IS NULL OR previous = 1) AND active = 0 THEN 1 ELSE 0 END AS is_cancelled,
       CASE WHEN previous = 0 AND active = 1 THEN 1 ELSE 0 END AS is_reactivated,
       active - COALESCE(previous, 0) AS delta
FROM states;
