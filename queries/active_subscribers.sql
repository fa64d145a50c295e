-- active_subscribers.sql — the guide's active subscribers count: subscribers whose state at
-- the end of the last data date is active (at least one of their subscriptions is).
--
-- Reads:      subscriber_states (a view of lifecycle.sql)
-- Run after:  lifecycle.sql
-- Returns:    one row, active_subscribers
--             (must equal active_subscribers of `churnlake active --format json`)

SELECT COUNT(*) AS active_subscribers
FROM (
    SELECT user_id, active,
           ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY day DESC) AS rn
    FROM subscriber_states
) last_state
WHERE rn = 1 AND active = 1
