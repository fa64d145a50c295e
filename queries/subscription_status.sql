-- subscription_status.sql — one row per subscription created by the last data date: the
-- guide's max cancel date, max reactivation date and current subscription status. Both
-- dates are the latest in the lake, also when an event is dated after the last data date
-- (METRICS.md: such an event changes no state yet). current_status is the state
-- at the end of the last data date: active when the last event of the subscription's last
-- day with events is its creation or a reactivation (METRICS.md's same-day order).
--
-- Reads:      subscription_base, lifecycle_events, subscription_states (views of
--             lifecycle.sql)
-- Run after:  lifecycle.sql
-- Returns:    subscription_id, user_id, created_date, max_cancel_date,
--             max_reactivation_date, current_status, ordered by subscription_id
--             (must equal those columns of `churnlake subscriptions --format csv`)

WITH counts AS (
    SELECT subscription_id,
           MAX(CASE WHEN kind = 2 THEN own_date END) AS max_cancel_date,
           MAX(CASE WHEN kind = 1 THEN own_date END) AS max_reactivation_date
    FROM lifecycle_events
    GROUP BY subscription_id
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
