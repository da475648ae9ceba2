-- A new credit application, PENDING until its debit is known; nothing when
-- the invoice has one already (no row: the caller reads it with get).
INSERT INTO credit_applications
  (invoice_id, account_id, currency_code, amount_due_minor, state)
VALUES ($1, $2, $3, $4, 'PENDING')
ON CONFLICT (invoice_id) DO NOTHING
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
