-- A new batch; no row when the request id has one already (find_batch
-- then tells a replay from a reuse). $7 the expiry in µs since the epoch,
-- or null.
INSERT INTO batches (
  request_id, request_fingerprint, code_count, currency_code, amount_minor, region, expire_time
)
VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7::bigint / 1000000.0))
ON CONFLICT (request_id) DO NOTHING
RETURNING batch_id::text AS batch_id, batch_no
