-- cancellation_rate.sql — METRICS.md's rate over {{from}}..{{to}} (inclusive):
-- Σ cancelled / (Σ active / days), both levels, in DOUBLE (Spark's DECIMAL division
-- would round to 6 places), NULL when there were no actives.
-- Parameters: {{from}}, {{to}} (YYYY-MM-DD), substituted as text by the runner
-- (`churnlake sql --param from=... --param to=...`).
-- Reads: the views of lifecycle.sql and the output of daily_series.sql registered as
-- daily_series. Compare: `churnlake rate --format json`.
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
