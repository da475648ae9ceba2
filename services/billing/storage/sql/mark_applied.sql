-- The debit is known: APPLIED. Each state change starts a new saga step,
-- so its retries start afresh. $5: update_time in microseconds since the
-- epoch, chosen by billing, so that an answer given before this commits
-- says what it writes.
UPDATE credit_applications
SET state = 'APPLIED',
    debit_transfer_id = $2,
    applied_minor = $3,
    remaining_credit_minor = $4,
    update_time = 'epoch'::timestamptz + $5::bigint * interval '1 microsecond',
    attempts = 0,
    next_attempt_time = now()
WHERE invoice_id = $1 AND state = 'PENDING'
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
  (extract(epoch FROM update_time) * 1000000)::bigint AS update_time_us
