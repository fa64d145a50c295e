-- active_subscribers.sql — subscribers active at the end of the last data date.
-- Reads: the views of lifecycle.sql. Compare: `churnlake active`.
SELECT COUNT(*) AS active_subscribers
FROM (
    SELECT user_id, active,
           ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY day DESC) AS rn
    FROM subscriber_states
) last_state
WHERE rn = 1 AND active = 1
