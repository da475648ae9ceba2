-- The transfer a reversal reverses.
SELECT
  t.request_fingerprint,
  t.transfer_id::text AS transfer_id,
  t.kind,
  t.account_id,
  t.currency_code,
  t.amount_minor,
  t.balance_after_minor,
  coalesce(t.reverses_transfer_id::text, '') AS reverses_transfer_id,
  (extract(epoch FROM t.create_time) * 1000000)::bigint AS create_time_us,
  t.request_id,
  t.counter_account_id,
  coalesce(t.owed_added_minor, 0) AS owed_added_minor,
  t.owed_repaid_minor,
  t.reference
FROM transfers t
WHERE transfer_id = $1::uuid
