-- active_subscriptions.sql — subscriptions active at the end of the last data date.
-- Reads: the views of lifecycle.sql. Compare: `churnlake active`.
SELECT COUNT(*) AS active_subscriptions
FROM (
    SELECT subscription_id, active,
           ROW_NUMBER() OVER (PARTITION BY subscription_id ORDER BY day DESC) AS rn
    FROM subscription_states
) last_state
WHERE rn = 1 AND active = 1
