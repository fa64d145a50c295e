-- subscriber_status.sql — per subscriber: active while at least one subscription is;
-- cancelled_date is the latest cancel date of their subscriptions once all are inactive.
-- Reads: the views of lifecycle.sql. Compare: `churnlake subscribers --format csv`.
WITH last_state AS (
    SELECT user_id, active, active_subscriptions,
           ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY day DESC) AS rn
    FROM subscriber_states
),
bounds AS (
    SELECT MAX(date) AS last_date, 1 AS one FROM calendar
),
owned AS (
    SELECT s.user_id, MIN(s.created_date) AS first_created_date, COUNT(*) AS subscriptions
    FROM (SELECT *, 1 AS one FROM subscription_base) s
    JOIN bounds b ON b.one = s.one
    WHERE s.created_date <= b.last_date
    GROUP BY s.user_id
),
latest_cancel AS (
    SELECT s.user_id, MAX(e.own_date) AS latest_cancel_date
    FROM (SELECT *, 1 AS one FROM lifecycle_events) e
    JOIN subscription_base s ON s.subscription_id = e.subscription_id
    JOIN bounds b ON b.one = e.one
    WHERE e.kind = 2 AND e.own_date <= b.last_date
    GROUP BY s.user_id
)
SELECT o.user_id, o.first_created_date, o.subscriptions, s.active_subscriptions,
       CASE WHEN s.active = 1 THEN 'active' ELSE 'inactive' END AS current_status,
       CASE WHEN s.active = 1 THEN NULL ELSE l.latest_cancel_date END AS cancelled_date
FROM owned o
JOIN (SELECT * FROM last_state WHERE rn = 1) s ON s.user_id = o.user_id
LEFT JOIN latest_cancel l ON l.user_id = o.user_id
ORDER BY o.user_id
