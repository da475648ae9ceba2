-- status_by_serials for the code with one of the hashes $1 (a PIN's,
-- under each pepper).
SELECT
  c.serial,
  c.state,
  c.currency_code,
  c.amount_minor,
  c.region,
  c.batch_id::text AS batch_id,
  c.pin_last4,
  (extract(epoch FROM c.create_time) * 1000000)::bigint AS create_time_us,
  (extract(epoch FROM c.activate_time) * 1000000)::bigint AS activate_time_us,
  (extract(epoch FROM c.redeem_time) * 1000000)::bigint AS redeem_time_us,
  (extract(epoch FROM c.void_time) * 1000000)::bigint AS void_time_us,
  (extract(epoch FROM c.expire_time) * 1000000)::bigint AS expire_time_us,
  coalesce(c.redeemed_by_account_id, '') AS redeemed_by_account_id,
  coalesce(c.redemption_id::text, '') AS redemption_id,
  coalesce(c.void_reason, '') AS void_reason,
  coalesce(c.block_reason, '') AS block_reason,
  (extract(epoch FROM c.block_time) * 1000000)::bigint AS block_time_us,
  e.event_id AS last_change_id,
  coalesce(e.from_state, '') AS last_from_state,
  e.to_state AS last_to_state,
  (extract(epoch FROM e.event_time) * 1000000)::bigint AS last_change_time_us,
  coalesce(e.principal, rd.principal, '') AS last_principal,
  coalesce(e.reason, '') AS last_reason,
  coalesce(e.request_id, rd.request_id, '') AS last_request_id,
  coalesce(e.redemption_id::text, '') AS last_redemption_id
FROM codes c
LEFT JOIN LATERAL (
  SELECT *
  FROM code_events
  WHERE code_events.code_hash = c.code_hash
  ORDER BY event_id DESC
  LIMIT 1
) e ON true
LEFT JOIN redemptions rd ON rd.redemption_id = e.redemption_id
WHERE c.code_hash = ANY($1::bytea[])
LIMIT 1
