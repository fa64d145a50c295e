-- cancellation_rate.sql — METRICS.md's cancellation rates over {{from}}..{{to}} (both
-- days included), subscriptions and subscribers alike:
--     rate = SUM(cancelled) / (SUM(active) / days), NULL when SUM(active) is 0.
-- The division is done in DOUBLE in that order (Spark's DECIMAL division would round to 6
-- places), the same operations as `churnlake rate`, so the values are bit-for-bit equal.
--
-- Reads:      daily_series (the view daily_series.sql defines)
-- Run after:  lifecycle.sql, daily_series.sql
-- Parameters: {{from}}, {{to}} as YYYY-MM-DD, substituted as text before the SQL runs
--             (`churnlake sql … --param from=2023-01-01 --param to=2023-12-31`)
-- Returns:    one row: days, subscription_cancels, average_active_subscriptions,
--             subscription_cancellation_rate, subscriber_cancels, average_active_subscribers,
--             subscriber_cancellation_rate (must equal `churnlake rate --format json`)

SELECT COUNT(*) AS days,
       SUM(cancelled_subscriptions) AS subscription_cancels,
       CAST(SUM(active_subscriptions) AS DOUBLE) / COUNT(*) AS average_active_subscriptions,
       CASE WHEN SUM(active_subscriptions) = 0 THEN NULL
            ELSE CAST(SUM(cancelled_subscriptions) AS DOUBLE) / (CAST(SUM(active_subscriptions) AS DOUBLE) / COUNT(*)) END
           AS subscription_cancellation_rate,
       SUM(cancelled_subscribers) AS subscriber_cancels,
       CAST(SUM(active_subscribers) AS DOUBLE) / COUNT(*) AS average_active_subscribers,
       CASE WHEN SUM(active_subscribers) = 0 THEN NULL
            ELSE CAST(SUM(cancelled_subscribers) AS DOUBLE) / (CAST(SUM(active_subscribers) AS DOUBLE) / COUNT(*)) END
           AS subscriber_cancellation_rate
FROM daily_series
WHERE date BETWEEN DATE '{{from}}' AND DATE '{{to}}'
