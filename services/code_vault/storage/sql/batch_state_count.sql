-- After a change of a whole batch: its codes, and how many of them are
-- (as a caller sees them) in one of the states $2, the change's target:
-- unchanged unless the change just moved them.
SELECT
  count(*) AS total,
  count(*) FILTER (
    WHERE (CASE WHEN state IN ('ISSUED', 'ACTIVE') AND expire_time <= now() THEN 'EXPIRED' ELSE state END) = ANY($2::text[])
  ) AS in_target
FROM codes
WHERE batch_id = $1::uuid
