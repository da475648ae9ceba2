-- find_request for a batch: what each request id of $1 already decided,
-- one row per element, in order (ordinal: its 1-based index).
SELECT
  q.i AS ordinal,
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
  r.message AS refusal_message
FROM unnest($1::text[]) WITH ORDINALITY AS q(request_id, i)
LEFT JOIN transfers t ON t.request_id = q.request_id
LEFT JOIN refusals r ON r.request_id = q.request_id
ORDER BY q.i
