-- Batches newest first, before batch number $1 (0: from the newest).
SELECT
  batch_id::text AS batch_id,
  batch_no,
  code_count,
  currency_code,
  amount_minor,
  region,
  request_id,
  (extract(epoch FROM create_time) * 1000000)::bigint AS create_time_us,
  (extract(epoch FROM expire_time) * 1000000)::bigint AS expire_time_us
FROM batches
WHERE $1 = 0 OR batch_no < $1
ORDER BY batch_no DESC
LIMIT $2
