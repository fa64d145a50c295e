-- subscriber_status.sql — one row per subscriber (user_id) with a subscription created by
-- the last data date: the guide's subscriber creation date (first_created_date, their
-- earliest subscription's created date), their subscription count, the subscriptions active
-- at the end of the last data date, the subscriber status (active while at least one
-- subscription is) and, for inactive subscribers, cancelled_date: the latest date on which
-- one of their subscriptions was cancelled, up to the last data date (a cancellation dated
-- before its subscription's creation counts on the creation date, where it takes effect).
--
-- Reads:      subscriber_states, subscription_base, lifecycle_events (views of
--             lifecycle.sql), calendar(date)
-- Run after:  lifecycle.sql
-- Returns:    user_id, first_created_date, subscriptions, active_subscriptions,
--             current_status, cancelled_date, ordered by user_id
--             (must equal those columns of `churnlake subscribers --format csv`)

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
    -- a cancellation dated before its subscription's creation takes effect on the creation date
    SELECT s.user_id,
           MAX(CASE WHEN e.own_date < s.created_date THEN s.created_date ELSE e.own_date END) AS latest_cancel_date
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
