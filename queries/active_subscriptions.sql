-- active_subscriptions.sql — the guide's active subscriptions count: subscriptions whose
-- state at the end of the last data date is active (their last state row is active).
--
-- Reads:      subscription_states (a view of lifecycle.sql)
-- Run after:  lifecycle.sql
-- Returns:    one row, active_subscriptions
--             (must equal active_subscriptions of `churnlake active --format json`)

SELECT COUNT(*) AS active_subscriptions
FROM (
    SELECT subscription_id, active,
           ROW_NUMBER() OVER (PARTITION BY subscription_id ORDER BY day DESC) AS rn
    FROM subscription_states
) last_state
WHERE rn = 1 AND active = 1
