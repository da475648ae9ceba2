-- find_request, and account $2 of a credit or debit locked for the
-- posting, in one round trip (its locked_ columns are null when there is
-- no such account).
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
  t.reference,
  r.request_fingerprint AS refusal_request_fingerprint,
  r.code AS refusal_code,
  r.reason AS refusal_reason,
  r.message AS refusal_message,
  a.*
FROM (SELECT $1::text AS request_id) q
LEFT JOIN transfers t ON t.request_id = q.request_id
LEFT JOIN refusals r ON r.request_id = q.request_id
LEFT JOIN LATERAL (
  SELECT
    account_id AS locked_account_id,
    country AS locked_country,
    currency_code AS locked_currency_code,
    billing_channel AS locked_billing_channel,
    balance_minor AS locked_balance_minor,
    (extract(epoch FROM create_time) * 1000000)::bigint AS locked_create_time_us,
    (extract(epoch FROM update_time) * 1000000)::bigint AS locked_update_time_us,
    closed AS locked_closed,
    currency_locked AS locked_currency_locked,
    owed_minor AS locked_owed_minor
  FROM accounts
  WHERE account_id = $2
  FOR UPDATE
) a ON true
