-- subscription_status.sql — one row per subscription created by the last data date: the
-- guide's max cancel date, max reactivation date and current subscription status. Both
-- dates count only events dated on or before the last data date. current_status is the state
-- at the end of the last data date: active when the last event of the subscription's last
-- day with events is its creation or a reactivation (METRICS.md's same-day order).
--
-- Reads:      subscription_base, lifecycle_events, subscription_states (views of
--             lifecycle.sql), calendar(date)
-- Run after:  lifecycle.sql
-- Returns:    subscription_id, user_id, created_date, max_cancel_date,
--             max_reactivation_date, current_status, ordered by subscription_id
--             (must equal those columns of `churnlake subscriptions --format csv`)

WITH bounds AS (
    SELECT MAX(date) AS last_date, 1 AS one FROM calendar
),
counts AS (
    SELECT e.subscription_id,
           MAX(CASE WHEN e.kind = 2 THEN e.own_date END) AS max_cancel_date,
           MAX(CASE WHEN e.kind = 1 THEN e.own_date END) AS max_reactivation_date
    FROM (SELECT *, 1 AS one FROM lifecycle_events) e
    JOIN bounds b ON b.one = e.one
    WHERE e.own_date <= b.last_date
    GROUP BY e.subscription_id
),
last_state AS (
    SELECT subscription_id, active,
           ROW_NUMBER() OVER (PARTITION BY subscription_id ORDER BY day DESC) AS rn
    FROM subscription_states
)
SELECT b.subscription_id, b.user_id, b.created_date, c.max_cancel_date, c.max_reactivation_date,
       CASE WHEN s.active = 1 THEN 'active' ELSE 'inactive' END AS current_status
FROM subscription_base b
JOIN (SELECT * FROM last_state WHERE rn = 1) s ON s.subscription_id = b.subscription_id
LEFT JOIN counts c ON c.subscription_id = b.subscription_id
ORDER BY b.subscription_id
