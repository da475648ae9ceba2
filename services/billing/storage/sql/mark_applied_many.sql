-- mark_applied for a batch; the rows it changed.
UPDATE credit_applications c
SET state = 'APPLIED',
    debit_transfer_id = q.t,
    applied_minor = q.applied,
    remaining_credit_minor = q.remaining,
    update_time = 'epoch'::timestamptz + q.u * interval '1 microsecond',
    attempts = 0,
    next_attempt_time = now()
FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[])
  AS q(i, t, applied, remaining, u)
WHERE c.invoice_id = q.i AND c.state = 'PENDING'
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
