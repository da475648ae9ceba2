-- The recovery worker's claim: applications waiting on the ledger for at
-- least $1 ms, at most $2 of them, each pushed back by a backoff that
-- doubles per attempt up to $3 ms. SKIP LOCKED lets workers of several
-- replicas claim side by side.
UPDATE credit_applications
SET attempts = attempts + 1,
    next_attempt_time = now()
      + make_interval(secs => least($3::float8, $1::float8 * power(2, least(attempts, 30))) / 1000)
FROM (
  SELECT invoice_id AS i
  FROM credit_applications
  WHERE state IN ('PENDING', 'REVERSAL_PENDING')
    AND next_attempt_time <= now()
    AND update_time < now() - make_interval(secs => $1::float8 / 1000)
  ORDER BY next_attempt_time
  LIMIT $2
  FOR UPDATE SKIP LOCKED
) due
WHERE invoice_id = due.i
RETURNING
  invoice_id,
  account_id,
  currency_code,
  amount_due_minor,
  state,
  coalesce(applied_minor, 0) AS applied_minor,
  coalesce(remaining_credit_minor, 0) AS remaining_credit_minor,
  coalesce(debit_transfer_id, '') AS debit_transfer_id,
  (extract(epoch FROM create_time) * 1000000)::bigint AS create_time_us,
  coalesce(reversal_transfer_id, '') AS reversal_transfer_id,
  (extract(epoch FROM update_time) * 1000000)::bigint AS update_time_us,
  attempts
