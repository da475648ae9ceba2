-- A code's changes after change $2, oldest first, up to $3. A
-- redemption's steps are named by its caller's principal and request id
-- (its redemption row), an admin's change by the admin's.
SELECT
  e.event_id AS change_id,
  coalesce(e.from_state, '') AS from_state,
  e.to_state,
  (extract(epoch FROM e.event_time) * 1000000)::bigint AS change_time_us,
  coalesce(e.principal, rd.principal, '') AS principal,
  coalesce(e.reason, '') AS reason,
  coalesce(e.request_id, rd.request_id, '') AS request_id,
  coalesce(e.redemption_id::text, '') AS redemption_id
FROM codes c
JOIN code_events e ON e.code_hash = c.code_hash
LEFT JOIN redemptions rd ON rd.redemption_id = e.redemption_id
WHERE c.serial = $1 AND e.event_id > $2
ORDER BY e.event_id
LIMIT $3
