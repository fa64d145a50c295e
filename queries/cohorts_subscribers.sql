-- cohorts_subscribers.sql — retention cohorts of subscribers (METRICS.md "Cohorts"): a
-- subscriber's cohort is the month of their first subscription's created date; they are
-- active at a month end when one of their subscriptions is.
--
-- Reads:      cohort_cells (a view of cohorts.sql)
-- Run after:  lifecycle.sql, cohorts.sql
-- Returns:    cohort (YYYY-MM), age (months), size, active, share, ordered by cohort and
--             age (the columns of `churnlake cohorts --level subscribers --format csv`,
--             which it must equal as text)

SELECT cohort, age, size, active, share
FROM cohort_cells
WHERE level = 'subscribers'
ORDER BY cohort, age
