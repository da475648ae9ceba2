-- insert for a batch, one element of each array per invoice; the rows it
-- inserted (an invoice known already, or twice in the batch, has none for
-- its second).
INSERT INTO credit_applications
  (invoice_id, account_id, currency_code, amount_due_minor, state)
SELECT i, a, c, m, 'PENDING'
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[])
  WITH ORDINALITY AS q(i, a, c, m, ord)
ORDER BY ord
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
