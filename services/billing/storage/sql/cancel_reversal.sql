-- The ledger refused the reversal for good: the application stays APPLIED.
UPDATE credit_applications
SET state = 'APPLIED', update_time = now()
WHERE invoice_id = $1 AND state = 'REVERSAL_PENDING'
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
