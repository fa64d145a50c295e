-- daily_series.sql — the daily series of METRICS.md: one row per day from the first to the
-- last data date (days without events included), with the subscriptions and subscribers
-- active at the end of the day and the day's new, cancelled and reactivated ones.
--
-- Reads:      subscription_states, subscriber_states (views of lifecycle.sql), calendar(date)
-- Run after:  lifecycle.sql
-- Defines:    the view daily_series (read by cancellation_rate.sql)
-- Returns:    daily_series ordered by date: date, active_subscriptions, new_subscriptions,
--             cancelled_subscriptions, reactivated_subscriptions, active_subscribers,
--             new_subscribers, cancelled_subscribers, reactivated_subscribers
--             (the columns of `churnlake series --format csv`, which it must equal)
--
-- Dialect: DuckDB and Spark SQL run this file unchanged. Polars SQL has no views, so its
-- runners (`churnlake sql`, and scripts/portable_sql.py for Python polars) rewrite the
-- leading "CREATE OR REPLACE TEMPORARY VIEW" into "CREATE TABLE", which polars keeps lazy.

CREATE OR REPLACE TEMPORARY VIEW daily_series AS
WITH subscription_days AS (
    SELECT day, SUM(is_new) AS new_subscriptions, SUM(is_cancelled) AS cancelled_subscriptions,
           SUM(is_reactivated) AS reactivated_subscriptions, SUM(delta) AS delta_subscriptions
    FROM subscription_states
    GROUP BY day
),
subscriber_days AS (
    SELECT day, SUM(is_new) AS new_subscribers, SUM(is_cancelled) AS cancelled_subscribers,
           SUM(is_reactivated) AS reactivated_subscribers, SUM(delta) AS delta_subscribers
    FROM subscriber_states
    GROUP BY day
),
days AS (
    -- the calendar plus any earlier day with events (the opening balance)
    SELECT date AS day FROM calendar
    UNION
    SELECT day FROM subscription_days
),
running AS (
    SELECT d.day,
           SUM(COALESCE(s.delta_subscriptions, 0)) OVER (ORDER BY d.day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS active_subscriptions,
           COALESCE(s.new_subscriptions, 0) AS new_subscriptions,
           COALESCE(s.cancelled_subscriptions, 0) AS cancelled_subscriptions,
           COALESCE(s.reactivated_subscriptions, 0) AS reactivated_subscriptions,
           SUM(COALESCE(u.delta_subscribers, 0)) OVER (ORDER BY d.day ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS active_subscribers,
           COALESCE(u.new_subscribers, 0) AS new_subscribers,
           COALESCE(u.cancelled_subscribers, 0) AS cancelled_subscribers,
           COALESCE(u.reactivated_subscribers, 0) AS reactivated_subscribers
    FROM days d
    LEFT JOIN subscription_days s ON s.day = d.day
    LEFT JOIN subscriber_days u ON u.day = d.day
)
SELECT r.day AS date, r.active_subscriptions, r.new_subscriptions, r.cancelled_subscriptions,
       r.reactivated_subscriptions, r.active_subscribers, r.new_subscribers, r.cancelled_subscribers,
       r.reactivated_subscribers
FROM running r
JOIN calendar c ON c.date = r.day;

SELECT * FROM daily_series ORDER BY date
